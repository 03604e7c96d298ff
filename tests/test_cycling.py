"""Thermal cycling end to end: profile, per-cycle joint outputs, fatigue, plots,
zero dissipation of a free homogeneous solder body, failure and resume."""

import json
import math

import numpy as np
import pytest

from reliability.analysis import fatigue
from reliability.analysis.cycling import CyclingRun, CyclingSettings
from reliability.analysis.incremental import IncrementFailed, InelasticProblem
from reliability.analysis.profile import JEDEC, make_profile, segment_times
from reliability.cli import main
from reliability.geometry.strip import layered_strip
from reliability.library import get_material

SMALL = """
[case]
name = "small"
[geometry]
family = "wlp_paste_plug"
[geometry.dimensions_mm]
die_width = 1.6
board_overhang = 0.5
pcb_thickness = 0.5
[mesh]
size_mm = 0.1
board_size_mm = 0.25
[process]
sequence = "none"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 217
[analysis.cycling]
jedec = "G"
cycles = {cycles}
increments_per_ramp = 6
increments_per_dwell = 4
[output]
vtu = false
plots = {plots}
"""


def test_jedec_profile():
    assert JEDEC["G"][:2] == (-40.0, 125.0) and JEDEC["G"][2] == "C"
    assert JEDEC["I"][2] == "U"  # unverified rows are flagged
    prof = make_profile(-40, 125, 15, 15, 3, 217)
    assert prof.period_s == 3600.0
    kinds = [s.kind for s in prof.segments]
    assert kinds[0] == "cooldown" and kinds[1:5] == ["ramp_up", "dwell_hot", "ramp_down", "dwell_cold"]
    cool = prof.segments[0]
    assert math.isclose(cool.t1 - cool.t0, (217 + 40) / (165 / 900.0))  # same ramp rate, 11 C/min
    t = segment_times(prof.segments[1], 12, 8, 165.0)
    assert len(t) == 12 and math.isclose(t[-1], prof.segments[1].t1)
    t = segment_times(prof.segments[2], 12, 8, 165.0)
    assert len(t) == 8 and np.all(np.diff(t) > 0) and (t[1] - t[0]) > (t[0] - prof.segments[2].t0)


def test_fatigue_models_reproduce_the_worked_numbers():
    """physics.md 3.1-3.3 worked numbers (D)."""
    d = fatigue.darveaux(0.2, 0.46, 37.97, -2.8, 3.99e-3, 2.05)
    assert abs(d["N63_2_cycles"] - 6564) / 6564 < 0.005
    assert abs(fatigue.syed(0.2, 0.0019)["N63_2_cycles"] - 2632) < 1
    c = fatigue.engelmaier_exponent(42.5, 15.0, -0.442, -6e-4, 1.74e-2)
    assert abs(c - (-0.4115)) < 5e-5
    e = fatigue.engelmaier(0.005, 42.5, 15.0, 0.325, -0.442, -6e-4, 1.74e-2)
    assert abs(e["N50_cycles"] - 68600) / 68600 < 0.005
    w = fatigue.weibull(1000.0, 4.0)
    assert math.isclose(w["N63_2_cycles"], 1000.0)
    assert math.isclose(w["N1_cycles"], 1000.0 * (-math.log(0.99)) ** 0.25)


@pytest.mark.parametrize("kinematics", ["generalized_plane_strain", "axisymmetric"])
def test_free_homogeneous_solder_body_dissipates_nothing(kinematics):
    """A free SAC305 body under a uniform JEDEC G cycle (with the cool-down from 217 C):
    no stress, so no flow and no work (issue 4: dW below 1e-9 MPa).  Plane strain is
    not stress-free (eps_zz = 0 is a constraint), hence the two stress-free kinematics."""
    model = layered_strip([("a", 0.2), ("b", 0.2)], 2.0, nx=6, ny=2, half=kinematics == "axisymmetric")
    sac = get_material("SAC305")
    problem = InelasticProblem(model, {"a": sac, "b": sac}, kinematics, 217.0)
    prof = make_profile(-40, 125, 15, 15, 1, 217)
    run = CyclingRun(problem, CyclingSettings(prof, 4, 3), None, None)
    state, rec = run.run(progress=False)
    for st in state.groups:
        assert np.abs(st["W"]).max() < 1e-9


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("small")
    (tmp / "c.toml").write_text(SMALL.format(cycles=2, plots="true"))
    import os

    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        assert main(["run", "c.toml", "--quiet"]) == 0
    finally:
        os.chdir(cwd)
    return tmp / "results" / "small"


def test_cycling_summary_per_joint_per_cycle(small_run):
    s = json.loads((small_run / "summary.json").read_text())
    c = s["cycling"]
    assert c["status"] == "complete"
    assert c["profile"]["jedec"] == "G" and c["profile"]["start_C"] == 217
    names = [j["name"] for j in c["joints"]]
    assert names == ["solder_1", "solder_2"]
    for j in c["joints"]:
        assert [r["cycle"] for r in j["cycles"]] == [1, 2]
        for r in j["cycles"]:
            assert r["dW_package_MPa"] > 0 and r["dW_board_MPa"] > 0
            assert r["inelastic_strain_max"] >= r["inelastic_strain_package"] > 0
    crit = c["critical_joint"]
    assert crit["name"] == "solder_2"  # the outermost joint, largest DNP
    assert 0 <= crit["stabilisation_percent"] < 10
    for model in ("darveaux", "syed", "engelmaier"):
        life = crit["life"][model]
        assert life["available"] and life["N1_cycles"] < life["N63_2_cycles"]
    # Syed is exactly 1 / (W' dW)
    assert math.isclose(crit["life"]["syed"]["N63_2_cycles"], 1 / (0.0019 * crit["dW_MPa"]), rel_tol=1e-12)
    assert c["solver"]["factorizations"] > 0 and c["solver"]["newton_iterations"] >= c["solver"]["increments"]


def test_cycling_files_and_plots(small_run):
    for name in ("warpage_vs_time.csv", "hysteresis.csv"):
        lines = (small_run / name).read_text().splitlines()
        assert len(lines) > 40
    assert lines[0] == "t_s,T_C,cycle,shear_stress_MPa,inelastic_shear_strain,total_shear_strain"
    # the total shear strain is the inelastic one plus the elastic tau / G(T) of SAC305 (band averages of
    # one material at one temperature: exact up to the csv's 6 digits)
    sac = get_material("SAC305")
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    G = np.array([sac.elastic.stiffness(T)[3, 3] for T in rows[:, 1]])
    elastic = rows[:, 5] - rows[:, 4]
    assert np.allclose(elastic, rows[:, 3] / G, rtol=1e-3, atol=2e-8)
    assert np.max(np.abs(elastic)) > 1e-4  # the elastic part is there: not a copy of the inelastic column
    for png in ("hysteresis_critical_joint.png", "dW_per_joint.png", "inelastic_strain_critical_joint.png",
                "warpage_vs_temperature.png", "von_mises_last_cycle_dwell_hot.png",
                "von_mises_last_cycle_dwell_cold.png"):
        assert (small_run / "plots" / png).stat().st_size > 20000


def test_failure_keeps_the_last_converged_state_and_resume_completes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL.format(cycles=1, plots="false"))
    reference = json.loads(json.dumps(_run_clean(tmp_path, capsys)))

    calls = {"n": 0}
    original = InelasticProblem.increment

    def flaky(self, state_n, t, T, u_guess=None):
        calls["n"] += 1
        if state_n.t > 2000.0:  # fail for good after the ramp up, whatever the cut-back
            raise IncrementFailed("injected failure", 3.0e-2)
        return original(self, state_n, t, T, u_guess)

    monkeypatch.setattr(InelasticProblem, "increment", flaky)
    assert main(["run", "c.toml", "--quiet", "--out", "failing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not converge at t = " in err[0] and "T = " in err[0]
    assert "relative residual 3.00e-02" in err[0] and "checkpoint" in err[0]
    summary = json.loads((tmp_path / "failing" / "summary.json").read_text())
    assert summary["cycling"]["status"] == "failed"
    assert (tmp_path / "failing" / "checkpoint.npz").is_file()

    monkeypatch.setattr(InelasticProblem, "increment", original)
    assert main(["run", "c.toml", "--quiet", "--out", "failing", "--resume"]) == 0
    resumed = json.loads((tmp_path / "failing" / "summary.json").read_text())
    a = resumed["cycling"]["critical_joint"]["dW_MPa"]
    b = reference["cycling"]["critical_joint"]["dW_MPa"]
    # the failure's checkpoint is the last converged increment, mid-segment: the resumed run goes on
    # from there with the same predictor but a fresh factor where the uninterrupted one had an older
    # one, so the two agree to the residual tolerance (1e-5) only; a run killed after a segment's
    # checkpoint resumes exactly (next test)
    assert abs(a - b) <= 5e-4 * b
    # the summary counts the whole run (issue 20, item 6): the increments before the checkpoint too
    ref_solver, res_solver = reference["cycling"]["solver"], resumed["cycling"]["solver"]
    assert res_solver["increments"] == ref_solver["increments"]
    assert res_solver["newton_iterations"] >= 0.9 * ref_solver["newton_iterations"]


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_answer(tmp_path, monkeypatch, capsys):
    """Issue 20, item 6: interrupted after any checkpoint (here: the end of the hot dwell of cycle 1),
    the resumed run equals the uninterrupted one to 1e-9 in every joint's dW, with the same iterations."""
    from reliability.analysis.cycling import CyclingRun

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL.format(cycles=2, plots="false"))
    reference = _run_clean(tmp_path, capsys)

    original = CyclingRun._save
    saves = {"n": 0}

    def killed_after_third_save(self, *args, **kwargs):
        original(self, *args, **kwargs)
        saves["n"] += 1
        if saves["n"] == 3:  # cool-down, ramp up, dwell hot checkpointed: the process dies here
            raise KeyboardInterrupt

    monkeypatch.setattr(CyclingRun, "_save", killed_after_third_save)
    assert main(["run", "c.toml", "--quiet", "--out", "killed"]) == 130  # interrupted, as by Ctrl-C
    monkeypatch.setattr(CyclingRun, "_save", original)
    capsys.readouterr()
    assert main(["run", "c.toml", "--quiet", "--out", "killed", "--resume"]) == 0
    resumed = json.loads((tmp_path / "killed" / "summary.json").read_text())
    for a, b in zip(resumed["cycling"]["joints"], reference["cycling"]["joints"]):
        for ra, rb in zip(a["cycles"], b["cycles"]):
            assert ra["dW_package_MPa"] == pytest.approx(rb["dW_package_MPa"], rel=1e-9)
            assert ra["dW_board_MPa"] == pytest.approx(rb["dW_board_MPa"], rel=1e-9)
    assert (resumed["cycling"]["solver"]["newton_iterations"] == reference["cycling"]["solver"]["newton_iterations"])


def test_two_runs_are_identical(tmp_path, monkeypatch, capsys):
    """Issue 20, item 6: the same case twice on the same machine, the same iterations and dW bit for bit."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL.format(cycles=1, plots="false"))
    first = _run_clean(tmp_path, capsys)
    second = _run_clean(tmp_path, capsys)
    assert first["cycling"]["critical_joint"]["dW_MPa"] == second["cycling"]["critical_joint"]["dW_MPa"]
    assert first["cycling"]["solver"]["newton_iterations"] == second["cycling"]["solver"]["newton_iterations"]


def _run_clean(tmp_path, capsys):
    assert main(["run", "c.toml", "--quiet", "--out", "clean"]) == 0
    capsys.readouterr()
    return json.loads((tmp_path / "clean" / "summary.json").read_text())
