"""Benchmark: the cost of growth (issue 19): wall time and peak memory against the number of unknowns.

    python bench/bench_growth.py                       # linear solve at 1x 2x 4x 8x dofs, main job at 1x 2x
    python bench/bench_growth.py --linear 1 2 4 8 16   # other factors
    python bench/bench_growth.py --main 1 2 4          # the main job (process history + 3 cycles) too
    python bench/bench_growth.py --main                # no main-job rows
    python bench/bench_growth.py --sweep 8             # sweep throughput: 8 linear cases on 1 and 2 Dask workers

Each row is one run in a fresh Python process (so its peak resident memory is its own), on the default
fan-out case (``cases/fan_out_exposed.toml``) with both mesh sizes (``mesh.size_mm``,
``mesh.joint_size_mm``) divided by sqrt(factor), so the unknowns grow about ``factor`` times:

* linear: the free package and the assembly, thermo-elastic at the case's four temperatures, one
  stress-free temperature (``process.sequence = "none"``, no cycling, no plots, no VTU): meshing excluded
  (the meshes are built once before the timed run), solve and output included;
* main: the whole main job (claimed process history and 3 JEDEC G cycles) with plots, warm mesh cache.

* sweep: ``--sweep N`` linear variants of the case (die thickness 0.15-0.35 mm) as one sweep on a local
  Dask cluster of 1 and of 2 workers (meshes built once beforehand, not timed): wall time, cases per
  minute and the speed-up of 2 workers over 1.

Peak memory is the child's ``ru_maxrss``.  The table goes to bench/README.md with the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAIN = REPO / "cases" / "fan_out_exposed.toml"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from reliability.run import run_case
case, out, mesh_dir = sys.argv[1:4]
t0 = time.perf_counter()
s = run_case(case, out, progress=False, mesh_dir=Path(mesh_dir))
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                  "summary": out + "/summary.json"}))
"""


def variant(work: Path, factor: float, linear: bool, name: str | None = None) -> Path:
    from reliability.case import read_toml
    from reliability.sweep import to_toml

    raw = read_toml(MAIN)
    mesh = raw.setdefault("mesh", {})
    from reliability.case import MeshSpec

    defaults = MeshSpec()
    size = mesh.get("size_mm", defaults.size_mm)
    joint = mesh.get("joint_size_mm", defaults.joint_size_mm)
    mesh["size_mm"] = size / math.sqrt(factor)
    mesh["joint_size_mm"] = joint / math.sqrt(factor)
    mesh["max_elements"] = 50_000_000
    raw["case"]["name"] = name or f"growth_{'linear' if linear else 'main'}_{factor:g}x"
    if linear:
        raw["process"] = {"sequence": "none"}
        raw["analysis"]["stress_free_temperature_C"] = 217
        raw["analysis"].pop("cycling", None)
        raw["output"] = {"plots": False, "vtu": False}
    path = work / f"{raw['case']['name']}{'_warm' if name else ''}.toml"
    path.write_text(to_toml(raw))
    return path


def child(case: Path, out: Path, mesh_dir: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(case), str(out), str(mesh_dir)],
                          capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"{case.name}: failed\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--linear", nargs="*", type=float, default=[1, 2, 4, 8])
    ap.add_argument("--main", nargs="*", type=float, default=[1, 2])
    ap.add_argument("--sweep", type=int, default=0, metavar="N", help="sweep throughput with N cases (0: none)")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    rows = ["| run | factor | dofs (all sections) | wall (s) | s per 100k dofs | peak memory (MiB) |",
            "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind, factors in (("linear", args.linear), ("main job", args.main)):
            for f in factors:
                case = variant(work, f, kind == "linear")
                mesh_dir = work / "meshes"
                # builds the meshes (not timed): a linear run of the same case name and mesh settings
                warm = variant(work, f, linear=True, name=case.stem)
                child(warm, work / f"warm_{case.stem}", mesh_dir)
                r = child(case, work / case.stem, mesh_dir)
                s = json.loads(Path(r["summary"]).read_text())
                n = model_dofs(s)
                rows.append(f"| {kind} | {f:g}x | {n:,} | {r['wall_s']:.1f} | "
                            f"{100_000 * r['wall_s'] / max(n, 1):.2f} | {r['peak_MiB']:.0f} |")
                print(rows[-1], flush=True)
    print("\n".join(rows))
    if args.sweep:
        sweep_throughput(args.sweep)


def sweep_throughput(n: int) -> None:
    """One sweep of ``n`` linear cases on 1 and on 2 local Dask workers."""
    import time

    import numpy as np

    from reliability.sweep import run_sweep

    rows = ["| workers | cases | wall (s) | cases per minute | speed-up |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = variant(work, 1.0, linear=True)
        thick = ", ".join(f"{t:.4f}" for t in np.linspace(0.15, 0.35, n))
        sweep = work / "growth_sweep.toml"
        sweep.write_text(f'base = "{base.name}"\n[parameters]\n"geometry.dimensions_mm.die_thickness" = [{thick}]\n'
                         '[sampling]\nmethod = "grid"\n')
        out = work / "sweep"  # one folder: its meshes/ cache is built by the first run and reused
        run_sweep(sweep, out, workers=2, progress=False)
        first = None
        for workers in (1, 2):
            t0 = time.perf_counter()
            s = run_sweep(sweep, out, workers=workers, progress=False)  # resume=False: every case solved again
            wall = time.perf_counter() - t0
            first = first or wall
            rows.append(f"| {workers} | {s['complete']}/{s['cases']} | {wall:.1f} | {60 * s['complete'] / wall:.1f} | "
                        f"{first / wall:.2f} |")
            print(rows[-1], flush=True)
    print("\n".join(rows))


def model_dofs(summary: dict) -> int:
    """Unknowns of every solved section (summary.json ``sections.<role>.dofs``)."""
    return sum(int(sec.get("dofs", 0)) for sec in summary.get("sections", {}).values())


if __name__ == "__main__":
    main()
