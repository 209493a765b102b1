"""The reference optimizers: NumPy only.

``Adam``, ``AdamW``, ``AdaMax``, ``SGD``, ``RMSprop`` and ``AdaGrad`` (and
Part V's family: ``NAdam``, ``Yogi``, ``AdaBelief`` in ``family.py``, ``Lion``
and ``SignSGD`` in ``sign.py``) update parameters in place, with PyTorch's
conventions (Optax's for Yogi, AdaBelief and Lion), on the common ``Optimizer``
interface (``optimizer.py``: trees, state, checks) run by one engine
(``engine.py``: blocks, chunks, threads, the overflow check).  Each has a pure
form in ``functional`` (``adam_update`` is Algorithm 1 of Kingma & Ba as
printed); ``schedules`` holds learning-rate schedules of t.

Memory-saving variants: ``Adafactor`` (factored second moment,
``adafactor.py``), ``Adam8bit`` (block-wise 8-bit state, ``quantized.py``);
``precision`` runs Adam with every number in fp32, bf16 (emulated) or fp16.
"""

from adamref.optim import precision, schedules
from adamref.optim.adafactor import Adafactor
from adamref.optim.adam import Adam, AdamW, keras_adam
from adamref.optim.adamax import AdaMax
from adamref.optim.baselines import SGD, AdaGrad, RMSprop
from adamref.optim.clipping import clip_by_global_norm, clip_by_value
from adamref.optim.family import AdaBelief, NAdam, Yogi
from adamref.optim.functional import (adabelief_update, adagrad_update, adam_update,
                                      adam_variant_update, adamax_update, lion_update,
                                      nadam_update, rmsprop_update, sgd_update, sign_sgd_update,
                                      yogi_update)
from adamref.optim.optimizer import Optimizer
from adamref.optim.quantized import Adam8bit
from adamref.optim.radam import RAdam
from adamref.optim.sign import Lion, SignSGD

__all__ = ["SGD", "AdaBelief", "AdaGrad", "AdaMax", "Adafactor", "Adam", "Adam8bit", "AdamW",
           "Lion", "NAdam", "Optimizer", "RAdam", "RMSprop", "SignSGD", "Yogi",
           "adabelief_update", "adagrad_update", "adam_update", "adam_variant_update",
           "adamax_update", "clip_by_global_norm", "clip_by_value", "keras_adam", "lion_update",
           "nadam_update", "precision", "rmsprop_update", "schedules", "sgd_update",
           "sign_sgd_update", "yogi_update"]
