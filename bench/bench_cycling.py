"""Benchmark: the default fan-out board-level case, 3 JEDEC G cycles with Anand solder.

    python bench/bench_cycling.py [case ...]

Runs each case from scratch (fresh mesh cache and results folder) and prints
its size, increments, Newton iterations, factorizations, the solver and the
wall times of the whole run and of the cycling part.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

from reliability.run import run_case

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    cases = sys.argv[1:] or [str(REPO / "cases" / "fan_out_exposed.toml")]
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, python {platform.python_version()}")
    print("| case | assembly dofs | increments | Newton iterations | factorizations | cut-backs | solver | "
          "cycling s | total s | critical dW MPa |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            s = run_case(case, Path(tmp) / "out", progress=False, mesh_dir=Path(tmp) / "meshes")
            total = time.perf_counter() - t
        c = s["cycling"]
        st = c["solver"]
        print(f"| {Path(case).stem} | {c['dofs']:,} | {st['increments']} | {st['newton_iterations']} | "
              f"{st['factorizations']} | {st['cutbacks']} | {st['name']} | {st['wall_time_s']:.1f} | {total:.1f} | "
              f"{c['critical_joint']['dW_MPa']:.4f} |")


if __name__ == "__main__":
    main()
