"""The reference optimizers: NumPy only.

``adam_update`` is Algorithm 1 of Kingma & Ba as a pure function; ``Adam``,
``AdamW``, ``AdaMax``, ``SGD``, ``RMSprop`` and ``AdaGrad`` update parameters
in place, with PyTorch's conventions, on the common ``Optimizer`` interface.
"""

from adamref.optim.adam import Adam, AdamW, adam_update, keras_adam
from adamref.optim.adamax import AdaMax
from adamref.optim.baselines import SGD, AdaGrad, RMSprop
from adamref.optim.optimizer import Optimizer

__all__ = ["SGD", "AdaGrad", "AdaMax", "Adam", "AdamW", "Optimizer", "RMSprop",
           "adam_update", "keras_adam"]
