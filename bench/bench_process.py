"""Benchmark: the process history of the default fan-out case, and the main job with and without it.

    python bench/bench_process.py                    # process steps per section + 2 alternating main-job pairs
    python bench/bench_process.py --pairs 3          # more alternations
    python bench/bench_process.py --steps-only       # the process table only (no cycling runs)
    python bench/bench_process.py --max-step-K 5 10 20   # convergence and cost of the ramp increment
    python bench/bench_process.py --all-points [CASE]    # built-points-only update against all points

The main job is ``cases/fan_out_exposed.toml`` (claimed process, then 3 JEDEC G
cycles); its reference is ``cases/fan_out_exposed_single_sft.toml``, the same
case with one stress-free temperature (round 1).  Each run starts from a fresh
results folder with the meshes built once beforehand, and the two cases
alternate so both see the same machine load.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from reliability.case import read_toml
from reliability.run import run_case
from reliability.sweep import to_toml

REPO = Path(__file__).resolve().parent.parent
MAIN = REPO / "cases" / "fan_out_exposed.toml"
SINGLE = REPO / "cases" / "fan_out_exposed_single_sft.toml"


def _variant(case: Path, work: Path, tag: str, overrides: dict) -> Path:
    """A copy of ``case`` with dotted keys set (value None: the key removed); same case name, so the
    cached meshes are reused."""
    raw = read_toml(case)
    for key, value in overrides.items():
        *head, last = key.split(".")
        table = raw
        for part in head:
            table = table.setdefault(part, {})
        if value is None:
            table.pop(last, None)
        else:
            table[last] = value
    path = work / f"{tag}.toml"
    path.write_text(to_toml(raw))
    return path


def _run(case: Path, work: Path, tag: str, overrides: dict | None = None) -> tuple[dict, float]:
    if overrides:
        case = _variant(case, work, tag, overrides)
    t0 = time.perf_counter()
    summary = run_case(case, work / tag, progress=False, mesh_dir=work / "meshes")
    return summary, time.perf_counter() - t0


def process_table(summary: dict) -> list[str]:
    lines = ["| section | dofs | steps | process wall (s) | warpage at the end (um) |", "|---|---|---|---|---|"]
    for role, sec in summary["process"]["sections"].items():
        lines.append(f"| {role} | {sec['dofs']:,} | {len(sec['steps'])} | {sec['wall_time_s']:.1f} | "
                     f"{sec['steps'][-1]['warpage_um']:+.3f} |")
    return lines


SMALL_WLP = REPO / "cases" / "wlp_polyimide_land.toml"


def all_points(case: Path, pairs: int) -> None:
    """ACTIVE_ONLY on and off, alternating, on one case without cycling: the process wall and the 25 C
    warpage (which must agree)."""
    from reliability.analysis import incremental

    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; case {case.name} (process only, no cycling)")
    print("\n| pair | built points only (s) | all points (s) | ratio | warpage 25 C built / all (um) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        no_cycling = {"analysis.cycling": None}
        _run(case, work, "warm", no_cycling)
        for k in range(pairs):
            out = {}
            for flag in (True, False):
                incremental.ACTIVE_ONLY = flag
                try:
                    out[flag] = _run(case, work, f"{k}_{flag}", no_cycling)
                finally:
                    incremental.ACTIVE_ONLY = True
            w = {f: next(r["warpage_um"] for r in out[f][0]["temperatures"] if r["T_C"] == 25.0) for f in out}
            print(f"| {k + 1} | {out[True][1]:.1f} | {out[False][1]:.1f} | {out[False][1] / out[True][1]:.2f} | "
                  f"{w[True]:.6g} / {w[False]:.6g} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--steps-only", action="store_true")
    ap.add_argument("--max-step-K", type=float, nargs="*", default=None)
    ap.add_argument("--all-points", nargs="?", const=str(SMALL_WLP), default=None, metavar="CASE",
                    help="process wall time with the Anand update of built points only (ACTIVE_ONLY, the "
                    "default) against every point of a partly built group (the old path), alternating; "
                    "default case: a small board-level WLP")
    args = ap.parse_args()
    if args.all_points:
        return all_points(Path(args.all_points), args.pairs)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        no_cycling = {"analysis.cycling": None}
        s, _ = _run(MAIN, work, "warm", no_cycling)  # builds and caches the meshes
        if args.max_step_K:
            print("\n| max_step_K | warpage 25 C (um) | reflow curve at 125 C, cooling (um) | process wall (s) |")
            print("|---|---|---|---|")
            for K in args.max_step_K:
                s, _ = _run(MAIN, work, f"K{K:g}", {**no_cycling, "process.max_step_K": K})
                cool = [p for p in s["process"]["warpage_vs_temperature"]["points"]
                        if p["branch"] == "cooling" and p["T_C"] == 125.0]
                wall = sum(sec["wall_time_s"] for sec in s["process"]["sections"].values())
                row = next(r for r in s["temperatures"] if r["T_C"] == 25.0)
                print(f"| {K:g} | {row['warpage_um']:.4f} | {cool[0]['warpage_um']:.4f} | {wall:.1f} |")
            return
        print("\nprocess history of the default fan-out case (claimed sequence, max_step_K 10):\n")
        print("\n".join(process_table(s)))
        if args.steps_only:
            return
        print("\n| pair | with process (s) | single stress-free temperature (s) | ratio |")
        print("|---|---|---|---|")
        for k in range(args.pairs):
            (_, t_proc), (_, t_single) = _run(MAIN, work, f"p{k}"), _run(SINGLE, work, f"s{k}")
            print(f"| {k + 1} | {t_proc:.1f} | {t_single:.1f} | {t_proc / t_single:.2f} |")


if __name__ == "__main__":
    main()
