"""Benchmark: the default fan-out board-level case, 3 JEDEC G cycles with Anand solder.

    python bench/bench_cycling.py [case ...]
    python bench/bench_cycling.py --joint-size-mm 0.0125     # the same case, coarser joint layers
    python bench/bench_cycling.py --cycles 1 --profile        # where one cycle's time goes
    python bench/bench_cycling.py --set analysis.cycling.increments_per_ramp=6   # any case key
    python bench/bench_cycling.py --phases                    # wall time of each stage of the run
    python bench/bench_cycling.py --bfgs-contraction 0.5      # a solver constant that is no case key

Runs each case from scratch (fresh mesh cache and results folder) and prints
its size, increments, Newton iterations, factorizations, the solver and the
wall times of the whole run and of the cycling part.  The overrides are
written into a copy of the case (``reliability.sweep.case_variant``), so
the run is the one a user would get with that key in the case file.
``--bfgs-contraction`` and ``--workers`` set the module constants
``analysis.incremental.BFGS_CONTRACTION`` and ``MAX_WORKERS`` instead (no
case key: they change how fast, not what is computed, beyond the
tolerance's scatter).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import platform
import pstats
import tempfile
import time
import tomllib
from pathlib import Path

import reliability.analysis.incremental as incremental
from reliability.run import run_case
from reliability.sweep import case_variant

REPO = Path(__file__).resolve().parent.parent

# (module, function, stage): the stages --phases times, each the wall time spent inside that function
PHASES = (
    ("reliability.geometry", "build_model", "meshing"),
    ("reliability.analysis.thermoelastic", "ThermoElasticProblem.solve", "thermo-elastic solves"),
    ("reliability.run", "_write_fields", "VTU files"),
    ("reliability.run", "_write_plots", "field plots"),
    ("reliability.analysis.cycling", "CyclingRun.run", "cycling"),
    ("reliability.run", "_write_cycling_files", "cycling CSVs and plots"),
)


def time_phases() -> dict[str, float]:
    """Wrap the PHASES functions to add their wall time to the returned dict (stage -> s)."""
    import importlib

    spent: dict[str, float] = collections.defaultdict(float)
    for module, name, stage in PHASES:
        owner = importlib.import_module(module)
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = getattr(owner, attr)

        def timed(*args, _fn=fn, _stage=stage, **kwargs):
            t = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[_stage] += time.perf_counter() - t

        setattr(owner, attr, functools.wraps(fn)(timed))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=[str(REPO / "cases" / "fan_out_exposed.toml")])
    parser.add_argument("--cycles", type=int, help="override analysis.cycling.cycles")
    parser.add_argument("--joint-size-mm", type=float, help="override mesh.joint_size_mm")
    parser.add_argument("--solver", help="override analysis.solver (pardiso, cholmod, superlu, amg)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any case key, e.g. --set analysis.cycling.increments_per_ramp=8 (repeatable)")
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest functions (cProfile)")
    parser.add_argument("--phases", action="store_true",
                        help="print the wall time of each stage (meshing, thermo-elastic solves, plots, cycling ...)")
    parser.add_argument("--bfgs-contraction", type=float,
                        help=f"refactorize when a BFGS step leaves more than this of the residual "
                             f"(default {incremental.BFGS_CONTRACTION})")
    parser.add_argument("--workers", type=int, help="threads for the inelastic points (default: the core count, at most "
                                                   f"{incremental.MAX_WORKERS})")
    args = parser.parse_args()
    if args.bfgs_contraction is not None:
        incremental.BFGS_CONTRACTION = args.bfgs_contraction
        print(f"BFGS contraction {args.bfgs_contraction}")
    if args.workers is not None:
        incremental.MAX_WORKERS = args.workers
        print(f"workers {args.workers}")
    spent = time_phases() if args.phases else None
    overrides = {k: v for k, v in (("analysis.cycling.cycles", args.cycles), ("mesh.joint_size_mm", args.joint_size_mm),
                                   ("analysis.solver", args.solver)) if v is not None}
    for item in args.set:
        key, _, value = item.partition("=")
        try:  # a TOML value (number, boolean, array, quoted string), else a bare string
            overrides[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key.strip()] = value.strip()
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, python {platform.python_version()}")
    if overrides:
        print("overrides: " + ", ".join(f"{k} = {v}" for k, v in overrides.items()))
    print("| case | assembly dofs | increments | Newton iterations | factorizations | cut-backs | solver | "
          "cycling s | total s | critical dW MPa |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(case).name
            path.write_text(case_variant(Path(case).resolve(), overrides))
            profiler = cProfile.Profile() if args.profile else None
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            s = run_case(path, Path(tmp) / "out", progress=False, mesh_dir=Path(tmp) / "meshes")
            if profiler:
                profiler.disable()
            total = time.perf_counter() - t
        c = s["cycling"]
        st = c["solver"]
        print(f"| {Path(case).stem} | {c['dofs']:,} | {st['increments']} | {st['newton_iterations']} | "
              f"{st['factorizations']} | {st['cutbacks']} | {st['name']} | {st['wall_time_s']:.1f} | {total:.1f} | "
              f"{c['critical_joint']['dW_MPa']:.6f} |")
        if spent is not None:
            for stage, seconds in spent.items():
                print(f"    {stage:30s} {seconds:6.2f} s")
            print(f"    {'rest (setup, fatigue, summary)':30s} {total - sum(spent.values()):6.2f} s")
            spent.clear()
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            # where the run goes, by stage (cumulative): meshing, thermo-elastic states,
            # residual evaluations, tangents, factorizations, solves, plots
            stats.sort_stats("cumulative").print_stats(
                r"assemble.py:\d+\(build_model\)|thermoelastic.py:\d+\(solve\)|incremental.py:\d+\((evaluate|tangent)\)"
                r"|(solvers|pardiso).py:\d+\((factorize|solve)\)|run.py:\d+\((_write_plots|_write_cycling_files)\)")


if __name__ == "__main__":
    main()
