"""3D quarter model of the fan-out package on its test board, with every solder ball of the quarter.

The family description is the 2D section's (:mod:`reliability.geometry.fan_out`: ``Options``,
``Dimensions`` with the board's :class:`~reliability.geometry.board.BoardDimensions`), built as a
quarter (x, y >= 0; symmetry planes x = 0 and y = 0; z up) with gmsh's OpenCASCADE kernel.  Lengths
in mm.  The datum z = 0 is the board-side pad interface (the board pads' top), so the stand-off h
runs from z = 0 to the package-side interface z = h.  Top to bottom:

* the package stack of the free quarter model (:func:`.quarter3d.fan_out_layers`: solder mask,
  with ``rdl_layers = 2`` the dielectric, the mold under the die, the die beside mold, with
  ``backside = "encapsulated"`` the mold cap), its bottom, the solder mask's, at
  z_pkg = h - (solder_mask_thickness - pad thickness);
* under every ball position (:func:`.board.ball_positions` in x and in y: the full array of the
  quarter) a round copper ball pad (``ball_pad_diameter``; ``trace_thickness``, or
  ``second_trace_thickness`` with two RDL layers) embedded in the top of the solder mask, as in the
  2D section: solder-mask defined, the mask opening (``solder_mask_opening``) under it is solder;
* each joint the reflowed truncated sphere of :mod:`.ball` between the package-side wetted radius
  a1 = opening / 2 (at z = h, the pad's bottom) and the board pad radius a2 = board_pad_ratio x
  ball_diameter / 2 (at z = 0), sphere centre z1 below z = h, the whole ball.py volume.  Inside
  the mask (z_pkg < z < h) the opening takes the ball's shape: it widens from a1 at the pad to the
  sphere's radius at the mask's bottom (0.137 mm for the default 0.125 mm), as a real opening's
  taper.  The 2D section paints the mask over that thin ring instead (its joint is 0.5 % smaller);
  in 3D the ring would be a 0.012 mm wide annulus on the package bottom whose curved elements fold;
* the board: round copper pads (radius a2, ``board_pad_thickness``, from z = -t_pad to 0), the
  board solder mask (``board_mask_thickness`` on the laminate) with non-solder-mask-defined
  openings (pad radius + ``board_mask_clearance``: an air gap, not meshed, around each pad), and the
  FR-4 laminate (``pcb_thickness``), all the quarter of a board ``board_overhang`` wider than the
  body each side.

A ball whose centre lies on a symmetry plane (``first_ball_mm = 0``, an odd count per row) is cut
by it: its half or quarter is in the model, as the quarter's share.  All parts are fragmented
together (``occ.fragment``), so the mesh is conformal across every interface; where parts overlap
the higher priority owns the volume, as the 2D sections' painting (:mod:`.shapes`).

Mesh: gmsh's Delaunay mesher at first order with a background size field, then ``setOrder(2)``:
10-node tetrahedra with the mid-edge nodes on the spheres and cylinders (an element the curving
would fold is straightened, :func:`_straighten_inverted`; none on the meshes measured).  The size
is ``joint_size_mm`` within the sphere about each joint that holds it and its two pads, growing by
1.4 per element to ``size_mm``; ``size_mm`` elsewhere in the package and board, except package
layers thicker than ``layer_size_mm``, which mesh at min(size_mm, layer_size_mm) so that they are
at least ceil(t / layer_size_mm) elements thick.  An unstructured mesh is at least one element
through every part (each part is a volume of its own); films thinner than the element size get flat
elements, as the free quarter's prisms, and a few slivers (mean-ratio quality down to 0.03, about 1
in 1000 elements, in the 5 um ball pads and the board mask; gmsh's Netgen optimizer removes them
at 4 x the meshing time and 40 % more elements, so it is not used).
Before any geometry is made the element count is estimated (:func:`estimate_assembly_elements`) and a
count above ``max_elements`` refused with a one-line :class:`~reliability.errors.MeshError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GeometryError, MeshError
from ..model import Model
from . import fan_out
from .ball import TruncatedSphere, ball_joint
from .board import BoardDimensions, ball_positions, check_row
from .gmsh_tools import gmsh_session
from .quarter3d import DEFAULT_MATERIALS as PACKAGE_MATERIALS
from .quarter3d import QUARTER_LAYER_MM, fan_out_layers, tet10_from_gmsh
from .shapes import BODY, DIE, LAYER, METAL

ASSEMBLY_SIZE_MM = 0.25  # default size in the package and board away from the joints
ASSEMBLY_JOINT_MM = 0.075  # default size in and near the joints
TETS_PER_BALL_FLOOR = 470.0  # the fewest tetrahedra a ball with its pads and openings takes (measured, see below)
GROWTH = 1.4  # element size ratio per element away from the joints
OPENING = LAYER + 5  # the joint wins over the mask: the mask opening takes the ball's shape
HOLE = DIE  # the board mask's opening around a pad: a void above the mask, below the pad (METAL)
# tetrahedra per (size^2 x min(size, thickness)) of volume, gmsh's Delaunay mesher with this module's
# size field (calibrated on the fan-out quarter, balls_per_half 2 to 8, joint_size 0.05 to 0.1 mm)
TETS_PER_SIZE3 = 7.0
BOARD_MATERIALS = {"board_pad": "copper", "board_mask": "solder-mask", "board": "fr4", "trace_1": "copper",
                   "trace_2": "copper"}
SOLDER_MATERIAL = "SAC305"  # as the 2D fan-out's joints (fan_out.BUMP_MATERIAL); names are case-insensitive
OMITTED = ("bumps (the stand-off layer under the die is mold)",
           "trace copper other than the ball pads (the routing, and with rdl_layers = 2 the vias and "
           "first-trace landings under the pads)",
           "the board's internal copper (a uniform FR-4 laminate)")


@dataclass
class _Part:
    """One solid before the fragment: its region (None: a void), priority, and joint (index) if solder."""

    region: str | None
    priority: int
    kind: str  # "box" | "cylinder" | "segment"
    args: tuple  # box: (x0, y0, z0, dx, dy, dz); cylinder: (x, y, z0, dz, r); segment: (x, y, zc, R, za, zb)
    cut: bool = False  # crosses a symmetry plane: intersect with the quarter
    joint: int | None = None


@dataclass
class AssemblyGeometry:
    """Everything the builder, the estimate and the tests derive from the dimensions (mm)."""

    W2: float  # body half width
    D2: float  # die half width
    Wb: float  # board half width
    xs: list[float]  # ball centres along x (and y) of the quarter
    sphere: TruncatedSphere
    z_pkg: float  # package (solder mask) bottom
    layers: list[dict]  # the package stack, z0/z1 absolute
    pad_region: str
    r_pad: float  # package copper pad radius
    t_pad: float  # package copper pad thickness
    r_open: float  # mask opening radius = wetted radius a1
    r_hole: float  # board mask opening radius
    t_bpad: float
    t_bmask: float
    t_pcb: float

    @property
    def h(self) -> float:
        return self.sphere.h

    @property
    def z_sphere_centre(self) -> float:
        return self.h - self.sphere.z1

    @property
    def r_at_pkg(self) -> float:
        """The sphere's radius at the package bottom (where it meets the mask's bottom)."""
        return self.sphere.half_width_at(self.h - self.z_pkg)

    @property
    def z_top(self) -> float:
        return self.layers[-1]["z1"]

    @property
    def z_board_bottom(self) -> float:
        return -self.t_bpad - self.t_pcb

    def fraction(self, x: float, y: float) -> float:
        """Share of a ball at (x, y) inside the quarter: 1, 1/2 on one symmetry plane, 1/4 on both."""
        return (0.5 if abs(x) < 1e-12 else 1.0) * (0.5 if abs(y) < 1e-12 else 1.0)

    def joint_volume(self) -> float:
        """Solder of one whole joint as modelled: the truncated sphere of ball.py."""
        return self.sphere.volume

    def cluster_radius(self) -> float:
        """Radius about a joint's mid-height centre (x, y, h / 2) that holds the joint and both pads."""
        zc, s = 0.5 * self.h, self.sphere
        pts = [(self.r_pad, self.h + self.t_pad), (self.r_hole, -self.t_bpad + self.t_bmask),
               (s.a2, -self.t_bpad), (self.r_at_pkg, self.z_pkg)]
        z_eq = self.z_sphere_centre
        if 0.0 <= z_eq <= self.z_pkg:
            pts.append((s.R, z_eq))
        return max(math.hypot(r, z - zc) for r, z in pts)


def assembly_geometry(opts: fan_out.Options, d: fan_out.Dimensions, first_ball_mm: float | None = None
                      ) -> AssemblyGeometry:
    """Lay the quarter assembly out (the 2D section's checks, each a one-line GeometryError)."""
    W2, D2 = d.body_width / 2, d.die_width / 2
    if d.solder_mask_opening > d.ball_pad_diameter:
        raise GeometryError(f"solder mask opening {d.solder_mask_opening:g} mm is wider than its ball pad "
                            f"{d.ball_pad_diameter:g} mm (solder-mask-defined pads need opening <= pad)")
    t_sm = d.solder_mask_thickness
    t_pad = d.trace_thickness if opts.rdl_layers == 1 else d.second_trace_thickness
    if t_pad >= t_sm:
        raise GeometryError("ball pad (trace) thickness must be below the solder mask thickness")
    sphere = ball_joint(d.ball_diameter, d.solder_mask_opening / 2, d.board_pad_ratio * d.ball_diameter / 2,
                        d.standoff)
    d0 = t_sm - t_pad  # depth of the mask opening below the pad
    if d0 >= sphere.h:
        raise GeometryError(f"stand-off {sphere.h:.4g} mm is not above the mask opening's depth {d0:g} mm")
    if d.board_mask_thickness >= d.board_pad_thickness + 0.5 * (sphere.h - d0):
        raise GeometryError("board solder mask reaches the package: thinner mask or higher stand-off needed")
    if first_ball_mm is not None and first_ball_mm < 0:
        raise GeometryError(f"first ball at {first_ball_mm:g} mm: a quarter's balls are at x, y >= 0")
    xs = ball_positions(W2, d.ball_pitch, d.ball_pad_diameter, d.balls_per_half, first=first_ball_mm)
    check_row(xs, d.ball_pitch, max(sphere.max_width, d.ball_pad_diameter), W2)
    z_pkg = sphere.h - d0
    layers = [{**L, "z0": L["z0"] + z_pkg, "z1": L["z1"] + z_pkg} for L in fan_out_layers(opts, d)]
    return AssemblyGeometry(W2=W2, D2=D2, Wb=W2 + d.board_overhang, xs=list(xs), sphere=sphere, z_pkg=z_pkg,
                            layers=layers, pad_region="trace_1" if opts.rdl_layers == 1 else "trace_2",
                            r_pad=d.ball_pad_diameter / 2, t_pad=t_pad, r_open=d.solder_mask_opening / 2,
                            r_hole=sphere.a2 + d.board_mask_clearance, t_bpad=d.board_pad_thickness,
                            t_bmask=d.board_mask_thickness, t_pcb=d.pcb_thickness)


def _layer_size(t: float, size_mm: float, layer_size_mm: float) -> float:
    """A package layer's element size: thicker than layer_size_mm, at most layer_size_mm."""
    return min(size_mm, layer_size_mm) if t > layer_size_mm else size_mm


def _threshold(dist: np.ndarray, joint_size_mm: float, size_mm: float, r0: float) -> np.ndarray:
    """The size field about the joints: joint_size_mm within r0 of a joint's centre, then growing."""
    reach = max(size_mm - joint_size_mm, 0.0) / (GROWTH - 1.0)
    t = np.clip((dist - r0) / max(reach, 1e-12), 0.0, 1.0)
    return joint_size_mm + t * (size_mm - joint_size_mm)


def estimate_assembly_elements(g: AssemblyGeometry, size_mm: float, joint_size_mm: float,
                               layer_size_mm: float) -> float:
    """Tetrahedra of the quarter assembly before any geometry is made.

    The size field of the mesh, integrated: every layer (package stack, board mask, laminate) sampled
    on a plan grid of joint_size / 2 and through its thickness, each sample holding
    TETS_PER_SIZE3 / (s^2 min(s, t)) tetrahedra per mm^3 (s the local size, t the layer's
    thickness: a film thinner than s is one flat element through), plus the joints and pads
    (volumes at joint_size_mm).  Measured within a factor 2 of the mesh (tests).
    """
    r0 = g.cluster_radius()
    xs = np.asarray(g.xs)
    # a grid of joint_size / 2, at most 400 x 400 (a fine joint size must not make the estimate the cost)
    n_cells = max(8, min(400, int(math.ceil(2.0 * g.Wb / joint_size_mm))))

    def nearest(u):  # in-plane distance to the nearest row of balls (the grid is a tensor product)
        k = np.clip(np.searchsorted(xs, u), 1, len(xs) - 1) if len(xs) > 1 else np.zeros(u.shape, dtype=int)
        return np.minimum(np.abs(u - xs[k]), np.abs(u - xs[k - 1])) if len(xs) > 1 else np.abs(u - xs[0])

    def layer_count(half_width, z0, z1, s_cap):
        n = max(8, int(math.ceil(n_cells * half_width / g.Wb)))
        u = (np.arange(n) + 0.5) * half_width / n
        du = nearest(u)
        plan2 = du[:, None] ** 2 + du[None, :] ** 2  # (n, n)
        t = z1 - z0
        nz = max(1, min(20, int(math.ceil(t / joint_size_mm))))
        zz = z0 + (np.arange(nz) + 0.5) * t / nz
        total = 0.0
        for z in zz:  # a few slices through the layer's thickness
            s = np.minimum(_threshold(np.sqrt(plan2 + (z - 0.5 * g.h) ** 2), joint_size_mm, size_mm, r0), s_cap)
            total += float(np.sum(1.0 / (s**2 * np.minimum(s, t)))) * (half_width / n) ** 2 * t / nz
        return TETS_PER_SIZE3 * total

    count = 0.0
    for L in g.layers:
        t = L["z1"] - L["z0"]
        count += layer_count(g.W2, L["z0"], L["z1"], _layer_size(t, size_mm, layer_size_mm))
    count += layer_count(g.Wb, -g.t_bpad, -g.t_bpad + g.t_bmask, size_mm)
    count += layer_count(g.Wb, g.z_board_bottom, -g.t_bpad, size_mm)
    share = sum(g.fraction(x, y) for x in g.xs for y in g.xs)
    js = joint_size_mm
    per_joint = (g.joint_volume() / js**3 + math.pi * g.r_pad**2 / js**2 + math.pi * g.sphere.a2**2 * g.t_bpad
                 / (js**2 * min(js, g.t_bpad)))
    # at coarse sizes the pads, the mask openings and the ball's curvature set the mesh, not the size field:
    # the 16 x 16 array's quarter at 0.6 / 0.3 mm (the submodel's global model) has 470 tetrahedra per
    # ball where the field gives 117
    return max(count + TETS_PER_SIZE3 * share * per_joint, TETS_PER_BALL_FLOOR * share)


def stack_parts(g: AssemblyGeometry, x0: float, x1: float, y0: float, y1: float) -> list[_Part]:
    """The package layers and the board's mask and laminate as boxes within the plan rectangle
    [x0, x1] x [y0, y1] (mm), each clipped to its own extent (package W2, die D2, board Wb); a part
    that does not reach into the rectangle is left out.  (0, Wb, 0, Wb): the whole quarter."""
    out: list[_Part] = []

    def box(region, priority, extent, z0, t):
        bx, by = min(x1, extent) - x0, min(y1, extent) - y0
        if bx > 1e-12 and by > 1e-12:
            out.append(_Part(region, priority, "box", (x0, y0, z0, bx, by, t)))

    for L in g.layers:
        t = L["z1"] - L["z0"]
        outside_priority = LAYER if L["outside"] in ("solder_mask", "dielectric") else BODY
        box(L["outside"], outside_priority, g.W2, L["z0"], t)
        if L["inside"] != L["outside"]:
            box(L["inside"], DIE, g.D2, L["z0"], t)
    box("board_mask", LAYER, g.Wb, -g.t_bpad, g.t_bmask)
    box("board", BODY, g.Wb, g.z_board_bottom, g.t_pcb)
    return out


def joint_reach(g: AssemblyGeometry) -> float:
    """In-plane radius (mm) about a ball's axis that holds its solder, its pads and the board mask's opening."""
    return max(g.r_pad, g.r_hole, g.sphere.max_width / 2)


def joint_parts(g: AssemblyGeometry, x: float, y: float, name: str, k: int) -> list[_Part]:
    """The four solids of the joint at (x, y): package pad, solder (the mask opening takes its shape),
    board pad, and the board mask's opening (a void); cut by the quarter where it crosses x = 0 or y = 0."""
    s, zc = g.sphere, g.z_sphere_centre
    reach = joint_reach(g)
    cut = x < reach or y < reach
    return [
        _Part(g.pad_region, METAL, "cylinder", (x, y, g.h, g.t_pad, g.r_pad), cut),
        _Part(name, OPENING, "segment", (x, y, zc, s.R, 0.0, g.h), cut, k),
        _Part("board_pad", METAL, "cylinder", (x, y, -g.t_bpad, g.t_bpad, s.a2), cut),
        _Part(None, HOLE, "cylinder", (x, y, -g.t_bpad, g.t_bmask, g.r_hole), cut),
    ]


def joint_grid(g: AssemblyGeometry) -> list[dict]:
    """The joints of the quarter named from the package centre out: by distance, then row, then column
    (as the 2D solder_1, ...); name, row, col, x_mm, y_mm, dnp_mm, cut_by, fraction."""
    grid = sorted(((math.hypot(x, y), j, i, x, y) for i, x in enumerate(g.xs) for j, y in enumerate(g.xs)),
                  key=lambda t: (round(t[0], 9), t[1], t[2]))
    joints = []
    for k, (dnp, row, col, x, y) in enumerate(grid):
        cut_by = [p for p, c in (("x = 0", x), ("y = 0", y)) if abs(c) < 1e-12]
        joints.append(dict(name=f"solder_{k + 1}", row=row, col=col, x_mm=x, y_mm=y, dnp_mm=dnp, cut_by=cut_by,
                           fraction=g.fraction(x, y)))
    return joints


def _parts(g: AssemblyGeometry) -> tuple[list[_Part], list[dict]]:
    """The solids (before the fragment) and the joints of the quarter (named from the centre out)."""
    parts = stack_parts(g, 0.0, g.Wb, 0.0, g.Wb)
    joints = joint_grid(g)
    for k, j in enumerate(joints):
        parts += joint_parts(g, j["x_mm"], j["y_mm"], j["name"], k)
    return parts, joints


def _make(occ, part: _Part, quarter_box) -> list[tuple[int, int]]:
    if part.kind == "box":
        return [(3, occ.addBox(*part.args))]
    if part.kind == "cylinder":
        x, y, z0, dz, r = part.args
        dt = [(3, occ.addCylinder(x, y, z0, 0, 0, dz, r))]
    else:
        # a sphere between two latitudes: OCC closes it with the two plane discs
        x, y, zc, R, za, zb = part.args
        dt = [(3, occ.addSphere(x, y, zc, R, -1, math.asin((za - zc) / R), math.asin((zb - zc) / R)))]
    if part.cut:
        # the quarter's share of a solid that crosses a symmetry plane (a no-op for one that only comes near)
        dt, _ = occ.intersect(dt, [(3, occ.copy([quarter_box])[0][1])])
        dt = [d for d in dt if d[0] == 3]
    return dt


def build_fan_out_assembly_quarter(options: dict | None = None, dimensions: dict | None = None,
                                   board: dict | None = None, size_mm: float = ASSEMBLY_SIZE_MM,
                                   joint_size_mm: float = ASSEMBLY_JOINT_MM,
                                   layer_size_mm: float = QUARTER_LAYER_MM, max_elements: int | None = None,
                                   balls_per_half: int | None = None, *, first_ball_mm: float | None = None,
                                   source: str = "geometry") -> Model:
    """The fan-out package on its board, every ball of the quarter, as 10-node tetrahedra (module doc).

    ``options`` / ``dimensions``: the fan-out family's (:mod:`.fan_out`); ``board``: overrides of the
    board's dimensions (:class:`~reliability.geometry.board.BoardDimensions` keys, over those in
    ``dimensions``); ``balls_per_half``: balls per row of the quarter (default: as many as fit the
    body, 8 for the default 8 mm body at 0.5 mm pitch); ``first_ball_mm``: the first row's centre
    (default pitch / 2 as the 2D section; 0 puts a row on each symmetry plane, cut by it).

    Returns a :class:`~reliability.model.Model` with (N, 3) nodes and (E, 10) elements; regions
    ``solder_mask``, [``dielectric``], ``mold``, ``die``, ``trace_1`` (``trace_2``: the ball pads),
    ``solder_1`` ... (one per joint, from the centre out), ``board_pad``, ``board_mask``, ``board``;
    boundaries (node indices) ``symmetry_x`` (x = 0), ``symmetry_y`` (y = 0), ``board_bottom``,
    ``bottom`` (the package's bottom, the solder mask's, where it is not joined to a ball), ``top``
    (the package top) and ``z_fix`` (one node: the board bottom's corner on the line x = y = 0, the
    node :func:`~reliability.analysis.thermoelastic3d.quarter_supports` holds in z); ``info`` as the
    free quarter's plus ``joints`` (one dict per joint: name, row, col, x_mm, y_mm, dnp_mm, cut_by,
    fraction, interface_package_z_mm, interface_board_z_mm, package_pad_radius_mm,
    package_wetted_radius_mm, board_pad_radius_mm, standoff_mm, sphere_radius_mm, volume_mm3 (the
    whole ball, ball.py), model_volume_mm3 (its share as modelled), elements).
    """
    opts, d = validated_inputs(options, dimensions, board, balls_per_half, source,
                               size_mm=size_mm, joint_size_mm=joint_size_mm, layer_size_mm=layer_size_mm)
    g = assembly_geometry(opts, d, first_ball_mm)
    estimate = estimate_assembly_elements(g, size_mm, joint_size_mm, layer_size_mm)
    n_balls = len(g.xs) ** 2
    if max_elements is not None and estimate > max_elements:
        raise MeshError(f"mesh.size_mm = {size_mm:g}, mesh.joint_size_mm = {joint_size_mm:g}: the assembly quarter "
                        f"model ({n_balls} balls) would have about {estimate:.3g} tetrahedra, above mesh.max_elements "
                        f"= {max_elements}; give larger sizes or fewer balls (balls_per_half)")
    parts, joints = _parts(g)
    zlo, zhi = g.z_board_bottom, g.z_top
    mesh = mesh_parts(g, parts, (0, 0, zlo - 1, 2 * g.Wb, 2 * g.Wb, zhi - zlo + 2), size_mm, joint_size_mm,
                      layer_size_mm, label="fan-out assembly quarter")
    nodes, el = mesh.nodes, mesh.elements
    names = region_names(g, [j["name"] for j in joints])
    region = element_regions(parts, names, mesh, label="assembly quarter")

    x, y, z = nodes.T
    scale = float(np.ptp(nodes, axis=0).max())
    tol = 1e-9 * scale
    package = np.isin(region, [names.index(n) for n in ("solder_mask", "dielectric", "mold", "die") if n in names])
    on_bottom = np.zeros(nodes.shape[0], dtype=bool)
    on_bottom[np.unique(el[package])] = True  # nodes of package elements ...
    on_bottom &= np.abs(z - g.z_pkg) <= tol  # ... on the mask's bottom plane
    axis = np.flatnonzero((x == 0.0) & (y == 0.0))
    boundaries = {"symmetry_x": np.flatnonzero(x == 0.0), "symmetry_y": np.flatnonzero(y == 0.0),
                  "board_bottom": np.flatnonzero(np.abs(z - g.z_board_bottom) <= tol),
                  "bottom": np.flatnonzero(on_bottom), "top": np.flatnonzero(np.abs(z - g.z_top) <= tol),
                  "z_fix": axis[np.argmin(z[axis])][None]}
    s = g.sphere
    describe_joints(g, joints, names, region)
    defaults = default_materials(names)
    info = dict(
        family="fan_out", model="quarter_3d_assembly", board=True, options=opts.model_dump(mode="json"),
        dimensions_mm=d.model_dump(mode="json"), body_half_width_mm=g.W2, die_half_width_mm=g.D2,
        board_half_width_mm=g.Wb, omitted=list(OMITTED), default_materials=defaults, joints=joints,
        layers=[dict(L) for L in g.layers], thickness_mm=g.z_top - g.z_board_bottom,
        package_bottom_z_mm=g.z_pkg, package_top_z_mm=g.z_top, board_bottom_z_mm=g.z_board_bottom,
        standoff_mm=s.h, board_pad_diameter_mm=2 * s.a2, balls_per_half=len(g.xs), ball_positions_mm=g.xs,
        z_datum="z = 0 at the board pads' top (the board-side interface); the package-side interface at z = "
                "standoff_mm", supports="symmetry_x: u_x = 0, symmetry_y: u_y = 0, z_fix: u_z = 0 (rigid motion)",
        size_mm=size_mm, joint_size_mm=joint_size_mm, layer_size_mm=layer_size_mm, joint_zone_radius_mm=
        g.cluster_radius(), estimated_elements=float(estimate), straightened_elements=mesh.straightened,
        geometry_seconds=mesh.geometry_s, mesh_seconds=mesh.mesh_s)
    return Model(nodes=nodes, elements=el, element_region=region, region_names=names, boundaries=boundaries,
                 source=f"fan_out assembly quarter 3D ({opts.backside}, rdl {opts.rdl_layers}, {n_balls} balls), "
                        f"size {size_mm:g} / joint {joint_size_mm:g} mm", info=info)


def validated_inputs(options: dict | None, dimensions: dict | None, board: dict | None, balls_per_half: int | None,
                     source: str, **sizes: float) -> tuple[fan_out.Options, fan_out.Dimensions]:
    """The fan-out family's options and dimensions (mm) with the board's overrides, validated; every
    ``sizes`` value (mesh sizes, mm) must be positive.  Each failure is a one-line GeometryError."""
    import pydantic

    from ..validation import format_error

    dims = dict(dimensions or {})
    if board:
        try:  # the board's own keys only
            BoardDimensions.model_validate(board)
        except pydantic.ValidationError as err:
            raise GeometryError(format_error(err, source, BoardDimensions, "board")) from None
        dims.update(board)
    if balls_per_half is not None:
        dims["balls_per_half"] = balls_per_half
    try:
        opts = fan_out.Options.model_validate(options or {})
    except pydantic.ValidationError as err:
        raise GeometryError(format_error(err, source, fan_out.Options, "geometry")) from None
    try:
        d = fan_out.Dimensions.model_validate(dims)
    except pydantic.ValidationError as err:
        raise GeometryError(format_error(err, source, fan_out.Dimensions, "geometry.dimensions_mm")) from None
    for name, value in sizes.items():
        if not value > 0:
            raise GeometryError(f"{source}: mesh.{name} = {value!r}: must be a positive length (mm)")
    if d.die_width >= d.body_width:
        raise GeometryError(f"die width {d.die_width:g} mm is not smaller than the body width {d.body_width:g} mm")
    return opts, d


@dataclass
class MeshedParts:
    """The fragmented, meshed solids: (N, 3) nodes, (E, 10) elements, each element's geometry volume
    (``entity``), the part that owns each volume, and the cost (s)."""

    nodes: np.ndarray
    elements: np.ndarray
    entity: np.ndarray
    volume_part: dict
    existing: list
    geometry_s: float
    mesh_s: float
    straightened: int


def mesh_parts(g: AssemblyGeometry, parts: list[_Part], clip_box: tuple, size_mm: float, joint_size_mm: float,
               layer_size_mm: float, centres: list[tuple[float, float]] | None = None,
               label: str = "fan-out assembly") -> MeshedParts:
    """Make ``parts`` (the ``cut`` ones intersected with ``clip_box`` = (x0, y0, z0, dx, dy, dz), mm),
    fragment them (the higher priority owns an overlap; region None is a void, removed) and mesh with
    the joints' size field about ``centres`` (ball axes (x, y); default every ball of ``g``): 10-node
    tetrahedra, curved on the spheres and cylinders, folded elements straightened."""
    import time

    t0 = time.perf_counter()
    with gmsh_session("quarter3d_assembly"):
        import gmsh

        occ = gmsh.model.occ
        quarter_box = (3, occ.addBox(*clip_box))
        inputs, owner = [], []
        for i, part in enumerate(parts):  # a loop over solids (a few per ball), not elements
            for dt in _make(occ, part, quarter_box):
                inputs.append(dt)
                owner.append(i)
        occ.remove([quarter_box], recursive=True)
        _, out_map = occ.fragment(inputs, [])
        occ.synchronize()
        covering: dict[int, set[int]] = {}
        for k, pieces in enumerate(out_map):
            for dim, tag in pieces:
                if dim == 3:
                    covering.setdefault(tag, set()).add(owner[k])
        volume_part = {tag: max(idx, key=lambda i: (parts[i].priority, i)) for tag, idx in covering.items()}
        voids = [(3, t) for t, i in volume_part.items() if parts[i].region is None]
        if voids:
            occ.remove(voids, recursive=True)
            occ.synchronize()
        existing = sorted(t for _, t in gmsh.model.getEntities(3))
        volume_part = {t: volume_part[t] for t in existing}
        geometry_s = time.perf_counter() - t0
        _size_field(g, parts, volume_part, size_mm, joint_size_mm, layer_size_mm, centres)
        gmsh.option.setNumber("Mesh.ElementOrder", 1)
        try:
            gmsh.model.mesh.generate(3)
            gmsh.model.mesh.setOrder(2)
        except Exception as exc:  # gmsh reports its failures as a bare Exception
            if type(exc) is not Exception:
                raise
            raise GeometryError(f"gmsh cannot mesh the {label} ({exc}); check the dimensions (mm) "
                                "and the mesh sizes") from None
        nodes, el, entity = tet10_from_gmsh(existing, curved=True)
    straightened = _straighten_inverted(nodes, el)
    mesh_s = time.perf_counter() - t0 - geometry_s
    return MeshedParts(nodes, el, entity, volume_part, existing, geometry_s, mesh_s, straightened)


def region_names(g: AssemblyGeometry, joint_names: list[str]) -> list[str]:
    """Region names in model order: the package layers, the ball pads, the joints, the board's parts."""
    names: list[str] = []
    for L in g.layers:
        for n in (L["outside"], L["inside"]):
            if n not in names:
                names.append(n)
    return names + [g.pad_region] + list(joint_names) + ["board_pad", "board_mask", "board"]


def element_regions(parts: list[_Part], names: list[str], mesh: MeshedParts, label: str) -> np.ndarray:
    """(E,) region index of every element (its volume's owning part); a region left without elements
    is a one-line GeometryError."""
    lut = np.full(max(mesh.existing) + 1, -1, dtype=np.int64)
    for t, i in mesh.volume_part.items():  # a loop over geometry volumes
        lut[t] = names.index(parts[i].region)
    region = lut[mesh.entity]
    missing = sorted(set(range(len(names))) - set(np.unique(region).tolist()))
    if missing:
        raise GeometryError(f"{label}: region(s) {', '.join(names[i] for i in missing)} vanished in the "
                            "geometry (covered by other parts)")
    return region


def describe_joints(g: AssemblyGeometry, joints: list[dict], names: list[str], region: np.ndarray) -> None:
    """Add each joint's interface heights, radii, volumes (mm, mm^3) and elements to its dict (in place)."""
    s = g.sphere
    for j in joints:  # a loop over joints
        r = names.index(j["name"])
        j.update(interface_package_z_mm=g.h, interface_board_z_mm=0.0, package_pad_radius_mm=g.r_pad,
                 package_wetted_radius_mm=s.a1, board_pad_radius_mm=s.a2, standoff_mm=s.h, sphere_radius_mm=s.R,
                 volume_mm3=s.volume, model_volume_mm3=j["fraction"] * g.joint_volume(),
                 elements=np.flatnonzero(region == r).tolist())


def default_materials(names: list[str]) -> dict[str, str]:
    """The library material of every region (package stack, board parts, SAC305 for the joints)."""
    return {n: PACKAGE_MATERIALS.get(n) or BOARD_MATERIALS.get(n) or SOLDER_MATERIAL for n in names}


def _straighten_inverted(nodes: np.ndarray, el: np.ndarray, rounds: int = 3) -> int:
    """Move the mid-edge nodes of every element whose Jacobian is not positive at all its quadrature points
    to their chords' midpoints (in place); returns how many elements that took.

    The mid-edge nodes on curved surfaces (setOrder(2)) can fold a flat element whose curved edge's
    sagitta is comparable to its height; straight, a positively oriented tetrahedron is valid.  The
    nodes are shared, so the mesh stays conformal; a neighbour that shared a straightened edge is
    checked again in the next round.
    """
    from ..fem.geometry3d import TET10_EDGES, reference

    _, _, _, dN = reference()
    done = np.zeros(el.shape[0], dtype=bool)
    for _ in range(rounds):
        J = np.einsum("eai,qaj->eqij", nodes[el], dN, optimize=True)
        bad = np.linalg.det(J).min(axis=1) <= 0.0
        if not bad.any():
            break
        done |= bad
        e = el[bad]
        nodes[e[:, 4:]] = 0.5 * (nodes[e[:, TET10_EDGES[:, 0]]] + nodes[e[:, TET10_EDGES[:, 1]]])
    else:
        J = np.einsum("eai,qaj->eqij", nodes[el], dN, optimize=True)
        if (np.linalg.det(J).min(axis=1) <= 0.0).any():
            raise GeometryError("assembly quarter: inverted tetrahedra after straightening their edges; "
                                "give a smaller mesh.joint_size_mm")
    return int(done.sum())


def _size_field(g: AssemblyGeometry, parts: list[_Part], volume_part: dict[int, int], size_mm: float,
                joint_size_mm: float, layer_size_mm: float, centres: list | None = None) -> None:
    """Background size: joint_size_mm about every joint (or the balls at ``centres``), growing to size_mm;
    thick package layers capped."""
    import gmsh

    occ, field = gmsh.model.occ, gmsh.model.mesh.field
    # the joints' centres as free points (no volume uses them; their nodes are dropped)
    if centres is None:
        centres = [(x, y) for x in g.xs for y in g.xs]
    centres = [occ.addPoint(x, y, 0.5 * g.h) for x, y in centres]
    occ.synchronize()
    dist = field.add("Distance")
    field.setNumbers(dist, "PointsList", centres)
    thr = field.add("Threshold")
    field.setNumber(thr, "InField", dist)
    field.setNumber(thr, "SizeMin", joint_size_mm)
    field.setNumber(thr, "SizeMax", size_mm)
    r0 = g.cluster_radius()
    field.setNumber(thr, "DistMin", r0)
    field.setNumber(thr, "DistMax", r0 + max(size_mm - joint_size_mm, 0.0) / (GROWTH - 1.0))
    fields = [thr]
    capped: dict[float, list[int]] = {}
    for tag, i in volume_part.items():  # a loop over geometry volumes
        p = parts[i]
        if p.kind == "box" and p.region in ("solder_mask", "dielectric", "mold", "die"):
            s = _layer_size(p.args[5], size_mm, layer_size_mm)
            if s < size_mm:
                capped.setdefault(s, []).append(tag)
    for s, tags in capped.items():
        const = field.add("MathEval")
        field.setString(const, "F", f"{s:.17g}")
        restrict = field.add("Restrict")
        field.setNumber(restrict, "InField", const)
        field.setNumbers(restrict, "VolumesList", sorted(tags))
        fields.append(restrict)
    mn = field.add("Min")
    field.setNumbers(mn, "FieldsList", fields)
    field.setAsBackgroundMesh(mn)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.MeshSizeMax", size_mm)
