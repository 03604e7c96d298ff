"""Local (sub)model of one solder joint of the 3D fan-out assembly quarter, for global-local analysis.

The global model (:func:`.quarter3d_assembly.build_fan_out_assembly_quarter`, typically with coarse
joints) gives the displacement of the package and the board; this module meshes one of its joints
finely with the block of package stack and board around it: the plan square
[x_c - a, x_c + a] x [y_c - a, y_c + a] about the ball's axis (x_c, y_c) (a = ``half_width_mm``,
default half a pitch, so the block is one pitch wide), clipped to the quarter (x, y >= 0) and to
each part's own extent (package W2, die D2, board Wb), through the full thickness from the board's
bottom to the package top.  The parts are the global model's, made by the same helpers
(:func:`.quarter3d_assembly.stack_parts`, :func:`.quarter3d_assembly.joint_parts`) from the global
model's own options and dimensions (``info``), so the layer heights, the ball, its pads and the board
mask's opening are identical; lengths in mm, z = 0 at the board-side pad interface.

Boundaries of the block (node indices):

* ``cut``: nodes on the block's side planes x = x_c +- a, y = y_c +- a where the global model's
  material continues beyond the plane (package where the plane is inside the body, board inside the
  board): there the local model takes the global displacement (all three components), interpolated
  from the global P2 field (:func:`reliability.analysis.submodel3d.p2_interpolation`);
* ``symmetry_x`` / ``symmetry_y``: the block's faces on x = 0 / y = 0 (a joint in the first row with
  ``first_ball_mm = 0``), held in u_x / u_y as in the global model;
* a side plane that is the body's (or board's) own edge is a free surface, as in the global model;
  the package top, the package bottom (``bottom``), the board bottom (``board_bottom``) and the
  joint's free surface are free.

The block must hold the joint and nothing of its neighbours: joint_reach < a <= pitch - joint_reach
(joint_reach: the radius of the pad, the solder and the board mask's opening, 0.17 mm for the
default 0.3 mm ball); else a one-line GeometryError.
"""

from __future__ import annotations

import numpy as np

from ..errors import GeometryError
from ..model import Model
from . import fan_out
from .quarter3d import QUARTER_LAYER_MM
from .submodel_sizes import LOCAL_JOINT_MM, LOCAL_SIZE_MM
from .quarter3d_assembly import (
    OMITTED,
    assembly_geometry,
    default_materials,
    describe_joints,
    element_regions,
    joint_parts,
    joint_reach,
    mesh_parts,
    region_names,
    stack_parts,
)



def find_joint(joints: list[dict], joint) -> dict:
    """The joint of a model's ``info['joints']`` given by name (``"solder_7"``), by (row, col), or
    ``"corner"`` (the largest DNP; the critical joint of a 3D array, docs/3d.md)."""
    if joint == "corner":
        return max(joints, key=lambda j: (round(j["dnp_mm"], 9), j["row"], j["col"]))
    if isinstance(joint, str):
        hit = [j for j in joints if j["name"] == joint]
    else:
        row, col = joint
        hit = [j for j in joints if j["row"] == row and j["col"] == col]
    if not hit:
        raise GeometryError(f"no joint {joint!r} in the global model (joints: "
                            f"{', '.join(j['name'] for j in joints[:6])}{' ...' if len(joints) > 6 else ''})")
    return hit[0]


def build_joint_local_model(global_model: Model, joint="corner", half_width_mm: float | None = None,
                            joint_size_mm: float = LOCAL_JOINT_MM, size_mm: float = LOCAL_SIZE_MM,
                            layer_size_mm: float = QUARTER_LAYER_MM) -> Model:
    """One joint of ``global_model`` (a fan-out assembly quarter) and its block of package and board,
    meshed as 10-node tetrahedra (module doc).

    ``joint``: name, (row, col) or ``"corner"``; ``half_width_mm``: a (default pitch / 2);
    ``joint_size_mm`` in and near the joint (within the joint zone radius of its mid-height centre,
    then growing by 1.4 per element to ``size_mm``); ``layer_size_mm`` as the global builder's.

    Returns a :class:`~reliability.model.Model` with the global builder's region names (the joint keeps
    its global name, e.g. ``solder_64``), boundaries ``cut``, ``symmetry_x``, ``symmetry_y`` (possibly
    empty), ``bottom``, ``top``, ``board_bottom``, and ``info`` with ``joints`` (the one joint, with the
    global model's keys: name, row, col, x_mm, y_mm, dnp_mm, interface heights, elements ...),
    ``block_mm`` (x0, x1, y0, y1), ``cut_planes`` and ``default_materials``.
    """
    gi = global_model.info
    if gi.get("model") != "quarter_3d_assembly":
        raise GeometryError("build_joint_local_model takes a fan-out assembly quarter (quarter_3d_assembly)")
    for name, value in (("joint_size_mm", joint_size_mm), ("size_mm", size_mm), ("layer_size_mm", layer_size_mm)):
        if not value > 0:
            raise GeometryError(f"local model: {name} = {value!r}: must be a positive length (mm)")
    opts = fan_out.Options.model_validate(gi["options"])
    d = fan_out.Dimensions.model_validate(gi["dimensions_mm"])
    first = gi["ball_positions_mm"][0]
    g = assembly_geometry(opts, d, None if first > 0 else 0.0)
    j = dict(find_joint(gi["joints"], joint))
    j.pop("elements", None)
    xc, yc = float(j["x_mm"]), float(j["y_mm"])
    a = 0.5 * d.ball_pitch if half_width_mm is None else float(half_width_mm)
    reach = joint_reach(g)
    if not reach < a <= d.ball_pitch - reach + 1e-12:
        raise GeometryError(f"local model: half width {a:g} mm must exceed the joint's reach {reach:.4g} mm and "
                            f"stay within pitch - reach = {d.ball_pitch - reach:.4g} mm (no neighbour in the block)")
    x0, x1, y0, y1 = max(0.0, xc - a), xc + a, max(0.0, yc - a), yc + a
    parts = stack_parts(g, x0, x1, y0, y1) + joint_parts(g, xc, yc, j["name"], 0)
    zlo, zhi = g.z_board_bottom, g.z_top
    mesh = mesh_parts(g, parts, (x0, y0, zlo - 1, x1 - x0, y1 - y0, zhi - zlo + 2), size_mm, joint_size_mm,
                      layer_size_mm, centres=[(xc, yc)], label=f"local model of {j['name']}")
    nodes, el = mesh.nodes, mesh.elements
    names = [n for n in region_names(g, [j["name"]]) if any(p.region == n for p in parts)]
    region = element_regions(parts, names, mesh, label=f"local model of {j['name']}")
    describe_joints(g, [j], names, region)

    x, y, z = nodes.T
    tol = 1e-9 * float(np.ptp(nodes, axis=0).max())
    in_package = z >= g.z_pkg - tol
    in_board = z <= -g.t_bpad + g.t_bmask + tol
    cut = np.zeros(nodes.shape[0], dtype=bool)
    planes = []
    for coord, plane, low in ((x, x0, True), (x, x1, False), (y, y0, True), (y, y1, False)):
        if low and plane <= tol:
            continue  # a symmetry plane of the quarter
        on = np.abs(coord - plane) <= tol
        # the global material continues beyond the plane: inside the body (package) or the board
        beyond_pkg = plane > tol and plane < g.W2 - tol
        beyond_board = plane > tol and plane < g.Wb - tol
        cut |= on & ((in_package & beyond_pkg) | (in_board & beyond_board))
        planes.append(dict(axis="x" if coord is x else "y", at_mm=plane, package=beyond_pkg, board=beyond_board))
    package = np.isin(region, [names.index(n) for n in ("solder_mask", "dielectric", "mold", "die") if n in names])
    on_bottom = np.zeros(nodes.shape[0], dtype=bool)
    on_bottom[np.unique(el[package])] = True
    on_bottom &= np.abs(z - g.z_pkg) <= tol
    boundaries = {"cut": np.flatnonzero(cut),
                  "symmetry_x": np.flatnonzero(np.abs(x) <= tol) if x0 <= tol else np.zeros(0, dtype=np.int64),
                  "symmetry_y": np.flatnonzero(np.abs(y) <= tol) if y0 <= tol else np.zeros(0, dtype=np.int64),
                  "board_bottom": np.flatnonzero(np.abs(z - g.z_board_bottom) <= tol),
                  "bottom": np.flatnonzero(on_bottom), "top": np.flatnonzero(np.abs(z - g.z_top) <= tol)}
    if not cut.any():
        raise GeometryError(f"local model of {j['name']}: no cut face (the block is the whole model)")
    info = dict(
        family="fan_out", model="quarter_3d_joint_local", board=True, options=opts.model_dump(mode="json"),
        dimensions_mm=d.model_dump(mode="json"), body_half_width_mm=g.W2, die_half_width_mm=g.D2,
        board_half_width_mm=g.Wb, omitted=list(OMITTED), default_materials=default_materials(names),
        joints=[j], block_mm=(x0, x1, y0, y1), half_width_mm=a, cut_planes=planes,
        layers=[dict(L) for L in g.layers], package_bottom_z_mm=g.z_pkg, package_top_z_mm=g.z_top,
        board_bottom_z_mm=g.z_board_bottom, standoff_mm=g.h, size_mm=size_mm, joint_size_mm=joint_size_mm,
        layer_size_mm=layer_size_mm, joint_zone_radius_mm=g.cluster_radius(),
        supports="cut: the global displacement (prescribed); symmetry_x: u_x = 0, symmetry_y: u_y = 0",
        global_joint=j["name"], straightened_elements=mesh.straightened, geometry_seconds=mesh.geometry_s,
        mesh_seconds=mesh.mesh_s)
    return Model(nodes=nodes, elements=el, element_region=region, region_names=names, boundaries=boundaries,
                 source=f"fan_out assembly joint {j['name']} (row {j['row']}, col {j['col']}) local model, block "
                        f"{2 * a:g} mm, size {size_mm:g} / joint {joint_size_mm:g} mm", info=info)
