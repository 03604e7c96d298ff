"""Time-temperature shift factors a_T of a thermorheologically simple polymer.

A relaxation time tau at the reference temperature becomes a_T(T) tau at T;
the reduced (material) time is

    xi(t) = int_0^t dt' / a_T(T(t')).

Three laws, each with log10 a_T(T_ref) = 0 and a_T falling as T rises:

* WLF:        log10 a_T = -C1 (T - T_ref) / (C2 + T - T_ref)   (C2 in K)
              It diverges at T = T_ref - C2; below T_ref it may hand over to
              an Arrhenius law (``Ea_below_J_per_mol``), the split that
              physics.md 1.3 describes (WLF above, Arrhenius below).
* Arrhenius:  ln a_T = (Ea / R) (1/T - 1/T_ref), temperatures in K.
* table:      log10 a_T tabulated against T (degrees C), linear between
              points, no extrapolation (like every material table).

:meth:`Shift.reduced_time` integrates 1/a_T over an increment in which the
temperature is linear in time: composite 4-point Gauss-Legendre on
sub-intervals that each span at most 0.25 decades of a_T, so the integral
is exact to ~1e-9 relative however fast a_T changes across the increment
(the trapezoid rule is 41 % high over one decade of a_T, and a factor 5 over
the 60 K, five-decade ramp of tests/test_viscoelastic.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MaterialError

R_J_PER_MOL_K = 8.314462618
KELVIN = 273.15
LN10 = np.log(10.0)
DECADES_PER_SUBINTERVAL = 0.25
MAX_SUBINTERVALS = 2000
_GL_X, _GL_W = np.polynomial.legendre.leggauss(4)


class Shift:
    """Base: ``log10_aT(T_C)`` (vectorised) and the reduced-time increment."""

    owner: str = ""
    reference_C: float = 0.0

    def log10_aT(self, T_C):  # pragma: no cover - abstract
        raise NotImplementedError

    def aT(self, T_C):
        return 10.0 ** self.log10_aT(T_C)

    def reduced_time(self, dt: float, T0_C: float, T1_C: float) -> float:
        """int_0^dt dt' / a_T(T(t')) with T linear from T0_C to T1_C over dt (s)."""
        if dt <= 0.0:
            return 0.0
        l0, l1 = self.log10_aT(np.array([T0_C, T1_C], dtype=float))
        if T0_C == T1_C:
            return dt * 10.0 ** (-l0)
        n = int(min(MAX_SUBINTERVALS, max(1, np.ceil(abs(l1 - l0) / DECADES_PER_SUBINTERVAL))))
        edges = np.linspace(0.0, 1.0, n + 1)
        mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
        s = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()  # fraction of the increment
        w = (half[:, None] * _GL_W[None, :]).ravel()
        la = self.log10_aT(T0_C + (T1_C - T0_C) * s)
        return float(dt * np.dot(w, 10.0 ** (-la)))

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class WLF(Shift):
    C1: float
    C2_K: float
    reference_C: float
    Ea_below_J_per_mol: float | None = None
    owner: str = ""

    def log10_aT(self, T_C):
        T = np.asarray(T_C, dtype=float)
        d = T - self.reference_C
        if self.Ea_below_J_per_mol is not None:
            below = d < 0.0
            Tk, Tr = T + KELVIN, self.reference_C + KELVIN
            arr = self.Ea_below_J_per_mol / R_J_PER_MOL_K * (1.0 / Tk - 1.0 / Tr) / LN10
            with np.errstate(divide="ignore", invalid="ignore"):
                wlf = -self.C1 * d / (self.C2_K + d)
            return np.where(below, arr, wlf)
        if np.any(self.C2_K + d <= 0.0):
            t = float(np.atleast_1d(T)[np.atleast_1d(self.C2_K + d <= 0.0)][0])
            raise MaterialError(
                f"material '{self.owner}': the WLF shift diverges at {t:g} C (at or below reference_C - C2_K = "
                f"{self.reference_C - self.C2_K:g} C); add Ea_below_J_per_mol for an Arrhenius law below reference_C")
        return -self.C1 * d / (self.C2_K + d)

    def describe(self) -> str:
        below = (f", Arrhenius below with Ea = {self.Ea_below_J_per_mol:g} J/mol"
                 if self.Ea_below_J_per_mol is not None else "")
        return f"WLF C1 = {self.C1:g}, C2 = {self.C2_K:g} K about {self.reference_C:g} C{below}"


@dataclass
class Arrhenius(Shift):
    Ea_J_per_mol: float
    reference_C: float
    owner: str = ""

    def log10_aT(self, T_C):
        T = np.asarray(T_C, dtype=float) + KELVIN
        if np.any(T <= 0.0):
            raise MaterialError(f"material '{self.owner}': temperature below absolute zero in the Arrhenius shift")
        return self.Ea_J_per_mol / R_J_PER_MOL_K * (1.0 / T - 1.0 / (self.reference_C + KELVIN)) / LN10

    def describe(self) -> str:
        return f"Arrhenius Ea = {self.Ea_J_per_mol:g} J/mol about {self.reference_C:g} C"


@dataclass
class TableShift(Shift):
    T_C: np.ndarray
    values: np.ndarray  # log10 a_T
    reference_C: float
    owner: str = ""

    def log10_aT(self, T_C):
        T = np.asarray(T_C, dtype=float)
        lo, hi = float(self.T_C[0]), float(self.T_C[-1])
        bad = (T < lo - 1e-9) | (T > hi + 1e-9)
        if np.any(bad):
            t = float(np.atleast_1d(T)[np.atleast_1d(bad)][0])
            raise MaterialError(f"temperature {t:g} C is outside the data of material '{self.owner}' for "
                                f"viscoelastic.shift ({lo:g} to {hi:g} C)")
        return np.interp(T, self.T_C, self.values)

    def describe(self) -> str:
        return (f"table of log10 a_T, {self.T_C[0]:g} to {self.T_C[-1]:g} C "
                f"({self.values[0]:+.3g} to {self.values[-1]:+.3g})")


def make_shift(spec, reference_C: float, owner: str) -> Shift:
    """A :class:`Shift` from a validated ``viscoelastic.shift`` spec (see :mod:`reliability.material`)."""
    if spec.model == "wlf":
        return WLF(spec.C1, spec.C2_K, reference_C, spec.Ea_below_J_per_mol, owner)
    if spec.model == "arrhenius":
        return Arrhenius(spec.Ea_J_per_mol, reference_C, owner)
    return TableShift(np.asarray(spec.T_C, float), np.asarray(spec.log10_aT, float), reference_C, owner)
