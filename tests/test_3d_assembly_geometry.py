"""The 3D quarter model of the fan-out package on its board, with its solder balls
(:mod:`reliability.geometry.quarter3d_assembly`): geometry and mesh checks.

* every joint's mesh volume (curved 10-node tetrahedra) equals the truncated sphere of
  :mod:`reliability.geometry.ball` times the share of the ball inside the quarter (1, 1/2, 1/4)
  within 1 %;
* every region's volume equals its boxes and discs within 0.5 %;
* the joints' listing (names from the centre out, row, column, DNP) of a 3 x 3 quarter array;
* the mesh is conformal: no face is shared by more than two tetrahedra, no two nodes coincide,
  and every face of only one tetrahedron lies on the assembly's outer surface (planes, free
  sphere zones, the pads' and mask openings' walls): an interface meshed twice would leave faces
  of one tetrahedron inside;
* all tetrahedra have a positive corner volume and a positive Jacobian at every quadrature point;
* the element estimate is within a factor 2 of the mesh, and a runaway mesh is refused before any
  geometry is made.

Small arrays and coarse sizes keep each test to a few seconds; the full default quarter (64
balls) is ``slow``.
"""

import math

import numpy as np
import pytest

from reliability.errors import MeshError
from reliability.fem.geometry3d import TET10_EDGES, element_volumes, reference, signed_corner_volumes
from reliability.geometry import fan_out
from reliability.geometry.ball import truncated_sphere_volume
from reliability.geometry.quarter3d_assembly import (
    assembly_geometry,
    build_fan_out_assembly_quarter,
    estimate_assembly_elements,
)

SIZE, JOINT = 0.4, 0.1  # coarse: a 2 x 2 quarter meshes in about 2 s


def build(**kw):
    kw = {"size_mm": SIZE, "joint_size_mm": JOINT, **kw}
    return build_fan_out_assembly_quarter({}, {}, None, **kw)


@pytest.fixture(scope="module")
def cut():
    """2 x 2 balls at 0 and 0.5 mm: a quarter ball at the centre, two halves, one whole."""
    return build(balls_per_half=2, first_ball_mm=0.0)


@pytest.fixture(scope="module")
def three():
    """3 x 3 balls at 0.25, 0.75, 1.25 mm (the 2D section's positions), two RDL layers, encapsulated."""
    return build_fan_out_assembly_quarter({"rdl_layers": 2, "backside": "encapsulated"}, {}, None, size_mm=SIZE,
                                          joint_size_mm=JOINT, balls_per_half=3)


def geometry(model):
    opts = fan_out.Options.model_validate(model.info["options"])
    d = fan_out.Dimensions.model_validate(model.info["dimensions_mm"])
    first = model.info["ball_positions_mm"][0]
    return assembly_geometry(opts, d, None if first > 0 else 0.0)


def region_volumes(model):
    v = element_volumes(model)
    return {n: float(v[model.element_region == r].sum()) for r, n in enumerate(model.region_names)}


@pytest.mark.parametrize("name", ["cut", "three"])
def test_joint_volumes_are_the_truncated_sphere_times_the_quarters_share(name, request):
    m = request.getfixturevalue(name)
    g = geometry(m)
    v = element_volumes(m)
    s = g.sphere
    worst = 0.0
    for j in m.info["joints"]:
        assert j["volume_mm3"] == pytest.approx(truncated_sphere_volume(s.a1, s.a2, s.h), rel=1e-12)
        expected = j["fraction"] * j["volume_mm3"]
        worst = max(worst, abs(v[j["elements"]].sum() / expected - 1))
    assert worst < 0.01  # measured 8.8e-4 (both arrays, joint size 0.1 mm; 2.8e-4 at 0.075, 6e-5 at 0.05 mm)
    if name == "cut":
        fractions = {(j["row"], j["col"]): j["fraction"] for j in m.info["joints"]}
        assert fractions == {(0, 0): 0.25, (0, 1): 0.5, (1, 0): 0.5, (1, 1): 1.0}
        cut_by = {(j["row"], j["col"]): j["cut_by"] for j in m.info["joints"]}
        assert cut_by[(0, 0)] == ["x = 0", "y = 0"] and cut_by[(0, 1)] == ["y = 0"] and cut_by[(1, 1)] == []


@pytest.mark.parametrize("name", ["cut", "three"])
def test_region_volumes_are_the_boxes_and_discs(name, request):
    m = request.getfixturevalue(name)
    g = geometry(m)
    d = fan_out.Dimensions.model_validate(m.info["dimensions_mm"])
    s = g.sphere
    share = sum(j["fraction"] for j in m.info["joints"])
    t_sm = d.solder_mask_thickness
    # the ball's zone inside the mask opening, z_pkg to h (the opening takes the ball's shape)
    zone = truncated_sphere_volume(g.r_at_pkg, s.a1, g.h - g.z_pkg)
    pad = math.pi * g.r_pad**2 * g.t_pad
    above_mask = g.z_top - g.z_pkg - t_sm - (d.dielectric_thickness if "dielectric" in m.region_names else 0.0)
    expected = {
        "solder_mask": g.W2**2 * t_sm - share * (pad + zone),
        g.pad_region: share * pad,
        "die": g.D2**2 * d.die_thickness,
        "mold": g.W2**2 * above_mask - g.D2**2 * d.die_thickness,
        "board_pad": share * math.pi * s.a2**2 * g.t_bpad,
        "board_mask": g.Wb**2 * g.t_bmask - share * math.pi * g.r_hole**2 * g.t_bmask,
        "board": g.Wb**2 * g.t_pcb,
    }
    if "dielectric" in m.region_names:
        expected["dielectric"] = g.W2**2 * d.dielectric_thickness
    for j in m.info["joints"]:
        expected[j["name"]] = j["fraction"] * s.volume
    got = region_volumes(m)
    assert set(got) == set(expected)
    worst = max(abs(got[n] / expected[n] - 1) for n in expected)
    assert worst < 0.005  # measured 8.8e-4 (a joint); pads 3e-4 and 7.8e-4, masks 2e-5, boxes 1e-15


def test_joint_listing_of_a_3x3_quarter(three):
    m = three
    joints = m.info["joints"]
    assert [j["name"] for j in joints] == [f"solder_{k}" for k in range(1, 10)]
    pitch = 0.5
    for j in joints:
        assert j["x_mm"] == pytest.approx(pitch / 2 + pitch * j["col"], abs=1e-12)
        assert j["y_mm"] == pytest.approx(pitch / 2 + pitch * j["row"], abs=1e-12)
        assert j["dnp_mm"] == pytest.approx(math.hypot(j["x_mm"], j["y_mm"]), abs=1e-12)
        assert j["fraction"] == 1.0 and j["cut_by"] == []
        # the joint's elements lie around its axis and between its interfaces
        c = m.nodes[m.elements[j["elements"], :4]].mean(axis=1)
        assert np.hypot(c[:, 0] - j["x_mm"], c[:, 1] - j["y_mm"]).max() < j["sphere_radius_mm"]
        assert j["interface_board_z_mm"] < c[:, 2].min() and c[:, 2].max() < j["interface_package_z_mm"]
    dnp = [j["dnp_mm"] for j in joints]
    assert dnp == sorted(dnp)
    assert {(j["row"], j["col"]) for j in joints} == {(r, c) for r in range(3) for c in range(3)}
    # the centre joint first, the corner joint last: DNP 0.354 and 1.768 mm
    assert joints[0]["dnp_mm"] == pytest.approx(0.25 * math.sqrt(2), abs=1e-12)
    assert joints[-1]["dnp_mm"] == pytest.approx(1.25 * math.sqrt(2), abs=1e-12)
    assert (joints[1]["row"], joints[1]["col"]) == (0, 1) and (joints[2]["row"], joints[2]["col"]) == (1, 0)
    # every solder element belongs to exactly one joint, and each joint is its region
    listed = np.concatenate([j["elements"] for j in joints])
    solder = np.flatnonzero(np.isin(m.element_region, [m.region_index(j["name"]) for j in joints]))
    assert np.array_equal(np.sort(listed), solder)
    j = joints[0]
    assert j["standoff_mm"] == pytest.approx(j["interface_package_z_mm"] - j["interface_board_z_mm"], abs=1e-12)
    assert j["package_wetted_radius_mm"] == pytest.approx(0.125) and j["package_pad_radius_mm"] == pytest.approx(0.15)
    assert j["board_pad_radius_mm"] == pytest.approx(0.12)


FACES = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
FACE_MIDS = np.array([[4, 5, 6], [4, 8, 7], [6, 9, 7], [5, 9, 8]])  # mid-edge nodes of each face, in its order


def boundary_faces(model):
    """The 6-node faces (F, 6: corners, then mid-edge nodes) that belong to one tetrahedron only, and the
    largest number of tetrahedra any face belongs to."""
    faces = np.sort(model.elements[:, FACES].reshape(-1, 3), axis=1)
    _, first, counts = np.unique(faces, axis=0, return_index=True, return_counts=True)
    k = first[counts == 1]
    e, f = k // 4, k % 4
    six = np.hstack([model.elements[e[:, None], FACES[f]], model.elements[e[:, None], FACE_MIDS[f]]])
    return six, int(counts.max())


def flat_area(xy):
    """Areas of plane 6-node triangles (F, 6, 2) with curved sides (3-point rule: exact for them)."""
    total = 0.0
    for xi, eta in ((1 / 6, 1 / 6), (2 / 3, 1 / 6), (1 / 6, 2 / 3)):  # three quadrature points
        l0 = 1 - xi - eta
        dxi = np.array([1 - 4 * l0, 4 * xi - 1, 0, 4 * (l0 - xi), 4 * eta, -4 * eta])
        deta = np.array([1 - 4 * l0, 0, 4 * eta - 1, -4 * xi, 4 * xi, 4 * (l0 - eta)])
        a, b = xy.transpose(0, 2, 1) @ dxi, xy.transpose(0, 2, 1) @ deta  # (F, 2) each
        total = total + np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) / 6
    return total


def on_outer_surface(model, g):
    """For every node, the outer surfaces it lies on (an (N, S) bool table)."""
    x, y, z = model.nodes.T
    tol = 1e-6
    xs = np.asarray(g.xs)
    # in-plane distance to the nearest ball axis (balls at pitch 0.5: the nearest is the node's own)
    r = np.sqrt(((x[:, None, None] - xs[None, :, None]) ** 2 + (y[:, None, None] - xs[None, None, :]) ** 2)
                .reshape(x.size, -1).min(axis=1))
    zc = g.z_sphere_centre
    sphere = np.abs(np.sqrt(r**2 + (z - zc) ** 2) - g.sphere.R) < tol
    within = lambda a, b: (z > a - tol) & (z < b + tol)  # noqa: E731
    package = within(g.z_pkg, g.z_top)
    board = within(g.z_board_bottom, -g.t_bpad + g.t_bmask)
    plane = lambda v, c: np.abs(v - c) < tol  # noqa: E731
    return np.column_stack([
        plane(x, 0.0), plane(y, 0.0),  # symmetry planes
        plane(x, g.W2) & package, plane(y, g.W2) & package, plane(z, g.z_top),  # package sides, top
        plane(z, g.z_pkg) & (r > g.r_at_pkg - tol),  # package bottom beside the balls
        plane(x, g.Wb) & board, plane(y, g.Wb) & board, plane(z, g.z_board_bottom),  # board sides, bottom
        plane(z, -g.t_bpad + g.t_bmask) & (r > g.r_hole - tol),  # board mask top
        plane(z, -g.t_bpad) & (r > g.sphere.a2 - tol) & (r < g.r_hole + tol),  # laminate in the mask openings
        np.abs(r - g.r_hole) < tol,  # the mask openings' walls
        (np.abs(r - g.sphere.a2) < tol) & within(-g.t_bpad, 0.0),  # the board pads' sides
        sphere & within(0.0, g.z_pkg),  # the joints' free surfaces
    ])


@pytest.mark.parametrize("name", ["cut", "three"])
def test_mesh_is_conformal(name, request):
    m = request.getfixturevalue(name)
    g = geometry(m)
    once, most = boundary_faces(m)
    assert most == 2  # no face of three tetrahedra
    # no two nodes at one place (an interface meshed from both sides would double them)
    key = np.round(m.nodes / 1e-7).astype(np.int64)
    assert np.unique(key, axis=0).shape[0] == m.n_nodes
    # every face of one tetrahedron is on the outer surface: all three corners on one of its parts
    table = on_outer_surface(m, g)
    outer = (table[once[:, 0]] & table[once[:, 1]] & table[once[:, 2]]).any(axis=1)
    assert np.count_nonzero(~outer) == 0  # measured 0 of 5,276 (cut) and 6,924 (three) boundary faces
    # and the interfaces inside are covered: the exposed part of the package bottom is the body less the balls
    p = m.nodes[once]
    area = flat_area(p[:, :, :2])
    flat = np.all(np.abs(p[:, :, 2] - g.z_pkg) < 1e-9, axis=1)
    share = sum(j["fraction"] for j in m.info["joints"])
    exposed = g.W2**2 - share * math.pi * g.r_at_pkg**2
    assert area[flat].sum() == pytest.approx(exposed, rel=1e-3)  # measured +2.8e-6 (cut), +1.6e-5 (three)
    for z in (g.h, 0.0, g.z_pkg + fan_out.Dimensions().solder_mask_thickness, g.layers[-1]["z0"]):
        on = np.all(np.abs(p[:, :, 2] - z) < 1e-9, axis=1)
        assert area[on].sum() == 0.0  # pad / joint, joint / board pad, mask / stack: inside
    if name == "cut":
        # the check bites: the centre joint meshed on its own nodes (a non-conformal interface)
        el = m.elements.copy()
        own = np.unique(el[m.region_elements("solder_1")])
        copy = np.full(m.n_nodes, -1)
        copy[own] = m.n_nodes + np.arange(own.size)
        el[m.region_elements("solder_1")] = copy[el[m.region_elements("solder_1")]]
        detached = type(m)(np.vstack([m.nodes, m.nodes[own]]), el, m.element_region, m.region_names, {})
        once2, _ = boundary_faces(detached)
        table2 = on_outer_surface(detached, g)
        inside = ~(table2[once2[:, 0]] & table2[once2[:, 1]] & table2[once2[:, 2]]).any(axis=1)
        assert np.count_nonzero(inside) > 20  # measured 34: both sides of its 17 interface faces


@pytest.mark.parametrize("name", ["cut", "three"])
def test_all_tetrahedra_are_positive(name, request):
    m = request.getfixturevalue(name)
    assert signed_corner_volumes(m.nodes, m.elements).min() > 0  # measured 1.3e-6 (cut), 2.0e-7 mm^3 (three)
    _, _, _, dN = reference()
    det = np.linalg.det(np.einsum("eai,qaj->eqij", m.nodes[m.elements], dN))
    assert det.min() > 0  # measured 5.0e-6 (cut), 1.2e-6 (three); no element needed straightening
    # the mid-edge nodes: on the chords or, on the spheres and cylinders, within a few % of the edge off it
    a, b = m.nodes[m.elements[:, TET10_EDGES[:, 0]]], m.nodes[m.elements[:, TET10_EDGES[:, 1]]]
    off = np.linalg.norm(m.nodes[m.elements[:, 4:]] - 0.5 * (a + b), axis=-1) / np.linalg.norm(b - a, axis=-1)
    assert off.max() < 0.2  # measured 0.104 (a 0.1 mm chord on the 0.125 mm opening: L / 8 r)


def test_boundaries_and_info(cut):
    m = cut
    g = geometry(m)
    x, y, z = m.nodes.T
    assert np.all(x[m.boundaries["symmetry_x"]] == 0.0) and np.all(y[m.boundaries["symmetry_y"]] == 0.0)
    assert np.count_nonzero(x == 0.0) == m.boundaries["symmetry_x"].size
    assert np.all(z[m.boundaries["board_bottom"]] == pytest.approx(g.z_board_bottom, abs=1e-12))
    assert np.all(np.abs(z[m.boundaries["bottom"]] - g.z_pkg) < 1e-9)
    (k,) = m.boundaries["z_fix"]
    assert x[k] == 0.0 and y[k] == 0.0 and z[k] == pytest.approx(g.z_board_bottom, abs=1e-12)
    from reliability.analysis.thermoelastic3d import quarter_supports

    fixed = quarter_supports(m).reshape(-1, 3)
    assert np.flatnonzero(fixed[:, 2]).tolist() == [k]  # the 3D solve holds the same node in z
    assert z.min() == pytest.approx(-1.035, abs=1e-12) and g.h == pytest.approx(0.2046, abs=1e-4)
    from reliability.library import get_material

    mats = m.info["default_materials"]
    assert set(mats) == set(m.region_names)
    assert mats["solder_1"].lower() == "sac305" and mats["board"] == "fr4" and mats["trace_1"] == "copper"
    for name in set(mats.values()):
        get_material(name)
    assert m.info["family"] == "fan_out" and m.info["omitted"]
    import json

    assert json.loads(json.dumps(m.info))["joints"][0]["elements"] == m.info["joints"][0]["elements"]


@pytest.mark.parametrize("name", ["cut", "three"])
def test_element_estimate_within_a_factor_2(name, request):
    m = request.getfixturevalue(name)
    ratio = m.info["estimated_elements"] / m.n_elements
    assert 0.5 < ratio < 2.0  # measured 0.98 (cut), 0.94 (three); 0.88 to 1.16 on 9 and 64 balls, sizes 0.05-0.3
    g = geometry(m)
    assert estimate_assembly_elements(g, SIZE, JOINT, m.info["layer_size_mm"]) == m.info["estimated_elements"]


def test_element_estimate_at_the_submodels_coarse_global_sizes():
    """At 0.6 / 0.3 mm (a submodel's global model of the full 16 x 16 array) the pads and openings set the
    mesh: the per-ball floor keeps the estimate within a factor 2 (without it: 7,515 against 30,128)."""
    m = build_fan_out_assembly_quarter({}, {}, None, size_mm=0.6, joint_size_mm=0.3, layer_size_mm=0.3)
    assert 0.5 < m.info["estimated_elements"] / m.n_elements < 2.0  # measured 30,080 / 30,128 = 1.00


def test_a_runaway_mesh_is_refused_before_any_geometry(monkeypatch):
    import gmsh

    def no_geometry(*args, **kwargs):
        raise AssertionError("gmsh was started: the estimate must refuse before any geometry")

    monkeypatch.setattr(gmsh, "initialize", no_geometry)  # (not a timed assertion: the machine is shared)
    with pytest.raises(MeshError, match="mesh.max_elements = 100000") as err:
        build_fan_out_assembly_quarter({}, {}, None, size_mm=0.05, joint_size_mm=0.01, max_elements=100_000)
    assert "\n" not in str(err.value) and "64 balls" in str(err.value)


@pytest.mark.slow
def test_default_quarter_all_balls():
    """The default fan-out quarter, 8 x 8 balls, joint size 0.1 mm (about 80 k tetrahedra, 15 s)."""
    m = build_fan_out_assembly_quarter({}, {}, None, size_mm=0.3, joint_size_mm=0.1)
    assert len(m.info["joints"]) == 64
    v = element_volumes(m)
    worst = max(abs(v[j["elements"]].sum() / (j["fraction"] * j["volume_mm3"]) - 1) for j in m.info["joints"])
    assert worst < 0.01
    assert 0.5 < m.info["estimated_elements"] / m.n_elements < 2.0
    assert m.info["joints"][-1]["dnp_mm"] == pytest.approx(3.75 * math.sqrt(2), abs=1e-12)
