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
        out = np.zeros(self.nnz + 1)  # eliminated entries land in the spare last slot
        self._scatter(out, Ke, elements)
        return out[: self.nnz]

    def _scatter(self, out: np.ndarray, Ke: np.ndarray, elements) -> None:
        where = self._where if elements is None else self._where[elements]
        # unbuffered add.at: no output-sized temporary per call, unlike bincount (numpy >= 1.25 fast path)
        np.add.at(out, where.ravel(), Ke.reshape(-1))

    def stiffness_data(self, B: np.ndarray, D: np.ndarray, w: np.ndarray, elements: np.ndarray | None = None,
                       chunk: int = 32768) -> np.ndarray:
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
    duplicates are then adjacent.  32-bit indices while they fit: half the
    memory traffic.
    """
    from scipy.sparse import _sparsetools

    nnz = rows.size
    it = np.int32 if max(n_rows, nnz) < 2**31 - 1 else np.int64
    Bp = np.zeros(n_rows + 1, dtype=it)
    Bj = np.empty(nnz, dtype=it)
    Bx = np.empty(nnz, dtype=it)
    _sparsetools.coo_tocsr(n_rows, n_rows, nnz, rows.astype(it, copy=False), cols.astype(it, copy=False),
                           np.arange(nnz, dtype=it), Bp, Bj, Bx)
    _sparsetools.csr_sort_indices(n_rows, Bp, Bj, Bx)
    new = np.empty(nnz, dtype=bool)
    if nnz:
        new[0] = True
        np.not_equal(Bj[1:], Bj[:-1], out=new[1:])
        starts = Bp[:-1][np.diff(Bp) > 0]
        new[starts] = True  # a row's first entry is new even if the previous row ended on its column
    uid = np.cumsum(new, dtype=it) - 1
    where = np.empty(nnz, dtype=it)
    where[Bx] = uid
    counts = np.diff(np.searchsorted(np.flatnonzero(new), Bp))
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
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
    """Free-dof CSR pattern of 2-dof-per-node elements, via the node graph.

    The node graph (36 pairs per 6-node element) is deduplicated, expanded to
    2x2 blocks by SciPy's BSR-to-CSR conversion (row 2a+i holds columns 2b,
    2b+1 of every neighbour b of node a, in order), and the few entries in a
    fixed row or column are cut out afterwards: the element-to-CSR map is
    pure arithmetic on the node graph.  1.0 s at a million unknowns.
    """
    E, m = elements.shape
    el = elements.astype(np.int64)
    small = el.size * m < 2**31 - 1
    pair_el = el.astype(np.int32) if small else el
    rows = np.repeat(pair_el, m, axis=1).ravel()
    cols = np.tile(pair_el, (1, m)).ravel()
    n_ip, n_idx, n_where = _dedupe(n_nodes, rows, cols)
    del rows, cols, pair_el
    L = np.diff(n_ip)
    full = sp.bsr_matrix((np.zeros((n_idx.size, 2, 2)), n_idx, n_ip), shape=(2 * n_nodes, 2 * n_nodes)).tocsr()
    full_ip, full_idx = full.indptr.astype(np.int64), full.indices
    del full
    n_full = full_idx.size
    # 32-bit positions while they fit: the map is held for the model's life and read every assembly
    it = np.int32 if n_full < 2**31 - 1 else np.int64
    # element entry (p, i), (q, j) -> full position 4 n_ip[p] + 2 i L[p] + 2 (k - n_ip[p]) + j, k its node nnz
    a = el[:, :, None]
    base = (2 * n_where.reshape(E, m, m) + 2 * n_ip[a]).astype(it)
    step = (2 * L[a]).astype(it)
    where = np.empty((E, m, 2, m, 2), dtype=it)
    where[:, :, 0, :, 0] = base
    where[:, :, 0, :, 1] = base + 1
    base += step
    where[:, :, 1, :, 0] = base
    where[:, :, 1, :, 1] = base + 1
    where = where.reshape(E, (2 * m) ** 2)
    del base, step, n_where
    # every pattern entry comes from an element entry: those touching a fixed dof name the entries to cut
    is_fixed = free_index < 0
    edofs = (2 * el[:, :, None] + np.arange(2)).reshape(E, 2 * m)
    fixed_e = is_fixed[edofs]
    touched = np.flatnonzero(fixed_e.any(axis=1))
    fe = fixed_e[touched]
    hit = (fe[:, :, None] | fe[:, None, :]).reshape(touched.size, -1)
    drop = np.unique(where[touched][hit])
    nnz = n_full - drop.size
    if drop.size:
        is_drop = np.zeros(n_full, dtype=bool)
        is_drop[drop] = True
        cut = is_drop[where]
        # a kept entry moves down by the number of cut entries before it; a cut one goes to the spare slot
        where -= np.cumsum(is_drop, dtype=it)[where]
        where[cut] = nnz
        full_idx = full_idx[~is_drop]
    indices = free_index[full_idx].astype(np.int32)
    row_of_drop = np.searchsorted(full_ip, drop, side="right") - 1
    counts = (np.diff(full_ip) - np.bincount(row_of_drop, minlength=2 * n_nodes))[~is_fixed]
    indptr = np.concatenate(([0], np.cumsum(counts)))
    return indptr, indices, where
