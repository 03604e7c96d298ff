"""Incremental (Newton) solution of a 3D model with bilinear-plastic materials along a temperature path.

A first nonlinear step of the 3D path (issue 17, part 4): materials with
``[plasticity]`` follow :class:`~reliability.constitutive.bilinear3d.Bilinear3D`,
every other material is linear thermo-elastic.  At each temperature T_k the
equilibrium R(u) = sum_e int B^T sigma(eps(u), T_k, state_{k-1}) dV = 0 is
solved by full Newton with the consistent tangent, assembled into the same
3x3 node blocks as the linear path (element matrices B^T C B per chunk of
elements, since C varies from point to point); it stops when
||R|| <= tol * ||sum_e |f_e| ||, then the plastic state is committed.
Rate-independent: the temperature path, not time, is the input.  Not yet:
Anand, viscoelastic, process steps, cut-backs.
"""

from __future__ import annotations

import numpy as np

from ..constitutive.bilinear3d import Bilinear3D
from ..fem.kinematics3d import element_force, element_strain, strain_operator
from ..fem.node_blocks3d import CHUNK, PAIR_A, PAIR_B
from ..fem.pardiso import PardisoSolver
from .thermoelastic3d import ThermoElasticProblem3D


class PlasticProblem3D(ThermoElasticProblem3D):
    """A 3D model whose ``[plasticity]`` materials are bilinear von Mises, solved step by step in T."""

    def __init__(self, model, assignment, T_ref_C: float, solver: str = "auto", fixed=None):
        super().__init__(model, assignment, T_ref_C, solver=solver, fixed=fixed)
        Q = self.geo.dx.shape[1]
        self.laws = [Bilinear3D(m) if m.spec.plasticity is not None else None for m in self.materials]
        self.points = {k: np.flatnonzero(self.mat_index == k) for k in range(len(self.materials))}
        self.states = {k: law.initial_state(self.points[k].size * Q) for k, law in enumerate(self.laws) if law}
        self.u = np.zeros(3 * model.n_nodes)
        self.newton_iterations: list[int] = []

    def _material_response(self, eps: np.ndarray, T: float, commit: bool = False):
        """sigma (E, Q, 6), C (E, Q, 6, 6) and, per plastic material, the trial state."""
        E, Q = eps.shape[:2]
        D = self.material_stiffness(T)
        eth = self.thermal_strains(T)
        sig = np.empty_like(eps)
        C = np.empty((E, Q, 6, 6))
        trial = {}
        for k, law in enumerate(self.laws):
            el = self.points[k]
            if law is None:
                sig[el] = (eps[el] - eth[k]) @ D[k].T
                C[el] = D[k]
                continue
            s, c, new = law.update(eps[el].reshape(-1, 6), T, self.states[k], eth[k])
            sig[el], C[el] = s.reshape(-1, Q, 6), c.reshape(-1, Q, 6, 6)
            trial[k] = new
        return sig, C, trial

    def _strain(self, u: np.ndarray) -> np.ndarray:
        eps = np.empty(self.geo.dx.shape + (6,))
        for sel in self._chunks():
            eps[sel] = element_strain(strain_operator(self.geo.grad[sel]), self.blocks.gather(u, sel))
        return eps

    def _forces(self, sig: np.ndarray) -> tuple[np.ndarray, float]:
        fe = np.empty((self.model.n_elements, 30))
        for sel in self._chunks():
            fe[sel] = element_force(strain_operator(self.geo.grad[sel]), sig[sel], self.geo.dx[sel])
        scale = float(np.linalg.norm(self.blocks.vector(np.abs(fe))))
        return self.blocks.vector(fe), scale

    def _tangent(self, C: np.ndarray):
        def pairs(sel):
            B = strain_operator(self.geo.grad[sel])
            Ke = np.einsum("eqki,eqkl,eqlj,eq->eij", B, C[sel], B, self.geo.dx[sel], optimize=True)
            K5 = Ke.reshape(-1, 10, 3, 10, 3)[:, PAIR_A, :, PAIR_B, :]  # (55, n, 3, 3)
            return K5.transpose(1, 0, 2, 3).reshape(-1, PAIR_A.size, 9)

        return self.blocks.stiffness(pairs, chunk=CHUNK)

    def step(self, T: float, tol: float = 1e-9, max_iterations: int = 25):
        """Equilibrium at temperature T from the last committed state; returns (u (N, 3), stress (E, Q, 6))."""
        u = self.u.copy()
        for it in range(1, max_iterations + 1):
            sig, C, trial = self._material_response(self._strain(u), T)
            R, scale = self._forces(sig)
            if np.linalg.norm(R) <= tol * max(scale, 1e-300) and it > 1:
                break
            K = self._tangent(C)
            self.solver.factorize(K if isinstance(self.solver, PardisoSolver) else K.tocsr(), consume=True)
            du = self.solver.solve(R)
            du[self.fixed] = 0.0
            u -= du
        else:
            raise RuntimeError(f"3D Newton did not converge at T = {T:g} C in {max_iterations} iterations "
                               f"(residual {np.linalg.norm(R) / scale:.3g})")
        self.newton_iterations.append(it - 1)
        self.states.update(trial)
        self.u = u
        self._key = None  # the last factor is a tangent, not the elastic stiffness
        return u.reshape(-1, 3).copy(), sig
