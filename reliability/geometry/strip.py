"""A layered strip (a bimetal, a die on a substrate): verification and benchmarks.

Layers are stacked bottom to top starting at y = 0 and meshed with a
structured (transfinite) grid of 6-node triangles.  Physical names: one
surface per layer; lines ``bottom``, ``top``, ``left``, ``right``; with
``half=True`` the strip spans x in [0, L/2] and the left line is called
``symmetry`` (also usable as the axis in axisymmetry).
"""

from __future__ import annotations

from pathlib import Path

import gmsh

from ..model import Model
from .gmsh_tools import gmsh_session, mesh_to_model


def layered_strip(
    layers: list[tuple[str, float]],
    length: float,
    nx: int,
    ny: int | list[int],
    half: bool = False,
    path: str | Path | None = None,
    progression: float = 1.0,
) -> Model:
    """Mesh a strip of ``layers`` = [(region name, thickness mm), ...] bottom to top.

    ``nx`` elements along the (half) length, ``ny`` per layer (int or list).
    ``progression`` > 1 grades the x-divisions towards the right end.
    """
    nys = [ny] * len(layers) if isinstance(ny, int) else list(ny)
    x0, x1 = (0.0, length / 2) if half else (-length / 2, length / 2)
    with gmsh_session("strip"):
        geo = gmsh.model.geo
        ys = [0.0]
        for _, t in layers:
            ys.append(ys[-1] + t)
        left = [geo.addPoint(x0, y, 0) for y in ys]
        right = [geo.addPoint(x1, y, 0) for y in ys]
        horiz = [geo.addLine(l, r) for l, r in zip(left, right)]
        vl = [geo.addLine(left[i + 1], left[i]) for i in range(len(layers))]
        vr = [geo.addLine(right[i], right[i + 1]) for i in range(len(layers))]
        surfaces = []
        for i in range(len(layers)):
            loop = geo.addCurveLoop([horiz[i], vr[i], -horiz[i + 1], vl[i]])
            surfaces.append(geo.addPlaneSurface([loop]))
        geo.synchronize()
        mesh = gmsh.model.mesh
        for h in horiz:
            mesh.setTransfiniteCurve(h, nx + 1, "Progression", progression)
        for i in range(len(layers)):
            mesh.setTransfiniteCurve(vl[i], nys[i] + 1)
            mesh.setTransfiniteCurve(vr[i], nys[i] + 1)
            mesh.setTransfiniteSurface(surfaces[i])
        for (name, _), s in zip(layers, surfaces):
            gmsh.model.addPhysicalGroup(2, [s], name=name)
        gmsh.model.addPhysicalGroup(1, [horiz[0]], name="bottom")
        gmsh.model.addPhysicalGroup(1, [horiz[-1]], name="top")
        gmsh.model.addPhysicalGroup(1, vl, name="symmetry" if half else "left")
        gmsh.model.addPhysicalGroup(1, vr, name="right")
        desc = "strip " + "/".join(f"{n}:{t:g}" for n, t in layers) + f" L={length:g}"
        return mesh_to_model(path, source=desc, optimize=False)
