"""Run notebooks and store what they show: every code cell's outputs, and the
value of every ``{eval}`...` `` role in the markdown as jupyterlab-myst stores
it (``metadata.user_expressions``), so a learner who opens a notebook sees the
numbers before running it.

    .venv/bin/python tools/store_outputs.py chapters/moments.ipynb [...]

Markdown cells are evaluated where they stand, after the code cells above them
have run: the same order as *Run All* in JupyterLab.  A role whose expression
fails stops the run.  The HTML book shows these stored outputs and values
(``_ext/stored_values.py``).

The notebook's metadata records what the outputs were computed from
(``adamref.stored_with``: a hash of the ``adamref`` sources, the pinned
toolchain and the notebook's code cells); a test fails when that changes, so a
figure (which nbval does not compare) cannot go stale.  ``make store`` re-stores
every chapter.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
TIMEOUT = 120


def stored_with(notebook) -> str:
    """What ``notebook``'s outputs are computed from: a hash of every
    ``adamref`` source file, of ``constraints.txt`` and of its code cells."""
    digest = hashlib.sha256()
    for path in [*sorted((ROOT / "adamref").rglob("*.py")), ROOT / "constraints.txt"]:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(b"\0" + cell.source.encode())
    return digest.hexdigest()[:16]


def eval_roles(source: str) -> list[str]:
    """The expressions of a markdown cell's ``{eval}`` roles, in order, once each."""
    return list(dict.fromkeys(EVAL_ROLE.findall(source)))


def _evaluate(client: NotebookClient, expressions: list[str]) -> list[dict]:
    msg_id = client.kc.execute("", silent=True, store_history=False,
                               user_expressions={e: e for e in expressions})
    while True:
        reply = run_sync(client.kc.get_shell_msg)(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    results = reply["content"]["user_expressions"]
    failed = {e: r for e, r in results.items() if r.get("status") != "ok"}
    if failed:
        raise RuntimeError("{eval} roles failed: " + "; ".join(
            f"{e!r}: {r.get('ename')}: {r.get('evalue')}" for e, r in failed.items()))
    return [{"expression": e, "result": results[e]} for e in expressions]


def store(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                            record_timing=False,   # no timestamps: a re-store changes less
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel(env={**os.environ, "PYTHONPATH": str(ROOT)}):
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                cell.metadata.pop("execution", None)
                client.execute_cell(cell, index)
            elif cell.cell_type == "markdown":
                expressions = eval_roles(cell.source)
                if expressions:
                    cell.metadata["user_expressions"] = _evaluate(client, expressions)
                else:
                    cell.metadata.pop("user_expressions", None)
    notebook.metadata["adamref"] = {"stored_with": stored_with(notebook)}
    nbformat.write(notebook, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args(argv).notebooks:
        print(f"running {path}", flush=True)
        store(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
