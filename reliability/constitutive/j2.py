"""Shared machinery of von Mises (J2) return mapping, in 4 or 6 Voigt components.

Two component layouts, told apart by the length n of the last axis:

* n = 4, the 2D sections: strain (xx, yy, zz, gamma_xy), stress (xx, yy, zz, tau_xy);
* n = 6, 3D: strain (xx, yy, zz, gamma_yz, gamma_xz, gamma_xy), stress
  (xx, yy, zz, tau_yz, tau_xz, tau_xy).

In both the three normal components come first and every entry after them is
a shear; strains carry engineering shears (gamma = 2 eps_ij), stresses,
deviators and flow directions tensor components, so a double contraction
a:b of two tensor-component vectors is sum_i w_i a_i b_i with the weights
w = (1, 1, 1, 2, ...) of :func:`shear_weight`.  Every function below works
on either layout; nothing else distinguishes 2D from 3D here.

Elasticity is isotropic, with shear modulus G and bulk modulus K (MPa) at
the current temperature.  A return mapping with an equivalent inelastic
strain increment ``dp`` along the flow direction
N = 3/2 dev(sigma_trial) / q_trial gives

    sigma = sigma_trial - 2 G dp N,        q = q_trial - 3 G dp,

and, with kappa = d(dp)/d(q_trial), the consistent (algorithmic) tangent

    C = D - 4 G^2 kappa N (x) N - (6 G^2 dp / q_trial) (I_dev - 2/3 N (x) N).

All functions are vectorised over the leading axis (points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NORMAL = 3  # the normal components (xx, yy, zz) lead in both layouts; the rest are shears
COMPONENTS = (4, 6)


def _hydro(n: int) -> np.ndarray:
    out = np.zeros(n)
    out[:NORMAL] = 1.0
    return out


def _i_dev(n: int) -> np.ndarray:
    # the deviatoric projector acting on engineering strain, giving tensor components (shear halved)
    out = np.zeros((n, n))
    out[:NORMAL, :NORMAL] = -1.0 / 3.0
    out[np.arange(NORMAL), np.arange(NORMAL)] = 2.0 / 3.0
    out[np.arange(NORMAL, n), np.arange(NORMAL, n)] = 0.5
    return out


def _shear_weight(n: int) -> np.ndarray:
    out = np.ones(n)
    out[NORMAL:] = 2.0
    return out


HYDRO4, HYDRO6 = _hydro(4), _hydro(6)
I_DEV4, I_DEV6 = _i_dev(4), _i_dev(6)
SHEAR_WEIGHT4, SHEAR_WEIGHT6 = _shear_weight(4), _shear_weight(6)
# the 2D names of the 4-component constants, as before
HYDRO, I_DEV = HYDRO4, I_DEV4
_HYDRO = {4: HYDRO4, 6: HYDRO6}
_I_DEV = {4: I_DEV4, 6: I_DEV6}
_SHEAR_WEIGHT = {4: SHEAR_WEIGHT4, 6: SHEAR_WEIGHT6}


def check_components(n: int) -> int:
    """``n`` if it is a component count this module knows (4 or 6), else ValueError."""
    if n not in _HYDRO:
        raise ValueError(f"strain and stress vectors have 4 (2D) or 6 (3D) components, not {n}")
    return n


def components(a: np.ndarray) -> int:
    """The component count (4 or 6) of a strain or stress array (..., n); ValueError otherwise."""
    return check_components(np.shape(a)[-1] if np.ndim(a) else 0)


def hydro(n: int) -> np.ndarray:
    """(1, 1, 1, 0, ...) of n components: the unit hydrostatic tensor as a Voigt vector."""
    return _HYDRO[n]


def i_dev(n: int) -> np.ndarray:
    """(n, n) deviatoric projector from engineering strain to tensor-component deviatoric strain."""
    return _I_DEV[n]


def shear_weight(n: int) -> np.ndarray:
    """(1, 1, 1, 2, ...): a:b = sum w a b for tensor-component Voigt vectors a, b of n components."""
    return _SHEAR_WEIGHT[n]


def isotropic_D(G, K, n_components: int = 4) -> np.ndarray:
    """Isotropic stiffness (..., n, n) on engineering strain from shear and bulk moduli (MPa).

    ``G``, ``K``: numbers or arrays of one shape; ``n_components``: 4 (2D) or 6 (3D).
    """
    G = np.asarray(G, dtype=float)
    K = np.asarray(K, dtype=float)
    n = check_components(n_components)
    D = np.zeros(G.shape + (n, n))
    D[..., :NORMAL, :NORMAL] = (K - 2.0 * G / 3.0)[..., None, None]
    for i in range(NORMAL):
        D[..., i, i] += 2.0 * G
    for i in range(NORMAL, n):
        D[..., i, i] = G
    return D


def elastic_stress(eps: np.ndarray, G: float, K: float) -> np.ndarray:
    """Isotropic stress (n, c) from engineering strain (n, c), c = 4 or 6: K tr(eps) + 2G dev(eps), tau = G gamma.

    The same as ``isotropic_D(G, K, c) @ eps`` without building n copies of D.
    """
    tr = eps[:, :NORMAL].sum(axis=1, keepdims=True)
    sig = 2.0 * G * eps + (K - 2.0 * G / 3.0) * tr * hydro(eps.shape[-1])
    sig[:, NORMAL:] *= 0.5  # engineering shear: tau = G gamma
    return sig


def deviator(sig: np.ndarray) -> np.ndarray:
    """Deviatoric stress (tensor components; the shear entries are the tau_ij themselves)."""
    p = sig[..., :NORMAL].mean(axis=-1, keepdims=True)
    return sig - p * hydro(sig.shape[-1])


def contract(s: np.ndarray) -> np.ndarray:
    """s:s of a tensor-component Voigt vector s (..., c): the normal squares plus twice the shear squares."""
    # term by term (a loop over the 1 or 3 shears, not over points): for 4 components this is the
    # former 2D formula's exact floating-point sequence, and a reduction over the strided shear axis
    # cost twice as much
    shear = s[..., NORMAL] ** 2
    for k in range(NORMAL + 1, s.shape[-1]):
        shear = shear + s[..., k] ** 2
    return s[..., 0] ** 2 + s[..., 1] ** 2 + s[..., 2] ** 2 + 2.0 * shear


def equivalent(s: np.ndarray) -> np.ndarray:
    """von Mises equivalent of a deviator s: sqrt(3/2 s:s)."""
    return np.sqrt(1.5 * contract(s))


def engineering(tensor: np.ndarray) -> np.ndarray:
    """Tensor-component vector -> engineering strain (shears doubled)."""
    out = tensor.copy()
    out[..., NORMAL:] *= 2.0
    return out


def tensorial(strain: np.ndarray) -> np.ndarray:
    """Engineering strain vector -> tensor components (shears halved)."""
    out = strain.copy()
    out[..., NORMAL:] *= 0.5
    return out


def consistent_tangent(D: np.ndarray, G: np.ndarray, N: np.ndarray, dp: np.ndarray, q_trial: np.ndarray,
                       kappa: np.ndarray) -> np.ndarray:
    """Algorithmic tangent of the radial return, (n, c, c) for flow directions N (n, c); see the module docstring.

    Evaluated as D - b I_dev + (2/3 b - a) N (x) N with a = 4 G^2 kappa and
    b = 6 G^2 dp / q_trial: one outer product and two passes over the
    (n, c, c) result.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(q_trial > 0, dp / q_trial, 0.0)
    b = 6.0 * G**2 * ratio
    c = (2.0 / 3.0) * b - 4.0 * G**2 * kappa
    C = N[:, :, None] * (c[:, None] * N)[:, None, :]
    C -= b[:, None, None] * i_dev(N.shape[-1])
    C += D
    return C


@dataclass
class RadialReturn:
    """One radial return at every point: its consistent tangent on demand, and a first-order dp.

    Calling it gives the (n, c, c) consistent tangent, c = 4 or 6 as N
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
