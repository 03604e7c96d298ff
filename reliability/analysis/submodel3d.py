"""Global-local (submodel) thermal cycling of a 3D fan-out assembly quarter: coarse joints globally,
the critical joint fine in a local model driven by the global displacements on its cut faces.

1. The global model (:func:`~reliability.geometry.quarter3d_assembly.build_fan_out_assembly_quarter`
   with a coarse ``joint_size_mm``; Anand solder, every material as in the full model) is cycled by
   :func:`~reliability.analysis.cycling3d.run_cycling3d`.  At the end of every converged increment
   (t s, T C) its displacement (mm) is interpolated at the local model's cut-face nodes and kept.
2. The local model (:func:`~reliability.geometry.quarter3d_local.build_joint_local_model`: one joint
   fine, with the block of package and board about it) is walked through the SAME increments (same t
   and T, so the same creep rates), its cut-face dofs prescribed to the kept global values
   (:class:`~reliability.analysis.inelastic3d.InelasticProblem3D` ``prescribed``).  A local increment
   that does not converge is cut back (halved, the prescribed values and T linear in t within the
   increment, exact for the profile's piecewise-linear T(t)).
3. The local joint's Darveaux bands (:func:`~reliability.analysis.cycling3d.joint_bands3d`) give dW
   per cycle as the full model's (:class:`~reliability.analysis.cycling3d.Cycling3DRecord`).

The interpolation (:func:`p2_interpolation`) is the global model's own P2 field: each point is
located in a global tetrahedron (k nearest centroids, linear barycentric coordinates, then Newton on
the isoparametric map of a curved element), and the ten shape functions there are a row of a sparse
(points x nodes) matrix; it reproduces any quadratic field exactly on straight elements.

What the submodel assumes (Saint-Venant): the cut faces, half a pitch from the ball's axis, are far
enough from the joint that the global model's coarse joint does not change their displacement; the
test on a 3 x 3 array (tests/test_3d_submodel.py) measures how far that holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import GeometryError
from ..fem.threads import openblas_single_threaded
from ..geometry.submodel_sizes import GLOBAL_JOINT_MM, GLOBAL_LAYER_MM, GLOBAL_SIZE_MM, LOCAL_JOINT_MM, LOCAL_SIZE_MM
from .cycling3d import Cycling3DRecord, advance, joint_bands3d, run_cycling3d

LOCATE_NEIGHBOURS = 24  # candidate tetrahedra per point (nearest centroids); retried with 8x as many


def _p2_basis(xi: np.ndarray):
    """P2 tetrahedron values (n, 10) and reference gradients (n, 10, 3) at reference points xi (n, 3)."""
    from skfem import ElementTetP2

    element = ElementTetP2()
    n = xi.shape[0]
    N = np.empty((n, 10))
    dN = np.empty((n, 10, 3))
    for a in range(10):  # the ten reference functions, each vectorised over the points
        phi, dphi = element.lbasis(xi.T, a)
        N[:, a] = phi
        dN[:, a, :] = dphi.T
    return N, dN


def _invert_map(X: np.ndarray, points: np.ndarray, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton on the isoparametric map x(xi) = sum_a N_a(xi) x_a of the elements X (n, 10, 3) from xi (n, 3):
    (xi, |x(xi) - point| mm).  Straight elements are exact after the first step."""
    for _ in range(8):
        N, dN = _p2_basis(xi)
        r = points - np.einsum("na,nai->ni", N, X)
        if np.abs(r).max(initial=0.0) <= 1e-14 * max(1.0, np.abs(points).max(initial=0.0)):
            break
        J = np.einsum("nai,naj->nij", X, dN)
        xi = xi + np.linalg.solve(J, r[..., None])[..., 0]
    N, _ = _p2_basis(xi)
    return xi, np.linalg.norm(points - np.einsum("na,nai->ni", N, X), axis=1)


def _inside(xi: np.ndarray) -> np.ndarray:
    """The smallest barycentric coordinate of reference points xi (..., 3): >= 0 inside the tetrahedron."""
    return np.minimum(xi.min(axis=-1), 1.0 - xi.sum(axis=-1))


def locate_points(nodes: np.ndarray, elements: np.ndarray, points: np.ndarray, tol: float = 1e-7):
    """(element (n,), reference coordinates (n, 3)) of every point (n, 3) mm in a mesh of 10-node
    tetrahedra (our C3D10 order, geometry3d), vectorised over the points.

    Candidates are the elements with the nearest centroids; the one whose straight (corner) tetrahedron
    holds the point, by its linear barycentric coordinates, is refined by Newton on its isoparametric
    map.  A point outside every straight candidate (near a curved face) takes the first of its best
    candidates whose curved element holds it after Newton.  A point outside every element by more
    than ``tol`` (in barycentric units) is a GeometryError."""
    from scipy.spatial import cKDTree

    corners = nodes[elements[:, :4]]  # (E, 4, 3)
    tree = cKDTree(corners.mean(axis=1))
    E = elements.shape[0]
    found = np.full(points.shape[0], -1, dtype=np.int64)
    xi = np.zeros((points.shape[0], 3))
    todo = np.arange(points.shape[0])
    for k in (LOCATE_NEIGHBOURS, 8 * LOCATE_NEIGHBOURS):
        k = min(k, E)
        if todo.size == 0:
            break
        _, cand = tree.query(points[todo], k=k)
        cand = cand.reshape(todo.size, k)
        v0 = corners[cand, 0]  # (n, k, 3)
        M = (corners[cand, 1:] - v0[:, :, None, :]).transpose(0, 1, 3, 2)  # columns: the three edges
        lam = np.linalg.solve(M, (points[todo][:, None, :] - v0)[..., None])[..., 0]  # (n, k, 3)
        order = np.argsort(-_inside(lam), axis=1)
        rows = np.arange(todo.size)
        ok = _inside(lam[rows, order[:, 0]]) >= -tol
        found[todo[ok]] = cand[ok, order[ok, 0]]
        xi[todo[ok]] = lam[ok, order[ok, 0]]
        rest = ~ok
        for rank in range(min(4, k)):  # curved elements: Newton on the best few straight candidates
            if not rest.any():
                break
            i = np.flatnonzero(rest)
            e = cand[i, order[i, rank]]
            x_i, gap = _invert_map(nodes[elements[e]], points[todo[i]], lam[i, order[i, rank]])
            hit = (_inside(x_i) >= -tol) & (gap <= 1e-9 * max(1.0, np.abs(points).max()))
            found[todo[i[hit]]] = e[hit]
            xi[todo[i[hit]]] = x_i[hit]
            rest[i[hit]] = False
        todo = todo[rest]
    if todo.size:
        raise GeometryError(f"{todo.size} point(s) lie outside the global mesh, e.g. {points[todo[0]].tolist()} mm")
    xi, _ = _invert_map(nodes[elements[found]], points, xi)
    return found, xi


def p2_interpolation(model, points: np.ndarray):
    """Sparse (n_points, n_nodes) matrix P with P @ u (N, 3) = the model's P2 displacement field at
    ``points`` (n, 3) mm (the ten shape functions of the tetrahedron holding each point)."""
    import scipy.sparse as sp

    el, xi = locate_points(model.nodes, model.elements, np.asarray(points, dtype=float))
    N, _ = _p2_basis(xi)
    n = xi.shape[0]
    return sp.csr_matrix((N.ravel(), model.elements[el].ravel(), np.arange(0, 10 * n + 1, 10)),
                         shape=(n, model.n_nodes))


def local_supports(local) -> tuple[np.ndarray, np.ndarray]:
    """(held (3 N,) bool, prescribed (3 N,) bool) of a local model: u_x = 0 on its symmetry_x face,
    u_y = 0 on symmetry_y, every component of the cut-face nodes prescribed (the cut wins on a shared
    edge: the global value there has the symmetry already)."""
    n = local.n_nodes
    held = np.zeros((n, 3), dtype=bool)
    held[local.boundaries["symmetry_x"], 0] = True
    held[local.boundaries["symmetry_y"], 1] = True
    given = np.zeros((n, 3), dtype=bool)
    given[local.boundaries["cut"], :] = True
    held &= ~given
    return held.ravel(), given.ravel()


class _Recorder:
    """A problem seen by run_cycling3d that keeps, after every converged increment, t, T, P u (the global
    displacement at the local models' cut-face nodes) and, with ``keep_u``, u itself."""

    def __init__(self, problem, P, keep_u: bool = False):
        self.problem, self.P, self.keep_u = problem, P, keep_u
        self.t, self.T, self.values, self.u = [], [], [], []

    def __getattr__(self, name):
        return getattr(self.problem, name)

    def initial_state(self, T=None):
        state = self.problem.initial_state(T)
        self._keep(state)
        return state

    def increment(self, state_n, t, T, u_guess=None):
        new = self.problem.increment(state_n, t, T, u_guess)
        self._keep(new)  # run_cycling3d accepts every increment that returns
        return new

    def _keep(self, state):
        self.t.append(float(state.t))
        self.T.append(float(state.T))
        if self.P is not None:
            self.values.append(self.P @ state.u.reshape(-1, 3))
        if self.keep_u:
            self.u.append(state.u.copy())


def _rank(spec) -> int | None:
    """1 for "critical", k for "critical:k", None for a joint given by name, (row, col) or "corner"."""
    if not isinstance(spec, str) or not spec.startswith("critical"):
        return None
    if spec == "critical":
        return 1
    head, _, k = spec.partition(":")
    if head != "critical" or not k.isdigit() or int(k) < 1:
        raise GeometryError(f"local joint {spec!r}: give a name, 'corner', 'critical' or 'critical:k' (k >= 1)")
    return int(k)


def ranked_joints(global_dW: dict) -> list[str]:
    """Joint names by their larger band dW (package or board side), largest first."""
    worst: dict[str, float] = {}
    for (name, _side), w in global_dW.items():
        worst[name] = max(worst.get(name, -np.inf), float(w))
    return sorted(worst, key=lambda n: -worst[n])


def cycle_end_times(profile) -> list[float]:
    """End time (s) of every cycle of ``profile`` (the cool-down's first, as cycle 0)."""
    ends = []
    for si, seg in enumerate(profile.segments):
        if si + 1 == len(profile.segments) or profile.segments[si + 1].cycle != seg.cycle:
            ends.append(seg.t1)
    return ends


def run_prescribed_path(problem, times, temps, values, bands, record_at, max_cutbacks: int = 8, log=None,
                        what: str = "local increment"):
    """Walk ``problem`` (an InelasticProblem3D with ``prescribed`` dofs) through the increments ending at
    ``times[1:]`` (s) with temperatures ``temps`` (C) and prescribed values ``values`` (n + 1, n_prescribed)
    mm, from the stress-free state at times[0]; band means at every time in ``record_at`` (s).  Returns
    (final state, :class:`Cycling3DRecord`)."""
    from ..constitutive.state import equivalent_inelastic_strain, inelastic_work

    t0 = time.perf_counter()
    times, temps, values = np.asarray(times, float), np.asarray(temps, float), np.asarray(values, float)
    state = problem.initial_state(temps[0])
    state.t = float(times[0])
    state.u[problem.prescribed] = values[0]
    rec = Cycling3DRecord(bands=[(b.joint, b.side) for b in bands])
    marks = [float(t) for t in record_at]

    def band_means(st):
        W = [inelastic_work(g) for g in st.groups]
        p = [equivalent_inelastic_strain(g) for g in st.groups]
        return [b.average(W[b.group]) for b in bands], [b.average(p[b.group]) for b in bands]

    def maybe_record(st):
        if marks and abs(st.t - marks[0]) <= 1e-6 * max(1.0, abs(marks[0])):
            marks.pop(0)
            w, p = band_means(st)
            rec.cycle_W.append(w)
            rec.cycle_p.append(p)
            rec.cycle_wall_s.append(time.perf_counter() - t0 - sum(rec.cycle_wall_s))
            if log is not None:
                log(f"local model: {len(rec.cycle_W)} cycle end(s) at t = {st.t:.0f} s, T = {st.T:g} C; "
                    f"{rec.increments} increments, {time.perf_counter() - t0:.1f} s")

    maybe_record(state)
    predictor = [np.zeros_like(state.u), 0.0]
    with openblas_single_threaded():
        for k in range(1, times.size):
            ta, tb = times[k - 1], times[k]

            def at(t, k=k, ta=ta, tb=tb):  # T and the cut faces' values linear in t inside a global increment
                w = (t - ta) / (tb - ta)
                return (1 - w) * temps[k - 1] + w * temps[k], {"u_prescribed": (1 - w) * values[k - 1] + w * values[k]}

            state = advance(problem, state, tb, at, rec, max_cutbacks, predictor, what)
            maybe_record(state)
    rec.wall_s = time.perf_counter() - t0
    return state, rec


@dataclass
class LocalResult:
    """One joint's local model and its cycling (dW in MPa per cycle, times in s)."""

    joint: dict  # the joint (name, row, col, dnp_mm, ...)
    dW_package: float  # package-side band dW in the last cycle
    dW_board: float
    record: Cycling3DRecord
    model: object
    dofs: int  # free dofs (the cut faces' prescribed ones not counted)
    mesh_s: float
    s: float  # walking the global increments
    state: object = None  # the local model's final state (State3D)
    problem: object = None  # its InelasticProblem3D


@dataclass
class SubmodelResult:
    """What :func:`run_submodel_cycling` measures (dW in MPa per cycle, times in s); the first local
    model's numbers as fields, every local model in ``locals``."""

    joint: dict  # the (first) local joint (name, row, col, dnp_mm, ...)
    dW_package: float  # its package-side band dW in the last cycle
    dW_board: float
    local_record: Cycling3DRecord
    global_record: Cycling3DRecord
    global_dW: dict  # (joint, side) -> the global (coarse) model's dW in the last cycle
    global_model: object
    local_model: object
    global_dofs: int
    local_dofs: int
    global_mesh_s: float
    local_mesh_s: float
    global_s: float  # cycling the global model
    local_s: float  # walking the (first) local model
    interpolation_s: float
    total_s: float
    locals: list = field(default_factory=list)  # LocalResult of every local joint, the first one first
    global_problem: object = None  # the global InelasticProblem3D (its solver counts)

    def dW_history(self) -> np.ndarray:
        """(cycles, 2): the local joint's package and board dW per cycle."""
        return self.local_record.dW()


def run_submodel_cycling(profile, options: dict | None = None, dimensions: dict | None = None,
                         board: dict | None = None, balls_per_half: int | None = None,
                         first_ball_mm: float | None = None, joint="corner",
                         global_joint_size_mm: float = GLOBAL_JOINT_MM, global_size_mm: float = GLOBAL_SIZE_MM,
                         global_layer_size_mm: float = GLOBAL_LAYER_MM, local_joint_size_mm: float = LOCAL_JOINT_MM,
                         local_size_mm: float = LOCAL_SIZE_MM,
                         half_width_mm: float | None = None, T_ref_C: float = 217.0,
                         layer_mm: float = 0.025, increments_per_ramp: int = 12, increments_per_dwell: int = 8,
                         materials=None, global_model=None, extra_joints=(), solver: str = "auto",
                         tol: float = 1e-5, max_cutbacks: int = 8, max_local_elements: int | None = None,
                         log=None) -> SubmodelResult:
    """Cycle the fan-out assembly quarter along ``profile`` (stress-free at T_ref_C) globally with coarse
    joints, then one joint finely in its local model driven by the global displacements on its cut faces;
    returns the local joint's band dW (package and board side, MPa per cycle, last cycle) and the cost
    (module doc).

    ``joint`` and each of ``extra_joints`` (further local models driven by the same global run): a name,
    (row, col), ``"corner"`` (the largest DNP), ``"critical"`` (the joint with the global model's largest
    band dW; the global displacement history is then kept whole, 8 bytes x dofs x increments) or
    ``"critical:k"`` (the k-th largest); a joint named twice gets one local model.
    ``materials``: region -> Material (default: the library's ``default_materials``); ``global_model``: a
    built global model (then the geometry arguments are not used).  The default global sizes (joint
    0.3 mm, 0.6 mm elsewhere, layers at most 0.3 mm thick) are about the coarsest the ball geometry
    allows: the 16 x 16 array's quarter is then 30 k tetrahedra (150 k dofs) with 63 solder tetrahedra
    per joint; coarser sizes hardly change that, the pads, the mask opening and the board mask's
    opening set it."""
    from ..geometry.quarter3d_assembly import build_fan_out_assembly_quarter
    from ..geometry.quarter3d_local import build_joint_local_model
    from ..library import get_material
    from .inelastic3d import InelasticProblem3D

    t_start = time.perf_counter()
    say = log or (lambda s: None)
    t0 = time.perf_counter()
    gm = global_model or build_fan_out_assembly_quarter(options, dimensions, board, size_mm=global_size_mm,
                                                        joint_size_mm=global_joint_size_mm,
                                                        layer_size_mm=global_layer_size_mm,
                                                        balls_per_half=balls_per_half, first_ball_mm=first_ball_mm)
    global_mesh_s = time.perf_counter() - t0

    def mats_for(m):
        if materials is not None:
            return {r: materials[r] for r in m.region_names}
        return {r: get_material(v) for r, v in m.info["default_materials"].items() if r in m.region_names}

    def build_local(spec):
        t = time.perf_counter()
        lm = build_joint_local_model(gm, spec, half_width_mm=half_width_mm, joint_size_mm=local_joint_size_mm,
                                     size_mm=local_size_mm)
        if max_local_elements is not None and lm.n_elements > max_local_elements:
            raise GeometryError(f"the local model of {lm.info['global_joint']} has {lm.n_elements} tetrahedra, above "
                                f"{max_local_elements}; give a larger local joint or block size")
        held, given = local_supports(lm)
        cut_nodes = np.flatnonzero(given.reshape(-1, 3).any(axis=1))
        return dict(model=lm, held=held, given=given, cut_nodes=cut_nodes, mesh_s=time.perf_counter() - t)

    specs = [joint] + list(extra_joints)
    built = {i: build_local(sp) for i, sp in enumerate(specs) if _rank(sp) is None}
    t0 = time.perf_counter()
    offsets, P = {}, None
    if built:
        import scipy.sparse as sp

        mats_P, n = [], 0
        for i, loc in built.items():
            mats_P.append(p2_interpolation(gm, loc["model"].nodes[loc["cut_nodes"]]))
            offsets[i] = (n, n + loc["cut_nodes"].size)
            n += loc["cut_nodes"].size
        P = sp.vstack(mats_P).tocsr()
    interpolation_s = time.perf_counter() - t0

    gp = InelasticProblem3D(gm, mats_for(gm), T_ref_C, solver=solver, tol=tol)
    gbands = joint_bands3d(gm, gp.groups, gp.geo.xq, gp.geo.dx, layer_mm)
    say(f"global model: {gm.n_elements} tetrahedra, {gp.n_dofs} dofs ({global_mesh_s:.1f} s to mesh); local models: "
        + ", ".join(f"{b['model'].info['global_joint']} ({b['model'].n_elements} tetrahedra, {b['cut_nodes'].size} "
                    "cut-face nodes)" for b in built.values()))
    recorder = _Recorder(gp, P, keep_u=len(built) < len(specs))
    _, grec = run_cycling3d(recorder, profile, gbands, increments_per_ramp, increments_per_dwell, max_cutbacks,
                            log=log)
    global_s = grec.wall_s
    global_dW = dict(zip(grec.bands, grec.dW()[-1]))
    ranked = ranked_joints(global_dW)
    for i, spec in enumerate(specs):
        if i in built:
            continue
        k = _rank(spec)
        worst = ranked[min(k, len(ranked)) - 1]  # "critical:k": the global model's k-th largest band dW
        if any(b["model"].info["global_joint"] == worst for b in built.values()):
            continue  # already a local model (e.g. the corner ball is also among the largest)
        built[i] = build_local(worst)
        t0 = time.perf_counter()
        Pi = p2_interpolation(gm, built[i]["model"].nodes[built[i]["cut_nodes"]])
        built[i]["values"] = np.asarray([(Pi @ u.reshape(-1, 3)).ravel() for u in recorder.u])
        interpolation_s += time.perf_counter() - t0
    recorder.u.clear()

    ends = cycle_end_times(profile)
    if profile.segments[0].kind != "cooldown":
        ends = [profile.segments[0].t0] + ends
    results = []
    for i in sorted(built):  # a loop over local models
        loc = built[i]
        lm = loc["model"]
        values = loc.get("values")
        if values is None:
            a, b = offsets[i]
            values = np.asarray([v[a:b].ravel() for v in recorder.values])
        lp = InelasticProblem3D(lm, mats_for(lm), T_ref_C, solver=solver, fixed=loc["held"], prescribed=loc["given"],
                                tol=tol)
        lbands = joint_bands3d(lm, lp.groups, lp.geo.xq, lp.geo.dx, layer_mm)
        say(f"local model of {lm.info['global_joint']}: {lp.n_dofs} free dofs, {lp.prescribed.size} prescribed")
        lstate, lrec = run_prescribed_path(lp, recorder.t, recorder.T, values, lbands, ends, max_cutbacks, log=log,
                                           what=f"local model of {lm.info['global_joint']}: increment")
        dW = dict(zip(lrec.bands, lrec.dW()[-1]))
        name = lm.info["global_joint"]
        results.append(LocalResult(joint=lm.info["joints"][0], dW_package=float(dW.get((name, "package"), np.nan)),
                                   dW_board=float(dW.get((name, "board"), np.nan)), record=lrec, model=lm,
                                   dofs=lp.n_dofs, mesh_s=loc["mesh_s"], s=lrec.wall_s, state=lstate, problem=lp))
    first = results[0]
    return SubmodelResult(
        joint=first.joint, dW_package=first.dW_package, dW_board=first.dW_board, local_record=first.record,
        global_record=grec, global_dW=global_dW, global_model=gm, local_model=first.model, global_dofs=gp.n_dofs,
        local_dofs=first.dofs, global_mesh_s=global_mesh_s, local_mesh_s=sum(r.mesh_s for r in results),
        global_s=global_s, local_s=sum(r.s for r in results), interpolation_s=interpolation_s,
        total_s=time.perf_counter() - t_start, locals=results, global_problem=gp)
