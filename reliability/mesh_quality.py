"""Mesh quality measures used by tests, benchmarks and `reliability mesh`."""

from __future__ import annotations

import numpy as np

from .model import Model


def min_angles_deg(model: Model) -> np.ndarray:
    """Smallest interior angle (degrees) of every element's corner triangle."""
    x = model.nodes[model.elements[:, :3]]
    angles = []
    for i in range(3):
        a = x[:, (i + 1) % 3] - x[:, i]
        b = x[:, (i + 2) % 3] - x[:, i]
        cos = np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        angles.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.min(angles, axis=0)


def elements_crossed(model: Model, region: str, x: float, y0: float, y1: float) -> int:
    """Elements of ``region`` that the vertical segment x, y0..y1 passes through.

    The count of elements stacked across a horizontal layer (corner triangles;
    a segment along an element edge counts the elements on one side).
    """
    elems = model.region_elements(region)
    tri = model.nodes[model.elements[elems, :3]]
    xs = tri[:, :, 0]
    # shift a hair to the right so a segment on a vertical edge is counted once
    xq = x + 1e-9 * max(1.0, abs(x))
    inside = (xs.min(axis=1) < xq) & (xs.max(axis=1) > xq)
    count = 0
    for t in tri[inside]:
        ys = []
        for i in range(3):
            (xa, ya), (xb, yb) = t[i], t[(i + 1) % 3]
            if (xa - xq) * (xb - xq) < 0:
                ys.append(ya + (yb - ya) * (xq - xa) / (xb - xa))
        if len(ys) == 2 and max(ys) > y0 + 1e-12 and min(ys) < y1 - 1e-12:
            count += 1
    return count
