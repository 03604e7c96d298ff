"""Vectorised assembly with a sparsity pattern computed once per mesh.

Element matrices are batched products over (elements, quadrature points);
scattering them into the global matrix is one ``np.bincount`` into the data
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


def element_stiffness(B: np.ndarray, D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """K_e = sum_q w_q B_q^T D_q B_q, shape (E, n, n).

    B (E, Q, 4, n); D (E, Q, 4, 4) or (E, 1, 4, 4); w (E, Q).
    """
    DB = np.matmul(D, B)  # (E, Q, 4, n)
    return np.einsum("eqki,eqkj,eq->eij", B, DB, w, optimize=True)


def element_force(B: np.ndarray, sigma: np.ndarray, w: np.ndarray) -> np.ndarray:
    """f_e = sum_q w_q B_q^T sigma_q, shape (E, n); sigma (E, Q, 4)."""
    return np.einsum("eqki,eqk,eq->ei", B, sigma, w, optimize=True)


def element_strain(B: np.ndarray, ue: np.ndarray) -> np.ndarray:
    """eps_q = B_q u_e, shape (E, Q, 4); ue (E, n)."""
    return np.einsum("eqki,ei->eqk", B, ue, optimize=True)


class Assembler:
    """Scatter element matrices and vectors through a fixed dof map.

    Parameters
    ----------
    dofmap : (E, n) int
        Global (free) dof of each element unknown, ``-1`` where eliminated.
    n_dofs : int
        Number of free dofs.
    """

    def __init__(self, dofmap: np.ndarray, n_dofs: int):
        self.dofmap = np.asarray(dofmap, dtype=np.int64)
        self.n_dofs = int(n_dofs)
        E, n = self.dofmap.shape
        rows = np.broadcast_to(self.dofmap[:, :, None], (E, n, n)).ravel()
        cols = np.broadcast_to(self.dofmap[:, None, :], (E, n, n)).ravel()
        keep = (rows >= 0) & (cols >= 0)
        keys = rows[keep] * self.n_dofs + cols[keep]
        unique, where = np.unique(keys, return_inverse=True)
        # position of every element entry in the CSR data, -1 where eliminated
        self._where = np.full((E, n * n), -1, dtype=np.int64)
        self._where.ravel()[keep] = where
        self.nnz = unique.size
        self.indices = (unique % self.n_dofs).astype(np.int32)
        counts = np.bincount(unique // self.n_dofs, minlength=self.n_dofs)
        self.indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
        flat = self.dofmap.ravel()
        self._keep_vector = np.flatnonzero(flat >= 0)
        self._vector_dofs = flat[self._keep_vector]

    def data(self, Ke: np.ndarray, elements: np.ndarray | None = None) -> np.ndarray:
        """CSR data array from element matrices of all elements, or of ``elements`` only."""
        where = self._where if elements is None else self._where[elements]
        where = where.ravel()
        keep = where >= 0
        # astype: bincount of an empty selection returns integers
        return np.bincount(where[keep], weights=Ke.reshape(-1)[keep], minlength=self.nnz).astype(float, copy=False)

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
        if elements is None:
            return np.bincount(self._vector_dofs, weights=fe.ravel()[self._keep_vector], minlength=self.n_dofs)
        dofs = self.dofmap[elements].ravel()
        keep = dofs >= 0
        return np.bincount(dofs[keep], weights=fe.reshape(-1)[keep], minlength=self.n_dofs).astype(float, copy=False)

    def gather(self, u: np.ndarray) -> np.ndarray:
        """Element vectors (E, n) from a global free-dof vector (zeros where eliminated)."""
        padded = np.concatenate((u, [0.0]))
        return padded[self.dofmap]  # -1 picks the trailing zero
