"""Sparse linear solvers behind one interface.

``make_solver(name)`` returns an object with ``factorize(K)`` and
``solve(b)``.  The symmetric positive definite systems of linear elasticity
are best served by a sparse Cholesky factorization; the symbolic analysis
(fill-reducing ordering) depends only on the sparsity pattern and is reused
whenever the same pattern is refactorized.

Backends, fastest first, used when installed:

* ``cholmod`` - CHOLMOD supernodal Cholesky through scikit-sparse;
* ``superlu`` - SciPy's SuperLU, always available.

``auto`` picks the first available one.  The name actually used is reported
in every run's summary.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

SOLVERS = ("auto", "cholmod", "superlu")


def _has_cholmod() -> bool:
    try:
        import sksparse.cholmod  # noqa: F401
    except Exception:
        return False
    return True


def available_solvers() -> list[str]:
    out = []
    if _has_cholmod():
        out.append("cholmod")
    out.append("superlu")
    return out


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
        self._pattern = None
        self.factorizations = 0
        self.threads = _Threads(threads)

    def factorize(self, K: sp.spmatrix) -> None:
        with self.threads:
            self._factorize(K)

    def _factorize(self, K: sp.spmatrix) -> None:
        # CHOLMOD wants CSC; K is symmetric, so its CSR arrays read as CSC
        A = sp.csc_matrix((K.data, K.indices, K.indptr), shape=K.shape)
        pattern = (K.shape, K.indptr.tobytes(), K.indices.tobytes())
        if self._factor is None or pattern != self._pattern:
            self._factor = self._analyze(A, mode="supernodal", ordering_method="default")
            self._pattern = pattern
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

    def factorize(self, K: sp.spmatrix) -> None:
        self._lu = spla.splu(sp.csc_matrix(K), permc_spec="COLAMD")
        self.factorizations += 1

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self._lu.solve(b)


_BACKENDS = {"cholmod": CholmodSolver, "superlu": SuperLUSolver}


def make_solver(name: str = "auto", threads: int | None = None):
    """A fresh solver of backend ``name`` (or the fastest available for ``auto``).

    ``threads`` limits the BLAS/OpenMP threads during factorization and solves.
    """
    if name == "auto":
        name = available_solvers()[0]
    if name not in _BACKENDS:
        raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
    if name == "cholmod" and not _has_cholmod():
        raise ValueError("solver 'cholmod' needs scikit-sparse (pip install scikit-sparse==0.4.16)")
    return _BACKENDS[name](threads=threads)
