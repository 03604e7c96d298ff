"""Bilinear (linear-hardening) von Mises plasticity for copper and gold.

Uniaxially: elastic with E up to the yield stress sigma_y, then the tangent
modulus E_t, i.e. a plastic hardening modulus H = E E_t / (E - E_t).
Hardening is ``kinematic`` (Prager: the yield surface translates, so a copper
trace under cyclic loading keeps dissipating - the Bauschinger effect) or
``isotropic`` (it grows).  Rate independent; the return mapping is exact
(one step) and the tangent is the consistent one.  Units: MPa.

One implementation for the 2D sections and 3D, chosen by the component
count c of the strain vectors: c = 4, (xx, yy, zz, gamma_xy), or c = 6,
(xx, yy, zz, gamma_yz, gamma_xz, gamma_xy); engineering shears, stresses
and back stresses in tensor components, same order.  The radial return
(Simo & Hughes, Computational Inelasticity, 1998, box 3.2):

    xi = dev(sigma_trial) - beta,  q = sqrt(3/2 xi:xi),  f = q - (sigma_y [+ H p]),
    dp = f / (3 G + H),  N = 3/2 xi / q,  sigma = sigma_trial - 2 G dp N,
    beta += 2/3 H dp N (kinematic),   eps_p += dp N (engineering shears doubled),
    C = D - 4 G^2 / (3 G + H) N (x) N - (6 G^2 dp / q)(I_dev - 2/3 N (x) N).
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from . import j2
from .state import check_state, make_state, reported


@dataclass(frozen=True)
class BilinearParameters:
    yield_MPa: float
    tangent_modulus_MPa: float
    hardening: str = "kinematic"  # "kinematic" | "isotropic"


class BilinearModel:
    """Elastic-plastic with linear hardening; same interface as :class:`AnandModel`.

    State, for strain vectors of c = 4 or 6 components: ``eps_p`` (n, c)
    engineering plastic strain, ``beta`` (n, c) back stress (tensor
    components, kinematic), ``p`` (n,) accumulated equivalent plastic
    strain, ``W`` (n,) plastic work density (MPa).
    """

    kind = "bilinear"

    def __init__(self, name: str, params: BilinearParameters, elastic):
        self.name = name
        self.params = params
        self.elastic = elastic

    def state_fields_for(self, n_components: int = 4) -> dict:
        """The declared state for strain vectors of 4 (2D) or 6 (3D) components."""
        return {**reported(n_components), "beta": (n_components,)}  # beta: the back stress (MPa)

    @property
    def state_fields(self) -> dict:
        """The 2D (4-component) declaration."""
        return self.state_fields_for(4)

    def initial_state(self, n: int, n_components: int = 4) -> dict:
        return make_state(self.state_fields_for(n_components), n)

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
        """Stress (n, c), consistent tangent (n, c, c) and new state at total strain ``eps`` (n, c), c = 4 or 6.

        ``eps_th``: thermal strain, (n, c) or (c,); ``stress_n``: the stress at
        the start of the increment (for the work, trapezoidal; default the end
        stress); ``lazy_tangent``: the tangent as a :class:`~.j2.RadialReturn`.
        """
        del dt, dp_guess  # rate independent, closed-form return mapping
        G, K = self.moduli(T_C)
        H = self.hardening_modulus(T_C)
        n, c = eps.shape[0], j2.components(eps)
        check_state(state, c)
        # one D for all points (a broadcast view), built only for the tangent
        D = np.broadcast_to(j2.isotropic_D(G, K, c), (n, c, c))
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
