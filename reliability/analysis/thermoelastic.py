"""Linear thermo-elastic solution at a list of uniform temperatures.

For each temperature T the body is loaded by the thermal strain accumulated
since the stress-free temperature T_ref:

    K(T) u = f(T),  K = sum_e int B^T D(T) B dw,  f = sum_e int B^T D(T) eps_th(T) dw

Each temperature is an independent (path-independent) elastic state.  When no
material's stiffness depends on temperature, K is factorized once and only
the right-hand side changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fem.assembly import Assembler, element_force, element_strain
from ..fem.constraints import supports
from ..fem.geometry import element_geometry
from ..fem.kinematics import condense_plane_stress, make_kinematics, plane_stress_eps_zz
from ..fem.solvers import make_solver, rigid_body_modes
from ..material import Material
from ..model import Model


@dataclass
class ElasticState:
    """Solution at one temperature.

    Attributes
    ----------
    T_C : float
    u : (N, 2) nodal displacement, mm
    extra : (n_extra,) generalized plane strain (e0 [-], e1 [1/mm], e2 [1/mm])
    strain : (E, Q, 4) total strain (xx, yy, zz, xy engineering shear)
    stress : (E, Q, 4) stress (xx, yy, zz, xy), MPa
    """

    T_C: float
    u: np.ndarray
    extra: np.ndarray
    strain: np.ndarray
    stress: np.ndarray

    @property
    def von_mises(self) -> np.ndarray:
        return von_mises(self.stress)


def von_mises(stress: np.ndarray) -> np.ndarray:
    """Equivalent (von Mises) stress of (..., 4) stress vectors, MPa."""
    sx, sy, sz, txy = np.moveaxis(stress, -1, 0)
    return np.sqrt(0.5 * ((sx - sy) ** 2 + (sy - sz) ** 2 + (sz - sx) ** 2) + 3.0 * txy**2)


def element_materials(model: Model, assignment: dict[str, Material]) -> tuple[list[Material], np.ndarray]:
    """Distinct materials and the material index of every element."""
    materials: list[Material] = []
    index_of_region = np.empty(len(model.region_names), dtype=np.int64)
    for r, name in enumerate(model.region_names):
        mat = assignment[name]
        for i, m in enumerate(materials):
            if m is mat:
                break
        else:
            materials.append(mat)
            i = len(materials) - 1
        index_of_region[r] = i
    return materials, index_of_region[model.element_region]


class ThermoElasticProblem:
    """A model, its materials and kinematics, ready to be solved at any temperature."""

    def __init__(
        self,
        model: Model,
        assignment: dict[str, Material],
        kinematics: str,
        T_ref_C: float,
        symmetry_line: str | None = None,
        solver: str = "auto",
    ):
        self.model = model
        self.T_ref_C = float(T_ref_C)
        self.geo = element_geometry(model)
        self.kin = make_kinematics(kinematics, self.geo)
        self.layout = supports(model, kinematics, symmetry_line)
        self.assembler = Assembler.for_layout(model.elements, self.layout)
        self.materials, self.mat_index = element_materials(model, assignment)
        self.solver = make_solver(solver, n_dofs=self.layout.n_free)
        if hasattr(self.solver, "set_near_nullspace"):
            self.solver.set_near_nullspace(rigid_body_modes(model.nodes, self.layout.free, model.n_nodes))
        if hasattr(self.solver, "use_node_blocks"):  # PARDISO: ordering on the node graph, 4x cheaper
            graph = self.assembler.node_graph
            self.solver.use_node_blocks(self.layout.free, self.layout.n_full,
                                        structure=graph.upper_blocks if graph is not None else None)
        self._stiffness_key = None

    @property
    def n_dofs(self) -> int:
        return self.layout.n_free

    def material_stiffness(self, T: float) -> np.ndarray:
        """(M, 4, 4) stiffness of every distinct material at T, uncondensed."""
        return np.stack([m.elastic.stiffness(T) for m in self.materials])

    def _solver_stiffness(self, T: float) -> np.ndarray:
        """(M, 4, 4) stiffness the equations use at T (condensed in plane stress)."""
        D_mat = self.material_stiffness(T)
        return condense_plane_stress(D_mat) if self.kin.plane_stress else D_mat

    def stiffness(self, T: float):
        """Global stiffness matrix (CSR on the fixed pattern, N/mm) at T."""
        D_e = self._solver_stiffness(T)[self.mat_index][:, None]  # (E, 1, 4, 4)
        return self.assembler.csr(self.assembler.stiffness_data(self.kin.B, D_e, self.kin.w))

    def factorize(self, T: float, K=None, consume: bool = False) -> None:
        """Factorize the stiffness at T (``K`` if already assembled) unless the last factor still holds.

        A stiffness assembled here is released before the numeric
        factorization (at 1 M dofs 175 MiB off the peak); so is a given ``K``
        with ``consume=True``.
        """
        D_use = self._solver_stiffness(T)
        if self._stiffness_key is None or not np.array_equal(self._stiffness_key, D_use):
            if K is None:
                self.solver.factorize(self.stiffness(T), consume=True)
            else:
                self.solver.factorize(K, consume=consume)
            self._stiffness_key = D_use

    def solve(self, T: float) -> ElasticState:
        D_mat = self.material_stiffness(T)
        eth_mat = np.stack([m.elastic.thermal_strain(T, self.T_ref_C) for m in self.materials])
        D_use = condense_plane_stress(D_mat) if self.kin.plane_stress else D_mat
        self.factorize(T)
        sig_th = np.einsum("mij,mj->mi", D_use, eth_mat)[self.mat_index][:, None, :]  # (E, 1, 4)
        sig_th = np.broadcast_to(sig_th, self.kin.w.shape + (4,))
        f = self.assembler.vector(element_force(self.kin.B, sig_th, self.kin.w))
        u_full = self.layout.expand(self.solver.solve(f))
        ue = self.assembler.gather(u_full[self.layout.free])
        eps = element_strain(self.kin.B, ue)
        eth = eth_mat[self.mat_index][:, None, :]
        if self.kin.plane_stress:
            eps[..., 2] = plane_stress_eps_zz(D_mat[self.mat_index][:, None], eps, eth)
        stress = np.einsum("eij,eqj->eqi", D_use[self.mat_index], eps - eth)
        n = self.model.n_nodes
        return ElasticState(
            T_C=float(T),
            u=u_full[: 2 * n].reshape(n, 2),
            extra=u_full[2 * n :],
            strain=eps,
            stress=stress,
        )
