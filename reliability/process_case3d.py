"""The fabrication history of a free 3D quarter model (``model = "quarter_3d"``, no board).

The same steps as the section's (:func:`reliability.process_case.section_steps`:
the family's claimed sequence with the regions the quarter does not have left
out, or the case's own ``[[process.steps]]``), run by the same
:class:`~reliability.process.history.History` on an
:class:`~reliability.analysis.inelastic3d.InelasticProblem3D`: regions born
strain-free on the body as deformed at their step's temperature, removals,
cure shrinkage, reflows and the evaluations at ``analysis.temperatures_C`` and
over the reflow curve (25 C -> peak -> 25 C every 25 K).  The warpage of every
state is the 3D one (:mod:`reliability.analysis.warpage3d`: full surface per
JESD22-B112, signed, on the bottom of the lowest built layer while the bottom
is not yet built, :func:`bottom_of_active`).

The z support sits on the lowest node of the x = y = 0 line among the regions
that exist through the whole history (the quarter's bottom layer, the solder
mask, is built last).
"""

from __future__ import annotations

import numpy as np

from .errors import CaseError
from .process.section import ProcessResult, run_process
from .process_case import check_step_temperatures, process_tolerance, section_steps
from .sections import Section


def bottom_of_active(model):
    """active (E,) bool -> the built nodes on the plane of the lowest built node of the centre line x = y = 0
    (the body's bottom there: the mold before the mask is built, the board once it is; pads that stand
    lower off the centre, e.g. the package pads before the mask, are not the body's bottom), cached by the
    active set."""
    cache: dict = {}
    x, y, z = model.nodes.T
    tol = 1e-9 * float(np.ptp(model.nodes, axis=0).max())
    axis = (np.abs(x) <= tol) & (np.abs(y) <= tol)

    def nodes(active: np.ndarray) -> np.ndarray:
        key = active.tobytes()
        if key not in cache:
            built = np.unique(model.elements[active].ravel())
            on_axis = built[axis[built]]
            z0 = z[on_axis].min() if on_axis.size else z[built].min()
            cache.clear()
            cache[key] = built[np.abs(z[built] - z0) <= tol]
        return cache[key]
    return nodes


def quarter_history(case, model, assignment, role: str = "package"):
    """(section, initial_C, steps, labels, supports (3 N,) bool) of the case's history on the free quarter: the
    steps checked against the materials' temperature ranges, the z support on a node that exists throughout."""
    from .analysis.thermoelastic3d import quarter_supports
    from .process.history import persistent_nodes
    from .process.section import melting_regions
    from .process.steps import born_later

    section = Section(role, model, assignment, "bottom", None)
    initial, steps, labels = section_steps(case, section)
    check_step_temperatures(case, section, initial, steps, labels)
    removed = {r for s in steps if s.kind == "deactivate" for r in s.regions}
    keep = persistent_nodes(model, born_later(steps) | removed | melting_regions(model, assignment, steps))
    try:
        fixed = quarter_supports(model, candidates=keep)
    except CaseError as exc:
        raise CaseError(f"{case.path}: process: {exc}") from None
    return section, initial, steps, labels, fixed


def run_quarter_process(case, model, assignment, progress: bool = False) -> tuple[Section, ProcessResult]:
    """Run the case's process history on the free quarter; the evaluations hold (ProcessState, Surface3D)."""
    from .analysis.inelastic3d import InelasticProblem3D
    from .analysis.warpage3d import bottom_surface

    p, a = case.spec.process, case.spec.analysis
    section, initial, steps, labels, fixed = quarter_history(case, model, assignment)
    problem = InelasticProblem3D(model, assignment, initial, solver=a.solver, fixed=fixed,
                                 tol=process_tolerance(case))
    bottom = bottom_of_active(model)

    def measure(st):
        return bottom_surface(model.nodes, st.u, bottom(st.active))

    want_curve = p.reflow_curve if p.reflow_curve is not None else True
    try:
        result = run_process(section, initial, steps, None, None, temperatures=[float(T) for T in a.temperatures_C],
                             max_step_K=p.max_step_K, reflow_curve_peak_C=p.reflow_peak_C if want_curve else None,
                             progress=progress, problem=problem, labels=labels, measure=measure)
    except CaseError as exc:
        raise CaseError(f"{case.path}: [package, 3D] {exc}") from None
    result.initial_C = initial
    return section, result


def run_assembly_process(case, model, assignment, progress: bool = False) -> ProcessResult:
    """Run the case's history on the 3D assembly quarter: the package's steps, then the board-assembly reflow
    (the joints and the board born strain-free at the solder's solidus), cooled to room temperature; the
    thermal cycling starts from its end state (``result.end``, the problem configured for it)."""
    from .analysis.inelastic3d import InelasticProblem3D
    from .analysis.warpage3d import bottom_surface

    p, a = case.spec.process, case.spec.analysis
    section, initial, steps, labels, fixed = quarter_history(case, model, assignment, "assembly")
    problem = InelasticProblem3D(model, assignment, initial, solver=a.solver, fixed=fixed,
                                 tol=process_tolerance(case, a.cycling.tolerance))
    bottom = bottom_of_active(model)

    def measure(st):  # the lowest built plane: the package's bottom, then the board's
        return bottom_surface(model.nodes, st.u, bottom(st.active))

    try:
        result = run_process(section, initial, steps, None, None, max_step_K=p.max_step_K, progress=progress,
                             problem=problem, labels=labels, measure=measure)
    except CaseError as exc:
        raise CaseError(f"{case.path}: [assembly, 3D] {exc}") from None
    result.initial_C = initial
    return result
