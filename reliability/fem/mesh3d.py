"""Structured 10-node tetrahedral meshes of layered boxes (verification models of the 3D path).

A box [0, Lx] x [0, Ly] x [0, H] of layers stacked along z is cut into
nx x ny x (sum of nz per layer) bricks, each brick into the 6 tetrahedra
of the Kuhn (Freudenthal) triangulation along its main diagonal (every
brick cut the same way, so the faces of neighbours match), and a node is
added at the middle of every edge (:func:`~reliability.fem.geometry3d.add_mid_nodes`).
Regions are the layers; named node sets (``boundaries``): ``bottom`` (z = 0),
``top``, ``symmetry_x`` (x = 0), ``symmetry_y`` (y = 0).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from ..model import Model
from .geometry3d import add_mid_nodes, orient_positive


def _kuhn_tets() -> np.ndarray:
    """(6, 4) corner indices (bit i of a corner index = step along axis i) of the Kuhn triangulation."""
    tets = []
    for p in permutations(range(3)):
        v, path = 0, [0]
        for axis in p:
            v += 1 << axis
            path.append(v)
        tets.append(path)
    return np.array(tets)


def layered_box(length_x: float, length_y: float, layers: list[tuple[str, float]], nx: int, ny: int,
                nz: int | list[int], grading_x: float = 1.0) -> Model:
    """Mesh a box of ``layers`` = [(region, thickness mm), ...] bottom to top (z up).

    ``nz`` elements per layer (int or list).  ``grading_x`` > 1 makes the
    x-divisions grow geometrically towards x = Lx by that total ratio
    (last / first); 1 is uniform.
    """
    nzs = [nz] * len(layers) if isinstance(nz, int) else list(nz)
    if grading_x == 1.0:
        xs = np.linspace(0.0, length_x, nx + 1)
    else:
        r = grading_x ** (1.0 / max(nx - 1, 1))
        steps = r ** np.arange(nx)
        xs = np.concatenate(([0.0], np.cumsum(steps))) / steps.sum() * length_x
    ys = np.linspace(0.0, length_y, ny + 1)
    zs, layer_of_cell, z0 = [0.0], [], 0.0
    for k, ((_, t), n) in enumerate(zip(layers, nzs)):
        zs += list(z0 + t * np.arange(1, n + 1) / n)
        layer_of_cell += [k] * n
        z0 += t
    zs = np.array(zs)
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    nodes = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])
    sx, sy, sz = len(xs), len(ys), len(zs)
    i, j, k = np.meshgrid(np.arange(sx - 1), np.arange(sy - 1), np.arange(sz - 1), indexing="ij")
    i, j, k = i.ravel(), j.ravel(), k.ravel()
    bits = np.arange(8)
    corner = ((i[:, None] + (bits & 1)) * sy + (j[:, None] + ((bits >> 1) & 1))) * sz + k[:, None] + ((bits >> 2) & 1)
    kuhn = _kuhn_tets()
    tets = corner[:, kuhn].reshape(-1, 4)  # (6 bricks..., 4)
    region = np.repeat(np.array(layer_of_cell)[k], 6)
    nodes, elements = add_mid_nodes(nodes, tets)
    elements = orient_positive(nodes, elements)
    tol = 1e-9 * max(length_x, length_y, zs[-1])
    x, y, z = nodes.T
    boundaries = {
        "bottom": np.flatnonzero(np.abs(z) <= tol),
        "top": np.flatnonzero(np.abs(z - zs[-1]) <= tol),
        "symmetry_x": np.flatnonzero(np.abs(x) <= tol),
        "symmetry_y": np.flatnonzero(np.abs(y) <= tol),
    }
    desc = (f"layered box {length_x:g} x {length_y:g} mm, " + "/".join(f"{n}:{t:g}" for n, t in layers)
            + f", {nx}x{ny}x{sum(nzs)} bricks")
    return Model(nodes=nodes, elements=elements, element_region=region.astype(np.int64),
                 region_names=[n for n, _ in layers], boundaries=boundaries, source=desc)
