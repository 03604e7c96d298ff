"""Shape-function gradients and integration weights of a model's 6-node triangles.

scikit-fem does the geometry: a ``MeshTri2`` (isoparametric, so curved ball
surfaces are represented to second order) and a ``CellBasis`` of ``ElementTriP2``
give, for every element and quadrature point, the physical gradients of the
six shape functions and the area measure.  They are computed once per mesh
and reused by every assembly.

skfem's local P2 numbering (corners, then edges 0-1, 1-2, 0-2) is the
triangle6 order of gmsh/meshio, so the gradients line up with
``Model.elements`` column by column; ``tests/test_fem_geometry.py`` checks it
by differentiating a linear field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skfem import CellBasis, ElementTriP2, MeshTri2

from ..model import Model

# 3-point rule: exact for the P2 x P2 gradient products of straight-sided
# triangles, the same count as Abaqus/CalculiX CPE6 and CAX6.
QUADRATURE_ORDER = 2


@dataclass
class ElementGeometry:
    """Per-element, per-quadrature-point geometry (arrays shaped (E, Q, ...)).

    Attributes
    ----------
    N : (Q, 6)
        Shape function values at the quadrature points (same for all elements).
    grad : (E, Q, 6, 2)
        Physical gradients dN_a/dx, dN_a/dy, 1/mm.
    xq : (E, Q, 2)
        Coordinates of the quadrature points, mm.
    dx : (E, Q)
        Area measure |det J| * weight, mm^2 (no 2*pi*r factor).
    """

    N: np.ndarray
    grad: np.ndarray
    xq: np.ndarray
    dx: np.ndarray

    @property
    def n_qp(self) -> int:
        return self.dx.shape[1]


def element_geometry(model: Model, intorder: int = QUADRATURE_ORDER) -> ElementGeometry:
    """Geometry of all elements of ``model``, computed once and cached on it."""
    cached = model.__dict__.get("_geometry_cache")
    if cached is not None and cached[0] == intorder:
        return cached[1]
    mesh = MeshTri2(np.ascontiguousarray(model.nodes.T), np.ascontiguousarray(model.elements.T))
    basis = CellBasis(mesh, ElementTriP2(), intorder=intorder, disable_doflocs=True)
    grad = np.stack([basis.basis[a][0].grad for a in range(6)], axis=0)  # (6, 2, E, Q)
    grad = np.ascontiguousarray(grad.transpose(2, 3, 0, 1))
    N = np.stack([np.asarray(basis.basis[a][0])[0] for a in range(6)], axis=1)  # (Q, 6)
    xq = np.ascontiguousarray(np.asarray(basis.global_coordinates()).transpose(1, 2, 0))
    geo = ElementGeometry(N=N, grad=grad, xq=xq, dx=np.ascontiguousarray(basis.dx))
    model.__dict__["_geometry_cache"] = (intorder, geo)
    return geo
