"""How many elements a built section will have, known before gmsh meshes it.

A mistyped size (``size_mm = 0.0005``, ``joint_size_mm = 1e-5``) or
dimensions in micrometres typed for millimetres (``die_thickness = 300``)
otherwise start a mesh that grows by tens of MB per second for minutes or
hours.  Two checks run before gmsh meshes, both against ``mesh.max_elements``:

1. :func:`lower_bound_from_layout`, from the layout alone (microseconds to a
   few milliseconds): the regions' areas at their base sizes and the joints'
   pad bands.  It is 10-70 % of the real count on the default cases (a
   package full of thin films is mostly what it leaves out), so it only
   refuses what is hopeless, before OpenCASCADE spends minutes cutting
   thousands of shapes;
2. :func:`estimate_elements`, after the OpenCASCADE fragments (exact areas
   and curves), from the sizes :func:`reliability.geometry.assemble._set_sizes`
   is about to ask for (0.8 s on the fan-out assembly, whose meshing takes
   3-5 s; 0.2 s for the runaway cases above).

The estimate is a density integral, elements = sum of C * integral 1 / h(x)^2 dA:

* bulk: every fragment at its own size (``size_mm`` in the package,
  ``board_size_mm`` in the board); a thin part (a film, a pad: its thinnest
  dimension over ``feature_elements`` is below the base size) at that finer
  size, with ``C`` = :data:`DENSITY_THIN` / ``feature_elements`` (gmsh meshes
  a film at its thickness with two layers of triangles), at least
  :data:`DENSITY`;
* graded zones: the size field of ``_set_sizes`` is evaluated on quadrature
  lines normal to every refined curve (each thin part's and joint's
  boundary, each joint's pad interfaces) and on half disks beyond their
  ends: the finer size at the curve, growing at 0.4 per unit distance up to
  the base size, and inside a joint ``joint_size_mm`` through the
  ``interface_layer_mm`` band.  A point counts ``1/h^2 - 1/h_bulk^2`` only
  for the curve whose field is the finest there, so the zones of
  neighbouring features, which overlap, are counted once; the region at a
  point (for its bulk size, or outside the section) comes from the layout's
  shapes painted by priority, as the fragments were.

The three densities were measured on meshes made by
:func:`~reliability.geometry.assemble.build_model`: a block at one size (2.34
triangles per h^2), strips one size thick alone and stacked (4 per boundary
edge), films inside and on a block and a row of pads (the graded zones, 2.95).
On those shapes the estimate is within 3 %.

Accuracy (issue 20), estimate / real element count:

* every family case in ``cases/`` at its own sizes, package and assembly
  sections (38 meshes, 2,656 to 31,835 elements): 0.95 to 1.09, median 1.00
  (``reliability mesh cases/fan_out_exposed.toml``: 24,836 for 25,598);
* five families (fan-out, leads, stacked, both WLPs; 10 meshes each) at
  size_mm/board_size_mm 0.1/0.4: 0.88 to 1.08; 0.025/0.1: 0.96 to 1.05;
  0.01/0.02 (17 k to 151 k elements): 0.98 to 1.00; joint_size_mm 0.003125:
  0.95 to 1.09; feature_elements 2: 0.91 to 1.03;
* fan-out with trace_thickness = 0.0001 (a thin-film-dominated 556 k element
  mesh): 1.01.

So within -12 % / +10 % everywhere measured; ``tests/test_robustness_inputs.py``
rechecks four default meshes to 10 %.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import gmsh
import numpy as np
from scipy.spatial import cKDTree

from ..errors import MeshError

GROWTH = 1.4  # size ratio between neighbouring elements in the graded zones (assemble._set_sizes)

# triangles per unit of integral 1/h^2 dA, measured on gmsh meshes made by assemble.build_model:
DENSITY = 2.34  # a region at a constant size (an equilateral mesh would give 4 / sqrt(3) = 2.31)
DENSITY_THIN = 4.0  # a film meshed at its thickness: gmsh makes two layers of triangles (4 per boundary edge);
# with feature_elements = n the size is thickness / n and still about two layers: DENSITY_THIN / n, >= DENSITY
DENSITY_GRADED = 2.95  # graded zones: the triangles come out smaller than the size field asks

# The default limit, for the machine this project is sized for (2 cores, 23 GB RAM, no swap).  Measured
# (issue 20) on the fan-out case refined by size_mm/board_size_mm, thermo-elastic run, pardiso, peak RSS:
#     25.6 k elements (104 k dofs)    0.37 GB     14 s
#      334 k elements (1.34 M dofs)   3.2 GB      94 s   (gmsh alone: 1.6 GB, 58 s)
#      675 k elements (2.71 M dofs)   6.2 GB     183 s
# i.e. about 2.2 kB per dof, 9 kB per element, growing slightly faster than linearly (the factor's fill).
# 1 million elements (about 4 M dofs) is then some 9-10 GB and 5 minutes of meshing and factorizing: two
# such cases side by side (a sweep's default two workers on two cores) still fit in 23 GB, and a cycling
# run's extra state (Anand variables in the joints, quasi-Newton vectors) has room.  2 million would be
# about 19-20 GB for one thermo-elastic solve: the machine's memory, with nothing left for a second worker.
DEFAULT_MAX_ELEMENTS = 1_000_000

NODES = 8  # quadrature nodes across a graded zone (geometric in the size)

PACKAGE_TERM = "package parts"
BOARD_TERM = "board"
THIN_TERM = "thin parts (films, pads)"
GRADING_TERM = "graded zones around thin parts"
JOINT_TERM = "joint interface bands"
TERM_KEY = {PACKAGE_TERM: "mesh.size_mm", BOARD_TERM: "mesh.board_size_mm", THIN_TERM: "mesh.feature_elements",
            GRADING_TERM: "mesh.size_mm", JOINT_TERM: "mesh.joint_size_mm"}


@dataclass
class Estimate:
    """Predicted element count of a section, with what it is made of."""

    total: int
    parts: dict[str, float] = field(default_factory=dict)  # term -> elements
    regions: dict[str, float] = field(default_factory=dict)  # region -> elements

    def dominant(self) -> tuple[str, float]:
        term = max(self.parts, key=self.parts.get)
        return term, self.parts[term] / max(self.total, 1)


def _mass(dim: int, tag: int) -> float:
    return float(gmsh.model.occ.getMass(dim, tag))


class _Painter:
    """The region at points, as the fragments resolved it: the highest-priority shape covering a point."""

    def __init__(self, shapes):
        self.order = sorted(range(len(shapes)), key=lambda i: (shapes[i].priority, i))
        self.shapes = shapes

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        owner = np.full(len(xy), -1, dtype=np.int64)
        by_x = np.argsort(xy[:, 0], kind="stable")
        xs = xy[by_x, 0]
        for i in self.order:
            out = self.shapes[i].outline
            if out[0] == "rect":
                x0, x1 = out[1], out[3]
            elif out[0] == "poly":
                x0, x1 = min(p[0] for p in out[1]), max(p[0] for p in out[1])
            else:
                x0, x1 = out[1] - out[3].R, out[1] + out[3].R
            cand = by_x[np.searchsorted(xs, x0, "left"):np.searchsorted(xs, x1, "right")]
            x, y = xy[cand, 0], xy[cand, 1]
            if out[0] == "rect":
                inside = (y >= out[2]) & (y <= out[4])
            elif out[0] == "poly":
                from matplotlib.path import Path as PolyPath  # 0.3 s of import: only when estimating

                inside = PolyPath(np.asarray(out[1], dtype=float)).contains_points(xy[cand])
            else:
                _, xc, y_top, ball = out
                yc = y_top - ball.z1
                inside = ((x - xc) ** 2 + (y - yc) ** 2 <= ball.R ** 2) & (y <= y_top) & (y >= y_top - ball.h)
            owner[cand[inside]] = i if self.shapes[i].region is not None else -1
        return owner


def _curve_points(c: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of curve ``c`` at the midpoints of equal parameter steps, and unit normals there."""
    lo, hi = gmsh.model.getParametrizationBounds(1, c)
    u = lo[0] + (np.arange(n) + 0.5) / n * (hi[0] - lo[0])
    xyz = np.asarray(gmsh.model.getValue(1, c, list(u))).reshape(-1, 3)[:, :2]
    der = np.asarray(gmsh.model.getDerivative(1, c, list(u))).reshape(-1, 3)[:, :2]
    norm = np.linalg.norm(der, axis=1, keepdims=True)
    tangent = der / np.where(norm > 0, norm, 1.0)
    return xyz, np.column_stack([-tangent[:, 1], tangent[:, 0]])


def estimate_elements(layout, surface_shape: dict, lines: dict, size: float, joint_size: float,
                      interface_layer: float, board_size: float | None, feature_elements: int,
                      shape_size, growth: float = GROWTH) -> Estimate:
    """Element count of the current gmsh model (fragments made, not meshed).

    ``layout``: the finalized :class:`~reliability.geometry.shapes.Layout`;
    ``surface_shape``: surface tag -> its :class:`~reliability.geometry.shapes.Shape`;
    ``lines``: physical line name -> curve tags (the joint interfaces are the
    ``*_package`` / ``*_board`` ones); ``shape_size``: assemble's
    ``_shape_size(shape, base, feature_elements)``.  Mirrors ``_set_sizes``.
    """
    a = growth - 1.0
    board_size = board_size or size
    coarse = max(size, board_size)
    parts: dict[str, float] = defaultdict(float)
    regions: dict[str, float] = defaultdict(float)

    def base_of(shape) -> float:
        return board_size if shape.region.startswith("board") else size

    # bulk, and the refined curves of _set_sizes: each surface finer than its base refines its boundary
    curve_size: dict[int, float] = {}
    for tag, shape in surface_shape.items():
        base = base_of(shape)
        s = shape_size(shape, base, feature_elements)
        area = _mass(2, tag)
        if s < base * 0.999:
            key = float(f"{s:.3g}")
            for _, c in gmsh.model.getBoundary([(2, tag)], combined=False, oriented=False):
                curve_size[abs(c)] = min(curve_size.get(abs(c), key), key)
        if s < base * 0.999 and shape.outline[0] != "ball":
            term, n = THIN_TERM, max(DENSITY_THIN / feature_elements, DENSITY) * area / s ** 2
        else:  # a joint refines its boundary but meshes its inside at the base size
            term, n = (BOARD_TERM if shape.region.startswith("board") else PACKAGE_TERM), DENSITY * area / base ** 2
        parts[term] += n
        regions[shape.region] += n

    interfaces = sorted({c for name, cs in lines.items() if name.endswith(("_package", "_board")) for c in cs})
    painter = _Painter(layout.shapes)
    shapes = layout.shapes
    bulk_h = np.array([(shape_size(sh, base_of(sh), feature_elements) if sh.region and sh.outline[0] != "ball"
                        else (base_of(sh) if sh.region else np.inf)) for sh in shapes] + [np.inf])
    base_h = np.array([base_of(sh) if sh.region else np.inf for sh in shapes] + [np.inf])
    is_joint = np.array([sh.joint is not None for sh in shapes] + [False])

    # distance samples, as gmsh's Distance fields take them (Sampling points per curve)
    def length(c):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, c)
        return float(np.hypot(x1 - x0, y1 - y0))

    groups: dict[float, list[int]] = defaultdict(list)
    for c, s in curve_size.items():
        groups[s].append(c)
    fields = []  # (s, dist_min, tree, curve id per sample, kind): "group" | "joint" | "band"

    def add_field(s, curves, dist_min, kind):
        # gmsh samples every curve of a field at 2 x (the longest) / s points, at most 4000; points
        # s/2 apart on each curve give the same distances to within s/4
        n_gmsh = min(max(20, 2 * max(length(c) for c in curves) / s), 4000)
        pts, ids = [], []
        for c in curves:
            xy, _ = _curve_points(c, int(min(max(8, 2 * length(c) / s), n_gmsh)))
            pts.append(xy)
            ids.append(np.full(len(xy), c))
        fields.append((s, dist_min, cKDTree(np.concatenate(pts)), np.concatenate(ids), kind))

    for s, curves in sorted(groups.items()):
        add_field(s, curves, 0.5 * s, "group")
    if interfaces:
        add_field(joint_size, interfaces, 0.5 * joint_size, "joint")  # grows outside the joints
        add_field(joint_size, interfaces, interface_layer, "band")  # inside the joints only, up to size_mm

    def size_at(xy, owner):
        """Background size at points and, per point, the (field, curve) that sets it."""
        h = np.minimum(base_h[owner], coarse)
        best_field = np.full(len(xy), -1)
        best_curve = np.full(len(xy), -1)
        for k in sorted(range(len(fields)), key=lambda k: fields[k][0]):  # finest first: h falls early
            s, dmin, tree, ids, kind = fields[k]
            todo = np.flatnonzero(h > s * (1 + 1e-9))
            if kind == "band":
                todo = todo[is_joint[owner[todo]]]
            # query in bins of the size already reached: a field only matters within its reach of that
            for chunk in np.array_split(todo[np.argsort(h[todo], kind="stable")], 4 if todo.size > 1000 else 1):
                if not chunk.size:
                    continue
                reach = dmin + (float(np.max(h[chunk])) - s) / a
                d, j = tree.query(xy[chunk], distance_upper_bound=reach, workers=-1 if chunk.size > 20000 else 1)
                j = np.minimum(j, len(ids) - 1)  # beyond the reach: d is inf, hk too
                cap = size if kind == "band" else coarse
                hk = np.minimum(s + a * np.maximum(d - dmin, 0.0), cap)
                better = hk < h[chunk] * (1 - 1e-9)
                sel = chunk[better]
                h[sel] = hk[better]
                best_field[sel] = k
                best_curve[sel] = ids[j[better]]
        return h, best_field, best_curve

    # quadrature lines normal to every refined curve, both sides, and half disks beyond its ends; a point
    # counts for the curve whose field sets the size there, so overlapping zones count once
    theta = (np.arange(8) + 0.5) / 8 * np.pi - np.pi / 2
    pts, wts, gen_field, gen_curve = [], [], [], []
    count = 0
    for k, (s, dmin, _, ids, kind) in enumerate(fields):
        curves = sorted(set(ids.tolist()))
        if kind == "group":
            curves = [c for c in curves if curve_size[c] == s]
        cap = size if kind == "band" else coarse
        nk = 3 if kind == "band" else 2
        d = (np.arange(nk) + 0.5) / nk * dmin  # the plateau [0, dmin] at s
        w = np.full(nk, dmin / nk)
        dens = np.full(nk, DENSITY if kind == "band" else DENSITY_GRADED)
        if cap > s:  # then h grows from s to cap: nodes geometric in h
            edges = s * (cap / s) ** (np.arange(NODES + 1) / NODES)
            hmid = np.sqrt(edges[:-1] * edges[1:])
            d = np.concatenate([d, dmin + (hmid - s) / a])
            w = np.concatenate([w, np.diff(edges) / a])
            dens = np.concatenate([dens, np.full(NODES, DENSITY_GRADED)])
        reach = max(cap - s, 0.0) / a
        for c in curves:
            ncurve = int(np.clip(math.ceil(length(c) / max(0.25 * reach, s)), 2, 64))
            xy, normal = _curve_points(c, ncurve)
            ds = _mass(1, c) / ncurve
            n0 = count
            for side in (1.0, -1.0):
                pts.append((xy[:, None, :] + side * d[None, :, None] * normal[:, None, :]).reshape(-1, 2))
                wts.append(np.tile(ds * w * dens, ncurve))
            lo, hi = gmsh.model.getParametrizationBounds(1, c)
            ends = np.asarray(gmsh.model.getValue(1, c, [lo[0], hi[0]])).reshape(2, 3)[:, :2]
            tans = np.asarray(gmsh.model.getDerivative(1, c, [lo[0], hi[0]])).reshape(2, 3)[:, :2]
            for end, tan in ((ends[0], -tans[0]), (ends[1], tans[1])):
                ang = math.atan2(tan[1], tan[0]) + theta
                dirs = np.column_stack([np.cos(ang), np.sin(ang)])
                pts.append((end[None, None, :] + d[None, :, None] * dirs[:, None, :]).reshape(-1, 2))
                wts.append(np.tile(d * w * dens * (np.pi / 8), 8))
            n1 = count = n0 + sum(len(q) for q in pts[-4:])
            gen_field.append(np.full(n1 - n0, k))
            gen_curve.append(np.full(n1 - n0, c))
    if pts:
        p = np.concatenate(pts)
        weight = np.concatenate(wts)
        gen_field, gen_curve = np.concatenate(gen_field), np.concatenate(gen_curve)
        owner = painter(p)
        h, fk, fc = size_at(p, owner)
        mine = (fk == gen_field) & (fc == gen_curve) & (owner >= 0)
        extra = np.where(mine, np.maximum(1.0 / h ** 2 - 1.0 / bulk_h[owner] ** 2, 0.0) * weight, 0.0)
        joint_kind = np.array([f[4] != "group" for f in fields])
        parts[GRADING_TERM] += float(np.sum(extra[~joint_kind[gen_field]]))
        parts[JOINT_TERM] += float(np.sum(extra[joint_kind[gen_field]]))
        per_shape = np.bincount(owner[mine], weights=extra[mine], minlength=len(shapes))
        for i in np.flatnonzero(per_shape):
            regions[shapes[i].region] += float(per_shape[i])
    return Estimate(int(round(sum(parts.values()))), dict(parts), dict(regions))


def lower_bound_from_layout(layout, size: float, joint_size: float, interface_layer: float,
                            board_size: float | None) -> Estimate:
    """A quick lower bound of the element count from the layout alone, before any OpenCASCADE work.

    Fragmenting thousands of shapes (a body in um typed for mm has thousands of balls) takes minutes by
    itself, so this runs first: the shapes painted by priority on a grid of at most 400,000 points give
    every region's area at its base size (thin parts, finer, are left out), and every joint's two pad
    bands at ``joint_size``.  Both are below what the full estimate will find.
    """
    board_size = board_size or size
    parts: dict[str, float] = defaultdict(float)
    shapes = list(layout.shapes)
    boxes = []
    for sh in shapes:
        out = sh.outline
        if out[0] == "rect":
            boxes.append(out[1:5])
        elif out[0] == "poly":
            xy = np.asarray(out[1], dtype=float)
            boxes.append((*xy.min(axis=0), *xy.max(axis=0)))
        else:
            _, xc, y_top, ball = out
            boxes.append((xc - ball.R, y_top - ball.h, xc + ball.R, y_top))
    if not boxes:
        return Estimate(0)
    b = np.asarray(boxes, dtype=float)
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    step = max(min(size, board_size), math.sqrt((x1 - x0) * (y1 - y0) / 4e5))
    gx = np.arange(x0 + step / 2, x1, step)
    gy = np.arange(y0 + step / 2, y1, step)
    if gx.size and gy.size:
        xy = np.column_stack([np.repeat(gx, gy.size), np.tile(gy, gx.size)])
        owner = _Painter(shapes)(xy)
        for i, n in zip(*np.unique(owner[owner >= 0], return_counts=True)):
            board = shapes[i].region.startswith("board")
            parts[BOARD_TERM if board else PACKAGE_TERM] += DENSITY * n * step ** 2 / (board_size if board else
                                                                                      size) ** 2
    for j in layout.joints:
        depth = min(interface_layer, 0.5 * (j.y_top - j.y_bottom))
        parts[JOINT_TERM] += DENSITY * (j.pad_top_mm + j.pad_bottom_mm) * depth * max(
            1 / joint_size ** 2 - 1 / size ** 2, 0.0)
    return Estimate(int(round(sum(parts.values()))), dict(parts))


def check_element_budget(est: Estimate, max_elements: int | None, what: str, settings: dict[str, float],
                         at_least: bool = False) -> None:
    """Refuse a section whose estimate exceeds ``max_elements`` (``None``: no limit).

    ``what``: the section ("fan_out assembly section"); ``settings``: the [mesh] keys and values, to name
    the one behind most of the elements; ``at_least``: ``est`` is :func:`lower_bound_from_layout`'s.
    """
    if max_elements is None or est.total <= max_elements:
        return
    term, share = est.dominant()
    key = TERM_KEY[term]
    raise MeshError(
        f"mesh.max_elements = {max_elements:,}: the {what} would have {'at least' if at_least else 'about'} "
        f"{est.total:,} elements (estimated before meshing from the dimensions and the [mesh] sizes; "
        f"{share:.0%} of them in the {term} at {key} = {settings[key]:g}); coarsen {key}, check that "
        "geometry.dimensions_mm are in mm, or raise mesh.max_elements"
    )
