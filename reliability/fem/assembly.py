"""Vectorised assembly with a sparsity pattern computed once per mesh.

Element matrices are batched products over (elements, quadrature points);
scattering them into the global matrix is an unbuffered ``np.add.at`` into the data
array of a CSR matrix whose pattern, and the position of every element entry
in it, were computed when the :class:`Assembler` was built (the FElupe
``_sparsity`` idea).  No COO -> CSR conversion happens after that.

Constrained degrees of freedom are eliminated, not penalised: their entries
in the element dof map are ``-1`` and their rows and columns never enter the
pattern.  All constraints here are homogeneous (zero displacement), so this
is exact.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .sparsity import block_pattern, generic_pattern


def element_stiffness(B: np.ndarray, D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """K_e = sum_q w_q B_q^T D_q B_q, shape (E, n, n).

    B (E, Q, 4, n); D (E, Q, 4, 4) or (E, 1, 4, 4); w (E, Q).
    """
    DB = np.matmul(D, B)  # (E, Q, 4, n)
    return np.einsum("eqki,eqkj,eq->eij", B, DB, w, optimize=True)


def element_force(B: np.ndarray, sigma: np.ndarray, w: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """f_e = sum_q w_q B_q^T sigma_q, shape (E, n); sigma (E, Q, 4).

    One batched (1 x 4Q) @ (4Q x n) product per element: about half the
    time of the three-operand einsum (the fan-out case's 15 k solder
    elements, ``bench/bench_kernels.py``), by chunks of elements to bound
    the temporaries.
    """
    E, Q, _, n = B.shape
    out = np.empty((E, n))
    for start in range(0, E, chunk):
        sel = slice(start, start + chunk)
        sw = (sigma[sel] * w[sel, :, None]).reshape(-1, 1, 4 * Q)
        out[sel] = np.matmul(sw, B[sel].reshape(-1, 4 * Q, n))[:, 0]
    return out


def element_strain(B: np.ndarray, ue: np.ndarray) -> np.ndarray:
    """eps_q = B_q u_e, shape (E, Q, 4); ue (E, n)."""
    return np.einsum("eqki,ei->eqk", B, ue, optimize=True)


class VectorScatter:
    """Global vectors from element vectors of one fixed set of elements, called many times.

    The subset's dofs and the mask of its eliminated entries are gathered
    once (on the fan-out case the solder's were re-gathered at every
    residual evaluation, three times each).
    """

    def __init__(self, dofmap: np.ndarray, elements: np.ndarray | None, n_dofs: int):
        dofs = (dofmap if elements is None else dofmap[elements]).ravel()
        self.keep = np.flatnonzero(dofs >= 0)
        if dofs.size < 2**31 - 1:
            self.keep = self.keep.astype(np.int32)
        self.dofs = dofs[self.keep]
        self.n_dofs = int(n_dofs)

    def __call__(self, fe: np.ndarray) -> np.ndarray:
        """sum_e fe_e into the free dofs; ``fe`` (E_subset, n)."""
        # astype: bincount of an empty selection returns integers
        return np.bincount(self.dofs, weights=fe.reshape(-1)[self.keep],
                           minlength=self.n_dofs).astype(float, copy=False)


class Assembler:
    """Scatter element matrices and vectors through a fixed dof map.

    Parameters
    ----------
    dofmap : (E, n) int
        Global (free) dof of each element unknown, ``-1`` where eliminated.
    n_dofs : int
        Number of free dofs.
    where : (E, n*n) int, optional
        Precomputed CSR position of every element entry (``nnz`` for
        eliminated ones), with ``indptr``/``indices``; see :meth:`for_layout`.
    """

    def __init__(self, dofmap: np.ndarray, n_dofs: int, pattern: tuple | None = None):
        self.n_dofs = int(n_dofs)
        # 32-bit dof numbers while they fit: held for the model's life (1 M dofs: 12 instead of 24 MiB each)
        self.dofmap = np.asarray(dofmap, dtype=np.int32 if self.n_dofs < 2**31 - 1 else np.int64)
        if pattern is None:
            pattern = generic_pattern(self.dofmap, self.n_dofs)
        self.indptr, self.indices, self._where = pattern
        self.nnz = int(self.indptr[-1])
        self._all = VectorScatter(self.dofmap, None, self.n_dofs)

    @classmethod
    def for_layout(cls, elements: np.ndarray, layout) -> "Assembler":
        """Assembler for 6-node triangles with two nodal dofs (and any global extras).

        Without extra unknowns the pattern is built on the node graph (36
        node pairs per element instead of 144 dof pairs) and expanded to 2x2
        blocks arithmetically: about ten times faster than deduplicating the
        dof pairs, which matters at a million unknowns.
        """
        dofmap = layout.element_dofmap(elements)
        if layout.n_extra:
            return cls(dofmap, layout.n_free)
        return cls(dofmap, layout.n_free, block_pattern(elements, layout.n_nodes, layout.free_index()))

    def data(self, Ke: np.ndarray, elements: np.ndarray | None = None) -> np.ndarray:
        """CSR data array from element matrices of all elements, or of ``elements`` only."""
        out = np.zeros(self.nnz + 1)  # eliminated entries land in the spare last slot
        self._scatter(out, Ke, elements)
        return out[: self.nnz]

    def positions(self, elements: np.ndarray) -> np.ndarray:
        """CSR positions (flat, ``nnz`` for eliminated entries) of the entries of ``elements``, for
        repeated scatters of the same elements into ``data``-sized arrays with one spare slot."""
        return np.ascontiguousarray(self._where[elements]).reshape(-1)

    def _scatter(self, out: np.ndarray, Ke: np.ndarray, elements) -> None:
        where = self._where if elements is None else self._where[elements]
        # unbuffered add.at: no output-sized temporary per call, unlike bincount (numpy >= 1.25 fast path)
        np.add.at(out, where.ravel(), Ke.reshape(-1))

    def stiffness_data(self, B: np.ndarray, D: np.ndarray, w: np.ndarray, elements: np.ndarray | None = None,
                       chunk: int = 16384) -> np.ndarray:
        """CSR data of sum_e int B^T D B over all elements, or over ``elements`` only.

        Element matrices are computed and scattered in chunks, so neither the
        batched products' temporaries nor the element matrices of the whole
        mesh are ever held (0.25 s and no extra memory at a million unknowns).
        """
        n = B.shape[0] if elements is None else len(elements)
        out = np.zeros(self.nnz + 1)
        per_element_D = D.shape[0] == B.shape[0]
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            # slices are views; fancy indexing would copy B chunk by chunk
            sel = slice(start, stop) if elements is None else np.asarray(elements[start:stop])
            Dc = D[sel] if per_element_D else D[start:stop]
            self._scatter(out, element_stiffness(B[sel], Dc, w[sel]), sel)
        return out[: self.nnz]

    def csr(self, data: np.ndarray) -> sp.csr_matrix:
        """A CSR matrix on the fixed pattern with the given data."""
        K = sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_dofs, self.n_dofs))
        K.has_sorted_indices = True
        return K

    def matrix(self, Ke: np.ndarray, elements: np.ndarray | None = None) -> sp.csr_matrix:
        """Global CSR matrix from element matrices (E, n, n) (or of a subset of elements)."""
        return self.csr(self.data(Ke, elements))

    def vector(self, fe: np.ndarray, elements: np.ndarray | None = None) -> np.ndarray:
        """Global vector from element vectors (E, n) (or of a subset of elements)."""
        return self._all(fe) if elements is None else self.scatter_for(elements)(fe)

    def scatter_for(self, elements: np.ndarray) -> VectorScatter:
        """A :class:`VectorScatter` for repeated vectors of the same ``elements``."""
        return VectorScatter(self.dofmap, elements, self.n_dofs)

    def gather(self, u: np.ndarray) -> np.ndarray:
        """Element vectors (E, n) from a global free-dof vector (zeros where eliminated)."""
        padded = np.concatenate((u, [0.0]))
        return padded[self.dofmap]  # -1 picks the trailing zero
