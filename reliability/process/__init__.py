"""Process history: the fabrication sequence as analysis steps over one evolving state.

:mod:`.steps` holds the step kinds (ramp, dwell, activate, deactivate, cure,
reflow, evaluate) and their registry; :mod:`.history` runs them over one
:class:`~reliability.analysis.incremental.State` with element birth and
removal (:mod:`reliability.analysis.birth`).
"""
