"""Incremental solution of a 3D model with inelastic materials (Anand solder, bilinear, viscoelastic) in time.

The 3D twin of :class:`~reliability.analysis.incremental.InelasticProblem`: at
the end of an increment (t, T) the equilibrium

    R(u) = K_el(T) u - f_el(T) + sum_{e inelastic} int B^T sigma(eps(u), T, dt, state_n) dV = 0

is solved.  The elastic elements (die, mold, board, copper: every material
without an inelastic law) enter through their stiffness K_el(T) and thermal
load f_el(T), assembled once per temperature into 3x3 node blocks
(:mod:`reliability.fem.node_blocks3d`); only the inelastic elements' strains,
return mappings and forces are evaluated at every iteration.  The laws are
the 2D path's (:func:`~reliability.constitutive.models.inelastic_model`),
which take six-component vectors (xx, yy, zz, yz, xz, xy; engineering
shears) as well as four.

Iterations: BFGS on top of the last factorized tangent (Matthies & Strang
1979; :mod:`.quasi_newton`), the factor kept across increments and renewed
when a step fails to cut the residual to ``BFGS_CONTRACTION`` of it, as in
2D; a backtracking line search guards the steep sinh flow law.  An
increment converges when ||R|| <= tol ||f_scale|| (f_scale: the sum of the
absolute element forces and of |K_el u|), else :class:`IncrementFailed` lets
the caller cut the step back.

Supports: ``fixed`` dofs are held at zero; ``prescribed`` dofs (optional) take
given displacements (mm) that change from increment to increment
(``increment(..., u_prescribed=...)``), e.g. a local model's cut faces driven
by a global model's displacements (:mod:`.submodel3d`).  Both are identity
rows and columns of the tangent; the elastic part is assembled with its true
rows and columns at the prescribed dofs, so K_el u carries the coupling
K_fp u_p into the free equations, and the residual is zeroed at both.

Element birth and death (a process history, :class:`~reliability.process.history.History`):
:meth:`InelasticProblem3D.configure` takes a :class:`~reliability.analysis.birth.Birth`
(active elements, birth temperatures, birth strains, cure shrinkage), as the
2D problem does.  The elastic part is integrated over the active elastic
elements with each element's mechanical strain eps - eps_birth - (A(T) - A(T_b))
- eps_cure; an inelastic point of an inactive element has no mechanical
strain, no force and no stiffness; dofs that no active element touches are
identity rows like the supports (the pattern and its analysis never change).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..constitutive.elastic3d import stiffness3d, thermal_strain3d
from ..constitutive.models import inelastic_model
from ..errors import ConvergenceError
from ..fem.kinematics3d import element_force, element_strain, strain_operator
from ..fem.node_blocks3d import PAIR_A, PAIR_B, BlockMatrix3, pair_stiffness3d
from ..fem.pardiso import PardisoSolver
from .incremental import BFGS_CONTRACTION, BFGS_MEMORY, IncrementFailed
from .quasi_newton import inverse_product, secant_pair
from .thermoelastic3d import ThermoElasticProblem3D, quarter_supports

STRAIN_B_LIMIT = 400_000_000  # bytes: keep the inelastic elements' B (n, Q, 6, 30) when it fits under this


@dataclass
class Group3D:
    """The elements of one inelastic material and its law."""

    material: int  # index into the problem's materials
    law: object
    elements: np.ndarray


@dataclass
class State3D:
    """A converged (or trial) state: u (3 N,) mm, per group the law's state and the stress (n_points, 6)."""

    u: np.ndarray
    groups: list
    stress: list
    t: float = 0.0
    T: float = 0.0
    extra: dict = field(default_factory=dict)
    birth: object = None  # the Birth the state was reached with (None: all active, stress-free at T_ref)


class InelasticProblem3D(ThermoElasticProblem3D):
    """A 3D (quarter) model whose inelastic materials follow their laws, solved increment by increment."""

    def __init__(self, model, assignment, T_ref_C: float, solver: str = "auto", fixed=None, tol: float = 1e-5,
                 max_iterations: int = 15, laws: dict | None = None, prescribed=None):
        """``fixed`` (3 N,) bool: dofs held at zero (default: the quarter's supports); ``prescribed``
        (3 N,) bool or an index array: dofs whose displacement each increment gives (module doc)."""
        n = 3 * model.n_nodes
        held = quarter_supports(model) if fixed is None else np.asarray(fixed, dtype=bool)
        given = np.zeros(n, dtype=bool)
        if prescribed is not None:
            prescribed = np.asarray(prescribed)
            if prescribed.dtype == bool:
                given |= prescribed
            else:
                given[prescribed.astype(np.int64)] = True
        super().__init__(model, assignment, T_ref_C, solver=solver, fixed=held | given)
        self.held = held & ~given  # dofs at zero
        self.prescribed = np.flatnonzero(given)  # dofs with given values, in increasing order
        if self.prescribed.size:
            # the elastic part keeps its rows and columns at the prescribed dofs (identity at the held ones only)
            self._elastic_blocks = copy.copy(self.blocks)
            self._elastic_blocks.fixed = held & ~given
            self._elastic_blocks._zero, self._elastic_blocks._one = self._elastic_blocks._support_slots()
        else:
            self._elastic_blocks = self.blocks
        if isinstance(self.solver, PardisoSolver):
            # BFGS corrects what a single-precision factor gets wrong, as in 2D: the default fan-out 2 x 2
            # quarter cooled 217 -> -40 C took the same 88 evaluations and 8 factorizations in 74 s
            # against 98 s in double precision; a failed increment retries in double
            self.solver = PardisoSolver(single=True)
        self.Q = self.geo.dx.shape[1]
        self.tol = float(tol)
        self.max_iterations = int(max_iterations)
        self.groups: list[Group3D] = []
        inelastic = np.zeros(model.n_elements, dtype=bool)
        for k, mat in enumerate(self.materials):
            law = (laws or {}).get(mat.name) or inelastic_model(mat)
            if law is None:
                continue
            elements = np.flatnonzero(self.mat_index == k)
            self.groups.append(Group3D(k, law, elements))
            inelastic[elements] = True
        self.elastic_elements = np.flatnonzero(~inelastic)
        # B of the inelastic elements, built once when it fits (it is needed at every iteration)
        self._B = {}
        for gi, g in enumerate(self.groups):
            if g.elements.size * self.Q * 6 * 30 * 8 <= STRAIN_B_LIMIT:
                self._B[gi] = strain_operator(self.geo.grad[g.elements])
        self._elastic_T: float | None = None
        self._elastic = None
        # element birth and death (configure): the supports and blocks without dormant dofs, and per group
        # (active points or None, strain shift per point or None)
        self._held_fixed = self.fixed.copy()
        self._base_blocks = self.blocks
        self._dormant_blocks: dict = {}
        self.birth = None
        self._live_materials = None  # materials with an active element (None: all)
        self._elastic_active = self.elastic_elements
        self._offset = None
        self._group_birth: list = [(None, None)] * len(self.groups)
        self._has_factor = False
        self.iterations = 0  # residual evaluations
        self.newton_steps = 0  # factorizations of a tangent

    @property
    def T_ref(self) -> float:
        """The reference temperature of the thermal strains, C (a process history's initial temperature)."""
        return self.T_ref_C

    def material_stiffness(self, T: float) -> np.ndarray:
        """(M, 6, 6) stiffness of every distinct material at T (zero for a material with no active element:
        molten solder above its data, a region not yet built)."""
        live = self._live_materials
        return np.stack([stiffness3d(m.elastic, T) if live is None or k in live else np.zeros((6, 6))
                         for k, m in enumerate(self.materials)])

    def thermal_strains(self, T: float) -> np.ndarray:
        """(M, 6) thermal strain of every distinct material from T_ref to T (zero where no element is active)."""
        live = self._live_materials
        return np.stack([thermal_strain3d(m.elastic, T, self.T_ref_C) if live is None or k in live
                         else np.zeros(6) for k, m in enumerate(self.materials)])

    def held_by_component(self) -> np.ndarray:
        """(N, 3) bool: the supports' held components per node (a process history checks its point supports)."""
        return self._held_fixed.reshape(-1, 3)

    # --- process history: element birth and death ----------------------------------------
    def configure(self, birth) -> None:
        """Take the active elements and birth references of ``birth`` (``None``: all active, stress-free at
        T_ref); see the module doc."""
        if birth is not None and self.prescribed.size:
            raise ValueError("a 3D problem with prescribed dofs (a local model) takes no process history")
        self.birth = birth
        active = np.ones(self.model.n_elements, dtype=bool) if birth is None else birth.active
        self._live_materials = None if active.all() else set(np.unique(self.mat_index[active]).tolist())
        self._offset = None if birth is None else birth.offset(self.materials, self.mat_index, self.T_ref_C, 6)
        self._elastic_active = self.elastic_elements[active[self.elastic_elements]]
        eps_birth = None if birth is None else birth.eps_birth
        self._group_birth = []
        for g in self.groups:
            act_e = active[g.elements]
            act = None if act_e.all() else np.repeat(act_e, self.Q)
            shift = None  # eps_birth - offset: the law sees eps - shift, its mechanical strain that minus A(T)
            if self._offset is not None and np.any(self._offset[g.elements] != 0.0):
                shift = -np.repeat(self._offset[g.elements], self.Q, axis=0)
            if eps_birth is not None and np.any(eps_birth[g.elements] != 0.0):
                eb = eps_birth[g.elements].reshape(-1, 6)
                shift = eb if shift is None else shift + eb
            self._group_birth.append((act, shift))
        self.blocks = self._blocks_for(active)
        self._elastic_blocks = self.blocks
        self.fixed = self.blocks.fixed
        self._elastic = None
        self._elastic_T = None
        self._has_factor = False
        self._key = None

    def _blocks_for(self, active: np.ndarray):
        """The node blocks whose identity rows are the supports and the dofs no active element touches."""
        if active.all():
            return self._base_blocks
        key = active.tobytes()
        if key not in self._dormant_blocks:
            touched = np.zeros(self.model.n_nodes, dtype=bool)
            touched[self.model.elements[active].ravel()] = True
            blocks = copy.copy(self._base_blocks)
            blocks.fixed = self._held_fixed | np.repeat(~touched, 3)
            blocks._zero, blocks._one = blocks._support_slots()
            self._dormant_blocks = {key: blocks}  # the last active set only (each is a few MB of slots)
        return self._dormant_blocks[key]

    def total_strain(self, u: np.ndarray, elements: np.ndarray) -> np.ndarray:
        """(n, Q, 6) total strain of ``elements`` for the displacements ``u`` (3 N,), mm/mm."""
        out = np.empty((elements.size, self.Q, 6))
        for start in range(0, elements.size, 4096):
            sel = elements[start:start + 4096]
            out[start:start + sel.size] = element_strain(strain_operator(self.geo.grad[sel]),
                                                         self._base_blocks.gather(u, sel))
        return out

    def extend_displacement(self, u: np.ndarray, new: np.ndarray, old_active: np.ndarray) -> np.ndarray:
        """``u`` with the dofs that only the ``new`` elements touch placed on the deformed body: the
        displacement an auxiliary elastic body of the new elements (unit modulus, nu = 0.3) takes when its
        nodes shared with the built body follow that body (the 2D problem's extension, in 3D)."""
        import scipy.sparse.linalg as spla

        from ..constitutive.elastic3d import isotropic_stiffness3d

        old = np.zeros(self.model.n_nodes, dtype=bool)
        old[self.model.elements[old_active].ravel()] = True
        fresh_nodes = np.zeros(self.model.n_nodes, dtype=bool)
        fresh_nodes[self.model.elements[new].ravel()] = True
        fresh_nodes &= ~old
        fresh = np.flatnonzero(np.repeat(fresh_nodes, 3) & ~self._held_fixed)
        if fresh.size == 0:
            return u
        aux = copy.copy(self._base_blocks)
        aux._zero = aux._one = np.zeros(0, dtype=np.int64)
        D = isotropic_stiffness3d(1.0, 0.3)[None]
        K = aux.stiffness(lambda sel: pair_stiffness3d(self.geo.grad[sel], self.geo.dx[sel], D,
                                                       np.zeros(len(sel), dtype=np.int64)), elements=new).tocsr()
        rest = np.ones(u.size, dtype=bool)
        rest[fresh] = False
        rows = K[fresh]
        out = u.copy()
        out[fresh] = spla.spsolve(rows[:, fresh].tocsc(), -(rows[:, rest] @ u[rest]))
        return out

    def reset_points(self, state: State3D, elements: np.ndarray) -> None:
        """Material state and stress of the inelastic points of ``elements`` back to their initial values."""
        for gi, g in enumerate(self.groups):
            local = np.flatnonzero(np.isin(g.elements, elements))
            if local.size == 0:
                continue
            pts = (local[:, None] * self.Q + np.arange(self.Q)).ravel()
            fresh = g.law.initial_state(pts.size, n_components=6)
            state.groups[gi] = {k: v.copy() for k, v in state.groups[gi].items()}
            for k, v in fresh.items():
                state.groups[gi][k][pts] = v
            state.stress[gi] = state.stress[gi].copy()
            state.stress[gi][pts] = 0.0

    def stress_field(self, state: State3D) -> np.ndarray:
        """(E, Q, 6) stress (MPa) of every element: elastic ones from u and their birth references,
        inelastic ones from the state; 0 where inactive."""
        E = self.model.n_elements
        sig = np.zeros((E, self.Q, 6))
        els = self._elastic_active
        eps = self.total_strain(state.u, els)
        if self.birth is not None and self.birth.eps_birth is not None:
            eps -= self.birth.eps_birth[els]
        if self._offset is not None:
            eps += self._offset[els][:, None, :]
        D, eth = self.material_stiffness(state.T), self.thermal_strains(state.T)
        for m in range(len(self.materials)):
            mine = self.mat_index[els] == m
            if mine.any():
                sig[els[mine]] = (eps[mine] - eth[m]) @ D[m].T
        for g, s in zip(self.groups, state.stress):
            sig[g.elements] = s.reshape(g.elements.size, self.Q, 6)
        return sig

    # --- the elastic part at one temperature ----------------------------------------------
    def _elastic_at(self, T: float):
        """(K_el blocks, K_el CSR, f_el, |f_el| per dof) at T, cached for the increment's iterations."""
        if self._elastic is not None and self._elastic_T == T:
            return self._elastic
        D = self.material_stiffness(T)
        el = self._elastic_active
        K = self._elastic_blocks.stiffness(lambda sel: pair_stiffness3d(self.geo.grad[sel], self.geo.dx[sel], D,
                                                                        self.mat_index[sel]), elements=el)
        eth = self.thermal_strains(T)
        sig_th = np.einsum("mij,mj->mi", D, eth)
        eps_birth = None if self.birth is None else self.birth.eps_birth
        fe = np.zeros((self.model.n_elements, 30))
        for start in range(0, el.size, 4096):
            sel = el[start:start + 4096]
            mat = self.mat_index[sel]
            if self._offset is None and eps_birth is None:
                s = np.broadcast_to(sig_th[mat][:, None, :], (sel.size, self.Q, 6))
            else:  # D (A(T) - offset + eps_birth): the stress-free strain of each point, times D
                e0 = np.broadcast_to(eth[mat][:, None, :], (sel.size, self.Q, 6))
                if self._offset is not None:
                    e0 = e0 - self._offset[sel][:, None, :]
                if eps_birth is not None:
                    e0 = e0 + eps_birth[sel]
                s = np.einsum("eij,eqj->eqi", D[mat], e0)
            fe[sel] = element_force(strain_operator(self.geo.grad[sel]), s, self.geo.dx[sel])
        f = self.blocks.vector(fe)
        f_abs = self.blocks.vector(np.abs(fe))
        K_csr = K.tocsr()
        # the supports' identity rows stay out of the residual (their dofs are held at zero)
        self._elastic = (K, K_csr, f, f_abs)
        self._elastic_T = T
        return self._elastic

    def initial_state(self, T: float | None = None) -> State3D:
        return State3D(u=np.zeros(3 * self.model.n_nodes),
                       groups=[g.law.initial_state(g.elements.size * self.Q, n_components=6) for g in self.groups],
                       stress=[np.zeros((g.elements.size * self.Q, 6)) for g in self.groups],
                       t=0.0, T=self.T_ref_C if T is None else float(T))

    def _operator(self, gi: int, part=slice(None)):
        B = self._B.get(gi)
        g = self.groups[gi]
        return B[part] if B is not None else strain_operator(self.geo.grad[g.elements[part]])

    def evaluate(self, u: np.ndarray, T: float, dt: float, state_n: State3D, T_prev: float):
        """Residual (3 N,), tangent builder, trial states, stresses and the force scale (N)."""
        K, K_csr, f, f_abs = self._elastic_at(T)
        Ku = K_csr @ u
        R = Ku - f
        scale = f_abs + np.abs(Ku)
        eth = self.thermal_strains(T)
        trial, stresses, tangents = [], [], []
        fe_all = np.zeros((self.model.n_elements, 30))
        for gi, (g, st, sig_n) in enumerate(zip(self.groups, state_n.groups, state_n.stress)):
            B = self._operator(gi)
            eps = element_strain(B, self.blocks.gather(u, g.elements)).reshape(-1, 6)
            act, shift = self._group_birth[gi]
            if shift is not None:
                eps = eps - shift
            extra = {"T_prev_C": T_prev} if getattr(g.law, "uses_previous_temperature", False) else {}
            if act is None:
                sig, C, new = g.law.update(eps, T, dt, st, eth[g.material], sig_n, **extra)
            else:  # only the active points are updated (molten solder may be above its data); the rest keep
                sig, C, new = _update_active(g.law, act, eps, T, dt, st, eth[g.material], sig_n, extra)
            fe_all[g.elements] = element_force(B, sig.reshape(-1, self.Q, 6), self.geo.dx[g.elements])
            trial.append(new)
            stresses.append(sig)
            tangents.append(C)
        R += self.blocks.vector(fe_all)
        scale += self.blocks.vector(np.abs(fe_all))
        R[self.fixed] = 0.0
        scale[self.fixed] = 0.0

        def tangent() -> BlockMatrix3:
            out = BlockMatrix3(K.indptr, K.indices, K.values.copy())
            for gi, (g, C) in enumerate(zip(self.groups, tangents)):
                C = C() if callable(C) else C
                C = np.asarray(C).reshape(g.elements.size, self.Q, 6, 6)
                B = self._operator(gi)

                def pairs(sel, B=B, C=C, g=g):
                    i = np.searchsorted(g.elements, sel)  # the group's elements are sorted
                    Ke = np.einsum("eqki,eqkl,eqlj,eq->eij", B[i], C[i], B[i], self.geo.dx[sel], optimize=True)
                    K5 = Ke.reshape(-1, 10, 3, 10, 3)[:, PAIR_A, :, PAIR_B, :]  # (55, n, 3, 3)
                    return K5.transpose(1, 0, 2, 3).reshape(-1, PAIR_A.size, 9)
                self.blocks.stiffness(pairs, out=out, elements=g.elements, chunk=1024)
            if self.prescribed.size:  # identity rows and columns at the prescribed dofs too
                out.values[self.blocks._zero] = 0.0
                out.values[self.blocks._one] = 1.0
            return out

        return R, tangent, trial, stresses, float(np.linalg.norm(scale))

    def _evaluate(self, u, T, dt, state_n, T_prev):
        try:
            out = self.evaluate(u, T, dt, state_n, T_prev)
        except ConvergenceError as exc:  # a return mapping that did not converge
            raise IncrementFailed(str(exc), np.inf) from None
        self.iterations += 1
        if not np.isfinite(np.linalg.norm(out[0])):
            raise IncrementFailed("residual is not finite", np.inf)
        return out

    def forget_factor(self) -> None:
        self._has_factor = False

    def increment(self, state_n: State3D, t: float, T: float, u_guess: np.ndarray | None = None,
                  u_prescribed: np.ndarray | None = None) -> State3D:
        """The converged state at (t s, T C) from ``state_n``; :class:`IncrementFailed` if it does not converge
        (after one retry in double precision when the factor was single).

        ``u_prescribed``: the displacements (mm) of the ``prescribed`` dofs at the end of the increment, in
        the order of ``self.prescribed`` (default: held at their values in ``state_n``)."""
        try:
            return self._increment(state_n, t, T, u_guess, u_prescribed)
        except IncrementFailed:
            if not getattr(self.solver, "single", False):
                raise
            self.solver.use_double()
            self._has_factor = False
            return self._increment(state_n, t, T, u_guess, u_prescribed)

    def _increment(self, state_n: State3D, t: float, T: float, u_guess: np.ndarray | None = None,
                   u_prescribed: np.ndarray | None = None) -> State3D:
        dt = t - state_n.t
        u = state_n.u.copy() if u_guess is None else u_guess.copy()
        u[self._held_fixed] = 0.0
        if self.fixed is not self._held_fixed:  # dofs no active element touches keep what they had (as in 2D)
            dormant = self.fixed & ~self._held_fixed
            u[dormant] = state_n.u[dormant]
        if self.prescribed.size:
            u[self.prescribed] = state_n.u[self.prescribed] if u_prescribed is None else u_prescribed
        R, tangent, trial, stresses, scale = self._evaluate(u, T, dt, state_n, state_n.T)
        r = float(np.linalg.norm(R))
        pairs: list = []
        refresh = not self._has_factor
        newton_steps = 0
        for steps in range(2 * self.max_iterations):
            if r <= self.tol * max(scale, 1e-30):
                return State3D(u=u, groups=trial, stress=stresses, t=t, T=T,
                               extra={"iterations": steps, "residual": r}, birth=state_n.birth)
            if refresh or len(pairs) >= BFGS_MEMORY:
                if newton_steps == self.max_iterations:
                    break
                Kt = tangent()
                try:
                    self.solver.factorize(Kt if isinstance(self.solver, PardisoSolver) else Kt.tocsr(), consume=True)
                except RuntimeError as exc:
                    raise IncrementFailed(f"factorization failed ({exc})", np.inf) from None
                self._has_factor = True
                self._key = None  # the factor is a tangent, not the elastic stiffness
                self.newton_steps += 1
                pairs, newton_steps = [], newton_steps + 1
            du = inverse_product(R, pairs, self.solver.solve)
            du[self.fixed] = 0.0
            step = 1.0
            for _ in range(4):
                u_try = u - step * du
                out = self._evaluate(u_try, T, dt, state_n, state_n.T)
                r_try = float(np.linalg.norm(out[0]))
                if r_try < r:
                    break
                step *= 0.5
            refresh = r_try > BFGS_CONTRACTION * r
            pair = secant_pair(-step * du, out[0] - R)
            if pair is not None:
                pairs.append(pair)
            u = u_try
            R, tangent, trial, stresses, scale = out
            r = r_try
        raise IncrementFailed(f"no convergence with {newton_steps} factorizations (residual {r:.3e} N, "
                              f"force scale {scale:.3e} N)", r / max(scale, 1e-30))




def _update_active(law, act: np.ndarray, eps, T, dt, state: dict, eth, sig_n, extra: dict):
    """``law.update`` on the points ``act`` only: the others keep their state, with zero stress and tangent
    (an inactive element's points: no force, no stiffness; their state is reset at the element's birth)."""
    n = act.size
    idx = np.flatnonzero(act)
    sig = np.zeros((n, 6))
    C = np.zeros((n, 6, 6))
    if idx.size == 0:
        return sig, C, state
    pick = lambda v: v[idx] if np.ndim(v) and np.shape(v)[0] == n else v  # noqa: E731
    s_a, C_a, new_a = law.update(eps[idx], T, dt, {k: pick(v) for k, v in state.items()}, eth, sig_n[idx],
                                 **extra)
    sig[idx] = s_a
    C_a = np.asarray(C_a() if callable(C_a) else C_a)
    C[idx] = C_a.reshape(-1, 6, 6) if C_a.ndim == 3 else C_a
    new = {}
    for k, v in state.items():
        if np.ndim(v) and np.shape(v)[0] == n:
            full = np.array(v, copy=True)
            full[idx] = new_a[k]
            new[k] = full
        else:
            new[k] = new_a[k]
    return sig, C, new
