"""adamref: a small, tested, vectorized NumPy reference for Adam and friends.

The optimizers import only NumPy.  Problems (objectives, gradient oracles) sit
beside them in ``adamref.problems``; plotting helpers in ``adamref.plotting``
are the only modules that import matplotlib (import them explicitly).
"""

from .adam import Adam, AdamW, adam_update, keras_adam
from .adamax import AdaMax
from .baselines import SGD, AdaGrad, RMSprop
from .optimizer import Optimizer
from . import keras_style  # noqa: E402  (Keras-style Sequential/Dense/fit)

__all__ = [
           "SGD",
           "AdaGrad",
           "AdaMax",
           "Adam",
           "AdamW",
           "Optimizer",
           "RMSprop",
           "adam_update",
           "keras_adam",
]
__version__ = "0.1.0"
