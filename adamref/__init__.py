"""adamref: a small, tested, vectorized NumPy reference for Adam and friends.

The optimizers import only NumPy.  Problems (objectives, datasets, gradient
oracles) sit beside them; ``adamref.keras_style`` is a Keras-style trainer
built on the optimizers; plotting and widget helpers (``adamref.plotting``,
``adamref.plot_*``, ``adamref.widgets``) are the only modules that import
matplotlib or ipywidgets, and are imported explicitly.
"""

from . import keras_style
from .adam import Adam, AdamW, adam_update, keras_adam
from .adamax import AdaMax
from .baselines import SGD, AdaGrad, RMSprop
from .optimizer import Optimizer

__all__ = ["SGD", "AdaGrad", "AdaMax", "Adam", "AdamW", "Optimizer", "RMSprop",
           "adam_update", "keras_adam", "keras_style"]
__version__ = "0.1.0"
