"""Permissible warpage over reflow, by ball pitch (JEITA ED-7306 Table 1), and pass/fail of a curve.

The table and every rule used when the package is not exactly a row are in
``reliability/data/warpage_limits.toml`` with their sources and confidence
labels (docs/warpage_limits.md).  ED-7306 limits |w| whatever the sign, at
every temperature of the profile, heating and cooling.  What it limits is
the full-surface warpage of the terminal side; a 2D section sees one line
through the package, which the summary states next to the verdict.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Limit:
    limit_um: float
    pitch_mm: float  # the package's ball pitch
    row_pitch_mm: float  # the ED-7306 row used
    label: str  # confidence of the row (C, S) or U when a rule of ours chose it
    source: str
    flag: str  # "" or why the row is not an exact match

    def to_json(self) -> dict:
        return {"standard": "JEITA ED-7306 Table 1", "limit_um": self.limit_um, "ball_pitch_mm": self.pitch_mm,
                "table_pitch_mm": self.row_pitch_mm, "label": self.label, "source": self.source,
                "note": self.flag or "exact table row"}


def _table() -> dict:
    return tomllib.loads(resources.files("reliability").joinpath("data/warpage_limits.toml").read_text("utf-8"))


def jeita_limit(pitch_mm: float | None) -> Limit | None:
    """The ED-7306 limit for a ball-grid package of ``pitch_mm`` (None: no balls, no limit)."""
    if pitch_mm is None:
        return None
    rows = sorted(_table()["jeita_ed7306"], key=lambda r: r["pitch_mm"])
    pitches = [r["pitch_mm"] for r in rows]
    exact = [r for r in rows if abs(r["pitch_mm"] - pitch_mm) < 1e-9]
    if exact:
        row, flag = exact[0], ""
    elif pitch_mm < pitches[0]:
        row, flag = rows[0], f"{pitch_mm:g} mm pitch is below ED-7306 Table 1: the {pitches[0]:g} mm row (rule, U)"
    elif pitch_mm > pitches[-1]:
        row, flag = rows[-1], f"{pitch_mm:g} mm pitch is above ED-7306 Table 1: the {pitches[-1]:g} mm row (rule, U)"
    else:
        row = [r for r in rows if r["pitch_mm"] < pitch_mm][-1]
        flag = f"{pitch_mm:g} mm pitch is between rows: the next smaller, {row['pitch_mm']:g} mm (rule, U)"
    label = row["label"] if not flag else "U"
    return Limit(float(row["limit_um"]), float(pitch_mm), float(row["pitch_mm"]), label, ", ".join(row["source"]),
                 flag)


def judge(curve: list[dict], limit: Limit | None) -> list[dict]:
    """``curve`` points with ``limit_um`` and ``pass`` added (None without a limit)."""
    out = []
    for p in curve:
        q = dict(p)
        q["limit_um"] = None if limit is None else limit.limit_um
        q["pass"] = None if limit is None else bool(abs(p["warpage_um"]) <= limit.limit_um)
        out.append(q)
    return out
