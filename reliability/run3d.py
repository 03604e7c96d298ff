"""`reliability run` of a ``[geometry] model = "quarter_3d"`` case: free-package warpage in 3D, written out.

The model and solve are :mod:`reliability.analysis.quarter3d`; this writes ``summary.json`` (a row per
temperature: ``warpage_um`` full surface per JESD22-B112, ``warpage_centre_line_um``,
``warpage_centre_to_corner_um``, ``coplanarity_um``, von Mises maxima per region), the plan-view contour
plots of the bottom's height (``plots/bottom_height_<T>.png``) and a VTU per temperature (``fields.pvd``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .analysis.quarter3d import BASIS, BASIS_PROCESS, build_quarter, solve_quarter


def quarter_content_hash(case, model=None, assignment=None) -> str:
    """The content hash of a quarter_3d run (case, the 3D mesh, materials, code version): a results folder
    is reused when it matches.  Without ``model`` the quarter is built (meshed) to fingerprint it."""
    from .provenance import content_hash
    from .sections import Section

    if model is None:
        model, assignment = build_quarter(case)
    return content_hash(case, [Section("package", model, assignment, "bottom", None)])


def run_quarter3d(case, out: Path, t0: float, progress: bool = False) -> dict:
    """Run a quarter_3d case into ``out``; returns the summary written to ``out/summary.json``."""
    from . import __version__
    from .assignment import check_temperature_range
    from .post.files import atomic_write_json
    from .run import WARPAGE_SIGN, temperature_label

    from .process.section import region_max_von_mises
    from .process_case import STRESS_BASIS

    a = case.spec.analysis
    model, assignment = build_quarter(case)
    history = case.sequence != "none"
    sft = None if history else float(a.stress_free_temperature_C)
    if not history:
        check_temperature_range(case, assignment, [sft], "analysis.stress_free_temperature_C")
    check_temperature_range(case, assignment, a.temperatures_C, "analysis.temperatures_C")
    t_build = time.perf_counter() - t0
    process = None
    if history:
        from .process_case3d import run_quarter_process

        package, process = run_quarter_process(case, model, assignment, progress)
        problem = process.problem
        results = {float(T): process.evaluations[float(T)] for T in a.temperatures_C}
    else:
        problem, results = solve_quarter(model, assignment, sft, a.temperatures_C, a.solver)
    t_solve = time.perf_counter() - t0 - t_build
    rows = []
    for T, (state, surf) in results.items():
        row = {
            "T_C": T,
            "warpage_um": surf.warpage_um,
            "warpage_centre_line_um": surf.centre_line_um,
            "warpage_centre_to_corner_um": surf.centre_to_corner_um,
            "coplanarity_um": surf.coplanarity_um,
        }
        if history:
            row["von_mises_max_MPa"] = region_max_von_mises(model, state)
            row["von_mises_basis"] = STRESS_BASIS
        else:
            vm = state.von_mises
            row["delta_T_K"] = T - sft
            row["von_mises_max_MPa"] = {n: float(vm[model.element_region == r].max())
                                        for r, n in enumerate(model.region_names)}
            row["von_mises_basis"] = "elastic, at the quadrature points"
        rows.append(row)
    g = case.spec.geometry
    summary = {
        "case": case.name,
        "case_file": str(case.path),
        "version": __version__,
        "content_hash": quarter_content_hash(case, model, assignment),
        "geometry": {"family": g.family, "model": "quarter_3d", "options": g.options, "board": False,
                     "dimensions_mm": model.info.get("dimensions_mm"), "layers": model.info["layers"],
                     "omitted": model.info["omitted"]},
        "analysis": {
            "model": "quarter_3d",
            "basis": BASIS_PROCESS if history else BASIS,
            "stress_free_temperature_C": sft,
            "stress_free_state": (f"the {case.sequence} process history (see process)" if history else
                                  f"one stress-free temperature, {sft:g} C, for every material"),
            "warpage_surface": "bottom (z = 0, the package's terminal side), whole surface mirrored from the quarter",
            "warpage_sign": WARPAGE_SIGN,
            "warpage_definition": "warpage_um: JESD22-B112 full surface, max - min after removing the best-fit "
                                  "plane, signed + convex; warpage_centre_line_um: centre minus mid-edge along "
                                  "y = 0; warpage_centre_to_corner_um: centre minus corner",
            "warpage_from": "free package (no board, no balls)",
            "supports": "symmetry planes x = 0 (u_x = 0) and y = 0 (u_y = 0), u_z = 0 at one node on their line"
            + (" (in a region that exists through the whole history)" if history else ""),
        },
        "sections": {"package": {
            "mesh": model.source, "nodes": model.n_nodes, "elements": model.n_elements,
            "element": "10-node tetrahedron (C3D10 order)", "dofs": problem.n_dofs,
            "solver": problem.solver.name, "factorizations": problem.solver.factorizations,
            "regions": model.region_names, "size_mm": model.info["size_mm"],
            "materials": {r: {"material": m.name, "from": m.origin} for r, m in assignment.items()
                          if r in model.region_names},
            "solved_temperatures_C": list(results),
            "build_s": round(t_build, 3), "solve_s": round(t_solve, 3),
        }},
        "temperatures": rows,
    }
    if history:
        from .process_case import process_summary

        summary["process"] = process_summary(case, {"package": process}, package)
        curve = summary["process"].get("warpage_vs_temperature")
        if curve:
            curve["section_bias"] = ("3D: full-surface warpage (JESD22-B112) of the quarter mirrored, the quantity "
                                     "the ED-7306 limit is for")
        summary["sections"]["package"]["process_wall_time_s"] = round(process.wall_s, 3)
    _write_centre_line_csv(out / "warpage_profiles.csv", results)
    summary["profiles"] = "warpage_profiles.csv: the bottom's height along the centre line y = 0 (um)"
    if case.spec.output.vtu:
        _write_fields3d(out, model, results, temperature_label)
        summary["fields"] = "fields.pvd"
    if case.spec.output.plots:
        from .post.plots3d import plot_bottom_height

        basis = f"after the {case.sequence} process" if history else f"stress-free {sft:g} C"
        for T, (_, surf) in results.items():
            plot_bottom_height(out / "plots" / f"bottom_height_{temperature_label(T)}.png", surf,
                               title=f"{case.name}: bottom height at {T:g} C ({basis})")
        if history:
            from .post.process_plots import QUARTER_CURVE, write_history_plots

            write_history_plots(out / "plots", case, process.steps, summary["process"], "3D quarter, full surface",
                                QUARTER_CURVE)
    summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
    atomic_write_json(out / "summary.json", summary)
    return summary


def _write_centre_line_csv(path: Path, results) -> None:
    """The bottom's rotation-free height along the centre line y = 0 (the row a section sees): x_mm and one
    column (um) per temperature, the same layout as a section's ``warpage_profiles.csv``."""
    from .post.files import atomic_write_text

    temps = list(results)
    surf0 = results[temps[0]][1]
    tol = 1e-9 * float(np.ptp(surf0.quarter_x))
    line = np.flatnonzero(np.abs(surf0.quarter_y) <= tol)
    line = line[np.argsort(surf0.quarter_x[line])]
    rows = ["x_mm," + ",".join(f"height_um_at_{T:g}C" for T in temps)]
    for i in line:
        rows.append(f"{surf0.quarter_x[i]:.9g}," + ",".join(f"{1e3 * results[T][1].quarter_w[i]:.9g}" for T in temps))
    atomic_write_text(path, "\n".join(rows) + "\n")


def _write_fields3d(out: Path, model, results, label) -> None:
    """One VTU per temperature (10-node tetrahedra): displacement, element-mean stresses and von Mises, region."""
    import meshio

    from .fem.kinematics3d import STRAIN_NAMES_3D
    from .post.files import atomic_write_bytes
    from .post.vtu import write_pvd

    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for T, (state, _) in results.items():
        mean = state.stress.mean(axis=1)
        cells = {f"stress_{n}_MPa": [mean[:, k]] for k, n in enumerate(STRAIN_NAMES_3D)}
        cells["von_mises_MPa"] = [state.von_mises.mean(axis=1)]
        cells["region"] = [model.element_region.astype(np.int32)]
        mesh = meshio.Mesh(model.nodes, [("tetra10", model.elements)], point_data={"displacement_mm": state.u},
                           cell_data=cells, field_data={n: np.array([i, 3]) for i, n in enumerate(model.region_names)})
        name = f"fields_{label(T)}.vtu"
        tmp = out / f".{name}.tmp.vtu"
        meshio.write(tmp, mesh)
        atomic_write_bytes(out / name, tmp.read_bytes())
        tmp.unlink()
        entries.append((T, name))
    write_pvd(out / "fields.pvd", entries, comment="regions: " + ", ".join(model.region_names))

