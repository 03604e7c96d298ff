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
    """Strain operator and measure of one kinematics on one mesh.

    ``B`` (E, Q, 4, 12 + n_extra) is built from the shape-function gradients
    on first use and kept; :meth:`operator` builds it for a chunk of
    elements only, for a one-shot pass over a large mesh (at a million
    unknowns the whole B is 287 MiB, four times the gradients it comes from).
    """

    name: str
    geo: ElementGeometry
    w: np.ndarray  # (E, Q) integration measure, mm^2 (or mm^3 per full ring)
    n_extra: int  # global unknowns appended after the nodal ones
    _B: np.ndarray | None = None

    @property
    def plane_stress(self) -> bool:
        return self.name == "plane_stress"

    @property
    def B(self) -> np.ndarray:
        if self._B is None:
            self._B = self.operator()
        return self._B

    def operator(self, sel=slice(None)) -> np.ndarray:
        """B of the elements ``sel`` (a slice or index array), shape (n_sel, Q, 4, 12 + n_extra)."""
        if self._B is not None:
            return self._B[sel]
        grad = self.geo.grad[sel]
        E, Q = grad.shape[:2]
        B = np.zeros((E, Q, 4, 12 + self.n_extra))
        gx, gy = grad[..., 0], grad[..., 1]  # (E, Q, 6)
        B[:, :, 0, 0:12:2] = gx  # eps_xx = dN/dx u_x
        B[:, :, 1, 1:12:2] = gy  # eps_yy = dN/dy u_y
        B[:, :, 3, 0:12:2] = gy  # gamma_xy = dN/dy u_x + dN/dx u_y
        B[:, :, 3, 1:12:2] = gx
        if self.name == "generalized_plane_strain":
            xq = self.geo.xq[sel]
            B[:, :, 2, 12] = 1.0
            B[:, :, 2, 13] = xq[..., 0]
            B[:, :, 2, 14] = xq[..., 1]
        elif self.name == "axisymmetric":
            r = self.geo.xq[sel][..., 0]
            B[:, :, 2, 0:12:2] = self.geo.N[None, :, :] / r[..., None]  # hoop strain u_r / r
        return B

    def nodal_gradients(self, sel=slice(None)) -> np.ndarray:
        """Per-node strain gradients of the elements ``sel``, (n_sel, Q, 6, R).

        R = 2 (d/dx, d/dy) in plane strain and plane stress, R = 3 with the
        hoop term N/r in axisymmetry: the entries of B, which row
        :data:`STRAIN_ROWS` says.  Not defined with global unknowns.
        """
        if self.n_extra:
            raise ValueError(f"{self.name}: strain gradients per node are not all of B")
        grad = self.geo.grad[sel]
        if self.name != "axisymmetric":
            return grad
        r = self.geo.xq[sel][..., 0]
        return np.concatenate((grad, (self.geo.N[None, :, :] / r[..., None])[..., None]), axis=-1)


# STRAIN_ROWS[i][k, r] = 1: strain row k (xx, yy, zz, xy) of displacement component i gets gradient r
# (d/dx, d/dy, N/r): B[k, 2a + i] = sum_r STRAIN_ROWS[i][k, r] g_a[r]
STRAIN_ROWS = np.zeros((2, 4, 3))
STRAIN_ROWS[0, 0, 0] = STRAIN_ROWS[0, 3, 1] = STRAIN_ROWS[0, 2, 2] = 1.0  # u_x: xx <- d/dx, xy <- d/dy, zz <- N/r
STRAIN_ROWS[1, 1, 1] = STRAIN_ROWS[1, 3, 0] = 1.0  # u_y: yy <- d/dy, xy <- d/dx


def make_kinematics(name: str, geo: ElementGeometry) -> Kinematics:
    """Kinematics ``name`` on the element geometry ``geo`` (B built when first needed)."""
    if name not in KINEMATICS:
        raise ValueError(f"unknown kinematics {name!r}")
    n_extra = 3 if name == "generalized_plane_strain" else 0
    w = geo.dx
    if name == "axisymmetric":
        w = 2.0 * np.pi * geo.xq[..., 0] * geo.dx
    return Kinematics(name=name, geo=geo, w=np.ascontiguousarray(w), n_extra=n_extra)


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
