"""Progress of long runs: a bar on a terminal, one line per step or cycle otherwise (CI, logs, cluster jobs).

Lines go to stderr with a time stamp and to the ``reliability`` logger, so a job's log shows where a
long run is without a terminal.
"""

from __future__ import annotations

import logging
import sys
import time

LOG = logging.getLogger("reliability")


def on_terminal() -> bool:
    """Whether stderr is a terminal (then a progress bar; otherwise lines)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_line(message: str) -> None:
    """One time-stamped progress line on stderr and in the log."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
    LOG.info(message)
