"""Shape-function gradients and integration weights of 10-node tetrahedra (the 3D path).

The reference element is scikit-fem's ``ElementTetP2`` and the quadrature
rule scikit-fem's on ``RefTet`` (order 2: 4 points, exact for the P1 x P1
gradient products of straight-sided P2 tetrahedra, the same point count as
CalculiX/Abaqus C3D10).  The isoparametric map is evaluated here, vectorised
over (elements, quadrature points) exactly as :mod:`reliability.fem.geometry`
does for the 6-node triangle: J = sum_a x_a (x) dN_a/dxi, physical gradients
dN/dx = dN/dxi J^-1, volume measure |det J| w.

Local node order (skfem's, read from ``ElementTetP2().doflocs``): corners
0-3, then the mid-edge nodes of edges 0-1, 1-2, 0-2, 0-3, 1-3, 2-3.  This is
the VTK ``tetra10`` and the CalculiX/Abaqus C3D10 order; gmsh's order differs
in the last two (its node 8 is on edge 2-3, node 9 on edge 1-3), which
:mod:`reliability.geometry.quarter3d` permutes.

A 3D model is a :class:`~reliability.model.Model` with (N, 3) nodes and
(E, 10) elements; coordinates x, y in the package plane, z vertical (package
top up), unlike the 2D sections' (x, y).
"""

from __future__ import annotations

import weakref
from functools import lru_cache

import numpy as np
from skfem import ElementTetP2
from skfem.quadrature import get_quadrature
from skfem.refdom import RefTet

from ..model import Model
from .geometry import ElementGeometry

QUADRATURE_ORDER = 2
# the mid-edge nodes 4..9 of the local order: the corner pair of each edge
TET10_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])


@lru_cache(maxsize=8)
def reference(intorder: int = QUADRATURE_ORDER):
    """Quadrature points/weights and P2 tetrahedron values (Q, 10) and reference gradients (Q, 10, 3)."""
    X, W = get_quadrature(RefTet, intorder)
    element = ElementTetP2()
    assert np.allclose(element.doflocs[4:], 0.5 * (element.doflocs[TET10_EDGES[:, 0]]
                                                    + element.doflocs[TET10_EDGES[:, 1]]))
    N = np.empty((X.shape[1], 10))
    dN = np.empty((X.shape[1], 10, 3))
    for a in range(10):  # the 10 reference functions, once per process (not a loop over elements)
        phi, dphi = element.lbasis(X, a)
        N[:, a] = phi
        dN[:, a, :] = dphi.T
    return X, W, N, dN


_CACHE: dict[int, tuple[int, np.ndarray, np.ndarray, ElementGeometry]] = {}


def element_geometry3d(model: Model, intorder: int = QUADRATURE_ORDER) -> ElementGeometry:
    """Geometry of all tetrahedra of ``model``: N (Q, 10), grad (E, Q, 10, 3), xq (E, Q, 3), dx (E, Q) mm^3.

    Computed once per model and cached (as the 2D :func:`~reliability.fem.geometry.element_geometry`).
    """
    cached = _CACHE.get(id(model))
    if cached is not None and cached[0] == intorder and cached[1] is model.nodes and cached[2] is model.elements:
        return cached[3]
    _, W, N, dN = reference(intorder)
    x = model.nodes[model.elements]  # (E, 10, 3)
    J = np.tensordot(x, dN, axes=([1], [1])).transpose(0, 2, 1, 3)  # (E, Q, 3, 3): J[i, j] = dx_i / dxi_j
    det = np.linalg.det(J)
    if np.any(np.abs(det) <= 1e-300):
        raise ValueError("degenerate tetrahedron (zero volume)")
    Jinv = np.linalg.inv(J)
    grad = np.einsum("qak,eqkj->eqaj", dN, Jinv, optimize=True)
    xq = np.einsum("qa,eai->eqi", N, x, optimize=True)
    geo = ElementGeometry(N=N, grad=np.ascontiguousarray(grad), xq=np.ascontiguousarray(xq),
                          dx=np.abs(det) * W[None, :])
    if id(model) not in _CACHE:
        weakref.finalize(model, _CACHE.pop, id(model), None)
    _CACHE[id(model)] = (intorder, model.nodes, model.elements, geo)
    return geo


def element_volumes(model: Model) -> np.ndarray:
    """Volumes of the 10-node tetrahedra, mm^3."""
    return element_geometry3d(model).dx.sum(axis=1)


def signed_corner_volumes(nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Signed volumes of the corner tetrahedra (positive: corners 1, 2, 3 counter-clockwise seen from 0)."""
    p = nodes[elements[:, :4]]
    a, b, c = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]
    return np.einsum("ei,ei->e", a, np.cross(b, c)) / 6.0


def orient_positive(nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Tetrahedra (local order of this module) renumbered to positive volume: corners 1 and 2 swapped,
    with their mid-edge nodes (0-1 <-> 0-2, 1-3 <-> 2-3), where the volume is negative."""
    el = np.array(elements, copy=True)
    neg = signed_corner_volumes(nodes, el) < 0
    el[np.ix_(neg, [1, 2, 4, 6, 8, 9])] = el[np.ix_(neg, [2, 1, 6, 4, 9, 8])]
    return el


def add_mid_nodes(nodes: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight 10-node tetrahedra from 4-node ones: one node at the middle of every distinct edge.

    Returns (nodes (N + n_edges, 3), elements (E, 10)) in the local order of this module.
    """
    E = corners.shape[0]
    pairs = np.sort(corners[:, TET10_EDGES], axis=2).reshape(-1, 2)  # (E * 6, 2)
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    mid = 0.5 * (nodes[unique[:, 0]] + nodes[unique[:, 1]])
    elements = np.hstack([corners, nodes.shape[0] + inverse.reshape(E, 6)])
    return np.vstack([nodes, mid]), elements
