"""Global-local thermal cycling of the fan-out package on its board (3D quarter): coarse joints in the
global model, the critical joint fine in a local model driven by the global displacements.

The default fan-out package (die exposed) with ``--balls`` balls per row of the quarter (8: the
default body's full 16 x 16 array; ``--first-ball 0`` puts a row on each symmetry plane, so
``--balls 2 --first-ball 0`` is a 3 x 3 array) on the JEDEC-style board, stress-free at 217 C,
cooled to -40 C and cycled JEDEC G (-40/125 C, 15 min ramps and dwells) ``--cycles`` times with
Anand SAC305 (reliability/analysis/submodel3d.py).  The global model meshes the joints at
``--global-joint`` mm (``--global-size`` elsewhere); the local model of ``--joint`` (default the
corner) at ``--local-joint`` mm (``--local-size`` in its block of one pitch square).

Prints: global and local dofs and times, every joint's global dW (package / board side, MPa per
cycle, last cycle) by row, column and DNP, and the local critical joint's dW.  ``--compare-full``
also cycles the full model with every joint at ``--local-joint`` (the reference the submodel
replaces; only for small arrays) and prints its dW of the same joint.

    python bench/bench_3d_submodel.py [--balls 8] [--cycles 3] [--global-joint 0.3] [--global-size 0.6]
                                      [--local-joint 0.0375] [--local-size 0.15] [--compare-full]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from reliability.analysis.profile import make_profile
from reliability.analysis.submodel3d import run_submodel_cycling
from reliability.geometry.submodel_sizes import GLOBAL_JOINT_MM, GLOBAL_LAYER_MM, GLOBAL_SIZE_MM, LOCAL_JOINT_MM, LOCAL_SIZE_MM


def full_model_dW(args, joint_name: str, profile):
    """The full model, every joint at the local model's size: (dW package, dW board, dofs, seconds)."""
    from reliability.analysis.cycling3d import joint_bands3d, run_cycling3d
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.geometry.quarter3d_assembly import build_fan_out_assembly_quarter
    from reliability.library import get_material

    t0 = time.perf_counter()
    m = build_fan_out_assembly_quarter(balls_per_half=args.balls, first_ball_mm=args.first_ball,
                                       joint_size_mm=args.local_joint, size_mm=args.full_size)
    mats = {r: get_material(v) for r, v in m.info["default_materials"].items() if r in m.region_names}
    p = InelasticProblem3D(m, mats, 217.0)
    bands = joint_bands3d(m, p.groups, p.geo.xq, p.geo.dx, 0.025)
    _, rec = run_cycling3d(p, profile, bands, log=lambda s: print("full:", s, flush=True))
    dW = dict(zip(rec.bands, rec.dW()[-1]))
    return dW[(joint_name, "package")], dW[(joint_name, "board")], p.n_dofs, time.perf_counter() - t0, rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--balls", type=int, default=8, help="balls per row of the quarter (default 8: 16 x 16)")
    ap.add_argument("--first-ball", type=float, default=None, help="first row's centre, mm (default pitch / 2)")
    ap.add_argument("--cycles", type=int, default=3, help="JEDEC G cycles after the cool-down (3)")
    ap.add_argument("--global-joint", type=float, default=GLOBAL_JOINT_MM, help="global model's joint size, mm (0.3)")
    ap.add_argument("--global-size", type=float, default=GLOBAL_SIZE_MM, help="global model's size elsewhere, mm (0.6)")
    ap.add_argument("--global-layer", type=float, default=GLOBAL_LAYER_MM, help="global model's largest layer element height, "
                    "mm (0.3)")
    ap.add_argument("--local-joint", type=float, default=LOCAL_JOINT_MM, help="local model's joint size, mm (0.0375: converged, docs/3d.md)")
    ap.add_argument("--local-size", type=float, default=LOCAL_SIZE_MM, help="local model's size in its block, mm (0.15)")
    ap.add_argument("--joint", default="corner", help="the local joint: a name (solder_7), 'corner' (default) or "
                    "'critical' (the global model's largest dW)")
    ap.add_argument("--also", action="append", default=[], help="a further local joint driven by the same global "
                    "run (repeatable; as --joint)")
    ap.add_argument("--compare-full", action="store_true", help="also cycle the full fine model (small arrays)")
    ap.add_argument("--full-size", type=float, default=0.3, help="full fine model's size away from the joints (0.3)")
    args = ap.parse_args()
    profile = make_profile(-40.0, 125.0, 15.0, 15.0, args.cycles, 217.0)
    t0 = time.perf_counter()
    r = run_submodel_cycling(profile, balls_per_half=args.balls, first_ball_mm=args.first_ball, joint=args.joint,
                             global_joint_size_mm=args.global_joint, global_size_mm=args.global_size,
                             global_layer_size_mm=args.global_layer,
                             local_joint_size_mm=args.local_joint, local_size_mm=args.local_size,
                             extra_joints=args.also, log=lambda s: print(s, flush=True))
    wall = time.perf_counter() - t0
    gm, lm, grec = r.global_model, r.local_model, r.global_record
    info = {j["name"]: j for j in gm.info["joints"]}
    rows = {}
    for (j, side), w in r.global_dW.items():
        rows.setdefault(j, {})[side] = w
    xs = gm.info["ball_positions_mm"]
    n_row = 2 * len(xs) - (1 if xs[0] == 0 else 0)
    print(f"\nmachine: {platform.node()}, {os.cpu_count()} cores; {n_row} x {n_row} array, {args.balls} balls per row "
          f"of the quarter, {args.cycles} JEDEC G cycles after the cool-down from 217 C")
    print("\n| model | joint size mm | size mm | tetrahedra | dofs | solder points | mesh s | cycling s |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, m, js, sz, dofs, mesh_s, cyc_s in (
            [("global", gm, args.global_joint, args.global_size, r.global_dofs, r.global_mesh_s, r.global_s)]
            + [("local " + loc.model.info["global_joint"], loc.model, args.local_joint, args.local_size, loc.dofs,
                loc.mesh_s, loc.s) for loc in r.locals]):
        n_sol = sum(len(j["elements"]) for j in m.info["joints"]) * 4
        print(f"| {name} | {js:g} | {sz:g} | {m.n_elements} | {dofs} | {n_sol} | {mesh_s:.1f} | {cyc_s:.1f} |")
    print(f"\ntotal {r.total_s:.1f} s ({r.total_s / 60:.2f} min; the issue's target 10 min: "
          f"{'met' if r.total_s <= 600 else 'NOT met'}); interpolation {r.interpolation_s:.2f} s")
    print(f"global: {grec.increments} increments, {grec.cutbacks} cut-backs, cool-down "
          f"{grec.cycle_wall_s[0]:.1f} s, cycles " + ", ".join(f"{w:.1f}" for w in grec.cycle_wall_s[1:]) + " s")
    for loc in r.locals:
        print(f"local {loc.model.info['global_joint']}: {loc.record.increments} increments, {loc.record.cutbacks} "
              "cut-backs, per cycle end " + ", ".join(f"{w:.1f}" for w in loc.record.cycle_wall_s) + " s")
    print("\n| joint | row | col | DNP mm | global dW package MPa | global dW board MPa |\n|---|---|---|---|---|---|")
    for j in sorted(rows, key=lambda n: (info[n]["dnp_mm"], info[n]["row"], info[n]["col"])):
        w = rows[j]
        print(f"| {j} | {info[j]['row']} | {info[j]['col']} | {info[j]['dnp_mm']:.3f} | "
              f"{w.get('package', float('nan')):.4f} | {w.get('board', float('nan')):.4f} |")
    crit = max(rows, key=lambda n: max(rows[n].values()))
    name = lm.info["global_joint"]
    print(f"\nglobal model's largest dW: {crit} (row {info[crit]['row']}, col {info[crit]['col']}); local joint {name}")
    print(f"local {name}: dW package {r.dW_package:.4f} MPa, board {r.dW_board:.4f} MPa per cycle (global coarse: "
          f"{rows[name].get('package', float('nan')):.4f} / {rows[name].get('board', float('nan')):.4f}); "
          "per cycle " + ", ".join(f"{a:.4f}/{b:.4f}" for a, b in r.dW_history()))
    for loc in r.locals[1:]:
        n2 = loc.model.info["global_joint"]
        print(f"local {n2} (row {info[n2]['row']}, col {info[n2]['col']}, DNP {info[n2]['dnp_mm']:.3f} mm): dW package "
              f"{loc.dW_package:.4f}, board {loc.dW_board:.4f} MPa per cycle (global coarse: "
              f"{rows[n2].get('package', float('nan')):.4f} / {rows[n2].get('board', float('nan')):.4f})")
    if args.compare_full:
        fp, fb, fdofs, fs, frec = full_model_dW(args, name, profile)
        print(f"full fine model (every joint {args.local_joint:g} mm, size {args.full_size:g}): {fdofs} dofs, "
              f"{fs:.1f} s; {name} dW package {fp:.4f}, board {fb:.4f} MPa per cycle")
        print(f"local / full: package {r.dW_package / fp:.4f}, board {r.dW_board / fb:.4f}; "
              f"global coarse / full: package {rows[name]['package'] / fp:.4f}, board {rows[name]['board'] / fb:.4f}")
        fh = frec.dW()[:, [frec.bands.index((name, "package")), frec.bands.index((name, "board"))]]
        gh = grec.dW()[:, [grec.bands.index((name, "package")), grec.bands.index((name, "board"))]]
        print("\n| cycle | full dW package | local | local / full | global coarse | coarse / full | full dW board | "
              "local | local / full | global coarse | coarse / full |\n|---|---|---|---|---|---|---|---|---|---|---|")
        for c, (f, loc, gl) in enumerate(zip(fh, r.dW_history(), gh)):
            print(f"| {c + 1} | " + " | ".join(f"{f[k]:.4f} | {loc[k]:.4f} | {loc[k] / f[k]:.4f} | {gl[k]:.4f} | "
                                                f"{gl[k] / f[k]:.4f}" for k in (0, 1)) + " |")
    print(f"wall {wall:.1f} s")


if __name__ == "__main__":
    main()
