"""Bilinear (linear-hardening) von Mises plasticity for copper and gold.

Uniaxially: elastic with E up to the yield stress sigma_y, then the tangent
modulus E_t, i.e. a plastic hardening modulus H = E E_t / (E - E_t).
Hardening is ``kinematic`` (Prager: the yield surface translates, so a copper
trace under cyclic loading keeps dissipating - the Bauschinger effect) or
``isotropic`` (it grows).  Rate independent; the return mapping is exact
(one step) and the tangent is the consistent one.  Units: MPa.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from . import j2
from .state import REPORTED, make_state


@dataclass(frozen=True)
class BilinearParameters:
    yield_MPa: float
    tangent_modulus_MPa: float
    hardening: str = "kinematic"  # "kinematic" | "isotropic"


class BilinearModel:
    """Elastic-plastic with linear hardening; same interface as :class:`AnandModel`.

    State: ``eps_p`` (n, 4) engineering plastic strain, ``beta`` (n, 4) back
    stress (tensor components, kinematic), ``p`` (n,) accumulated equivalent
    plastic strain, ``W`` (n,) plastic work density (MPa).
    """

    kind = "bilinear"

    def __init__(self, name: str, params: BilinearParameters, elastic):
        self.name = name
        self.params = params
        self.elastic = elastic

    state_fields = {**REPORTED, "beta": (4,)}  # beta: the back stress (MPa)

    def initial_state(self, n: int) -> dict:
        return make_state(self.state_fields, n)

    def moduli(self, T_C: float) -> tuple[float, float]:
        D = self.elastic.stiffness(T_C)
        G = D[3, 3]
        return float(G), float(D[0, 0] - 4.0 * G / 3.0)

    def hardening_modulus(self, T_C: float) -> float:
        G, K = self.moduli(T_C)
        E = 9.0 * K * G / (3.0 * K + G)
        Et = self.params.tangent_modulus_MPa
        return E * Et / (E - Et)

    def update(self, eps: np.ndarray, T_C: float, dt: float, state: dict, eps_th: np.ndarray, stress_n=None,
               lazy_tangent: bool = False, dp_guess=None):
        del dt, dp_guess  # rate independent, closed-form return mapping
        G, K = self.moduli(T_C)
        H = self.hardening_modulus(T_C)
        n = eps.shape[0]
        # one D for all points (a broadcast view), built only for the tangent
        D = np.broadcast_to(j2.isotropic_D(G, K), (n, 4, 4))
        sig_tr = j2.elastic_stress(eps - eps_th - state["eps_p"], G, K)
        kinematic = self.params.hardening == "kinematic"
        xi = j2.deviator(sig_tr) - (state["beta"] if kinematic else 0.0)
        q_tr = j2.equivalent(xi)
        radius = self.params.yield_MPa + (0.0 if kinematic else H * state["p"])
        f = q_tr - radius
        dp = np.where(f > 0, f / (3.0 * G + H), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            N = np.where(q_tr[:, None] > 0, 1.5 * xi / q_tr[:, None], 0.0)
        sig = sig_tr - (2.0 * G * dp)[:, None] * N
        kappa = np.where(dp > 0, 1.0 / (3.0 * G + H), 0.0)
        C = j2.RadialReturn(D, G, N, dp, q_tr, kappa)
        C = C if lazy_tangent else C()
        d_eps_p = j2.engineering(N * dp[:, None])
        sig_n = stress_n if stress_n is not None else sig
        new = {
            "eps_p": state["eps_p"] + d_eps_p,
            "beta": state["beta"] + (2.0 / 3.0) * H * (N * dp[:, None]) if kinematic else state["beta"],
            "p": state["p"] + dp,
            "W": state["W"] + 0.5 * np.einsum("ni,ni->n", sig_n + sig, d_eps_p),
        }
        return sig, C, new
