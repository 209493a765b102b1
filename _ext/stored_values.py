"""The HTML book shows what the notebooks store, as a learner's JupyterLab does.

With ``execute_notebooks: "off"`` MyST-NB renders each code cell's stored
outputs, but it evaluates ``{eval}`` roles only against a live kernel (its
inline mode).  Here its "off" client answers them from the values stored in
each markdown cell's ``metadata.user_expressions`` instead: the same values
jupyterlab-myst shows before the notebook runs.

``tools/store_outputs.py`` writes both the outputs and these values from one
fresh run, and three tests keep them fresh, so the book does not run every
notebook a third time:

- nbval: every stored output equals a fresh run's;
- tests/test_jupyterlab.py: after *Run All*, every ``{eval}`` value reads as stored;
- tests/test_notebook_sources.py: every notebook was stored with the current
  ``adamref`` code and its own current code cells (else its figures, which
  nbval does not compare, could be stale).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from myst_nb import sphinx_
from myst_nb.core.execute import NotebookClientBase, create_client
from myst_nb.core.execute.base import EvalNameError


class StoredValuesClient(NotebookClientBase):
    """MyST-NB's client for a notebook that is not executed, whose ``{eval}``
    roles read the values stored in the markdown cells."""

    def __init__(self, notebook, path, nb_config, logger):
        super().__init__(notebook, path, nb_config, logger)
        self._stored: dict[str, dict] = {}
        for cell in notebook.cells:
            for entry in cell.get("metadata", {}).get("user_expressions", []):
                name, result = entry["expression"], entry["result"]
                if self._stored.setdefault(name, result) != result:
                    raise ValueError(f"{path}: {name!r} is stored with two different values; "
                                     "run tools/store_outputs.py")

    def eval_variable(self, name: str) -> list:
        if not re.match(self.nb_config.eval_name_regex, name):
            raise EvalNameError(name)
        result = self._stored.get(name)
        if result is None:
            raise KeyError(f"no stored value: run tools/store_outputs.py on {self.path}")
        if result.get("status") != "ok":
            return [nbformat.v4.new_output("error", ename=result.get("ename", ""),
                                           evalue=result.get("evalue", ""), traceback=[])]
        return [nbformat.v4.new_output("display_data", data=result["data"],
                                       metadata=result.get("metadata", {}))]


def _create_client(notebook, source, nb_config, logger, read_fmt=None):
    if nb_config.execution_mode == "off":
        path = Path(source)
        return StoredValuesClient(notebook, path if path.is_file() else None, nb_config, logger)
    return create_client(notebook, source, nb_config, logger, read_fmt)


def setup(app):
    # myst_nb.sphinx_ looks the function up at each page: the parser's own hook
    sphinx_.create_client = _create_client
    return {"parallel_read_safe": True, "parallel_write_safe": True}
