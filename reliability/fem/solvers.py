"""Sparse linear solvers behind one interface.

``make_solver(name)`` returns an object with ``factorize(K, consume=False)``
and ``solve(b)`` (``consume``: the caller is done with K, so PARDISO may
release its values before the numeric factorization; others ignore it).  The symmetric positive definite systems of linear elasticity
are best served by a sparse Cholesky factorization; the symbolic analysis
(fill-reducing ordering) depends only on the sparsity pattern and is reused
whenever the same pattern is refactorized.

Backends, fastest first, used when installed:

* ``pardiso`` - MKL PARDISO (symmetric positive definite, upper triangle)
  through pypardiso, from PyPI wheels on x86-64;
* ``cholmod`` - CHOLMOD supernodal Cholesky through scikit-sparse (needs
  Debian's libsuitesparse-dev; ``pip install scikit-sparse==0.4.16``);
* ``superlu`` - SciPy's SuperLU (LU, COLAMD ordering), always available;
* ``amg`` - smoothed-aggregation algebraic multigrid (pyamg) with the rigid
  body modes as near null space, as a preconditioner for conjugate
  gradients to a relative residual of 1e-12: memory-lean, for the largest
  meshes.

``auto`` picks the first available direct solver, and ``amg`` above
``AMG_THRESHOLD`` unknowns.  The name actually used is reported in every
run's summary.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .sparsity import upper_blocks

SOLVERS = ("auto", "cholmod", "pardiso", "superlu", "amg")
AMG_THRESHOLD = 3_000_000


def _has_cholmod() -> bool:
    try:
        import sksparse.cholmod  # noqa: F401
    except Exception:
        return False
    return True


def _has(module: str) -> bool:
    """Installed, without importing it (pyamg's import alone took 0.3 s of every run)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _has_pardiso() -> bool:
    """pypardiso imports and finds MKL (installed is not enough: MKL is x86-64 only)."""
    _point_pypardiso_at_mkl()
    try:
        import pypardiso  # noqa: F401
    except Exception:
        return False
    return True


def available_solvers() -> list[str]:
    """Installed backends, fastest direct solver first."""
    out = []
    # PARDISO first: measured 3-4x faster than CHOLMOD (Debian's SuiteSparse 5)
    # at 175 k and 1 M unknowns on this machine (bench/README.md)
    if _has_pardiso():
        out.append("pardiso")
    if _has_cholmod():
        out.append("cholmod")
    out.append("superlu")
    if _has("pyamg"):
        out.append("amg")
    return out


@contextmanager
def openblas_single_threaded():
    """NumPy's and SciPy's OpenBLAS limited to one thread for the duration (MKL untouched).

    Idle OpenBLAS threads keep spinning for a while after each call (the
    dot products of the BFGS update are OpenBLAS calls), on the two cores
    PARDISO's threads need next: a 200 k-dof PARDISO solve right after five
    vector dot products took 15-18 ms, 6.3-6.7 ms with OpenBLAS at one
    thread.  In the fan-out cycling run the solves went from 16.5 to 9.4 ms
    and one cycle from 24.5 to 20.2 s.  NumPy's work there is batched small
    products and vector operations, which OpenBLAS threads do not speed up.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        yield
        return
    with ThreadpoolController().select(internal_api="openblas").limit(limits=1):
        yield


class _Pattern:
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


class _Threads:
    """Limit the BLAS/OpenMP thread pools around a call (``None``: leave them).

    CHOLMOD's BLAS and OpenMP pools and NumPy's own OpenBLAS pool spin on the
    same two cores; for the many small factorizations of an incremental run,
    one thread each measured faster (threadpoolctl).
    """

    def __init__(self, threads: int | None):
        self.threads = threads
        self._ctx = None

    def __enter__(self):
        if self.threads is not None:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:
                return self
            self._ctx = threadpool_limits(limits=self.threads)
        return self

    def __exit__(self, *exc):
        if self._ctx is not None:
            self._ctx.restore_original_limits()
            self._ctx = None
        return False


class CholmodSolver:
    """CHOLMOD Cholesky; the symbolic factorization is kept across refactorizations."""

    name = "cholmod"

    def __init__(self, threads: int | None = None):
        from sksparse.cholmod import analyze

        self._analyze = analyze
        self._factor = None
        self._pattern = _Pattern()
        self.factorizations = 0
        self.threads = _Threads(threads)

    def factorize(self, K: sp.spmatrix, consume: bool = False) -> None:
        with self.threads:
            self._factorize(K)

    def _factorize(self, K: sp.spmatrix) -> None:
        # CHOLMOD wants CSC; K is symmetric, so its CSR arrays read as CSC
        A = sp.csc_matrix((K.data, K.indices, K.indptr), shape=K.shape)
        if self._factor is None or not self._pattern.matches(K):
            self._factor = self._analyze(A, mode="supernodal", ordering_method="default")
            self._pattern = _Pattern(K)
        self._factor.cholesky_inplace(A)
        self.factorizations += 1

    def solve(self, b: np.ndarray) -> np.ndarray:
        with self.threads:
            return self._factor(b)


class SuperLUSolver:
    """SciPy SuperLU (LU with COLAMD ordering); always available."""

    name = "superlu"

    def __init__(self, threads: int | None = None):
        self._lu = None
        self.factorizations = 0

    def factorize(self, K: sp.spmatrix, consume: bool = False) -> None:
        self._lu = spla.splu(sp.csc_matrix(K), permc_spec="COLAMD")
        self.factorizations += 1

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self._lu.solve(b)


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
    After :meth:`use_node_blocks` the matrix goes to PARDISO in 2x2 node
    blocks (BSR): the ordering works on the node graph, a quarter of the
    dof graph (1 M dofs: first factorization 7.4 -> 4.4 s).  Block solves
    are slower on small systems (158 k dofs: 11 vs 7 ms), so an
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
        iparm[1] = 3    # parallel (OpenMP) METIS nested dissection
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
        self._structure = None
        self._source = None
        self.factorizations = 0
        self.threads = _Threads(threads)

    def use_node_blocks(self, numbers: np.ndarray, n_numbers: int, structure=None) -> None:
        """Factorize in 2x2 node blocks (PARDISO's BSR input, ``iparm[36] = 2``).

        ``numbers`` (n_free,): the full dof (2 node + component) of each row
        of the matrices to come; ``n_numbers``: the full dof count.
        ``structure``: a callable returning :func:`~.sparsity.upper_blocks`
        of their pattern, if the caller can build it faster (the assembler
        can, from its node graph).  The ordering then runs on the node
        graph: at 1 M dofs PARDISO's analysis takes 1.4 s instead of 5 s.
        """
        self._numbers = np.asarray(numbers, dtype=np.int64)
        self._n_numbers = int(n_numbers)
        self._structure = structure
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
            if not self.single or K.data.size == 0:
                raise
            # a matrix too ill-conditioned for a float32 Cholesky: carry on in double
            self.use_double()
            self._factorize(K, consume)

    def _factorize(self, K: sp.spmatrix, consume: bool = False) -> None:
        if getattr(K, "format", None) != "csr":
            K = sp.csr_matrix(K)
        with self.threads:
            if self._key is None or not self._key.matches(K):
                self._analyse(K)
                self._key = _Pattern(K)
            elif self._source is not None:
                self._gather(K.data)
            else:
                self._a[:] = K.data[self._upper]
            if consume:
                K.data = np.empty(0)
            self._call(22, np.zeros(self._rows, dtype=self._a.dtype))
        self.factorizations += 1

    def _analyse(self, K: sp.csr_matrix) -> None:
        """Upper triangle (of entries, or of 2x2 blocks) in PARDISO's arrays, and its analysis (phase 11)."""
        dtype = np.float32 if self.single else np.float64
        blocks = self._numbers is not None and self._numbers.size == K.shape[0]
        if blocks:
            if not K.has_sorted_indices:
                K.sort_indices()
            if self._structure is not None:
                indptr, indices, self._source = self._structure()
            else:
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


class AMGSolver:
    """Algebraic multigrid preconditioned conjugate gradients (pyamg).

    ``set_near_nullspace(B)`` gives the rigid-body modes (n, 3) of the free
    dofs; without it constant vectors per component are used.
    """

    name = "amg"

    def __init__(self, threads: int | None = None, rtol: float = 1e-12):
        self._ml = None
        self._K = None
        self.rtol = rtol
        self.B = None
        self.factorizations = 0
        self.iterations = 0

    def set_near_nullspace(self, B: np.ndarray) -> None:
        self.B = B

    def factorize(self, K: sp.spmatrix, consume: bool = False) -> None:
        import pyamg

        self._K = sp.csr_matrix(K)
        B = self.B if self.B is not None and self.B.shape[0] == K.shape[0] else None
        self._ml = pyamg.smoothed_aggregation_solver(self._K, B=B, max_coarse=500)
        self.factorizations += 1

    def solve(self, b: np.ndarray) -> np.ndarray:
        from scipy.sparse.linalg import cg

        count = [0]

        def tick(_):
            count[0] += 1

        x, info = cg(self._K, b, M=self._ml.aspreconditioner(cycle="V"), rtol=self.rtol, atol=0.0,
                     maxiter=2000, callback=tick)
        self.iterations += count[0]
        if info != 0:
            raise RuntimeError(f"AMG-CG did not reach the tolerance in {count[0]} iterations")
        return x


_BACKENDS = {"cholmod": CholmodSolver, "pardiso": PardisoSolver, "superlu": SuperLUSolver, "amg": AMGSolver}


def choose(name: str = "auto", n_dofs: int = 0) -> str:
    """The backend ``auto`` stands for at this size, or ``name`` checked for availability."""
    have = available_solvers()
    if name == "auto":
        if n_dofs > AMG_THRESHOLD and "amg" in have:
            return "amg"
        return have[0]
    if name not in _BACKENDS:
        raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
    if name not in have:
        hint = {"cholmod": "apt-get install libsuitesparse-dev && pip install scikit-sparse==0.4.16",
                "pardiso": "pip install pypardiso (x86-64)", "amg": "pip install pyamg"}[name]
        raise ValueError(f"solver '{name}' is not installed ({hint}); installed: {', '.join(have)}")
    return name


def make_solver(name: str = "auto", threads: int | None = None, n_dofs: int = 0, single: bool = False):
    """A fresh solver of backend ``name`` (or the best available for ``auto`` at ``n_dofs``).

    ``threads`` limits the BLAS/OpenMP threads during factorization and solves;
    ``single`` asks PARDISO for a single-precision factor (other backends ignore it).
    """
    backend = choose(name, n_dofs)
    if backend == "pardiso":
        return _BACKENDS[backend](threads=threads, single=single)
    return _BACKENDS[backend](threads=threads)


def rigid_body_modes(coords: np.ndarray, free: np.ndarray, n_nodes: int) -> np.ndarray:
    """Near null space (n_free, 3) of 2D elasticity: x, y translations and the rotation."""
    full = np.zeros((2 * n_nodes, 3))
    full[0::2, 0] = 1.0
    full[1::2, 1] = 1.0
    full[0::2, 2] = -coords[:, 1]
    full[1::2, 2] = coords[:, 0]
    return full[free[free < 2 * n_nodes]]
