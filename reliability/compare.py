"""`reliability compare`: variants side by side, on the same scales.

Each case is run, or its results are reused when the folder's summary.json
carries the same content hash (case data, meshes, materials, code version;
:mod:`reliability.provenance`).  The comparison table lists, per case and as a
ratio to the first case: warpage and coplanarity at every reported
temperature, the maximum von Mises stress of every region, and from thermal
cycling the critical joint, its dW, inelastic strain per cycle and life per
fatigue model (the metrics of :mod:`reliability.results`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .case import load_case
from .errors import CaseError
from .post.files import atomic_write_json, atomic_write_text
from .provenance import content_hash
from .results import DW_CRITICAL, LIFE_N63, WARPAGE, Run, markdown, metrics, table
from .sections import MESH_DIR, sections


def ensure_run(case_path: str | Path, results_dir: Path = Path("results"), progress: bool = True,
               mesh_dir: Path = MESH_DIR, folder: Path | None = None, force: bool = False) -> Run:
    """Results of a case: reused if the stored content hash matches (unless ``force``), else solved now."""
    from .run import run_case

    case = load_case(case_path)
    folder = folder or results_dir / case.name
    if case.spec.geometry.model == "quarter_3d":  # the 3D model is its own mesh: no 2D sections to build
        from .analysis.quarter3d import is_assembly
        from .run3d import quarter_content_hash

        if is_assembly(case):
            from .run3d_cycling import assembly_content_hash

            chash = assembly_content_hash(case)
        else:
            chash = quarter_content_hash(case)
    else:
        chash = content_hash(case, sections(case, mesh_dir))
    summary_path = folder / "summary.json"
    if summary_path.is_file() and not force:
        try:
            old = json.loads(summary_path.read_text())
        except (OSError, json.JSONDecodeError):
            old = {}
        cyc = old.get("cycling")
        complete = cyc is None or cyc.get("status") == "complete"
        if old.get("content_hash") == chash and complete:
            return Run(Path(case_path), case.name, folder, old, True)
    summary = run_case(case_path, folder, progress=progress, mesh_dir=mesh_dir)
    return Run(Path(case_path), case.name, folder, summary, False)


def _temperatures(run: Run) -> list[float]:
    return [row["T_C"] for row in run.summary["temperatures"]]


def check_comparable(runs: list[Run]) -> None:
    first = runs[0]
    for other in runs[1:]:
        # a 3D assembly run has cycling only (no warpage rows): its temperatures do not constrain
        rows = _temperatures(first) and _temperatures(other)
        if rows and _temperatures(other) != _temperatures(first):
            raise CaseError(
                f"{other.case_path}: analysis.temperatures_C = {_temperatures(other)} differs from "
                f"{first.case_path} ({_temperatures(first)}); compared cases must report the same temperatures"
            )
        a, b = first.summary.get("cycling"), other.summary.get("cycling")
        quarter = any((r.summary.get("analysis") or {}).get("model") == "quarter_3d" for r in (first, other))
        if (a is None) != (b is None) and not quarter:  # a quarter_3d twin has no cycling yet: its warpage compares
            raise CaseError(f"{other.case_path}: only one of the compared cases has [analysis.cycling]; "
                            "compare cycling cases with cycling cases")
        if a and b and (a["profile"]["t_min_C"], a["profile"]["t_max_C"]) != (b["profile"]["t_min_C"],
                                                                              b["profile"]["t_max_C"]):
            raise CaseError(f"{other.case_path}: cycling between {b['profile']['t_min_C']:g} and "
                            f"{b['profile']['t_max_C']:g} C differs from {first.case_path}; "
                            "compared cases must use the same thermal cycle")


def verdicts(runs: list[Run]) -> list[str]:
    """One sentence per compared case against the first: warpage at 25 C (or the first T) and life."""
    base = metrics(runs[0].summary)
    out = []
    temps = _temperatures(runs[0]) or next((_temperatures(r) for r in runs if _temperatures(r)), [25.0])
    nonzero = [t for t in temps if abs(base.get(WARPAGE.key_of(t)) or 0.0) > 1e-9]
    T = 25.0 if 25.0 in nonzero else (max(nonzero, key=lambda t: abs(base[WARPAGE.key_of(t)]))
                                      if nonzero else temps[0])
    for r in runs[1:]:
        m = metrics(r.summary)
        parts = []
        key = WARPAGE.key_of(T)
        if base.get(key) not in (None, 0) and m.get(key) is not None:
            change = 100.0 * (m[key] - base[key]) / abs(base[key])
            parts.append(f"warpage at {T:g} C {change:+.0f} % vs {runs[0].name} "
                         f"({m[key]:+.1f} vs {base[key]:+.1f} um)")
        for model in ("darveaux", "syed", "engelmaier"):
            k = LIFE_N63.key_of(model)
            if base.get(k) and m.get(k):
                parts.append(f"critical joint life {100.0 * (m[k] / base[k] - 1):+.0f} % ({model})")
                break
        k = "reflow_max_abs_warpage_um"
        if base.get(k) and m.get(k) is not None:
            parts.append(f"largest reflow warpage {m[k]:.1f} vs {base[k]:.1f} um ({m.get('reflow_verdict')})")
        k = DW_CRITICAL.key_of()
        if base.get(k) and m.get(k):
            parts.append(f"dW {100.0 * (m[k] / base[k] - 1):+.0f} %")
        out.append(f"{r.name}: " + "; ".join(parts) if parts else f"{r.name}: no common metric")
    return out


def compare(case_paths: list[str], out: Path, results_dir: Path = Path("results"), progress: bool = True,
            mesh_dir: Path = MESH_DIR) -> dict:
    """Run or reuse every case, then write the table, plots and report into ``out``."""
    if len(case_paths) < 2:
        raise CaseError("compare needs two or more case files")
    runs = []
    for p in case_paths:
        run = ensure_run(p, results_dir, progress, mesh_dir)
        # the same case twice (a self-comparison) is fine; two different cases with one name are not
        same = [r for r in runs if r.name == run.name]
        if same and any(Path(r.case_path).resolve() != Path(p).resolve() for r in same):
            raise CaseError(f"{p}: case.name = {run.name!r} is also the name of {same[0].case_path}; "
                            "compared cases need different names (they share results/<name>)")
        if same:
            run = Run(run.case_path, f"{run.name}#{len(same) + 1}", run.folder, run.summary, True)
        runs.append(run)
    check_comparable(runs)
    header, rows = table(runs)
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf).writerows([header] + [[("" if v is None else v) for v in r] for r in rows])
    atomic_write_text(out / "comparison.csv", buf.getvalue())
    atomic_write_text(out / "comparison.md", markdown(header, rows))
    result = {
        "cases": [{"name": r.name, "case_file": str(r.case_path), "results": str(r.folder), "reused": r.reused,
                   "content_hash": r.summary.get("content_hash")} for r in runs],
        "columns": header,
        "rows": rows,
        "verdicts": verdicts(runs),
    }
    from .post.compare_plots import comparison_plots

    result["plots"] = comparison_plots(runs, out)
    atomic_write_json(out / "comparison.json", result)
    from .post.report import write_report

    write_report(out / "report.html", runs, header, rows, result["verdicts"], result["plots"], out)
    return result
