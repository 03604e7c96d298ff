"""Warpage of a named surface, in the JEDEC JESD22-B112 / JEITA ED-7306 sense.

The profile is the vertical displacement w(x) of the nodes of the warpage
surface (the terminal side of the package).  Sign convention (physics.md 5):
**positive = convex = centre higher than the edges with the package top up
(balls down)**, the "cry" / dome shape; negative = concave, "smile" / bowl.

* Full section: the rigid-body rotation is removed by subtracting the chord
  through the two ends; warpage = w(centre) - w(ends) with the centre at the
  middle of the surface's x-extent.
* Half section with a vertical symmetry line, or axisymmetric: the centre is
  the end on the symmetry line / axis; there is no rigid rotation to remove;
  warpage = w(centre) - w(edge).
* Coplanarity = max - min of the rotation-free profile (unsigned).

Warpage and coplanarity are reported in micrometres; the curvature of a
parabola fitted to the central half, d2w/dx2 in 1/mm, is reported for
verification (negative for a convex, positive-warpage shape).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from ..model import Model


@dataclass
class Profile:
    """A surface profile: undeformed x (mm) and rotation-free height w (mm)."""

    x: np.ndarray
    w: np.ndarray
    centre_x: float
    edge_x: float

    def height_at(self, x: float) -> float:
        return float(np.interp(x, self.x, self.w))

    @property
    def warpage_um(self) -> float:
        return 1e3 * (self.height_at(self.centre_x) - self.height_at(self.edge_x))

    @property
    def coplanarity_um(self) -> float:
        return 1e3 * float(self.w.max() - self.w.min())

    def curvature_per_mm(self, fraction: float = 0.5) -> float:
        """d2w/dx2 of a parabola fitted to the central ``fraction`` of the span."""
        half_span = abs(self.edge_x - self.centre_x)
        keep = np.abs(self.x - self.centre_x) <= fraction * half_span
        if np.count_nonzero(keep) < 3:
            keep = np.ones_like(self.x, dtype=bool)
        coeff = np.polyfit(self.x[keep] - self.centre_x, self.w[keep], 2)
        return 2.0 * float(coeff[0])


def surface_profile(
    model: Model, u: np.ndarray, surface: str, centre_at_x: float | None = None
) -> Profile:
    """Rotation-free profile of ``surface`` for nodal displacements ``u`` (N, 2).

    ``centre_at_x``: x of a vertical symmetry line or axis (half model); ``None``
    for a full section.
    """
    if surface not in model.boundaries:
        raise CaseError(
            f"warpage surface '{surface}' is not a named line of the mesh; "
            f"lines: {', '.join(sorted(model.boundaries)) or 'none'}"
        )
    nodes = model.boundary_nodes(surface)
    order = np.argsort(model.nodes[nodes, 0])
    nodes = nodes[order]
    x = model.nodes[nodes, 0]
    w = u[nodes, 1].copy()
    if np.ptp(x) <= 0:
        raise CaseError(f"warpage surface '{surface}' has no extent in x")
    if centre_at_x is None:
        chord = w[0] + (w[-1] - w[0]) * (x - x[0]) / (x[-1] - x[0])
        w -= chord
        return Profile(x=x, w=w, centre_x=0.5 * (x[0] + x[-1]), edge_x=float(x[0]))
    near_first = abs(x[0] - centre_at_x) <= abs(x[-1] - centre_at_x)
    centre, edge = (x[0], x[-1]) if near_first else (x[-1], x[0])
    return Profile(x=x, w=w, centre_x=float(centre), edge_x=float(edge))


def active_surface_profile(model: Model, u: np.ndarray, surface: str, centre_at_x: float | None,
                           active_nodes: np.ndarray, bins: int = 400) -> Profile:
    """The profile of ``surface``, or, while part of it is not yet built (a process step before the
    solder mask), of the lowest built node in each of ``bins`` columns over the surface's x-extent.

    Warpage is a difference of vertical displacements, so taking the next layer up where the surface
    layer is missing measures the same bending (the layer in between is thin).
    """
    nodes = model.boundary_nodes(surface)
    if active_nodes[nodes].all():
        return surface_profile(model, u, surface, centre_at_x)
    x_all = model.nodes[:, 0]
    lo, hi = x_all[nodes].min(), x_all[nodes].max()
    cand = np.flatnonzero(active_nodes & (x_all >= lo - 1e-12) & (x_all <= hi + 1e-12))
    col = np.minimum(((x_all[cand] - lo) / (hi - lo) * bins).astype(int), bins - 1)
    order = np.lexsort((model.nodes[cand, 1], col))  # by column, lowest first
    first = np.r_[True, np.diff(col[order]) != 0]
    pick = cand[order][first]
    pick = pick[np.argsort(x_all[pick])]
    x, w = x_all[pick], u[pick, 1].copy()
    if centre_at_x is None:
        w -= w[0] + (w[-1] - w[0]) * (x - x[0]) / (x[-1] - x[0])
        return Profile(x=x, w=w, centre_x=0.5 * (x[0] + x[-1]), edge_x=float(x[0]))
    near_first = abs(x[0] - centre_at_x) <= abs(x[-1] - centre_at_x)
    centre, edge = (x[0], x[-1]) if near_first else (x[-1], x[0])
    return Profile(x=x, w=w, centre_x=float(centre), edge_x=float(edge))
