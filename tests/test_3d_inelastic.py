"""The 3D incremental solver (InelasticProblem3D) and 3D thermal cycling against closed forms and point integrations."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_material
from test_3d import CU, CU_PLASTIC, SI, layered_box

# the library's SAC305 Anand constants (materials/SAC305.toml, Motalab 2012) on constant elasticity
SAC = dict(E_MPa=45000.0, nu=0.36, alpha_per_K=21.9e-6,
           anand=dict(s0_MPa=21.0, Q_over_R_K=9320.0, A_per_s=3501.0, xi=4.0, m=0.25, h0_MPa=180000.0,
                      s_hat_MPa=30.2, n=0.01, a=1.78))


def held_bar(nx=3, ny=3, nz=2):
    """A 2 x 1.5 x 1 mm box held between two walls along x, on rollers at y = 0 and z = 0: a uniaxial
    stress sigma_xx = -E alpha dT (elastic; tensile on cooling), homogeneous whatever the law."""
    m = layered_box(2.0, 1.5, [("a", 1.0)], nx, ny, nz)
    x, y, z = m.nodes.T
    fixed = np.zeros((m.n_nodes, 3), dtype=bool)
    fixed[(np.abs(x) < 1e-12) | (np.abs(x - 2.0) < 1e-12), 0] = True
    fixed[np.abs(y) < 1e-12, 1] = True
    fixed[np.abs(z) < 1e-12, 2] = True
    return m, fixed.ravel()


def test_elastic_materials_only_equal_the_linear_solve():
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.analysis.thermoelastic3d import ThermoElasticProblem3D

    model = layered_box(4.0, 3.0, [("cu", 0.3), ("si", 0.3)], 6, 5, 2)
    mats = {"cu": make_material("cu", **CU), "si": make_material("si", **SI)}
    want = ThermoElasticProblem3D(model, mats, 25.0).solve(-75.0).u.ravel()
    p = InelasticProblem3D(model, mats, 25.0, tol=1e-12)
    s = p.increment(p.initial_state(), 1.0, -75.0)
    assert np.abs(s.u - want).max() < 1e-9 * np.abs(want).max()


@pytest.mark.parametrize("hardening", ["kinematic", "isotropic"])
def test_bilinear_held_bar_equals_closed_form(hardening):
    from reliability.analysis.inelastic3d import InelasticProblem3D

    cu = make_material("cu_pl", **{**CU_PLASTIC, "plasticity": {**CU_PLASTIC["plasticity"], "hardening": hardening}})
    m, fixed = held_bar()
    p = InelasticProblem3D(m, {"a": cu}, 25.0, fixed=fixed, tol=1e-11)
    s = p.initial_state()
    for i, T in enumerate([-25.0, -75.0]):
        s = p.increment(s, float(i + 1), T)
    want = 100.0 + 1200.0 * (17e-6 * 100.0 - 100.0 / 120000.0)  # tensile (cooled, held): 101.04 MPa
    sig = s.stress[0]
    assert np.abs(sig[:, 0] - want).max() < 1e-8 * abs(want)
    assert np.abs(sig[:, 1:]).max() < 1e-8 * abs(want)


def point_uniaxial(law, temps, times, alpha):
    """One material point of the held bar: total eps_xx = 0, sigma_yy = sigma_zz = 0 by a scalar Newton on
    the lateral strain e = eps_yy = eps_zz (isotropy), from a stress-free start at temps[0]."""
    st = law.initial_state(1, n_components=6)
    sig = np.zeros((1, 6))
    e, out = 0.0, []
    for k in range(1, len(temps)):
        T, dt = temps[k], times[k] - times[k - 1]
        eth = np.array([1, 1, 1, 0, 0, 0.0]) * alpha * (T - temps[0])
        for _ in range(60):
            eps = np.array([[0.0, e, e, 0, 0, 0]])
            s, C, new = law.update(eps, T, dt, st, eth, sig)
            C = C() if callable(C) else C
            C = np.asarray(C).reshape(6, 6)
            r = s[0, 1]
            if abs(r) < 1e-11 * max(1.0, abs(s[0, 0])):
                break
            e -= r / (C[1, 1] + C[1, 2])
        st, sig = new, s
        out.append(s[0].copy())
    return np.array(out), st


def test_anand_held_bar_equals_the_point_integration():
    """Anand solder cooled 125 -> -40 C in a held bar: every point of the 3D solve follows one material point
    under uniaxial stress (the same law, a scalar Newton on the lateral strain), within 1e-6."""
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.constitutive.models import inelastic_model

    sac = make_material("sac", **SAC)
    m, fixed = held_bar(2, 2, 1)
    p = InelasticProblem3D(m, {"a": sac}, 125.0, fixed=fixed, tol=1e-11)
    temps = np.linspace(125.0, -40.0, 9)
    times = np.linspace(0.0, 600.0, 9)
    s = p.initial_state(125.0)
    for t, T in zip(times[1:], temps[1:]):
        s = p.increment(s, float(t), float(T))
    want, st = point_uniaxial(inelastic_model(sac), temps, times, SAC["alpha_per_K"])
    sig = s.stress[0]
    assert abs(want[-1, 0]) > 10.0  # the solder has yielded and crept: a real test
    assert np.abs(sig[:, 0] - want[-1, 0]).max() < 1e-6 * abs(want[-1, 0])
    from reliability.constitutive.state import inelastic_work

    W = inelastic_work(s.groups[0])
    assert np.abs(W - inelastic_work(st)[0]).max() < 1e-6 * inelastic_work(st)[0]


@pytest.mark.slow
def test_small_array_cycling_the_corner_joint_is_critical_and_symmetric_joints_agree():
    """The fan-out package with a 4 x 4 array (2 x 2 in the quarter) on its board, cooled from 217 C and
    cycled once (JEDEC G): the corner joint has the largest dW and the two joints mirrored by the
    diagonal agree.  Measured (joint size 0.1 mm, 125k dofs, about 5 min; second cycle, bench_3d_cycling.py):
    dW package side 0.113 (centre), 0.1449 / 0.1449 (mirrored pair), 0.197 (corner) MPa."""
    from reliability.analysis.cycling3d import joint_bands3d, run_cycling3d
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.analysis.profile import make_profile
    from reliability.geometry.quarter3d_assembly import build_fan_out_assembly_quarter
    from reliability.library import get_material

    m = build_fan_out_assembly_quarter(balls_per_half=2, joint_size_mm=0.1, size_mm=0.3)
    mats = {r: get_material(v) for r, v in m.info["default_materials"].items() if r in m.region_names}
    p = InelasticProblem3D(m, mats, 217.0)
    bands = joint_bands3d(m, p.groups, p.geo.xq, p.geo.dx, 0.025)
    _, rec = run_cycling3d(p, make_profile(-40.0, 125.0, 15.0, 15.0, 1, 217.0), bands)
    dW = {b: w for b, w in zip(rec.bands, rec.dW()[-1])}
    info = {j["name"]: j for j in m.info["joints"]}
    corner = max(info, key=lambda n: info[n]["dnp_mm"])
    worst = max(dW, key=dW.get)
    assert worst == (corner, "package")
    pair = [n for n in info if info[n]["row"] != info[n]["col"]]
    a, b = (dW[(n, "package")] for n in pair)
    assert abs(a - b) < 0.02 * max(a, b)  # measured equal to four digits
    centre = min(info, key=lambda n: info[n]["dnp_mm"])
    assert dW[(centre, "package")] < a < dW[(corner, "package")]
