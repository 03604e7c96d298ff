"""The elastic regions of an incremental run, linear in a few coefficients of temperature.

In an incremental run the elastic elements contribute

    f_el(u, T) = K_el(T) u - f_th(T)

to the residual, and K_el(T) to every tangent.  Both are linear in a few
scalars of T per material, so a new temperature costs vector operations
instead of an integration over the elements:

* stiffness: a material's D(T) = sum_j c_j(T) D_j with fixed D_j
  (:meth:`~reliability.constitutive.elastic.ElasticLaw.stiffness_basis`:
  lambda and mu for an isotropic law, seven entries for an orthotropic one,
  one matrix if D does not change), so K_m(T) = sum_j c_j(T) K_mj with the
  K_mj integrated once;
* thermal force: per element fe_th = F_e s(T), with F_e = int B^T dw
  (n x 4, one column per stress component) integrated once and
  s(T) = D(T) eps_th(T) the material's thermal stress (MPa).

The element-wise |fe_th| that sizes the convergence test comes from the
same products, so nothing changes in what is computed: only where.

Process history (element birth, :mod:`reliability.process`): an element
born at T_b on an already deformed body has the mechanical strain

    eps_mech = eps - eps_birth - (A(T) - A(T_b)) - eps_cure

with A the antiderivative of alpha (from the problem's reference
temperature) and eps_birth its total strain at birth.  The part constant
over an element, ``offset`` = A(T_b) - eps_cure per element, enters the
thermal stress per element, s_e(T) = D(T) (A(T) - offset_e); the per-point
eps_birth gives a force sum_j c_j(T) g_j with g_j = int B^T D_j eps_birth,
integrated once per activation event.  Inactive elements are simply not in
``elements``.  With no offset and no birth strain every product is the one
of a single stress-free temperature.  On the
default fan-out case (its GEOMETRY_VERSION 2 mesh: 39,111 elements; the mold
and solder masks, 12,811 of them, temperature-dependent) a new temperature took 90-102 ms of
integration and now takes 18-19 ms (``bench/bench_kernels.py``), about 90
times a run.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..fem.assembly import Assembler


class IntegralCache:
    """The integrals of :class:`ElasticRegions` by the element sets they were integrated over, kept across
    :meth:`~.incremental.InelasticProblem.configure` calls (least recently used first out).

    A process history configures its problem at every birth, removal, cure sub-step and branch exit (36
    times on the default fan-out case), but over only a few distinct element sets: a set seen before
    reuses the very arrays integrated for it, so nothing computed changes (not even in the last bit).
    ``limit`` bounds the entries of each kind (a stiffness entry holds about two CSR data arrays).  One cache
    per problem: the keys are element sets (and birth strains) only, the mesh, B, w and materials being the
    problem's.  Measured on the default fan-out case: a configure over a set seen before 3 ms instead of
    140-180 ms (the assembly), 34 configures per run.
    """

    def __init__(self, limit: int = 3):
        self.limit = limit
        self._entries: dict[str, OrderedDict] = {}
        self.hits = 0
        self.misses = 0

    def get(self, kind: str, key, build):
        table = self._entries.setdefault(kind, OrderedDict())
        if key in table:
            table.move_to_end(key)
            self.hits += 1
            return table[key]
        self.misses += 1
        value = build()
        table[key] = value
        while len(table) > self.limit:
            table.popitem(last=False)
        return value


def _key(*arrays: np.ndarray) -> tuple:
    return tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays)


@dataclass
class _Varying:
    """One temperature-dependent material: its entries in the full pattern and their basis values."""

    material: int  # index into the problem's materials
    positions: np.ndarray  # (nnz_m,) entries of the full CSR pattern it touches
    values: np.ndarray  # (r, nnz_m) entry values of each basis matrix K_mj
    matrix: sp.csr_matrix  # its own compact pattern, for the matrix-vector product


@dataclass
class ElasticAt:
    """The elastic regions at one temperature.

    ``matvec(u)`` is K_el(T) u (N), ``f_th`` the thermal force (N) and
    ``scale_th`` the assembled |fe_th| of the elastic elements (N);
    ``data()`` the CSR data of K_el(T) on the assembler's full pattern (for a
    tangent), built on first use.
    """

    T: float
    values: list[np.ndarray]  # entry values of each temperature-dependent material at T
    f_th: np.ndarray
    scale_th: np.ndarray
    regions: "ElasticRegions"
    _data: np.ndarray | None = None

    def matvec(self, u: np.ndarray) -> np.ndarray:
        out = self.regions.constant_matrix @ u
        for v, values in zip(self.regions.varying, self.values):
            v.matrix.data = values
            out += v.matrix @ u
        return out

    def data(self) -> np.ndarray:
        if self._data is None:
            data = self.regions.constant_data.copy()
            for v, values in zip(self.regions.varying, self.values):
                data[v.positions] += values
            self._data = data
        return self._data


class ElasticRegions:
    """Stiffness and thermal force of the elastic elements, integrated once, evaluated at any T.

    Parameters: the problem's assembler, kinematics (B, w), distinct
    materials and the material index of every element, the elastic
    elements, and the stress-free temperature T_ref (degrees C).
    """

    def __init__(self, assembler: Assembler, B: np.ndarray, w: np.ndarray, materials: list, mat_index: np.ndarray,
                 elements: np.ndarray, T_ref: float, offset: np.ndarray | None = None,
                 eps_birth: np.ndarray | None = None, active: np.ndarray | None = None,
                 cache: IntegralCache | None = None):
        self.assembler = assembler
        self.materials = materials
        self.mat_index = mat_index
        self.elements = elements
        self.T_ref = float(T_ref)
        cache = IntegralCache(0) if cache is None else cache  # limit 0: nothing kept (every set integrated)
        laws = [m.elastic for m in materials]
        elements_key = _key(np.asarray(elements))
        self.constant_data, self.constant_matrix, self.varying = cache.get(
            "stiffness", elements_key, lambda: self._stiffness(B, w, elements, laws))
        # F[e, :, k] = sum_q w_q B_q[k, :]^T: the element force of a unit stress component k, for the
        # elastic elements and (only for the force floor) the others
        live = np.ones(mat_index.size, dtype=bool) if active is None else np.asarray(active, dtype=bool)
        others = np.setdiff1d(np.flatnonzero(live), elements)
        self._live_materials, self._parts = cache.get("parts", elements_key + _key(others),
                                                      lambda: self._force_parts(B, w, elements, others))
        self._cache: ElasticAt | None = None
        self.force_floor = 0.0
        # process history: per-element offset strain (E, 4) and birth strains (E, Q, 4), both optional
        self.offset = None
        if offset is not None and np.any(offset[elements] != 0.0):
            self.offset = (offset[elements], offset[others])
        self._birth = None
        if eps_birth is not None and np.any(eps_birth[elements] != 0.0):
            # keyed by the birth strains of the elements themselves (a copied Birth has equal, not the same, arrays)
            mine = np.ascontiguousarray(eps_birth[elements])
            self._birth = cache.get("birth", elements_key + _key(mine),
                                    lambda: self._birth_basis(B, w, eps_birth, elements, laws))

    def _stiffness(self, B, w, elements, laws):
        """CSR data of the constant materials' stiffness (and its compact matrix), and the basis matrices
        of each temperature-dependent material."""
        assembler, mat_index = self.assembler, self.mat_index
        varying = np.array([law.temperature_dependent for law in laws])
        const = elements[~varying[mat_index[elements]]]
        D_const = np.stack([law.stiffness_basis()[0] if not law.temperature_dependent else np.zeros((4, 4))
                            for law in laws])
        constant_data = assembler.stiffness_data(B, D_const[mat_index][:, None], w, const)
        nonzero = np.flatnonzero(constant_data)
        constant_matrix = _compact(assembler, nonzero, constant_data[nonzero])
        out: list[_Varying] = []
        for i in np.flatnonzero(varying):
            mine = elements[mat_index[elements] == i]
            if mine.size == 0:
                continue
            basis = laws[i].stiffness_basis()
            full = np.stack([assembler.stiffness_data(B, np.broadcast_to(Dj, (mine.size, 1, 4, 4)), w, mine)
                             for Dj in basis])
            positions = np.flatnonzero(np.any(full != 0.0, axis=0))
            values = np.ascontiguousarray(full[:, positions])
            out.append(_Varying(int(i), positions, values, _compact(assembler, positions, values[0])))
        return constant_data, constant_matrix, out

    def _force_parts(self, B, w, elements, others):
        mat_index = self.mat_index
        # materials of built elements only: a solder molten in a reflow has no data above its solidus
        live_materials = np.zeros(len(self.materials), dtype=bool)
        live_materials[mat_index[elements]] = True
        live_materials[mat_index[others]] = True
        parts = [(e, np.einsum("eqki,eq->eik", B[e], w[e], optimize=True), mat_index[e],
                  self.assembler.scatter_for(e)) for e in (elements, others)]
        return live_materials, parts

    def _birth_basis(self, B, w, eps_birth, elements, laws):
        """Per material, the element forces int B^T D_j eps_birth dw of each stiffness basis matrix D_j."""
        parts = []
        for i, law in enumerate(laws):
            mine = elements[self.mat_index[elements] == i]
            if mine.size == 0 or not np.any(eps_birth[mine] != 0.0):
                continue
            basis = law.stiffness_basis() if law.temperature_dependent else law.stiffness_basis()[:1]
            # (r, n_e, 12): sum_q w_q B_q^T (D_j eps_birth_q)
            fe = np.stack([np.einsum("eqki,eqk,eq->ei", B[mine], eps_birth[mine] @ Dj.T, w[mine], optimize=True)
                           for Dj in basis])
            parts.append((law, fe, self.assembler.scatter_for(mine)))
        return parts

    def at(self, T: float) -> ElasticAt:
        """The elastic regions at T (degrees C); the last temperature's is kept."""
        if self._cache is not None and self._cache.T == T:
            return self._cache
        laws = [m.elastic for m in self.materials]
        D = np.stack([law.stiffness(T) if live else np.zeros((4, 4))
                      for law, live in zip(laws, self._live_materials)])
        eth = np.stack([law.thermal_strain(T, self.T_ref) if live else np.zeros(4)
                        for law, live in zip(laws, self._live_materials)])
        s_th = np.einsum("mij,mj->mi", D, eth)[:, :, None]  # (M, 4, 1) thermal stress of each material, MPa
        (_, F, mats, scatter), (_, F_other, mats_other, scatter_other) = self._parts
        if self.offset is None:
            s_el, s_other = s_th[mats], s_th[mats_other]
        else:  # per element: D(T) (A(T) - offset_e) = s_th - D(T) offset_e
            s_el = s_th[mats] - np.einsum("eij,ej->ei", D[mats], self.offset[0])[:, :, None]
            s_other = s_th[mats_other] - np.einsum("eij,ej->ei", D[mats_other], self.offset[1])[:, :, None]
        fe_th = np.matmul(F, s_el)[..., 0]
        f_th = scatter(fe_th)
        scale_th = scatter(np.abs(fe_th))
        for law, fe_b, scatter_b in self._birth or ():
            c = law.stiffness_coefficients(T) if law.temperature_dependent else np.ones(1)
            f_b = scatter_b(np.tensordot(c, fe_b, axes=1))
            f_th = f_th + f_b
            scale_th = scale_th + np.abs(f_b)
        # the force a fully restrained body would see (all elements): a floor for "zero" residuals
        restrained = scale_th + scatter_other(np.abs(np.matmul(F_other, s_other)[..., 0]))
        self.force_floor = 1e-10 * float(np.linalg.norm(restrained))
        values = [laws[v.material].stiffness_coefficients(T) @ v.values if self._live_materials[v.material]
                  else np.zeros(v.values.shape[1]) for v in self.varying]
        self._cache = ElasticAt(float(T), values, f_th, scale_th, self)
        return self._cache


def _compact(assembler: Assembler, positions: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
    """CSR matrix of the full-pattern entries ``positions`` only (sorted), with ``values``."""
    rows = np.searchsorted(assembler.indptr, positions, side="right") - 1
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=assembler.n_dofs))))
    M = sp.csr_matrix((np.array(values, dtype=float), assembler.indices[positions], indptr),
                      shape=(assembler.n_dofs, assembler.n_dofs))
    M.has_sorted_indices = True
    return M
