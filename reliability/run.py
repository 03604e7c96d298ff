"""`reliability run`: from a case file to results on disk.

case -> model (mesh file or builder) -> materials -> solve at each temperature
-> warpage and stresses -> summary.json, fields.pvd + .vtu, PNG plots.
Every file is written atomically, so an interrupted run never leaves a
half-written result behind.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import __version__
from .analysis.thermoelastic import ThermoElasticProblem
from .analysis.warpage import surface_profile
from .assignment import check_temperature_range, resolve_materials
from .case import Case, load_case
from .errors import CaseError, MeshError
from .fem.constraints import line_orientation
from .mesh import read_msh
from .model import Model
from .post.files import atomic_write_json
from .post.plots import plot_element_field, plot_warpage_profiles
from .post.vtu import STRESS_NAMES, nodal_average, write_pvd, write_vtu

WARPAGE_SIGN = (
    "positive = convex: centre higher than edges with the package top up (balls down), "
    "JEDEC JESD22-B112 / JEITA ED-7306"
)


def build_model(case: Case) -> tuple[Model, dict[str, str]]:
    """The case's model and the default material of each region (builders only)."""
    mesh_key = case.spec.geometry.mesh
    path = case.resolve_path(mesh_key)
    if not path.is_file():
        raise case.error("geometry.mesh", mesh_key, f"mesh file not found (looked for {path})")
    try:
        return read_msh(path), {}
    except MeshError as exc:
        raise CaseError(f"{case.path}: geometry.mesh = {mesh_key!r}: {exc}") from None


def _centre_x(case: Case, model: Model, kinematics: str) -> float | None:
    """x of the package centre for warpage when the model is a half/axisymmetric one."""
    if kinematics == "axisymmetric":
        return 0.0
    line = case.spec.geometry.symmetry_line
    if line and line_orientation(model, line) == "vertical":
        return float(model.nodes[model.boundary_nodes(line), 0].mean())
    return None


def temperature_label(T: float) -> str:
    return f"T{T:+g}C".replace("+", "p").replace("-", "m").replace(".", "_")


def run_case(case_path: str | Path, out_dir: str | Path | None = None, progress: bool = True) -> dict:
    """Run a case file; returns the summary written to ``out_dir/summary.json``."""
    t0 = time.perf_counter()
    case = load_case(case_path)
    out = Path(out_dir) if out_dir is not None else Path("results") / case.name
    spec = case.spec
    model, defaults = build_model(case)
    geometry = spec.geometry
    if geometry.warpage_surface not in model.boundaries:
        raise case.error(
            "geometry.warpage_surface",
            geometry.warpage_surface,
            f"not a named line of the mesh; lines: {', '.join(sorted(model.boundaries)) or 'none'}",
        )
    if geometry.symmetry_line is not None and geometry.symmetry_line not in model.boundaries:
        raise case.error(
            "geometry.symmetry_line",
            geometry.symmetry_line,
            f"not a named line of the mesh; lines: {', '.join(sorted(model.boundaries)) or 'none'}",
        )
    assignment = resolve_materials(case, model, defaults)
    analysis = spec.analysis
    check_temperature_range(case, assignment, [analysis.stress_free_temperature_C], "analysis.stress_free_temperature_C")
    check_temperature_range(case, assignment, analysis.temperatures_C, "analysis.temperatures_C")

    problem = ThermoElasticProblem(
        model, assignment, analysis.kinematics, analysis.stress_free_temperature_C,
        symmetry_line=geometry.symmetry_line, solver=analysis.solver,
    )
    centre_x = _centre_x(case, model, analysis.kinematics)

    states, rows, curves = [], [], []
    temps = list(analysis.temperatures_C)
    iterator = temps
    if progress:
        from tqdm import tqdm

        iterator = tqdm(temps, desc=f"{case.name}: solving", unit="T", leave=False)
    for T in iterator:
        state = problem.solve(T)
        states.append(state)
        prof = surface_profile(model, state.u, geometry.warpage_surface, centre_x)
        vm = state.von_mises
        vm_region = {
            name: float(vm[model.element_region == r].max()) for r, name in enumerate(model.region_names)
        }
        row = {
            "T_C": float(T),
            "delta_T_K": float(T - analysis.stress_free_temperature_C),
            "warpage_um": prof.warpage_um,
            "coplanarity_um": prof.coplanarity_um,
            "curvature_per_mm": prof.curvature_per_mm(),
            "von_mises_max_MPa": vm_region,
        }
        if analysis.kinematics == "generalized_plane_strain":
            row["out_of_plane_strain"] = {
                "e0": float(state.extra[0]),
                "e1_per_mm": float(state.extra[1]),
                "e2_per_mm": float(state.extra[2]),
            }
        rows.append(row)
        curves.append((f"T = {T:g} C: warpage {prof.warpage_um:+.2f} um", prof.x, 1e3 * prof.w))

    summary = {
        "case": case.name,
        "case_file": str(case.path),
        "version": __version__,
        "model": {
            "source": model.source,
            "nodes": model.n_nodes,
            "elements": model.n_elements,
            "element": "6-node triangle, 3 integration points",
            "dofs": problem.n_dofs,
            "regions": model.region_names,
        },
        "analysis": {
            "kinematics": analysis.kinematics,
            "stress_free_temperature_C": analysis.stress_free_temperature_C,
            "solver": problem.solver.name,
            "factorizations": problem.solver.factorizations,
            "warpage_surface": geometry.warpage_surface,
            "symmetry_line": geometry.symmetry_line,
            "warpage_sign": WARPAGE_SIGN,
            "supports": "rigid-body modes removed by a minimal statically determinate support"
            + (f"; symmetry on '{geometry.symmetry_line}'" if geometry.symmetry_line else "")
            + ("; u_r = 0 on the axis" if analysis.kinematics == "axisymmetric" else ""),
        },
        "materials": {
            region: {"material": mat.name, "from": mat.origin} for region, mat in assignment.items()
        },
        "temperatures": rows,
    }
    _write_fields(out, model, states, spec.output.vtu)
    if spec.output.plots:
        _write_plots(out, case, model, states, curves, spec.output.magnification)
    summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
    atomic_write_json(out / "summary.json", summary)
    return summary


def _write_fields(out: Path, model: Model, states, enabled: bool) -> None:
    if not enabled:
        return
    entries = []
    for i, state in enumerate(states):
        mean_stress = state.stress.mean(axis=1)
        cells = {name: mean_stress[:, k] for k, name in enumerate(STRESS_NAMES)}
        vm_el = state.von_mises.mean(axis=1)
        cells["von_mises_MPa"] = vm_el
        cells["temperature_C"] = np.full(model.n_elements, state.T_C)
        name = f"fields/{i:03d}_{temperature_label(state.T_C)}.vtu"
        write_vtu(out / name, model, state.u, cells, {"von_mises_MPa": nodal_average(model, vm_el)})
        entries.append((float(i), name))
    comment = "timestep = load step index; regions: " + ", ".join(
        f"{i}={n}" for i, n in enumerate(model.region_names)
    ) + "; temperatures C: " + ", ".join(f"{s.T_C:g}" for s in states)
    write_pvd(out / "fields.pvd", entries, comment)


def _write_plots(out: Path, case: Case, model: Model, states, curves, magnification) -> None:
    vmax = max(float(s.von_mises.mean(axis=1).max()) for s in states) or None
    umax_state = max(states, key=lambda s: float(np.abs(s.u).max()))
    from .post.plots import auto_magnification

    mag = magnification or auto_magnification(model, umax_state.u)
    for state in states:
        plot_element_field(
            model, state.u, state.von_mises.mean(axis=1),
            out / "plots" / f"von_mises_{temperature_label(state.T_C)}.png",
            title=f"{case.name}: von Mises stress at {state.T_C:g} C "
            f"(stress-free at {case.spec.analysis.stress_free_temperature_C:g} C)",
            label="von Mises stress (MPa), element mean",
            magnification=mag, vmin=0.0, vmax=vmax,
        )
    plot_warpage_profiles(
        curves, out / "plots" / "warpage_profiles.png",
        title=f"{case.name}: warpage surface '{case.spec.geometry.warpage_surface}' "
        "(positive warpage = convex, centre up)",
    )
