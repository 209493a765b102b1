"""Objectives, datasets, gradient oracles and the run loops (NumPy and ``adamref.optim``)."""
