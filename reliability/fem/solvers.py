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

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .pardiso import PardisoSolver, _point_pypardiso_at_mkl
from .sparsity import PatternKey
from .threads import Threads

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


class CholmodSolver:
    """CHOLMOD Cholesky; the symbolic factorization is kept across refactorizations."""

    name = "cholmod"

    def __init__(self, threads: int | None = None):
        from sksparse.cholmod import analyze

        self._analyze = analyze
        self._factor = None
        self._pattern = PatternKey()
        self.factorizations = 0
        self.threads = Threads(threads)

    def factorize(self, K: sp.spmatrix, consume: bool = False) -> None:
        with self.threads:
            self._factorize(K)

    def _factorize(self, K: sp.spmatrix) -> None:
        # CHOLMOD wants CSC; K is symmetric, so its CSR arrays read as CSC
        A = sp.csc_matrix((K.data, K.indices, K.indptr), shape=K.shape)
        if self._factor is None or not self._pattern.matches(K):
            self._factor = self._analyze(A, mode="supernodal", ordering_method="default")
            self._pattern = PatternKey(K)
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
