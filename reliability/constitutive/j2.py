"""Shared machinery of von Mises (J2) return mapping in the 4-component notation.

Strain vectors are engineering Voigt (xx, yy, zz, gamma_xy); stress vectors
(xx, yy, zz, tau_xy).  Elasticity is isotropic, with shear modulus G and bulk
modulus K at the current temperature.  A return mapping with an equivalent
inelastic strain increment ``dp`` along the flow direction
N = 3/2 dev(sigma_trial) / q_trial gives

    sigma = sigma_trial - 2 G dp N,        q = q_trial - 3 G dp,

and, with kappa = d(dp)/d(q_trial), the consistent (algorithmic) tangent

    C = D - 4 G^2 kappa N (x) N - (6 G^2 dp / q_trial) (I_dev - 2/3 N (x) N).

All functions are vectorised over the leading axis (points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HYDRO = np.array([1.0, 1.0, 1.0, 0.0])
# deviatoric projector acting on engineering strain, giving tensor components
I_DEV = np.array(
    [
        [2 / 3, -1 / 3, -1 / 3, 0.0],
        [-1 / 3, 2 / 3, -1 / 3, 0.0],
        [-1 / 3, -1 / 3, 2 / 3, 0.0],
        [0.0, 0.0, 0.0, 0.5],
    ]
)


def isotropic_D(G, K) -> np.ndarray:
    """Isotropic stiffness (n, 4, 4) from shear and bulk moduli (MPa), arrays of shape (n,)."""
    G = np.asarray(G, dtype=float)
    K = np.asarray(K, dtype=float)
    D = np.zeros(G.shape + (4, 4))
    D[..., :3, :3] = (K - 2.0 * G / 3.0)[..., None, None]
    for i in range(3):
        D[..., i, i] += 2.0 * G
    D[..., 3, 3] = G
    return D


def elastic_stress(eps: np.ndarray, G: float, K: float) -> np.ndarray:
    """Isotropic stress (n, 4) from engineering strain (n, 4): K tr(eps) + 2G dev(eps), tau = G gamma.

    The same as ``isotropic_D(G, K) @ eps`` without building n copies of D.
    """
    tr = eps[:, :3].sum(axis=1, keepdims=True)
    sig = 2.0 * G * eps + (K - 2.0 * G / 3.0) * tr * HYDRO
    sig[:, 3] *= 0.5  # engineering shear: tau = G gamma
    return sig


def deviator(sig: np.ndarray) -> np.ndarray:
    """Deviatoric stress (tensor components; the shear entry is tau_xy)."""
    p = sig[..., :3].mean(axis=-1, keepdims=True)
    return sig - p * HYDRO


def equivalent(s: np.ndarray) -> np.ndarray:
    """von Mises equivalent of a deviator s: sqrt(3/2 s:s)."""
    return np.sqrt(1.5 * (s[..., 0] ** 2 + s[..., 1] ** 2 + s[..., 2] ** 2 + 2.0 * s[..., 3] ** 2))


def engineering(tensor: np.ndarray) -> np.ndarray:
    """Tensor-component 4-vector -> engineering strain (shear doubled)."""
    out = tensor.copy()
    out[..., 3] *= 2.0
    return out


def consistent_tangent(D: np.ndarray, G: np.ndarray, N: np.ndarray, dp: np.ndarray, q_trial: np.ndarray,
                       kappa: np.ndarray) -> np.ndarray:
    """Algorithmic tangent of the radial return, (n, 4, 4); see the module docstring.

    Evaluated as D - b I_dev + (2/3 b - a) N (x) N with a = 4 G^2 kappa and
    b = 6 G^2 dp / q_trial: one outer product and two passes over the
    (n, 4, 4) result.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(q_trial > 0, dp / q_trial, 0.0)
    b = 6.0 * G**2 * ratio
    c = (2.0 / 3.0) * b - 4.0 * G**2 * kappa
    C = N[:, :, None] * (c[:, None] * N)[:, None, :]
    C -= b[:, None, None] * I_DEV
    C += D
    return C


@dataclass
class RadialReturn:
    """One radial return at every point: its consistent tangent on demand, and a first-order dp.

    Calling it gives the (n, 4, 4) consistent tangent
    (:func:`consistent_tangent`).  :meth:`predict` is dp at new trial
    stresses to first order, dp + kappa (q_trial' - q_trial): the first
    Newton step of the next local solve from this dp, known without
    evaluating the flow law there (the next global iteration's guess).
    """

    D: np.ndarray
    G: float
    N: np.ndarray
    dp: np.ndarray
    q_trial: np.ndarray
    kappa: np.ndarray

    def __call__(self) -> np.ndarray:
        return consistent_tangent(self.D, self.G, self.N, self.dp, self.q_trial, self.kappa)

    def predict(self, q_trial: np.ndarray) -> np.ndarray:
        """dp at the trial stresses ``q_trial`` (n,) to first order; this return's dp where that is not positive."""
        dp = self.dp + self.kappa * (q_trial - self.q_trial)
        return np.where(dp > 0.0, dp, self.dp)
