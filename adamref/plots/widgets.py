"""Explorers: controls that redraw a figure, live in JupyterLab and offline in the HTML book.

An explorer is a drawing function ``draw(fig, **values)`` and one ``Control``
per keyword.  A control lists every value it offers (``options``, so a slider
shows exactly its default and every arrow press moves to a visible value) and
the few values the static HTML pre-renders (``static``).

- In JupyterLab, ``Explorer`` (an ipywidgets box) draws on one figure that it
  keeps, writes it to a PNG and shows it in an ``Image`` widget.  Every control
  redraws when released (``continuous_update=False``, the same for all).  Before
  the cell has run, its stored output shows the default figure and a hint.
- In the built book, ``render_static`` draws the same function once for every
  combination of the controls' ``static`` values and ``static_html`` returns
  the controls and a few lines of JavaScript that swap the images: no kernel,
  no CDN.

Only this module and the other ``plots`` modules import matplotlib; only this
one imports ipywidgets.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from adamref.plots.style import BOOK_STYLE

#: Resolution of the explorers' images, live and static (pixels per inch).  The
#: inline backend's 100 dpi and tight bounding box cost two renders at twice the
#: pixels; 72 dpi is sharp enough on a page and keeps a redraw fast.
DPI = 72

#: What the stored output of an explorer cell says before the cell has run.
HINT = "Explorer: run this cell, then move a control to redraw the figure."


@dataclass(frozen=True)
class Control:
    """One control: a label, its default ``value``, every value it offers
    (``options``, in order), how a value is written (``text``), the values the
    static HTML pre-renders (``static``, default: just ``value``) and its kind
    (``"slider"``, ``"dropdown"`` or ``"toggle"``)."""

    label: str
    value: object
    options: tuple
    text: Callable[[object], str] = str
    static: tuple = ()
    kind: str = "slider"
    #: True where the default is a natural end of the range (the first step
    #: t = 1): the one place a slider may start at an end.
    starts_at_bound: bool = False

    def __post_init__(self):
        if self.kind not in ("slider", "dropdown", "toggle"):
            raise ValueError(f"kind must be 'slider', 'dropdown' or 'toggle', got {self.kind!r}")
        if len(self.options) < 2:
            raise ValueError(f"control {self.label!r}: options must offer at least two values, "
                             f"got {self.options!r}")
        if self.value not in self.options:
            raise ValueError(f"control {self.label!r}: value {self.value!r} is not one of "
                             f"its options {self.options!r}")
        if (self.kind == "slider" and not self.starts_at_bound
                and self.value in (self.options[0], self.options[-1])):
            # a slider that starts at an end can only move one way
            raise ValueError(f"control {self.label!r}: value {self.value!r} is at an end of "
                             f"the slider {self.options!r}; offer values on both sides")
        static = self.static or (self.value,)
        missing = [v for v in static if v not in self.options]
        if missing:
            raise ValueError(f"control {self.label!r}: static values {missing!r} are not "
                             f"among its options {self.options!r}")
        if self.value not in static:
            raise ValueError(f"control {self.label!r}: static values {static!r} must "
                             f"include the default {self.value!r}")
        object.__setattr__(self, "static", tuple(v for v in self.options if v in static))

    def widget(self) -> widgets.ValueWidget:
        """A new ipywidget for this control, at its default."""
        width = _label_width(self.label)
        common = dict(description=self.label, style={"description_width": f"{width}px"},
                      layout=widgets.Layout(width=f"{width + TRACK_PX}px"))
        if self.kind == "toggle":
            return widgets.Checkbox(value=self.value, indent=False,
                                    layout=widgets.Layout(width=f"{width + TRACK_PX}px"),
                                    description=self.label)
        labelled = [(self.text(v), v) for v in self.options]
        if self.kind == "dropdown":
            return widgets.Dropdown(options=labelled, value=self.value, **common)
        return widgets.SelectionSlider(options=labelled, value=self.value,
                                       continuous_update=False, **common)


#: Width of a slider's track (pixels): the label gets its own width beside it,
#: so a long label does not squeeze the track.
TRACK_PX = 240


def _label_width(label: str) -> int:
    return 12 + 8 * len(label)


def _nice_values(low: float, high: float) -> list[float]:
    """1, 2, 5 times the powers of ten from ``low`` to ``high``."""
    values = []
    for exponent in range(-20, 21):
        for mantissa in (1, 2, 5):
            v = float(f"{mantissa}e{exponent}")
            if low * (1 - 1e-12) <= v <= high * (1 + 1e-12):
                values.append(v)
    return values


def log_control(label: str, value: float, low: float, high: float, *, static=(),
                decades_only=False) -> Control:
    """A slider over 1-2-5 values (or powers of ten) from ``low`` to ``high``,
    plus ``value`` itself: the learning rates, ε and the like."""
    values = _nice_values(low, high)
    if decades_only:
        values = [v for v in values if f"{v:e}".startswith("1.")]
    options = tuple(sorted(set(values) | {float(value)}))
    return Control(label, float(value), options, text=lambda v: f"{v:g}", static=static)


def stepped(label: str, value, options, *, static=(), text=None,
            starts_at_bound=False) -> Control:
    """A slider over the given values (β's, step counts, sizes)."""
    return Control(label, value, tuple(sorted(set(options) | {value})),
                   text=text or (lambda v: f"{v:g}"), static=static,
                   starts_at_bound=starts_at_bound)


#: The β values that mean something (their 1 − β on a log scale).
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999)


def beta_control(label: str, value: float, *, static=()) -> Control:
    return stepped(label, value, BETAS, static=static)


def choice(label: str, value, options, *, static=None) -> Control:
    """A drop-down list; the static HTML offers every option unless told otherwise."""
    options = tuple(options)
    return Control(label, value, options, kind="dropdown",
                   static=options if static is None else static)


def toggle(label: str, value: bool) -> Control:
    """A check box; the static HTML offers both states."""
    return Control(label, bool(value), (False, True), kind="toggle", static=(False, True),
                   text=lambda v: "on" if v else "off")


def _checked_controls(controls: dict) -> dict:
    if not controls:
        raise ValueError("controls must name at least one Control")
    for name, control in controls.items():
        if not isinstance(control, Control):
            raise TypeError(f"controls[{name!r}] must be a widgets.Control, "
                            f"got {type(control).__name__}")
    return dict(controls)


def draw_png(draw: Callable, values: dict, figsize, *, figure: Figure | None = None,
             dpi: int = DPI) -> tuple[bytes, Figure]:
    """Draw ``draw(fig, **values)`` in the book's style on ``figure`` (cleared)
    or a new figure of ``figsize`` inches; return the PNG and the figure."""
    with matplotlib.rc_context(BOOK_STYLE):
        if figure is None:
            # drawn at the dpi it is saved at: no renderer switch (and no lost
            # mathtext cache) between drawing and saving
            figure = Figure(figsize=figsize, dpi=dpi)
            FigureCanvasAgg(figure)
        else:
            figure.clear()
        draw(figure, **values)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue(), figure


class Explorer(widgets.VBox):
    """Controls above an image; a control change redraws ``draw(fig, **values)``.

    ``values`` (the values shown), ``figure`` (the figure drawn, kept and
    reused), ``redraws`` and ``seconds`` (the last redraw's draw-and-encode time)
    are kept for tests and for the latency benchmark.
    """

    def __init__(self, draw: Callable, controls: dict, *, figsize=(10, 4), hint: str = HINT):
        self.draw, self.specs, self.figsize, self.hint = draw, _checked_controls(controls), \
            tuple(figsize), hint
        self.controls = {name: spec.widget() for name, spec in self.specs.items()}
        self.values = {name: spec.value for name, spec in self.specs.items()}
        self.figure: Figure | None = None
        self.redraws, self.seconds = 0, 0.0
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.error = widgets.HTML()
        self.redraw()
        for name, control in self.controls.items():
            control.observe(lambda change, name=name: self._changed(name, change["new"]),
                            names="value")
        box = widgets.Box(list(self.controls.values()),
                          layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([box, self.error, self.image])

    def _changed(self, name, value):
        self.values = {**self.values, name: value}
        self.redraw()

    def redraw(self) -> None:
        """Draw the current values; an error is shown under the controls (and
        re-raised) and the last good image stays."""
        start = time.perf_counter()
        try:
            png, self.figure = draw_png(self.draw, self.values, self.figsize, figure=self.figure)
        except Exception as error:
            self.error.value = f"<pre>{html.escape(f'{type(error).__name__}: {error}')}</pre>"
            raise
        self.error.value = ""
        self.image.value = png
        self.redraws += 1
        self.seconds = time.perf_counter() - start

    def _repr_mimebundle_(self, **kwargs):
        # Before the cell runs (or where widgets cannot render) the stored
        # output shows the figure and a hint, not the widget's repr.
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.hint
        bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        return bundle


def explorer(draw: Callable, *, figsize=(10, 4), **controls) -> Explorer:
    """``explorer(draw, lr=log_control("α", 1e-2, 1e-4, 1.0))``."""
    return Explorer(draw, controls, figsize=figsize)


# ---------------------------------------------------------------- static HTML

def static_grid(controls: dict) -> list[dict]:
    """Every combination of the controls' static values, in file order."""
    controls = _checked_controls(controls)
    names = list(controls)
    return [dict(zip(names, combo))
            for combo in itertools.product(*(controls[n].static for n in names))]


def _file_name(controls: dict, values: dict) -> str:
    return "-".join(str(controls[n].static.index(values[n])) for n in controls) + ".png"


def render_static(draw: Callable, controls: dict, figsize, directory: Path, *,
                  dpi: int = DPI) -> dict:
    """Draw every combination of static values into ``directory`` (one PNG each);
    return the manifest ``static_html`` needs."""
    controls = _checked_controls(controls)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figure, total = None, 0
    for values in static_grid(controls):
        png, figure = draw_png(draw, values, figsize, figure=figure, dpi=dpi)
        (directory / _file_name(controls, values)).write_bytes(png)
        total += len(png)
    return {"controls": [{"name": n, "label": c.label, "texts": [c.text(v) for v in c.static],
                          "start": c.static.index(c.value)} for n, c in controls.items()],
            "bytes": total, "images": len(static_grid(controls))}


_PLAYER_JS = """
(function () {
  var box = document.currentScript.parentElement;
  var spec = JSON.parse(box.getAttribute('data-explorer'));
  var image = box.querySelector('img');
  var inputs = box.querySelectorAll('input[type=range]');
  function show() {
    var index = [];
    inputs.forEach(function (input, k) {
      index.push(input.value);
      input.parentElement.querySelector('output').textContent =
        spec.controls[k].texts[+input.value];
    });
    image.src = spec.base + index.join('-') + '.png';
  }
  inputs.forEach(function (input) { input.addEventListener('input', show); });
  show();
})();
"""


def static_html(manifest: dict, base_url: str, *, alt: str = "") -> str:
    """The offline explorer: one range input per control and the image they pick."""
    spec = {"base": base_url, "controls": [{"texts": c["texts"]} for c in manifest["controls"]]}
    rows = []
    for c in manifest["controls"]:
        rows.append(
            f'<label class="adamref-explorer-control"><span>{html.escape(c["label"])}</span>'
            f'<input type="range" min="0" max="{len(c["texts"]) - 1}" step="1" '
            f'value="{c["start"]}" aria-label="{html.escape(c["label"])}"'
            f'{" disabled" if len(c["texts"]) == 1 else ""}>'
            f'<output>{html.escape(c["texts"][c["start"]])}</output></label>')
    start = "-".join(str(c["start"]) for c in manifest["controls"])
    return (f'<div class="adamref-explorer" data-explorer="{html.escape(json.dumps(spec))}">'
            f'<div class="adamref-explorer-controls">{"".join(rows)}</div>'
            f'<img src="{base_url}{start}.png" alt="{html.escape(alt)}" style="max-width:100%">'
            f'<script>{_PLAYER_JS}</script></div>')


#: The offline explorers' layout (one small style block per page that has one).
STATIC_CSS = """
.adamref-explorer-controls { display: flex; flex-wrap: wrap; gap: 0.3em 1.5em; margin: 0.5em 0; }
.adamref-explorer-control { display: flex; align-items: center; gap: 0.5em; }
.adamref-explorer-control input { width: 10em; }
.adamref-explorer-control output { min-width: 4em; font-family: monospace; }
"""


@dataclass
class Spec:
    """One chapter's explorer: what it draws, its controls, its size and the
    line the page shows above it."""

    draw: Callable
    controls: dict
    figsize: tuple
    usage: str = ""
