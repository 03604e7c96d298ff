"""Generalized Maxwell viscoelasticity (issue 16): material point against closed forms and quadrature,
consistent tangent, limits, a free body, and a bilayer strip against a laminated beam with the Maxwell
branches integrated as ODEs."""

import math
import tomllib

import numpy as np
import pytest
from scipy.integrate import cumulative_simpson, quad, simpson, solve_ivp

from conftest import make_material
from reliability.analysis.incremental import InelasticProblem
from reliability.analysis.warpage import surface_profile
from reliability.cli import main
from reliability.constitutive.driver import run_dma, run_test
from reliability.constitutive.models import inelastic_model
from reliability.constitutive.shift import KELVIN, R_J_PER_MOL_K
from reliability.errors import MaterialError
from reliability.geometry.strip import layered_strip
from reliability.library import get_material, library_dir
from reliability.material import MaterialSpec, find_material
from reliability.process.history import History
from reliability.process.steps import parse_step

# the example block
VE = dict(nu=0.3, alpha_per_K=30e-6, viscoelastic=dict(
    E_inf_MPa=1000.0, reference_C=150.0, terms=[dict(E_MPa=9000.0, tau_s=10.0), dict(E_MPa=14000.0, tau_s=1000.0)],
    shift=dict(model="wlf", C1=12.0, C2_K=80.0)))
SI = dict(E_MPa=130e3, nu=0.28, alpha_per_K=2.6e-6)
VISCO_FILES = ["emc-low-cte-visco", "emc-standard-visco", "underfill-visco"]


def _ve(**changes):
    block = dict(VE["viscoelastic"], **changes)
    return make_material("ve", **dict(VE, viscoelastic=block))


def _uniaxial(eps_xx, nu):
    """Strain 4-vector of uniaxial stress in a constant-nu material."""
    return np.array([eps_xx, -nu * eps_xx, -nu * eps_xx, 0.0])


# --- material point ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dT", [0.0, 20.0])
def test_ramp_and_hold_relaxation_matches_the_exact_generalized_maxwell_solution(dT):
    mat = get_material("emc-low-cte-visco")
    cm = inelastic_model(mat)
    T = mat.spec.viscoelastic.reference_C + dT
    rate, strain = 1e-3, 1e-3
    h = run_test(mat, "relaxation", T, strain_rate=rate, strain=strain, duration=3600.0)
    t1 = strain / rate
    lam = float(cm.shift.aT(T)) * cm.tau
    t = h.time_s[1:, None]
    tm = np.minimum(t, t1)
    exact = rate * (cm.params.E_inf_MPa * tm[:, 0]
                    + np.sum(cm.E * lam * (np.exp(-(t - tm) / lam) - np.exp(-t / lam)), axis=1))
    err = np.max(np.abs(h.stress_MPa[1:] - exact) / np.abs(exact))
    assert err <= 0.01  # the issue asks 1 %; measured 6.5e-13 (Tref) and 5.5e-15 (Tref + 20 K): the update is exact
    assert h.stress_MPa[-1] < 0.5 * h.stress_MPa[50]  # it did relax (to 11 % of the ramp's end at Tref)


def test_constant_strain_rate_matches_quadrature_of_the_relaxation_modulus():
    mat = get_material("emc-low-cte-visco")
    cm = inelastic_model(mat)
    T, rate = 160.0, 1e-4
    h = run_test(mat, "uniaxial", T, strain_rate=rate, strain=2e-3, steps=300)
    for k in (40, 150, len(h.time_s) - 1):
        t = h.time_s[k]
        ref = rate * quad(lambda s: float(cm.relaxation_modulus(t - s, T)), 0.0, t, limit=200)[0]
        assert h.stress_MPa[k] == pytest.approx(ref, rel=0.01)  # measured 3e-15: exact for a strain linear in time


def test_reduced_time_of_a_temperature_ramp_matches_quadrature():
    for mat in (get_material("emc-low-cte-visco"), _ve(),
                _ve(shift=dict(model="arrhenius", Ea_J_per_mol=2.0e5)),
                _ve(shift=dict(model="table", T_C=[100.0, 150.0, 200.0], log10_aT=[4.0, 0.0, -6.0]))):
        sh = inelastic_model(mat).shift
        for T0, T1 in ((140.0, 200.0), (180.0, 120.0), (125.0, 126.0)):
            ref = quad(lambda s: 10.0 ** -float(sh.log10_aT(T0 + (T1 - T0) * s)), 0.0, 1.0, limit=400,
                       epsabs=0.0, epsrel=1e-12)[0] * 60.0
            # measured 1.0e-9 (the trapezoid rule: +400 % on 140 -> 200 C)
            assert sh.reduced_time(60.0, T0, T1) == pytest.approx(ref, rel=1e-6)


def test_shift_laws_follow_their_formulas():
    wlf = inelastic_model(_ve()).shift
    assert float(wlf.log10_aT(170.0)) == pytest.approx(-12.0 * 20.0 / (80.0 + 20.0), rel=1e-12)
    arr = inelastic_model(_ve(shift=dict(model="arrhenius", Ea_J_per_mol=2.0e5))).shift
    ln = 2.0e5 / R_J_PER_MOL_K * (1 / (100.0 + KELVIN) - 1 / (150.0 + KELVIN))
    assert float(arr.aT(100.0)) == pytest.approx(math.exp(ln), rel=1e-12)
    emc = inelastic_model(get_material("emc-low-cte-visco")).shift  # WLF above, Arrhenius below Tref
    assert float(emc.log10_aT(150.0)) == 0.0
    assert float(emc.log10_aT(165.0)) == pytest.approx(-15.0 * 15.0 / 115.0, rel=1e-12)
    ln = 2.61e5 / R_J_PER_MOL_K * (1 / (25.0 + KELVIN) - 1 / (150.0 + KELVIN))
    assert float(emc.log10_aT(25.0)) == pytest.approx(ln / math.log(10.0), rel=1e-12)


def test_temperature_ramp_at_a_material_point_matches_quadrature():
    """Constant mechanical strain rate while T falls 190 -> 130 C, through the reduced time."""
    mat = get_material("emc-low-cte-visco")
    cm = inelastic_model(mat)
    nu, rate, t_end = mat.spec.nu, 1e-5, 600.0
    T_of = lambda t: 190.0 - 60.0 * t / t_end  # noqa: E731
    times = np.linspace(0.0, t_end, 601)
    state, sig = cm.initial_state(1), np.zeros((1, 4))
    out = []
    for t0, t1 in zip(times[:-1], times[1:]):
        eth = mat.elastic.thermal_strain(T_of(t1), 190.0)
        eps = (_uniaxial(rate * t1, nu) + eth)[None]
        sig, _, state = cm.update(eps, T_of(t1), t1 - t0, state, eth, sig, T_prev_C=T_of(t0))
        out.append(sig[0].copy())
    out = np.array(out)
    assert np.abs(out[:, 1:]).max() <= 1e-9 * np.abs(out[:, 0]).max()  # uniaxial: lateral stresses vanish

    # reference: xi(s) = int_0^s dt / a_T by cumulative Simpson on a grid 100 times finer than the increments,
    # then sigma(t) = rate int_0^t E(xi(t) - xi(s)) ds by Simpson on the same grid
    grid = np.linspace(0.0, t_end, 60001)
    xi = cumulative_simpson(1.0 / cm.shift.aT(T_of(grid)), x=grid, initial=0.0)
    for k in (100, 300, 599):
        n = 100 * (k + 1) + 1
        ref = rate * simpson(cm.relaxation_modulus(xi[n - 1] - xi[:n]), x=grid[:n])
        assert out[k, 0] == pytest.approx(ref, rel=0.01)  # measured 4.3e-4, 8.9e-5, 1.4e-5


def test_consistent_tangent_matches_finite_differences():
    mat = get_material("emc-low-cte-visco")
    cm = inelastic_model(mat)
    rng = np.random.default_rng(3)
    state, sig = cm.initial_state(5), np.zeros((5, 4))
    for k, (T0, T1) in enumerate(((150.0, 160.0), (160.0, 165.0))):  # a history, then the tested increment
        eps = rng.normal(scale=1e-3, size=(5, 4))
        eth = np.full(4, 1e-4)
        sig_k, C, new = cm.update(eps, T1, 5.0, state, eth, sig, T_prev_C=T0)
        if k == 0:
            state, sig = new, sig_k
    h = 1e-7
    worst = 0.0
    for j in range(4):
        d = np.zeros(4)
        d[j] = h
        sp = cm.update(eps + d, T1, 5.0, state, eth, sig, T_prev_C=T0)[0]
        sm = cm.update(eps - d, T1, 5.0, state, eth, sig, T_prev_C=T0)[0]
        worst = max(worst, np.abs((sp - sm) / (2 * h) - C[:, :, j]).max())
    assert worst <= 1e-6 * np.abs(C).max()  # measured 2.7e-12 relative


@pytest.mark.parametrize("tau, limit", [(1e30, "glassy"), (1e-30, "rubbery")])
def test_extreme_relaxation_times_give_the_glassy_and_rubbery_elastic_answers(tau, limit):
    mat = _ve(terms=[dict(E_MPa=9000.0, tau_s=tau), dict(E_MPa=14000.0, tau_s=tau)])
    cm = inelastic_model(mat)
    E = 24000.0 if limit == "glassy" else 1000.0
    rng = np.random.default_rng(1)
    state, sig = cm.initial_state(3), np.zeros((3, 4))
    T_prev = 150.0
    for T in (170.0, 120.0, 200.0, 150.0):
        eps = rng.normal(scale=1e-3, size=(3, 4))
        sig, C, state = cm.update(eps, T, 30.0, state, np.zeros(4), sig, T_prev_C=T_prev)
        T_prev = T
        elastic = eps @ (E * cm.D1).T
        assert np.abs(sig - elastic).max() <= 1e-6 * np.abs(elastic).max()  # measured 3.7e-16 and 2.8e-16
        assert np.abs(C[0] - E * cm.D1).max() <= 1e-6 * E


def test_dma_through_the_update_matches_the_prony_closed_form():
    mat = get_material("emc-low-cte-visco")
    res = run_dma(mat, temperatures_C=[150.0, 170.0], frequencies_Hz=np.logspace(-2, 2, 5))
    # measured 2.2e-3 (the strain is piecewise linear in time)
    assert np.abs(res.storage_MPa / res.storage_exact_MPa - 1).max() <= 5e-3
    assert np.abs(res.loss_MPa - res.loss_exact_MPa).max() <= 5e-3 * res.storage_exact_MPa.max()  # 1.3e-4


# --- finite elements --------------------------------------------------------------------------------

@pytest.mark.parametrize("kinematics", ["generalized_plane_strain", "axisymmetric"])
def test_free_body_stays_stress_free_through_a_temperature_history(kinematics):
    model = layered_strip([("a", 0.3), ("b", 0.2)], 4.0, nx=12, ny=2, half=kinematics == "axisymmetric")
    emc = get_material("emc-low-cte-visco")
    problem = InelasticProblem(model, {"a": emc, "b": emc}, kinematics, 175.0, newton="full", tol=1e-12)
    state = problem.initial_state()
    history = [(600.0, 25.0), (1500.0, 25.0), (2400.0, 260.0), (2700.0, 260.0), (3300.0, -40.0), (4000.0, 150.0)]
    worst = 0.0
    t_prev, T_prev = 0.0, 175.0
    for t_end, T_end in history:
        for t in np.linspace(t_prev, t_end, 7)[1:]:
            state = problem.increment(state, t, T_prev + (T_end - T_prev) * (t - t_prev) / (t_end - t_prev))
            worst = max(worst, float(np.abs(problem.stress_field(state)).max()))
        t_prev, T_prev = t_end, T_end
    scale = 24000.0 * emc.elastic.thermal_strain(260.0, 175.0)[0]  # the stress of a fully restrained body
    assert worst <= 1e-9 * scale  # measured 4.3e-14 (gps) and 1.6e-12 (axisymmetric)


# a bilayer strip: silicon under the example viscoelastic layer, stress-free at 180 C
H = (0.3, 0.2)
T_REF = 180.0
KNOTS = [(0.0, 180.0), (480.0, 100.0), (1080.0, 100.0), (1440.0, 160.0), (2040.0, 160.0)]  # 10 K/min, 10 min holds


def _schedule(n_ramp=30, n_hold=20):
    ts = [0.0]
    for (t0, T0), (t1, T1) in zip(KNOTS, KNOTS[1:]):
        if T0 != T1:
            ts += list(np.linspace(t0, t1, n_ramp + 1)[1:])
        else:  # holds: fine increments first, where the relaxation is fast
            ts += list(t0 + (t1 - t0) * (np.geomspace(1, 101, n_hold + 1)[1:] - 1) / 100)
    ts = np.array(ts)
    return ts, np.interp(ts, *zip(*KNOTS))


def _beam_curvature(times, cm):
    """Plane-strain laminated beam, eps = eps0 + kappa y; the Maxwell branch force and moment resultants
    R_i = int h_i (1, y) dy of the viscoelastic layer integrated as ODEs (LSODA, rtol 1e-9).

    With constant nu the layer is a 1D generalized Maxwell material of modulus E(t)/(1 - nu^2) on the
    strain eps - (1 + nu) alpha dT (sigma_yy = 0, eps_zz = 0).  Equilibrium N = M = 0 gives
    K_inf z + sum R_i = F(T); its time derivative with dR_i/dt = E_i' (S_v dz/dt - de_v/dt m_v) - R_i/lambda_i
    gives dz/dt, lambda_i = a_T(T(t)) tau_i.
    """
    Ee, ae = SI["E_MPa"] / (1 - SI["nu"] ** 2), (1 + SI["nu"]) * SI["alpha_per_K"]
    nu = VE["nu"]
    E_inf, E_i, av = cm.params.E_inf_MPa / (1 - nu**2), cm.E / (1 - nu**2), (1 + nu) * VE["alpha_per_K"]

    def moments(y0, y1):
        m0, m1, m2 = y1 - y0, (y1**2 - y0**2) / 2, (y1**3 - y0**3) / 3
        return np.array([[m0, m1], [m1, m2]]), np.array([m0, m1])

    Se, me = moments(0.0, H[0])
    Sv, mv = moments(H[0], H[0] + H[1])
    K_inf = Ee * Se + E_inf * Sv
    K_g = K_inf + E_i.sum() * Sv
    m = cm.E.size
    T_of = lambda t: np.interp(t, *zip(*KNOTS))  # noqa: E731
    kappa = {0.0: 0.0}
    R = np.zeros(2 * m)
    for (t0, T0), (t1, T1) in zip(KNOTS, KNOTS[1:]):
        Tdot = (T1 - T0) / (t1 - t0)
        Fdot = (Ee * ae * me + E_inf * av * mv) * Tdot

        def rhs(t, R):
            Rm = R.reshape(m, 2)
            lam = float(cm.shift.aT(T_of(t))) * cm.tau
            zdot = np.linalg.solve(K_g, Fdot + E_i.sum() * av * Tdot * mv + (Rm / lam[:, None]).sum(0))
            return (E_i[:, None] * (Sv @ zdot - av * Tdot * mv)[None, :] - Rm / lam[:, None]).ravel()

        sel = times[(times > t0) & (times <= t1 + 1e-9)]
        sol = solve_ivp(rhs, (t0, t1), R, method="LSODA", rtol=1e-9, atol=1e-14, t_eval=sel)
        for t, Rt in zip(sol.t, sol.y.T):
            dT = T_of(t) - T_REF
            F = Ee * ae * dT * me + E_inf * av * dT * mv
            kappa[round(float(t), 6)] = np.linalg.solve(K_inf, F - Rt.reshape(m, 2).sum(0))[1]
        R = sol.y[:, -1]
    return np.array([kappa[round(float(t), 6)] for t in times])


def _strip_curvatures(mats, times, temps, nx=40, ny=2):
    model = layered_strip([("si", H[0]), ("ve", H[1])], 10.0, nx=nx, ny=ny)
    problem = InelasticProblem(model, mats, "plane_strain", T_REF, newton="full", tol=1e-10)
    state = problem.initial_state()
    out = []
    for t, T in zip(times, temps):
        state = problem.increment(state, t, T)
        u, _ = problem.full_displacement(state.u)
        out.append(-surface_profile(model, u, "bottom").curvature_per_mm())  # eps = eps0 + kappa y: w'' = -kappa
    return np.array(out)


def test_bilayer_strip_follows_the_laminated_beam_with_maxwell_branches():
    ve = make_material("ve", **VE)
    times, temps = _schedule()
    beam = _beam_curvature(times, inelastic_model(ve))
    fe = _strip_curvatures({"si": make_material("si", **SI), "ve": ve}, times[1:], temps[1:])
    err = np.abs(fe - beam[1:]).max() / np.abs(beam).max()
    assert err <= 0.01  # the issue asks 1 %; measured 2.9e-3 (second order in the increment: 1.7e-3 with 40/30)
    # frozen at 100 C (log10 aT = 20), the hold at 160 C relaxes the curvature
    assert beam[50] == pytest.approx(beam[30], rel=1e-6)
    assert abs(beam[100] - beam[80]) > 0.1 * abs(beam[80])


def test_bilayer_limits_equal_elastic_strips_of_the_glassy_and_rubbery_moduli():
    times, temps = np.array([300.0, 600.0, 900.0]), np.array([130.0, 100.0, 160.0])
    si = make_material("si", **SI)
    for tau, E in ((1e30, 24000.0), (1e-30, 1000.0)):
        ve = _ve(terms=[dict(E_MPa=9000.0, tau_s=tau), dict(E_MPa=14000.0, tau_s=tau)])
        el = make_material("el", E_MPa=E, nu=VE["nu"], alpha_per_K=VE["alpha_per_K"])
        k_ve = _strip_curvatures({"si": si, "ve": ve}, times, temps, nx=20, ny=1)
        k_el = _strip_curvatures({"si": si, "ve": el}, times, temps, nx=20, ny=1)
        assert np.abs(k_ve - k_el).max() <= 1e-6 * np.abs(k_el).max()  # measured 1.9e-11 and 4.8e-11


def test_cure_step_and_dwell_of_a_viscoelastic_layer():
    """Cure shrinkage in a process history: glassy-limit layer == the elastic laminate with eigenstrain -s."""
    from closed_form import laminate_curvature
    from reliability.process.history import persistent_nodes

    model = layered_strip([("si", H[0]), ("ve", H[1])], 10.0, nx=40, ny=2)
    ve = make_material("ve", **dict(VE, cure_shrinkage_linear=0.002, viscoelastic=dict(
        VE["viscoelastic"], terms=[dict(E_MPa=9000.0, tau_s=1e30), dict(E_MPa=14000.0, tau_s=1e30)])))
    problem = InelasticProblem(model, {"si": make_material("si", **SI), "ve": ve}, "plane_strain", 175.0,
                               support_candidates=persistent_nodes(model, set()))
    h = History(problem, 175.0)
    h.run([parse_step({"kind": "cure", "regions": ["ve"], "duration_min": 30.0}),
           parse_step({"kind": "dwell", "duration_min": 10.0})])
    u, _ = problem.full_displacement(h.state.u)
    k = -surface_profile(model, u, "bottom").curvature_per_mm()
    ref = laminate_curvature([(H[0], SI["E_MPa"], SI["nu"], 0.0), (H[1], 24000.0, VE["nu"], -0.002)])
    assert k == pytest.approx(ref, rel=1e-4)  # measured 2.3e-9


# --- material files and the command line ------------------------------------------------------------

@pytest.mark.parametrize("name", VISCO_FILES)
def test_library_viscoelastic_materials_have_sources_and_match_their_elastic_versions(name):
    path = library_dir() / f"{name}.toml"
    spec = MaterialSpec.model_validate(tomllib.loads(path.read_text()))
    for key in ("E_inf_MPa", "terms", "reference_C", "shift"):
        text = spec.source.get(f"viscoelastic.{key}", "")
        assert text[:1] in "CSUD" and (text[:1] != "U" or "unverified" in text.lower()), f"{name}: {key}"
    assert spec.source.get("cure_shrinkage_linear") and spec.cure_shrinkage_linear == pytest.approx(0.001)
    visco, elastic = get_material(name), get_material(name.removesuffix("-visco"))
    assert elastic.spec.viscoelastic is None and inelastic_model(elastic) is None  # the elastic one stays
    cm = inelastic_model(visco)
    E = elastic.elastic.props["E_MPa"]
    assert cm.params.E_glassy_MPa == pytest.approx(E(-65.0), rel=1e-12)
    assert cm.params.E_inf_MPa == pytest.approx(E(300.0), rel=1e-12)


@pytest.mark.parametrize("change, message", [
    ({"nu": {"T_C": [0, 100], "value": [0.3, 0.35]}}, "constant nu"),
    ({"viscoelastic": dict(VE["viscoelastic"], terms=[])}, "at least one"),
    ({"viscoelastic": dict(VE["viscoelastic"], terms=[{"E_MPa": 1.0, "tau": 1.0}])}, "unknown key 'viscoelastic.terms"),
    ({"viscoelastic": dict(VE["viscoelastic"], shift={"model": "vft"})}, "viscoelastic.shift"),
    ({"viscoelastic": dict(VE["viscoelastic"], shift={"model": "table", "T_C": [100, 200],
                                                      "log10_aT": [3.0, -5.0]})}, "must be 0 there"),
    ({"alpha_per_K": {"T_C": [25, 200], "value": [3e-5, 3e-5]}}, "WLF shift diverges at 25 C"),
    ({"E1_MPa": 1.0}, "cannot have"),
])
def test_bad_viscoelastic_blocks_give_one_line(change, message):
    with pytest.raises(MaterialError, match=message) as err:
        make_material("bad", **dict(VE, **change))
    assert "\n" not in str(err.value)


def test_cli_material_accepts_a_path_and_runs_dma(tmp_path, capsys):
    path = library_dir() / "underfill-visco.toml"
    assert find_material(str(path)).name == "underfill-visco"
    assert main(["material", str(path), "--test", "dma", "--dma-temperatures", "130", "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "underfill-visco_dma.csv").read_text().splitlines()
    assert rows[0].startswith("T_C,frequency_Hz,storage_MPa,loss_MPa,tan_delta") and len(rows) == 14
    assert (tmp_path / "underfill-visco_dma.png").stat().st_size > 10_000
    assert main(["material", "underfill-visco", "--test", "relaxation", "--temperature", "150",
                 "--out", str(tmp_path)]) == 0
    assert main(["materials", str(path), "--no-plot"]) == 0
    assert "generalized Maxwell" in capsys.readouterr().out
    assert main(["material", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
