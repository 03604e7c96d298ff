"""Bilinear von Mises plasticity in 3D (six components): the 2D model's law, (xx, yy, zz, yz, xz, xy).

The same law and parameters as :class:`~reliability.constitutive.bilinear.BilinearModel`
(a material's ``[plasticity]``: yield stress sigma_y, tangent modulus E_t,
plastic hardening modulus H = E E_t / (E - E_t), kinematic (Prager) or
isotropic hardening), with the radial return of
:mod:`reliability.constitutive.j2` written for six components (Simo & Hughes,
Computational Inelasticity, 1998, box 3.2):

    xi = dev(sigma_trial) - beta,  q = sqrt(3/2 xi:xi),  f = q - (sigma_y [+ H p]),
    dp = f / (3 G + H),  N = 3/2 xi / q,  sigma = sigma_trial - 2 G dp N,
    beta += 2/3 H dp N (kinematic),   eps_p += dp N (engineering shears doubled),
    C = D - 4 G^2 / (3 G + H) N (x) N - (6 G^2 dp / q)(I_dev - 2/3 N (x) N).

Strains are engineering (shears gamma), stresses and N tensor components;
``xi:xi`` counts each shear twice.  Vectorised over points.
"""

from __future__ import annotations

import numpy as np

HYDRO6 = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
SHEAR_WEIGHT = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])  # a:b of tensor Voigt vectors = sum w a b
I_DEV6 = np.zeros((6, 6))
I_DEV6[:3, :3] = -1.0 / 3.0
I_DEV6[np.arange(3), np.arange(3)] = 2.0 / 3.0
I_DEV6[np.arange(3, 6), np.arange(3, 6)] = 0.5  # engineering shear strain -> tensor deviatoric strain


def isotropic_D6(G: float, K: float) -> np.ndarray:
    D = np.zeros((6, 6))
    D[:3, :3] = K - 2.0 * G / 3.0
    D[np.arange(3), np.arange(3)] += 2.0 * G
    D[np.arange(3, 6), np.arange(3, 6)] = G
    return D


class Bilinear3D:
    """The 3D radial return of a material with ``[plasticity]``; state: eps_p (n, 6) engineering,
    beta (n, 6) back stress (tensor components), p (n,) accumulated equivalent plastic strain."""

    def __init__(self, material):
        spec = material.spec.plasticity
        if spec is None:
            raise ValueError(f"material '{material.name}' has no [plasticity]")
        self.name = material.name
        self.elastic = material.elastic
        self.yield_MPa = float(spec.yield_MPa)
        self.Et = float(spec.tangent_modulus_MPa)
        self.kinematic = spec.hardening == "kinematic"

    def initial_state(self, n: int) -> dict:
        return {"eps_p": np.zeros((n, 6)), "beta": np.zeros((n, 6)), "p": np.zeros(n)}

    def moduli(self, T: float) -> tuple[float, float, float]:
        """G, K and the plastic hardening modulus H at T (MPa)."""
        E, nu = float(self.elastic.props["E_MPa"](T)), float(self.elastic.props["nu"](T))
        G, K = E / (2 * (1 + nu)), E / (3 * (1 - 2 * nu))
        return G, K, E * self.Et / (E - self.Et)

    def update(self, eps: np.ndarray, T: float, state: dict, eps_th: np.ndarray):
        """Stress (n, 6), consistent tangent (n, 6, 6) and the new state at total strain ``eps`` (n, 6)."""
        G, K, H = self.moduli(T)
        D = isotropic_D6(G, K)
        sig_tr = (eps - eps_th - state["eps_p"]) @ D.T
        dev = sig_tr - sig_tr[:, :3].mean(axis=1, keepdims=True) * HYDRO6
        xi = dev - (state["beta"] if self.kinematic else 0.0)
        q = np.sqrt(1.5 * np.einsum("ni,ni,i->n", xi, xi, SHEAR_WEIGHT))
        radius = self.yield_MPa + (0.0 if self.kinematic else H * state["p"])
        f = q - radius
        dp = np.where(f > 0, f / (3.0 * G + H), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            N = np.where(q[:, None] > 0, 1.5 * xi / q[:, None], 0.0)
        sig = sig_tr - (2.0 * G * dp)[:, None] * N
        NN = N[:, :, None] * N[:, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(dp > 0, dp / q, 0.0)
        kappa = np.where(dp > 0, 1.0 / (3.0 * G + H), 0.0)
        C = (D[None] - (4.0 * G**2 * kappa)[:, None, None] * NN
             - (6.0 * G**2 * ratio)[:, None, None] * (I_DEV6[None] - 2.0 / 3.0 * NN))
        new = {"eps_p": state["eps_p"] + N * dp[:, None] * SHEAR_WEIGHT,
               "beta": state["beta"] + (2.0 / 3.0 * H * dp)[:, None] * N if self.kinematic else state["beta"],
               "p": state["p"] + dp}
        return sig, C, new
