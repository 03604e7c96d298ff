"""The elastic regions of an incremental run, integrated once and evaluated at any temperature.

At every temperature the stiffness (its CSR data and its product with a
displacement), the thermal force and the element-wise force scale must equal
a direct integration with D(T) and eps_th(T): isotropic and orthotropic
laws, temperature-dependent or not, through the glass transition.
"""

import numpy as np
import pytest

from conftest import make_material
from reliability.analysis.incremental import InelasticProblem
from reliability.fem.assembly import element_force, element_stiffness
from reliability.geometry.strip import layered_strip
from reliability.library import get_material

# a polymer whose modulus falls through Tg, and an orthotropic laminate that softens
MASK = dict(E_MPa={"T_C": [-65, 25, 125, 260], "value": [4800.0, 4000.0, 2500.0, 1500.0]}, nu=0.35,
            alpha_per_K={"T_C": [-65, 120, 140, 260], "value": [60e-6, 60e-6, 145e-6, 145e-6]})
LAMINATE = dict(E1_MPa={"T_C": [-65, 150, 260], "value": [22000.0, 20000.0, 9000.0]}, E2_MPa=22000.0,
                E3_MPa={"T_C": [-65, 260], "value": [10000.0, 6000.0]}, nu12=0.15, nu13=0.35, nu23=0.35,
                G12_MPa=9000.0, G13_MPa={"T_C": [-65, 260], "value": [4000.0, 2500.0]}, G23_MPa=4000.0,
                alpha1_per_K=16e-6, alpha2_per_K=16e-6,
                alpha3_per_K={"T_C": [-65, 160, 180, 260], "value": [55e-6, 55e-6, 220e-6, 220e-6]})


@pytest.fixture(scope="module")
def problem():
    model = layered_strip([("si", 0.2), ("sac", 0.1), ("mask", 0.05), ("board", 0.3), ("cu", 0.1)], 2.0,
                          nx=20, ny=2)
    mats = {"si": get_material("silicon"), "sac": get_material("SAC305"), "cu": get_material("copper"),
            "mask": make_material("mask", **MASK), "board": make_material("board", **LAMINATE)}
    return InelasticProblem(model, mats, "plane_strain", 217.0)


@pytest.mark.parametrize("name, props", [("mask", MASK), ("laminate", LAMINATE), ("silicon", None)])
def test_stiffness_basis_reproduces_D_at_every_temperature(name, props):
    law = (make_material(name, **props) if props else get_material(name)).elastic
    basis = law.stiffness_basis()
    assert basis.shape[0] == {"mask": 2, "laminate": 7, "silicon": 1}[name]
    for T in (-65.0, -40.0, 25.0, 139.0, 217.0, 260.0):
        D = law.stiffness(T)
        assert np.abs(np.einsum("j,jab->ab", law.stiffness_coefficients(T), basis) - D).max() <= 1e-12 * np.abs(D).max()


def _direct(problem, T):
    """K_el(T) data, f_th and scale_th integrated element by element, as before the basis."""
    e = problem.elastic_elements
    D = np.stack([m.elastic.stiffness(T) for m in problem.materials])
    eth = np.stack([m.elastic.thermal_strain(T, problem.T_ref) for m in problem.materials])
    B, w = problem.kin.B[e], problem.kin.w[e]
    K = problem.assembler.data(element_stiffness(B, D[problem.mat_index[e]][:, None], w), e)
    sig = np.einsum("mij,mj->mi", D, eth)[problem.mat_index[e]][:, None, :]
    fe = element_force(B, np.broadcast_to(sig, (e.size, problem.Q, 4)), w)
    return K, problem.assembler.vector(fe, e), problem.assembler.vector(np.abs(fe), e)


def test_stiffness_and_thermal_force_equal_a_direct_integration(problem):
    kinds = {m.name: m.elastic.temperature_dependent for m in problem.materials if m.spec.anand is None
             and m.spec.plasticity is None}
    assert kinds == {"silicon": False, "mask": True, "board": True}
    u = np.random.default_rng(0).standard_normal(problem.n_dofs)
    for T in (-40.0, 60.0, 150.0, 60.0, 200.0):  # back to 60 C: nothing carried over from 150 C
        at = problem.elastic.at(T)
        K, f_th, scale_th = _direct(problem, T)
        assert np.abs(at.data() - K).max() <= 1e-12 * np.abs(K).max()
        Ku = problem.assembler.csr(K) @ u
        assert np.abs(at.matvec(u) - Ku).max() <= 1e-12 * np.abs(Ku).max()
        assert np.abs(at.f_th - f_th).max() <= 1e-12 * np.abs(f_th).max()
        assert np.abs(at.scale_th - scale_th).max() <= 1e-12 * np.abs(scale_th).max()


def test_inelastic_elements_add_nothing_to_the_elastic_part(problem):
    """The solder and copper rows of K_el are the elastic neighbours' only: zero on a solder-only dof."""
    at = problem.elastic.at(25.0)
    dm = problem.assembler.dofmap
    inside = np.setdiff1d(dm[problem._inelastic_elements], dm[problem.elastic_elements])
    inside = inside[inside >= 0]
    assert inside.size > 0
    assert np.abs(problem.assembler.csr(at.data())[inside]).max() == 0.0
    assert np.abs(at.f_th[inside]).max() == 0.0
