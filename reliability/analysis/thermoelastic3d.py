"""Linear thermo-elastic solution of a 3D quarter model at a list of uniform temperatures.

The 3D twin of :mod:`reliability.analysis.thermoelastic`: at each temperature T

    K(T) u = f(T),  K = sum_e int B^T D(T) B dV,  f = sum_e int B^T D(T) eps_th(T) dV

with 10-node tetrahedra (:mod:`reliability.fem.geometry3d`), six strain
components (xx, yy, zz, yz, xz, xy; :mod:`reliability.fem.kinematics3d`) and
the 6 x 6 laws of :mod:`reliability.constitutive.elastic3d` (the 2D path's
materials and temperature tables).  The stiffness goes into 3x3 node blocks
(:mod:`reliability.fem.node_blocks3d`) and to PARDISO as BSR; CHOLMOD or
SuperLU get it as CSR.  Each temperature is an independent elastic state;
the factor is reused while D(T) does not change.

Supports of a quarter model (the package's symmetry planes x = 0 and y = 0):
u_x = 0 on x = 0, u_y = 0 on y = 0, and u_z = 0 at one node on the line
x = y = 0 (the lowest): with the thermal load self-equilibrated this removes
the remaining rigid motion (translation along z) and adds no stress.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constitutive.elastic3d import stiffness3d, thermal_strain3d
from ..errors import CaseError
from ..fem.geometry3d import element_geometry3d
from ..fem.kinematics3d import element_force, element_strain, strain_operator, von_mises3d
from ..fem.node_blocks3d import CHUNK, BlockMatrix3, NodeBlocks3, pair_stiffness3d
from ..fem.pardiso import PardisoSolver
from ..fem.solvers import available_solvers, choose, make_solver
from ..material import Material
from ..model import Model
from .thermoelastic import element_materials


@dataclass
class ElasticState3D:
    """Solution at one temperature: u (N, 3) mm, strain and stress (E, Q, 6) (xx, yy, zz, yz, xz, xy)."""

    T_C: float
    u: np.ndarray
    strain: np.ndarray
    stress: np.ndarray

    @property
    def von_mises(self) -> np.ndarray:
        return von_mises3d(self.stress)


def quarter_supports(model: Model, tol: float | None = None, candidates: np.ndarray | None = None) -> np.ndarray:
    """Fixed dofs (3 N,) bool of a quarter model: symmetry planes x = 0, y = 0 and one node in z.

    ``candidates`` (N,) bool: nodes the z support may hold (a process history: nodes of regions that exist
    through every step, :func:`reliability.process.history.persistent_nodes`); default every node."""
    x, y, z = model.nodes.T
    if tol is None:
        tol = 1e-9 * float(np.ptp(model.nodes, axis=0).max())
    on_x, on_y = np.abs(x) <= tol, np.abs(y) <= tol
    ok = np.ones(model.n_nodes, dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    if not on_x.any() or not on_y.any() or not (on_x & on_y & ok).any():
        raise CaseError("a quarter model needs nodes on both symmetry planes x = 0 and y = 0 and on their line"
                        + ("" if candidates is None else " (in regions that exist through the whole history)"))
    fixed = np.zeros((model.n_nodes, 3), dtype=bool)
    fixed[on_x, 0] = True
    fixed[on_y, 1] = True
    axis = np.flatnonzero(on_x & on_y & ok)
    fixed[axis[np.argmin(z[axis])], 2] = True
    return fixed.reshape(-1)


class ThermoElasticProblem3D:
    """A 3D quarter model and its materials, ready to be solved at any temperature."""

    def __init__(self, model: Model, assignment: dict[str, Material], T_ref_C: float, solver: str = "auto",
                 fixed: np.ndarray | None = None):
        if model.nodes.shape[1] != 3 or model.elements.shape[1] != 10:
            raise ValueError("ThermoElasticProblem3D takes a model of 10-node tetrahedra with (N, 3) nodes")
        self.model = model
        self.T_ref_C = float(T_ref_C)
        self.geo = element_geometry3d(model)
        self.materials, self.mat_index = element_materials(model, assignment)
        self.fixed = quarter_supports(model) if fixed is None else np.asarray(fixed, dtype=bool)
        self.blocks = NodeBlocks3(model.elements, model.n_nodes, self.fixed)
        n_free = int(np.count_nonzero(~self.fixed))
        backend = choose(solver, n_free)
        if backend == "amg":  # no 3D rigid-body near null space is wired: use the best direct solver
            backend = [b for b in available_solvers() if b != "amg"][0]
        self.solver = PardisoSolver() if backend == "pardiso" else make_solver(backend)
        self._key = None

    @property
    def n_dofs(self) -> int:
        return int(np.count_nonzero(~self.fixed))

    def material_stiffness(self, T: float) -> np.ndarray:
        """(M, 6, 6) stiffness of every distinct material at T."""
        return np.stack([stiffness3d(m.elastic, T) for m in self.materials])

    def thermal_strains(self, T: float) -> np.ndarray:
        """(M, 6) thermal strain of every distinct material from T_ref to T."""
        return np.stack([thermal_strain3d(m.elastic, T, self.T_ref_C) for m in self.materials])

    def _chunks(self):
        E = self.model.n_elements
        return (slice(s, min(s + CHUNK, E)) for s in range(0, E, CHUNK))

    def assemble(self, T: float) -> BlockMatrix3:
        """The stiffness at T as upper 3x3 node blocks (identity rows and columns at the supports)."""
        D = self.material_stiffness(T)
        return self.blocks.stiffness(lambda sel: pair_stiffness3d(self.geo.grad[sel], self.geo.dx[sel], D,
                                                                  self.mat_index[sel]))

    def factorize(self, T: float) -> None:
        D = self.material_stiffness(T)
        if self._key is not None and np.array_equal(self._key, D):
            return
        K = self.assemble(T)
        self.solver.factorize(K if isinstance(self.solver, PardisoSolver) else K.tocsr(), consume=True)
        self._key = D

    def load(self, T: float) -> np.ndarray:
        """Thermal load at T (N) in the full nodal numbering, zero at the supports."""
        sig_th = np.einsum("mij,mj->mi", self.material_stiffness(T), self.thermal_strains(T))[self.mat_index]
        fe = np.empty((self.model.n_elements, 30))
        Q = self.geo.dx.shape[1]
        for sel in self._chunks():
            s = np.broadcast_to(sig_th[sel][:, None, :], (sig_th[sel].shape[0], Q, 6))
            fe[sel] = element_force(strain_operator(self.geo.grad[sel]), s, self.geo.dx[sel])
        return self.blocks.vector(fe)

    def solve(self, T: float) -> ElasticState3D:
        self.factorize(T)
        u = self.solver.solve(self.load(T))
        u[self.fixed] = 0.0
        return self.state(T, u)

    def state(self, T: float, u_full: np.ndarray) -> ElasticState3D:
        """Strains and stresses at T of the full displacement vector (mm)."""
        D = self.material_stiffness(T)
        eth = self.thermal_strains(T)
        eps = np.empty(self.geo.dx.shape + (6,))
        for sel in self._chunks():
            eps[sel] = element_strain(strain_operator(self.geo.grad[sel]), self.blocks.gather(u_full, sel))
        stress = np.empty_like(eps)
        for m in range(len(self.materials)):  # one product per material
            mine = self.mat_index == m
            stress[mine] = (eps[mine] - eth[m]) @ D[m].T
        return ElasticState3D(T_C=float(T), u=u_full.reshape(-1, 3).copy(), strain=eps, stress=stress)
