"""Warpage of a 3D quarter model's bottom surface, JEDEC JESD22-B112 (full surface) and centre line.

Input: the nodes of the package's bottom surface (the terminal side,
z = its lowest plane) and their vertical displacements u_z.  The quarter
(x >= 0, y >= 0, symmetry planes x = 0 and y = 0) is mirrored to the whole
surface before anything is fitted.

* ``warpage_um`` (full surface, JESD22-B112 / JEITA ED-7306): the
  best-fit plane w = a + b x + c y (least squares over the surface's nodes,
  i.e. the rigid rotation and translation) is removed; warpage = max - min
  of what remains, **signed + for convex** (the centre above the mean plane:
  the dome, "cry", package top up, balls down) and - for concave, the 2D
  convention of :mod:`reliability.analysis.warpage`.  On the mirrored
  quarter b = c = 0 by symmetry; the fit is kept so that a full model works
  unchanged.
* ``coplanarity_um``: max - min of the rotation-free surface (unsigned;
  without balls it is the surface's own flatness).
* ``warpage_centre_line_um``: centre minus mid-edge along y = 0, the
  number a section through the centre row reports.
* ``warpage_centre_to_corner_um``: centre minus corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Surface3D:
    """Rotation-free height of the full (mirrored) bottom surface: x, y, w (mm)."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    quarter_x: np.ndarray  # the quarter's own nodes (for plots)
    quarter_y: np.ndarray
    quarter_w: np.ndarray
    centre_line_um: float
    centre_to_corner_um: float

    @property
    def coplanarity_um(self) -> float:
        return 1e3 * float(self.w.max() - self.w.min())

    @property
    def warpage_um(self) -> float:
        """Signed full-surface warpage: + convex (centre above the mean plane), - concave."""
        centre = self.quarter_w[np.argmin(np.hypot(self.quarter_x, self.quarter_y))]
        sign = 1.0 if centre >= 0.5 * (self.w.max() + self.w.min()) else -1.0
        return sign * self.coplanarity_um


def bottom_surface(nodes: np.ndarray, u: np.ndarray, surface_nodes: np.ndarray, quarter: bool = True) -> Surface3D:
    """The rotation-free bottom surface of a quarter model (``quarter``) or a full model."""
    s = np.asarray(surface_nodes).ravel()
    s = np.unique(s)
    x, y, w = nodes[s, 0], nodes[s, 1], u[s, 2].astype(float)
    tol = 1e-9 * max(float(np.ptp(x)), float(np.ptp(y)), 1e-12)
    if quarter:
        # mirror to the full surface, each node once (those on a plane are their own mirror)
        keep_x, keep_y = x > tol, y > tol
        X = np.concatenate([x, -x[keep_x], x[keep_y], -x[keep_x & keep_y]])
        Y = np.concatenate([y, y[keep_x], -y[keep_y], -y[keep_x & keep_y]])
        W = np.concatenate([w, w[keep_x], w[keep_y], w[keep_x & keep_y]])
    else:
        X, Y, W = x, y, w
    A = np.column_stack([np.ones_like(X), X, Y])
    coef, *_ = np.linalg.lstsq(A, W, rcond=None)
    plane = lambda px, py: coef[0] + coef[1] * px + coef[2] * py  # noqa: E731
    Wr = W - plane(X, Y)
    wq = w - plane(x, y)
    cx, cy = (0.0, 0.0) if quarter else (0.5 * (x.min() + x.max()), 0.5 * (y.min() + y.max()))
    centre = wq[np.argmin(np.hypot(x - cx, y - cy))]
    on_line = np.flatnonzero(np.abs(y - (cy if not quarter else 0.0)) <= 1e3 * tol)
    edge = wq[on_line[np.argmax(x[on_line])]]
    corner = wq[np.argmax(x + y)]
    return Surface3D(x=X, y=Y, w=Wr, quarter_x=x, quarter_y=y, quarter_w=wq,
                     centre_line_um=1e3 * float(centre - edge), centre_to_corner_um=1e3 * float(centre - corner))
