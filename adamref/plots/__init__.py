"""Figures and explorers: one module per chapter, named after its notebook, plus
``style`` and ``widgets``.  The only modules that import matplotlib or ipywidgets;
they draw what ``adamref.lab`` computes."""
