"""Sparsity patterns: the CSR structure of a stiffness and where each element entry lands in it.

Computed once per mesh and dof layout; every later assembly is a scatter
through the map (``Assembler``).  Eliminated entries (a fixed row or
column) map to a spare slot ``nnz`` that is cut off.  Also here: the same
pattern as 2x2 node blocks for PARDISO (:func:`upper_blocks`) and the key a solver recognises a pattern by
(:class:`PatternKey`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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


def generic_pattern(dofmap: np.ndarray, n_dofs: int):
    """CSR pattern of any element dof map (``-1`` = eliminated) and the element-to-CSR map."""
    E, n = dofmap.shape
    rows = np.broadcast_to(dofmap[:, :, None], (E, n, n)).ravel()
    cols = np.broadcast_to(dofmap[:, None, :], (E, n, n)).ravel()
    keep = (rows >= 0) & (cols >= 0)
    indptr, indices, w = _dedupe(n_dofs, rows[keep], cols[keep])
    nnz = int(indptr[-1])
    where = np.full(E * n * n, nnz, dtype=np.int64)
    where[keep] = w
    return indptr, indices.astype(np.int32), where.reshape(E, n * n)


def block_pattern(elements: np.ndarray, n_nodes: int, free_index: np.ndarray):
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
    # int8 zeros: only the index arrays of the expansion are wanted
    full = sp.bsr_matrix((np.zeros((n_idx.size, 2, 2), dtype=np.int8), n_idx, n_ip),
                         shape=(2 * n_nodes, 2 * n_nodes)).tocsr()
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
        # a kept entry moves down by the number of cut entries before it (a binary search in
        # the few cut positions, by chunks to bound the temporaries); a cut one goes to the spare slot
        dropped = drop.astype(it)
        flat = where.reshape(-1)
        for start in range(0, flat.size, 1 << 22):
            chunk = flat[start:start + (1 << 22)]
            chunk -= np.searchsorted(dropped, chunk).astype(it)
        sub = where[touched]
        sub[hit] = nnz
        where[touched] = sub
        is_drop = np.zeros(n_full, dtype=bool)
        is_drop[drop] = True
        full_idx = full_idx[~is_drop]
    indices = free_index.astype(np.int32)[full_idx]
    row_of_drop = np.searchsorted(full_ip, drop, side="right") - 1
    counts = (np.diff(full_ip) - np.bincount(row_of_drop, minlength=2 * n_nodes))[~is_fixed]
    indptr = np.concatenate(([0], np.cumsum(counts)))
    return indptr, indices, where


def upper_blocks(indptr: np.ndarray, indices: np.ndarray, numbers: np.ndarray, n_numbers: int):
    """Upper block triangle (2x2 BSR) of a symmetric CSR pattern, and where each block value comes from.

    ``numbers`` (n,) gives each row/column its place in a numbering of two
    per node (node = number // 2), strictly increasing: the full dof of each
    free dof.  The blocks are the node pairs; a number that is not in
    ``numbers`` (a fixed dof, or the pad that makes ``n_numbers`` even) gets
    a unit diagonal, so the block matrix is the free-dof matrix with
    identity rows and columns added, and has the same solution there.

    Returns the block CSR ``indptr`` and ``indices`` (upper triangle of
    blocks, diagonal blocks whole) and ``source`` (4 per block, column-major
    within the block, as PARDISO reads BSR with 1-based indices): the index
    of each value in ``concatenate((K.data, [1.0, 0.0]))``.

    Why: PARDISO's nested dissection on the node graph takes a quarter of
    the time it takes on the dof graph (1 M dofs: first factorization 4.2
    against 6.7 s, ``bench/bench_kernels.py``), and
    its factorization works on dense 2x2 blocks.
    """
    nnz = int(indptr[-1])
    nb = (int(n_numbers) + 1) // 2
    it = np.int32 if max(2 * nb, nnz) < 2**31 - 1 else np.int64
    numbers = np.asarray(numbers, dtype=np.int64)
    node, comp = (numbers >> 1).astype(it), (numbers & 1).astype(np.int8)
    rowlen = np.diff(indptr)
    row_node = np.repeat(node, rowlen)
    col_node = node[indices]
    keep = np.flatnonzero(col_node >= row_node)
    rows, cols = row_node[keep], col_node[keep]
    del row_node, col_node
    missing = np.ones(2 * nb, dtype=bool)
    missing[numbers] = False
    pad = np.flatnonzero(missing)
    pad_node = (pad >> 1).astype(it)
    b_indptr, b_indices, block = _dedupe(nb, np.concatenate((rows, pad_node)), np.concatenate((cols, pad_node)))
    del rows, cols
    slot = 4 * block.astype(np.int64)
    source = np.full(4 * b_indices.size, nnz + 1, dtype=np.int64)  # structurally zero
    m = keep.size
    slot[:m] += np.repeat(comp, rowlen)[keep] + 2 * comp[indices[keep]]
    source[slot[:m]] = keep
    source[slot[m:] + 3 * (pad & 1)] = nnz  # unit diagonal
    return b_indptr, b_indices, source


class PatternKey:
    """A sparsity pattern remembered by reference, not by copy.

    The assembler hands every matrix the same ``indptr``/``indices`` arrays,
    so the check is an identity test; other arrays are compared by value.
    (A byte copy of the indices held 92 MiB for the life of a 1 M-dof solver.)
    """

    def __init__(self, K=None):
        self.arrays = None if K is None else (K.shape, K.indptr, K.indices)

    def matches(self, K) -> bool:
        if self.arrays is None:
            return False
        shape, indptr, indices = self.arrays
        return shape == K.shape and all(a is b or (a.shape == b.shape and np.array_equal(a, b))
                                        for a, b in ((indptr, K.indptr), (indices, K.indices)))
