"""Progress of long runs: a bar on a terminal, one line per step or cycle otherwise (CI, logs, cluster jobs).

The helpers live in :mod:`reliability.io.progress` (low enough for the solvers to report with them);
they are re-exported here for the callers above ``analysis/``.
"""

from __future__ import annotations

from ..io.progress import LOG, on_terminal, progress_line

__all__ = ["LOG", "on_terminal", "progress_line"]
