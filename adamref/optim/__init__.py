"""The reference optimizers: NumPy only.

``Adam``, ``AdamW``, ``AdaMax``, ``SGD``, ``RMSprop`` and ``AdaGrad`` update
parameters in place, with PyTorch's conventions, on the common ``Optimizer``
interface (``optimizer.py``: trees, state, checks) run by one engine
(``engine.py``: blocks, chunks, threads, the overflow check).  Each has a pure
form in ``functional`` (``adam_update`` is Algorithm 1 of Kingma & Ba as
printed); ``schedules`` holds learning-rate schedules of t.
"""

from adamref.optim import schedules
from adamref.optim.adam import Adam, AdamW, keras_adam
from adamref.optim.adamax import AdaMax
from adamref.optim.baselines import SGD, AdaGrad, RMSprop
from adamref.optim.clipping import clip_by_global_norm, clip_by_value
from adamref.optim.functional import (adagrad_update, adam_update, adam_variant_update,
                                      adamax_update, rmsprop_update, sgd_update)
from adamref.optim.optimizer import Optimizer
from adamref.optim.radam import RAdam

__all__ = ["SGD", "AdaGrad", "AdaMax", "Adam", "AdamW", "Optimizer", "RMSprop",
           "adagrad_update", "adam_update", "adam_variant_update", "adamax_update",
           "keras_adam", "rmsprop_update", "schedules", "sgd_update"]
__all__ += ["RAdam", "clip_by_global_norm", "clip_by_value"]
