"""Shared test set-up.

Hypothesis is seeded (profile ``seeded``).

Figures are drawn off-screen (no display in CI), and every test's figures are
closed after it.  ``matplotlib.use`` here, not the ``MPLBACKEND`` environment
variable: the notebook kernels that nbval starts inherit the environment, and
must keep their inline backend so that their figures match the stored outputs.
"""

import shutil
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# Property tests draw the same examples on every run and machine (seeded from
# each test's name), so CI cannot pass or fail by chance; run with
# ``--hypothesis-profile=explore`` to draw new random examples.
settings.register_profile("seeded", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("seeded")

#: Debian's chromium (``make chromium``) and the flags it needs here: no sandbox
#: as root, and no background connections (the machine's network is closed).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


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
