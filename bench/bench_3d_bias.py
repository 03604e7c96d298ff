"""The bias of every 2D kinematics against the 3D quarter model: default fan-out free package at 25 C.

For backside = exposed and encapsulated, stress-free at 217 C (one stress-free
temperature, no process history: what the 3D path does today), 25 C:

* 3D: the quarter model (reliability/geometry/quarter3d.py) -> full-surface
  warpage (JESD22-B112) and centre-line warpage (centre minus mid-edge on y = 0);
* 2D "stack": a half section of exactly the 3D model's stack (solder mask,
  mold, die; no bumps, traces or pads), meshed like the shipped sections;
  its ratio to 3D is the kinematics' bias alone;
* 2D "family": the shipped fan_out half section (bumps, trace and pad
  copper, mask openings), i.e. what `reliability run` reports; its ratio
  also contains what the 3D model leaves out.

Ratios: section warpage / 3D centre line, and section warpage / 3D full
surface (what a shadow-moire measurement reports).

    python bench/bench_3d_bias.py [--size 0.2] [--fine]     (--fine: also the 3D model at size / 2)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from reliability.analysis.quarter3d import solve_quarter
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.analysis.warpage import surface_profile
from reliability.fem.kinematics import KINEMATICS
from reliability.geometry import fan_out
from reliability.geometry.assemble import build_model
from reliability.geometry.quarter3d import DEFAULT_MATERIALS, build_fan_out_quarter, fan_out_layers
from reliability.geometry.shapes import BODY, DIE, LAYER, Layout
from reliability.library import get_material
from reliability.run import run_case

SFT, T = 217.0, 25.0


def stack_section(backside: str, size: float = 0.05):
    """2D half section of the 3D model's stack (the same layers, the die over x < die_width / 2)."""
    opts, d = fan_out.Options(backside=backside), fan_out.Dimensions()
    W2, D2 = d.body_width / 2, d.die_width / 2
    lay = Layout(family="fan_out_stack", package_x=W2)
    for L in fan_out_layers(opts, d):
        if L["inside"] == L["outside"]:
            lay.rect(L["inside"], 0.0, L["z0"], W2, L["z1"], LAYER if L["inside"] != "mold" else BODY)
        else:
            lay.rect(L["inside"], 0.0, L["z0"], D2, L["z1"], DIE)
            lay.rect(L["outside"], D2, L["z0"], W2, L["z1"], BODY)
    lay.package_bottom_y, lay.package_top_y = 0.0, fan_out_layers(opts, d)[-1]["z1"]
    return build_model(lay, size=size, joint_size=size, interface_layer=0.025, half=True)


def section_warpage(model, kinematics: str) -> float:
    mats = {r: get_material(DEFAULT_MATERIALS[r]) for r in model.region_names}
    state = ThermoElasticProblem(model, mats, kinematics, SFT, symmetry_line="symmetry").solve(T)
    return surface_profile(model, state.u, "bottom", 0.0).warpage_um


def family_warpage(backside: str, kinematics: str, tmp: Path) -> float:
    case = tmp / f"fo_{backside}_{kinematics}.toml"
    case.write_text(f"""[case]
name = "fo_{backside}_{kinematics}"
[geometry]
family = "fan_out"
backside = "{backside}"
board = false
[process]
sequence = "none"
[analysis]
kinematics = "{kinematics}"
stress_free_temperature_C = {SFT}
temperatures_C = [{T}]
[output]
plots = false
vtu = false
""")
    s = run_case(case, tmp / case.stem, progress=False, mesh_dir=tmp / "meshes")
    return s["temperatures"][0]["warpage_um"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=float, default=0.2, help="in-plane element size of the 3D model, mm")
    ap.add_argument("--fine", action="store_true", help="also solve the 3D model at size / 2 (convergence)")
    args = ap.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for backside in ("exposed", "encapsulated"):
            sizes = [args.size] + ([args.size / 2] if args.fine else [])
            for size in sizes:
                t0 = time.perf_counter()
                model = build_fan_out_quarter({"backside": backside}, {}, size_mm=size, layer_size_mm=min(0.15, size))
                mats = {r: get_material(DEFAULT_MATERIALS[r]) for r in model.region_names}
                problem, res = solve_quarter(model, mats, SFT, [T])
                surf = res[T][1]
                wall = time.perf_counter() - t0
                print(f"3D {backside}, size {size:g} mm: {problem.n_dofs} dofs, {wall:.1f} s: full surface "
                      f"{surf.warpage_um:.3f} um, centre line {surf.centre_line_um:.3f} um, centre to corner "
                      f"{surf.centre_to_corner_um:.3f} um")
            stack = stack_section(backside)
            for kin in KINEMATICS:
                w_stack = section_warpage(stack, kin)
                w_family = family_warpage(backside, kin, tmp)
                lines.append((backside, kin, w_stack, w_family, surf.centre_line_um, surf.warpage_um))
    print()
    print(f"fan_out free package, stress-free {SFT:g} C, at {T:g} C; 3D = finest quarter model above")
    print("| backside | kinematics | 2D stack um | 2D family um | 3D centre line um | 3D full surface um "
          "| stack / 3D CL | stack / 3D full | family / 3D CL | family / 3D full |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for b, k, ws, wf, cl, full in lines:
        print(f"| {b} | {k} | {ws:.3f} | {wf:.3f} | {cl:.3f} | {full:.3f} | {ws / cl:.3f} | {ws / full:.3f} "
              f"| {wf / cl:.3f} | {wf / full:.3f} |")


if __name__ == "__main__":
    main()
