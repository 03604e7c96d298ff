"""Layout -> gmsh OpenCASCADE geometry -> conformal 6-node mesh -> Model.

1. every shape becomes an OCC surface (rectangles, polygons, truncated-sphere
   joints as a disk intersected with the band between the pad planes);
2. ``occ.fragment`` of all of them gives a conformal partition; each fragment
   belongs to the highest-priority shape covering it, and fragments owned by
   a void are deleted;
3. physical surfaces by region; physical lines by geometry: ``symmetry``
   (x = 0, half models), ``bottom`` (the package's bottom surface, the
   warpage surface), ``top``, and ``solder_<i>_package`` / ``solder_<i>_board``
   (each joint's pad interfaces);
4. element sizes: every rectangle or polygon gets at most its smallest
   dimension over ``feature_elements`` (default one 6-node element through
   every film: its quadratic displacement already bends exactly), every
   joint a sixth of its stand-off, all at most ``size``; the band of width
   ``interface_layer`` along every joint interface gets ``joint_size``;
5. second-order meshing through :func:`mesh_to_model`.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import gmsh
import numpy as np

from ..errors import GeometryError
from ..model import Model
from .estimate import check_element_budget, estimate_elements, lower_bound_from_layout
from .gmsh_tools import gmsh_session, mesh_to_model
from .shapes import Layout, Shape

TOL = 1e-7  # mm: coordinates closer than this are the same


def _make_surface(occ, shape: Shape) -> list[tuple[int, int]]:
    kind = shape.outline[0]
    if kind == "rect":
        _, x0, y0, x1, y1 = shape.outline
        if x1 - x0 <= TOL or y1 - y0 <= TOL:
            raise GeometryError(f"{shape.region or 'opening'}: zero or negative size ({x1 - x0:g} x {y1 - y0:g} mm)")
        return [(2, occ.addRectangle(x0, y0, 0, x1 - x0, y1 - y0))]
    if kind == "poly":
        pts = [occ.addPoint(x, y, 0) for x, y in shape.outline[1]]
        lines = [occ.addLine(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))]
        return [(2, occ.addPlaneSurface([occ.addCurveLoop(lines)]))]
    _, xc, y_top, ball = shape.outline
    yc = y_top - ball.z1
    disk = occ.addDisk(xc, yc, 0, ball.R, ball.R)
    band = occ.addRectangle(xc - 2 * ball.R, y_top - ball.h, 0, 4 * ball.R, ball.h)
    out, _ = occ.intersect([(2, disk)], [(2, band)])
    return [d for d in out if d[0] == 2]


def _shape_size(shape: Shape, size: float, feature_elements: int = 1) -> float:
    """Element size (mm) on a shape's boundary: its thinnest dimension over ``feature_elements``, at most ``size``.

    One 6-node element through a film is the default: on the fan-out case
    (GEOMETRY_VERSION 3 against 2, which had two), 104 k instead of 158 k
    dofs, the critical joint's dW +0.01 %, the free package's warpage
    -0.005 %, the assembly's -0.05 % (issue 7 note; ``bench_cycling.py --set
    mesh.feature_elements=2`` reproduces the finer mesh).
    """
    if shape.size is not None:
        return min(shape.size, size)
    kind = shape.outline[0]
    if kind == "rect":
        _, x0, y0, x1, y1 = shape.outline
        return min(size, min(x1 - x0, y1 - y0) / feature_elements)
    if kind == "poly":
        xy = np.array(shape.outline[1])
        return min(size, float(np.min(np.ptp(xy, axis=0))) / feature_elements)
    ball = shape.outline[3]
    return min(size, ball.h / 6.0)


def build_model(
    layout: Layout,
    size: float,
    joint_size: float,
    interface_layer: float,
    path: str | Path | None = None,
    half: bool = True,
    board_size: float | None = None,
    feature_elements: int = 1,
    max_elements: int | None = None,
) -> Model:
    """Mesh a finalized :class:`Layout` and return the :class:`Model`.

    Before meshing, the element count is estimated from the fragments and the
    sizes (:mod:`.estimate`); above ``max_elements`` a one-line
    :class:`~reliability.errors.MeshError` says so and nothing is meshed.
    """
    shapes = layout.shapes
    what = f"{layout.family} {'assembly' if layout.board else 'package'} section"
    settings = {"mesh.size_mm": size, "mesh.joint_size_mm": joint_size, "mesh.board_size_mm": board_size or size,
                "mesh.feature_elements": feature_elements}
    check_element_budget(lower_bound_from_layout(layout, size, joint_size, interface_layer, board_size),
                         max_elements, what, settings, at_least=True)
    with gmsh_session(layout.family):
        occ = gmsh.model.occ
        gmsh.option.setNumber("Geometry.ToleranceBoolean", TOL)
        inputs, owner = [], []
        for i, shape in enumerate(shapes):
            for dt in _make_surface(occ, shape):
                inputs.append(dt)
                owner.append(i)
        out, out_map = occ.fragment(inputs, [])
        occ.synchronize()
        covering: dict[int, set[int]] = defaultdict(set)
        for k, pieces in enumerate(out_map):
            for dim, tag in pieces:
                if dim == 2:
                    covering[tag].add(owner[k])
        surface_shape: dict[int, Shape] = {}
        voids = []
        for tag, idx in covering.items():
            top = max(idx, key=lambda i: (shapes[i].priority, i))
            if shapes[top].region is None:
                voids.append(tag)
            else:
                surface_shape[tag] = shapes[top]
        if voids:
            occ.remove([(2, t) for t in voids], recursive=True)
            occ.synchronize()
        existing = {t for _, t in gmsh.model.getEntities(2)}
        surface_shape = {t: s for t, s in surface_shape.items() if t in existing}

        by_region: dict[str, list[int]] = defaultdict(list)
        for tag, shape in surface_shape.items():
            by_region[shape.region].append(tag)
        for region in sorted(by_region):
            gmsh.model.addPhysicalGroup(2, sorted(by_region[region]), name=region)

        lines = _classify_curves(layout, surface_shape, half)
        for name in sorted(lines):
            gmsh.model.addPhysicalGroup(1, sorted(lines[name]), name=name)

        est = estimate_elements(layout, surface_shape, lines, size, joint_size, interface_layer, board_size,
                                feature_elements, _shape_size)
        check_element_budget(est, max_elements, what, settings)
        _set_sizes(layout, surface_shape, lines, size, joint_size, interface_layer, board_size, feature_elements)
        model = mesh_to_model(path, source=f"builder:{layout.family}")
        model.info = {"estimated_elements": est.total}
    defaults: dict[str, str] = {}
    for shape in shapes:
        if shape.region and shape.material and shape.region not in defaults:
            defaults[shape.region] = shape.material
    model.info = {
        **model.info,
        "family": layout.family,
        "half": half,
        "board": layout.board,
        "package_half_width_mm" if half else "package_width_mm": layout.package_x * (1 if half else 2),
        "package_bottom_y_mm": layout.package_bottom_y,
        "package_top_y_mm": layout.package_top_y,
        "default_materials": defaults,
        "joints": [
            {
                "name": j.name,
                "x_mm": j.x,
                "dnp_mm": j.dnp_mm,
                "pad_package_mm": j.pad_top_mm,
                "pad_board_mm": j.pad_bottom_mm,
                "standoff_mm": j.y_top - j.y_bottom,
                "sphere_radius_mm": j.shape.R if j.shape else None,
                "volume_mm3": j.shape.volume if j.shape else None,
                "interface_package": f"{j.name}_package",
                "interface_board": f"{j.name}_board",
            }
            for j in layout.joints
        ],
        **layout.info,
    }
    missing = [j.name for j in layout.joints if j.name not in model.region_names]
    if missing:
        raise GeometryError(f"joint(s) {', '.join(missing)} vanished in the geometry (covered by other parts)")
    return model


def _classify_curves(layout: Layout, surface_shape: dict[int, Shape], half: bool) -> dict[str, set[int]]:
    lines: dict[str, set[int]] = defaultdict(set)
    joints = {j.name: j for j in layout.joints}
    xp = layout.package_x
    for _, c in gmsh.model.getEntities(1):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, c)
        up, _ = gmsh.model.getAdjacencies(1, c)
        regions = {surface_shape[s].region for s in up if s in surface_shape}
        if not regions:
            continue
        horizontal = abs(y1 - y0) < 10 * TOL
        vertical = abs(x1 - x0) < 10 * TOL
        if half and vertical and abs(x0) < 10 * TOL:
            lines["symmetry"].add(c)
        package_regions = {r for r in regions if r not in joints and not r.startswith("board")}
        inside = x0 >= -xp - 10 * TOL and x1 <= xp + 10 * TOL
        if horizontal and inside and package_regions:
            if abs(y0 - layout.package_bottom_y) < 10 * TOL:
                lines["bottom"].add(c)
            if abs(y0 - layout.package_top_y) < 10 * TOL:
                lines["top"].add(c)
        if horizontal:
            for name in regions & set(joints):
                j = joints[name]
                if abs(y0 - j.y_top) < 10 * TOL and len(regions) > 1:
                    lines[f"{name}_package"].add(c)
                elif abs(y0 - j.y_bottom) < 10 * TOL and len(regions) > 1:
                    lines[f"{name}_board"].add(c)
    return lines


def _set_sizes(layout, surface_shape, lines, size, joint_size, interface_layer, board_size, feature_elements=1,
               growth=1.4) -> None:
    """Background size field: coarse base per region group, refined near small features.

    Sizes grow geometrically (ratio ``growth`` per element) away from every
    feature smaller than the base size, so thin films get ``feature_elements``
    elements through their thickness without refining their neighbours'
    interiors.  Curve sampling is dense enough for the smallest size.
    """
    field = gmsh.model.mesh.field
    board_size = board_size or size
    coarse = max(size, board_size)
    # how far a size s needs to grow to reach S at ratio g: about (S - s) / (g - 1)
    def reach(s_small, s_big):
        return max(s_big - s_small, 0.0) / (growth - 1.0)

    fields = []
    package, board = [], []
    groups: dict[float, set[int]] = defaultdict(set)
    for tag, shape in surface_shape.items():
        is_board = shape.region.startswith("board")
        (board if is_board else package).append(tag)
        s = _shape_size(shape, board_size if is_board else size, feature_elements)
        if s < (board_size if is_board else size) * 0.999:
            key = float(f"{s:.3g}")
            for _, c in gmsh.model.getBoundary([(2, tag)], combined=False, oriented=False):
                groups[key].add(abs(c))

    def curve_length(c):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, c)
        return float(np.hypot(x1 - x0, y1 - y0))

    for s, curves in sorted(groups.items()):
        curves = sorted(curves)
        longest = max(curve_length(c) for c in curves)
        dist = field.add("Distance")
        field.setNumbers(dist, "CurvesList", curves)
        field.setNumber(dist, "Sampling", int(min(max(20, 2 * longest / s), 4000)))
        thr = field.add("Threshold")
        field.setNumber(thr, "InField", dist)
        field.setNumber(thr, "SizeMin", s)
        # grow on to the coarsest size: capped at ``size`` it would also cap the
        # board (this field is not restricted), which then meshed at the package
        # size instead of board_size; the package's own cap is its constant field
        field.setNumber(thr, "SizeMax", coarse)
        field.setNumber(thr, "DistMin", 0.5 * s)
        field.setNumber(thr, "DistMax", 0.5 * s + reach(s, coarse))
        fields.append(thr)

    interfaces = sorted({c for name, cs in lines.items() if name.endswith(("_package", "_board")) for c in cs})
    if interfaces:
        joint_tags = sorted(t for t, sh in surface_shape.items() if sh.joint is not None)
        dist = field.add("Distance")
        field.setNumbers(dist, "CurvesList", interfaces)
        field.setNumber(dist, "Sampling", int(min(max(20, 2 * max(curve_length(c) for c in interfaces) / joint_size), 4000)))
        # inside the joints: joint_size through the whole interface layer (ΔW averaging band)
        band = field.add("Threshold")
        field.setNumber(band, "InField", dist)
        field.setNumber(band, "SizeMin", joint_size)
        field.setNumber(band, "SizeMax", size)
        field.setNumber(band, "DistMin", interface_layer)
        field.setNumber(band, "DistMax", interface_layer + reach(joint_size, size))
        inside = field.add("Restrict")
        field.setNumber(inside, "InField", band)
        field.setNumbers(inside, "SurfacesList", joint_tags)
        joint_curves = {abs(c) for _, c in gmsh.model.getBoundary([(2, t) for t in joint_tags], combined=False, oriented=False)}
        field.setNumbers(inside, "CurvesList", sorted(joint_curves))
        fields.append(inside)
        # outside: grow from the interface discretization at once
        grow = field.add("Threshold")
        field.setNumber(grow, "InField", dist)
        field.setNumber(grow, "SizeMin", joint_size)
        field.setNumber(grow, "SizeMax", coarse)
        field.setNumber(grow, "DistMin", 0.5 * joint_size)
        field.setNumber(grow, "DistMax", 0.5 * joint_size + reach(joint_size, coarse))
        fields.append(grow)

    for tags, s in ((package, size), (board, board_size)):
        if not tags:
            continue
        const = field.add("MathEval")
        field.setString(const, "F", f"{s}")
        restrict = field.add("Restrict")
        field.setNumber(restrict, "InField", const)
        field.setNumbers(restrict, "SurfacesList", sorted(tags))
        curves = {abs(c) for _, c in gmsh.model.getBoundary([(2, t) for t in tags], combined=False, oriented=False)}
        field.setNumbers(restrict, "CurvesList", sorted(curves))
        fields.append(restrict)

    mn = field.add("Min")
    field.setNumbers(mn, "FieldsList", fields)
    field.setAsBackgroundMesh(mn)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.MeshSizeMax", coarse)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay: good angles
