"""A case's fabrication history: which steps each section runs, running them, and the summary block.

The steps are the case's own (``[[process.steps]]``) or the family's claimed
sequence (:mod:`reliability.process.claimed`).  A family case has two
sections: the free package runs the package's steps (its board-level
regions skipped) and gives the process warpage and the reflow curve; the
assembly runs them too and then the board-assembly reflow, and its end state
is where the thermal cycling starts.
"""

from __future__ import annotations

import os
import threading

from .assignment import check_temperature_range
from .case import Case
from .errors import CaseError
from .process.claimed import claimed_steps
from .process.limits import jeita_limit, judge
from .process.section import ProcessResult, run_process
from .process.steps import Reflow, RegionStep
from .sections import Section

# The sections' histories are independent (the cycling needs only the assembly's end state): the free
# package's runs on a thread beside the assembly's, which the calling thread runs.  Every number is the
# same as one after the other (each section has its own problem, solver and worker threads; PARDISO's
# conditional numerical reproducibility and NumPy's OpenBLAS held at one thread over both keep them
# bitwise equal); only the wall time changes, by what the second core can take.  RELIABILITY_SERIAL_SECTIONS=1
# (or CONCURRENT_SECTIONS = False) runs them one after the other, the old path.
CONCURRENT_SECTIONS = os.environ.get("RELIABILITY_SERIAL_SECTIONS", "") not in ("1", "true", "yes")

STRESS_BASIS = "process history: solder at its viscoplastic state, elastic parts from their birth references"
ELASTIC_BASIS = ("elastic, not a real stress in inelastic regions (one stress-free temperature, "
                 "process.sequence = \"none\")")


def _labels(case: Case, n: int) -> list[str] | None:
    return [f"process.steps[{i}]" for i in range(n)] if case.sequence == "steps" else None


def _check_regions(case: Case, secs: list[Section]) -> None:
    """Every region a case's own step names is in some section (one line naming the step otherwise)."""
    known = set().union(*(s.model.region_names for s in secs))
    for i, step in enumerate(case.steps or []):
        names = list(step.regions) if isinstance(step, RegionStep) else list(getattr(step, "join", []))
        for r in names:
            if r not in known:
                key = "regions" if isinstance(step, RegionStep) else "join"
                raise CaseError(f"{case.path}: process.steps[{i}].{key} = {r!r}: not a region of the model; "
                                f"regions: {', '.join(sorted(known))}")


def _for_section(steps, present: set[str]):
    """The steps with the regions a section does not have left out (a step left with none goes)."""
    out, index = [], []
    for i, step in enumerate(steps):
        if isinstance(step, RegionStep):
            regions = [r for r in step.regions if r in present]
            if not regions:
                continue
            step = step.model_copy(update={"regions": regions})
        elif isinstance(step, Reflow) and step.join:
            step = step.model_copy(update={"join": [r for r in step.join if r in present]})
        out.append(step)
        index.append(i)
    return out, index


def section_steps(case: Case, section: Section) -> tuple[float, list, list[str] | None]:
    """(initial_C, steps, labels) of ``section``."""
    present = set(section.model.region_names)
    if case.sequence == "steps":
        steps, index = _for_section(case.steps, present)
        return case.spec.process.initial_C, steps, [f"process.steps[{i}]" for i in index]
    g = case.spec.geometry
    try:
        initial, steps = claimed_steps(g.family, g.options, section.model.region_names, section.assignment)
    except ValueError as exc:
        raise CaseError(f"{case.path}: process: {exc}") from None
    if case.spec.process.initial_C is not None:
        initial = case.spec.process.initial_C
    return initial, steps, None


def check_step_temperatures(case: Case, section: Section, initial: float, steps, labels) -> None:
    """Every temperature a step goes to lies in the data of every material present (solder that melts in a
    reflow excepted above its solidus): checked before anything is solved, one line naming the step."""
    def check(T: float, key: str, melting_below: float | None = None) -> None:
        mats = {r: m for r, m in section.assignment.items() if r in section.model.region_names
                and not (melting_below is not None and m.spec.solidus_C is not None
                         and m.spec.solidus_C < melting_below)}
        check_temperature_range(case, mats, [T], key)

    check(initial, "process.initial_C")
    for i, st in enumerate(steps):
        key = f"{labels[i] if labels else f'process step {i + 1}'} ({st.describe()})"
        temps = {"ramp": [getattr(st, "to_C", None)], "activate": [getattr(st, "at_C", None)],
                 "evaluate": list(getattr(st, "temperatures_C", []))}.get(st.kind, [])
        for T in temps:
            if T is not None:
                check(float(T), key)
        if st.kind == "reflow":
            check(float(st.peak_C), key, melting_below=float(st.peak_C))
    if case.spec.geometry.family is not None or case.spec.process.reflow_curve:
        p = case.spec.process.reflow_peak_C
        if section.role == "package" and case.spec.process.reflow_curve is not False:
            check(p, "process.reflow_peak_C", melting_below=p)


def reflow_limit(section: Section):
    """The ED-7306 limit of a built package, by its ball pitch (None without balls)."""
    dims = section.model.info.get("dimensions_mm") or {}
    return jeita_limit(dims.get("ball_pitch"))


def process_tolerance(case: Case, cycling_tol: float = 1e-5) -> float:
    """The process history's Newton tolerance: process.tolerance if given, else TOLERANCE (1e-7) with the
    predictor, or ``cycling_tol`` (the cycling's, as before issue 19) on the old path without it."""
    from .process import history

    given = case.spec.process.tolerance
    if given is not None:
        return float(given)
    return history.TOLERANCE if history.PREDICTOR else float(cycling_tol)


def run_processes(case: Case, secs: list[Section], temperatures: dict[str, list[float]], centre_x,
                  progress: bool, newton: str = "bfgs", tol: float = 1e-5) -> dict[str, ProcessResult]:
    """Run the history of every section; ``temperatures[role]`` are evaluated at its end, and the free package
    of a family case (or a mesh case that asks for it) also gives the reflow warpage curve.  ``tol`` (the
    cycling's tolerance) is the process's only on the old path (RELIABILITY_PROCESS_PREDICTOR=0) without
    process.tolerance: see :func:`process_tolerance`."""
    _check_regions(case, secs)
    p, a = case.spec.process, case.spec.analysis
    tol = process_tolerance(case, tol)
    want_curve = p.reflow_curve if p.reflow_curve is not None else case.spec.geometry.family is not None
    plans = {s.role: section_steps(case, s) for s in secs}
    for s in secs:
        check_step_temperatures(case, s, *plans[s.role])

    def one(s):
        initial, steps, labels = plans[s.role]
        peak = p.reflow_peak_C if (want_curve and s.role == "package") else None
        try:
            result = run_process(s, initial, steps, a.kinematics, centre_x(s), temperatures=temperatures[s.role],
                                 solver=a.solver, tol=tol, newton=newton, max_step_K=p.max_step_K,
                                 reflow_curve_peak_C=peak, progress=progress, labels=labels)
        except CaseError as exc:
            raise CaseError(f"{case.path}: [{s.role}] {exc}") from None
        result.initial_C = initial
        return result

    if not CONCURRENT_SECTIONS or len(secs) < 2:
        return {s.role: one(s) for s in secs}
    from .fem.threads import openblas_single_threaded

    done: dict[str, tuple] = {}

    def background(s):
        try:
            done[s.role] = (one(s), None)
        except BaseException as exc:  # handed to the calling thread
            done[s.role] = (None, exc)

    # held over every thread: each run_process enters it too, and nested limits leaving in another order
    # than they came would otherwise restore OpenBLAS's threads in the middle of the other's run
    with openblas_single_threaded():
        threads = [threading.Thread(target=background, args=(s,), name=f"process-{s.role}", daemon=True)
                   for s in secs[:-1]]
        for t in threads:
            t.start()
        try:
            last = one(secs[-1])
        except KeyboardInterrupt:
            raise  # the other sections' threads are daemons: nothing waits for them
        except BaseException:
            # a failure here: a section that failed too and comes first (in the serial order) is the one reported
            for t in threads:
                t.join()
            for s in secs[:-1]:
                if done[s.role][1] is not None:
                    raise done[s.role][1]
            raise
        for t in threads:
            t.join()
    for s in secs[:-1]:
        if done[s.role][1] is not None:
            raise done[s.role][1]
    out = {s.role: done[s.role][0] for s in secs[:-1]}
    out[secs[-1].role] = last
    return out


def process_summary(case: Case, results: dict[str, ProcessResult], package: Section) -> dict:
    """The ``process`` block of summary.json."""
    block = {"sequence": case.sequence, "stress_basis": STRESS_BASIS, "sections": {}}
    for role, r in results.items():
        block["sections"][role] = {"initial_C": r.initial_C, "steps": r.steps, "wall_time_s": round(r.wall_s, 3),
                                   "dofs": r.problem.n_dofs, **r.solver}
    pkg = results.get("package")
    block["steps"] = pkg.steps if pkg is not None else []
    if pkg is not None and pkg.reflow_curve is not None:
        limit = reflow_limit(package)
        block["warpage_vs_temperature"] = {
            "profile": f"25 -> {case.spec.process.reflow_peak_C:g} -> 25 C every 25 K (JESD22-B112 points)",
            "points": judge(pkg.reflow_curve, limit),
            "limit": limit.to_json() if limit else None,
            "limit_note": None if limit else "no ED-7306 limit: the package has no ball grid",
            "passes": None if limit is None else all(abs(q["warpage_um"]) <= limit.limit_um for q in pkg.reflow_curve),
            "section_bias": "the 2D section's centre-line warpage, not the full-surface (centre-to-corner) warpage "
                            "ED-7306 limits; round-1 3D comparison: 2D reads 15-57 % below full-surface",
            "note": pkg.reflow_note,
        }
    return block
