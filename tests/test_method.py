"""The book's method, checked: a tuned optimum is reported only through
``adamref.problems.tune`` (which refuses an optimum at the edge of its grid).

Any other ``argmin``/``argmax`` in a notebook or a chapter's lab module picks
something that is not a tuned hyperparameter (a grid lookup, the first step at
which something happens); it must say so in a ``# not tuning: ...`` comment on
its line, so that a new tuning loop cannot slip past the helper unnoticed.
The notebooks themselves are re-executed by nbval, where ``Tuned.best`` raises
if a reported optimum is not bracketed.
"""

import json
import re
from pathlib import Path

import adamref

ROOT = Path(adamref.__file__).parents[1]
PICKS = re.compile(r"\b(?:nan)?arg(?:min|max)\(")


def unmarked_picks(lines, where):
    return [f"{where}:{number}: {line.strip()}" for number, line in enumerate(lines, 1)
            if PICKS.search(line) and "# not tuning:" not in line]


def notebook_lines(path):
    cells = json.loads(path.read_text())["cells"]
    return [line for c in cells if c["cell_type"] == "code"
            for line in "".join(c["source"]).splitlines()]


def test_every_argmin_or_argmax_in_the_book_is_marked_as_not_tuning():
    found = []
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        found += unmarked_picks(notebook_lines(notebook), notebook.name)
    for module in sorted((ROOT / "adamref" / "lab").glob("*.py")):
        found += unmarked_picks(module.read_text().splitlines(), f"adamref/lab/{module.name}")
    assert not found, ("pick a tuned value with adamref.problems.tune, or mark a lookup "
                       "'# not tuning: <what it finds>':\n" + "\n".join(found))


def test_the_check_sees_an_unmarked_pick():
    lines = ["best = lrs[np.argmin(losses)]", "i = np.argmin(abs(x - 1))  # not tuning: lookup"]
    assert unmarked_picks(lines, "x") == ["x:1: best = lrs[np.argmin(losses)]"]
