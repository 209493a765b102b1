"""How a notebook shows its numbers: in the prose, and in tables.

- ``Prose`` holds the values a chapter's text quotes.  The text shows one with
  the inline role ``{eval}`prose.lag`` ``: MyST-NB evaluates it when it builds
  the HTML, and jupyterlab-myst when a learner runs the markdown cell, so both
  read the number the code computed.  A value is text already formatted to the
  precision the chapter can stand behind (or an object that prints itself, such
  as ``roundoff.agreement``): a bare float is refused, so no digits of
  rounding noise reach the page.
- ``Table`` is a table of rows that renders as HTML in the book and in
  JupyterLab and as aligned text in a terminal (nbval compares both).

Imports nothing but the standard library: the computing layers may use it.
"""

from __future__ import annotations

import html
import numbers
import re
from collections.abc import Callable, Sequence


class Prose:
    """The values a chapter's text quotes, by name: ``prose.lag = f"{lag:d}"``."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
            raise TypeError(f"prose.{name} must be text formatted to the precision the "
                            f"chapter stands behind (e.g. f'{{x:.3g}}'), got the float {value!r}")
        if not isinstance(value, (str, numbers.Integral)) and type(value).__repr__ is object.__repr__:
            raise TypeError(f"prose.{name} must be text or an object that prints itself, "
                            f"got {type(value).__name__}")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # only reached when the name is missing: say which names exist
        raise AttributeError(f"prose has no value {name!r}; it has: "
                             f"{', '.join(sorted(vars(self))) or 'none yet'}")

    def __repr__(self) -> str:
        return f"Prose({', '.join(sorted(vars(self)))})"


#: A cell that holds a number (a sign, digits, a decimal point, an exponent, a
#: trailing % or ×): right-aligned in HTML.
_NUMBER = re.compile(r"^[<>≤≥~±+\-−]?\s*[0-9.]+(e[+\-−]?[0-9]+)?\s*[%×]?$")


def _cell_text(value, fmt) -> str:
    if fmt is None or isinstance(value, str):
        return str(value)
    if callable(fmt):
        return fmt(value)
    return format(value, fmt)


class Table:
    """Rows of values under column headers, each column with its format (a
    format spec such as ``".3f"``, a function, or None for ``str``)."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence], *,
                 formats: Sequence | None = None, title: str = ""):
        columns = [str(c) for c in columns]
        if not columns:
            raise ValueError("columns must name at least one column, got []")
        formats = list(formats) if formats is not None else [None] * len(columns)
        if len(formats) != len(columns):
            raise ValueError(f"formats must have one entry per column ({len(columns)}), "
                             f"got {len(formats)}")
        body = []
        for i, row in enumerate(rows):
            row = list(row)
            if len(row) != len(columns):
                raise ValueError(f"rows[{i}] has {len(row)} values for {len(columns)} "
                                 f"columns {columns}")
            body.append([_cell_text(v, f) for v, f in zip(row, formats)])
        self.columns, self.rows, self.title = columns, body, title

    def __repr__(self) -> str:
        widths = [max([len(c)] + [len(r[k]) for r in self.rows])
                  for k, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.rjust(w) for c, w in zip(self.columns, widths)))
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in self.rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # numbers right-aligned (their digits line up), text left-aligned
        def cell(tag, text):
            align = "right" if _NUMBER.match(text) else "left"
            return (f'<{tag} style="text-align:{align}; white-space:nowrap">'
                    f'{html.escape(text)}</{tag}>')
        numeric = [all(_NUMBER.match(r[k]) for r in self.rows) if self.rows else False
                   for k in range(len(self.columns))]
        head = "".join(cell("th", c) if not numeric[k] else
                       f'<th style="text-align:right; white-space:nowrap">{html.escape(c)}</th>'
                       for k, c in enumerate(self.columns))
        body = "".join("<tr>" + "".join(cell("td", v) for v in r) + "</tr>" for r in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (f'<table class="table adamref-table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def table(rows: Sequence[dict], columns: dict[str, str | Callable | None], *,
          title: str = "") -> Table:
    """A ``Table`` from dict rows: ``columns`` maps each key to its format."""
    return Table(list(columns), [[row[k] for k in columns] for row in rows],
                 formats=list(columns.values()), title=title)
