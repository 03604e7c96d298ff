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
    where : (E, n*n) int, optional
        Precomputed CSR position of every element entry (``nnz`` for
        eliminated ones), with ``indptr``/``indices``; see :meth:`for_layout`.
    """

    def __init__(self, dofmap: np.ndarray, n_dofs: int, pattern: tuple | None = None):
        self.dofmap = np.asarray(dofmap, dtype=np.int64)
        self.n_dofs = int(n_dofs)
        if pattern is None:
            pattern = _generic_pattern(self.dofmap, self.n_dofs)
        self.indptr, self.indices, self._where = pattern
        self.nnz = int(self.indptr[-1])
        flat = self.dofmap.ravel()
        self._keep_vector = np.flatnonzero(flat >= 0)
        self._vector_dofs = flat[self._keep_vector]

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
        return cls(dofmap, layout.n_free, _block_pattern(elements, layout.n_nodes, layout.free_index()))

    def data(self, Ke: np.ndarray, elements: np.ndarray | None = None) -> np.ndarray:
        """CSR data array from element matrices of all elements, or of ``elements`` only."""
        where = self._where if elements is None else self._where[elements]
        # eliminated entries land in one extra slot that is cut off
        out = np.bincount(where.ravel(), weights=Ke.reshape(-1), minlength=self.nnz + 1)
        return out[: self.nnz].astype(float, copy=False)  # an empty selection gives integers

    def stiffness_data(self, B: np.ndarray, D: np.ndarray, w: np.ndarray, elements: np.ndarray | None = None,
                       chunk: int = 32768) -> np.ndarray:
        """CSR data of sum_e int B^T D B, computed and scattered in chunks of elements.

        Same result as ``data(element_stiffness(...))`` without holding every
        element matrix at once (300 MB at a million unknowns).
        """
        idx = np.arange(B.shape[0]) if elements is None else np.asarray(elements)
        out = np.zeros(self.nnz)
        for start in range(0, idx.size, chunk):
            sel = idx[start:start + chunk]
            Dc = D[sel] if D.shape[0] == B.shape[0] else D[start:start + chunk]
            Ke = element_stiffness(B[sel], Dc, w[sel])
            where = self._where[sel].ravel()
            out += np.bincount(where, weights=Ke.reshape(-1), minlength=self.nnz + 1)[: self.nnz]
        return out

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
            return np.bincount(self._vector_dofs, weights=fe.ravel()[self._keep_vector],
                               minlength=self.n_dofs).astype(float, copy=False)
        dofs = self.dofmap[elements].ravel()
        keep = dofs >= 0
        # astype: bincount of an empty selection returns integers
        return np.bincount(dofs[keep], weights=fe.reshape(-1)[keep], minlength=self.n_dofs).astype(float, copy=False)

    def gather(self, u: np.ndarray) -> np.ndarray:
        """Element vectors (E, n) from a global free-dof vector (zeros where eliminated)."""
        padded = np.concatenate((u, [0.0]))
        return padded[self.dofmap]  # -1 picks the trailing zero


def _dedupe(n_rows: int, rows: np.ndarray, cols: np.ndarray):
    """CSR pattern of (rows, cols) pairs with duplicates, and each pair's position in it.

    SciPy's C routines do the heavy lifting: ``coo_tocsr`` groups the pairs by
    row keeping their input index, ``csr_sort_indices`` sorts within rows;
    duplicates are then adjacent.
    """
    from scipy.sparse import _sparsetools

    nnz = rows.size
    Bp = np.zeros(n_rows + 1, dtype=np.int64)
    Bj = np.empty(nnz, dtype=np.int64)
    Bx = np.empty(nnz, dtype=np.int64)
    _sparsetools.coo_tocsr(n_rows, n_rows, nnz, rows, cols, np.arange(nnz, dtype=np.int64), Bp, Bj, Bx)
    _sparsetools.csr_sort_indices(n_rows, Bp, Bj, Bx)
    row_of = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(Bp))
    new = np.ones(nnz, dtype=bool)
    new[1:] = (Bj[1:] != Bj[:-1]) | (row_of[1:] != row_of[:-1])
    uid = np.cumsum(new) - 1
    where = np.empty(nnz, dtype=np.int64)
    where[Bx] = uid
    counts = np.bincount(row_of[new], minlength=n_rows)
    indptr = np.concatenate(([0], np.cumsum(counts)))
    return indptr, Bj[new], where


def _generic_pattern(dofmap: np.ndarray, n_dofs: int):
    E, n = dofmap.shape
    rows = np.broadcast_to(dofmap[:, :, None], (E, n, n)).ravel()
    cols = np.broadcast_to(dofmap[:, None, :], (E, n, n)).ravel()
    keep = (rows >= 0) & (cols >= 0)
    indptr, indices, w = _dedupe(n_dofs, rows[keep], cols[keep])
    nnz = int(indptr[-1])
    where = np.full(E * n * n, nnz, dtype=np.int64)
    where[keep] = w
    return indptr, indices.astype(np.int32), where.reshape(E, n * n)


def _block_pattern(elements: np.ndarray, n_nodes: int, free_index: np.ndarray):
    """Free-dof CSR pattern of 2-dof-per-node elements, via the node graph."""
    E, m = elements.shape
    el = elements.astype(np.int64)
    rows = np.repeat(el, m, axis=1).ravel()
    cols = np.tile(el, (1, m)).ravel()
    n_ip, n_idx, n_where = _dedupe(n_nodes, rows, cols)
    L = np.diff(n_ip)
    # full dof pattern: dof row 2a+i holds 2 L[a] entries starting at 4 n_ip[a] + 2 i L[a]
    full_ip = np.empty(2 * n_nodes + 1, dtype=np.int64)
    full_ip[0:-1:2] = 4 * n_ip[:-1]
    full_ip[1:-1:2] = 4 * n_ip[:-1] + 2 * L
    full_ip[-1] = 4 * n_ip[-1]
    a_k = np.repeat(np.arange(n_nodes, dtype=np.int64), L)  # row of each node nnz
    off_k = np.arange(n_idx.size, dtype=np.int64) - n_ip[a_k]
    full_idx = np.empty(full_ip[-1], dtype=np.int64)
    for i in range(2):
        base = 4 * n_ip[a_k] + 2 * i * L[a_k] + 2 * off_k
        for j in range(2):
            full_idx[base + j] = 2 * n_idx + j
    # eliminate the fixed dofs: keep entries whose row and column are free
    full_row = np.repeat(np.arange(2 * n_nodes, dtype=np.int64), np.diff(full_ip))
    keep = (free_index[full_row] >= 0) & (free_index[full_idx] >= 0)
    nnz = int(np.count_nonzero(keep))
    remap = np.where(keep, np.cumsum(keep) - 1, nnz)
    n_free = int(free_index.max()) + 1
    counts = np.bincount(free_index[full_row[keep]], minlength=n_free)
    del full_row
    indptr = np.concatenate(([0], np.cumsum(counts)))
    indices = free_index[full_idx[keep]].astype(np.int32)
    del full_idx, keep, a_k, off_k, rows, cols
    # element entry (p, i), (q, j) -> node nnz k of pair (p, q) -> full position -> free position
    k = n_where.reshape(E, m, m)
    a = el[:, :, None]
    base = 4 * n_ip[a] + 2 * (k - n_ip[a])  # (E, m, m)
    where = np.empty((E, m, 2, m, 2), dtype=np.int64)
    for i in range(2):
        for j in range(2):
            where[:, :, i, :, j] = remap[base + 2 * i * L[a] + j]
    return indptr, indices, where.reshape(E, (2 * m) ** 2)
