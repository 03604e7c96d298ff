"""3D quarter model of a free fan-out package (no balls, no board) for linear thermo-elastic warpage.

The same family description as the 2D section (:mod:`reliability.geometry.fan_out`,
its ``Options`` and ``Dimensions``), built as a quarter of the square body
(x, y >= 0, symmetry planes x = 0 and y = 0; z vertical, the package bottom,
the warpage surface, at z = 0) with gmsh's OpenCASCADE kernel:

* plan: the body quarter (body_width / 2 square) and the die footprint
  (die_width / 2 square), fragmented into a conformal pair of faces and
  meshed with triangles of ``size_mm``;
* the layers are boxes: the plan faces are extruded through the stack
  (OCC extrude with layers), bottom to top: solder mask (solder_mask_thickness),
  ``rdl_layers = 2``: the dielectric (dielectric_thickness), the mold under
  the die (the bump stand-off), the die (die_thickness) beside mold, and with
  ``backside = "encapsulated"`` the mold cap (mold_cap); at least one
  element and at most ``layer_size_mm`` per layer.  Extruded triangles give
  prisms split into three tetrahedra each, conformal between the faces;
* second order (``setOrder(2)``): 10-node tetrahedra; each element's region
  follows from its centroid (layer, inside or outside the die footprint).

Left out in this first 3D model (stated in every run's ``basis``): the
bumps (the stand-off layer under the die is mold), the copper of the traces
and ball pads, and the solder-mask openings - each under 7 % of its layer's
thickness or volume; and balls and board (the free package is what
JESD22-B112 warpage is measured on).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import GeometryError, MeshError
from ..model import Model
from . import fan_out
from .gmsh_tools import gmsh_session

QUARTER_SIZE_MM = 0.2  # default in-plane element size of a quarter model (10-node tets)
QUARTER_LAYER_MM = 0.15  # default largest element height through a layer
OMITTED = ("bumps (the stand-off layer under the die is mold)", "trace and ball-pad copper",
           "solder-mask openings", "balls and board")


def fan_out_layers(opts: fan_out.Options, d: fan_out.Dimensions) -> list[dict]:
    """The stack bottom to top: [{z0, z1, inside (die footprint region), outside}] (mm)."""
    if d.die_width >= d.body_width:
        raise GeometryError(f"die width {d.die_width:g} mm is not smaller than the body width {d.body_width:g} mm")
    bump_h = d.solder_bump_height if opts.bump in ("solder", "high_lead") else \
        d.gold_bump_height if opts.bump == "gold" else d.stud_bump_height
    layers = [("solder_mask", "solder_mask", d.solder_mask_thickness)]
    if opts.rdl_layers == 2:
        layers.append(("dielectric", "dielectric", d.dielectric_thickness))
    layers += [("mold", "mold", bump_h), ("die", "mold", d.die_thickness)]
    if opts.backside == "encapsulated":
        layers.append(("mold", "mold", d.mold_cap))
    out, z = [], 0.0
    for inside, outside, t in layers:
        out.append(dict(z0=z, z1=z + t, inside=inside, outside=outside))
        z += t
    return out


DEFAULT_MATERIALS = {"solder_mask": "solder-mask", "mold": "emc-low-cte", "die": "silicon", "dielectric": "polyimide"}


def build_fan_out_quarter(options: dict | None = None, dimensions: dict | None = None,
                          size_mm: float = QUARTER_SIZE_MM, layer_size_mm: float = QUARTER_LAYER_MM,
                          source: str = "geometry", max_elements: int | None = None) -> Model:
    """The free fan-out package as a quarter model of 10-node tetrahedra."""
    import pydantic

    from ..validation import format_error

    try:
        opts = fan_out.Options.model_validate(options or {})
        d = fan_out.Dimensions.model_validate(dimensions or {})
    except pydantic.ValidationError as err:
        raise GeometryError(format_error(err, source, fan_out.Options)) from None
    layers = fan_out_layers(opts, d)
    W2, D2 = d.body_width / 2, d.die_width / 2
    return quarter_stack(W2, D2, layers, size_mm, layer_size_mm, max_elements=max_elements,
                         source=f"fan_out quarter 3D ({opts.backside}, rdl {opts.rdl_layers}), size {size_mm:g} mm",
                         info=dict(family="fan_out", options=opts.model_dump(mode="json"),
                                   dimensions_mm=d.model_dump(mode="json"), model="quarter_3d",
                                   body_half_width_mm=W2, die_half_width_mm=D2, omitted=list(OMITTED),
                                   default_materials={k: v for k, v in DEFAULT_MATERIALS.items()
                                                      if any(k in (L["inside"], L["outside"]) for L in layers)}))


def estimate_quarter_elements(W2: float, size_mm: float, layers_elements: list[int]) -> float:
    """Tetrahedra of a quarter model before meshing: about 2.6 plan triangles per size^2 (measured on the
    fan-out quarter: 2.57 at 0.2 mm, 2.86 at 0.1 mm), 3 tetrahedra per prism, ``layers_elements`` prisms
    high (a uniform in-plane size; the die-edge refinement adds to it)."""
    return 2.7 * (W2 / size_mm) ** 2 * 3 * sum(layers_elements)


def _on_die_edge(box, D2: float, tol: float = 1e-6) -> bool:
    """A plan curve (its bounding box) on the die footprint's edge x = D2 or y = D2."""
    x0, y0, _, x1, y1, _ = box
    return (abs(x0 - D2) < tol and abs(x1 - D2) < tol) or (abs(y0 - D2) < tol and abs(y1 - D2) < tol)


def quarter_stack(W2: float, D2: float, layers: list[dict], size_mm: float, layer_size_mm: float,
                  source: str = "", info: dict | None = None, edge_refinement: float = 1.0,
                  max_elements: int | None = None) -> Model:
    """Mesh a quarter body W2 x W2 with a D2 x D2 footprint region through ``layers`` (see module doc)."""
    import gmsh

    heights = [L["z1"] - L["z0"] for L in layers]
    if min(heights) <= 0:
        raise GeometryError("a layer of the quarter model has zero or negative thickness")
    n_per = [max(1, math.ceil(h / layer_size_mm - 1e-9)) for h in heights]
    H = layers[-1]["z1"]
    estimate = estimate_quarter_elements(W2, size_mm, n_per)
    if max_elements is not None and estimate > max_elements:
        raise MeshError(f"mesh.size_mm = {size_mm:g}: the quarter model would have about {estimate:.3g} tetrahedra, "
                        f"above mesh.max_elements = {max_elements}; give a larger size_mm")
    with gmsh_session("quarter3d"):
        occ = gmsh.model.occ
        body = occ.addRectangle(0, 0, 0, W2, W2)
        die = occ.addRectangle(0, 0, 0, D2, D2)
        faces, _ = occ.fragment([(2, body)], [(2, die)])
        occ.synchronize()
        gmsh.option.setNumber("Mesh.MeshSizeMax", size_mm)
        gmsh.option.setNumber("Mesh.MeshSizeMin", 0.2 * size_mm)
        if edge_refinement > 1:
            # finer along the die's edges (the stiffness jump where the curvature changes fastest)
            edges = [c for _, c in gmsh.model.getEntities(1)
                     if _on_die_edge(gmsh.model.getBoundingBox(1, c), D2)]
            field = gmsh.model.mesh.field
            dist = field.add("Distance")
            field.setNumbers(dist, "CurvesList", edges)
            thr = field.add("Threshold")
            field.setNumber(thr, "InField", dist)
            field.setNumber(thr, "SizeMin", size_mm / edge_refinement)
            field.setNumber(thr, "SizeMax", size_mm)
            field.setNumber(thr, "DistMin", 0.5 * size_mm)
            field.setNumber(thr, "DistMax", 3.0 * size_mm)
            field.setAsBackgroundMesh(thr)
            gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
            gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
            gmsh.option.setNumber("Mesh.MeshSizeMin", 0.2 * size_mm / edge_refinement)
        cum = np.cumsum(heights) / H
        occ.extrude([f for f in faces if f[0] == 2], 0, 0, H, numElements=n_per, heights=list(cum), recombine=False)
        occ.synchronize()
        gmsh.option.setNumber("Mesh.ElementOrder", 1)
        gmsh.model.mesh.generate(3)
        gmsh.model.mesh.setOrder(2)
        nodes, el, _ = tet10_from_gmsh()
    tol = 1e-9 * W2
    c = nodes[el[:, :4]].mean(axis=1)
    bounds = np.array([L["z1"] for L in layers])
    k = np.minimum(np.searchsorted(bounds, c[:, 2]), len(layers) - 1)
    inside = (c[:, 0] < D2) & (c[:, 1] < D2)
    names: list[str] = []
    for L in layers:
        for n in (L["inside"], L["outside"]):
            if n not in names:
                names.append(n)
    region_in = np.array([names.index(L["inside"]) for L in layers])
    region_out = np.array([names.index(L["outside"]) for L in layers])
    region = np.where(inside, region_in[k], region_out[k])
    x, y, z = nodes.T
    boundaries = {"bottom": np.flatnonzero(np.abs(z) <= tol), "top": np.flatnonzero(np.abs(z - H) <= 1e-9 * H),
                  "symmetry_x": np.flatnonzero(x == 0.0), "symmetry_y": np.flatnonzero(y == 0.0)}
    meta = dict(info or {})
    meta.update(layers=[{**L, "elements": n} for L, n in zip(layers, n_per)], size_mm=size_mm,
                edge_refinement=edge_refinement,
                layer_size_mm=layer_size_mm, thickness_mm=H)
    return Model(nodes=nodes, elements=el, element_region=region.astype(np.int64), region_names=names,
                 boundaries=boundaries, source=source, info=meta)


def tet10_from_gmsh(volumes: list[int] | None = None, curved: bool = False):
    """The current gmsh model's second-order mesh as (nodes (N, 3) mm, elements (E, 10) in our order,
    the volume entity of every element (E,)).

    ``volumes``: the volume entities to take, in this order (all, in gmsh's order, when ``None``); the
    elements come out entity after entity.  Nodes no tetrahedron uses (geometry points) are dropped and the
    rest renumbered in gmsh's tag order; every tetrahedron is oriented to a positive corner volume; the
    coordinate planes x, y, z = 0 are snapped exactly (gmsh's coordinates are exact there to ~1e-16).
    ``curved``: mid-edge nodes lie on curved geometry (spheres, cylinders), not at the chord midpoints.
    """
    import gmsh

    tags, coords, _ = gmsh.model.mesh.getNodes()
    if volumes is None:
        volumes = [t for _, t in gmsh.model.getEntities(3)]
    blocks, entity = [], []
    for v in volumes:  # a loop over geometry volumes, not elements
        types, _, node_tags = gmsh.model.mesh.getElements(3, v)
        if len(types) and list(types) != [11]:
            raise GeometryError(f"quarter model: expected only 10-node tetrahedra, gmsh gave element types {types}")
        if len(types):
            blocks.append(np.asarray(node_tags[0], dtype=np.int64).reshape(-1, 10))
            entity.append(np.full(blocks[-1].shape[0], v, dtype=np.int64))
    if not blocks:
        raise GeometryError("quarter model: gmsh made no tetrahedra")
    conn = np.vstack(blocks)
    order = np.argsort(tags)
    nodes = np.asarray(coords).reshape(-1, 3)[order]
    index = np.empty(int(tags.max()) + 1, dtype=np.int64)
    index[np.asarray(tags)[order]] = np.arange(tags.size)
    el = index[conn]
    # drop nodes no tetrahedron uses (geometry points), renumber
    used = np.unique(el)
    renum = np.full(nodes.shape[0], -1, dtype=np.int64)
    renum[used] = np.arange(used.size)
    nodes, el = nodes[used], renum[el]
    el = _to_skfem_order(nodes, el, curved=curved)
    from ..fem.geometry3d import orient_positive

    el = orient_positive(nodes, el)
    # snap the coordinate planes exactly (symmetry planes, the bottom)
    tol = 1e-9 * float(np.ptp(nodes, axis=0).max())
    for axis in (0, 1, 2):
        nodes[np.abs(nodes[:, axis]) <= tol, axis] = 0.0
    return nodes, el, np.concatenate(entity)


def _to_skfem_order(nodes: np.ndarray, el: np.ndarray, curved: bool = False) -> np.ndarray:
    """gmsh's 10-node tetrahedron order -> ours (mid-edge nodes 0-1, 1-2, 0-2, 0-3, 1-3, 2-3), checked
    geometrically on every element (the mid-edge nodes of straight edges are the corner midpoints).

    ``curved``: an edge on a curved surface has its mid-edge node on the surface, off the chord midpoint
    by the sagitta (L^2 / 8 r for an edge of length L on a radius r, a few % of L at the mesh sizes used),
    and in a flat element two edges' midpoints can lie closer than that: the nearest node is then not
    a safe guess.  gmsh's order is then taken as documented (its nodes 8 and 9 on edges 2-3 and 1-3, ours
    the other way round) and each mid-edge node checked to lie within a quarter of its edge's length
    of the midpoint."""
    from ..fem.geometry3d import TET10_EDGES

    if curved:
        el = el[:, [0, 1, 2, 3, 4, 5, 6, 7, 9, 8]]
        a, b = nodes[el[:, TET10_EDGES[:, 0]]], nodes[el[:, TET10_EDGES[:, 1]]]  # (E, 6, 3)
        off = np.linalg.norm(nodes[el[:, 4:]] - 0.5 * (a + b), axis=-1)
        if np.any(off > 0.25 * np.linalg.norm(b - a, axis=-1)):
            raise GeometryError("quarter model: a mid-edge node is not near its edge's midpoint")
        return el
    mids = 0.5 * (nodes[el[:, TET10_EDGES[:, 0]]] + nodes[el[:, TET10_EDGES[:, 1]]])  # (E, 6, 3) wanted
    have = nodes[el[:, 4:]]  # (E, 6, 3)
    dist = np.linalg.norm(mids[:, :, None, :] - have[:, None, :, :], axis=-1)  # (E, wanted, have)
    pick = np.argmin(dist, axis=2)
    scale = float(np.ptp(nodes, axis=0).max())
    if np.take_along_axis(dist, pick[..., None], axis=2).max() > 1e-6 * scale:
        raise GeometryError("quarter model: a mid-edge node is not at its edge's midpoint")
    return np.hstack([el[:, :4], np.take_along_axis(el[:, 4:], pick, axis=1)])
