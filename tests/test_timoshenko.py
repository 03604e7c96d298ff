"""Bimetal strip against Timoshenko (1925), physics.md 6.1.

Si 0.3 mm (130 GPa, 0.28, 2.6 ppm/K) on Cu 0.3 mm (120 GPa, 0.34, 17 ppm/K),
L = 10 mm, dT = -100 K.  Curvature = d2w/dx2 of the bottom surface, from a
parabola fitted over the central half of the span.
"""

import pytest

from closed_form import (CU, KAPPA_BIAXIAL, KAPPA_PLANE_STRAIN, KAPPA_PLANE_STRESS, SI,
                         bimetal_reference, rel)
from conftest import make_material
from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.analysis.warpage import surface_profile
from reliability.geometry.strip import layered_strip


@pytest.fixture(scope="module")
def strip():
    return layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=100, ny=4)


@pytest.fixture(scope="module")
def half_strip():
    return layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=50, ny=4, half=True)


def curvature(model, kinematics, symmetry=None, centre=None, si=SI, cu=CU, T=-75.0):
    mats = {"si": make_material("si", **si), "cu": make_material("cu", **cu)}
    state = ThermoElasticProblem(model, mats, kinematics, 25.0, symmetry_line=symmetry).solve(T)
    return surface_profile(model, state.u, "bottom", centre).curvature_per_mm()


def test_timoshenko_plane_strain(strip):
    k = curvature(strip, "plane_strain")
    assert rel(k, KAPPA_PLANE_STRAIN) < 0.01  # issue: within 1 % of -4.863e-3 /mm
    assert rel(k, bimetal_reference("plane_strain")) < 1e-4  # measured: 5e-11


def test_timoshenko_plane_stress(strip):
    k = curvature(strip, "plane_stress")
    assert rel(k, KAPPA_PLANE_STRESS) < 0.01
    assert rel(k, bimetal_reference("plane_stress")) < 1e-4


def test_generalized_plane_strain_reaches_biaxial_plate(strip):
    k = curvature(strip, "generalized_plane_strain")
    assert rel(k, KAPPA_BIAXIAL) < 0.02  # issue: within 2 % of the biaxial plate
    assert rel(k, bimetal_reference("biaxial")) < 1e-3  # measured: 1e-5


def test_half_model_with_symmetry_line_equals_full(strip, half_strip):
    full = curvature(strip, "plane_strain")
    half = curvature(half_strip, "plane_strain", symmetry="symmetry", centre=0.0)
    assert rel(half, full) < 1e-6
    gps = curvature(half_strip, "generalized_plane_strain", symmetry="symmetry", centre=0.0)
    assert rel(gps, KAPPA_BIAXIAL) < 0.02


def test_axisymmetric_disk_reaches_biaxial_plate():
    # disk of radius 5 mm: the same layers rotated about x = 0
    disk = layered_strip([("cu", 0.3), ("si", 0.3)], 10.0, nx=60, ny=4, half=True)
    k = curvature(disk, "axisymmetric", centre=0.0)
    assert rel(k, KAPPA_BIAXIAL) < 0.02  # measured: well under 1 %


def test_bimetal_bow_sign_is_jedec_convex_on_cooling(strip):
    """Cooling Si on Cu: Cu (bottom) shrinks more, centre rises -> convex -> positive warpage."""
    mats = {"si": make_material("si", **SI), "cu": make_material("cu", **CU)}
    state = ThermoElasticProblem(strip, mats, "plane_strain", 25.0).solve(-75.0)
    prof = surface_profile(strip, state.u, "bottom")
    bow_um = -KAPPA_PLANE_STRAIN * 10.0**2 / 8 * 1e3  # chord bow w = kappa L^2 / 8, physics.md: 60.8 um
    assert prof.warpage_um > 0
    # the chord formula is the small-curvature value; FE bow includes end effects
    assert abs(prof.warpage_um - bow_um) / bow_um < 0.01
