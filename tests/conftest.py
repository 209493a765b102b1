"""Shared test set-up: figures are drawn off-screen (no display in CI).

``matplotlib.use`` here, not the ``MPLBACKEND`` environment variable: the
notebook kernels that nbval starts inherit the environment, and must keep
their inline backend so that their figures match the stored outputs.
"""

import matplotlib

matplotlib.use("Agg")
