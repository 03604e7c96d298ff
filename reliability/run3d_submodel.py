"""`reliability run` of a quarter_3d assembly case with ``[mesh.submodel]``: the global-local run and its block.

:func:`run_submodel` cycles the coarse global model (the case's assembly mesh), then the local fine models
of the corner ball and of the ``mesh.submodel.candidates`` balls of largest global dW
(:func:`reliability.analysis.submodel3d.run_submodel_cycling`); :func:`submodel_block` is the summary's
``cycling.submodel`` (sizes, cost, every ball's coarse dW as screening only).  The joints, the critical
joint and the lives are made from the local records by :mod:`reliability.run3d_cycling`, as for a full
model.
"""

from __future__ import annotations

SUBMODEL_BASIS = ("global-local submodel: every joint coarse in the global model (screening values only, "
                  "cycling.submodel.global_screening), the candidate joints (the largest global dW and the corner "
                  "ball) each fine in a local block of one pitch whose cut faces follow the global displacements; "
                  "joints, critical joint and lives come from the local models (tests/test_3d_submodel.py: the "
                  "local corner joint of a 3 x 3 array within 5 % of the full fine model's dW); fields.pvd: the "
                  "local models' final states")


def run_submodel(case, model, assignment, profile, T_ref: float, layer: float, progress: bool):
    """Cycle the global (coarse) assembly, then the local model of the corner ball and of each of the
    mesh.submodel.candidates joints with the largest global dW (:func:`.analysis.submodel3d.run_submodel_cycling`)."""
    from .analysis.submodel3d import run_submodel_cycling
    from .errors import CaseError, GeometryError, MeshError
    from .post.progress import progress_line

    sub, cyc = case.spec.mesh.submodel, case.spec.analysis.cycling
    try:
        return run_submodel_cycling(
            profile, global_model=model, materials=assignment, joint="corner",
            extra_joints=[f"critical:{k}" for k in range(1, sub.candidates + 1)],
            local_joint_size_mm=float(sub.joint_size_mm), local_size_mm=float(sub.size_mm), T_ref_C=T_ref,
            layer_mm=layer, increments_per_ramp=cyc.increments_per_ramp,
            increments_per_dwell=cyc.increments_per_dwell, solver=case.spec.analysis.solver, tol=cyc.tolerance,
            max_cutbacks=cyc.max_cutbacks, max_local_elements=case.spec.mesh.max_elements,
            log=progress_line if progress else None)
    except (GeometryError, MeshError) as exc:  # a local model's mesh: one line naming the keys that made it
        raise CaseError(f"{case.path}: mesh.submodel (joint_size_mm = {sub.joint_size_mm:g}, size_mm = "
                        f"{sub.size_mm:g}): {exc}") from None


def submodel_block(case, r) -> dict:
    """``cycling.submodel`` of summary.json: the local models' sizes and cost, and every joint's coarse global dW
    (screening only) as ``cycling.joints``-shaped entries."""
    from .analysis.submodel3d import ranked_joints

    sub = case.spec.mesh.submodel
    last = {}
    for (name, side), w in r.global_dW.items():
        last.setdefault(name, {"cycle": case.spec.analysis.cycling.cycles})[f"dW_{side}_MPa"] = float(w)
    screening = []
    for name in ranked_joints(r.global_dW):
        row = last[name]
        worst = max((s for s in ("package", "board") if f"dW_{s}_MPa" in row), key=lambda s: row[f"dW_{s}_MPa"])
        screening.append({"name": name, "dW_last_cycle_MPa": row[f"dW_{worst}_MPa"], "critical_interface": worst,
                          "cycles": [row], "basis": "coarse global model: screening, not a life"})
    return {
        "method": "global-local (docs/3d.md)", "candidates": sub.candidates,
        "global_joint_size_mm": r.global_model.info.get("joint_size_mm"),
        "local_joint_size_mm": float(sub.joint_size_mm), "local_size_mm": float(sub.size_mm),
        "global_dofs": r.global_dofs, "global_s": round(r.global_s, 2),
        "local_models": [{"joint": loc.model.info["global_joint"], "tetrahedra": loc.model.n_elements,
                          "free_dofs": loc.dofs, "s": round(loc.s, 2), "increments": loc.record.increments,
                          "cutbacks": loc.record.cutbacks, "residual_evaluations": loc.problem.iterations,
                          "factorizations": loc.problem.newton_steps}
                         for loc in r.locals],
        "global_screening": screening,
    }
