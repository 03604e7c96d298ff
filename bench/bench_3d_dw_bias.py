"""The bias of each 2D kinematics' critical-joint dW against the 3D assembly with every ball.

The 3D reference is cases/fan_out_exposed_3d_board.toml (the default fan-out package, die exposed, with
the central 4 x 4 ball array on its board; stress-free at 217 C, no process history; JEDEC G, 3 cycles),
run or reused from results/.  Its 2D twin is the same case as a half section through the centre row
(the same package, two balls per half row, board, stress-free at 217 C, same cycling and Darveaux
bands), run in plane strain and generalized plane strain (plane stress is for elastic materials only).  Printed: each model's critical joint, its DNP and dW (last
cycle), the ratio to the 3D critical (corner) ball, and the ratio to the 3D ball at the section's
critical position (row 0, the outer column: the ball a centre-row section actually contains).

    python bench/bench_3d_dw_bias.py            (the 3D run takes 6-15 minutes when not reused)
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from reliability.compare import ensure_run
from reliability.run import run_case

ROOT = Path(__file__).resolve().parents[1]
CASE_3D = ROOT / "cases" / "fan_out_exposed_3d_board.toml"
TWIN = """[case]
name = "dw_bias_{k}"
[geometry]
family = "fan_out"
backside = "exposed"
rdl_layers = 1
bump = "solder"
board = true
half = true
[geometry.dimensions_mm]
balls_per_half = 2
[process]
sequence = "none"
[analysis]
kinematics = "{k}"
stress_free_temperature_C = 217
temperatures_C = [25]
[analysis.cycling]
jedec = "G"
cycles = 3
[fatigue]
models = ["darveaux"]
interface_layer_mm = 0.025
"""
KINEMATICS_2D = ("plane_strain", "generalized_plane_strain")  # plane stress is elastic-only


def main() -> None:
    t0 = time.perf_counter()
    ref = ensure_run(CASE_3D, ROOT / "results").summary["cycling"]
    crit3 = ref["critical_joint"]
    by_place = {(j["row"], j["col"]): j for j in ref["joints"]}
    outer = max(c for r, c in by_place if r == 0)
    same = by_place[(0, outer)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in KINEMATICS_2D:
            path = Path(tmp) / f"{k}.toml"
            path.write_text(TWIN.format(k=k))
            t = time.perf_counter()
            crit = run_case(path, Path(tmp) / k, progress=False)["cycling"]["critical_joint"]
            rows.append((k, crit, time.perf_counter() - t))
    print(f"machine: {platform.node()}, {os.cpu_count()} cores; {time.perf_counter() - t0:.0f} s in all")
    print(f"3D: critical {crit3['name']} (row {crit3['row']}, column {crit3['col']}, DNP {crit3['dnp_mm']:.3f} mm) "
          f"dW {crit3['dW_MPa']:.4f} MPa; row 0, column {outer} (DNP {same['dnp_mm']:.3f} mm) dW "
          f"{same['dW_last_cycle_MPa']:.4f} MPa")
    print("\n| 2D kinematics | critical joint (DNP mm) | dW MPa/cycle | / 3D corner ball | / 3D same ball | run s |")
    print("|---|---|---|---|---|---|")
    for k, crit, s in rows:
        print(f"| {k} | {crit['name']} ({crit['dnp_mm']:.3f}) | {crit['dW_MPa']:.4f} | "
              f"{crit['dW_MPa'] / crit3['dW_MPa']:.2f} | {crit['dW_MPa'] / same['dW_last_cycle_MPa']:.2f} | {s:.0f} |")


if __name__ == "__main__":
    main()
