"""The in-memory model: the seam between where a model comes from and what we do with it.

Both a gmsh ``.msh`` file (:func:`reliability.mesh.read_msh`) and a parametric
package builder (:mod:`reliability.geometry`) produce a :class:`Model`; the
analyses only ever see this object.

Coordinates are in mm.  x runs along the section, y is vertical with the
package top up (balls down), z is out of the section.  In axisymmetry x is the
radius and the axis is x = 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

# 6-node triangle: corners 0, 1, 2 counter-clockwise, then the mid-side nodes
# of edges 0-1, 1-2, 2-0 (the gmsh / meshio "triangle6" order).
TRI6_EDGES = np.array([[0, 1, 3], [1, 2, 4], [2, 0, 5]])


@dataclass
class Model:
    """Mesh + named regions + named boundaries (+ builder metadata).

    Attributes
    ----------
    nodes : (N, 2) float
        Node coordinates, mm.
    elements : (E, 6) int
        6-node triangles in triangle6 order, counter-clockwise.
    element_region : (E,) int
        Index into ``region_names`` for every element.
    region_names : list of str
        Names of the physical surfaces (regions), e.g. ``solder_1``, ``die``.
    boundaries : dict of str -> (M, 3) int
        Named physical lines as 3-node edges (end, end, middle).
    source : str
        Where the model came from (a file path or a builder description).
    info : dict
        JSON-compatible metadata from a builder (joints, dimensions, ...).
    """

    nodes: np.ndarray
    elements: np.ndarray
    element_region: np.ndarray
    region_names: list[str]
    boundaries: dict[str, np.ndarray]
    source: str = ""
    info: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return self.nodes.shape[0]

    @property
    def n_elements(self) -> int:
        return self.elements.shape[0]

    def region_index(self, name: str) -> int:
        return self.region_names.index(name)

    def region_elements(self, name: str) -> np.ndarray:
        """Indices of the elements of region ``name``."""
        return np.flatnonzero(self.element_region == self.region_index(name))

    def boundary_nodes(self, name: str) -> np.ndarray:
        """Sorted unique node indices on boundary ``name``."""
        return np.unique(self.boundaries[name])

    def bounding_box(self) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = self.nodes.min(axis=0), self.nodes.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def fingerprint(self) -> str:
        """Content hash of the geometry and its names (for result reuse)."""
        h = hashlib.sha256()
        for arr in (self.nodes, self.elements, self.element_region):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update("|".join(self.region_names).encode())
        for name in sorted(self.boundaries):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.boundaries[name]).tobytes())
        return h.hexdigest()[:16]

