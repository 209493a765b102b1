"""Interactive explorers: sliders that redraw a matplotlib figure.

The chapters draw their default figure with a plain plotting function (so it is
in the built HTML and checked by nbval), then hand the *same* function to
``explorer`` for the interactive version in JupyterLab.  Only this module and
``plotting`` import matplotlib; only this one imports ipywidgets.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np


class Explorer(widgets.VBox):
    """Controls above an output area; any change redraws ``draw(fig, **values)``.

    ``values`` (the current control values) and ``figure`` (the last figure
    drawn) are kept so tests and readers can inspect what is shown.
    """

    def __init__(self, draw: Callable, controls: dict, *, figsize=(10, 4)):
        if not controls:
            raise ValueError("controls must name at least one widget")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget, "
                                f"got {type(control).__name__}")
        self.draw, self.controls, self.figsize = draw, dict(controls), figsize
        self.values: dict = {}
        self.figure = None
        self.redraws = 0
        self.output = widgets.interactive_output(self._redraw, self.controls)
        layout = widgets.Layout(flex_flow="row wrap")
        super().__init__([widgets.Box(list(self.controls.values()), layout=layout),
                          self.output])

    def _redraw(self, **values):
        if self.figure is not None:
            plt.close(self.figure)
        self.values = values
        self.figure = plt.figure(figsize=self.figsize)
        self.draw(self.figure, **values)
        self.redraws += 1
        plt.show()  # inside the Output widget's capture: the figure lands there


def explorer(draw: Callable, *, figsize=(10, 4), **controls) -> Explorer:
    """``explorer(draw, lr=lr_slider(), beta2=beta2_slider())``."""
    return Explorer(draw, controls, figsize=figsize)


_STYLE = {"description_width": "initial"}
_LAYOUT = {"width": "320px"}


def lr_slider(value=1e-3, low=1e-5, high=1.0, description="α (lr)"):
    """Log-scale learning-rate slider from ``low`` to ``high``."""
    return widgets.FloatLogSlider(value=value, base=10, min=np.log10(low), max=np.log10(high),
                                  step=0.1, description=description, readout_format=".1e",
                                  style=_STYLE, layout=_LAYOUT, continuous_update=False)


def beta_slider(value, description, options=(0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999)):
    """β values are meaningful on a log scale of 1 − β: offer the usual ones."""
    options = sorted(set(options) | {value})
    return widgets.SelectionSlider(options=options, value=value, description=description,
                                   style=_STYLE, layout=_LAYOUT, continuous_update=False)


def beta1_slider(value=0.9):
    return beta_slider(value, "β1")


def beta2_slider(value=0.999):
    return beta_slider(value, "β2")


def eps_slider(value=1e-8, low=1e-12, high=1e-1):
    return widgets.FloatLogSlider(value=value, base=10, min=np.log10(low), max=np.log10(high),
                                  step=1, description="ε", readout_format=".0e", style=_STYLE,
                                  layout=_LAYOUT, continuous_update=False)


def noise_slider(value=0.5, high=5.0, description="noise σ"):
    return widgets.FloatSlider(value=value, min=0.0, max=high, step=high / 50,
                               description=description, style=_STYLE, layout=_LAYOUT,
                               continuous_update=False)


def int_slider(value, low, high, description, step=1):
    return widgets.IntSlider(value=value, min=low, max=high, step=step, description=description,
                             style=_STYLE, layout=_LAYOUT, continuous_update=False)


def toggle(value, description):
    return widgets.Checkbox(value=value, description=description, style=_STYLE)
