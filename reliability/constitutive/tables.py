"""Temperature-dependent material properties.

A property is either a constant or a table ``{T_C = [...], value = [...]}``
interpolated linearly in temperature (degrees C).  Outside a table's range the
property is *not* extrapolated: asking for it raises :class:`MaterialError`
naming the material, the property and the range, because silently holding the
end value through a glass transition is how warpage predictions go wrong.
"""

from __future__ import annotations

import numpy as np

from ..errors import MaterialError

# Temperatures are user numbers; a hair of round-off at a table end is not an
# excursion outside the data.
_RANGE_TOL_C = 1e-9


class Table:
    """A scalar property ``p(T)``; ``T`` in degrees C.

    Parameters
    ----------
    owner, key
        Material name and property key, used only in error messages.
    value
        A number, or the values at the table temperatures.
    T_C
        Strictly increasing table temperatures (degrees C), or ``None`` for a
        constant.
    """

    def __init__(self, owner: str, key: str, value, T_C=None):
        self.owner = owner
        self.key = key
        if T_C is None:
            self.T_C = None
            self.values = np.array([float(value)])
        else:
            self.T_C = np.asarray(T_C, dtype=float)
            self.values = np.asarray(value, dtype=float)
            if self.T_C.ndim != 1 or self.T_C.shape != self.values.shape or self.T_C.size < 2:
                raise MaterialError(
                    f"material '{owner}': {key} table needs T_C and value lists of equal length >= 2"
                )
            if np.any(np.diff(self.T_C) <= 0):
                raise MaterialError(f"material '{owner}': {key} table T_C must increase strictly")

    @property
    def constant(self) -> bool:
        return self.T_C is None or bool(np.all(self.values == self.values[0]))

    @property
    def range_C(self) -> tuple[float, float]:
        if self.T_C is None:
            return (-np.inf, np.inf)
        return (float(self.T_C[0]), float(self.T_C[-1]))

    def check(self, T) -> None:
        """Raise :class:`MaterialError` if any ``T`` lies outside the data."""
        if self.T_C is None:
            return
        T = np.asarray(T, dtype=float)
        lo, hi = self.range_C
        bad = (T < lo - _RANGE_TOL_C) | (T > hi + _RANGE_TOL_C)
        if np.any(bad):
            t = float(np.atleast_1d(T)[np.atleast_1d(bad)][0])
            raise MaterialError(
                f"temperature {t:g} C is outside the data of material '{self.owner}' "
                f"for {self.key} ({lo:g} to {hi:g} C)"
            )

    def __call__(self, T):
        """Value at temperature(s) ``T`` (degrees C)."""
        if self.T_C is None:
            return np.full(np.shape(T), self.values[0]) if np.ndim(T) else float(self.values[0])
        self.check(T)
        out = np.interp(T, self.T_C, self.values)
        return out if np.ndim(T) else float(out)

    def integral(self, T_from: float, T_to: float) -> float:
        """Exact integral of the piecewise-linear property from ``T_from`` to ``T_to``.

        Used for the thermal strain ``eps_th(T) = int_{T_ref}^{T} alpha(T') dT'``
        with alpha the *instantaneous* (tangent) coefficient of expansion.
        """
        if self.T_C is None:
            return float(self.values[0]) * (T_to - T_from)
        self.check([T_from, T_to])
        return self._antiderivative(T_to) - self._antiderivative(T_from)

    def _antiderivative(self, T: float) -> float:
        # cumulative trapezoids of the linear segments up to T
        x, y = self.T_C, self.values
        k = int(np.clip(np.searchsorted(x, T) - 1, 0, x.size - 2))
        seg = np.concatenate(([0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))))
        yT = np.interp(T, x, y)
        return float(seg[k] + 0.5 * (y[k] + yT) * (T - x[k]))

    def describe(self) -> str:
        if self.T_C is None:
            return f"{self.values[0]:g}"
        pairs = ", ".join(f"{t:g}:{v:g}" for t, v in zip(self.T_C, self.values))
        return f"table (T_C:value) {pairs}"
