"""Material-point driver: uniaxial, creep, relaxation and DMA tests with the solver's own code.

One material point under uniaxial stress (sigma_yy = sigma_zz = tau = 0 for
strain control; sigma_xx held for creep) at a constant temperature.  Mixed
strain/stress control is enforced by a local Newton iteration on the unknown
strain components with the model's consistent tangent, so what is tested is
exactly the ``update`` the finite-element solver calls.

``dma`` (:func:`run_dma`) drives a sinusoidal uniaxial strain through the
same update at each frequency and temperature and takes the storage and loss
modulus from the first Fourier coefficients of the stress over the last
cycle; for a viscoelastic material the closed forms of its Prony series go
alongside as a check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError
from .models import inelastic_model
from .elastic3d import stiffness3d
from .state import REPORTED, equivalent_inelastic_strain, inelastic_strain, make_state, reported

XX, YY, ZZ, XY = 0, 1, 2, 3


class _Elastic:
    """A linear thermo-elastic point with the models' interface, on 4- (2D) or 6-component (3D) strains."""

    kind = "elastic"

    def __init__(self, elastic):
        self.elastic = elastic

    state_fields = REPORTED  # an elastic point keeps only the reported (zero) quantities

    def state_fields_for(self, n_components: int = 4) -> dict:
        return reported(n_components)

    def initial_state(self, n, n_components: int = 4):
        return make_state(self.state_fields_for(n_components), n)

    def update(self, eps, T_C, dt, state, eps_th, stress_n=None):
        c = eps.shape[-1]
        D = self.elastic.stiffness(T_C) if c == 4 else stiffness3d(self.elastic, T_C)
        D = np.broadcast_to(D, (eps.shape[0], c, c))
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
        out_ep.append(inelastic_strain(state)[0, XX])
        out_p.append(equivalent_inelastic_strain(state)[0])
    return PointHistory(np.array(out_t), np.array(out_e), np.array(out_s), np.array(out_ep), np.array(out_p), T_C)


@dataclass
class DMAResult:
    """Storage and loss modulus (MPa) from :func:`run_dma`, (n_T, n_f) arrays."""

    material: str
    temperatures_C: np.ndarray
    frequencies_Hz: np.ndarray
    storage_MPa: np.ndarray
    loss_MPa: np.ndarray
    storage_exact_MPa: np.ndarray | None = None  # the Prony series' closed form, if viscoelastic
    loss_exact_MPa: np.ndarray | None = None

    def csv(self) -> str:
        exact = self.storage_exact_MPa is not None
        head = "T_C,frequency_Hz,storage_MPa,loss_MPa,tan_delta"
        rows = [head + (",storage_exact_MPa,loss_exact_MPa" if exact else "")]
        for i, T in enumerate(self.temperatures_C):
            for j, f in enumerate(self.frequencies_Hz):
                Es, El = self.storage_MPa[i, j], self.loss_MPa[i, j]
                row = f"{T:g},{f:.6g},{Es:.9g},{El:.9g},{El / Es:.6g}"
                if exact:
                    row += f",{self.storage_exact_MPa[i, j]:.9g},{self.loss_exact_MPa[i, j]:.9g}"
                rows.append(row)
        return "\n".join(rows) + "\n"

    def plot(self, path, title: str) -> None:
        """E' and E'' against frequency, one colour per temperature (closed form dashed)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..io.files import atomic_save_figure

        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
        for i, T in enumerate(self.temperatures_C):
            line, = a1.loglog(self.frequencies_Hz, self.storage_MPa[i], "o-", ms=3, lw=1.4, label=f"{T:g} C")
            a2.loglog(self.frequencies_Hz, np.maximum(self.loss_MPa[i], 1e-300), "o-", ms=3, lw=1.4,
                      color=line.get_color())
            if self.storage_exact_MPa is not None:
                a1.loglog(self.frequencies_Hz, self.storage_exact_MPa[i], "--", lw=0.9, color=line.get_color())
                a2.loglog(self.frequencies_Hz, np.maximum(self.loss_exact_MPa[i], 1e-300), "--", lw=0.9,
                          color=line.get_color())
        a1.set_ylabel("storage modulus E' (MPa)")
        a2.set_ylabel("loss modulus E'' (MPa)")
        for a in (a1, a2):
            a.set_xlabel("frequency (Hz)")
            a.grid(alpha=0.3, which="both")
        a1.legend(fontsize=8)
        fig.suptitle(title + ("  (points: time-stepped update; dashed: Prony closed form)"
                              if self.storage_exact_MPa is not None else ""), fontsize=10)
        fig.tight_layout()
        atomic_save_figure(fig, path)
        plt.close(fig)


def dma_temperatures(material) -> list[float]:
    """Default DMA temperatures: the reference temperature -40, -20, 0, +20, +40 K (viscoelastic), else 25 C."""
    ve = getattr(material.spec, "viscoelastic", None)
    if ve is None:
        return [25.0]
    lo, hi = material.range_C
    return [float(np.clip(ve.reference_C + d, lo, hi)) for d in (-40.0, -20.0, 0.0, 20.0, 40.0)]


def run_dma(material, temperatures_C=None, frequencies_Hz=None, amplitude: float = 1e-4, cycles: int = 6,
            steps_per_cycle: int = 64) -> DMAResult:
    """Storage and loss modulus of a material point under eps_xx = A sin(2 pi f t), uniaxial stress.

    ``cycles`` cycles of ``steps_per_cycle`` increments each from rest; E' and E'' are
    2/(A N) sum sigma_k sin, cos over the N increments of the last cycle.  The increments
    see the strain piecewise linear in time, which costs ~(2 pi / N)^2 / 12 (0.08 % at
    N = 64) against the closed form.
    """
    model = point_model(material)
    temps = np.asarray(dma_temperatures(material) if temperatures_C is None else temperatures_C, dtype=float)
    freqs = np.asarray(np.logspace(-3, 3, 13) if frequencies_Hz is None else frequencies_Hz, dtype=float)
    Es = np.zeros((temps.size, freqs.size))
    El = np.zeros_like(Es)
    N = int(steps_per_cycle)
    phase = 2.0 * np.pi * np.arange(1, N + 1) / N
    for i, T in enumerate(temps):
        for j, f in enumerate(freqs):
            state = model.initial_state(1)
            eps, sig = np.zeros(4), np.zeros(4)
            dt = 1.0 / (f * N)
            last = np.zeros(N)
            for c in range(cycles):
                for k in range(N):
                    trial = eps.copy()
                    e_xx = amplitude * np.sin(phase[k])
                    # lateral strains scaled with the axial one: exact at once for a constant-nu material
                    trial[[YY, ZZ]] = eps[[YY, ZZ]] * (e_xx / eps[XX]) if abs(eps[XX]) > 1e-3 * amplitude \
                        else -0.3 * e_xx
                    trial[XX] = e_xx
                    eps, sig, state = _step(model, trial, [YY, ZZ], np.zeros(4), T, dt, state, sig)
                    if c == cycles - 1:
                        last[k] = sig[XX]
            Es[i, j] = 2.0 / (amplitude * N) * np.dot(last, np.sin(phase))
            El[i, j] = 2.0 / (amplitude * N) * np.dot(last, np.cos(phase))
    exact_s = exact_l = None
    if hasattr(model, "dynamic_moduli"):
        exact = [model.dynamic_moduli(freqs, T) for T in temps]
        exact_s = np.array([e[0] for e in exact])
        exact_l = np.array([e[1] for e in exact])
    return DMAResult(material.name, temps, freqs, Es, El, exact_s, exact_l)
