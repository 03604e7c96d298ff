"""Thermal cycling of a 3D quarter assembly: the increments through a JEDEC profile and each joint's dW.

The 3D counterpart of :class:`~reliability.analysis.cycling.CyclingRun`, on
:class:`~reliability.analysis.inelastic3d.InelasticProblem3D`: the profile's
segments are split into the same increments (:func:`.profile.segment_times`:
``increments_per_ramp`` equal temperature steps per ramp, ``increments_per_dwell``
geometric steps per dwell), an increment that does not converge is cut back
(halved, up to ``max_cutbacks`` times), and at the end of every cycle the
Darveaux interface bands of every joint are volume-averaged:

    W_band = sum_i W_i V_i / sum_i V_i

over the solder points within ``interface_layer_mm`` (0.025 mm, one mil;
physics.md 3.1) of the joint's package-side or board-side pad plane.  The
per-cycle dW is the difference of W_band between cycle ends.  The predictor
of each increment is the last increment's displacement change scaled by
the temperature change, as in 2D.

Checkpoints at every cycle end (:func:`save_checkpoint3d`); a run after a
process history starts from its end state.  Not yet in 3D (stated in the
run's basis): the hysteresis loops.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..constitutive.state import equivalent_inelastic_strain, inelastic_work
from ..errors import ConvergenceError
from ..fem.threads import openblas_single_threaded
from .incremental import IncrementFailed
from .joints import Band
from .profile import Profile, segment_times


def joint_bands3d(model, groups, xq: np.ndarray, dx: np.ndarray, layer_mm: float) -> list[Band]:
    """The package-side and board-side bands of every joint in ``model.info['joints']``.

    A joint gives its ``elements`` (indices into the model) and the heights of its two pad interfaces
    (planes); a band is the joint's quadrature points within
    ``layer_mm`` of one of them, weighted by their volume ``dx``.  Keys: ``interface_package_z_mm``,
    ``interface_board_z_mm`` (:func:`~reliability.geometry.quarter3d_assembly.build_fan_out_assembly_quarter`).
    """
    bands = []
    Q = xq.shape[1]
    for joint in model.info.get("joints", []):
        el = np.asarray(joint["elements"], dtype=np.int64)
        for gi, g in enumerate(groups):
            local = np.flatnonzero(np.isin(g.elements, el))
            if local.size == 0:
                continue
            pts = (local[:, None] * Q + np.arange(Q)).ravel()
            z = xq[g.elements[local]][..., 2].ravel()
            w = dx[g.elements[local]].ravel()
            for side, key in (("package", "interface_package_z_mm"), ("board", "interface_board_z_mm")):
                near = np.abs(z - float(joint[key])) <= layer_mm
                if np.any(near):
                    bands.append(Band(joint["name"], side, gi, pts[near], w[near]))
    return bands


@dataclass
class Cycling3DRecord:
    """What a 3D cycling run records: per cycle end (0 = the start of cycle 1), each band's W and p."""

    bands: list[tuple[str, str]]  # (joint, side) of every band
    t: list = field(default_factory=list)  # s, per increment
    T: list = field(default_factory=list)  # C, per increment
    cycle_W: list = field(default_factory=list)  # per cycle end: band-averaged W (MPa) per band
    cycle_p: list = field(default_factory=list)  # per cycle end: band-averaged p per band
    increments: int = 0
    cutbacks: int = 0
    wall_s: float = 0.0
    cycle_wall_s: list = field(default_factory=list)  # s spent in each cycle (the cool-down is cycle 0)

    def dW(self) -> np.ndarray:
        """(cycles, bands): the change of every band's W over each cycle (MPa per cycle)."""
        W = np.asarray(self.cycle_W)
        return np.diff(W, axis=0)


def advance(problem, state, t_target: float, at, rec, max_cutbacks: int, predictor: list, what: str):
    """Increments from ``state`` to ``t_target`` (s), each halved on :class:`IncrementFailed` up to
    ``max_cutbacks`` times, then :class:`ConvergenceError` naming ``what``, t and T.

    ``at(t)`` -> (T C, extra keyword arguments of ``problem.increment`` at t); ``predictor`` = [du, dT] of
    the last increment, updated in place: each increment starts from u + (dT / dT_last) du when the
    temperature keeps its direction.  Every converged increment is appended to ``rec`` (t, T, increments;
    cut-backs counted)."""
    while state.t < t_target - 1e-9:
        dt = t_target - state.t
        for cut in range(max_cutbacks + 1):
            t_new = state.t + dt
            T_new, extra = at(t_new)
            dT = T_new - state.T
            du_prev, dT_prev = predictor
            guess = state.u + (dT / dT_prev) * du_prev if dT_prev != 0 and dT * dT_prev > 0 else state.u
            try:
                new = problem.increment(state, t_new, T_new, guess, **extra)
                break
            except IncrementFailed as exc:
                rec.cutbacks += 1
                dt *= 0.5
                error = exc
        else:
            raise ConvergenceError(f"{what} did not converge at t = {t_new:.1f} s, T = {T_new:.1f} C after "
                                   f"{max_cutbacks} cut-backs: {error}")
        predictor[:] = [new.u - state.u, dT]
        state = new
        rec.t.append(state.t)
        rec.T.append(state.T)
        rec.increments += 1
    return state


def save_checkpoint3d(path: Path, key: str, problem, state, rec: Cycling3DRecord, next_segment: int,
                      predictor: list) -> None:
    """The converged state at a cycle end with what the next increment depends on (the predictor, the solver
    precision) and the record, written atomically (uncompressed .npz)."""
    import io
    import json
    from dataclasses import asdict

    from ..io.files import atomic_write_bytes

    arrays = {"key": np.array(key), "u": state.u, "t": np.array(state.t), "T": np.array(state.T),
              "next_segment": np.array(next_segment), "du_prev": predictor[0], "dT_prev": np.array(predictor[1]),
              "double": np.array(not getattr(problem.solver, "single", False)),
              "counts": np.array([problem.iterations, problem.newton_steps]),
              "record": np.array(json.dumps(asdict(rec)))}
    for i, (st, sig) in enumerate(zip(state.groups, state.stress)):
        arrays[f"g{i}_stress"] = sig
        for k, v in st.items():
            arrays[f"g{i}_{k}"] = v
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(Path(path), buf.getvalue())


def load_checkpoint3d(path: Path, key: str, problem):
    """(state, record, next segment, predictor) from a checkpoint of this ``key``, else None with the reason
    (another case's, or a file this code cannot read: start afresh).  The solver switches to double
    precision if the interrupted run had."""
    import json
    import zipfile

    from .inelastic3d import State3D

    template = problem.initial_state()
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None, "it belongs to another case or mesh"
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        return None, f"it cannot be read ({type(exc).__name__})"
    data = arrays
    try:
        groups = [{k: data[f"g{i}_{k}"] for k in st} for i, st in enumerate(template.groups)]
        stress = [data[f"g{i}_stress"] for i in range(len(template.groups))]
    except KeyError as exc:
        return None, f"it lacks {exc} (an older format)"
    state = State3D(u=data["u"], groups=groups, stress=stress, t=float(data["t"]), T=float(data["T"]))
    if bool(data["double"]) and getattr(problem.solver, "single", False):
        problem.solver.use_double()
    problem.iterations, problem.newton_steps = (int(c) for c in data["counts"])
    raw = json.loads(str(data["record"]))
    raw["bands"] = [tuple(b) for b in raw["bands"]]
    return (state, Cycling3DRecord(**raw), int(data["next_segment"]), [data["du_prev"], float(data["dT_prev"])]), ""


def run_cycling3d(problem, profile: Profile, bands: list[Band], increments_per_ramp: int = 12,
                  increments_per_dwell: int = 8, max_cutbacks: int = 8, log=None, checkpoint: Path | None = None,
                  key: str = "", resume: bool = False, start=None):
    """Walk ``profile`` from the stress-free state at its start, or from ``start`` (a process history's end
    state, its Birth with it; the problem configured for it); returns (final state, record).

    ``log(text)``: called once per finished cycle with a progress line (for the terminal and the log).
    ``checkpoint``: written at every cycle end (:func:`save_checkpoint3d`); with ``resume`` a checkpoint of
    the same ``key`` is continued from.  Every run takes a fresh factor after each cycle end, so a resumed
    run takes the same iterates as an uninterrupted one.
    """
    t0 = time.perf_counter()
    # the profile's clock starts at 0 s (a process history's end state carries the history's time)
    state = problem.initial_state(profile.segments[0].T0) if start is None else replace(start, t=0.0)
    rec = Cycling3DRecord(bands=[(b.joint, b.side) for b in bands])
    ramp_dT = profile.t_max_C - profile.t_min_C
    first, loaded = 0, None
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        loaded, why = load_checkpoint3d(checkpoint, key, problem)
        if loaded is None and log is not None:
            log(f"3D thermal cycling: --resume: {checkpoint} is not used, {why}; running from the start")
    wall_before = 0.0
    if loaded is not None:
        state, rec, first, predictor = loaded
        state.birth = None if start is None else start.birth  # the process that made it ran again
        wall_before = rec.wall_s
        if log is not None:
            log(f"3D thermal cycling: resumed from {checkpoint} at t = {state.t:g} s, T = {state.T:g} C "
                f"({len(rec.cycle_W)} cycle ends done)")

    def band_means(st):
        W = [inelastic_work(g) for g in st.groups]
        p = [equivalent_inelastic_strain(g) for g in st.groups]
        return [b.average(W[b.group]) for b in bands], [b.average(p[b.group]) for b in bands]

    if loaded is None:
        if profile.segments[0].kind != "cooldown":
            w, p = band_means(state)
            rec.cycle_W.append(w)
            rec.cycle_p.append(p)
        predictor = [np.zeros_like(state.u), 0.0]
    t_cycle = time.perf_counter()
    with openblas_single_threaded():
        for si, seg in enumerate(profile.segments):
            if si < first:
                continue
            for t_target in segment_times(seg, increments_per_ramp, increments_per_dwell, ramp_dT):
                state = advance(problem, state, t_target, lambda t: (seg.temperature(t), {}), rec, max_cutbacks,
                                predictor, f"3D increment (cycle {seg.cycle}, {seg.kind})")
            last_of_cycle = si + 1 == len(profile.segments) or profile.segments[si + 1].cycle != seg.cycle
            if last_of_cycle:
                w, p = band_means(state)
                rec.cycle_W.append(w)
                rec.cycle_p.append(p)
                rec.cycle_wall_s.append(time.perf_counter() - t_cycle)
                t_cycle = time.perf_counter()
                rec.wall_s = wall_before + time.perf_counter() - t0
                if checkpoint is not None:
                    save_checkpoint3d(checkpoint, key, problem, state, rec, si + 1, predictor)
                problem.forget_factor()  # a fresh factor after every cycle end, resumed or not
                if log is not None:
                    worst = max(np.diff(np.asarray(rec.cycle_W)[-2:], axis=0)[0]) if len(rec.cycle_W) > 1 else 0.0
                    log(f"3D thermal cycling: {'cool-down' if seg.cycle == 0 else 'cycle'} {seg.cycle}/"
                        f"{profile.cycles} done at T = {state.T:g} C; {rec.increments} increments, "
                        f"{problem.iterations} evaluations, {problem.newton_steps} factorizations, largest "
                        f"band dW {worst:.4g} MPa, {time.perf_counter() - t0:.1f} s")
    rec.wall_s = wall_before + time.perf_counter() - t0
    return state, rec
