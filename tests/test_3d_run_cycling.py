"""`reliability run` of a quarter_3d case with the board: thermal cycling of the 3D assembly.

One coarse run (one ball in the quarter, one JEDEC G cycle, a few increments; about 30 s) is checked
against the cycling record it came from, the Darveaux closed form, its CSV, VTU and plot; the case
checks are one-line errors.  The slow test runs the shipped 4 x 4 case's geometry coarsely for the
corner-joint ordering.
"""

from __future__ import annotations

import json
import math

import meshio
import numpy as np
import pytest

from reliability.case import load_case
from reliability.errors import CaseError

BASE = """
[case]
name = "{name}"
[geometry]
family = "fan_out"
model = "quarter_3d"
{board}
backside = "exposed"
[geometry.dimensions_mm]
balls_per_half = {balls}
[process]
sequence = "none"
[analysis]
stress_free_temperature_C = 217
{cycling}
[mesh]
size_mm = 0.8
joint_size_mm = 0.25
"""
CYCLING = """[analysis.cycling]
jedec = "G"
cycles = {cycles}
increments_per_ramp = 3
increments_per_dwell = 1
"""


def write_case(tmp_path, name="t3d", board="board = true", balls=1, cycles=1, cycling=True, extra=""):
    text = BASE.format(name=name, board=board, balls=balls,
                       cycling=CYCLING.format(cycles=cycles) if cycling else "temperatures_C = [25]") + extra
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def one_ball_run(tmp_path_factory):
    from reliability.run import run_case

    tmp = tmp_path_factory.mktemp("run3d")
    path = write_case(tmp)
    out = tmp / "out"
    summary = run_case(path, out, progress=False)
    return summary, out


def test_board_needs_cycling_and_cycling_needs_board(tmp_path):
    with pytest.raises(CaseError, match=r"geometry.board = true: the 3D assembly is a thermal-cycling model"):
        load_case(write_case(tmp_path, "a", cycling=False))
    with pytest.raises(CaseError, match=r"\[analysis.cycling\]: thermal cycling in 3D needs the balls and the board"):
        load_case(write_case(tmp_path, "b", board="board = false"))
    with pytest.raises(CaseError, match=r"\[fatigue\]: the free quarter model has no joints"):
        load_case(write_case(tmp_path, "c", board="board = false", cycling=False,
                             extra="[fatigue]\nmodels = [\"darveaux\"]\n").with_name("c.toml"))


def test_preflight_refuses_a_too_large_assembly_before_meshing(tmp_path):
    from reliability.sections import preflight

    case = load_case(write_case(tmp_path, extra="max_elements = 1000\n"))
    with pytest.raises(CaseError, match=r"would have about .* tetrahedra, above mesh.max_elements = 1000"):
        preflight(case)


def test_the_run_reports_the_recorded_dw_and_the_darveaux_life(one_ball_run):
    from reliability.analysis.fatigue import darveaux
    from reliability.library import get_material

    summary, out = one_ball_run
    cyc = summary["cycling"]
    assert cyc["status"] == "complete"
    (joint,) = cyc["joints"]
    crit = cyc["critical_joint"]
    assert (crit["name"], crit["row"], crit["col"], crit["interface"]) == ("solder_1", 0, 0, "package")
    assert crit["dnp_mm"] == pytest.approx(math.hypot(0.25, 0.25), abs=1e-9)
    row = joint["cycles"][-1]
    # the package side carries the damage (the board pad is the larger, NSMD)
    assert row["dW_package_MPa"] > 5 * row["dW_board_MPa"] > 0
    assert crit["dW_MPa"] == row["dW_package_MPa"]
    # the life is Darveaux's closed form of that dW, crack length the package-side wetted diameter
    k = get_material("SAC305").spec.fatigue.darveaux
    a = joint["crack_length_mm"]
    assert a == pytest.approx(0.25, abs=1e-9)  # the default mask opening
    ref = darveaux(crit["dW_MPa"], a, k.K1_cycles, k.K2, k.K3_mm_per_cycle, k.K4)
    assert crit["life"]["darveaux"]["N63_2_cycles"] == pytest.approx(ref["N63_2_cycles"], rel=1e-12)
    assert 'process.sequence = "none"' in summary["analysis"]["basis"]
    assert crit["basis"]["method"]["section"] == "quarter_3d"
    written = json.loads((out / "summary.json").read_text())
    assert written["cycling"]["critical_joint"]["dW_MPa"] == crit["dW_MPa"]


def test_the_run_writes_the_joint_table_fields_and_the_map(one_ball_run):
    summary, out = one_ball_run
    lines = (out / "joints_dW.csv").read_text().splitlines()
    assert lines[0].startswith("joint,row,col,x_mm,y_mm,dnp_mm")
    fields = lines[1].split(",")
    assert fields[0] == "solder_1"
    assert float(fields[7]) == pytest.approx(summary["cycling"]["critical_joint"]["dW_MPa"], rel=1e-5)
    assert (out / "plots" / "joint_dW_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mesh = meshio.read(out / "fields_end.vtu")
    assert mesh.point_data["displacement_mm"].shape == (len(mesh.points), 3)
    W = mesh.cell_data["inelastic_work_MPa"][0]
    region = mesh.cell_data["region"][0]
    names = summary["sections"]["assembly"]["regions"]
    solder = region == names.index("solder_1")
    # work accumulates only in the inelastic materials (solder; copper stays elastic at these loads)
    assert W[solder].max() > 0.1
    elastic = np.isin(region, [names.index(r) for r in ("die", "mold", "board")])
    assert np.all(W[elastic] == 0.0)


@pytest.mark.slow
def test_the_corner_ball_of_a_4x4_array_is_critical(tmp_path):
    """Coarse 4 x 4 array, two cycles: dW grows with DNP, the corner ball is critical (the 3D fact a
    plane-strain section misses: its dW is nearly flat over the row)."""
    from reliability.run import run_case

    summary = run_case(write_case(tmp_path, balls=2, cycles=2), tmp_path / "out", progress=False)
    cyc = summary["cycling"]
    crit = cyc["critical_joint"]
    assert (crit["row"], crit["col"]) == (1, 1)
    dW = {j["name"]: j["dW_last_cycle_MPa"] for j in cyc["joints"]}
    assert dW[crit["name"]] > 1.3 * min(dW.values())


def test_a_failed_3d_cycling_is_one_line_exit_2_and_a_summary_saying_so(tmp_path, capsys, monkeypatch):
    """The cut-backs themselves are the solver's (tests/test_3d_inelastic.py); here what a user sees when
    they are exhausted: the solver's message on one line, exit 2, and the summary saying where it stopped."""
    import reliability.analysis.cycling3d as cycling3d
    from reliability.cli import main
    from reliability.errors import ConvergenceError

    def fails(*args, **kwargs):
        raise ConvergenceError("3D increment did not converge at t = 280.4 s, T = 165.6 C (cycle 0, cooldown) "
                               "after 8 cut-backs: no convergence")

    monkeypatch.setattr(cycling3d, "run_cycling3d", fails)
    out = tmp_path / "out"
    assert main(["run", str(write_case(tmp_path, "fails")), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not converge" in err[0] and "Traceback" not in err[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cycling"]["status"] == "failed"
    assert "did not converge" in summary["cycling"]["message"]


def test_the_engelmaier_hand_check_in_3d_uses_the_layer_columns(one_ball_run):
    """alpha_package = sum(E alpha t) / sum(E t) over the layers above the joint (inside the die's square
    here), alpha_board that of the mask on the laminate; dgamma = F DNP d_alpha dT / h."""
    from reliability.analysis.fatigue import engelmaier, engelmaier_shear_strain
    from reliability.library import get_material

    summary, _ = one_ball_run
    eng = summary["cycling"]["critical_joint"]["life"]["engelmaier"]
    assert eng["available"]
    Tm, dT = 42.5, 165.0
    mats = {r: get_material(v["material"]) for r, v in summary["sections"]["assembly"]["materials"].items()}

    def ea(region):
        m = mats[region]
        return m.elastic.youngs_modulus(Tm), m.elastic.thermal_strain(125.0, -40.0)[0] / dT

    def col(parts):
        num = sum(t * ea(r)[0] * ea(r)[1] for t, r in parts)
        return num / sum(t * ea(r)[0] for t, r in parts)

    layers = summary["geometry"]["layers"]
    d = summary["geometry"]["dimensions_mm"]
    alpha_p = col([(L["z1"] - L["z0"], L["inside"]) for L in layers])
    alpha_b = col([(d["pcb_thickness"], "board"), (d["board_mask_thickness"], "board_mask")])
    assert eng["alpha_package_per_K"] == pytest.approx(alpha_p, rel=1e-12)
    assert eng["alpha_board_per_K"] == pytest.approx(alpha_b, rel=1e-12)
    assert 5e-6 < abs(alpha_b - alpha_p) < 20e-6  # FR-4 against a silicon-dominated column
    dg = engelmaier_shear_strain(eng["F"], eng["dnp_mm"], abs(alpha_b - alpha_p), dT, eng["height_mm"])
    k = get_material("SAC305").spec.fatigue.engelmaier
    ref = engelmaier(dg, Tm, 15.0, k.eps_f, k.c0, k.c1_per_C, k.c2)
    assert eng["N50_cycles"] == pytest.approx(ref["N50_cycles"], rel=1e-12)


SUBMODEL = """[mesh.submodel]
joint_size_mm = 0.1
size_mm = 0.2
candidates = 2
"""


def test_submodel_keys_need_the_3d_assembly(tmp_path):
    with pytest.raises(CaseError, match=r"\[mesh.submodel\]: the global-local submodel drives joints"):
        load_case(write_case(tmp_path, "a", board="board = false", cycling=False, extra=SUBMODEL))
    section = tmp_path / "s.toml"
    section.write_text('[case]\nname = "s"\n[geometry]\nfamily = "fan_out"\n[analysis]\nkinematics = "plane_strain"\n'
                       "temperatures_C = [25]\n" + SUBMODEL)
    with pytest.raises(CaseError, match=r"\[mesh.submodel\]: the global-local submodel is a 3D assembly's"):
        load_case(section)
    with pytest.raises(CaseError, match=r"candidates"):
        load_case(write_case(tmp_path, "c", extra=SUBMODEL.replace("candidates = 2", "candidates = 0")))


def test_a_submodel_case_reports_the_local_models_dw(tmp_path):
    """`reliability run` with [mesh.submodel] on a 4 x 4 array: the joints, the critical one and the lives come
    from the local models, equal to the submodel API run on the same global model; every ball's coarse dW is
    listed as screening only."""
    from reliability.analysis.profile import make_profile
    from reliability.analysis.quarter3d import build_assembly
    from reliability.analysis.submodel3d import run_submodel_cycling
    from reliability.run import run_case

    path = write_case(tmp_path, "sub", balls=2, extra=SUBMODEL)
    out = tmp_path / "out"
    summary = run_case(path, out, progress=False)
    c = summary["cycling"]
    sub = c["submodel"]
    assert len(sub["global_screening"]) == 4 and all("screening" in j["basis"] for j in sub["global_screening"])
    assert "global-local" in summary["analysis"]["basis"]
    names = [j["name"] for j in c["joints"]]
    assert "solder_4" in names  # the corner ball always has a local model
    assert 1 <= len(names) <= 3 and names == [m["joint"] for m in sorted(sub["local_models"],
                                                                         key=lambda m: names.index(m["joint"]))]
    assert c["fatigue_method"]["joint_element_size_mm"] == 0.1
    # the same run through the API: bitwise the same local dW
    case = load_case(path)
    model, assignment = build_assembly(case)
    profile = make_profile(-40.0, 125.0, 15.0, 15.0, 1, 217.0)
    r = run_submodel_cycling(profile, global_model=model, materials=assignment, joint="corner",
                             extra_joints=["critical:1", "critical:2"], local_joint_size_mm=0.1, local_size_mm=0.2,
                             increments_per_ramp=3, increments_per_dwell=1)
    want = {loc.model.info["global_joint"]: max(loc.dW_package, loc.dW_board) for loc in r.locals}
    got = {j["name"]: j["dW_last_cycle_MPa"] for j in c["joints"]}
    assert got == want
    assert c["critical_joint"]["name"] == max(want, key=want.get)
    top = max(r.global_dW.values())
    assert sub["global_screening"][0]["dW_last_cycle_MPa"] == top
    assert (out / "joints_dW_global_screening.csv").read_text().count("\n") == 5
    assert (out / "plots" / "joint_dW_map.png").stat().st_size > 10_000
    # ParaView: the local models' final states, one part each
    pvd = (out / "fields.pvd").read_text()
    for j in names:
        vtu = meshio.read(out / f"fields_local_{j}.vtu")
        assert f'file="fields_local_{j}.vtu"' in pvd
        assert vtu.point_data["displacement_mm"].shape[1] == 3 and vtu.cells_dict["tetra10"].shape[1] == 10
        assert vtu.cell_data["inelastic_work_MPa"][0].max() > 0.0


@pytest.mark.skipif(__import__("shutil").which("ccx") is None, reason="CalculiX (ccx) is not installed")
def test_export_ccx_of_the_assembly_matches_calculix(tmp_path, monkeypatch):
    """`export-ccx` of a board case writes the assembly (balls, pads, board), every material elastic, a step at
    each cycling extreme; CalculiX on it equals our linear 3D solve of the same mesh."""
    import subprocess

    from reliability.analysis.quarter3d import build_assembly, solve_quarter
    from reliability.cli import main
    from reliability.export.calculix3d import read_dat_displacements3d

    path = write_case(tmp_path, "asm")
    monkeypatch.chdir(tmp_path)
    assert main(["export-ccx", str(path), "--out", "ccx"]) == 0
    deck = tmp_path / "ccx" / "asm_assembly.inp"
    text = deck.read_text()
    assert "linear thermo-elastic cross-check" in text and "ELSET=E_solder_1" in text and "ELSET=E_board" in text
    proc = subprocess.run(["ccx", deck.stem], cwd=deck.parent, capture_output=True, text=True, timeout=600)
    assert "ERROR" not in proc.stdout, proc.stdout[-2000:]
    model, assignment = build_assembly(load_case(path))
    steps = read_dat_displacements3d(deck.with_suffix(".dat"), model.n_nodes)
    _, res = solve_quarter(model, assignment, 217.0, [-40.0, 125.0])
    assert len(steps) == 2
    for (T, (state, _)), u_ccx in zip(res.items(), steps):
        err = np.abs(state.u - u_ccx).max() / np.abs(state.u).max()
        assert err < 1e-3, (T, err)  # measured 2026-12-04: 5.9e-8 at -40 C, 9.9e-8 at 125 C


def test_a_3d_run_stopped_after_a_checkpoint_resumes_to_the_same_answer(tmp_path, monkeypatch):
    """A 3D assembly run that stops after its cycle-1 checkpoint (a failure raised right after writing it)
    resumes with --resume to every joint's dW of an uninterrupted run (1e-9) with the same increments,
    residual evaluations and factorizations."""
    import reliability.analysis.cycling3d as cycling3d
    from reliability.cli import main
    from reliability.errors import ConvergenceError

    path = write_case(tmp_path, "ck", cycles=2)
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    whole = json.loads((tmp_path / "a" / "summary.json").read_text())["cycling"]

    save = cycling3d.save_checkpoint3d
    calls = []

    def save_then_stop(*args, **kwargs):
        save(*args, **kwargs)
        calls.append(args[5])
        if len(calls) == 2:  # the cool-down's and cycle 1's ends are saved: stop before cycle 2
            raise ConvergenceError("stopped for the test after the cycle-1 checkpoint")

    monkeypatch.setattr(cycling3d, "save_checkpoint3d", save_then_stop)
    out = tmp_path / "b"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert (out / "checkpoint3d.npz").is_file()
    monkeypatch.setattr(cycling3d, "save_checkpoint3d", save)
    assert main(["run", str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    resumed = json.loads((out / "summary.json").read_text())["cycling"]
    a = {j["name"]: j["dW_last_cycle_MPa"] for j in whole["joints"]}
    b = {j["name"]: j["dW_last_cycle_MPa"] for j in resumed["joints"]}
    assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-9 * abs(a[k]) for k in a)
    for key in ("increments", "newton_iterations", "factorizations"):
        assert resumed["solver"][key] == whole["solver"][key], key


def test_a_3d_checkpoint_of_another_case_or_a_broken_file_is_not_resumed(tmp_path):
    from types import SimpleNamespace

    from reliability.analysis.cycling3d import load_checkpoint3d

    problem = SimpleNamespace(initial_state=lambda: SimpleNamespace(groups=[]))
    other = tmp_path / "other.npz"
    np.savez(other, key=np.array("another-case"))
    assert load_checkpoint3d(other, "this-case", problem) == (None, "it belongs to another case or mesh")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    loaded, why = load_checkpoint3d(broken, "this-case", problem)
    assert loaded is None and why.startswith("it cannot be read")


def test_a_local_model_above_max_elements_is_one_line_naming_the_submodel_keys(tmp_path, capsys):
    from reliability.cli import main

    extra = SUBMODEL.replace("joint_size_mm = 0.1", "joint_size_mm = 0.03").replace("candidates = 2", "candidates = 1")
    path = write_case(tmp_path, "big", extra=extra)
    text = path.read_text().replace("joint_size_mm = 0.25\n", "joint_size_mm = 0.25\nmax_elements = 6000\n", 1)
    path.write_text(text)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mesh.submodel (joint_size_mm = 0.03" in err[0] and "above 6000" in err[0], err


ONE_RAMP = """[process]
initial_C = 217
max_step_K = 51.4
[[process.steps]]
kind = "ramp"
to_C = -40
rate_K_per_min = 11
"""


def test_a_history_of_one_ramp_hands_the_cycling_the_stress_free_runs_state(one_ball_run, tmp_path):
    """Every region from 217 C, cooled to -40 C by a process ramp in the cool-down's increments (5 of 51.4 K,
    at the cycle's 11 K/min): the cycling from the history's end gives the stress-free run's dW."""
    from reliability.run import run_case

    path = write_case(tmp_path, "ramp")
    path.write_text(path.read_text().replace('[process]\nsequence = "none"\n', ONE_RAMP)
                    .replace("stress_free_temperature_C = 217\n", ""))
    s = run_case(path, tmp_path / "out", progress=False)
    want = one_ball_run[0]["cycling"]["critical_joint"]["dW_MPa"]
    got = s["cycling"]["critical_joint"]["dW_MPa"]
    assert got == pytest.approx(want, rel=1e-3), (got, want)
    assert s["cycling"]["profile"]["start_state"] == "the end of the steps process history at -40 C"
    assert [st["kind"] for st in s["process"]["sections"]["assembly"]["steps"]] == ["ramp"]
    assert "the end of the process history" in s["analysis"]["basis"]


def test_the_claimed_history_of_the_assembly_joins_the_balls_at_the_solidus(tmp_path):
    from reliability.run import run_case

    path = write_case(tmp_path, "claimed")
    path.write_text(path.read_text().replace('[process]\nsequence = "none"\n', "[process]\nmax_step_K = 40\n")
                    .replace("stress_free_temperature_C = 217\n", ""))
    s = run_case(path, tmp_path / "out", progress=False)
    steps = s["process"]["sections"]["assembly"]["steps"]
    assert [st["kind"] for st in steps] == ["cure", "activate", "activate", "ramp", "reflow"]
    assert "joining solder_1, board, board_pad, board_mask" in steps[-1]["description"]
    assert "solder_1" not in steps[-2]["von_mises_max_MPa"]  # the joint does not exist before the reflow
    assert steps[-1]["T_C"] == 25.0 and steps[-1]["von_mises_max_MPa"]["solder_1"] > 0.0
    cyc = s["cycling"]
    assert cyc["profile"]["start_state"] == "the end of the claimed process history at 25 C"
    assert cyc["critical_joint"]["dW_MPa"] > 0.0
