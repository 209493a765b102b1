"""Shared test set-up: figures are drawn off-screen (no display in CI).

Set through the environment rather than ``matplotlib.use`` so that merely
collecting the tests imports no matplotlib (the optimizers must not need it).
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
