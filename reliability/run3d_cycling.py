"""`reliability run` of a quarter_3d case with the board: thermal cycling of the 3D assembly, written out.

The model is :func:`reliability.analysis.quarter3d.build_assembly` (the package on its board with every
ball of the quarter), the solve :mod:`reliability.analysis.cycling3d` (Anand solder, increments through
the JEDEC profile, each joint's Darveaux band W at every cycle end).  Written:

* ``summary.json``: the ``cycling`` block as a section's (``joints`` from the centre out, each with its
  row, column, DNP and per-cycle dW at both pad interfaces and lives; ``critical_joint`` with its lives
  and their basis) plus the 3D model's size and the run's cost;
* ``joints_dW.csv``: one row per joint of the quarter (row, column, x, y, DNP, last-cycle dW at each
  interface);
* ``plots/joint_dW_map.png``: the dW of every ball over the whole array (mirrored from the quarter),
  the critical one ringed;
* ``fields.pvd``: the final state (displacement, accumulated inelastic strain and work per element).

With ``[mesh.submodel]`` the model is the coarse global model and the joints come from local fine
models of the corner ball and the largest global dW (:mod:`reliability.run3d_submodel`, docs/3d.md): ``joints_dW.csv``
lists those, ``joints_dW_global_screening.csv`` and the map every ball's coarse (screening) dW, and
``fields.pvd`` holds the local models' final states (``fields_local_<joint>.vtu``, one part each).

A checkpoint (``checkpoint3d.npz``) is written at every cycle end and ``--resume`` continues from it (not
with a submodel yet).  Not in 3D yet (stated in the summary's basis): the process history, the
hysteresis loops, warpage rows at ``analysis.temperatures_C``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

# measured on the bench (bench/bench_3d_cycling.py, 4 x 4 balls, 125k dofs, 2 cores): 0.7-1.4 ms per dof
# and cycle (0.3 on coarse meshes); used only for the estimate printed before the run starts
SECONDS_PER_DOF_CYCLE = (0.0003, 0.0014)
LOCAL_S_PER_CYCLE = 9.0  # a submodel's local model at 0.0375 mm (31 k dofs): 36 s for the cool-down and 3 cycles


def run_assembly3d(case, out: Path, t0: float, progress: bool = False, resume: bool = False) -> dict:
    """Run a quarter_3d case with ``board = true`` and ``[analysis.cycling]``; returns the summary.

    ``out/checkpoint3d.npz`` is written at every cycle end; ``resume`` continues from it when it belongs to
    this case (its content hash), to the same answer.  A submodel run has no checkpoints yet."""
    from . import __version__
    from .analysis.cycling3d import joint_bands3d, run_cycling3d
    from .analysis.cycling_results import effective_ctes_layers, joints_block
    from .analysis.inelastic3d import InelasticProblem3D
    from .analysis.profile import JEDEC, make_profile
    from .analysis.quarter3d import (BASIS_ASSEMBLY, BASIS_ASSEMBLY_PROCESS, assembly_joint_size, build_assembly,
                                     estimate_assembly)
    from .assignment import check_temperature_range
    from .errors import ConvergenceError
    from .post.files import atomic_write_json
    from .post.progress import progress_line
    a = case.spec.analysis
    cyc = a.cycling
    lo, hi = cyc.extremes()
    history = case.has_process  # the cycling starts from the end of the process history (not with a submodel)
    sft = None if history else float(a.stress_free_temperature_C)
    n_cycles = cyc.cycles + (1 if cyc.cooldown or history else 0)
    balls, n_est = estimate_assembly(case)
    if progress:  # before the mesh: about 1.6 nodes per 10-node tetrahedron, 3 dofs each
        est = [f * 4.8 * n_est * n_cycles / 60.0 for f in SECONDS_PER_DOF_CYCLE]
        sub = case.spec.mesh.submodel
        local = "" if sub is None else (f" (the global model), then up to {sub.candidates + 1} local models of "
                                        f"about {LOCAL_S_PER_CYCLE * n_cycles:.0f} s each")
        progress_line(f"{case.name}: 3D assembly quarter, {balls} balls, about {n_est:,} tetrahedra (estimated "
                      f"before meshing); {cyc.cycles} cycles: expect about {est[0]:.0f}-{est[1]:.0f} min on 2 "
                      f"cores{local}" + (", plus the process history" if history else ""))
    model, assignment = build_assembly(case)
    check_temperature_range(case, assignment, [lo, hi] + ([sft] if cyc.cooldown and not history else []),
                            "analysis.cycling")
    t_build = time.perf_counter() - t0
    layer = float(case.spec.fatigue.interface_layer_mm)
    process = None
    if history:
        from .process_case3d import run_assembly_process

        process = run_assembly_process(case, model, assignment, progress)
        # the history ends at room temperature: the cycling starts there, whatever cooldown says
        T_ref = start = float(process.end.T)
        start_state = f"the end of the {case.sequence} process history at {start:g} C"
    else:
        T_ref = sft if cyc.cooldown else lo
        start = sft if cyc.cooldown else None
        start_state = f"stress-free at {T_ref:g} C"
    profile = make_profile(lo, hi, cyc.ramp_min, cyc.dwell_min, cyc.cycles, start)
    joints = [j for j in model.info["joints"] if j["name"] in model.region_names]
    sub = case.spec.mesh.submodel
    content_key = assembly_content_hash(case, model, assignment)
    if progress:
        progress_line(f"{case.name}: meshed in {t_build:.1f} s: {len(joints)} joints, {model.n_elements:,} "
                      f"tetrahedra{' (the global model)' if sub else ''}; one line per cycle follows")
    info = {
        "profile": {
            "jedec": cyc.jedec, "jedec_confidence": JEDEC[cyc.jedec][2] if cyc.jedec else None,
            "t_min_C": lo, "t_max_C": hi, "ramp_min": cyc.ramp_min, "dwell_min": cyc.dwell_min,
            "cycles": cyc.cycles, "start_C": profile.start_C, "start_state": start_state,
            "period_s": profile.period_s, "end_s": profile.end_s,
        },
        "section": "assembly",
    }
    try:
        if sub is None:
            if process is None:
                problem = InelasticProblem3D(model, assignment, T_ref, solver=a.solver, tol=cyc.tolerance)
            else:  # the process history solves to its own tolerance; the cycling to analysis.cycling.tolerance
                problem = process.problem
                problem.tol = float(cyc.tolerance)
            info["dofs"] = problem.n_dofs
            bands = joint_bands3d(model, problem.groups, problem.geo.xq, problem.geo.dx, layer)
            state, rec = run_cycling3d(problem, profile, bands, cyc.increments_per_ramp, cyc.increments_per_dwell,
                                       cyc.max_cutbacks, log=progress_line if progress else None,
                                       checkpoint=out / "checkpoint3d.npz", key=content_key, resume=resume,
                                       start=None if process is None else process.end)
            cycles = per_cycle3d(rec)
        else:
            state = None
            if resume and progress:
                progress_line(f"{case.name}: --resume: a submodel run has no checkpoints yet; it runs from the start")
            from .run3d_submodel import run_submodel, submodel_block

            r = run_submodel(case, model, assignment, profile, T_ref, layer, progress)
            problem, rec = r.global_problem, r.global_record
            info["dofs"] = problem.n_dofs
            cycles = {}
            for loc in r.locals:  # each local joint's per-cycle dW from its fine model
                cycles.update(per_cycle3d(loc.record))
            info["submodel"] = submodel_block(case, r)
    except ConvergenceError as exc:
        # the summary says where it stopped, the CLI prints the line (exit 2); the last cycle end's checkpoint
        # stays for --resume (not with a submodel)
        message = str(exc)
        if sub is None and (out / "checkpoint3d.npz").is_file():
            message += f"; the last cycle end is kept in {out / 'checkpoint3d.npz'} (reliability run --resume)"
        info.update(status="failed", message=message)
        atomic_write_json(out / "summary.json", {"case": case.name, "case_file": str(case.path),
                                                 "version": __version__, "cycling": info,
                                                 "wall_time_s": round(time.perf_counter() - t0, 3)})
        raise ConvergenceError(message) from None
    info["inelastic_materials"] = {problem.materials[g.material].name: getattr(g.law, "kind", type(g.law).__name__)
                                   for g in problem.groups}
    info["status"] = "complete"
    info["solver"] = {
        "name": problem.solver.name, "newton": "bfgs", "increments": rec.increments,
        "newton_iterations": problem.iterations, "factorizations": problem.newton_steps,
        "factor_precision": "single" if getattr(problem.solver, "single", False) else "double",
        "cutbacks": rec.cutbacks, "wall_time_s": round(rec.wall_s, 2),
        "cycle_wall_s": [round(w, 2) for w in rec.cycle_wall_s],
    }
    if sub is not None:  # the counts above are the global model's; the local models' are in cycling.submodel
        info["solver"]["model"] = "the coarse global model"
    joints_info = {j["name"]: {**j, "pad_package_mm": 2.0 * j["package_wetted_radius_mm"],
                               "pad_board_mm": 2.0 * j["board_pad_radius_mm"]} for j in joints}
    local = [j for j in joints if j["name"] in cycles]  # every joint; with a submodel the local ones
    try:
        engel = effective_ctes_layers(model, assignment, lo, hi, local)
    except Exception as exc:  # a hand check must never stop a finished run; say why it is missing
        engel = {j["name"]: {"reason": f"Engelmaier inputs could not be formed ({type(exc).__name__}: {exc})"}
                 for j in local}
    method = {"section": "quarter_3d", "kinematics": "3D", "interface_layer_mm": layer,
              "joint_element_size_mm": assembly_joint_size(case) if sub is None else float(sub.joint_size_mm),
              "solder_model": ",".join(sorted({getattr(g.law, "kind", type(g.law).__name__)
                                               for g in problem.groups
                                               if problem.materials[g.material].name in
                                               {assignment[j].name for j in joints_info}}))}
    if sub is not None:
        method["submodel"] = "global-local: dW from the local fine model of each candidate joint"
    info.update(joints_block(cycles, joints_info, assignment, case.spec.fatigue.models,
                             profile.mean_temperature_C(), cyc.dwell_min, engel, method,
                             case.spec.fatigue.calibration_data))
    info["dW_definition"] = ("Darveaux: change over a cycle of the volume-averaged inelastic work density W in "
                             f"the solder within {layer:g} mm of each pad interface (MPa per cycle)")
    g = case.spec.geometry
    summary = {
        "case": case.name, "case_file": str(case.path), "version": __version__,
        "content_hash": content_key,
        "geometry": {"family": g.family, "model": "quarter_3d", "options": g.options, "board": True,
                     "dimensions_mm": model.info.get("dimensions_mm"), "layers": model.info.get("layers"),
                     "joints_in_quarter": len(joints)},
        "analysis": {
            "model": "quarter_3d", "basis": BASIS_ASSEMBLY_PROCESS if history else BASIS_ASSEMBLY,
            "stress_free_temperature_C": sft,
            "stress_free_state": (f"the {case.sequence} process history (see process)" if history else
                                  f"one stress-free temperature, {sft:g} C, for every material"),
            "supports": "symmetry planes x = 0 (u_x = 0) and y = 0 (u_y = 0), u_z = 0 at "
                        + ("the lowest package node on their line (a region that exists through the whole "
                           "history)" if history else "the board bottom's node on their line"),
            "not_in_3d_yet": "the process history with [mesh.submodel], hysteresis loops, checkpoints of a "
                             "submodel run, warpage rows at analysis.temperatures_C (run the free quarter or the "
                             "section twin for warpage)",
        },
        "sections": {"assembly": {
            "mesh": model.source, "nodes": model.n_nodes, "elements": model.n_elements,
            "element": "10-node tetrahedron (C3D10 order)", "dofs": problem.n_dofs,
            "solver": problem.solver.name, "factorizations": problem.newton_steps,
            "regions": model.region_names, "size_mm": model.info.get("size_mm"),
            "joint_size_mm": assembly_joint_size(case),
            "materials": {r: {"material": m.name, "from": m.origin} for r, m in assignment.items()
                          if r in model.region_names},
            "build_s": round(t_build, 3),
        }},
        "temperatures": [],
        "cycling": info,
    }
    if process is not None:
        from .process_case import process_summary
        from .sections import Section

        summary["process"] = process_summary(case, {"assembly": process},
                                             Section("assembly", model, assignment, "bottom", None))
    if sub is not None:
        from .run3d_submodel import SUBMODEL_BASIS

        summary["analysis"]["basis"] = BASIS_ASSEMBLY + "; " + SUBMODEL_BASIS
        summary["sections"]["assembly"]["local_joint_size_mm"] = float(sub.joint_size_mm)
    _write_joint_table(out / "joints_dW.csv", info["joints"], joints_info)
    info["joints_csv"] = "joints_dW.csv"
    screening = info.get("submodel", {}).get("global_screening")
    if screening is not None:
        _write_joint_table(out / "joints_dW_global_screening.csv", screening, joints_info)
        info["submodel"]["csv"] = "joints_dW_global_screening.csv"
    if case.spec.output.vtu:
        if state is not None:
            _write_final_fields(out, [(model, problem, state, "fields_end.vtu")])
        else:  # a submodel: the local models' final states, one part each (the coarse global state is no result)
            _write_final_fields(out, [(loc.model, loc.problem, loc.state,
                                       f"fields_local_{loc.model.info['global_joint']}.vtu") for loc in r.locals])
        summary["fields"] = "fields.pvd"
    if case.spec.output.plots:
        from .post.plots3d import plot_joint_dw_map

        crit = info.get("critical_joint") or {}
        if screening is None:
            plot_joint_dw_map(out / "plots" / "joint_dW_map.png", info["joints"], joints_info, crit.get("name"),
                              title=f"{case.name}: dW per cycle, cycle {cyc.cycles} ({lo:g}/{hi:g} C)")
        else:  # every ball only in the coarse global model: a screening map, the fine critical ball ringed
            plot_joint_dw_map(out / "plots" / "joint_dW_map.png", screening, joints_info, crit.get("name"),
                              title=f"{case.name}: coarse global dW (screening), cycle {cyc.cycles}; ringed: "
                                    f"critical in the local models", critical_dW_MPa=crit.get("dW_MPa"))
        info["plots"] = ["plots/joint_dW_map.png"]
    summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
    atomic_write_json(out / "summary.json", summary)
    return summary


def assembly_content_hash(case, model=None, assignment=None) -> str:
    """The content hash of a 3D assembly run (case, its mesh, materials, code version); without ``model``
    the assembly is built (meshed, seconds) to fingerprint it."""
    from .analysis.quarter3d import build_assembly
    from .provenance import content_hash
    from .sections import Section

    if model is None:
        model, assignment = build_assembly(case)
    return content_hash(case, [Section("assembly", model, assignment, "bottom", None)])


def per_cycle3d(rec) -> dict[str, list[dict]]:
    """{joint: [{cycle, dW_<side>_MPa, inelastic_strain_<side>}, ...]} for cycles 1..N of a 3D record."""
    W = np.asarray(rec.cycle_W)
    P = np.asarray(rec.cycle_p)
    out: dict[str, list[dict]] = {}
    for c in range(1, W.shape[0]):
        rows: dict[str, dict] = {}
        for bi, (joint, side) in enumerate(rec.bands):
            row = rows.setdefault(joint, {"cycle": c})
            row[f"dW_{side}_MPa"] = float(W[c, bi] - W[c - 1, bi])
            row[f"inelastic_strain_{side}"] = float(P[c, bi] - P[c - 1, bi])
        for joint, row in rows.items():
            out.setdefault(joint, []).append(row)
    return out


def _write_joint_table(path: Path, joints: list[dict], info: dict[str, dict]) -> None:
    from .post.files import atomic_write_text

    lines = ["joint,row,col,x_mm,y_mm,dnp_mm,share_of_ball,dW_package_MPa,dW_board_MPa,critical_interface"]
    for j in joints:
        i, last = info[j["name"]], j["cycles"][-1]
        lines.append(f"{j['name']},{i['row']},{i['col']},{i['x_mm']:.6g},{i['y_mm']:.6g},{i['dnp_mm']:.6g},"
                     f"{i.get('fraction', 1.0):.4g},{last.get('dW_package_MPa', float('nan')):.6g},"
                     f"{last.get('dW_board_MPa', float('nan')):.6g},{j['critical_interface']}")
    atomic_write_text(path, "\n".join(lines) + "\n")


def _write_final_fields(out: Path, parts) -> None:
    """The final state as VTU, one file per (model, problem, state, file name) in ``parts``: displacement, per
    element the mean accumulated inelastic strain and work; ``fields.pvd`` shows them together."""
    import meshio

    from .constitutive.state import equivalent_inelastic_strain, inelastic_work
    from .post.files import atomic_write_bytes
    from .post.vtu import write_pvd

    out.mkdir(parents=True, exist_ok=True)
    entries, regions = [], []
    for k, (model, problem, state, name) in enumerate(parts):
        p_el = np.zeros(model.n_elements)
        W_el = np.zeros(model.n_elements)
        for g, gs in zip(problem.groups, state.groups):
            p_el[g.elements] = np.asarray(equivalent_inelastic_strain(gs)).reshape(g.elements.size, -1).mean(axis=1)
            W_el[g.elements] = np.asarray(inelastic_work(gs)).reshape(g.elements.size, -1).mean(axis=1)
        mesh = meshio.Mesh(model.nodes, [("tetra10", model.elements)],
                           point_data={"displacement_mm": np.asarray(state.u).reshape(-1, 3)},
                           cell_data={"inelastic_strain": [p_el], "inelastic_work_MPa": [W_el],
                                      "region": [model.element_region.astype(np.int32)]})
        tmp = out / f".{name}.tmp.vtu"
        meshio.write(tmp, mesh)
        atomic_write_bytes(out / name, tmp.read_bytes())
        tmp.unlink()
        entries.append((float(state.T), name, k))
        regions.append(f"{name}: " + ", ".join(model.region_names))
    write_pvd(out / "fields.pvd", entries, comment="end of the last cycle; regions: " + "; ".join(regions))
