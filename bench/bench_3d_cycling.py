"""Thermal cycling of the fan-out package on its board as a 3D quarter model: each joint's dW and the cost.

The default fan-out package (die exposed) with ``--balls`` balls per row of the
quarter (2: a 4 x 4 array; 8: the default body's full 16 x 16 array) on the
JEDEC-style board, meshed by reliability/geometry/quarter3d_assembly.py
(``--joint-size`` in and near the balls, ``--size`` elsewhere), stress-free
at 217 C (no process history in 3D yet), cooled to -40 C and cycled
JEDEC G (-40/125 C, 15 min ramps and dwells) ``--cycles`` times with Anand
SAC305 and bilinear copper (reliability/analysis/inelastic3d.py,
cycling3d.py).  Prints every joint's Darveaux band dW (package and board
side) in the last cycle, by row, column and DNP, and the cost: dofs,
increments, residual evaluations, factorizations, seconds per cycle.

    python bench/bench_3d_cycling.py [--balls 2] [--joint-size 0.1] [--size 0.3] [--cycles 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from reliability.analysis.cycling3d import joint_bands3d, run_cycling3d
from reliability.analysis.inelastic3d import InelasticProblem3D
from reliability.analysis.profile import make_profile
from reliability.geometry.quarter3d_assembly import build_fan_out_assembly_quarter
from reliability.library import get_material


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--balls", type=int, default=2, help="balls per row of the quarter (default 2)")
    ap.add_argument("--joint-size", type=float, default=0.1, help="element size in the joints, mm (0.1)")
    ap.add_argument("--size", type=float, default=0.3, help="element size elsewhere, mm (0.3)")
    ap.add_argument("--cycles", type=int, default=1, help="JEDEC G cycles after the cool-down (1)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    m = build_fan_out_assembly_quarter(balls_per_half=args.balls, joint_size_mm=args.joint_size, size_mm=args.size)
    t_mesh = time.perf_counter() - t0
    mats = {r: get_material(v) for r, v in m.info["default_materials"].items() if r in m.region_names}
    p = InelasticProblem3D(m, mats, 217.0)
    bands = joint_bands3d(m, p.groups, p.geo.xq, p.geo.dx, 0.025)
    prof = make_profile(-40.0, 125.0, 15.0, 15.0, args.cycles, 217.0)
    _, rec = run_cycling3d(p, prof, bands, log=lambda s: print(s, flush=True))
    dW = rec.dW()[-1]
    info = {j["name"]: j for j in m.info["joints"]}
    print(f"\nmachine: {platform.node()} {os.cpu_count()} cores; balls per row of the quarter {args.balls}, "
          f"joint size {args.joint_size} mm, size {args.size} mm")
    print(f"mesh {m.n_elements} tets, {p.n_dofs} dofs, {t_mesh:.1f} s; solder points "
          f"{sum(g.elements.size for g in p.groups if 'Anand' in type(g.law).__name__) * p.Q}")
    print("\n| joint | row | col | DNP mm | dW package MPa | dW board MPa |\n|---|---|---|---|---|---|")
    rows = {}
    for (j, side), w in zip(rec.bands, dW):
        rows.setdefault(j, {})[side] = w
    for j in sorted(rows, key=lambda n: info[n]["dnp_mm"]):
        r = rows[j]
        print(f"| {j} | {info[j]['row']} | {info[j]['col']} | {info[j]['dnp_mm']:.3f} | "
              f"{r.get('package', float('nan')):.4f} | {r.get('board', float('nan')):.4f} |")
    crit = max(rows, key=lambda n: max(rows[n].values()))
    print(f"\ncritical joint {crit} (row {info[crit]['row']}, column {info[crit]['col']}, DNP "
          f"{info[crit]['dnp_mm']:.3f} mm), dW {max(rows[crit].values()):.4f} MPa/cycle")
    print(f"increments {rec.increments}, evaluations {p.iterations}, factorizations {p.newton_steps}, cut-backs "
          f"{rec.cutbacks}; wall {rec.wall_s:.1f} s: cool-down {rec.cycle_wall_s[0]:.1f} s, cycles "
          + ", ".join(f"{w:.1f}" for w in rec.cycle_wall_s[1:]) + " s")


if __name__ == "__main__":
    main()
