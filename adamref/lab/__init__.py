"""Each chapter's computations, one module per chapter, named after its notebook
(NumPy, ``adamref.optim`` and ``adamref.problems``; no plotting)."""
