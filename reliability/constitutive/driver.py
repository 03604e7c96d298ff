"""Material-point driver: uniaxial, creep and relaxation tests with the solver's own code.

One material point under uniaxial stress (sigma_yy = sigma_zz = tau = 0 for
strain control; sigma_xx held for creep) at a constant temperature.  Mixed
strain/stress control is enforced by a local Newton iteration on the unknown
strain components with the model's consistent tangent, so what is tested is
exactly the ``update`` the finite-element solver calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError
from .models import inelastic_model

XX, YY, ZZ, XY = 0, 1, 2, 3


class _Elastic:
    kind = "elastic"

    def __init__(self, elastic):
        self.elastic = elastic

    def initial_state(self, n):
        return {"eps_p": np.zeros((n, 4)), "p": np.zeros(n), "W": np.zeros(n)}

    def update(self, eps, T_C, dt, state, eps_th, stress_n=None):
        D = np.broadcast_to(self.elastic.stiffness(T_C), (eps.shape[0], 4, 4))
        return np.einsum("nij,nj->ni", D, eps - eps_th), np.array(D), state


@dataclass
class PointHistory:
    time_s: np.ndarray
    strain: np.ndarray  # eps_xx
    stress_MPa: np.ndarray  # sigma_xx
    inelastic_strain: np.ndarray  # eps_p_xx
    equivalent_inelastic_strain: np.ndarray
    temperature_C: float

    def csv(self) -> str:
        rows = ["time_s,strain_xx,stress_MPa,inelastic_strain_xx,equivalent_inelastic_strain,temperature_C"]
        for t, e, s, ep, p in zip(self.time_s, self.strain, self.stress_MPa, self.inelastic_strain,
                                  self.equivalent_inelastic_strain):
            rows.append(f"{t:.9g},{e:.9g},{s:.9g},{ep:.9g},{p:.9g},{self.temperature_C:g}")
        return "\n".join(rows) + "\n"


def point_model(material):
    return inelastic_model(material) or _Elastic(material.elastic)


def _step(model, eps, free, target, T, dt, state, sig_n, tol=1e-10, max_iter=50):
    """Solve the free strain components so that sigma[free] = target[free]."""
    for _ in range(max_iter):
        sig, C, new = model.update(eps[None], T, dt, state, np.zeros(4), sig_n[None])
        r = sig[0, free] - target[free]
        if np.max(np.abs(r)) <= tol * max(1.0, np.max(np.abs(sig[0]))):
            return eps, sig[0], new
        eps = eps.copy()
        eps[free] -= np.linalg.solve(C[0][np.ix_(free, free)], r)
    raise ConvergenceError(f"material point did not converge at {T:g} C")


def run_test(material, test: str, T_C: float, strain_rate: float = 1e-3, strain: float = 0.3,
             stress: float = 20.0, duration: float | None = None, steps: int = 600) -> PointHistory:
    """Run 'uniaxial' (strain rate to a strain), 'creep' (hold a stress) or 'relaxation'.

    Units: strain rate 1/s, stress MPa, time s, temperature C.
    """
    model = point_model(material)
    state = model.initial_state(1)
    eps = np.zeros(4)
    sig = np.zeros(4)
    out_t, out_e, out_s, out_ep, out_p = [0.0], [0.0], [0.0], [0.0], [0.0]
    if test == "uniaxial":
        # fine steps through the elastic-plastic transition, then uniform
        knee = min(0.01, strain / 3)
        targets = np.unique(np.concatenate([np.linspace(0, knee, steps // 3 + 1), np.linspace(knee, strain, steps)]))
        times = targets / strain_rate
        free, target = [YY, ZZ], np.zeros(4)
        plan = [(t, e, free, target) for t, e in zip(times[1:], targets[1:])]
    elif test == "creep":
        duration = duration or 3600.0
        ramp = 1.0
        times = np.concatenate([np.linspace(0, ramp, 21)[1:], ramp + np.geomspace(1e-3, duration - ramp, steps)])
        plan = []
        for t in times:
            target = np.zeros(4)
            target[XX] = stress * min(t / ramp, 1.0)
            plan.append((t, None, [XX, YY, ZZ], target))
    elif test == "relaxation":
        duration = duration or 3600.0
        t_ramp = strain / strain_rate
        ramp_t = np.linspace(0, t_ramp, 51)[1:]
        hold_t = t_ramp + np.geomspace(1e-3, max(duration - t_ramp, 1.0), steps)
        plan = [(t, strain_rate * t, [YY, ZZ], np.zeros(4)) for t in ramp_t]
        plan += [(t, strain, [YY, ZZ], np.zeros(4)) for t in hold_t]
    else:
        raise ValueError(f"unknown test {test!r}")
    t_prev = 0.0
    for t, e_xx, free, target in plan:
        trial = eps.copy()
        if e_xx is not None:
            trial[XX] = e_xx
        eps, sig, state = _step(model, trial, free, target, T_C, t - t_prev, state, sig)
        t_prev = t
        out_t.append(t)
        out_e.append(eps[XX])
        out_s.append(sig[XX])
        out_ep.append(state["eps_p"][0, XX])
        out_p.append(state["p"][0])
    return PointHistory(np.array(out_t), np.array(out_e), np.array(out_s), np.array(out_ep), np.array(out_p), T_C)
