"""A stiffness assembled straight into the upper triangle of 2x2 node blocks (PARDISO's BSR input).

A linear solve with a sparse Cholesky needs its matrix once, as the upper
triangle; PARDISO reads it in 2x2 node blocks (``iparm[36] = 2``), so its
nested dissection works on the node graph.  Assembling into that array
directly, instead of into a CSR matrix that is then cut to the upper blocks:

* 21 node pairs (a <= b) per 6-node triangle are scattered, 84 values,
  instead of 144 dof pairs: at a million unknowns 21 M values, not 36 M;
* nothing else is held: no CSR matrix (184 MiB at 1 M dofs), no
  element-to-CSR map (137 MiB), no gather into the solver's array; the
  element-to-block map is 21 numbers and 21 flags per element (25 MiB);
* the 84 values of an element come from its shape-function gradients
  (:func:`pair_stiffness`), not from B^T D B: B is never built.

The pattern: node pair (lo, hi), lo <= hi, of every element pair, in CSR
order of blocks (``indptr``, ``indices``).  Within a block PARDISO reads
column-major: the value of K[2 lo + i, 2 hi + j] is slot i + 2 j.  An
element pair whose first node is the larger one is the transpose of its
global block, which only changes the slots its four values go to.

Supports (homogeneous: zero displacement) are identity rows and columns:
every value in a fixed dof's row or column is zeroed after the scatter and
its diagonal set to one; with a zero load there, this is the same system as
eliminating the dof.  Unknowns are the full nodal numbering 2 node + c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kinematics import STRAIN_ROWS
from .sparsity import _dedupe

PAIR_A, PAIR_B = np.triu_indices(6)  # the 21 local node pairs a <= b
# the 84 element-matrix entries they need, flat in a 12 x 12 matrix, in the order (pair, i, j)
PAIR_ENTRIES = np.array([(2 * a + i) * 12 + 2 * b + j for a, b in zip(PAIR_A, PAIR_B) for i in (0, 1) for j in (0, 1)])
CHUNK = 4096  # elements per pass: a chunk's arrays stay in cache (16384-element chunks measured slower)


@dataclass
class BlockMatrix:
    """Upper triangle of a symmetric matrix in 2x2 blocks: block CSR ``indptr``/``indices``,
    ``values`` (4 per block, column-major within the block)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    block_size = 2  # unknowns per node (a class attribute, not a field): PARDISO's iparm[36]

    @property
    def shape(self) -> tuple[int, int]:
        n = 2 * (self.indptr.size - 1)
        return n, n

    def tocsr(self):
        """The whole symmetric matrix as SciPy CSR (for checks; a linear solve never needs it).

        U + U^T - (block diagonal of U): the diagonal blocks are stored whole.
        """
        import scipy.sparse as sp

        blocks = self.values.reshape(-1, 2, 2).transpose(0, 2, 1)  # column-major -> (row, column)
        nb = self.indptr.size - 1
        row = np.repeat(np.arange(nb), np.diff(self.indptr))
        U = sp.bsr_matrix((blocks, self.indices, self.indptr), shape=self.shape)
        on_diagonal = np.where((self.indices == row)[:, None, None], blocks, 0.0)
        Dg = sp.bsr_matrix((on_diagonal, self.indices, self.indptr), shape=self.shape)
        return (U + U.T - Dg).tocsr()


class NodeBlocks:
    """Pattern and element-to-block map of 6-node triangles with two dofs per node.

    ``fixed`` (2 n_nodes,) bool marks the supported dofs (full numbering).
    """

    def __init__(self, elements: np.ndarray, n_nodes: int, fixed: np.ndarray):
        E = elements.shape[0]
        self.n_nodes = int(n_nodes)
        self.fixed = np.asarray(fixed, dtype=bool)
        el = elements.astype(np.int32 if n_nodes < 2**31 - 1 else np.int64)
        na, nb = el[:, PAIR_A], el[:, PAIR_B]
        self.transposed = na > nb  # (E, 21)
        lo, hi = np.minimum(na, nb), np.maximum(na, nb)
        del na, nb
        self.indptr, self.indices, block = _dedupe(self.n_nodes, lo.ravel(), hi.ravel())
        self.indices = self.indices.astype(np.int32)
        self.block = block.reshape(E, PAIR_A.size)
        self.n_blocks = int(self.indptr[-1])
        self._dofs = (2 * el[:, :, None] + np.arange(2, dtype=el.dtype)).reshape(E, 12)
        self._zero, self._one = self._support_slots()

    @property
    def n_dofs(self) -> int:
        return 2 * self.n_nodes

    def _support_slots(self) -> tuple[np.ndarray, np.ndarray]:
        """Value slots of the fixed dofs' rows and columns (set to zero) and diagonals (set to one)."""
        fixed = self.fixed.reshape(self.n_nodes, 2)
        row = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        col = self.indices.astype(np.int64)
        zero, one = [], []
        for c in (0, 1):
            k = np.flatnonzero(fixed[row, c])  # blocks in the row of a fixed dof: entries (c, j)
            zero += [4 * k + c, 4 * k + c + 2]
            k = np.flatnonzero(fixed[col, c])  # blocks in its column: entries (i, c)
            zero += [4 * k + 2 * c, 4 * k + 2 * c + 1]
            d = np.flatnonzero((row == col) & fixed[row, c])
            one.append(4 * d + 3 * c)
        return np.concatenate(zero), np.concatenate(one)

    @property
    def pattern(self) -> BlockMatrix:
        """The block pattern with no values (what a solver recognises it by)."""
        return BlockMatrix(self.indptr, self.indices, np.empty(0))

    def empty(self) -> BlockMatrix:
        """A zero matrix on this pattern (to analyse while its values are assembled)."""
        return BlockMatrix(self.indptr, self.indices, np.zeros(4 * self.n_blocks))

    def stiffness(self, pair_entries, chunk: int = CHUNK, out: BlockMatrix | None = None) -> BlockMatrix:
        """Assemble sum_e K_e; ``pair_entries(sel)`` returns the elements ``sel``'s (n_sel, 84) pair
        entries (:func:`pair_stiffness`, or :func:`pairs_of` element matrices).

        Called chunk by chunk (slices), so nothing per element is ever held
        for the whole mesh.  ``out``: a zero matrix from :meth:`empty` to
        assemble into.
        """
        values = np.zeros(4 * self.n_blocks) if out is None else out.values
        E = self.block.shape[0]
        it = np.int32 if 4 * self.n_blocks < 2**31 - 1 else np.int64
        for start in range(0, E, chunk):
            sel = slice(start, min(start + chunk, E))
            np.add.at(values, self._slots(sel, it).reshape(-1), pair_entries(sel).reshape(-1))
        values[self._zero] = 0.0
        values[self._one] = 1.0
        return BlockMatrix(self.indptr, self.indices, values)

    def _slots(self, sel: slice, it) -> np.ndarray:
        """(n, 21, 4) value slots of the elements ``sel``'s pair entries (00, 01, 10, 11).

        Column-major in the global block: 0, 2, 1, 3; for a transposed pair
        0, 1, 2, 3, i.e. entries 01 and 10 move by -t and +t (t = 1 when
        transposed).  By arithmetic: a gather through a 2 x 4 offset table
        took three times as long.
        """
        base = 4 * self.block[sel].astype(it)
        t = self.transposed[sel].view(np.int8)
        slots = np.empty(base.shape + (4,), dtype=it)
        slots[..., 0] = base
        np.add(base, 2 - t, out=slots[..., 1])
        np.add(base, 1 + t, out=slots[..., 2])
        np.add(base, 3, out=slots[..., 3])
        return slots

    def vector(self, fe: np.ndarray) -> np.ndarray:
        """Global vector (2 n_nodes,) from element vectors (E, 12), zero at the fixed dofs."""
        f = np.bincount(self._dofs.ravel(), weights=fe.reshape(-1), minlength=self.n_dofs)
        f[self.fixed] = 0.0
        return f

    def gather(self, u: np.ndarray, sel=slice(None)) -> np.ndarray:
        """Element vectors (n_sel, 12) of a full nodal vector."""
        return u[self._dofs[sel]]


def pairs_of(Ke: np.ndarray) -> np.ndarray:
    """The (n, 84) pair entries of element matrices (n, 12, 12)."""
    return np.take(Ke.reshape(Ke.shape[0], -1), PAIR_ENTRIES, axis=1)


def pair_coefficients(D: np.ndarray, R: int) -> np.ndarray:
    """(M, 4, R * R): block entry (i, j) of a node pair = sum_rs C[(i, j), (r, s)] P_rs, per material.

    With B[k, 2a + i] = sum_r S_i[k, r] g_a[r] (:data:`~.kinematics.STRAIN_ROWS`),
    K[2a + i, 2b + j] = sum_q w_q g_a^T (S_i^T D S_j) g_b, so C = S_i^T D S_j.
    """
    S = STRAIN_ROWS[:, :, :R]
    return np.einsum("ikr,mkl,jls->mijrs", S, D, S).reshape(D.shape[0], 4, R * R)


def pair_stiffness(g: np.ndarray, w: np.ndarray, D: np.ndarray, materials: np.ndarray) -> np.ndarray:
    """The 84 pair entries (21 node pairs a <= b, then 00, 01, 10, 11) of each element's stiffness.

    ``g`` (n, Q, 6, R) per-node strain gradients
    (:meth:`~.kinematics.Kinematics.nodal_gradients`), ``w`` (n, Q) the
    measure, ``D`` (M, 4, 4) one stiffness per material and ``materials``
    (n,) each element's.  The R x R gradient products of each pair,
    P_rs = sum_q w_q g_a,r g_b,s, then one (pairs x R^2) @ (R^2 x 4) product
    per material: a tenth of the multiplications of B^T D B (B is never
    built); at a million unknowns the re-assembly went from 0.88 to 0.56 s
    (``bench/bench_assembly.py``).
    """
    n, Q, _, R = g.shape
    P = np.zeros((R * R, n, PAIR_A.size))
    # loops over the Q = 3 points and R^2 gradient products only, each product over all the chunk's
    # elements and pairs: the same sums as one batched (R x Q) @ (Q x R) matmul per pair, 9x faster
    # (4,096 elements: 1.4 against 12.5 ms in plane strain)
    for q in range(Q):
        a = [np.take(g[:, q, :, r], PAIR_A, axis=1) * w[:, q, None] for r in range(R)]
        b = [np.take(g[:, q, :, s], PAIR_B, axis=1) for s in range(R)]
        for r in range(R):
            for s in range(R):
                P[r * R + s] += a[r] * b[s]
    P = P.reshape(R * R, -1).T  # (n * 21, R^2)
    C = pair_coefficients(D, R)
    if np.all(materials == materials[0]):  # usually: elements come region by region
        return (P @ C[materials[0]].T).reshape(n, -1)
    out = np.empty((P.shape[0], 4))
    row_material = np.repeat(materials, PAIR_A.size)
    for m in np.unique(materials):
        mine = row_material == m
        out[mine] = P[mine] @ C[m].T
    return out.reshape(n, -1)
