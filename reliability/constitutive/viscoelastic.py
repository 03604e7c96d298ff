"""Generalized Maxwell (Prony series) linear viscoelasticity, thermorheologically simple.

Relaxation modulus at the reference temperature (MPa, s):

    E(t) = E_inf + sum_i E_i exp(-t / tau_i)

and at any temperature history through the reduced time
xi(t) = int dt / a_T(T(t)) (:mod:`.shift`: WLF, Arrhenius or a table):

    sigma(t) = int_0^t E(xi(t) - xi(s)) D1 : d eps_m(s),      eps_m = eps - eps_th - eps_cure

with D1 the isotropic stiffness of unit Young's modulus and Poisson ratio nu.

Choice: nu is constant in time, so the shear and the bulk relaxation
functions are both proportional to E(t) (G(t) = E(t) / 2(1+nu),
K(t) = E(t) / 3(1-2nu)).  This is what a uniaxial relaxation or DMA test
(the data that exist for mold compounds and underfills, physics.md 1.3)
determines; separate shear and bulk series are not measured for these
materials, and taking the bulk modulus elastic (at its glassy value) instead
would leave the rubbery material nearly incompressible (nu_rubbery ~ 0.48)
and make its rubbery thermal stresses depend on a bulk modulus nobody has
measured.  physics.md 1.3 notes that the constant-nu shortcut is the common
one and that it does move predicted warpage somewhat.

Strain and stress vectors have c = 4 components in the 2D sections,
(xx, yy, zz, gamma_xy), or c = 6 in 3D, (xx, yy, zz, gamma_yz, gamma_xz,
gamma_xy), engineering shears; the update is chosen by the count of the
strain passed (one implementation: the law is isotropic).

State per point: the branch stresses h_i (n, m, c) and the last mechanical
strain eps_m (n, c).  Over an increment with reduced-time increment dxi, for
a mechanical strain linear in reduced time within the increment, the branch
equation dh_i/dxi + h_i / tau_i = E_i D1 : d eps_m/dxi integrates exactly to

    h_i' = exp(-dxi/tau_i) h_i + E_i g_i D1 : (eps_m' - eps_m),
    g_i  = tau_i / dxi (1 - exp(-dxi/tau_i))       (-> 1 as dxi -> 0)

    sigma' = E_inf D1 : eps_m' + sum_i h_i'

so the stress is linear in the end strain, and the consistent tangent is
exactly D1 (E_inf + sum_i E_i g_i), the same at every point of a group (the
temperature is uniform): no Python loop over points, one (c, c) matrix.
dxi integrates 1/a_T with the temperature linear in time from the previous
temperature (``T_prev_C``) to the current one (:meth:`.shift.Shift.reduced_time`).

For the solver's bookkeeping (cycling records, fields) the state also
carries, like the other inelastic models, ``eps_p``: the viscous strain
eps_m - D0^-1 sigma with D0 the glassy (instantaneous) stiffness,
``p``: its accumulated von Mises equivalent, and ``W``: the work of the
stress on it (MPa = mJ/mm^3; stored and dissipated parts together).
Units: MPa, s, degrees C.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import j2
from .shift import Shift, make_shift
from .state import check_state, make_state, reported


@dataclass(frozen=True)
class PronyParameters:
    E_inf_MPa: float
    E_MPa: tuple[float, ...]
    tau_s: tuple[float, ...]
    reference_C: float
    nu: float

    @property
    def E_glassy_MPa(self) -> float:
        return self.E_inf_MPa + float(sum(self.E_MPa))


def _g(x: np.ndarray) -> np.ndarray:
    """(1 - exp(-x)) / x, with its limit 1 at x = 0."""
    x = np.asarray(x, dtype=float)
    small = x < 1e-8
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x, -np.expm1(-safe) / safe)


def unit_moduli(nu: float) -> tuple[float, float]:
    """Shear and bulk modulus of unit Young's modulus."""
    return 1.0 / (2.0 * (1.0 + nu)), 1.0 / (3.0 * (1.0 - 2.0 * nu))


def compliance_strain(sig: np.ndarray, E: float, nu: float) -> np.ndarray:
    """Engineering strain (n, c) of an isotropic elastic body (E, nu) under stress (n, c), c = 4 or 6."""
    tr = sig[:, :3].sum(axis=1, keepdims=True)
    eps = ((1.0 + nu) * sig - nu * tr * j2.hydro(sig.shape[-1])) / E
    eps[:, 3:] = 2.0 * (1.0 + nu) * sig[:, 3:] / E  # gamma = tau / G
    return eps


@dataclass
class LinearTangent:
    """The consistent tangent of a linear update: one matrix D for all n points, built on demand.

    ``dp`` (zeros) lets the solver keep it as a hint for the next iteration, as it does with the
    return mappings of the plastic models; the linear update needs no hint.
    """

    D: np.ndarray  # (c, c), c = 4 or 6
    n: int

    @property
    def dp(self) -> np.ndarray:
        return np.zeros(self.n)

    def __call__(self) -> np.ndarray:
        return np.broadcast_to(self.D, (self.n,) + self.D.shape)


class ViscoelasticModel:
    """Generalized Maxwell solid; same interface as :class:`~.anand.AnandModel`.

    ``update`` also takes ``T_prev_C``, the temperature at the start of the
    increment (the solver passes it to models with
    ``uses_previous_temperature``); without it the increment is isothermal
    at ``T_C``.
    """

    kind = "viscoelastic"
    uses_previous_temperature = True

    def __init__(self, name: str, params: PronyParameters, shift: Shift, elastic=None):
        self.name = name
        self.params = params
        self.shift = shift
        self.elastic = elastic
        self.E = np.asarray(params.E_MPa, dtype=float)
        self.tau = np.asarray(params.tau_s, dtype=float)
        self.G1, self.K1 = unit_moduli(params.nu)
        self.D1 = j2.isotropic_D(self.G1, self.K1)  # 2D (4 components)
        self._D1 = {c: j2.isotropic_D(self.G1, self.K1, c) for c in j2.COMPONENTS}
        self._memo = None

    @classmethod
    def from_material(cls, material) -> "ViscoelasticModel":
        ve = material.spec.viscoelastic
        params = PronyParameters(float(ve.E_inf_MPa), tuple(float(t.E_MPa) for t in ve.terms),
                                 tuple(float(t.tau_s) for t in ve.terms), float(ve.reference_C),
                                 float(material.spec.nu))
        return cls(material.name, params, make_shift(ve.shift, float(ve.reference_C), material.name),
                   material.elastic)

    # --- closed forms (the references of the tests and the dma curves) ------------------------------
    def relaxation_modulus(self, t, T_C: float | None = None):
        """E(t) (MPa) after a time t (s) at the constant temperature T_C (default: the reference)."""
        aT = 1.0 if T_C is None else float(self.shift.aT(T_C))
        t = np.asarray(t, dtype=float)
        return self.params.E_inf_MPa + np.sum(self.E * np.exp(-t[..., None] / (aT * self.tau)), axis=-1)

    def dynamic_moduli(self, frequency_Hz, T_C: float):
        """Storage and loss modulus E', E'' (MPa) at frequencies (Hz) and temperature T_C."""
        wt = 2.0 * np.pi * np.asarray(frequency_Hz, dtype=float)[..., None] * float(self.shift.aT(T_C)) * self.tau
        storage = self.params.E_inf_MPa + np.sum(self.E * wt**2 / (1.0 + wt**2), axis=-1)
        loss = np.sum(self.E * wt / (1.0 + wt**2), axis=-1)
        return storage, loss

    # --- the solver's interface --------------------------------------------------------------------
    def state_fields_for(self, n_components: int = 4) -> dict:
        """The declared state for strain vectors of 4 (2D) or 6 (3D) components."""
        # h: the branch stresses' history variables per Prony term; eps_m: the last mechanical strain
        return {**reported(n_components), "h": (self.E.size, n_components), "eps_m": (n_components,)}

    @property
    def state_fields(self) -> dict:
        """The 2D (4-component) declaration."""
        return self.state_fields_for(4)

    def initial_state(self, n: int, n_components: int = 4) -> dict:
        return make_state(self.state_fields_for(n_components), n)

    def effective_modulus(self, dxi: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Branch decay exp(-dxi/tau), weights E_i g_i and the algorithmic modulus over a reduced-time step."""
        x = dxi / self.tau
        decay = np.exp(-x)
        weight = self.E * _g(x)
        return decay, weight, self.params.E_inf_MPa + float(weight.sum())

    def _increment(self, dt: float, T0: float, T1: float):
        """dxi and :meth:`effective_modulus` of an increment; the last one is kept (the solver's iterations
        and worker threads evaluate the same increment many times)."""
        key = (float(dt), float(T0), float(T1))
        memo = self._memo
        if memo is not None and memo[0] == key:
            return memo[1]
        dxi = self.shift.reduced_time(dt, T0, T1)
        out = (dxi,) + self.effective_modulus(dxi)
        self._memo = (key, out)
        return out

    def update(self, eps: np.ndarray, T_C: float, dt: float, state: dict, eps_th: np.ndarray, stress_n=None,
               lazy_tangent: bool = False, dp_guess=None, T_prev_C: float | None = None):
        """Stress (n, c), consistent tangent (n, c, c) and the new state at the end of the increment.

        ``eps``, ``eps_th``: total and thermal strain (n, c) or (c,), c = 4 or 6 (module docstring);
        ``state`` made for the same c.
        """
        del dp_guess  # linear: nothing to iterate
        n, c = eps.shape[0], j2.components(eps)
        check_state(state, c)
        T0 = T_C if T_prev_C is None else T_prev_C
        _, decay, weight, E_alg = self._increment(dt, T0, T_C)
        eps_m = eps - eps_th
        ds = j2.elastic_stress(eps_m - state["eps_m"], self.G1, self.K1)  # D1 : d eps_m
        h = decay[None, :, None] * state["h"] + weight[None, :, None] * ds[:, None, :]
        sig = self.params.E_inf_MPa * j2.elastic_stress(eps_m, self.G1, self.K1) + h.sum(axis=1)
        C = LinearTangent(E_alg * self._D1[c], n)
        C = C if lazy_tangent else np.array(C())
        eps_v = eps_m - compliance_strain(sig, self.params.E_glassy_MPa, self.params.nu)
        d_eps_v = eps_v - state["eps_p"]
        dev = j2.deviator(j2.tensorial(d_eps_v))  # tensor components
        dp = np.sqrt(2.0 / 3.0 * j2.contract(dev))
        sig_n = stress_n if stress_n is not None else sig
        new = {"h": h, "eps_m": eps_m, "eps_p": eps_v, "p": state["p"] + dp,
               "W": state["W"] + 0.5 * np.einsum("ni,ni->n", sig_n + sig, d_eps_v)}
        return sig, C, new
