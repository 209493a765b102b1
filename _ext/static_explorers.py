"""Explorers that work in the offline HTML book, without a kernel or a CDN.

A chapter's explorer cell (tagged ``explorer``; its code is
``explore("<chapter>")``) shows sliders in JupyterLab.  Here its output is
replaced by the same controls as range inputs and the same figure, drawn by
``adamref.plots.widgets.render_static`` for every combination of the
controls' static values; a few lines of JavaScript swap the images.

The images are drawn in a separate process that starts when the build starts,
so they are drawn while Sphinx reads the pages; each page waits for its own.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils import nodes

TAG = "explorer"
FOLDER = "_explorers"


def _render(name: str, directory: str) -> dict:
    # in the worker process: the book's explorers, drawn with matplotlib's Agg
    import matplotlib
    matplotlib.use("Agg")
    from adamref.plots.explorers import spec
    from adamref.plots.widgets import render_static
    chosen = spec(name)
    start = time.perf_counter()
    manifest = render_static(chosen.draw, chosen.controls, chosen.figsize, Path(directory))
    manifest["seconds"] = time.perf_counter() - start
    return manifest


def _start(app, env, docnames):
    """Start drawing the explorers of the chapters about to be read."""
    if app.builder.format != "html" or getattr(app, "adamref_explorer_jobs", None) is not None:
        return
    from adamref.plots.explorers import EXPLORERS
    chapters = {name.rsplit("/", 1)[-1] for name in docnames}
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    out = Path(app.outdir) / FOLDER
    app.adamref_explorer_jobs = {name: pool.submit(_render, name, str(out / name))
                                 for name in EXPLORERS if name in chapters}
    app.adamref_explorer_pool = pool


def _is_explorer_cell(node) -> bool:
    return (isinstance(node, nodes.container) and "cell" in node.get("classes", [])
            and f"tag_{TAG}" in node.get("classes", []))


def _replace_outputs(app, doctree, docname):
    jobs = getattr(app, "adamref_explorer_jobs", None)
    if jobs is None:
        return
    from adamref.plots.widgets import STATIC_CSS, static_html
    name = docname.rsplit("/", 1)[-1]
    for cell in list(doctree.findall(_is_explorer_cell)):
        if name not in jobs:
            raise ValueError(f"{docname}: a cell tagged {TAG!r} but no explorer named {name!r} "
                             f"in adamref.plots.explorers")
        manifest = jobs[name].result()
        base = "../" * docname.count("/") + f"{FOLDER}/{name}/"
        markup = f"<style>{STATIC_CSS}</style>" + static_html(
            manifest, base, alt=f"The {name.replace('_', ' ')} explorer's figure")
        outputs = [c for c in cell.children if "cell_output" in c.get("classes", [])]
        for output in outputs:
            cell.remove(output)
        cell += nodes.container("", nodes.raw("", markup, format="html"),
                                classes=["cell_output", "adamref-static-explorer"])


def _finish(app, exception):
    jobs = getattr(app, "adamref_explorer_jobs", None)
    if jobs is None:
        return
    manifests = {name: job.result() for name, job in jobs.items()} if exception is None else {}
    app.adamref_explorer_pool.shutdown(cancel_futures=exception is not None)
    if manifests:
        seconds = sum(m["seconds"] for m in manifests.values())
        size = sum(m["bytes"] for m in manifests.values())
        images = sum(m["images"] for m in manifests.values())
        print(f"static explorers: {len(manifests)} explorers, {images} images, "
              f"{size / 1e6:.1f} MB, drawn in {seconds:.0f} s beside the build")


def setup(app):
    app.connect("env-before-read-docs", _start)
    app.connect("doctree-resolved", _replace_outputs)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
