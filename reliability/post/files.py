"""Atomic file output: a reader never sees a half-written result.

The helpers live in :mod:`reliability.io.files` (low enough for the solvers to checkpoint with them);
they are re-exported here for the callers above ``analysis/``.
"""

from __future__ import annotations

from ..io.files import atomic_save_figure, atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["atomic_save_figure", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]
