"""``tests/reference/problem.py`` (the gradient oracle the framework fixtures
were recorded on), loaded by path: that folder is not a package and is not
collected.  The replay tests import ``problem`` from here."""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parent.parent / "reference" / "problem.py"
_spec = importlib.util.spec_from_file_location("reference_problem", _PATH)
problem = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(problem)
