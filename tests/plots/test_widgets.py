"""``adamref.plots.widgets`` and ``adamref.plots.explorers``: controls, the live
explorer, the static HTML explorer, and every chapter's explorer."""

import base64
import json
import re

import ipywidgets
import numpy as np
import pytest

from adamref.plots import explorers, widgets


def draw_line(fig, slope, offset=0.0):
    ax = fig.add_subplot()
    x = np.linspace(0, 1, 5)
    ax.plot(x, slope * x + offset)
    ax.set(title=f"slope {slope}", xlabel="x", ylabel="y")


def controls():
    return dict(slope=widgets.log_control("slope", 0.01, 1e-3, 1.0, static=(1e-3, 0.01, 0.1)),
                offset=widgets.stepped("offset", 0.5, (0.0, 0.5, 1.0), static=(0.0, 0.5)))


def test_explorer_draws_once_then_redraws_on_every_change():
    ex = widgets.Explorer(draw_line, controls(), figsize=(4, 3))
    assert ex.redraws == 1 and ex.values == {"slope": 0.01, "offset": 0.5}
    first = bytes(ex.image.value)
    assert first.startswith(b"\x89PNG")
    ex.controls["slope"].value = 0.1
    assert ex.redraws == 2 and ex.values["slope"] == 0.1
    np.testing.assert_allclose(ex.figure.axes[0].lines[0].get_ydata()[-1], 0.1 + 0.5)
    assert bytes(ex.image.value) != first
    ex.controls["offset"].value = 1.0
    assert ex.redraws == 3 and ex.figure.axes[0].get_title() == "slope 0.1"
    np.testing.assert_allclose(ex.figure.axes[0].lines[0].get_ydata()[-1], 0.1 + 1.0)
    assert len(ex.figure.axes) == 1          # the kept figure is cleared, not stacked


def test_every_control_redraws_on_release_and_shows_its_default():
    ex = widgets.Explorer(draw_line, controls())
    for name, control in ex.controls.items():
        assert control.value == ex.specs[name].value
        assert control.continuous_update is False
    box, error, image = ex.children
    assert list(box.children) == list(ex.controls.values()) and image is ex.image


def test_a_long_label_does_not_squeeze_the_track():
    short = widgets.log_control("α", 0.01, 1e-3, 1.0).widget()
    long = widgets.log_control("α (RMSprop, Adam, and friends)", 0.01, 1e-3, 1.0).widget()
    track = [int(w.layout.width[:-2]) - int(w.style.description_width[:-2]) for w in (short, long)]
    assert track[0] == track[1] == widgets.TRACK_PX


def test_stored_output_shows_a_figure_and_a_hint_not_the_widget_repr():
    ex = widgets.Explorer(draw_line, controls(), hint="Run me.")
    bundle = ex._repr_mimebundle_()
    assert bundle["text/plain"] == "Run me."
    assert base64.b64decode(bundle["image/png"]) == bytes(ex.image.value)
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_failing_draw_is_shown_and_keeps_the_last_image():
    def draw(fig, slope, offset):
        if slope > 0.05:
            raise ValueError(f"slope too steep: {slope}")
        draw_line(fig, slope, offset)
    ex = widgets.Explorer(draw, controls())
    good = bytes(ex.image.value)
    with pytest.raises(ValueError, match="too steep"):
        ex.controls["slope"].value = 0.1
    assert "too steep" in ex.error.value and bytes(ex.image.value) == good


def test_control_checks_name_the_control_and_the_value():
    with pytest.raises(ValueError, match=r"'β2': value 0.9999 is at an end"):
        widgets.stepped("β2", 0.9999, (0.9, 0.99, 0.999, 0.9999))
    with pytest.raises(ValueError, match=r"static values \[0.3\] are not among"):
        widgets.stepped("x", 0.5, (0.0, 0.5, 1.0), static=(0.3, 0.5))
    with pytest.raises(ValueError, match="must include the default"):
        widgets.stepped("x", 0.5, (0.0, 0.5, 1.0), static=(0.0, 1.0))
    with pytest.raises(ValueError, match="at least one Control"):
        widgets.Explorer(draw_line, {})
    with pytest.raises(TypeError, match=r"controls\['slope'\] must be a widgets.Control"):
        widgets.Explorer(draw_line, {"slope": ipywidgets.FloatSlider()})
    assert widgets.stepped("t", 1, (1, 10, 100), starts_at_bound=True).value == 1


def test_log_control_offers_its_default_exactly():
    lr = widgets.log_control("α", 7e-3, 1e-4, 1.0)
    assert lr.widget().value == 7e-3 and 7e-3 in lr.options
    assert lr.options[0] == 1e-4 and lr.options[-1] == 1.0
    assert list(lr.options) == sorted(lr.options)


def test_static_explorer_draws_every_combination_and_swaps_images(tmp_path):
    specs = controls()
    manifest = widgets.render_static(draw_line, specs, (4, 3), tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert manifest["images"] == len(files) == 3 * 2
    assert "1-1.png" in files                  # the default: slope 0.01, offset 0.5
    assert manifest["bytes"] == sum(p.stat().st_size for p in tmp_path.iterdir())
    page = widgets.static_html(manifest, "x/")
    assert page.count('type="range"') == 2 and 'src="x/1-1.png"' in page
    spec = json.loads(re.search(r'data-explorer="([^"]+)"', page)[1].replace("&quot;", '"'))
    assert spec["controls"][0]["texts"] == ["0.001", "0.01", "0.1"]
    assert "http" not in page                  # nothing fetched from outside the book


@pytest.mark.parametrize("name", sorted(explorers.EXPLORERS))
def test_every_chapter_explorer_works_alone_and_fits_its_budget(name):
    spec = explorers.spec(name)
    ex = explorers.explore(name)
    assert ex.redraws == 1 and bytes(ex.image.value).startswith(b"\x89PNG")
    assert name in ex.hint
    grid = widgets.static_grid(spec.controls)
    # the offline explorer's budget: 3 MB; a figure here is at most ~120 kB
    assert 2 <= len(grid) <= 30, f"{name}: {len(grid)} static images"
    # one other setting redraws
    other = next(values for values in grid if values != ex.values)
    for control, value in other.items():
        ex.controls[control].value = value
    assert ex.values == other and ex.redraws >= 2


def test_unknown_explorer_names_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be one of \[.*'moments'.*\], got 'moment'"):
        explorers.explore("moment")
