"""Content hash of a run: case, meshes, materials, the cited calibration and code version.

A result folder can be reused exactly when this hash matches the one stored
in its ``summary.json``: the same case data (TOML content, not file times),
the same mesh content for every section, the same material data for every
region, and the same code version.  Changing one material value, one
dimension or the mesh forces a new solve; touching a file does not.
"""

from __future__ import annotations

import hashlib
import json

from . import __version__


def process_solve(case) -> dict | None:
    """The process history's effective Newton tolerance and predictor flag (None without a process)."""
    if not getattr(case, "has_process", False):
        return None
    from .process import history
    from .process_case import process_tolerance

    cyc = case.spec.analysis.cycling
    return {"tolerance": process_tolerance(case, cyc.tolerance if cyc else 1e-5), "predictor": history.PREDICTOR}


def content_hash(case, sections) -> str:
    blob = {
        "version": __version__,
        "case": case.raw,
        # a calibration the case cites, by content: rewritten under the same name, the lives change
        "calibration": getattr(case.spec.fatigue.calibration_data, "sha256", None),
        # how the process history is solved (its default changed in issue 19): a result or checkpoint of the
        # other path is not this run's
        "process_solve": process_solve(case),
        "sections": [
            {
                "role": s.role,
                "mesh": s.model.fingerprint(),
                "materials": {r: m.fingerprint() for r, m in sorted(s.assignment.items())},
            }
            for s in sections
        ],
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:20]
