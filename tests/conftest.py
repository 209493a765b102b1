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


@pytest.fixture
def labelled():
    """Whether axes have a title and both axis labels (every book figure does)."""
    return lambda ax: bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


@pytest.fixture
def lines_of():
    """The y-data of every line of a figure: two draws of an explorer compare equal
    only if nothing moved."""
    return lambda fig: [line.get_ydata().copy() for ax in fig.axes for line in ax.lines]
