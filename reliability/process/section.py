"""A section through its fabrication history: the steps, what each left behind, and the finished package.

:func:`run_process` builds the incremental problem of one section (its
point supports on nodes that exist through every step), runs the steps
with a :class:`~reliability.process.history.History`, and records after
each step the temperature, the warpage and coplanarity of the package's
bottom (of the lowest built layer while the bottom is not yet built) and
the largest von Mises stress of each built region.  From the end state it
evaluates the requested temperatures and, for a free package, the warpage
over a reflow profile 25 -> peak -> 25 C every 25 K (JESD22-B112).

Stresses here are those of the history: viscoplastic solder at its own
state, elastic bodies from their birth references.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..analysis.incremental import InelasticProblem, State
from ..analysis.thermoelastic import von_mises
from ..analysis.warpage import Profile, active_surface_profile
from ..errors import CaseError
from ..fem.threads import openblas_single_threaded
from ..post.progress import on_terminal, progress_line
from .history import TOLERANCE, History, persistent_nodes
from .steps import born_later

REFLOW_CURVE_STEP_K = 25.0  # JESD22-B112 measures at temperature steps; 25 K is the usual spacing
REFLOW_CURVE_RATE_K_PER_MIN = 60.0  # U: heating/cooling between the measurement points


@dataclass
class ProcessState:
    """The section at one temperature of its history (what a row, a plot or a VTU file needs).

    u : (N, 2) nodal displacement, mm ((N, 3) in a 3D model; nodes of elements not yet built: 0 or stale)
    stress : (E, Q, 4) stress, MPa ((E, Q, 6) in 3D; 0 in elements not built)
    active : (E,) bool, elements that exist
    """

    T_C: float
    u: np.ndarray
    extra: np.ndarray
    stress: np.ndarray
    active: np.ndarray

    @property
    def von_mises(self) -> np.ndarray:
        if self.stress.shape[-1] == 6:  # a 3D model
            from ..fem.kinematics3d import von_mises3d

            return von_mises3d(self.stress)
        return von_mises(self.stress)


@dataclass
class ProcessResult:
    problem: InelasticProblem
    steps: list[dict]
    end: State  # the converged state at the end of the last step (the cycling starts from it)
    evaluations: dict[float, tuple[ProcessState, Profile]] = field(default_factory=dict)
    reflow_curve: list[dict] | None = None
    reflow_note: str = ""
    step_profiles: list[tuple[str, Profile]] = field(default_factory=list)
    end_snapshot: ProcessState | None = None
    wall_s: float = 0.0
    initial_C: float = 0.0
    solver: dict = field(default_factory=dict)  # increments, cut-backs, iterations, factorizations


def melting_regions(model, assignment, steps) -> set[str]:
    """Regions whose material has a solidus below the peak of some reflow step."""
    peaks = [s.peak_C for s in steps if s.kind == "reflow"]
    if not peaks:
        return set()
    return {r for r, m in assignment.items()
            if r in model.region_names and m.spec.solidus_C is not None and m.spec.solidus_C < max(peaks)}


def make_problem(section, kinematics: str, initial_C: float, steps, solver: str = "auto", tol: float = TOLERANCE,
                 newton: str = "bfgs") -> InelasticProblem:
    """The incremental problem of a section, supported on nodes that exist through the whole history."""
    if kinematics == "plane_stress":
        raise CaseError("process: plane_stress cannot carry a process history (viscoplastic solder needs "
                        "plane_strain or generalized_plane_strain); set process.sequence = \"none\" or another "
                        "kinematics")
    removed = {r for s in steps if s.kind == "deactivate" for r in s.regions}
    transient = born_later(steps) | removed | melting_regions(section.model, section.assignment, steps)
    keep = persistent_nodes(section.model, transient)
    return InelasticProblem(section.model, section.assignment, kinematics, initial_C,
                            symmetry_line=section.symmetry_line, solver=solver, tol=tol, newton=newton,
                            support_candidates=keep)


def snapshot(history: History, state: State | None = None) -> ProcessState:
    state = history.state if state is None else state
    problem = history.problem
    if hasattr(problem, "full_displacement"):
        u, extra = problem.full_displacement(state.u)
    else:  # a 3D model: the full nodal numbering already, no extra unknowns
        u, extra = state.u.reshape(-1, 3).copy(), np.zeros(0)
    return ProcessState(float(state.T), u, extra, problem.stress_field(state), state.birth.active.copy())


def active_nodes(model, active: np.ndarray) -> np.ndarray:
    out = np.zeros(model.n_nodes, dtype=bool)
    out[model.elements[active].ravel()] = True
    return out


def profile_of(section, st: ProcessState, centre_x) -> Profile:
    return active_surface_profile(section.model, st.u, section.warpage_surface, centre_x,
                                  active_nodes(section.model, st.active))


def region_max_von_mises(model, st: ProcessState) -> dict[str, float]:
    """Largest von Mises stress (MPa, over quadrature points) of every built region."""
    vm = st.von_mises.max(axis=1)
    out = {}
    for r, name in enumerate(model.region_names):
        mine = (model.element_region == r) & st.active
        if mine.any():
            out[name] = float(vm[mine].max())
    return out


class _Recorder:
    """Observer: one record per step."""

    def __init__(self, section, measure, bar, lines: bool = False, n_steps: int = 0):
        self.section = section
        self.measure = measure
        self.records: list[dict] = []
        self.profiles: list[tuple[str, Profile]] = []
        self.bar = bar
        self.lines = lines  # one progress line per step (no terminal)
        self.n_steps = n_steps
        self.t0 = time.perf_counter()

    def __call__(self, index, step, history) -> None:
        st = snapshot(history)
        prof = self.measure(st)
        self.records.append({
            "index": index + 1,
            "kind": step.kind,
            "description": step.describe(),
            "claim": step.claim,
            "note": step.note,
            "T_C": round(st.T_C, 6),
            "time_s": round(float(history.state.t), 3),
            "warpage_um": prof.warpage_um,
            "coplanarity_um": prof.coplanarity_um,
            "von_mises_max_MPa": region_max_von_mises(self.section.model, st),
        })
        self.profiles.append((f"step {index + 1} ({step.kind}, {st.T_C:g} C)", prof))
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{step.kind} T={st.T_C:.0f} C")
        if self.lines:
            progress_line(f"process [{self.section.role}] step {index + 1}/{self.n_steps} {step.describe()}: "
                          f"T = {st.T_C:g} C, warpage {prof.warpage_um:+.2f} um, "
                          f"{history.problem.iterations} iterations so far, {time.perf_counter() - self.t0:.1f} s")


def run_process(section, initial_C: float, steps, kinematics: str, centre_x, *, temperatures=(), solver="auto",
                tol=TOLERANCE, newton="bfgs", max_step_K=10.0, reflow_curve_peak_C: float | None = None,
                progress: bool = False, problem: InelasticProblem | None = None, labels=None,
                measure=None) -> ProcessResult:
    """Run ``steps`` on ``section`` from ``initial_C``; evaluate ``temperatures`` and the reflow curve at the end.

    ``measure(ProcessState)``: the warpage of a state (an object with ``warpage_um`` and ``coplanarity_um``;
    default the section's bottom profile, :func:`profile_of`); a 3D model gives its own with ``problem``."""
    t0 = time.perf_counter()
    problem = problem or make_problem(section, kinematics, initial_C, steps, solver, tol, newton)
    if measure is None:
        measure = lambda st: profile_of(section, st, centre_x)  # noqa: E731
    bar = None
    if progress and on_terminal():
        from tqdm import tqdm

        bar = tqdm(total=len(steps), desc=f"process [{section.role}]", unit="step", leave=False)
    recorder = _Recorder(section, measure, bar, lines=progress and bar is None, n_steps=len(steps))
    history = History(problem, initial_C, born_later(steps), max_step_K=max_step_K, observer=recorder)
    try:
        with openblas_single_threaded():  # PARDISO's solves are faster with one BLAS thread (see there)
            end = history.run(steps, labels)
            result = ProcessResult(problem, recorder.records, end, step_profiles=recorder.profiles,
                                   end_snapshot=snapshot(history))
            sweeps(history, measure, [float(T) for T in temperatures], reflow_curve_peak_C, result)
    finally:
        if bar is not None:
            bar.close()
    problem.configure(end.birth)
    result.wall_s = time.perf_counter() - t0
    result.solver = {"increments": history.increments, "cutbacks": history.cutbacks,
                     "newton_iterations": problem.iterations, "factorizations": problem.solver.factorizations,
                     # what this history ran with (the cycling may later solve the same problem to its own tol)
                     "tolerance": problem.tol, "predictor": history.predictor}
    return result


def sweeps(history: History, measure, temperatures: list[float], peak_C: float | None,
           result: ProcessResult) -> None:
    """From the end of the process: the requested temperatures and the reflow warpage curve.

    One heating sweep passes every requested temperature above the end temperature and the curve's
    points up to ``peak_C``, then the curve's cooling branch; one cooling sweep passes the temperatures
    below.  Solder inside the package melts above its solidus (no stiffness there) and solidifies again
    on the way down.  The history itself is left as it was."""
    T0 = float(history.state.T)
    if T0 in temperatures:
        snap = snapshot(history)
        result.evaluations[T0] = (snap, measure(snap))
    curve_up: list[float] = []
    curve_down: list[float] = []
    if peak_C is not None:
        curve_up = [float(T) for T in np.arange(T0, peak_C, REFLOW_CURVE_STEP_K)] + [float(peak_C)]
        curve_down = curve_up[-2::-1]
    up = sorted({T for T in temperatures if T > T0} | set(curve_up))
    down = sorted({T for T in temperatures if T < T0}, reverse=True)
    points = []
    for branch, targets in (("heating", up), ("cooling", down)):
        if not targets:
            continue
        with history.branch():
            history.step_label = (f"process end: warpage from {T0:g} C to " + ", ".join(f"{T:g}" for T in targets)
                                  + " C")
            melts = {n: s for n, s in history.melting_regions().items() if peak_C is None or s < peak_C}
            if melts and peak_C is not None:
                result.reflow_note = ("solder inside the package (" + ", ".join(sorted(melts)) + ") is molten "
                                      f"above {min(melts.values()):g} C: no stiffness there; it solidifies "
                                      "again on the way down")
            path = [(T, "heating") for T in targets] if branch == "heating" else [(T, "cooling") for T in targets]
            if branch == "heating":
                path += [(T, "curve_cooling") for T in curve_down]
            for T, leg in path:
                history.ramp_melting(T, REFLOW_CURVE_RATE_K_PER_MIN, melts=melts)
                snap = snapshot(history)
                prof = measure(snap)
                if leg != "curve_cooling" and T in temperatures and T not in result.evaluations:
                    result.evaluations[T] = (snap, prof)
                if (leg == "heating" and T in curve_up) or leg == "curve_cooling":
                    points.append({"T_C": T, "branch": "heating" if leg == "heating" else "cooling",
                                   "warpage_um": prof.warpage_um, "coplanarity_um": prof.coplanarity_um})
    if peak_C is not None:
        # the end temperature starts the curve: recorded before the sweep
        if not points or points[0]["T_C"] != T0:
            prof = measure(result.end_snapshot)
            points.insert(0, {"T_C": T0, "branch": "heating", "warpage_um": prof.warpage_um,
                              "coplanarity_um": prof.coplanarity_um})
        result.reflow_curve = points
    result.evaluations = {T: result.evaluations[T] for T in temperatures if T in result.evaluations}
