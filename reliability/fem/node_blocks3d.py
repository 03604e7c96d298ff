"""The 3D stiffness assembled straight into the upper triangle of 3x3 node blocks (PARDISO's BSR input).

The 3D twin of :mod:`reliability.fem.node_blocks`: 55 node pairs (a <= b)
per 10-node tetrahedron, 9 values each (495 instead of the 900 of a 30 x 30
element matrix), scattered with an unbuffered ``np.add.at`` through an
element-to-block map computed once per mesh; the 9 values of a pair come
from the shape-function gradients (:func:`pair_stiffness3d`), B is never
built.  Within a block PARDISO reads column-major: K[3 lo + i, 3 hi + j] is
slot i + 3 j; an element pair whose first node is the larger one is the
transpose of its global block.

Supports (zero displacement) are identity rows and columns, as in 2D.
Unknowns are the full nodal numbering 3 node + component.
:class:`~reliability.fem.pardiso.PardisoSolver` analyses the 3x3 blocks as
they are (``iparm[36] = BlockMatrix3.block_size = 3``); other backends take
the matrix as SciPy CSR (:meth:`BlockMatrix3.tocsr`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kinematics3d import STRAIN_ROWS_3D
from .node_blocks import BlockMatrix
from .sparsity import _dedupe

PAIR_A, PAIR_B = np.triu_indices(10)  # the 55 local node pairs a <= b
CHUNK = 2048  # elements per pass


@dataclass
class BlockMatrix3(BlockMatrix):
    """Upper triangle of a symmetric matrix in 3x3 blocks (9 values per block, column-major)."""

    block_size = 3

    @property
    def shape(self) -> tuple[int, int]:
        n = 3 * (self.indptr.size - 1)
        return n, n

    def tocsr(self):
        """The whole symmetric matrix as SciPy CSR (for checks and non-PARDISO backends)."""
        import scipy.sparse as sp

        blocks = self.values.reshape(-1, 3, 3).transpose(0, 2, 1)  # column-major -> (row, column)
        nb = self.indptr.size - 1
        row = np.repeat(np.arange(nb), np.diff(self.indptr))
        U = sp.bsr_matrix((blocks, self.indices, self.indptr), shape=self.shape)
        on_diagonal = np.where((self.indices == row)[:, None, None], blocks, 0.0)
        Dg = sp.bsr_matrix((on_diagonal, self.indices, self.indptr), shape=self.shape)
        K = (U + U.T - Dg).tocsr()
        K.sort_indices()
        return K


class NodeBlocks3:
    """Pattern and element-to-block map of 10-node tetrahedra with three dofs per node.

    ``fixed`` (3 n_nodes,) bool marks the supported dofs (full numbering).
    """

    def __init__(self, elements: np.ndarray, n_nodes: int, fixed: np.ndarray):
        E = elements.shape[0]
        self.n_nodes = int(n_nodes)
        self.fixed = np.asarray(fixed, dtype=bool)
        el = elements.astype(np.int64)
        na, nb = el[:, PAIR_A], el[:, PAIR_B]
        self.transposed = na > nb  # (E, 55)
        lo, hi = np.minimum(na, nb), np.maximum(na, nb)
        del na, nb
        self.indptr, self.indices, block = _dedupe(self.n_nodes, lo.ravel(), hi.ravel())
        self.indices = self.indices.astype(np.int32)
        self.block = block.reshape(E, PAIR_A.size).astype(np.int64)
        self.n_blocks = int(self.indptr[-1])
        self._dofs = (3 * el[:, :, None] + np.arange(3)).reshape(E, 30)
        self._zero, self._one = self._support_slots()
        # slot offsets of entry (i, j) (row-major order of the 9) in a block, plain and transposed
        i, j = np.divmod(np.arange(9), 3)
        self._off = np.stack([i + 3 * j, j + 3 * i])  # (2, 9)

    @property
    def n_dofs(self) -> int:
        return 3 * self.n_nodes

    def _support_slots(self) -> tuple[np.ndarray, np.ndarray]:
        fixed = self.fixed.reshape(self.n_nodes, 3)
        row = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        col = self.indices.astype(np.int64)
        zero, one = [], []
        for c in range(3):
            k = np.flatnonzero(fixed[row, c])  # blocks in the row of a fixed dof: entries (c, j)
            zero += [9 * k + c + 3 * j for j in range(3)]
            k = np.flatnonzero(fixed[col, c])  # blocks in its column: entries (i, c)
            zero += [9 * k + i + 3 * c for i in range(3)]
            d = np.flatnonzero((row == col) & fixed[row, c])
            one.append(9 * d + 4 * c)
        return np.concatenate(zero), np.concatenate(one)

    @property
    def pattern(self) -> BlockMatrix3:
        return BlockMatrix3(self.indptr, self.indices, np.empty(0))

    def empty(self) -> BlockMatrix3:
        return BlockMatrix3(self.indptr, self.indices, np.zeros(9 * self.n_blocks))

    def stiffness(self, pair_entries, chunk: int = CHUNK, out: BlockMatrix3 | None = None,
                  elements: np.ndarray | None = None) -> BlockMatrix3:
        """Assemble sum_e K_e from ``pair_entries(sel)`` -> (n_sel, 55, 9), chunk by chunk of elements.

        ``elements``: only these (``sel`` is then an index array into the model's elements), added to
        ``out``'s values when given (in place); the supports' identity rows are set afterwards either way.
        """
        values = np.zeros(9 * self.n_blocks) if out is None else out.values
        E = self.block.shape[0] if elements is None else elements.size
        for start in range(0, E, chunk):
            sel = slice(start, min(start + chunk, E)) if elements is None else elements[start:start + chunk]
            slots = 9 * self.block[sel][..., None] + self._off[self.transposed[sel].view(np.int8)]
            np.add.at(values, slots.reshape(-1), pair_entries(sel).reshape(-1))
        values[self._zero] = 0.0
        values[self._one] = 1.0
        return BlockMatrix3(self.indptr, self.indices, values)

    def vector(self, fe: np.ndarray) -> np.ndarray:
        """Global vector (3 n_nodes,) from element vectors (E, 30), zero at the fixed dofs."""
        f = np.bincount(self._dofs.ravel(), weights=fe.reshape(-1), minlength=self.n_dofs)
        f[self.fixed] = 0.0
        return f

    def gather(self, u: np.ndarray, sel=slice(None)) -> np.ndarray:
        """Element vectors (n_sel, 30) of a full nodal vector."""
        return u[self._dofs[sel]]


def pair_coefficients3d(D: np.ndarray) -> np.ndarray:
    """(M, 9, 9): block entry (i, j) of a node pair = sum_rs C[(i, j), (r, s)] P_rs, C = S_i^T D S_j."""
    S = STRAIN_ROWS_3D
    return np.einsum("ikr,mkl,jls->mijrs", S, D, S).reshape(D.shape[0], 9, 9)


def pair_stiffness3d(g: np.ndarray, w: np.ndarray, D: np.ndarray, materials: np.ndarray) -> np.ndarray:
    """The (n, 55, 9) pair entries of each element's stiffness (pairs a <= b, entries (i, j) row-major).

    ``g`` (n, Q, 10, 3) gradients, ``w`` (n, Q) volume measure, ``D`` (M, 6, 6)
    one stiffness per material, ``materials`` (n,).  P_rs = sum_q w_q g_a,r
    g_b,s for every pair by one batched (3 x Q) @ (Q x 3) product, then one
    (pairs x 9) @ (9 x 9) product per material present.
    """
    n = g.shape[0]
    ga = np.take(g, PAIR_A, axis=2) * w[:, :, None, None]  # (n, Q, 55, 3)
    gb = np.take(g, PAIR_B, axis=2)
    P = np.matmul(ga.transpose(0, 2, 3, 1), gb.transpose(0, 2, 1, 3)).reshape(n * PAIR_A.size, 9)
    C = pair_coefficients3d(D)
    if np.all(materials == materials[0]):
        return (P @ C[materials[0]].T).reshape(n, PAIR_A.size, 9)
    out = np.empty((P.shape[0], 9))
    row_material = np.repeat(materials, PAIR_A.size)
    for m in np.unique(materials):  # one product per material, not per element
        mine = row_material == m
        out[mine] = P[mine] @ C[m].T
    return out.reshape(n, PAIR_A.size, 9)


