"""MKL PARDISO through pypardiso's library handle, entry-wise or in 2x2 node blocks.

The analysis (ordering, symbolic factorization) runs once per sparsity
pattern, each refactorization is PARDISO's numeric phase only, and the
1-based index arrays PARDISO reads are built once and kept (pypardiso
rebuilds them on every call).
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from .node_blocks import BlockMatrix
from .sparsity import PatternKey, upper_blocks
from .threads import Threads


def _point_pypardiso_at_mkl() -> None:
    """Tell pypardiso where libmkl_rt is before it is imported.

    Without ``PYPARDISO_MKL_RT`` pypardiso globs the whole interpreter prefix
    recursively on import and on every solver instance (0.6 s here); the pip
    wheel of MKL puts the library directly in ``<prefix>/lib``.
    """
    import glob
    import os
    import sys

    if "PYPARDISO_MKL_RT" in os.environ:
        return
    for prefix in (sys.prefix, sys.base_prefix):
        found = sorted(glob.glob(os.path.join(prefix, "lib", "libmkl_rt.so*")), key=len)
        if found:
            os.environ["PYPARDISO_MKL_RT"] = found[0]
            return


class PardisoSolver:
    """MKL PARDISO for symmetric positive definite matrices (mtype 2, upper triangle).

    The analysis (ordering, symbolic factorization, PARDISO phase 11) runs
    once per sparsity pattern; every refactorization is phase 22 only.
    A :class:`~.node_blocks.BlockMatrix` (the thermo-elastic solve's), or a
    CSR matrix after :meth:`use_node_blocks`, goes to PARDISO in 2x2 node
    blocks (BSR): the ordering works on the node graph, a quarter of the
    dof graph (1 M dofs: first factorization 6.7 -> 4.2 s).  Block solves
    are slower on smaller systems (158 k dofs: 23 vs 13 ms), so an
    incremental run with many solves per factor keeps single entries.
    """

    name = "pardiso"

    def __init__(self, threads: int | None = None, single: bool = False):
        _point_pypardiso_at_mkl()
        import pypardiso

        self._ps = pypardiso.PyPardisoSolver(mtype=2)
        # MKL's SPD defaults (pardisoinit, mtype 2) except iterative refinement: its two steps tripled the
        # solve phase (0.67 -> 0.2 s at 1 M dofs) and a Cholesky solve of an SPD system gains nothing from it
        iparm = self._ps.iparm
        iparm[0] = 1    # use the values below
        # sequential METIS nested dissection and conditional numerical reproducibility (iparm[33]): the
        # parallel ordering (iparm[1] = 3) is dynamic, MKL documents it as excluding CNR, and runs of
        # the same process history differed by 4 % in the assembly warpage with it
        iparm[1] = 2
        iparm[33] = max(1, os.cpu_count() or 1)
        iparm[7] = 0    # no iterative refinement
        iparm[17] = -1  # report the factor's nonzeros
        iparm[18] = -1
        # single: factor and solve in float32 (iparm[27] = 1); about 5 % solution error on the
        # package matrices, so only for a preconditioner or a quasi-Newton initial matrix
        # (28 % faster factorization, half the factor's memory and solve traffic)
        self.single = single
        iparm[27] = 1 if single else 0
        self._key = None
        self._upper = None
        self._n = 0
        self._numbers = None  # full dof number of each free dof, for 2x2 node blocks
        self._source = None
        self._direct = False  # the last analysis was of a BlockMatrix given as such
        self.factorizations = 0
        self.threads = Threads(threads)

    def use_node_blocks(self, numbers: np.ndarray, n_numbers: int) -> None:
        """Factorize CSR matrices in 2x2 node blocks (PARDISO's BSR input, ``iparm[36] = 2``).

        ``numbers`` (n_free,): the full dof (2 node + component) of each row
        of the matrices to come; ``n_numbers``: the full dof count.  The
        ordering then runs on the node graph: at 1 M dofs PARDISO's analysis
        takes 1.4 s instead of 5 s.  (A matrix assembled as blocks in the
        first place, :class:`~.node_blocks.BlockMatrix`, needs none of this.)
        """
        self._numbers = np.asarray(numbers, dtype=np.int64)
        self._n_numbers = int(n_numbers)
        self._key = None

    def use_double(self) -> None:
        """Factorize and solve in double precision from now on (the next factorization re-analyses)."""
        self.single = False
        self._ps.iparm[27] = 0
        self._ps.free_memory(everything=True)
        self._key = None

    def factorize(self, K: sp.spmatrix, consume: bool = False) -> None:
        """Factorize K (its analysis reused if the pattern is the last one's).

        ``consume``: K's values are released (``K.data`` emptied) once PARDISO
        has its own copy, before the numeric factorization allocates the
        factor; the caller must not use K afterwards.  At 1 M dofs that is
        175 MiB off the peak.
        """
        try:
            self._factorize(K, consume)
        except RuntimeError:
            consumed = not isinstance(K, BlockMatrix) and K.data.size == 0
            if not self.single or consumed:
                raise
            # a matrix too ill-conditioned for a float32 Cholesky: carry on in double
            self.use_double()
            self._factorize(K, consume)

    def _factorize(self, K, consume: bool = False) -> None:
        if isinstance(K, BlockMatrix):
            self._factorize_blocks(K)
            return
        if getattr(K, "format", None) != "csr":
            K = sp.csr_matrix(K)
        with self.threads:
            if self._key is None or self._direct or not self._key.matches(K):
                self._direct = False
                self._analyse(K)
                self._key = PatternKey(K)
            elif self._source is not None:
                self._gather(K.data)
            else:
                self._a[:] = K.data[self._upper]
            if consume:
                K.data = np.empty(0)
            self._call(22, np.zeros(self._rows, dtype=self._a.dtype))
        self.factorizations += 1

    def _factorize_blocks(self, K: BlockMatrix) -> None:
        """Factorize a matrix given as its upper 2x2 node blocks (:class:`~.node_blocks.BlockMatrix`).

        Its values are PARDISO's array as they are (no copy in double
        precision), so nothing but the factor is added to what the caller
        holds; the analysis is reused while the block pattern is the same.
        """
        if not self.analysed(K):
            self.analyse_blocks(K)
        with self.threads:
            self._a = np.ascontiguousarray(K.values, dtype=self._a.dtype)
            self._call(22, np.zeros(self._rows, dtype=self._a.dtype))
        self.factorizations += 1

    def analysed(self, K: BlockMatrix) -> bool:
        """True when the last analysis was of ``K``'s block pattern."""
        return self._key is not None and self._direct and self._key.matches(K)

    def analyse_blocks(self, K: BlockMatrix) -> None:
        """PARDISO's analysis (ordering, symbolic factorization) of ``K``'s block pattern.

        For an SPD matrix (no scaling, no matching) the analysis does not
        depend on the values, so it may run on a thread while the values
        are still being assembled into ``K.values`` (ctypes releases the
        GIL): :meth:`ThermoElasticProblem.factorize` does this.
        """
        dtype = np.float32 if self.single else np.float64
        with self.threads:
            self._a = np.ascontiguousarray(K.values, dtype=dtype)
            self._direct = True
            self._source = self._upper = None
            self._n = K.indptr.size - 1
            self._rows = K.block_size * self._n
            self._ps.iparm[36] = K.block_size  # BSR with 2x2 (2D) or 3x3 (3D) node blocks
            self._ia = (K.indptr + 1).astype(np.int32)
            self._ja = (K.indices + 1).astype(np.int32)
            self._call(11, np.zeros(self._rows, dtype=dtype))
            self._key = PatternKey(K)

    def _analyse(self, K: sp.csr_matrix) -> None:
        """Upper triangle (of entries, or of 2x2 blocks) in PARDISO's arrays, and its analysis (phase 11)."""
        dtype = np.float32 if self.single else np.float64
        blocks = self._numbers is not None and self._numbers.size == K.shape[0]
        if blocks:
            if not K.has_sorted_indices:
                K.sort_indices()
            indptr, indices, self._source = upper_blocks(K.indptr, K.indices, self._numbers, self._n_numbers)
            # the few values not taken from K: the unit diagonal of fixed and padded rows, and zeros
            self._ones = np.flatnonzero(self._source == K.nnz)
            self._zeros = np.flatnonzero(self._source > K.nnz)
            if self._source.size < 2**31 and K.nnz < 2**31:
                self._source = self._source.astype(np.int32, copy=False)
            self._a = np.empty(self._source.size, dtype=dtype)
            self._gather(K.data)
            self._n = indptr.size - 1
            self._rows = 2 * self._n
        else:
            rows = np.repeat(np.arange(K.shape[0]), np.diff(K.indptr))
            self._upper = K.indices >= rows
            U = sp.triu(K, format="csr")
            U.sort_indices()
            self._ps._check_A(U)
            indptr, indices = U.indptr, U.indices
            self._a = U.data.astype(dtype)
            self._source = None
            self._n = self._rows = U.shape[0]
        self._ps.iparm[36] = 2 if blocks else 0
        # PARDISO's 1-based index arrays, kept: pypardiso rebuilds them on every call
        self._ia = (indptr + 1).astype(np.int32)
        self._ja = (indices + 1).astype(np.int32)
        self._call(11, np.zeros(self._rows, dtype=dtype))

    def _gather(self, data: np.ndarray) -> None:
        # mode="clip": take writes straight into the (maybe float32) array PARDISO reads,
        # and the indices past K's values (ones and zeros) are set afterwards
        np.take(data, self._source, out=self._a, mode="clip")
        self._a[self._ones] = 1.0
        self._a[self._zeros] = 0.0

    def solve(self, b: np.ndarray) -> np.ndarray:
        """Solution of the factorized system; for a :class:`BlockMatrix`, ``b`` in its full nodal numbering."""
        b = np.asarray(b)
        with self.threads:
            if self._source is None:
                return self._call(33, np.asfortranarray(b, dtype=self._a.dtype)).astype(float, copy=False)
            padded = np.zeros((self._rows,) + b.shape[1:], dtype=self._a.dtype, order="F")
            padded[self._numbers] = b
            return self._call(33, padded)[self._numbers].astype(float, copy=False)

    def _call(self, phase: int, b: np.ndarray) -> np.ndarray:
        """One PARDISO call on the stored upper triangle (pypardiso's library handle and iparm).

        PARDISO keeps pointers to the arrays between phases, so ``_a``, ``_ia``
        and ``_ja`` live as long as the factor.
        """
        import ctypes

        ps, n = self._ps, self._n
        x = np.zeros_like(b)
        error = ctypes.c_int32(0)
        i32 = ctypes.POINTER(ctypes.c_int32)
        f64 = ctypes.POINTER(ctypes.c_double)  # the prototype's type; float32 data when single
        ps._mkl_pardiso(ps.pt.ctypes.data_as(ctypes.POINTER(ps._pt_type[0])), ctypes.byref(ctypes.c_int32(1)),
                        ctypes.byref(ctypes.c_int32(1)), ctypes.byref(ctypes.c_int32(ps.mtype)),
                        ctypes.byref(ctypes.c_int32(phase)), ctypes.byref(ctypes.c_int32(n)),
                        self._a.ctypes.data_as(f64), self._ia.ctypes.data_as(i32), self._ja.ctypes.data_as(i32),
                        ps.perm.ctypes.data_as(i32), ctypes.byref(ctypes.c_int32(1 if b.ndim == 1 else b.shape[1])),
                        ps.iparm.ctypes.data_as(i32), ctypes.byref(ctypes.c_int32(0)), b.ctypes.data_as(f64),
                        x.ctypes.data_as(f64), ctypes.byref(error))
        if error.value != 0:
            raise RuntimeError(f"PARDISO phase {phase} failed with error {error.value}")
        return np.ascontiguousarray(x)
