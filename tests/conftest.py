"""Shared test set-up.

Figures are drawn off-screen (no display in CI), and every test's figures are
closed after it.  ``matplotlib.use`` here, not the ``MPLBACKEND`` environment
variable: the notebook kernels that nbval starts inherit the environment, and
must keep their inline backend so that their figures match the stored outputs.
"""

import matplotlib
import matplotlib.pyplot as plt
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")
