"""Incremental nonlinear solution: elastic regions plus viscoplastic/plastic ones.

Equilibrium at the end of an increment (time t, temperature T):

    R(u) = sum_e int B^T sigma(u, T, dt, state_n) dw = 0

Elastic regions are linear in u, and their stiffness and thermal force are
linear in a few coefficients of T (:mod:`.elastic_regions`): integrated
once per run, their force is a few sparse products per iteration.  Only the
elements of inelastic materials are re-evaluated (in one contiguous range
per core, on worker threads), and their consistent tangents assembled into
the same CSR pattern only when a step needs them.

Iteration (``newton``): ``"bfgs"`` (default) takes quasi-Newton steps from
the last factorized tangent (kept in single precision) with BFGS updates of
this increment, and factorizes the current tangent only when a step fails to
cut the residual to 0.7 of it (an increment that fails on the
single-precision factor is retried in double, which then stays); ``"full"`` factorizes the tangent
at every step.  On the default fan-out case (3 JEDEC G cycles, the
158 k-dof mesh of GEOMETRY_VERSION 2) BFGS needs 77 factorizations and 587
evaluations where Newton needs 233 and 374, and the run takes a third less
time; dW of the critical joint agrees to 0.05 %.

Convergence: ||R||_2 <= tol * ||sum_e |f_e| ||_2 (the residual against the
size of the element forces that make it up), tol = 1e-5 by default: on the
paste-plug WLP, dW of the critical joint moves by 0.06 % from tol = 1e-6
(1.1 % at 1e-4).  Steps are damped by a backtracking line search.  An
increment that does not converge within ``max_iterations`` Newton steps
raises :class:`IncrementFailed`; the caller cuts the step back.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..constitutive.models import inelastic_model
from ..errors import CaseError, ConvergenceError
from ..fem.assembly import Assembler, element_force, element_stiffness, element_strain
from ..fem.constraints import supports
from ..fem.geometry import element_geometry
from ..fem.kinematics import make_kinematics
from ..fem.solvers import choose, make_solver, rigid_body_modes
from ..material import Material
from ..model import Model
from .birth import Birth
from .elastic_regions import ElasticRegions, IntegralCache
from .quasi_newton import inverse_product, secant_pair
from .thermoelastic import element_materials

ACTIVE_ONLY = True  # update only the built points of a partly built group (False: all, the old path; for tests)
# scatter the forces and tangent blocks of built inelastic elements only (False: every inelastic element's,
# zeros for the unbuilt, the old path; the same numbers to the last bit, for tests and bench/bench_main_job.py)
BUILT_ONLY_SCATTER = True


NEWTON = ("bfgs", "full")
MAX_WORKERS = 4  # threads evaluating the inelastic points
MIN_PART_ELEMENTS = 500  # a group is split over the threads only above this many elements per thread
BFGS_MEMORY = 12  # pairs kept before the tangent is factorized afresh
# a step must cut the residual to this fraction, else refactorize.  Fan-out case, 3 cycles, tolerance
# 1e-5: 0.5 -> 607 evaluations and 78 factorizations, 0.7 -> 693 and 55, 8 % less time; dW 0.226574 and
# 0.226840 against 0.226763 at tolerance 1e-6 and 1e-7 (either contraction): -0.08 % and +0.03 %, the
# tolerance's own scatter (0.3, 0.6, 0.85: -0.09, -0.10, +0.08 %)
BFGS_CONTRACTION = 0.7


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


class IncrementFailed(Exception):
    """Newton (or a material update) did not converge in this increment."""

    def __init__(self, message: str, residual: float):
        super().__init__(message)
        self.residual = residual


@dataclass
class Group:
    """Elements of one inelastic material, evaluated together over their points."""

    model: object
    material: Material
    elements: np.ndarray  # (n_e,)

    def points(self, Q: int) -> int:
        return self.elements.size * Q


@dataclass
class State:
    """Converged state: free displacements, material states and stresses per group."""

    u: np.ndarray
    groups: list[dict]
    stress: list[np.ndarray]  # (n_points, 4) per group
    t: float = 0.0
    T: float = 0.0
    extra: dict = field(default_factory=dict)
    birth: Birth | None = None  # active elements and birth references (None: all, stress-free at T_ref)


class InelasticProblem:
    """A model with inelastic materials, ready for incremental solution."""

    def __init__(self, model: Model, assignment: dict[str, Material], kinematics: str, T_ref_C: float,
                 symmetry_line: str | None = None, solver: str = "auto", tol: float = 1e-5,
                 support_candidates: np.ndarray | None = None,
                 max_iterations: int = 15, newton: str = "bfgs", threads: int | None = None):
        self.model = model
        self.T_ref = float(T_ref_C)
        self.geo = element_geometry(model)
        self.kin = make_kinematics(kinematics, self.geo)
        # in a process history the point supports must hold nodes that exist through every step
        self.layout = supports(model, kinematics, symmetry_line, support_candidates)
        self.assembler = Assembler.for_layout(model.elements, self.layout)
        self.materials, self.mat_index = element_materials(model, assignment)
        backend = choose(solver, self.layout.n_free)
        # CHOLMOD's OpenBLAS/OpenMP pools fight NumPy's for the two cores in the many
        # small factorizations of an incremental run: one thread measured fastest
        if threads is None and backend == "cholmod":
            threads = 1
        # BFGS corrects whatever its initial matrix gets wrong, so a single-precision
        # factor serves as well as a double one at less cost
        self.solver = make_solver(backend, threads=threads, n_dofs=self.layout.n_free,
                                  single=newton == "bfgs")
        if hasattr(self.solver, "set_near_nullspace"):
            self.solver.set_near_nullspace(rigid_body_modes(model.nodes, self.layout.free, model.n_nodes))
        # no 2x2 node blocks here (unlike the thermo-elastic solve): PARDISO's block solves measured
        # slower on the fan-out case (23 vs 13 ms, bench_kernels.py), and an increment needs ~5 solves per factorization
        self.tol = tol
        self.max_iterations = max_iterations
        self.Q = self.geo.n_qp
        self.groups: list[Group] = []
        inelastic = np.zeros(model.n_elements, dtype=bool)
        for i, mat in enumerate(self.materials):
            cm = inelastic_model(mat)
            if cm is None:
                continue
            elements = np.flatnonzero(self.mat_index == i)
            self.groups.append(Group(cm, mat, elements))
            inelastic[elements] = True
        if self.groups and kinematics == "plane_stress":
            raise CaseError("plane_stress is for elastic materials only; use plane_strain or "
                            "generalized_plane_strain with solder viscoplasticity")
        self.elastic_elements = np.flatnonzero(~inelastic)
        self._inelastic_elements = np.concatenate([g.elements for g in self.groups]) if self.groups else \
            np.zeros(0, dtype=np.int64)
        self._inelastic_scatter = self.assembler.scatter_for(self._inelastic_elements)
        self._inelastic_positions = self.assembler.positions(self._inelastic_elements)
        # the built ones among them (all, until configure says otherwise): an evaluation's forces and blocks
        self._built_scatter, self._built_positions = self._inelastic_scatter, self._inelastic_positions
        self._built_rows: np.ndarray | None = None  # their rows among the inelastic elements (None: all)
        # threads for the inelastic points: on the fan-out case's 158 k-dof mesh an evaluation took 28 ms
        # on 2 threads, 34-38 ms on 1; on the 104 k-dof mesh they are even (bench_kernels.py, whole runs
        # 23-24 s either way: NumPy's small calls hold the GIL)
        self.workers = max(1, min(os.cpu_count() or 1, MAX_WORKERS))
        self.min_part_elements = MIN_PART_ELEMENTS
        self._pool: ThreadPoolExecutor | None = None
        # the elastic elements' stiffness and thermal force, integrated once for all temperatures, and again
        # only for an element set not seen before (a process history's births, removals and branches)
        self._integrals = IntegralCache()
        self._dormant_cache = IntegralCache()
        self.elastic = ElasticRegions(self.assembler, self.kin.B, self.kin.w, self.materials, self.mat_index,
                                      self.elastic_elements, self.T_ref, cache=self._integrals)
        self._operators: dict[int, tuple] = {}
        self.iterations = 0
        if newton not in NEWTON:
            raise ValueError(f"newton must be one of {NEWTON}, not {newton!r}")
        self.newton = newton
        self._has_factor = False
        self._hints: tuple = (None, None, [])
        self.birth: Birth | None = None
        self._group_birth: list = [None] * len(self.groups)
        self._dormant_positions = np.zeros(0, dtype=np.int64)
        self._dormant_value = 0.0

    def held_by_component(self) -> np.ndarray:
        """(N, 2) bool: the supports' held components per node (a process history checks its point supports)."""
        return self.layout.fixed[: 2 * self.layout.n_nodes].reshape(-1, 2)

    # --- process history: element birth and death ----------------------------------------
    def configure(self, birth: "Birth | None") -> None:
        """Take the active elements and birth references of ``birth`` (``None``: all active, stress-free at T_ref).

        The elastic regions are integrated again over the active elements
        (with their per-element offsets and birth strains); inelastic points
        of inactive elements get zero weight, zero strain and stay in their
        initial state; free dofs that no active element touches become
        identity rows of the tangent (their residual is zero), so the
        sparsity pattern and its analysis never change.
        """
        self.birth = birth
        offset = None if birth is None else birth.offset(self.materials, self.mat_index, self.T_ref)
        eps_birth = None if birth is None else birth.eps_birth
        active = np.ones(self.model.n_elements, dtype=bool) if birth is None else birth.active
        elastic_active = self.elastic_elements[active[self.elastic_elements]]
        self.elastic = ElasticRegions(self.assembler, self.kin.B, self.kin.w, self.materials, self.mat_index,
                                      elastic_active, self.T_ref, offset, eps_birth, active, cache=self._integrals)
        self._operators = {}
        self._group_birth = []
        for g in self.groups:
            act_e = active[g.elements]
            act = None if act_e.all() else np.repeat(act_e, self.Q)
            off = None
            if offset is not None and np.any(offset[g.elements] != 0.0):
                off = -np.repeat(offset[g.elements], self.Q, axis=0)
            if eps_birth is not None and np.any(eps_birth[g.elements] != 0.0):
                eb = eps_birth[g.elements].reshape(-1, 4)
                off = eb if off is None else off + eb
            self._group_birth.append(None if act is None and off is None else (act, off, bool(act_e.any())))
        # the built inelastic elements, group by group in element order (the order an evaluation's forces
        # and blocks come in): their dofs and CSR positions, by the active set
        rows = np.flatnonzero(active[self._inelastic_elements])
        if rows.size == self._inelastic_elements.size:
            self._built_scatter, self._built_positions = self._inelastic_scatter, self._inelastic_positions
            self._built_rows = None
        else:
            built = self._inelastic_elements[rows]
            self._built_rows = rows
            self._built_scatter, self._built_positions = self._dormant_cache.get(
                "built", active.tobytes(),
                lambda: (self.assembler.scatter_for(built), self.assembler.positions(built)))
        # dormant free dofs: not touched by any active element (their CSR positions by the active set; the
        # identity value by the set and the median birth temperature it is taken at)
        T_diag = self.T_ref if birth is None else float(np.median(birth.T_birth))
        self._dormant_positions, self._dormant_value = self._dormant_cache.get(
            "dormant", (active.tobytes(), T_diag), lambda: self._dormant(active, T_diag))
        self._has_factor = False
        self._hints = (None, None, [])

    def _dormant(self, active: np.ndarray, T_diag: float) -> tuple[np.ndarray, float]:
        touched = np.zeros(self.n_dofs + 1, dtype=bool)
        touched[self.assembler.dofmap[active].ravel()] = True
        dormant = np.flatnonzero(~touched[:-1])
        if not dormant.size:
            return np.zeros(0, dtype=np.int64), 0.0
        ip, ind = self.assembler.indptr, self.assembler.indices
        rows = np.repeat(np.arange(self.n_dofs, dtype=np.int64), np.diff(ip))
        positions = np.searchsorted(rows * self.n_dofs + ind, dormant * (self.n_dofs + 1))
        diag = self.elastic.at(T_diag).data()
        return positions, float(np.abs(diag).max()) or 1.0

    def total_strain(self, u_free: np.ndarray, elements: np.ndarray) -> np.ndarray:
        """(n, Q, 4) total strain of ``elements`` for free displacements ``u_free``."""
        padded = np.concatenate((u_free, [0.0]))
        return element_strain(self.kin.B[elements], padded[self.assembler.dofmap[elements]])

    def extend_displacement(self, u_free: np.ndarray, new: np.ndarray, old_active: np.ndarray) -> np.ndarray:
        """``u_free`` with the dofs that only the ``new`` elements touch placed on the deformed body.

        Nodes of elements not yet built carry no meaningful displacement.  Before elements are born
        there, their own nodes are moved by the displacement field that an auxiliary elastic body made of
        the new elements (unit modulus, nu = 0.3) takes when its nodes shared with the built body follow
        that body: a smooth extension, so that the new layer is born lying on the body as deformed (the
        birth strain then takes up what remains) and its surfaces show the body's warpage.
        """
        import scipy.sparse as sp
        from scipy.sparse.linalg import spsolve

        dofmap = self.assembler.dofmap
        old = np.zeros(self.n_dofs + 1, dtype=bool)
        old[dofmap[old_active].ravel()] = True
        cand = np.unique(dofmap[new].ravel())
        fresh = cand[(cand >= 0) & ~old[cand]]
        if fresh.size == 0:
            return u_free
        lam, mu = 0.3 / (1.3 * 0.4), 1.0 / 2.6
        D = np.array([[lam + 2 * mu, lam, lam, 0], [lam, lam + 2 * mu, lam, 0], [lam, lam, lam + 2 * mu, 0],
                      [0, 0, 0, mu]])
        data = self.assembler.stiffness_data(self.kin.B, np.broadcast_to(D, (new.size, 1, 4, 4)), self.kin.w, new)
        K = sp.csr_matrix((data[: self.assembler.nnz], self.assembler.indices, self.assembler.indptr),
                          shape=(self.n_dofs, self.n_dofs))
        rest = np.flatnonzero(~np.isin(np.arange(self.n_dofs), fresh))
        rows = K[fresh]
        u = u_free.copy()
        u[fresh] = spsolve(rows[:, fresh].tocsc(), -(rows[:, rest] @ u_free[rest]))
        return u

    def reset_points(self, state: "State", elements: np.ndarray) -> None:
        """Material state and stress of the inelastic points of ``elements`` back to their initial values."""
        for gi, g in enumerate(self.groups):
            local = np.flatnonzero(np.isin(g.elements, elements))
            if local.size == 0:
                continue
            pts = (local[:, None] * self.Q + np.arange(self.Q)).ravel()
            fresh = g.model.initial_state(pts.size)
            state.groups[gi] = {k: v.copy() for k, v in state.groups[gi].items()}
            for k, v in fresh.items():
                state.groups[gi][k][pts] = v
            state.stress[gi] = state.stress[gi].copy()
            state.stress[gi][pts] = 0.0

    def stress_field(self, state: "State") -> np.ndarray:
        """(E, Q, 4) stress (MPa) of every element: elastic ones from u, inelastic ones from the state; 0 if inactive."""
        E = self.model.n_elements
        sig = np.zeros((E, self.Q, 4))
        active = np.ones(E, dtype=bool) if self.birth is None else self.birth.active
        offset = None if self.birth is None else self.birth.offset(self.materials, self.mat_index, self.T_ref)
        els = self.elastic_elements[active[self.elastic_elements]]
        eps = self.total_strain(state.u, els)
        if self.birth is not None and self.birth.eps_birth is not None:
            eps = eps - self.birth.eps_birth[els]
        for m, mat in enumerate(self.materials):
            mine = self.mat_index[els] == m
            if not mine.any():
                continue
            e = els[mine]
            eth = mat.elastic.thermal_strain(state.T, self.T_ref)
            mech = eps[mine] - eth
            if offset is not None:
                mech = mech + offset[e][:, None, :]
            sig[e] = mech @ mat.elastic.stiffness(state.T).T
        for g, s in zip(self.groups, state.stress):
            sig[g.elements] = s.reshape(g.elements.size, self.Q, 4)
        return sig

    @property
    def n_dofs(self) -> int:
        return self.layout.n_free

    def initial_state(self) -> State:
        return State(
            u=np.zeros(self.n_dofs),
            groups=[g.model.initial_state(g.points(self.Q)) for g in self.groups],
            stress=[np.zeros((g.points(self.Q), 4)) for g in self.groups],
            t=0.0,
            T=self.T_ref,
        )

    @property
    def force_floor(self) -> float:
        """Residual norm (N) below which an increment counts as converged whatever the scale."""
        return self.elastic.force_floor

    def _group_operators(self, g: Group):
        """B, weights and dof map of a group's elements, gathered once (copying B per
        evaluation cost as much as the group's strains)."""
        ops = self._operators.get(id(g))
        if ops is None:
            w = self.kin.w[g.elements]
            pb = self._group_birth[self.groups.index(g)]
            if pb is not None and pb[0] is not None:  # inactive elements: no force, no stiffness
                w = w * pb[0].reshape(-1, self.Q)
            ops = (self.kin.B[g.elements], w, self.assembler.dofmap[g.elements])
            self._operators[id(g)] = ops
        return ops

    def _parts(self, g: Group) -> list[tuple[slice, slice]]:
        """Contiguous element ranges of a group (and their point ranges), one per worker thread."""
        n_e = g.elements.size
        k = self.workers if n_e >= self.min_part_elements * self.workers else 1
        cuts = np.linspace(0, n_e, k + 1).round().astype(int)
        return [(slice(a, b), slice(a * self.Q, b * self.Q)) for a, b in zip(cuts[:-1], cuts[1:])]

    def _map(self, fn, items: list) -> list:
        """``fn`` over ``items``, on the worker threads when there is more than one item."""
        if len(items) < 2 or self.workers < 2:
            return [fn(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="reliability-eval")
        return list(self._pool.map(fn, items))

    def evaluate(self, u: np.ndarray, T: float, dt: float, state_n: State):
        """Residual, a tangent builder, trial material states, stresses and the force scale.

        The tangent is assembled only when ``tangent()`` is called: the last
        evaluation of every increment is the convergence check, and its
        tangent would be thrown away (a third of all evaluations).  Each
        group's points are split into contiguous ranges evaluated on worker
        threads (NumPy releases the GIL in its array loops): the strains, the
        material update and the element forces of a range are independent
        of the others.
        """
        elastic = self.elastic.at(T)
        Ku = elastic.matvec(u)
        R = Ku - elastic.f_th
        scale = elastic.scale_th + np.abs(Ku)
        padded = np.concatenate((u, [0.0]))  # dof -1 (eliminated) picks the 0
        jobs = []
        for g, st, sig_n, pb in zip(self.groups, state_n.groups, state_n.stress, self._group_birth):
            if pb is not None and not pb[2]:
                continue  # no active element in this group: nothing to evaluate
            B, w, dofs = self._group_operators(g)
            eth = g.material.elastic.thermal_strain(T, self.T_ref)
            act, off = (None, None) if pb is None else pb[:2]
            jobs += [(g, B[es], w[es], dofs[es], {k: v[ps] for k, v in st.items()}, sig_n[ps],
                      eth if off is None else eth + off[ps], None if act is None else act[ps])
                     for es, ps in self._parts(g)]
        # the local solves start from the last iteration's return mapping of this increment, job by
        # job (the same groups and ranges every time; keyed by the start state's id: a recycled id
        # only costs local iterations, never accuracy)
        hints = self._hints[2] if self._hints[:2] == (id(state_n), dt) and len(self._hints[2]) == len(jobs) \
            else [None] * len(jobs)

        def n_updated(job) -> int:  # points a job's material update covers (its active ones)
            act = job[7]
            return job[5].shape[0] if act is None or act.all() or not ACTIVE_ONLY else int(np.count_nonzero(act))

        jobs = [job + (hint if hint is not None and getattr(hint, "dp", None) is not None
                       and hint.dp.shape[0] == n_updated(job) else None,)
                for job, hint in zip(jobs, hints)]
        Q = self.Q

        def work(job):
            g, B, w, dofs, st, sig_n, eth, act, hint = job
            # a model integrating over the increment's temperature path (viscoelastic reduced time) gets its start
            extra = {"T_prev_C": state_n.T} if getattr(g.model, "uses_previous_temperature", False) else {}
            if act is None or act.all() or not ACTIVE_ONLY:
                eps = element_strain(B, padded[dofs]).reshape(-1, 4)
                if act is not None:  # inactive points: zero mechanical strain, they stay in their initial state
                    eps = np.where(act[:, None], eps, np.broadcast_to(eth, eps.shape))
                sig, C, new = g.model.update(eps, T, dt, st, eth, sig_n, lazy_tangent=True, dp_guess=hint, **extra)
                fe = element_force(B, sig.reshape(-1, Q, 4), w)
                if act is None or act.all():
                    return sig, C, new, fe, (B, w, C)
                # (all points updated, the old path) forces and blocks of the built elements only, as below
                el = np.flatnonzero(act.reshape(-1, Q)[:, 0])
                return sig, C, new, fe[el], (None, None, None,
                                             lambda: element_stiffness(B, C().reshape(w.shape + (4, 4)), w)[el])
            # some elements not built (or molten): only the active points are updated; the others keep
            # their initial state, carry no stress and add nothing (the assembly's joints before the
            # board reflow are most of the solder: updating them for nothing cost most of the time)
            el = np.flatnonzero(act.reshape(-1, Q)[:, 0])
            n = B.shape[-1]
            if el.size == 0:  # a range with nothing built
                return np.zeros_like(sig_n), None, st, np.zeros((0, n)), (None, None, None, np.zeros((0, n, n)))
            pts = (el[:, None] * Q + np.arange(Q)).ravel()
            eth_a = eth if np.ndim(eth) == 1 else eth[pts]
            eps = element_strain(B[el], padded[dofs[el]]).reshape(-1, 4)
            sig_a, C, new_a = g.model.update(eps, T, dt, {k: v[pts] for k, v in st.items()}, eth_a, sig_n[pts],
                                             lazy_tangent=True, dp_guess=hint, **extra)
            sig = np.zeros_like(sig_n)
            sig[pts] = sig_a
            new = {k: v.copy() for k, v in st.items()}
            for k, v in new_a.items():
                new[k][pts] = v
            # forces and blocks of the built elements only: the others' are zero, and leaving them out
            # of the scatters (through the built elements' dofs and positions, see configure) adds the
            # same values in the same order
            fe = element_force(B[el], sig_a.reshape(-1, Q, 4), w[el])

            def stiffness(B=B, w=w, el=el, C=C):
                return element_stiffness(B[el], C().reshape(el.size, Q, 4, 4), w[el])
            return sig, C, new, fe, (None, None, None, stiffness)

        done = self._map(work, jobs)
        trial, stresses, lazy, fe = [], [], [], []
        for g, st, sig_n in zip(self.groups, state_n.groups, state_n.stress):
            mine = [(job, out) for job, out in zip(jobs, done) if job[0] is g]
            if not mine:  # an inactive group keeps its state and adds nothing
                trial.append(st)
                stresses.append(sig_n)
                continue
            stresses.append(_join([out[0] for _, out in mine]))
            trial.append({k: _join([out[2][k] for _, out in mine]) for k in mine[0][1][2]})
            lazy += [out[4] for _, out in mine]
            fe.append(_join([out[3] for _, out in mine]))
        if fe:  # the built inelastic elements' forces, in the order of self._built_scatter
            fe = np.concatenate(fe)
            scatter = self._built_scatter
            if not BUILT_ONLY_SCATTER and self._built_rows is not None:  # the old path: zeros for the unbuilt
                fe, scatter = self._padded(fe), self._inelastic_scatter
            R += scatter(fe)
            scale += scatter(np.abs(fe))

        self._hints = (id(state_n), dt, [out[1] for out in done])

        def tangent():
            def block(item):
                if len(item) > 3:  # a precomputed block, or the builder of a partly active range
                    return item[3]() if callable(item[3]) else item[3]
                return element_stiffness(item[0], item[2]().reshape(item[1].shape + (4, 4)), item[1])
            Ke = self._map(block, lazy)
            # the inelastic elements' matrices scattered into a copy of the elastic part, through
            # their CSR positions gathered once (re-gathering 3 M of them took as long as the scatter)
            data = np.concatenate((elastic.data(), [0.0]))
            if Ke:
                Ke, positions = np.concatenate(Ke), self._built_positions
                if not BUILT_ONLY_SCATTER and self._built_rows is not None:  # the old path
                    Ke, positions = self._padded(Ke), self._inelastic_positions
                np.add.at(data, positions, Ke.reshape(-1))
            if self._dormant_positions.size:  # dofs of inactive elements only: identity rows
                data[self._dormant_positions] += self._dormant_value
            return self.assembler.csr(data[:-1])

        return R, tangent, trial, stresses, float(np.linalg.norm(scale))

    def _padded(self, rows: np.ndarray) -> np.ndarray:
        """Rows of the built inelastic elements placed among zero rows of all of them (the old scatter's input)."""
        out = np.zeros((self._inelastic_elements.size,) + rows.shape[1:])
        out[self._built_rows] = rows
        return out

    def forget_factor(self) -> None:
        """Make the next increment factorize its tangent afresh (at a checkpoint: a resumed run has no
        factor, and an uninterrupted one must not keep an advantage over it)."""
        self._has_factor = False

    def increment(self, state_n: State, t: float, T: float, u_guess: np.ndarray | None = None) -> State:
        """Solution of one increment from ``state_n`` to (t, T); see :meth:`_direction` for the steps.

        An increment that fails on a single-precision factor is retried once
        in double precision, which then stays for the run: on fine meshes
        with stiff contrasts a float32 factor can be too coarse for BFGS to
        reach the tolerance (the fan-out case with twice-finer joints
        stalled at 4e-4 relative residual through 8 cut-backs).
        """
        try:
            return self._increment(state_n, t, T, u_guess)
        except IncrementFailed:
            if not getattr(self.solver, "single", False):
                raise
            self.solver.use_double()
            self._has_factor = False
            return self._increment(state_n, t, T, u_guess)

    def _increment(self, state_n: State, t: float, T: float, u_guess: np.ndarray | None = None) -> State:
        dt = t - state_n.t
        u = state_n.u.copy() if u_guess is None else u_guess.copy()
        R, tangent, trial, stresses, scale = self._evaluate(u, T, dt, state_n)
        r = float(np.linalg.norm(R))
        pairs: list[tuple[np.ndarray, np.ndarray, float]] = []
        refresh = self.newton == "full" or not self._has_factor
        limit = self.max_iterations * (2 if self.newton == "bfgs" else 1)
        newton_steps = 0
        steps = 0
        for steps in range(limit):
            if r <= self.tol * max(scale, 1e-30) or r <= self.force_floor:
                return State(u=u, groups=trial, stress=stresses, t=t, T=T, extra={"iterations": steps, "residual": r},
                             birth=state_n.birth)
            if refresh or len(pairs) >= BFGS_MEMORY:
                if newton_steps == self.max_iterations:
                    break
                try:
                    self.solver.factorize(tangent())
                except RuntimeError as exc:  # e.g. PARDISO's zero pivot: a tangent not positive definite
                    raise IncrementFailed(f"factorization failed ({exc})", np.inf) from None
                self._has_factor = True
                pairs, newton_steps = [], newton_steps + 1
            du = self._direction(R, pairs)
            # backtracking line search: the steep sinh flow law can make a full
            # Newton step overshoot far from the solution
            step = 1.0
            for _ in range(4):
                u_try = u - step * du
                out = self._evaluate(u_try, T, dt, state_n)
                r_try = float(np.linalg.norm(out[0]))
                if r_try < r or not np.isfinite(r):
                    break
                step *= 0.5
            # a quasi-Newton step that did not cut the residual to BFGS_CONTRACTION of it: the
            # factor is too far from the current tangent, take a Newton step next
            refresh = self.newton == "full" or r_try > BFGS_CONTRACTION * r
            pair = secant_pair(-step * du, out[0] - R) if self.newton == "bfgs" else None
            if pair is not None:
                pairs.append(pair)
            u = u_try
            R, tangent, trial, stresses, scale = out
            r = r_try
        if r <= self.tol * max(scale, 1e-30):
            return State(u=u, groups=trial, stress=stresses, t=t, T=T, extra={"iterations": limit, "residual": r},
                         birth=state_n.birth)
        raise IncrementFailed(f"no convergence in {steps + 1} steps with {newton_steps} factorizations "
                              f"(residual {r:.3e} N, force scale {scale:.3e} N)", r / max(scale, 1e-30))

    def _direction(self, R: np.ndarray, pairs) -> np.ndarray:
        """The correction du (u <- u - du) from the current factor and the BFGS pairs.

        ``newton = "full"``: Newton's method, du = K(u)^-1 R with the tangent
        factorized at every step (no pairs).  ``newton = "bfgs"`` (default):
        the BFGS update of the last factorized tangent's inverse by this
        increment's pairs (:mod:`.quasi_newton`).  An old factor plus a few
        rank-two updates takes more but much cheaper steps (fan-out case, 3
        cycles: 587 evaluations and 77 factorizations against Newton's 374
        and 233, with the contraction at 0.5); a fresh factorization is
        taken when a step fails to cut the residual to BFGS_CONTRACTION
        (0.7) of it.  Either way the increment ends on the same residual
        tolerance.
        """
        return inverse_product(R, pairs, self.solver.solve)

    def _evaluate(self, u, T, dt, state_n):
        try:
            out = self.evaluate(u, T, dt, state_n)
        except ConvergenceError as exc:
            raise IncrementFailed(str(exc), np.inf) from None
        self.iterations += 1
        if not np.isfinite(np.linalg.norm(out[0])):
            raise IncrementFailed("residual is not finite", np.inf)
        return out

    def full_displacement(self, u_free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = self.layout.expand(u_free)
        n = self.model.n_nodes
        return u[: 2 * n].reshape(n, 2), u[2 * n:]
