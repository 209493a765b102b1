"""Running an optimizer on a gradient oracle and recording where it went."""

from __future__ import annotations

import numpy as np

from adamref.optim import validation as check
from adamref.optim.optimizer import restoring


def trajectory(optimizer, gradient, theta0, steps: int) -> np.ndarray:
    """Apply ``optimizer`` for ``steps`` steps from ``theta0`` (copied, not
    modified); ``gradient(theta)`` returns the gradient at ``theta``.

    Returns the visited points, shape ``(steps + 1, *theta0.shape)``; row 0 is
    ``theta0``.
    """
    steps = check.integer("steps", steps, low=0)
    theta = np.array(theta0, dtype=float)
    check.float_array("theta0", theta)
    path = np.empty((steps + 1, *theta.shape))
    path[0] = theta
    with restoring(optimizer, theta):
        for t in range(1, steps + 1):
            optimizer.step(theta, gradient(theta))
            path[t] = theta
    return path
