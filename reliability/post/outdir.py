"""The output folder of a run: checked before anything is solved, and held by one run at a time.

A folder that cannot be written (an existing file, a path under a file, a read-only or virtual file
system) is refused in one line before the mesh is built.  While a run writes, ``OUT/.running`` holds
its process id; a second run into the same folder is refused while that process lives (a stale lock
of a killed run is taken over).
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from ..errors import CaseError

LOCK = ".running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_writable(out: Path) -> None:
    """Create ``out`` if needed and prove a file can be written there; one-line CaseError otherwise."""
    for parent in [out, *out.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == out else f"lies under the file {parent}"
            raise CaseError(f"--out {out}: {what}; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".probe_{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CaseError(f"--out {out}: cannot write there ({exc.strerror or type(exc).__name__}); "
                        "give a writable folder") from None


@contextlib.contextmanager
def claimed(out: Path):
    """Hold ``out`` for this run (``OUT/.running`` with the pid); refuse if a live run holds it."""
    check_writable(out)
    lock = out / LOCK
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            host, _, pid = lock.read_text().strip().rpartition(":")
            pid = int(pid or 0)
        except (OSError, ValueError):
            host, pid = "", 0
        # a lock from another host (a Dask worker elsewhere) cannot be checked: a retried task takes it over
        if pid and host == socket.gethostname() and pid != os.getpid() and _alive(pid):
            raise CaseError(f"--out {out}: another run (pid {pid}) is writing there; wait for it or give "
                            f"another folder (remove {lock} if that process is not a reliability run)") from None
        lock.unlink(missing_ok=True)  # stale: the run that held it is gone
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{socket.gethostname()}:{os.getpid()}")
    try:
        yield out
    finally:
        lock.unlink(missing_ok=True)
