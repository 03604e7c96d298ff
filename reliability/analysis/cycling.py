"""Thermal cycling of a section with viscoplastic solder: the incremental run.

Walks the profile increment by increment with :class:`InelasticProblem`,
cutting the step back (halving, up to ``max_cutbacks`` times) when an
increment does not converge, and records what the reliability outputs need:

* per joint and pad interface, the volume-averaged inelastic work density
  and equivalent inelastic strain at the end of every cycle (their
  differences are the per-cycle dW and dp), and the largest dp of any point
  of the joint;
* the band-averaged shear stress and inelastic shear strain at every
  increment (hysteresis loops);
* the warpage of the package's bottom surface at every increment.

The converged state is checkpointed (atomically) at the end of every
profile segment; a failure writes the last converged state too and raises
:class:`ConvergenceError` naming the time, temperature and residual.  A run
restarted with ``resume`` continues from the checkpoint.
"""

from __future__ import annotations

import dataclasses

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..constitutive.state import equivalent_inelastic_strain, inelastic_strain, inelastic_work
from ..errors import ConvergenceError
from ..fem.threads import openblas_single_threaded
from ..io.files import atomic_write_bytes
from ..io.progress import on_terminal, progress_line
from .incremental import IncrementFailed, InelasticProblem, State
from .joints import joint_bands
from .profile import Profile, segment_times
from .warpage import surface_profile


@dataclass
class CyclingSettings:
    profile: Profile
    increments_per_ramp: int = 12
    increments_per_dwell: int = 8
    max_cutbacks: int = 8
    interface_layer_mm: float = 0.025


@dataclass
class CyclingRecord:
    """Everything recorded during a run (arrays over increments / cycles)."""

    t: list
    T: list
    cycle: list
    warpage_um: list
    band_tau: list  # per increment: band-averaged tau_xy (MPa) per band
    band_gamma: list  # per increment: band-averaged inelastic gamma_xy per band
    cycle_W: list  # per completed cycle (0 = cool-down end): band-averaged W per band
    cycle_p: list  # per completed cycle: band-averaged p per band
    cycle_pmax: list  # per completed cycle: max over each joint of p gained in the cycle
    increments: int = 0
    cutbacks: int = 0
    # whole-run totals across resumes (the parts before the last checkpoint plus this process's)
    iterations: int = 0
    factorizations: int = 0
    wall_s: float = 0.0
    # per increment: band-averaged total gamma_xy per band (from the birth reference), whose loop
    # with tau closes once the cycle stabilises (the inelastic component drifts with ratcheting)
    band_gamma_total: list = dataclasses.field(default_factory=list)

    @staticmethod
    def empty() -> "CyclingRecord":
        return CyclingRecord([], [], [], [], [], [], [], [], [], 0, 0)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @staticmethod
    def from_json(text: str) -> "CyclingRecord":
        return CyclingRecord(**json.loads(text))


class CyclingRun:
    """One section through one profile."""

    def __init__(self, problem: InelasticProblem, settings: CyclingSettings, warpage_surface: str | None,
                 centre_x: float | None, checkpoint: Path | None = None, key: str = ""):
        self.problem = problem
        self.settings = settings
        self.warpage_surface = warpage_surface
        self.centre_x = centre_x
        self.checkpoint = checkpoint
        self.key = key
        model = problem.model
        self.bands = joint_bands(model, problem.groups, problem.geo.xq, problem.kin.w,
                                 settings.interface_layer_mm)
        self.joint_points: dict[str, tuple[int, np.ndarray]] = {}
        Q = problem.Q
        for joint in model.info.get("joints", []):
            if joint["name"] not in model.region_names:
                continue
            r = model.region_index(joint["name"])
            for gi, g in enumerate(problem.groups):
                local = np.flatnonzero(model.element_region[g.elements] == r)
                if local.size:
                    self.joint_points[joint["name"]] = (gi, (local[:, None] * Q + np.arange(Q)).ravel())
        # the bands' points as (element, quadrature point) of the whole mesh, for their total strain
        els, self._band_q, self._band_slices, start = [], [], [], 0
        for b in self.bands:
            els.append(problem.groups[b.group].elements[b.points // Q])
            self._band_q.append(b.points % Q)
            self._band_slices.append(slice(start, start + b.points.size))
            start += b.points.size
        self._band_elements, self._band_inverse = (np.unique(np.concatenate(els), return_inverse=True)
                                                   if els else (np.zeros(0, dtype=np.int64), None))
        self._band_q = np.concatenate(self._band_q) if self._band_q else np.zeros(0, dtype=np.int64)
        self.wall_s = 0.0
        self.initial: State | None = None
        self.dwell_ends: dict[str, State] = {}  # "dwell_hot" / "dwell_cold" of the last cycle (not on resume)

    # --- recording -------------------------------------------------------------------------
    def _band_shear(self, state: State):
        tau, gam = [], []
        for b in self.bands:
            tau.append(b.average(state.stress[b.group][:, 3]))
            gam.append(b.average(inelastic_strain(state.groups[b.group])[:, 3]))
        return tau, gam

    def _band_total_shear(self, state: State) -> list[float]:
        """Band-averaged total engineering shear strain gamma_xy (from the birth reference)."""
        if not self.bands:
            return []
        eps = self.problem.total_strain(state.u, self._band_elements)
        birth = state.birth
        if birth is not None and birth.eps_birth is not None:
            eps = eps - birth.eps_birth[self._band_elements]
        g = eps[self._band_inverse, self._band_q, 3]
        return [float(np.sum(g[sl] * b.weights) / np.sum(b.weights)) for b, sl in zip(self.bands, self._band_slices)]

    def _warpage(self, state: State) -> float:
        if not self.warpage_surface:
            return float("nan")
        u, _ = self.problem.full_displacement(state.u)
        return surface_profile(self.problem.model, u, self.warpage_surface, self.centre_x).warpage_um

    def _record(self, rec: CyclingRecord, state: State, cycle: int) -> None:
        rec.t.append(state.t)
        rec.T.append(state.T)
        rec.cycle.append(cycle)
        rec.warpage_um.append(self._warpage(state))
        tau, gam = self._band_shear(state)
        rec.band_tau.append(tau)
        rec.band_gamma.append(gam)
        rec.band_gamma_total.append(self._band_total_shear(state))

    def _cycle_end(self, rec: CyclingRecord, state: State, p_start: list[np.ndarray]) -> list[np.ndarray]:
        rec.cycle_W.append([b.average(inelastic_work(state.groups[b.group])) for b in self.bands])
        rec.cycle_p.append([b.average(equivalent_inelastic_strain(state.groups[b.group])) for b in self.bands])
        pmax = {}
        for name, (gi, pts) in self.joint_points.items():
            pmax[name] = float(np.max(equivalent_inelastic_strain(state.groups[gi])[pts] - p_start[gi][pts]))
        rec.cycle_pmax.append(pmax)
        return [equivalent_inelastic_strain(g).copy() for g in state.groups]

    # --- checkpoint --------------------------------------------------------------------------
    def _totals(self, rec: CyclingRecord) -> None:
        """Bring the record's whole-run counters up to now (checkpointed with it)."""
        it, fa, wall = self.problem.iterations, self.problem.solver.factorizations, time.perf_counter()
        rec.iterations += it - self._mark[0]
        rec.factorizations += fa - self._mark[1]
        rec.wall_s += wall - self._mark[2]
        self._mark = (it, fa, wall)

    def _save(self, state: State, rec: CyclingRecord, next_segment: int, p_start,
              du_prev: np.ndarray | None = None, dT_prev: float = 0.0) -> None:
        """Checkpoint the converged state with everything the next increment depends on: the
        predictor (last displacement increment and its dT) and the solver precision, so a resumed
        run takes the same iterates as an uninterrupted one (the factor itself is taken afresh
        after every checkpoint in both, see :meth:`run`)."""
        self._totals(rec)
        if self.checkpoint is None:
            return
        arrays = {"u": state.u, "t": np.array(state.t), "T": np.array(state.T),
                  "next_segment": np.array(next_segment),
                  "du_prev": np.zeros_like(state.u) if du_prev is None else du_prev,
                  "dT_prev": np.array(dT_prev),
                  "double": np.array(not getattr(self.problem.solver, "single", False))}
        for i, (st, sig) in enumerate(zip(state.groups, state.stress)):
            arrays[f"g{i}_stress"] = sig
            arrays[f"g{i}_pstart"] = p_start[i]
            for k, v in st.items():
                arrays[f"g{i}_{k}"] = v
        arrays["record"] = np.array(rec.to_json())
        arrays["key"] = np.array(self.key)
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # uncompressed: zlib cost 1.4 s per cycle for ~10 MB
        atomic_write_bytes(self.checkpoint, buf.getvalue())

    def _load(self):
        data = np.load(self.checkpoint, allow_pickle=False)
        if str(data["key"]) != self.key or "du_prev" not in data.files:
            return None  # another case's, or an older format's: start afresh
        groups, stress, p_start = [], [], []
        for i, g in enumerate(self.problem.groups):
            keys = g.model.state_fields
            groups.append({k: data[f"g{i}_{k}"] for k in keys})
            stress.append(data[f"g{i}_stress"])
            p_start.append(data[f"g{i}_pstart"])
        # the active elements and birth references do not change while cycling: those of the start
        birth = None if self.initial is None else self.initial.birth
        state = State(u=data["u"], groups=groups, stress=stress, t=float(data["t"]), T=float(data["T"]),
                      birth=birth)
        if bool(data["double"]) and getattr(self.problem.solver, "single", False):
            self.problem.solver.use_double()  # the interrupted run had switched: so does the resumed one
        predictor = (data["du_prev"], float(data["dT_prev"]))
        return state, CyclingRecord.from_json(str(data["record"])), int(data["next_segment"]), p_start, predictor

    # --- the run -------------------------------------------------------------------------------
    def run(self, progress: bool = True, resume: bool = False,
            initial: State | None = None) -> tuple[State, CyclingRecord]:
        """Cycle from ``initial`` (the end of a process history; its time restarts at 0) or, without it,
        from the stress-free state at the profile's start."""
        t0 = time.perf_counter()
        self._mark = (self.problem.iterations, self.problem.solver.factorizations, t0)
        self.initial = initial
        prof = self.settings.profile
        state, rec, first, p_start, predictor = None, None, 0, None, None
        if resume and self.checkpoint is not None and self.checkpoint.is_file():
            loaded = self._load()
            if loaded is not None:
                state, rec, first, p_start, predictor = loaded
        if state is None:
            if initial is not None:
                if abs(initial.T - prof.segments[0].T0) > 1e-6:
                    raise ValueError(f"the cycling profile starts at {prof.segments[0].T0:g} C, the given state "
                                     f"is at {initial.T:g} C")
                state = dataclasses.replace(initial, t=0.0)
            else:
                state = self.problem.initial_state()
                state.T = prof.segments[0].T0
            rec = CyclingRecord.empty()
            self._record(rec, state, 0)
            p_start = [equivalent_inelastic_strain(g).copy() for g in state.groups]
            if prof.segments[0].kind != "cooldown":
                p_start = self._cycle_end(rec, state, p_start)  # "cycle 0": the stress-free start
        self.record = rec
        self.state = state
        bar = None
        lines = progress and not on_terminal()  # a log: one line per cycle instead of a bar
        if progress and not lines:
            from tqdm import tqdm

            bar = tqdm(total=round(prof.end_s), initial=round(state.t), unit="s", leave=False,
                       desc="thermal cycling", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s {postfix}")
        du_prev, dT_prev = (np.zeros_like(state.u), 0.0) if predictor is None else predictor
        self.problem.forget_factor()  # as after every checkpoint: a resumed run starts the same way
        ramp_dT = prof.t_max_C - prof.t_min_C
        try:
            with openblas_single_threaded():  # see there: PARDISO's solves twice as fast
                for si in range(first, len(prof.segments)):
                    seg = prof.segments[si]
                    for t_target in segment_times(seg, self.settings.increments_per_ramp,
                                                  self.settings.increments_per_dwell, ramp_dT):
                        while state.t < t_target - 1e-9:
                            state, du_prev, dT_prev = self._advance(state, t_target, seg, du_prev, dT_prev, rec)
                            self.state = state
                            self._record(rec, state, seg.cycle)
                            rec.increments += 1
                            if bar is not None:
                                bar.set_postfix_str(f"cycle {seg.cycle}/{prof.cycles} {seg.kind} T={state.T:.0f} C")
                                bar.update(round(state.t) - bar.n)
                    if seg.kind.startswith("dwell") and seg.cycle == prof.cycles:
                        self.dwell_ends[seg.kind] = state  # the last cycle's hot and cold dwell ends
                    if seg.kind in ("dwell_cold", "cooldown") or si == len(prof.segments) - 1:
                        if si + 1 == len(prof.segments) or prof.segments[si + 1].cycle != seg.cycle:
                            p_start = self._cycle_end(rec, state, p_start)
                            if lines:
                                worst = max(rec.cycle_W[-1]) if rec.cycle_W[-1] else float("nan")
                                progress_line(f"thermal cycling: {'cool-down' if seg.cycle == 0 else 'cycle'} "
                                              f"{seg.cycle}/{prof.cycles} done at t = {state.t:.0f} s, "
                                              f"T = {state.T:g} C; {rec.increments} increments, "
                                              f"{self.problem.iterations} iterations, largest band W "
                                              f"{worst:.4g} MPa, {time.perf_counter() - t0:.1f} s")
                    self._save(state, rec, si + 1, p_start, du_prev, dT_prev)
                    # the next increment factorizes afresh, here and in a run resumed from this
                    # checkpoint, so both take the same iterates (issue 20, item 6)
                    self.problem.forget_factor()
        finally:
            if bar is not None:
                bar.close()
            self.wall_s += time.perf_counter() - t0
            self._totals(rec)
        return state, rec

    def _advance(self, state, t_target, seg, du_prev, dT_prev, rec):
        """One converged increment towards ``t_target``, cutting back on failure."""
        dt = t_target - state.t
        last_error, t_new, T_new = None, state.t, state.T
        for cut in range(self.settings.max_cutbacks + 1):
            t_new = state.t + dt
            T_new = seg.temperature(t_new)
            dT = T_new - state.T
            guess = state.u
            if dT_prev != 0.0 and dT * dT_prev > 0:
                guess = state.u + (dT / dT_prev) * du_prev
            try:
                new = self.problem.increment(state, t_new, T_new, guess)
                return new, new.u - state.u, dT
            except IncrementFailed as exc:
                last_error = exc
                rec.cutbacks += 1
                dt *= 0.5
        self._save(state, rec, self.settings.profile.segments.index(seg), [equivalent_inelastic_strain(g) for g in state.groups],
                   du_prev, dT_prev)
        where = f"checkpoint {self.checkpoint}" if self.checkpoint else "no checkpoint (none requested)"
        raise ConvergenceError(
            f"increment did not converge at t = {t_new:.1f} s, T = {T_new:.1f} C "
            f"(cycle {seg.cycle}, {seg.kind}) after {self.settings.max_cutbacks} cut-backs: {last_error} "
            f"(relative residual {last_error.residual:.2e}); last converged state at t = {state.t:.1f} s kept in {where}"
        )
