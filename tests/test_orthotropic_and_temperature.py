"""An orthotropic layer and a temperature-dependent modulus change the bimetal
curvature exactly as the Timoshenko closed form says (issue 2).

Orthotropic bottom layer (BT-like: axes 1 along the section, 2 out of it,
3 through the thickness).  Beam theory keeps sigma_1 only, so
* plane stress: E' = E1, alpha' = alpha1;
* plane strain (eps_2 = 0): E' = 1 / (S11 - S12^2 / S22), alpha' = alpha1 + nu12 (E2/E1) alpha2.
"""

import pytest

from closed_form import SI, plane_strain, rel, timoshenko_curvature
from conftest import make_material
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.analysis.warpage import surface_profile
from reliability.geometry.strip import layered_strip

ORTHO = dict(
    E1_MPa=23000.0, E2_MPa=18000.0, E3_MPa=10000.0,
    nu12=0.2, nu13=0.3, nu23=0.3,
    G12_MPa=9500.0, G13_MPa=4000.0, G23_MPa=4000.0,
    alpha1_per_K=14e-6, alpha2_per_K=11e-6, alpha3_per_K=40e-6,
)
H = 0.3
DT = -100.0


@pytest.fixture(scope="module")
def strip():
    return layered_strip([("bottom_layer", H), ("si", H)], 10.0, nx=100, ny=4)


def fe_curvature(model, bottom, kinematics, T=25.0 + DT):
    mats = {"si": make_material("si", **SI), "bottom_layer": bottom}
    state = ThermoElasticProblem(model, mats, kinematics, 25.0).solve(T)
    return surface_profile(model, state.u, "bottom").curvature_per_mm()


def ortho_beam(kinematics):
    E1, E2, nu12 = ORTHO["E1_MPa"], ORTHO["E2_MPa"], ORTHO["nu12"]
    if kinematics == "plane_stress":
        return E1, ORTHO["alpha1_per_K"]
    S11, S12, S22 = 1 / E1, -nu12 / E1, 1 / E2
    return 1 / (S11 - S12**2 / S22), ORTHO["alpha1_per_K"] + nu12 * E2 / E1 * ORTHO["alpha2_per_K"]


@pytest.mark.parametrize("kinematics", ["plane_stress", "plane_strain"])
def test_orthotropic_layer_matches_closed_form(strip, kinematics):
    E2, a2 = ortho_beam(kinematics)
    if kinematics == "plane_strain":
        E1, a1 = plane_strain(SI["E_MPa"], SI["nu"], SI["alpha_per_K"])
    else:
        E1, a1 = SI["E_MPa"], SI["alpha_per_K"]
    ref = timoshenko_curvature(E1, H, a1, E2, H, a2, DT)
    k = fe_curvature(strip, make_material("bt", **ORTHO), kinematics)
    assert rel(k, ref) < 0.01  # measured: < 0.1 %

    # and the change from an isotropic layer with E1, nu12, alpha1 is the closed-form change
    iso = make_material("iso", E_MPa=ORTHO["E1_MPa"], nu=ORTHO["nu12"], alpha_per_K=ORTHO["alpha1_per_K"])
    if kinematics == "plane_strain":
        Ei, ai = plane_strain(ORTHO["E1_MPa"], ORTHO["nu12"], ORTHO["alpha1_per_K"])
    else:
        Ei, ai = ORTHO["E1_MPa"], ORTHO["alpha1_per_K"]
    ref_iso = timoshenko_curvature(E1, H, a1, Ei, H, ai, DT)
    k_iso = fe_curvature(strip, iso, kinematics)
    if kinematics == "plane_strain":
        assert abs(ref / ref_iso - 1) > 0.05  # nu12 (E2/E1) alpha2 matters under eps_2 = 0...
    else:
        assert ref == ref_iso  # ...and not at all under sigma_2 = 0
    assert rel(k / k_iso, ref / ref_iso) < 0.005  # FE changes by the closed-form ratio


def test_temperature_dependent_modulus_matches_closed_form(strip):
    # copper-like layer whose modulus halves from 25 C to -75 C (deliberately strong)
    table = {"T_C": [-75.0, 25.0], "value": [60000.0, 120000.0]}
    cu_T = make_material("cuT", E_MPa=table, nu=0.34, alpha_per_K=17e-6)
    cu_const = make_material("cu", E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)
    E1, a1 = plane_strain(SI["E_MPa"], SI["nu"], SI["alpha_per_K"])
    for T, E_cu in ((-75.0, 60000.0), (-25.0, 90000.0)):
        E2, a2 = plane_strain(E_cu, 0.34, 17e-6)
        ref = timoshenko_curvature(E1, H, a1, E2, H, a2, T - 25.0)
        k = fe_curvature(strip, cu_T, "plane_strain", T)
        assert rel(k, ref) < 0.01
    # the table changes the answer, by the closed-form ratio
    k_T = fe_curvature(strip, cu_T, "plane_strain", -75.0)
    k_c = fe_curvature(strip, cu_const, "plane_strain", -75.0)
    E2c, a2c = plane_strain(120000.0, 0.34, 17e-6)
    E2t, _ = plane_strain(60000.0, 0.34, 17e-6)
    ratio = timoshenko_curvature(E1, H, a1, E2t, H, a2c, DT) / timoshenko_curvature(E1, H, a1, E2c, H, a2c, DT)
    assert abs(k_T / k_c - 1) > 0.02  # measured 3.4 %
    assert rel(k_T / k_c, ratio) < 0.001


def test_temperature_dependent_cte_integrates(strip):
    """Instantaneous CTE table: the mismatch strain is the integral of alpha, not alpha(T) * dT."""
    alpha = {"T_C": [-100.0, 0.0, 100.0], "value": [12e-6, 17e-6, 22e-6]}
    cu = make_material("cu", E_MPa=120000.0, nu=0.34, alpha_per_K=alpha)
    T = -75.0
    # integral of alpha from 25 to -75 (piecewise linear): segments [25, 0] and [0, -75]
    a25 = 17e-6 + 25 * (22e-6 - 17e-6) / 100
    a_m75 = 12e-6 + 25 * (17e-6 - 12e-6) / 100
    eps_th = -(0.5 * (a25 + 17e-6) * 25 + 0.5 * (17e-6 + a_m75) * 75)
    assert abs(cu.elastic.thermal_strain(T, 25.0)[0] - eps_th) < 1e-15
    E1, a1 = plane_strain(SI["E_MPa"], SI["nu"], SI["alpha_per_K"])
    E2, a2eff = plane_strain(120000.0, 0.34, eps_th / (T - 25.0))  # secant alpha over the step
    ref = timoshenko_curvature(E1, H, a1, E2, H, a2eff, T - 25.0)
    assert rel(fe_curvature(strip, cu, "plane_strain", T), ref) < 0.01
