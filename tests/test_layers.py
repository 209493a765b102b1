"""The package's layers, enforced: who may import whom, and no private names
across modules.

Layers, lowest first: ``optim`` (NumPy only) → ``roundoff`` and ``display`` → ``problems`` and
``keras_style`` → ``lab`` (one module per chapter) → ``plots`` (the only
modules that import matplotlib or ipywidgets).  A module may import from its
own layer and the layers below it, never from above.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import adamref

PACKAGE = Path(adamref.__file__).parent
ROOT = PACKAGE.parent

#: Each top-level part of the package and its rank (imports go to equal or lower ranks).
LAYERS = {"optim": 0, "roundoff": 1, "display": 1, "problems": 2, "keras_style": 2, "lab": 3,
          "plots": 4}
DRAWING = ("matplotlib", "ipywidgets")


def modules():
    """``(dotted name, path)`` of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def layer(dotted: str):
    """The layer a module of the package belongs to (None for ``adamref`` itself)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def imported(tree: ast.AST, module: str):
    """``(imported module, names)`` of every import in ``tree``; relative imports
    are resolved against ``module``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level] if not module.endswith("__init__") \
                    else module.split(".")
                base = ".".join(package + ([base] if base else []))
            yield base, [alias.name for alias in node.names]


MODULES = list(modules())


@pytest.mark.parametrize("dotted, path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_go_down_the_layers(dotted, path):
    own = layer(dotted)
    if own is None:          # adamref/__init__.py re-exports the optimizers
        return
    for target, names in imported(ast.parse(path.read_text()), dotted):
        top = target.split(".")[0]
        if top in DRAWING:
            assert own == "plots", f"{dotted} imports {target}: only adamref.plots may draw"
        if top != "adamref":
            continue
        targets = [target] if target != "adamref" else [f"adamref.{n}" for n in names]
        for t in targets:
            other = layer(t)
            if other is None or other not in LAYERS:     # names re-exported by adamref
                other = "optim"
            assert LAYERS[other] <= LAYERS[own], (
                f"{dotted} imports {t}: layer '{other}' is above layer '{own}'")
        if own == "optim":
            assert target == "adamref" or target.startswith("adamref.optim"), (
                f"{dotted} imports {target}: the optimizers import only NumPy and each other")


def private_uses(tree: ast.AST, where: str):
    """Private names of other modules that ``tree`` uses: ``from m import _x``,
    ``import m._x``, and ``alias._x`` where ``alias`` is an imported module."""
    module_aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("adamref"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    yield f"{where}: from {node.module} import {alias.name}"
                module_aliases.add(alias.asname or alias.name)
            if any(p.startswith("_") and p != "__future__" for p in node.module.split(".")):
                yield f"{where}: from {node.module} import ..."
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("adamref"):
                    if any(p.startswith("_") for p in alias.name.split(".")):
                        yield f"{where}: import {alias.name}"
                    module_aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            yield f"{where}: {node.value.id}.{node.attr}"


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"
                     and not "".join(c["source"]).lstrip().startswith(("%", "!")))


def test_no_module_or_notebook_uses_a_private_name_of_another_module():
    found = []
    for dotted, path in MODULES:
        found += private_uses(ast.parse(path.read_text()), dotted)
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        found += private_uses(ast.parse(notebook_code(notebook)), notebook.name)
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_computing_layers_load_neither_matplotlib_nor_ipywidgets():
    # In a fresh interpreter: this test session has matplotlib loaded already.
    computing = [m for m, _ in MODULES if layer(m) != "plots"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in computing)
            + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {DRAWING!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", f"{len(computing)} modules imported: {out.stdout}"
    assert len(computing) > 15        # the check ran on the whole computing side


def test_the_layering_check_catches_violations():
    # The checks above must be able to fail: feed them known violations.
    tree = ast.parse("from adamref.lab.moments import ema\nfrom adamref.plots import style\n"
                     "from adamref.problems.datasets import _count\n"
                     "from adamref.lab import seed_regression as sr\nsr._history(1)\n")
    assert [LAYERS[layer(t)] for t, _ in imported(tree, "adamref.optim.adam")][:2] == [3, 4]
    assert len(list(private_uses(tree, "x"))) == 2
