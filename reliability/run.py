"""`reliability run`: from a case file to results on disk.

case -> sections (mesh file, or built package and assembly) -> materials ->
solve at each temperature -> warpage and stresses -> summary.json,
fields.pvd + .vtu, PNG plots.  Every file is written atomically, so an
interrupted run never leaves a half-written result behind.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import __version__
from .analysis.thermoelastic import ThermoElasticProblem
from .analysis.warpage import surface_profile
from .assignment import check_temperature_range
from .case import Case, load_case
from .fem.constraints import line_orientation
from .model import Model
from .post.files import atomic_write_json
from .post.outdir import claimed
from .post.vtu import STRESS_NAMES, nodal_average, write_pvd, write_vtu
from .sections import MESH_DIR, Section, sections

WARPAGE_SIGN = (
    "positive = convex: centre higher than edges with the package top up (balls down), "
    "JEDEC JESD22-B112 / JEITA ED-7306"
)


def centre_x(model: Model, kinematics: str, symmetry_line: str | None) -> float | None:
    """x of the package centre for warpage in a half or axisymmetric model."""
    if kinematics == "axisymmetric":
        return 0.0
    if symmetry_line and line_orientation(model, symmetry_line) == "vertical":
        return float(model.nodes[model.boundary_nodes(symmetry_line), 0].mean())
    return None


def temperature_label(T: float) -> str:
    return f"T{T:+g}C".replace("+", "p").replace("-", "m").replace(".", "_")


def solvable_temperatures(section: Section, temps) -> tuple[list[float], list[float]]:
    """Temperatures inside every material's data, and the ones outside."""
    ok, skipped = [], []
    for t in temps:
        inside = all(m.range_C[0] - 1e-9 <= t <= m.range_C[1] + 1e-9 for m in section.assignment.values())
        (ok if inside else skipped).append(float(t))
    return ok, skipped


def run_case(case_path: str | Path, out_dir: str | Path | None = None, progress: bool = True,
             mesh_dir: Path = MESH_DIR, resume: bool = False) -> dict:
    """Run a case file; returns the summary written to ``out_dir/summary.json``."""
    t0 = time.perf_counter()
    case = load_case(case_path)
    out = Path(out_dir) if out_dir is not None else Path("results") / case.name
    with claimed(out):
        if case.spec.geometry.model == "quarter_3d":  # the 3D quarter model (docs/3d.md)
            from .analysis.quarter3d import is_assembly

            if is_assembly(case):  # the package on its board, thermal cycling
                from .run3d_cycling import run_assembly3d

                return run_assembly3d(case, out, t0, progress, resume)
            from .run3d import run_quarter3d

            return run_quarter3d(case, out, t0, progress)
        return _run(case, out, t0, progress, mesh_dir, resume)


def _run(case: Case, out: Path, t0: float, progress: bool, mesh_dir: Path, resume: bool) -> dict:
    analysis = case.spec.analysis
    secs = sections(case, mesh_dir)
    by_role = {s.role: s for s in secs}
    from .provenance import content_hash

    chash = content_hash(case, secs)
    package = by_role["package"]
    primary = by_role.get("assembly", package)

    sft = analysis.stress_free_temperature_C
    if sft is not None:
        for s in secs:
            check_temperature_range(case, s.assignment, [sft], "analysis.stress_free_temperature_C")
    check_temperature_range(case, package.assignment, analysis.temperatures_C, "analysis.temperatures_C")

    results: dict[str, dict] = {}
    section_info: dict[str, dict] = {}
    solvable = {s.role: solvable_temperatures(s, analysis.temperatures_C) for s in secs}
    process = None
    if case.has_process:
        from .process_case import run_processes

        cyc = analysis.cycling
        process = run_processes(case, secs, {r: t for r, (t, _) in solvable.items()},
                                lambda s: centre_x(s.model, analysis.kinematics, s.symmetry_line), progress,
                                newton=cyc.newton if cyc else "bfgs", tol=cyc.tolerance if cyc else 1e-5)
    for s in secs:
        temps, skipped = solvable[s.role]
        if process is not None:
            problem = process[s.role].problem
            results[s.role] = dict(process[s.role].evaluations)
        else:
            problem = ThermoElasticProblem(s.model, s.assignment, analysis.kinematics, sft,
                                           symmetry_line=s.symmetry_line, solver=analysis.solver)
            results[s.role] = _solve_elastic(case, s, problem, temps, progress)
        section_info[s.role] = {
            "mesh": s.mesh_file or s.model.source,
            "nodes": s.model.n_nodes,
            "elements": s.model.n_elements,
            "dofs": problem.n_dofs,
            "solver": problem.solver.name,
            "factorizations": problem.solver.factorizations,
            "regions": s.model.region_names,
            "materials": {r: {"material": m.name, "from": m.origin} for r, m in s.assignment.items()},
            "solved_temperatures_C": temps,
        }
        if skipped:
            section_info[s.role]["skipped_temperatures_C"] = skipped
            section_info[s.role]["skipped_reason"] = "outside a material's data (e.g. above a solder's solidus)"

    from .process_case import ELASTIC_BASIS, STRESS_BASIS

    stress_basis = STRESS_BASIS if process is not None else ELASTIC_BASIS
    rows = []
    for T in analysis.temperatures_C:
        T = float(T)
        state, prof = results["package"][T]
        row = {
            "T_C": T,
            "warpage_um": prof.warpage_um,
            "coplanarity_um": prof.coplanarity_um,
            "curvature_per_mm": prof.curvature_per_mm(),
        }
        if "assembly" in results:
            a = results["assembly"].get(T)
            row["assembly_warpage_um"] = a[1].warpage_um if a else None
            row["assembly_coplanarity_um"] = a[1].coplanarity_um if a else None
        use_role = "assembly" if "assembly" in results and T in results["assembly"] else "package"
        if sft is not None:
            row["delta_T_K"] = T - sft
        st = results[use_role][T][0]
        model = by_role[use_role].model
        if process is not None:
            from .process.section import region_max_von_mises

            row["von_mises_max_MPa"] = region_max_von_mises(model, st)
        else:
            vm = st.von_mises
            row["von_mises_max_MPa"] = {n: float(vm[model.element_region == r].max())
                                        for r, n in enumerate(model.region_names)}
        row["von_mises_section"] = use_role
        row["von_mises_basis"] = stress_basis
        if analysis.kinematics == "generalized_plane_strain":
            row["out_of_plane_strain"] = {"e0": float(state.extra[0]), "e1_per_mm": float(state.extra[1]),
                                          "e2_per_mm": float(state.extra[2])}
        rows.append(row)

    g = case.spec.geometry
    summary = {
        "case": case.name,
        "case_file": str(case.path),
        "version": __version__,
        "content_hash": chash,
        "geometry": {"family": g.family, "options": g.options, "board": g.board, "half": g.half}
        if g.family else {"mesh": g.mesh},
        "analysis": {
            "kinematics": analysis.kinematics,
            "stress_free_temperature_C": sft,
            "stress_free_state": (f"one stress-free temperature, {sft:g} C, for every material" if sft is not None
                                  else f"the {case.sequence} process history (see process)"),
            "warpage_surface": package.warpage_surface,
            "symmetry_line": package.symmetry_line,
            "warpage_sign": WARPAGE_SIGN,
            "warpage_from": "free package (no board, no balls)" if "assembly" in results else "the model",
            "supports": "rigid-body modes removed by a minimal statically determinate support"
            + (f"; symmetry on '{package.symmetry_line}'" if package.symmetry_line else "")
            + ("; u_r = 0 on the axis" if analysis.kinematics == "axisymmetric" else ""),
        },
        "sections": section_info,
        "temperatures": rows,
    }
    if process is not None:
        from .process_case import process_summary

        summary["process"] = process_summary(case, process, package)
    if "assembly" in by_role:
        summary["joints"] = [{**j, **{k: round(v, 9) for k, v in j.items() if k.endswith("_mm") and isinstance(v, float)}}
                             for j in by_role["assembly"].model.info.get("joints", [])]
    if primary.model.info.get("dimensions_mm"):
        summary["geometry"]["dimensions_mm"] = primary.model.info["dimensions_mm"]

    _write_profiles_csv(out / "warpage_profiles.csv", results["package"])
    for s in secs:
        name = "fields.pvd" if s is primary else f"fields_{s.role}.pvd"
        _write_fields(out, name, s.model, [st for st, _ in results[s.role].values()], case.spec.output.vtu)
    if case.spec.output.plots:
        _write_plots(out, case, primary, results[primary.role], package, results["package"])
        if process is not None:
            from .post.process_plots import write_process_plots

            write_process_plots(out / "plots", case, process, primary, package, summary["process"])
    if process is not None and case.spec.output.vtu:
        end = process[primary.role].end_snapshot
        _write_fields(out, "fields_process_end.pvd", primary.model, [end], True)
    if analysis.cycling is not None:
        summary["cycling"] = {"status": "running"}
        atomic_write_json(out / "summary.json", summary)
        try:
            summary["cycling"] = run_cycling(case, primary, out, progress, resume,
                                             process[primary.role] if process is not None else None)
        except _CyclingFailed as failed:
            summary["cycling"] = failed.info
            summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
            atomic_write_json(out / "summary.json", summary)
            raise failed.error from None
    summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
    atomic_write_json(out / "summary.json", summary)
    return summary


def _solve_elastic(case: Case, s: Section, problem: ThermoElasticProblem, temps, progress: bool) -> dict:
    """Thermo-elastic states from one stress-free temperature: T -> (state, profile)."""
    cx = centre_x(s.model, case.spec.analysis.kinematics, s.symmetry_line)
    iterator = temps
    if progress:
        from tqdm import tqdm

        iterator = tqdm(temps, desc=f"{case.name} [{s.role}]", unit="T", leave=False, disable=None)
    states = {}
    for T in iterator:
        state = problem.solve(T)
        states[T] = (state, surface_profile(s.model, state.u, s.warpage_surface, cx))
    return states


def _write_profiles_csv(path: Path, states: dict) -> None:
    """Warpage profiles of the free package: x_mm and one height column (um) per temperature."""
    from .post.files import atomic_write_text

    temps = list(states)
    x = states[temps[0]][1].x
    head = "x_mm," + ",".join(f"height_um_at_{T:g}C" for T in temps)
    rows = [head]
    for i in range(x.size):
        rows.append(f"{x[i]:.9g}," + ",".join(f"{1e3 * states[T][1].w[i]:.9g}" for T in temps))
    atomic_write_text(path, "\n".join(rows) + "\n")


def _write_fields(out: Path, name: str, model: Model, states, enabled: bool) -> None:
    if not enabled:
        return
    stem = Path(name).stem
    entries = []
    for i, state in enumerate(states):
        mean_stress = state.stress.mean(axis=1)
        cells = {n: mean_stress[:, k] for k, n in enumerate(STRESS_NAMES)}
        vm_el = state.von_mises.mean(axis=1)
        cells["von_mises_MPa"] = vm_el
        cells["temperature_C"] = np.full(model.n_elements, state.T_C)
        file = f"{stem}/{i:03d}_{temperature_label(state.T_C)}.vtu"
        write_vtu(out / file, model, state.u, cells, {"von_mises_MPa": nodal_average(model, vm_el)})
        entries.append((float(i), file))
    comment = "timestep = load step index; regions: " + ", ".join(
        f"{i}={n}" for i, n in enumerate(model.region_names)
    ) + "; temperatures C: " + ", ".join(f"{s.T_C:g}" for s in states)
    write_pvd(out / name, entries, comment)


def _write_plots(out: Path, case: Case, primary: Section, primary_states: dict, package: Section,
                 package_states: dict) -> None:
    states = [st for st, _ in primary_states.values()]
    model = primary.model
    vmax = max(float(s.von_mises.mean(axis=1).max()) for s in states) or None
    umax_state = max(states, key=lambda s: float(np.abs(s.u).max()))
    from .post.plots import auto_magnification, plot_element_field, plot_warpage_profiles  # matplotlib: only here

    mag = case.spec.output.magnification or auto_magnification(model, umax_state.u)
    sft = case.spec.analysis.stress_free_temperature_C
    origin = (f"elastic, not a real stress in inelastic regions; stress-free at {sft:g} C" if sft is not None
              else f"after the {case.sequence} process history")
    joints = model.info.get("joints", [])
    zoom = None
    if joints:
        j = max(joints, key=lambda j: j["dnp_mm"])
        half = 0.6 * max(j["pad_package_mm"], j["pad_board_mm"], j["standoff_mm"]) + 0.1
        ymid = -0.5 * j["standoff_mm"]
        zoom = (j["x_mm"] - half, ymid - half, j["x_mm"] + half, ymid + half)
    for state in states:
        label = temperature_label(state.T_C)
        title = f"{case.name}: von Mises stress at {state.T_C:g} C\n({origin})"
        plot_element_field(model, state.u, state.von_mises.mean(axis=1), out / "plots" / f"von_mises_{label}.png",
                           title=title, label="von Mises stress (MPa), element mean", magnification=mag,
                           vmin=0.0, vmax=vmax)
        if zoom is not None:
            plot_element_field(model, state.u, state.von_mises.mean(axis=1),
                               out / "plots" / f"von_mises_{label}_outer_joint.png",
                               title=title + f"\nzoom on the outermost joint {j['name']} (DNP {j['dnp_mm']:.2f} mm)",
                               label="von Mises stress (MPa), element mean", magnification=mag,
                               vmin=0.0, vmax=vmax, zoom=zoom)
    curves = [(f"T = {T:g} C: warpage {prof.warpage_um:+.2f} um", prof.x, 1e3 * prof.w)
              for T, (_, prof) in package_states.items()]
    what = "free package" if primary is not package else "model"
    plot_warpage_profiles(curves, out / "plots" / "warpage_profiles.png",
                          title=f"{case.name} ({what}): warpage surface '{package.warpage_surface}' "
                          "(positive = convex, centre up)")


def run_cycling(case: Case, section: Section, out: Path, progress: bool, resume: bool, process=None) -> dict:
    """Thermal cycling of ``section`` with inelastic materials; writes CSVs, plots, fields.

    With a ``process`` (its :class:`~reliability.process.section.ProcessResult`) the cycling starts from the
    end of the history, at its temperature; without, stress-free at the stress-free temperature."""
    import hashlib
    import json

    from .analysis.cycling import CyclingRun, CyclingSettings
    from .analysis.cycling_results import summarize
    from .analysis.incremental import InelasticProblem
    from .analysis.profile import JEDEC, make_profile
    from .errors import ConvergenceError

    analysis = case.spec.analysis
    cyc = analysis.cycling
    lo, hi = cyc.extremes()
    if process is not None:
        # the history ends at room temperature: the cycling starts there, whatever cooldown says
        start = T_ref = float(process.end.T)
        check_temperature_range(case, section.assignment, [lo, hi], "analysis.cycling")
        problem = process.problem
        # the process history solves to its own (tighter) tolerance; the cycling to analysis.cycling.tolerance
        problem.tol = float(cyc.tolerance)
    else:
        sft = analysis.stress_free_temperature_C
        start = sft if cyc.cooldown else None
        T_ref = sft if cyc.cooldown else lo
        check_temperature_range(case, section.assignment, [lo, hi] + ([sft] if cyc.cooldown else []),
                                "analysis.cycling")
        problem = InelasticProblem(section.model, section.assignment, analysis.kinematics, T_ref,
                                   symmetry_line=section.symmetry_line, solver=analysis.solver, tol=cyc.tolerance,
                                   newton=cyc.newton)
    profile = make_profile(lo, hi, cyc.ramp_min, cyc.dwell_min, cyc.cycles, start)
    settings = CyclingSettings(profile, cyc.increments_per_ramp, cyc.increments_per_dwell, cyc.max_cutbacks,
                               case.spec.fatigue.interface_layer_mm)
    from .provenance import process_solve

    key = hashlib.sha256(json.dumps([case.raw, section.model.fingerprint(), __version__, process_solve(case)],
                                    sort_keys=True, default=str).encode()).hexdigest()[:16]
    run = CyclingRun(problem, settings, section.warpage_surface,
                     centre_x(section.model, analysis.kinematics, section.symmetry_line),
                     checkpoint=out / "checkpoint.npz", key=key)
    info = {
        "profile": {
            "jedec": cyc.jedec,
            "jedec_confidence": JEDEC[cyc.jedec][2] if cyc.jedec else None,
            "t_min_C": lo, "t_max_C": hi, "ramp_min": cyc.ramp_min, "dwell_min": cyc.dwell_min,
            "cycles": cyc.cycles, "start_C": profile.start_C,
            "start_state": "the end of the process history" if process is not None else
            f"stress-free at {T_ref:g} C",
            "period_s": profile.period_s, "end_s": profile.end_s,
        },
        "section": section.role,
        "dofs": problem.n_dofs,
        "inelastic_materials": {g.material.name: g.model.kind for g in problem.groups},
    }
    try:
        state, rec = run.run(progress=progress, resume=resume, initial=process.end if process is not None else None)
    except ConvergenceError as exc:
        info.update(status="failed", message=str(exc))
        if getattr(run, "record", None) is not None and len(run.record.cycle_W) > 1:
            info.update(summarize(run, run.record, section.assignment, case.spec.fatigue.models,
                                  profile.mean_temperature_C(), cyc.dwell_min,
                                  calibration=case.spec.fatigue.calibration_data))
        raise _CyclingFailed(info, exc) from None
    info.update(status="complete")
    info["solver"] = {
        "name": problem.solver.name,
        "newton": problem.newton,
        "increments": rec.increments,
        # whole-run totals: a resumed run counts the part before its checkpoint too
        "newton_iterations": rec.iterations,
        "factorizations": rec.factorizations,
        # the BFGS initial matrix: float32 unless an increment needed double (then double for the rest)
        "factor_precision": "single" if getattr(problem.solver, "single", False) else "double",
        "cutbacks": rec.cutbacks,
        "wall_time_s": round(rec.wall_s, 2),
    }
    info.update(summarize(run, rec, section.assignment, case.spec.fatigue.models, profile.mean_temperature_C(),
                          cyc.dwell_min, calibration=case.spec.fatigue.calibration_data))
    _write_cycling_files(case, section, run, state, rec, info, out)
    return info


class _CyclingFailed(Exception):
    def __init__(self, info: dict, error: Exception):
        super().__init__(str(error))
        self.info = info
        self.error = error


def _write_cycling_files(case, section, run, state, rec, info, out: Path) -> None:
    from .constitutive.state import equivalent_inelastic_strain, inelastic_work
    from .post.files import atomic_write_text

    lines = ["t_s,T_C,cycle,assembly_warpage_um"]
    lines += [f"{t:.6g},{T:.6g},{c},{w:.6g}" for t, T, c, w in zip(rec.t, rec.T, rec.cycle, rec.warpage_um)]
    atomic_write_text(out / "warpage_vs_time.csv", "\n".join(lines) + "\n")
    info["warpage_vs_time_csv"] = "warpage_vs_time.csv"
    crit = info.get("critical_joint")
    band_index = None
    if crit:
        band_index = next(i for i, b in enumerate(run.bands) if b.joint == crit["name"] and b.side == crit["interface"])
        total = rec.band_gamma_total if len(rec.band_gamma_total) == len(rec.t) else [None] * len(rec.t)
        lines = ["t_s,T_C,cycle,shear_stress_MPa,inelastic_shear_strain,total_shear_strain"]
        lines += [f"{t:.6g},{T:.6g},{c},{tau[band_index]:.6g},{g[band_index]:.6g},"
                  + ("" if gt is None else f"{gt[band_index]:.6g}")
                  for t, T, c, tau, g, gt in zip(rec.t, rec.T, rec.cycle, rec.band_tau, rec.band_gamma, total)]
        atomic_write_text(out / "hysteresis.csv", "\n".join(lines) + "\n")
        info["hysteresis_csv"] = "hysteresis.csv"
    # final state fields: accumulated inelastic strain and work density
    model = section.model
    problem = run.problem
    p_el = np.zeros(model.n_elements)
    W_el = np.zeros(model.n_elements)
    vm_el = np.zeros(model.n_elements)
    for g, st, sig in zip(problem.groups, state.groups, state.stress):
        p_el[g.elements] = equivalent_inelastic_strain(st).reshape(g.elements.size, -1).mean(axis=1)
        W_el[g.elements] = inelastic_work(st).reshape(g.elements.size, -1).mean(axis=1)
    from .analysis.thermoelastic import von_mises

    for g, sig in zip(problem.groups, state.stress):
        vm_el[g.elements] = von_mises(sig).reshape(g.elements.size, -1).mean(axis=1)
    u, _ = problem.full_displacement(state.u)
    if case.spec.output.vtu:
        write_vtu(out / "fields_cycling" / "end.vtu", model, u,
                  {"inelastic_strain_equivalent": p_el, "inelastic_work_density_MPa": W_el,
                   "von_mises_inelastic_regions_MPa": vm_el})
        write_pvd(out / "fields_cycling.pvd", [(0.0, "fields_cycling/end.vtu")],
                  "state at the end of the last cycle")
    if not case.spec.output.plots:
        return
    from .post.cycling_plots import plot_dW_per_joint, plot_hysteresis, plot_warpage_loop  # matplotlib: only here
    from .post.plots import plot_element_field

    plots = out / "plots"
    if crit:
        plot_hysteresis(rec, band_index, f"{crit['name']} {crit['interface']}-side interface layer "
                        f"(DNP {crit['dnp_mm']:.2f} mm)", plots / "hysteresis_critical_joint.png")
        plot_dW_per_joint(info["joints"], plots / "dW_per_joint.png",
                          f"{case.name}: inelastic work density per cycle, last cycle")
        j = next(j for j in model.info.get("joints", []) if j["name"] == crit["name"])
        half = 0.6 * max(j["pad_package_mm"], j["pad_board_mm"], j["standoff_mm"]) + 0.1
        ymid = -0.5 * j["standoff_mm"]
        plot_element_field(model, u, p_el, plots / "inelastic_strain_critical_joint.png",
                           title=f"{case.name}: accumulated equivalent inelastic strain after "
                           f"{case.spec.analysis.cycling.cycles} cycles, critical joint {crit['name']}",
                           label="equivalent inelastic strain (-), element mean", magnification=1.0,
                           zoom=(j["x_mm"] - half, ymid - half, j["x_mm"] + half, ymid + half), cmap="magma")
    # stresses of the last cycle's dwell ends: the viscoplastic state, not an elastic solve
    vmax = None
    fields = {k: (st, problem.stress_field(st)) for k, st in run.dwell_ends.items()}
    if fields:
        vmax = max(float(von_mises(sig).mean(axis=1).max()) for _, sig in fields.values())
    for kind, (st, sig) in fields.items():
        u_k, _ = problem.full_displacement(st.u)
        plot_element_field(model, u_k, von_mises(sig).mean(axis=1), plots / f"von_mises_last_cycle_{kind}.png",
                           title=f"{case.name}: von Mises stress at the end of the last cycle's "
                           f"{kind.replace('_', ' ')} ({st.T:g} C, t = {st.t:.0f} s)",
                           label="von Mises stress (MPa), element mean", vmin=0.0, vmax=vmax)
    plot_warpage_loop(rec, plots / "warpage_vs_temperature.png",
                      f"{case.name}: warpage over the thermal cycles ({section.role})")
