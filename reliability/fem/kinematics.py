"""The four 2D kinematics as data: strain operators B and integration measures.

Every kinematics maps the element unknowns to the strain 4-vector
(xx, yy, zz, xy) at each quadrature point, ``eps = B u_e``, and gives the
measure ``w`` with which ``sigma . B du`` is integrated.  The solver never
branches on the kinematics; it only sees B, w and the extra global unknowns.

Element unknowns are ordered ``(u0x, u0y, u1x, u1y, ..., u5x, u5y, g...)``
where ``g`` are the global unknowns of the kinematics (three for generalized
plane strain, none otherwise).

plane_strain
    eps_zz = 0.  Stress sigma_zz follows from the material law.
plane_stress
    sigma_zz = 0, imposed by condensing the stiffness (:func:`condense_plane_stress`);
    eps_zz is recovered after the solve.  Valid for elastic materials only.
generalized_plane_strain
    eps_zz = e0 + e1*x + e2*y with (e0, e1, e2) global unknowns whose work
    conjugates are the out-of-plane force and the two bending moments; with
    no load on them the section carries zero net out-of-plane force and
    moments, so a square package bends about both axes (biaxial plate limit).
axisymmetric
    (r, z) = (x, y) about the axis x = 0; eps_zz slot holds the hoop strain
    u_r / r; the measure includes 2*pi*r, so reactions are for the full ring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import ElementGeometry

KINEMATICS = ("plane_strain", "plane_stress", "generalized_plane_strain", "axisymmetric")


@dataclass
class Kinematics:
    """Strain operator and measure of one kinematics on one mesh."""

    name: str
    B: np.ndarray  # (E, Q, 4, 12 + n_extra)
    w: np.ndarray  # (E, Q) integration measure, mm^2 (or mm^3 per full ring)
    n_extra: int  # global unknowns appended after the nodal ones

    @property
    def plane_stress(self) -> bool:
        return self.name == "plane_stress"


def make_kinematics(name: str, geo: ElementGeometry) -> Kinematics:
    """Build B and w for kinematics ``name`` on the element geometry ``geo``."""
    if name not in KINEMATICS:
        raise ValueError(f"unknown kinematics {name!r}")
    n_extra = 3 if name == "generalized_plane_strain" else 0
    E, Q = geo.dx.shape
    B = np.zeros((E, Q, 4, 12 + n_extra))
    gx, gy = geo.grad[..., 0], geo.grad[..., 1]  # (E, Q, 6)
    B[:, :, 0, 0:12:2] = gx  # eps_xx = dN/dx u_x
    B[:, :, 1, 1:12:2] = gy  # eps_yy = dN/dy u_y
    B[:, :, 3, 0:12:2] = gy  # gamma_xy = dN/dy u_x + dN/dx u_y
    B[:, :, 3, 1:12:2] = gx
    w = geo.dx
    if name == "generalized_plane_strain":
        B[:, :, 2, 12] = 1.0
        B[:, :, 2, 13] = geo.xq[..., 0]
        B[:, :, 2, 14] = geo.xq[..., 1]
    elif name == "axisymmetric":
        r = geo.xq[..., 0]
        B[:, :, 2, 0:12:2] = geo.N[None, :, :] / r[..., None]  # hoop strain u_r / r
        w = 2.0 * np.pi * r * geo.dx
    return Kinematics(name=name, B=B, w=np.ascontiguousarray(w), n_extra=n_extra)


def condense_plane_stress(D: np.ndarray) -> np.ndarray:
    """Stiffness with sigma_zz = 0 eliminated: D' = D - D[:, z] D[z, :] / D[z, z].

    Row and column zz of the result are zero, so ``D' (eps - eps_th)`` has
    sigma_zz = 0 whatever eps_zz is.  Works on stacks (..., 4, 4).
    """
    Dz = D[..., :, 2:3]
    return D - Dz * D[..., 2:3, :] / D[..., 2:3, 2:3]


def plane_stress_eps_zz(D: np.ndarray, eps: np.ndarray, eps_th: np.ndarray) -> np.ndarray:
    """Out-of-plane strain that makes sigma_zz = 0 (plane stress recovery).

    ``D`` (..., 4, 4) is the *uncondensed* stiffness; ``eps`` and ``eps_th``
    (..., 4) the total and thermal strains (eps_zz of ``eps`` is ignored).
    """
    e = eps - eps_th
    other = D[..., 2, 0] * e[..., 0] + D[..., 2, 1] * e[..., 1] + D[..., 2, 3] * e[..., 3]
    return eps_th[..., 2] - other / D[..., 2, 2]
