"""Solder joints: the interface layers where the fatigue crack runs.

Darveaux's energy method volume-averages the inelastic work density over a
thin layer along the pad interface (about one mil, 0.025 mm; physics.md 3.1):

    dW_ave = sum_i dW_i V_i / sum_i V_i

over the integration points of the joint within ``interface_layer`` of the
package-side or board-side pad interface.  V_i is the quadrature weight
(area per unit depth, or 2 pi r times it in axisymmetry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Model


@dataclass
class Band:
    """Points of one joint near one of its pad interfaces."""

    joint: str
    side: str  # "package" | "board"
    group: int  # index of the inelastic group holding the joint
    points: np.ndarray  # indices into the group's point arrays
    weights: np.ndarray  # quadrature weights (volume), same length

    def average(self, values: np.ndarray) -> float:
        """Volume average of a per-point quantity of the group."""
        v = values[self.points]
        return float(np.sum(v * self.weights) / np.sum(self.weights))


def distance_to_line(points: np.ndarray, model: Model, line: str) -> np.ndarray:
    """Distance (mm) from points (n, 2) to a named polyline (straight 3-node edges)."""
    edges = model.boundaries[line]
    a = model.nodes[edges[:, 0]]
    b = model.nodes[edges[:, 1]]
    ab = b - a
    L2 = np.einsum("mi,mi->m", ab, ab)
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip(np.einsum("nmi,mi->nm", ap, ab) / L2, 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(points[:, None, :] - closest, axis=2).min(axis=1)


def joint_bands(model: Model, groups, xq: np.ndarray, w: np.ndarray, layer: float) -> list[Band]:
    """Bands at both pads of every joint listed in ``model.info['joints']``.

    ``groups``: the inelastic groups (``.elements``); ``xq`` (E, Q, 2) and
    ``w`` (E, Q) the quadrature points and weights of the whole model.
    """
    bands = []
    Q = xq.shape[1]
    for joint in model.info.get("joints", []):
        name = joint["name"]
        if name not in model.region_names:
            continue
        r = model.region_index(name)
        for gi, g in enumerate(groups):
            mask = model.element_region[g.elements] == r
            if not np.any(mask):
                continue
            local = np.flatnonzero(mask)
            pts = (local[:, None] * Q + np.arange(Q)).ravel()
            xy = xq[g.elements[local]].reshape(-1, 2)
            ww = w[g.elements[local]].ravel()
            for side, line in (("package", joint["interface_package"]), ("board", joint["interface_board"])):
                if line not in model.boundaries:
                    continue
                near = distance_to_line(xy, model, line) <= layer
                if np.any(near):
                    bands.append(Band(name, side, gi, pts[near], ww[near]))
    return bands
