"""``adamref.plots.style``."""

import matplotlib.pyplot as plt
import numpy as np

import adamref
from adamref.plots.style import plot_contours, plot_loss_curves
from adamref.problems.objectives import Quadratic
from adamref.problems.runs import trajectory


def test_plots_draw_one_line_per_optimizer():
    q = Quadratic()
    paths = {name: trajectory(opt, q.gradient, np.array([-2.0, 1.0]), 20)
             for name, opt in [("SGD", adamref.SGD(lr=0.01)), ("Adam", adamref.Adam(lr=0.1))]}
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_contours(q, paths, left) is left
    assert plot_loss_curves(q, paths, right) is right
    np.testing.assert_array_equal(left.lines[0].get_xydata(), paths["SGD"])
    assert [line.get_label() for line in right.lines] == ["SGD", "Adam"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), q.value(paths["Adam"]))
    assert left.get_xlabel() and left.get_title() and right.get_yscale() == "log"
    plt.close(fig)


def test_long_series_are_thinned_to_about_a_thousand_points():
    from adamref.plots.style import MAX_POINTS, thinned, thinning
    index, values = thinned(np.arange(4001.0))
    assert len(index) <= MAX_POINTS + 1 and index[0] == 0 and index[-1] == 4000
    np.testing.assert_array_equal(values, index)
    assert len(thinned(np.arange(10))[0]) == 10
    assert thinning(4000) == 4 and thinning(999) == 1 and thinning(1001) == 2
