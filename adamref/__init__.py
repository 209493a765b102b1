"""adamref: a small, tested, vectorized NumPy reference for Adam and friends.

The package has four layers, each importing only the ones above it:

- ``adamref.optim``: the optimizers (NumPy only);
- ``adamref.problems``: objectives, datasets, gradient oracles and run loops;
- ``adamref.lab``: one module per chapter of the book, named after its
  notebook, holding that chapter's computations;
- ``adamref.plots``: one module per chapter that draws (and does not compute),
  the shared style and the explorers' widgets: the only modules that import
  matplotlib or ipywidgets, and never imported by the others.

``adamref.keras_style`` is a Keras-style trainer on ``optim``; ``adamref.roundoff``
says how the notebooks print values at rounding level.
"""

from adamref import keras_style
from adamref.optim import (SGD, AdaBelief, AdaGrad, AdaMax, Adam, AdamW, Lion, NAdam, Optimizer,
                           RAdam, RMSprop, SignSGD, Yogi, adam_update, keras_adam, schedules)

__all__ = ["SGD", "AdaBelief", "AdaGrad", "AdaMax", "Adam", "AdamW", "Lion", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "SignSGD", "Yogi", "adam_update", "keras_adam", "keras_style",
           "schedules"]
__version__ = "0.1.0"
