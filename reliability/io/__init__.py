"""Low-level output every layer may use: atomic files (:mod:`.files`) and progress lines (:mod:`.progress`).

It imports nothing else of the package, so the solvers (``fem/``, ``constitutive/``, ``analysis/``) can
checkpoint and report progress without importing upward from ``post/`` (tests/test_layering.py).
"""
