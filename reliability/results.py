"""A run's results as named metrics with units: the one flattening of ``summary.json``.

:data:`METRICS` is the registry.  Each entry names one output, its unit and
the function that reads it from a summary dict; `compare`, `sweep` and the
HTML report all flatten through :func:`metrics`, so adding an output is one
entry here.  Keys have one spelling:

* per temperature: ``warpage_um@25C``;
* per region, fatigue model, process step or reflow-curve point: ``von_mises_max_MPa[die]``,
  ``life_N63.2_cycles[darveaux]``, ``process_step_warpage_um[3 activate]``,
  ``reflow_warpage_um[heating@150C]``;
* otherwise the bare name: ``dW_critical_MPa_per_cycle``.

The module also holds :class:`Run` (a results folder and its summary) and the
comparison table of runs (:func:`table`, :func:`markdown`).  It reads dicts
only and imports nothing of the package.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

Qualifier = Optional[object]  # a temperature (C), a region or model name, or None


@dataclass(frozen=True)
class Metric:
    """One output: ``name`` (with its unit in it), ``unit`` (None for text, "1" if dimensionless),
    what it is given ``per`` ("temperature", "region", "model" or None) and ``extract``, which
    yields (qualifier, value) pairs from a summary dict.  ``key`` marks a sweep's key outputs."""

    name: str
    unit: Optional[str]
    per: Optional[str]
    extract: Callable[[dict], Iterable[tuple[Qualifier, object]]]
    key: bool = False

    def key_of(self, qualifier: Qualifier = None) -> str:
        """The flat key of this metric for ``qualifier`` (the one spelling)."""
        if self.per is None:
            return self.name
        if self.per == "temperature":
            return f"{self.name}@{qualifier:g}C"
        return f"{self.name}[{qualifier}]"

    @property
    def numeric(self) -> bool:
        return self.unit is not None


def _per_temperature(field: str):
    def extract(summary: dict):
        return [(row["T_C"], row[field]) for row in summary.get("temperatures", []) if field in row]
    return extract


def _is_3d(summary: dict) -> bool:
    return (summary.get("analysis") or {}).get("model") == "quarter_3d"


def _centre_line(summary: dict):
    """Centre-line warpage of a quarter_3d run (its ``warpage_um`` is full-surface, JESD22-B112)."""
    if not _is_3d(summary):
        return []
    return [(row["T_C"], row["warpage_centre_line_um"]) for row in summary.get("temperatures", [])
            if "warpage_centre_line_um" in row]


def _with_section_centre_line(flat: dict) -> dict:
    """A section's flat metrics with ``warpage_centre_line_um@T`` (= its warpage, a centre-line value)
    after each warpage, so that it compares with a quarter_3d twin on that row directly."""
    out = {}
    for k, v in flat.items():
        out[k] = v
        if k.startswith("warpage_um@"):
            out["warpage_centre_line_um@" + k.split("@", 1)[1]] = v
    return out


def _von_mises_max(summary: dict):
    """Maximum over the temperatures, per region (regions sorted)."""
    vm: dict[str, float] = {}
    for row in summary.get("temperatures", []):
        for region, v in row["von_mises_max_MPa"].items():
            vm[region] = max(vm.get(region, 0.0), v)
    return [(region, vm[region]) for region in sorted(vm)]


def _critical(summary: dict) -> Optional[dict]:
    return (summary.get("cycling") or {}).get("critical_joint")


def _of_critical(read: Callable[[dict, dict], object]):
    def extract(summary: dict):
        crit = _critical(summary)
        return [(None, read(crit, summary))] if crit else []
    return extract


def _strain_per_cycle(crit: dict, summary: dict) -> float:
    joint = next(j for j in summary["cycling"]["joints"] if j["name"] == crit["name"])
    return joint["cycles"][-1][f"inelastic_strain_{crit['interface']}"]


def _lives(field: str):
    def extract(summary: dict):
        crit = _critical(summary)
        return [(model, life[field]) for model, life in crit["life"].items() if life.get("available")] if crit else []
    return extract


def _process(summary: dict) -> dict:
    return summary.get("process") or {}


def _step_warpage(summary: dict):
    """Free-package warpage at the end of each process step, keyed ``<index> <kind>``."""
    return [(f"{st['index']} {st['kind']}", st["warpage_um"]) for st in _process(summary).get("steps", [])]


def _curve(summary: dict) -> dict:
    return _process(summary).get("warpage_vs_temperature") or {}


def _reflow_points(summary: dict):
    return [(f"{p['branch']}@{p['T_C']:g}C", p["warpage_um"]) for p in _curve(summary).get("points", [])]


def _reflow_max(summary: dict):
    pts = _curve(summary).get("points", [])
    return [(None, max(abs(p["warpage_um"]) for p in pts))] if pts else []


def _reflow_verdict(summary: dict):
    c = _curve(summary)
    if not c:
        return []
    if c.get("limit") is None:
        return [(None, "no limit")]
    return [(None, f"{'pass' if c['passes'] else 'FAIL'} (ED-7306 +/-{c['limit']['limit_um']:g} um, "
                   f"{c['limit']['label']})")]


def _stress_basis(summary: dict):
    rows = summary.get("temperatures", [])
    return [(None, rows[0]["von_mises_basis"])] if rows and "von_mises_basis" in rows[0] else []


WARPAGE = Metric("warpage_um", "um", "temperature", _per_temperature("warpage_um"), key=True)
DW_CRITICAL = Metric("dW_critical_MPa_per_cycle", "MPa/cycle", None, _of_critical(lambda c, s: c["dW_MPa"]), key=True)
LIFE_N63 = Metric("life_N63.2_cycles", "cycles", "model", _lives("N63_2_cycles"), key=True)

# The order is the order of the table; neighbours with the same ``per`` are listed qualifier by
# qualifier (at -40 C: warpage, coplanarity, assembly warpage; then at 25 C: ...).
METRICS: tuple[Metric, ...] = (
    WARPAGE,
    Metric("warpage_centre_line_um", "um", "temperature", _centre_line, key=True),
    Metric("coplanarity_um", "um", "temperature", _per_temperature("coplanarity_um")),
    Metric("assembly_warpage_um", "um", "temperature", _per_temperature("assembly_warpage_um"), key=True),
    Metric("von_mises_max_MPa", "MPa", "region", _von_mises_max),
    Metric("von_mises_basis", None, None, _stress_basis),
    Metric("process_sequence", None, None, lambda s: [(None, _process(s)["sequence"])] if _process(s) else [],
           key=True),
    Metric("process_step_warpage_um", "um", "step", _step_warpage),
    Metric("reflow_warpage_um", "um", "point", _reflow_points),
    Metric("reflow_max_abs_warpage_um", "um", None, _reflow_max, key=True),
    Metric("reflow_verdict", None, None, _reflow_verdict, key=True),
    Metric("critical_joint", None, None, _of_critical(lambda c, s: f"{c['name']} ({c['interface']})"), key=True),
    Metric("critical_dnp_mm", "mm", None, _of_critical(lambda c, s: c["dnp_mm"])),
    DW_CRITICAL,
    Metric("inelastic_strain_per_cycle_critical", "1", None, _of_critical(_strain_per_cycle)),
    LIFE_N63,
    Metric("life_N1%_cycles", "cycles", "model", _lives("N1_cycles")),
)
_BY_NAME = {m.name: m for m in METRICS}


def metrics(summary: dict, key_only: bool = False) -> dict[str, object]:
    """Flat {key: value} of one summary.json; ``key_only``: a sweep's key outputs only."""
    chosen = [m for m in METRICS if m.key or not key_only]
    out: dict[str, object] = {}
    for _, group in itertools.groupby(chosen, key=lambda m: m.per):
        values = [(m, dict(m.extract(summary))) for m in group]
        for q in dict.fromkeys(q for _, v in values for q in v):
            for m, v in values:
                if q in v:
                    out[m.key_of(q)] = v[q]
    return out


def metric_of(key: str) -> Optional[Metric]:
    """The registered metric a flat key belongs to (None for any other column name)."""
    return _BY_NAME.get(re.split(r"[@\[]", key, maxsplit=1)[0])


@dataclass
class Run:
    """A results folder: the case it came from, its name, its summary.json, and whether it was reused."""

    case_path: Path
    name: str
    folder: Path
    summary: dict
    reused: bool


def table(runs: list[Run]) -> tuple[list[str], list[list[object]]]:
    """Header and rows: metric, value per case, ratio to the first case per other case."""
    per = [metrics(r.summary) for r in runs]
    if any(_is_3d(r.summary) for r in runs):  # a section beside a 3D twin: the centre-line row for both
        per = [m if _is_3d(r.summary) else _with_section_centre_line(m) for r, m in zip(runs, per)]
    keys = list(dict.fromkeys(k for m in per for k in m))
    header = ["metric"] + [r.name for r in runs] + [f"{r.name} / {runs[0].name}" for r in runs[1:]]
    rows = []
    for k in keys:
        vals = [m.get(k) for m in per]
        base = vals[0]
        ratios = []
        for v in vals[1:]:
            if isinstance(v, (int, float)) and isinstance(base, (int, float)) and base not in (0, None) \
                    and math.isfinite(base) and math.isfinite(v):
                ratios.append(v / base)
            elif v is not None and v == base:  # equal values, numbers or text (the same critical joint)
                ratios.append(1.0)
            else:
                ratios.append(None)
        rows.append([k] + vals + ratios)
    return header, rows


def format_value(v) -> str:
    """A table cell as text: '-' for missing, 4 significant digits, 'inf'."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return "inf" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def markdown(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(format_value(v) for v in r) + " |")
    return "\n".join(lines) + "\n"
