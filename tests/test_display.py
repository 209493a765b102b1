"""``adamref.display``: the values the prose quotes, and tables."""

import numpy as np
import pytest

from adamref.display import Prose, Table, table
from adamref.roundoff import agreement


def test_prose_holds_text_and_objects_that_print_themselves():
    prose = Prose()
    prose.lag = "22"
    prose.count = 3
    prose.gap = agreement(np.ones(3), np.ones(3) + 1e-16)
    assert prose.lag == "22" and prose.count == 3 and "within" in str(prose.gap)
    assert repr(prose) == "Prose(count, gap, lag)"


@pytest.mark.parametrize("value", [0.1, np.float64(2.5), np.float32(1.0)])
def test_prose_refuses_a_bare_float(value):
    prose = Prose()
    with pytest.raises(TypeError, match=r"prose.x must be text formatted .* got the float"):
        prose.x = value
    assert "x" not in vars(prose)


def test_prose_refuses_objects_without_a_printed_form_and_names_missing_values():
    prose = Prose()
    with pytest.raises(TypeError, match="prose.x must be text or an object that prints itself"):
        prose.x = object()
    prose.a = "1"
    with pytest.raises(AttributeError, match="prose has no value 'b'; it has: a"):
        prose.b


def test_table_renders_text_and_html_with_formats():
    t = Table(["name", "loss"], [("Adam", 1.23456), ("SGD", 2e-9)], formats=[None, ".3g"],
              title="Final loss")
    assert repr(t).splitlines() == ["Final loss", "name   loss", "Adam   1.23", " SGD  2e-09"]
    page = t._repr_html_()
    assert "<caption>Final loss</caption>" in page and page.count("<tr>") == 3
    assert '<td style="text-align:right; white-space:nowrap">1.23</td>' in page
    assert '<td style="text-align:left; white-space:nowrap">Adam</td>' in page


def test_table_from_dict_rows_and_its_checks():
    t = table([{"a": 1, "b": 0.5}], {"a": "d", "b": ".2f"})
    assert t.rows == [["1", "0.50"]]
    with pytest.raises(ValueError, match=r"rows\[0\] has 1 values for 2 columns"):
        Table(["a", "b"], [(1,)])
    with pytest.raises(ValueError, match="formats must have one entry per column"):
        Table(["a", "b"], [(1, 2)], formats=["d"])
    with pytest.raises(ValueError, match="columns must name at least one column"):
        Table([], [])
