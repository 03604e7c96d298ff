"""Global-local (submodel) thermal cycling in 3D (:mod:`reliability.analysis.submodel3d`,
:mod:`reliability.geometry.quarter3d_local`, the ``prescribed`` dofs of InelasticProblem3D).

Fast:
* the P2 interpolation reproduces a quadratic field exactly (1e-12) on straight tetrahedra, the
  coordinates themselves on the curved assembly mesh (isoparametric), and is the identity at nodes;
* prescribed displacements: a held elastic bar whose wall is moved by delta gives the closed-form
  sigma_xx = E (delta / L - alpha dT); zero prescribed values equal the fixed dofs;
* the local model of a joint: its volume is the truncated sphere, its cut faces are where the global
  material continues (a body edge on the block's face stays free), and a uniform thermal expansion
  plus a rigid rotation prescribed on the cut faces (one alpha everywhere, Anand solder) leaves the
  whole block stress free (below 1e-9 E alpha dT) with u = the field everywhere.
Slow: on a 3 x 3 array the local corner joint's package-side dW equals the full fine model's
within 5 % (one JEDEC G cycle after the cool-down).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_material
from test_3d_inelastic import SAC, held_bar


def quadratic(X):
    x, y, z = X.T
    return np.stack([1 + 2 * x - 3 * y + 0.5 * z + x * x - 2 * x * y + 0.3 * z * z, y * z - 0.2 * x + 4 * x * z,
                     x * x + y * y - z * z + 7], axis=1)


@pytest.fixture(scope="module")
def coarse3x3():
    """A 3 x 3 array (balls on the symmetry planes: a quarter, two halves and one whole ball in the
    quarter), coarse: the global model of the fast tests."""
    from reliability.geometry.quarter3d_assembly import build_fan_out_assembly_quarter

    return build_fan_out_assembly_quarter(balls_per_half=2, first_ball_mm=0.0, joint_size_mm=0.3, size_mm=0.6,
                                          layer_size_mm=0.3)  # the submodel's default global sizes: 21 k dofs


@pytest.fixture(scope="module")
def local_corner(coarse3x3):
    from reliability.geometry.quarter3d_local import build_joint_local_model

    return build_joint_local_model(coarse3x3, "corner", joint_size_mm=0.1, size_mm=0.15)


def test_p2_interpolation_reproduces_a_quadratic_on_straight_tetrahedra():
    from reliability.analysis.submodel3d import p2_interpolation
    from reliability.fem.mesh3d import layered_box

    m = layered_box(2.0, 1.5, [("a", 0.4), ("b", 0.3)], 5, 4, 3)
    rng = np.random.default_rng(7)
    pts = rng.uniform([0, 0, 0], [2.0, 1.5, 0.7], size=(500, 3))
    pts[:20, 0] = 2.0  # on the outer faces too
    pts[20:40, 2] = 0.0
    P = p2_interpolation(m, pts)
    assert np.abs(P @ quadratic(m.nodes) - quadratic(pts)).max() < 1e-12 * np.abs(quadratic(pts)).max()
    assert np.abs(P.sum(axis=1) - 1).max() < 1e-13


def test_p2_interpolation_on_the_curved_assembly_mesh(coarse3x3, local_corner):
    """At the local model's cut-face nodes (some in global elements curved by the board mask's opening)
    the interpolated coordinates are the points (the isoparametric map inverted), and at the global
    nodes the interpolation is the identity."""
    from reliability.analysis.submodel3d import p2_interpolation

    g = coarse3x3
    pts = local_corner.nodes[local_corner.boundaries["cut"]]
    P = p2_interpolation(g, pts)
    assert np.abs(P @ g.nodes - pts).max() < 1e-12
    some = np.random.default_rng(1).choice(g.n_nodes, 300, replace=False)
    Pn = p2_interpolation(g, g.nodes[some])
    f = quadratic(g.nodes)
    assert np.abs(Pn @ f - f[some]).max() < 1e-10 * np.abs(f).max()


def test_prescribed_wall_displacement_gives_the_closed_form_stress():
    """Elastic bar held at x = 0, its x = 2 mm wall moved by delta and cooled by 100 K, rollers at y = 0 and
    z = 0: sigma_xx = E (delta / L - alpha dT) everywhere; with delta = 0 the prescribed dofs equal fixed."""
    from reliability.analysis.inelastic3d import InelasticProblem3D

    E, alpha, L, delta = 120000.0, 17e-6, 2.0, 1.5e-3
    mat = make_material("el", E_MPa=E, nu=0.34, alpha_per_K=alpha)
    m, fixed = held_bar()
    wall = np.zeros((m.n_nodes, 3), dtype=bool)
    wall[np.abs(m.nodes[:, 0] - L) < 1e-12, 0] = True
    wall = wall.ravel()
    p = InelasticProblem3D(m, {"a": mat}, 25.0, fixed=fixed & ~wall, prescribed=wall, tol=1e-12)
    s = p.increment(p.initial_state(), 1.0, -75.0, u_prescribed=np.full(p.prescribed.size, delta))
    want = E * (delta / L + alpha * 100.0)
    sig = p.state(-75.0, s.u).stress
    assert np.abs(sig[..., 0] - want).max() < 1e-9 * want
    assert np.abs(sig[..., 1:]).max() < 1e-9 * want
    assert np.abs(s.u[wall] - delta).max() == 0.0
    q = InelasticProblem3D(m, {"a": mat}, 25.0, fixed=fixed & ~wall, prescribed=np.flatnonzero(wall), tol=1e-12)
    r = InelasticProblem3D(m, {"a": mat}, 25.0, fixed=fixed, tol=1e-12)
    a = q.increment(q.initial_state(), 1.0, -75.0, u_prescribed=np.zeros(q.prescribed.size))
    b = r.increment(r.initial_state(), 1.0, -75.0)
    assert np.abs(a.u - b.u).max() < 1e-12 * np.abs(b.u).max()


def test_local_model_geometry_and_cut_faces(coarse3x3, local_corner):
    from reliability.fem.geometry3d import element_volumes

    lm = local_corner
    j = lm.info["joints"][0]
    corner = max(coarse3x3.info["joints"], key=lambda k: k["dnp_mm"])
    assert (j["name"], j["row"], j["col"]) == (corner["name"], corner["row"], corner["col"])
    assert lm.info["block_mm"] == pytest.approx((0.25, 0.75, 0.25, 0.75), abs=1e-12)
    v = element_volumes(lm)
    assert v[j["elements"]].sum() == pytest.approx(j["model_volume_mm3"], rel=0.01)  # measured -0.09 %
    x, y, z = lm.nodes[lm.boundaries["cut"]].T
    on = (np.abs(x - 0.25) < 1e-9) | (np.abs(x - 0.75) < 1e-9) | (np.abs(y - 0.25) < 1e-9) | (np.abs(y - 0.75) < 1e-9)
    assert on.all()
    # every node on the side planes at the package's or board's height is cut (the block is inside both)
    X, Y, Z = lm.nodes.T
    side = (np.abs(X - 0.25) < 1e-9) | (np.abs(X - 0.75) < 1e-9) | (np.abs(Y - 0.25) < 1e-9) | (np.abs(Y - 0.75) < 1e-9)
    assert side.sum() == lm.boundaries["cut"].size
    assert lm.boundaries["symmetry_x"].size == 0


def test_local_model_at_the_body_edge_leaves_the_package_edge_free():
    """A 2 mm body with a 4 x 4 array: the corner ball at 0.75 mm, its block [0.5, 1.0] ends on the body
    edge x = 1 mm, a free face of the package, while the board continues beyond it (cut)."""
    from reliability.geometry.quarter3d_assembly import build_fan_out_assembly_quarter
    from reliability.geometry.quarter3d_local import build_joint_local_model

    g = build_fan_out_assembly_quarter(dimensions={"body_width": 2.0, "die_width": 1.0}, balls_per_half=2,
                                       joint_size_mm=0.25, size_mm=0.4)
    lm = build_joint_local_model(g, (1, 1), joint_size_mm=0.1, size_mm=0.15)
    X, Y, Z = lm.nodes.T
    cut = np.zeros(lm.n_nodes, dtype=bool)
    cut[lm.boundaries["cut"]] = True
    edge = (np.abs(X - 1.0) < 1e-9) & (Y > 0.5 + 1e-9)  # on the body edge, off the cut face y = 0.5
    package = Z >= lm.info["package_bottom_z_mm"] - 1e-9
    assert (edge & package).any() and not (cut & edge & package).any()
    assert (cut[edge & ~package]).all() and (edge & ~package).any()


def test_uniform_expansion_on_the_cut_faces_leaves_the_block_stress_free(local_corner):
    """One alpha in every region (Anand SAC305 solder, elastic others of other stiffnesses): the field
    u = alpha dT x + w x x (a rigid rotation) prescribed on the cut faces is the exact solution: stress
    below 1e-9 E alpha dT everywhere, u equal to the field at every node."""
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.analysis.submodel3d import local_supports

    lm = local_corner
    alpha = SAC["alpha_per_K"]
    sac = make_material("sac", **SAC)
    stiff = make_material("stiff", E_MPa=120000.0, nu=0.3, alpha_per_K=alpha)
    soft = make_material("soft", E_MPa=20000.0, nu=0.25, alpha_per_K=alpha)
    mats = {r: (sac if r.startswith("solder_") else stiff if r in ("die", "trace_1", "board_pad") else soft)
            for r in lm.region_names}
    held, given = local_supports(lm)
    p = InelasticProblem3D(lm, mats, 125.0, fixed=held, prescribed=given, tol=1e-12)
    assert len(p.groups) == 1  # the solder is inelastic
    W = np.array([[0.0, 0.3, -0.2], [-0.3, 0.0, 0.4], [0.2, -0.4, 0.0]]) * 1e-4
    s = p.initial_state(125.0)
    for k, T in enumerate([50.0, -40.0]):
        A = alpha * (T - 125.0) * np.eye(3) + W * (k + 1)
        field = (lm.nodes @ A.T).ravel()
        s = p.increment(s, 600.0 * (k + 1), T, u_prescribed=field[p.prescribed])
    scale = 45000.0 * alpha * 165.0
    assert np.abs(s.u - field).max() < 1e-12 * np.abs(field).max()
    assert np.abs(p.state(-40.0, s.u).stress[p.elastic_elements]).max() < 1e-9 * scale
    assert np.abs(s.stress[0]).max() < 1e-9 * scale


@pytest.mark.slow
def test_local_corner_joint_matches_the_full_fine_model_on_a_3x3_array():
    """3 x 3 array (balls_per_half = 2, first_ball_mm = 0), cooled from 217 C and cycled once (JEDEC G).
    Full fine model: every joint at 0.1 mm (size 0.3; 122 k dofs); submodel: the global model's joints
    at 0.25 mm (size 0.4; 83 k dofs), the corner joint's local model at 0.1 mm.  The local package-side
    dW is within 5 % of the full model's (bench/bench_3d_submodel.py --balls 2 --first-ball 0
    --cycles 1 --local-joint 0.1 --compare-full; measured in docs/3d.md)."""
    from reliability.analysis.cycling3d import joint_bands3d, run_cycling3d
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.analysis.profile import make_profile
    from reliability.analysis.submodel3d import run_submodel_cycling
    from reliability.geometry.quarter3d_assembly import build_fan_out_assembly_quarter
    from reliability.library import get_material

    profile = make_profile(-40.0, 125.0, 15.0, 15.0, 1, 217.0)
    r = run_submodel_cycling(profile, balls_per_half=2, first_ball_mm=0.0, joint="corner", global_joint_size_mm=0.3,
                             global_size_mm=0.6, global_layer_size_mm=0.3, local_joint_size_mm=0.1,
                             local_size_mm=0.15)
    m = build_fan_out_assembly_quarter(balls_per_half=2, first_ball_mm=0.0, joint_size_mm=0.1, size_mm=0.3)
    mats = {k: get_material(v) for k, v in m.info["default_materials"].items() if k in m.region_names}
    p = InelasticProblem3D(m, mats, 217.0)
    _, rec = run_cycling3d(p, profile, joint_bands3d(m, p.groups, p.geo.xq, p.geo.dx, 0.025))
    full = dict(zip(rec.bands, rec.dW()[-1]))
    name = r.joint["name"]
    assert full[(name, "package")] > 0.05
    assert r.dW_package == pytest.approx(full[(name, "package")], rel=0.05)


def test_submodel_run_end_to_end_on_a_short_path(coarse3x3):
    """The coarse 3 x 3 global model through a JEDEC G cool-down and cycle in few increments (3 per ramp, 2 per
    dwell): the local models walk exactly the global increments, the corner named twice (by "corner" and by
    name) gives the same dW to the last bit, and "critical" is the global model's largest band dW."""
    from reliability.analysis.profile import make_profile
    from reliability.analysis.submodel3d import run_submodel_cycling

    profile = make_profile(-40.0, 125.0, 15.0, 15.0, 1, 217.0)
    corner = max(coarse3x3.info["joints"], key=lambda j: j["dnp_mm"])["name"]
    r = run_submodel_cycling(profile, joint="corner", extra_joints=[corner, "critical"], global_model=coarse3x3,
                             local_joint_size_mm=0.3, local_size_mm=0.3, increments_per_ramp=3,
                             increments_per_dwell=2)
    a, b, c = r.locals
    assert a.joint["name"] == b.joint["name"] == corner
    assert (a.dW_package, a.dW_board) == (b.dW_package, b.dW_board)
    assert a.dW_package > 0.02 and a.dW_board > 0.0
    assert c.joint["name"] == max(r.global_dW, key=r.global_dW.get)[0]
    assert a.record.t == r.global_record.t and a.record.increments == r.global_record.increments
    assert r.local_record.dW().shape == (1, 2)
