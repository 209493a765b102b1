"""Figures of the memory-and-compute chapter (imports matplotlib)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from adamref.optim import validation as check
from adamref.lab.memory_and_compute import OPTIMIZERS, bytes_per_parameter

_COMPONENT_COLORS = {"weights": "tab:gray", "gradients": "tab:brown", "master": "tab:olive",
                     "m": "tab:red", "v": "tab:orange", "v_max": "tab:purple",
                     "momentum": "tab:blue", "sum": "tab:green"}


_HALF_PRECISION_COLORS = {"weights": "silver", "gradients": "rosybrown"}


def _component_color(component: str) -> str:
    key = component.split(" ")[0]
    if "fp16" in component and key in _HALF_PRECISION_COLORS:
        return _HALF_PRECISION_COLORS[key]
    return _COMPONENT_COLORS.get(key, "tab:cyan")


def plot_training_memory(billions=7.0, precision="fp32", ax=None, *, device_gb=80.0,
                         names=None, title=None, legend=True):
    """Stacked bars: gigabytes of weights, gradients and optimizer state for a
    model of ``billions`` × 10⁹ parameters, one bar per optimizer, with a
    dashed line at one device's memory (``device_gb``)."""
    check.positive_number("billions", billions)
    check.positive_number("device_gb", device_gb)
    names = list(OPTIMIZERS) if names is None else list(names)
    ax = ax if ax is not None else plt.figure().add_subplot()
    # one barh per component (all the rows that have it): a few artists, not one per segment
    segments, totals = {}, []                  # component -> [(row, left, width)]
    for row, name in enumerate(names):
        left = 0.0
        for component, nbytes in bytes_per_parameter(name, precision).items():
            segments.setdefault(component, []).append((row, left, billions * nbytes))
            left += billions * nbytes
        totals.append(left)
    for component, bars in segments.items():
        rows, lefts, widths = zip(*bars)
        ax.barh(rows, widths, left=lefts, color=_component_color(component), label=component,
                edgecolor="white")
    for row, total in enumerate(totals):
        ax.text(total, row, f" {total:.0f} GB", va="center", fontsize=9)
    ax.axvline(device_gb, color="black", linestyle="--", linewidth=1)
    ax.text(device_gb, len(names) - 0.4, f" {device_gb:g} GB device", fontsize=9)
    ax.set_yticks(np.arange(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25 * max(ax.get_xlim()[1], device_gb))
    ax.set(xlabel="memory (GB, no activations)",
           title=title or f"{billions:g}B parameters, {precision} training")
    if legend:
        ax.legend(loc="lower right", fontsize="small")
    return ax


def draw_memory(fig, billions=7.0, precision="mixed", device_gb=80.0):
    """The explorer's figure: ``plot_training_memory`` for fp32 (left) and the
    chosen ``precision`` (right)."""
    left, right = fig.subplots(1, 2, sharex=True)
    plot_training_memory(billions, "fp32", left, device_gb=device_gb, legend=False)
    plot_training_memory(billions, precision, right, device_gb=device_gb, legend=False)
    right.set_yticklabels([])
    handles = {}
    for ax in (left, right):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.subplots_adjust(left=0.075, right=0.835, bottom=0.13, top=0.91, wspace=0.05)
    fig.legend(handles.values(), handles.keys(), loc="center right", fontsize="small")
    return fig
