"""``adamref.plots.widgets``."""

import numpy as np
import pytest

from adamref.plots import widgets


def draw_line(fig, slope, offset=0.0):
    ax = fig.add_subplot()
    x = np.linspace(0, 1, 5)
    ax.plot(x, slope * x + offset)
    ax.set(title=f"slope {slope}", xlabel="x", ylabel="y")


def test_explorer_draws_once_then_redraws_on_every_change():
    slope = widgets.lr_slider(value=1e-2)
    offset = widgets.noise_slider(value=0.5)
    ex = widgets.explorer(draw_line, slope=slope, offset=offset)
    assert ex.redraws == 1 and ex.values == {"slope": pytest.approx(1e-2), "offset": 0.5}
    slope.value = 0.1
    assert ex.redraws == 2 and ex.values["slope"] == pytest.approx(0.1)
    np.testing.assert_allclose(ex.figure.axes[0].lines[0].get_ydata()[-1], 0.1 + 0.5)
    offset.value = 1.0
    assert ex.redraws == 3
    np.testing.assert_allclose(ex.figure.axes[0].lines[0].get_ydata()[-1], 0.1 + 1.0)
    assert ex.figure.axes[0].get_title() == "slope 0.1"


def test_explorer_shows_its_controls_and_output():
    ex = widgets.explorer(draw_line, slope=widgets.beta1_slider())
    controls_box, output = ex.children
    assert list(controls_box.children) == list(ex.controls.values())
    assert output is ex.output


def test_beta_slider_offers_the_default_and_usual_values():
    s = widgets.beta2_slider(0.995)
    assert s.value == 0.995 and 0.999 in s.options and list(s.options) == sorted(s.options)
    s.value = 0.9999
    assert s.value == 0.9999


def test_sliders_cover_their_ranges():
    lr = widgets.lr_slider()
    assert lr.value == pytest.approx(1e-3) and 10**lr.min == pytest.approx(1e-5)
    assert widgets.eps_slider().value == pytest.approx(1e-8)
    assert widgets.int_slider(100, 1, 500, "epochs").max == 500
    assert widgets.toggle(True, "bias correction").value is True


def test_explorer_rejects_bad_controls():
    with pytest.raises(ValueError, match="at least one widget"):
        widgets.explorer(draw_line)
    with pytest.raises(TypeError, match=r"controls\['slope'\] must be an ipywidgets value widget"):
        widgets.explorer(draw_line, slope=0.5)

