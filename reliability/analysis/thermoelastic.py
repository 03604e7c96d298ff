"""Linear thermo-elastic solution at a list of uniform temperatures.

For each temperature T the body is loaded by the thermal strain accumulated
since the stress-free temperature T_ref:

    K(T) u = f(T),  K = sum_e int B^T D(T) B dw,  f = sum_e int B^T D(T) eps_th(T) dw

Each temperature is an independent (path-independent) elastic state.  When no
material's stiffness depends on temperature, K is factorized once and only
the right-hand side changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..fem.assembly import Assembler, element_force, element_strain
from ..fem.constraints import supports
from ..fem.geometry import element_geometry
from ..fem.kinematics import condense_plane_stress, make_kinematics, plane_stress_eps_zz
from ..fem.node_blocks import CHUNK, BlockMatrix, NodeBlocks, pair_stiffness  # CHUNK: elements per pass
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
    """A model, its materials and kinematics, ready to be solved at any temperature.

    With PARDISO and no global unknowns (plane strain, plane stress,
    axisymmetric) the stiffness goes straight into PARDISO's upper 2x2 node
    blocks (:mod:`~reliability.fem.node_blocks`) and every pass over the
    elements (stiffness, load, strains) builds B chunk by chunk from the
    gradients: at a million unknowns neither B (287 MiB), a CSR matrix
    (184 MiB) nor an element-to-CSR map (137 MiB) is held.  Otherwise
    (generalized plane strain, other solvers) the CSR assembler is used.
    """

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
        self.materials, self.mat_index = element_materials(model, assignment)
        self.solver = make_solver(solver, n_dofs=self.layout.n_free)
        self.blocks = None
        self._assembler = None
        if self.solver.name == "pardiso" and self.layout.n_extra == 0:
            self.blocks = NodeBlocks(model.elements, model.n_nodes, self.layout.fixed)
        elif hasattr(self.solver, "use_node_blocks"):  # global unknowns: blocks from the CSR pattern
            self.solver.use_node_blocks(self.layout.free, self.layout.n_full)
        if hasattr(self.solver, "set_near_nullspace"):
            self.solver.set_near_nullspace(rigid_body_modes(model.nodes, self.layout.free, model.n_nodes))
        self._stiffness_key = None
        # wall times of the last overlapped assembly and of the wait for PARDISO's analysis after it, s
        self.timings: dict[str, float] = {}

    @property
    def n_dofs(self) -> int:
        return self.layout.n_free

    @property
    def assembler(self) -> Assembler:
        """The CSR assembler on the free dofs (built on first use in node-block mode)."""
        if self._assembler is None:
            self._assembler = Assembler.for_layout(self.model.elements, self.layout)
        return self._assembler

    def material_stiffness(self, T: float) -> np.ndarray:
        """(M, 4, 4) stiffness of every distinct material at T, uncondensed."""
        return np.stack([m.elastic.stiffness(T) for m in self.materials])

    def _solver_stiffness(self, T: float) -> np.ndarray:
        """(M, 4, 4) stiffness the equations use at T (condensed in plane stress)."""
        D_mat = self.material_stiffness(T)
        return condense_plane_stress(D_mat) if self.kin.plane_stress else D_mat

    def _chunks(self):
        E = self.model.n_elements
        return (slice(start, min(start + CHUNK, E)) for start in range(0, E, CHUNK))

    def _pair_stiffness(self, T: float):
        D = self._solver_stiffness(T)
        return lambda sel: pair_stiffness(self.kin.nodal_gradients(sel), self.kin.w[sel], D, self.mat_index[sel])

    def stiffness(self, T: float):
        """Global stiffness on the free dofs (SciPy CSR, N/mm) at T, for inspection and other solvers."""
        D_e = self._solver_stiffness(T)[self.mat_index][:, None]  # (E, 1, 4, 4)
        return self.assembler.csr(self.assembler.stiffness_data(self.kin.B, D_e, self.kin.w))

    def assemble(self, T: float):
        """The stiffness at T in the form the solver takes: node blocks for PARDISO, else CSR."""
        if self.blocks is not None:
            return self.blocks.stiffness(self._pair_stiffness(T))
        return self.stiffness(T)

    def factorize(self, T: float, K=None, consume: bool = False) -> None:
        """Factorize the stiffness at T (``K`` if already assembled) unless the last factor still holds.

        A stiffness assembled here is released before the numeric
        factorization (CSR; node blocks are PARDISO's array as they are);
        so is a given ``K`` with ``consume=True``.
        """
        D_use = self._solver_stiffness(T)
        if K is not None and (self.blocks is not None) != isinstance(K, BlockMatrix):
            raise TypeError("factorize takes the matrix assemble(T) returns (node blocks for PARDISO), "
                            f"not a {type(K).__name__}")
        if self._stiffness_key is None or not np.array_equal(self._stiffness_key, D_use):
            if K is None and self.blocks is not None and not self.solver.analysed(self.blocks.pattern):
                K = self._assemble_while_analysing(T)
            if K is None:
                self.solver.factorize(self.assemble(T), consume=True)
            else:
                self.solver.factorize(K, consume=consume)
            self._stiffness_key = D_use

    def _assemble_while_analysing(self, T: float) -> BlockMatrix:
        """The block stiffness at T, assembled while PARDISO analyses its pattern on another thread.

        The analysis (ordering, symbolic factorization) needs the pattern
        only; it runs on MKL's threads while NumPy fills the values.
        """
        from concurrent.futures import ThreadPoolExecutor

        K = self.blocks.empty()
        with ThreadPoolExecutor(1, thread_name_prefix="reliability-analysis") as pool:
            analysis = pool.submit(self.solver.analyse_blocks, K)
            t0 = time.perf_counter()
            self.blocks.stiffness(self._pair_stiffness(T), out=K)
            t1 = time.perf_counter()
            analysis.result()
        self.timings.update(assembly_s=t1 - t0, analysis_wait_s=time.perf_counter() - t1)
        return K

    def load(self, T: float) -> np.ndarray:
        """Thermal load at T (N): free dofs, or the full nodal numbering in node-block mode."""
        D_use = self._solver_stiffness(T)
        eth_mat = np.stack([m.elastic.thermal_strain(T, self.T_ref_C) for m in self.materials])
        sig_th = np.einsum("mij,mj->mi", D_use, eth_mat)[self.mat_index][:, None, :]  # (E, 1, 4)
        sig_th = np.broadcast_to(sig_th, self.kin.w.shape + (4,))
        fe = np.empty((self.model.n_elements, 12 + self.layout.n_extra))
        for sel in self._chunks():
            fe[sel] = element_force(self.kin.operator(sel), sig_th[sel], self.kin.w[sel])
        return self.blocks.vector(fe) if self.blocks is not None else self.assembler.vector(fe)

    def solve(self, T: float) -> ElasticState:
        """Elastic state at T: factorize (if D changed), load, solve, recover strains and stresses."""
        self.factorize(T)
        x = self.solver.solve(self.load(T))
        return self.state(T, x if self.blocks is not None else self.layout.expand(x))

    def state(self, T: float, u_full: np.ndarray) -> ElasticState:
        """Strains and stresses at T of the full displacement vector ``u_full`` (mm)."""
        D_mat = self.material_stiffness(T)
        eth_mat = np.stack([m.elastic.thermal_strain(T, self.T_ref_C) for m in self.materials])
        D_use = condense_plane_stress(D_mat) if self.kin.plane_stress else D_mat
        ue = self.blocks.gather(u_full) if self.blocks is not None else self.assembler.gather(u_full[self.layout.free])
        eps = np.empty(self.kin.w.shape + (4,))
        for sel in self._chunks():
            eps[sel] = element_strain(self.kin.operator(sel), ue[sel])
        del ue
        if self.kin.plane_stress:
            eth = eth_mat[self.mat_index][:, None, :]
            eps[..., 2] = plane_stress_eps_zz(D_mat[self.mat_index][:, None], eps, eth)
        # sigma = D (eps - eps_th), one (points x 4) @ (4 x 4) product per material instead of a
        # stiffness gathered for every element (1 M dofs: 32 MiB and most of the recovery's time)
        stress = np.empty_like(eps)
        for m in range(len(self.materials)):
            mine = self.mat_index == m
            stress[mine] = (eps[mine] - eth_mat[m]) @ D_use[m].T
        n = self.model.n_nodes
        return ElasticState(
            T_C=float(T),
            u=u_full[: 2 * n].reshape(n, 2),
            extra=u_full[2 * n :],
            strain=eps,
            stress=stress,
        )
