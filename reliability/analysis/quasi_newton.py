"""BFGS on top of a factorized matrix: the inverse-Hessian product by the two-loop recursion.

Solving R(u) = 0 with a tangent K that changes slowly (only the inelastic
regions' tangents move between increments), the inverse of an old,
factorized K is a good initial matrix H0, and the secant pairs
s = u_{k+1} - u_k, y = R_{k+1} - R_k of the current increment correct it
(Matthies & Strang, Int. J. Numer. Meth. Eng. 14, 1979; Nocedal & Wright,
Numerical Optimization, algorithm 7.4).  SciPy's ``LbfgsInvHessProduct``
does the same product with H0 = I only; here H0 is a sparse Cholesky solve.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Pair = tuple[np.ndarray, np.ndarray, float]  # (s, y, 1 / (s . y))


def secant_pair(s: np.ndarray, y: np.ndarray) -> Pair | None:
    """The pair to keep, or ``None`` when s . y <= 0 (the update would lose positive definiteness)."""
    sy = float(s @ y)
    return (s, y, 1.0 / sy) if sy > 0 else None


def inverse_product(R: np.ndarray, pairs: list[Pair], solve0: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """H R, with H the BFGS update of H0 = ``solve0`` by ``pairs`` (oldest first)."""
    q = R.copy()
    alphas = []
    for s_k, y_k, rho in reversed(pairs):
        a = rho * float(s_k @ q)
        q -= a * y_k
        alphas.append(a)
    r = solve0(q)
    for (s_k, y_k, rho), a in zip(pairs, reversed(alphas)):
        b = rho * float(y_k @ r)
        r += (a - b) * s_k
    return r
