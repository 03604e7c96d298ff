"""The reflowed solder ball: a truncated sphere between two parallel pads.

With the body weight neglected, molten solder wetting two circular pads of
radii a1 (top, package side) and a2 (bottom, board side) takes the shape of a
sphere cut by the two pad planes (geometry.md, "Reflowed ball").  Its volume
with height (stand-off) h is

    V(h) = (pi h / 6) (3 a1^2 + 3 a2^2 + h^2),

monotonic in h, so the stand-off follows uniquely from the ball volume
V = pi d^3 / 6 of a ball of diameter d.  The sphere's centre lies
z1 = (a2^2 - a1^2 + h^2) / (2 h) below the top plane and its radius is
R = sqrt(a1^2 + z1^2).  In a 2D section through the ball centre the joint is
the circle of radius R between the two chords.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


from ..errors import GeometryError


def truncated_sphere_volume(a1: float, a2: float, h: float) -> float:
    """Volume (mm^3) of a sphere slice of height h between circles of radii a1, a2."""
    return math.pi * h / 6.0 * (3 * a1**2 + 3 * a2**2 + h**2)


@dataclass(frozen=True)
class TruncatedSphere:
    """A reflowed joint; lengths in mm, y up, top plane at ``y_top``."""

    a1: float  # top (package-side) contact radius
    a2: float  # bottom (board-side) contact radius
    h: float  # stand-off (height between the planes)
    R: float  # sphere radius
    z1: float  # distance from the top plane down to the sphere centre
    volume: float

    @property
    def max_width(self) -> float:
        """Widest section: 2R if the equator lies between the planes."""
        if 0.0 <= self.z1 <= self.h:
            return 2.0 * self.R
        return 2.0 * max(self.a1, self.a2)

    def half_width_at(self, depth: float) -> float:
        """Half-width of the section at ``depth`` below the top plane."""
        return math.sqrt(max(self.R**2 - (self.z1 - depth) ** 2, 0.0))

    def section_area(self, depth0: float = 0.0, depth1: float | None = None) -> float:
        """Area (mm^2) of the 2D section through the centre between two depths below the top plane.

        Defaults to the whole joint (depth 0 to h).
        """
        depth1 = self.h if depth1 is None else depth1

        def F(y):  # antiderivative of 2 sqrt(R^2 - y^2), y up from the centre
            y = max(-self.R, min(self.R, y))
            return y * math.sqrt(self.R**2 - y**2) + self.R**2 * math.asin(y / self.R)

        return F(self.z1 - depth0) - F(self.z1 - depth1)


def ball_from_volume(volume: float, a1: float, a2: float) -> TruncatedSphere:
    """Joint shape for a solder volume (mm^3) wetting pads of radii a1, a2 (mm)."""
    if volume <= 0 or a1 <= 0 or a2 <= 0:
        raise GeometryError("ball volume and pad radii must be positive")
    hi = 2.0 * (3.0 * volume / (4.0 * math.pi)) ** (1 / 3) * 1.01
    from scipy.optimize import brentq  # 0.3 s of import: only where a ball is sized

    h = brentq(lambda x: truncated_sphere_volume(a1, a2, x) - volume, 1e-12, hi, xtol=1e-15, rtol=1e-14)
    return ball_from_standoff(h, a1, a2)


def ball_from_standoff(h: float, a1: float, a2: float) -> TruncatedSphere:
    """Joint shape for a given stand-off h and pad radii (the volume follows)."""
    if h <= 0:
        raise GeometryError(f"stand-off {h:g} mm must be positive")
    z1 = (a2**2 - a1**2 + h**2) / (2.0 * h)
    R = math.sqrt(a1**2 + z1**2)
    return TruncatedSphere(a1=a1, a2=a2, h=h, R=R, z1=z1, volume=truncated_sphere_volume(a1, a2, h))


def ball_joint(diameter: float, a1: float, a2: float, standoff: float | None = None) -> TruncatedSphere:
    """The joint of a ball of ``diameter`` (mm); an explicit ``standoff`` overrides the volume.

    A stand-off is reachable only below the free ball's diameter: the pads
    spread the solder, so the joint is always lower than the ball was.
    """
    if standoff is None:
        return ball_from_volume(math.pi * diameter**3 / 6.0, a1, a2)
    if standoff >= diameter:
        raise GeometryError(
            f"stand-off {standoff:g} mm cannot be reached by a ball of diameter {diameter:g} mm "
            f"(must be below the diameter)"
        )
    return ball_from_standoff(standoff, a1, a2)
