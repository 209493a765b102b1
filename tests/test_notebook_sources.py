"""The notebooks' sources follow the book's conventions (read, not run):

- the prose quotes numbers only through ``{eval}`` roles, and every one has its
  value stored (``metadata.user_expressions``, what jupyterlab-myst shows before
  the notebook runs; ``tools/store_outputs.py`` writes it);
- every notebook was stored with the current ``adamref`` code, toolchain and
  code cells (the HTML book shows the stored outputs; nbval does not compare
  figures);
- the markdown uses only roles that both the HTML build and jupyterlab-myst
  render;
- an explorer cell is ``explore("<chapter>")``, works alone, and is replaced by
  the offline explorer in the HTML;
- a value measured with the clock is named ``prose.clock_*`` (the learner test
  does not compare those with a fresh run);
- no bookkeeping cell is tagged ``remove-cell`` (MyST-NB would run it late);
- every concept chapter ends with exercises, each with a solution.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat

import pytest

from adamref.plots.explorers import EXPLORERS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
ROLE = re.compile(r"\{([a-z:-]+)\}`")
#: Roles both MyST-NB (the HTML) and jupyterlab-myst render.
RENDERED_ROLES = {"eval", "eq", "ref", "numref", "doc", "cite", "cite:t", "cite:p", "math",
                  "abbr", "sub", "sup"}
_spec = importlib.util.spec_from_file_location("store_outputs", ROOT / "tools" / "store_outputs.py")
store_outputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(store_outputs)
EVAL_ROLE = store_outputs.EVAL_ROLE          # the roles the store evaluates

#: Names of quoted values that sound like measured times, speeds or speedups.
TIMING_NAME = re.compile(r"seconds|_ms$|_us$|gbs$|speedup|per_second|elapsed|timing")
#: Timings read from a fixture recorded by hand: fixed numbers, not clock readings.
RECORDED_TIMINGS = {"prose.keras_seconds"}
#: Chapters without exercises: the verdict collects the others' results.
NO_EXERCISES = {"verdict"}


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell) -> str:
    return "".join(cell["source"])


def ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_every_eval_role_has_its_value_stored(path):
    for index, cell in enumerate(cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        wanted = store_outputs.eval_roles(source(cell))
        stored = cell["metadata"].get("user_expressions", [])
        assert [e["expression"] for e in stored] == wanted, (
            f"{path.name} cell {index}: stored values {[e['expression'] for e in stored]} "
            f"do not match the roles {wanted}: run tools/store_outputs.py")
        for entry in stored:
            assert entry["result"]["status"] == "ok", f"{path.name} cell {index}: {entry}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_outputs_were_stored_with_the_current_code(path):
    notebook = nbformat.read(path, as_version=4)
    stored = notebook.metadata.get("adamref", {}).get("stored_with")
    assert stored == store_outputs.stored_with(notebook), (
        f"{path.name}: its outputs were stored with other adamref code, toolchain or code "
        "cells than these: re-store it (`make store`, or tools/store_outputs.py)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_clock_measured_values_are_named_clock(path):
    quoted = {name for cell in cells(path) if cell["cell_type"] == "markdown"
              for name in EVAL_ROLE.findall(source(cell))}
    unnamed = sorted(name for name in quoted - RECORDED_TIMINGS
                     if TIMING_NAME.search(name) and not name.startswith("prose.clock_"))
    assert not unnamed, f"{path.name}: timings not named prose.clock_*: {unnamed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_prose_uses_only_roles_both_renderers_know(path):
    for index, cell in enumerate(cells(path)):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            unknown = set(ROLE.findall(text)) - RENDERED_ROLES
            assert not unknown, f"{path.name} cell {index}: roles {unknown} render raw in JupyterLab"
        else:
            assert "myst_nb" not in text and not re.search(r"\bglue\(", text), (
                f"{path.name} cell {index}: glue is gone; quote values with prose.name "
                "and {eval}`prose.name`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_explorer_cells_work_alone(path):
    explorer_cells = [c for c in cells(path) if "explorer" in c["metadata"].get("tags", [])]
    if path.stem not in EXPLORERS:
        assert not explorer_cells, f"{path.name}: an explorer cell but no explorer named {path.stem}"
        return
    assert len(explorer_cells) == 1, f"{path.name}: {len(explorer_cells)} explorer cells"
    cell = explorer_cells[0]
    assert source(cell) == ('from adamref.plots.explorers import explore\n\n'
                            f'explore("{path.stem}")')
    assert {"remove-input", "nbval-ignore-output"} <= set(cell["metadata"]["tags"])


def test_every_explorer_has_its_chapter():
    assert set(EXPLORERS) <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_code_cell_is_removed_whole(path):
    for index, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            assert "remove-cell" not in cell["metadata"].get("tags", []), (
                f"{path.name} cell {index}: tag it remove-input and remove-output instead "
                "(MyST-NB runs a removed cell only when the next shown cell runs, after "
                "the {eval} roles between them)")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem not in NO_EXERCISES],
                         ids=ids([p for p in NOTEBOOKS if p.stem not in NO_EXERCISES]))
def test_chapter_ends_with_exercises_and_solutions(path):
    text = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    assert "\n## Exercises" in "\n" + text, f"{path.name}: no Exercises section"
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label: ([\w-]+)", text)
    assert len(labels) >= 2, f"{path.name}: {len(labels)} exercises"
    solved = set(re.findall(r"```\{solution(?:-start)?\} ([\w-]+)", text))
    assert set(labels) <= solved, f"{path.name}: no solution for {set(labels) - solved}"
    assert text.count("{solution-start}") == text.count("{solution-end}")
