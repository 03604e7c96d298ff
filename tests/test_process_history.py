"""Process history (element birth, removal, cure) on a free three-layer strip against the laminate closed form.

All properties are temperature independent and elastic, so each state is the
superposition of laminate solutions (tests/closed_form.laminate_curvature).
"""

import numpy as np
import pytest

from closed_form import laminate_curvature
from conftest import make_material
from reliability.analysis.incremental import InelasticProblem
from reliability.analysis.warpage import surface_profile
from reliability.errors import CaseError
from reliability.geometry.strip import layered_strip
from reliability.process.history import History
from reliability.process.steps import parse_step

LAYERS = [("a", 0.3, 130e3, 0.28, 3e-6), ("b", 0.2, 20e3, 0.3, 15e-6), ("c", 0.1, 120e3, 0.34, 17e-6)]
L = 10.0


@pytest.fixture(scope="module")
def strip():
    model = layered_strip([(n, t) for n, t, *_ in LAYERS], L, nx=80, ny=2)
    mats = {n: make_material(n, E_MPa=E, nu=nu, alpha_per_K=a, cure_shrinkage_linear=0.002)
            for n, _, E, nu, a in LAYERS}
    return model, mats


def _kappa(layers, dT=None, eigen=None):
    """Plane-strain laminate curvature (1/mm, eps = eps0 + kappa y) of ``layers`` with eigenstrains."""
    eig = eigen if eigen is not None else [a * dT for *_, a in layers]
    return laminate_curvature([(t, E, nu, e) for (_, t, E, nu, _a), e in zip(layers, eig)], plane_strain=True)


def _fe_kappa(history, surface="bottom"):
    u, _ = history.problem.full_displacement(history.state.u)
    # bending strain eps = eps0 + kappa y  ->  w'' = -kappa
    return -surface_profile(history.model, u, surface).curvature_per_mm()


def _history(strip, born_later=(), removed=()):
    """A history whose point supports hold only nodes that exist throughout (born_later and removed excluded)."""
    from reliability.process.history import persistent_nodes

    model, mats = strip
    keep = persistent_nodes(model, set(born_later) | set(removed))
    problem = InelasticProblem(model, mats, "plane_strain", 175.0, support_candidates=keep)
    return History(problem, 175.0, set(born_later))


def test_three_layer_sequence_matches_superposed_laminates(strip):
    h = _history(strip, {"c"})
    record = []
    steps = [parse_step(s) for s in ({"kind": "ramp", "to_C": 25.0}, {"kind": "activate", "regions": ["c"]},
                                     {"kind": "ramp", "to_C": 125.0}, {"kind": "deactivate", "regions": ["c"]})]
    h.observer = lambda i, step, hist: record.append((_fe_kappa(hist), hist.problem.stress_field(hist.state)))
    h.run(steps)
    k1 = _kappa(LAYERS[:2], -150.0)
    k2 = k1 + _kappa(LAYERS, 100.0)
    k3 = _kappa(LAYERS[:2], -50.0)
    expected = [k1, k1, k2, k3]
    for (k_fe, _), k_cf in zip(record, expected):
        assert k_fe == pytest.approx(k_cf, rel=1e-4)  # the issue asks 1 %; measured 2e-10 to 3e-6
    # the layer born at the current temperature adds no stress
    s_before, s_after = record[0][1], record[1][1]
    assert np.abs(s_after - s_before).max() <= 1e-9 * np.abs(s_before).max()


def test_removing_all_but_one_layer_is_free_expansion(strip):
    h = _history(strip, removed={"b", "c"})
    h.run([parse_step({"kind": "ramp", "to_C": 25.0}), parse_step({"kind": "deactivate", "regions": ["b", "c"]})])
    sig = h.problem.stress_field(h.state)
    a = h.model.region_elements("a")
    scale = 130e3 * 3e-6 * 150.0
    # in-plane components vanish; sigma_zz is the plane-strain constraint -E alpha dT (dT = -150 K)
    # the increment stops at the force floor, 1e-10 of the fully restrained thermal force, which this thin
    # strip's bending compliance turns into up to ~3e-8 of the scale: measured 3.1e-9 on the earlier install,
    # 2.7e-8 with MKL 2026.2.1 (its first solve lands closer to the floor); 8e-9 with no floor
    assert np.abs(sig[a][..., [0, 1, 3]]).max() <= 1e-7 * scale
    assert np.abs(sig[a][..., 2] - scale).max() <= 1e-7 * scale  # the same floor: 7.5e-9 with MKL 2026.2.1


def test_uniform_birth_reproduces_the_single_stress_free_temperature(strip):
    model, mats = strip
    # Newton in double precision to a tight tolerance: both routes converge to round-off
    plain = InelasticProblem(model, mats, "plane_strain", 175.0, newton="full", tol=1e-13)
    s0 = plain.increment(plain.initial_state(), 60.0, 25.0)
    h = History(InelasticProblem(model, mats, "plane_strain", 175.0, newton="full", tol=1e-13), 175.0)
    h.run([parse_step({"kind": "ramp", "to_C": 25.0, "rate_K_per_min": 150.0})])
    assert np.abs(h.state.u - s0.u).max() <= 1e-9 * np.abs(s0.u).max()


def test_cure_shrinkage_equals_timoshenko_with_the_equivalent_temperature_change(strip):
    h = _history(strip, {"c"})
    h.run([parse_step({"kind": "cure", "regions": ["b"], "duration_min": 30.0})])
    # shrinkage s on layer b == an eigenstrain -s there (the same as a temperature change -s/alpha_b)
    expected = _kappa(LAYERS[:2], eigen=[0.0, -0.002])
    assert _fe_kappa(h) == pytest.approx(expected, rel=1e-4)  # measured 2e-10


@pytest.mark.parametrize("steps, message", [
    ([{"kind": "activate", "regions": ["nope"]}], "region 'nope' is not in the model"),
    ([{"kind": "activate", "regions": ["c"]}, {"kind": "activate", "regions": ["c"]}], "activated twice"),
    ([{"kind": "activate", "regions": ["c"]}, {"kind": "deactivate", "regions": ["b"]}], "separate pieces"),
])
def test_bad_steps_name_the_step(strip, steps, message):
    h = _history(strip, {"c"}, removed={"b"})
    with pytest.raises(CaseError, match=message) as err:
        h.run([parse_step(s) for s in steps])
    assert "process step" in str(err.value)


def test_evaluate_leaves_the_history_unchanged_and_matches_a_ramp(strip):
    h = _history(strip)
    h.run([parse_step({"kind": "ramp", "to_C": 25.0})])
    u_before = h.state.u.copy()
    h.run([parse_step({"kind": "evaluate", "temperatures_C": [125.0]}), parse_step({"kind": "dwell", "duration_min": 5})])
    assert np.array_equal(h.state.u, u_before) or np.abs(h.state.u - u_before).max() <= 1e-6 * np.abs(u_before).max()
    k_eval = -surface_profile(h.model, h.problem.full_displacement(h.evaluations[0].u)[0], "bottom").curvature_per_mm()
    # elastic and path-independent: the state at 125 C is the laminate at dT = 125 - 175
    assert k_eval == pytest.approx(_kappa(LAYERS, -50.0), rel=1e-4)


def test_a_temperature_outside_a_materials_data_names_the_step():
    model = layered_strip([("a", 0.3), ("b", 0.2)], 4.0, nx=20, ny=1)
    mats = {"a": make_material("a", E_MPa=130e3, nu=0.28, alpha_per_K=3e-6),
            "b": make_material("b", E_MPa={"T_C": [-65, 217], "value": [50e3, 20e3]}, nu=0.3, alpha_per_K=20e-6)}
    h = History(InelasticProblem(model, mats, "plane_strain", 175.0), 175.0)
    with pytest.raises(CaseError, match=r"process step 1 \(reflow to a 260 C peak and back\).*outside the data"):
        h.run([parse_step({"kind": "reflow"})])


def test_supports_on_a_removed_region_are_refused_and_candidates_fix_it(strip):
    from reliability.process.history import persistent_nodes

    model, mats = strip
    steps = [parse_step({"kind": "ramp", "to_C": 25.0}), parse_step({"kind": "deactivate", "regions": ["a"]})]
    model_ = strip[0]
    h = History(InelasticProblem(model_, mats, "plane_strain", 175.0), 175.0)  # pin at the lower left: in layer a
    with pytest.raises(CaseError, match="a support holds the node"):
        h.run(steps)
    problem = InelasticProblem(model, mats, "plane_strain", 175.0, support_candidates=persistent_nodes(model, {"a"}))
    h = History(problem, 175.0)
    h.run(steps)
    # what is left is the free b/c bilayer cooled by 150 K
    # (measured on the top: the removed layer's nodes no longer move)
    assert _fe_kappa(h, "top") == pytest.approx(_kappa(LAYERS[1:], -150.0), rel=1e-4)
