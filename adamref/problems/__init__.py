"""Objectives, datasets, gradient oracles and the run loop (NumPy and ``adamref.optim``).

Two vocabularies, one per kind of problem: a test function (``Quadratic``,
``Rosenbrock``) has ``value``, ``gradient`` and ``minimum``; a dataset problem
(``LeastSquares``, ``LogisticRegression``) has ``loss``, ``gradient(theta,
rows=None)``, ``optimum`` and ``best_loss``.  Both have ``excess_loss``
(``f(θ) − f(θ*)``), which is what sweeps report.  ``Washboard`` (many minima)
has ``value``, ``gradient`` and ``basin``.
"""

from adamref.problems.datasets import LeastSquares
from adamref.problems.datasets import LogisticRegression
from adamref.problems.datasets import gradient_oracle
from adamref.problems.datasets import make_least_squares
from adamref.problems.datasets import make_logistic
from adamref.problems.objectives import Quadratic
from adamref.problems.objectives import Rosenbrock
from adamref.problems.objectives import noisy_gradient
from adamref.problems.registry import FAMILY
from adamref.problems.registry import LINEAGE
from adamref.problems.registry import OPTIMIZERS
from adamref.problems.registry import make_optimizer
from adamref.problems.runs import DIVERGENCE_BOUND
from adamref.problems.runs import Run
from adamref.problems.runs import grid
from adamref.problems.runs import run
from adamref.problems.runs import trajectory
from adamref.problems.tuning import Tuned
from adamref.problems.tuning import UnbracketedOptimum
from adamref.problems.tuning import tune
from adamref.problems.washboard import Washboard
from adamref.problems.washboard import sin_2pi

__all__ = ["DIVERGENCE_BOUND", "FAMILY", "LINEAGE", "LeastSquares", "LogisticRegression",
           "OPTIMIZERS", "Quadratic", "Rosenbrock", "Run", "Tuned", "UnbracketedOptimum",
           "Washboard", "gradient_oracle", "grid", "make_least_squares", "make_logistic",
           "make_optimizer", "noisy_gradient", "run", "sin_2pi", "trajectory", "tune"]
