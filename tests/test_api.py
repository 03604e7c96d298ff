"""The Python API (reliability/api.py): the examples of docs/api.md, run as written, and their numbers
against the files the runs wrote; a CLI results folder read by Results.open; the one-line errors."""

import contextlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import reliability
from reliability.cli import main
from reliability.errors import CaseError

DOC = str(Path(__file__).resolve().parent.parent / "docs" / "api.md")


def doc_blocks() -> list[str]:
    """The ```python blocks of docs/api.md, in order: the example, the process tables, the sweep."""
    blocks = re.findall(r"```python\n(.*?)```", open(DOC, encoding="utf-8").read(), re.S)
    assert len(blocks) == 3
    return blocks


def run_block(code: str, ns: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, DOC, "exec"), ns)
    return out.getvalue()


@pytest.fixture(scope="module")
def doc(tmp_path_factory, repo):
    """A fresh folder with the repository's cases (as a user's checkout), where the examples run."""
    d = tmp_path_factory.mktemp("api")
    (d / "cases").symlink_to(repo / "cases")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(d)
        yield {"_dir": d}


@pytest.fixture(scope="module")
def example(doc):
    ns = doc
    ns["_out0"] = run_block(doc_blocks()[0], ns)
    return ns


def test_the_example_of_the_docs_runs_and_reads_what_the_run_wrote(example):
    res = example["res"]
    assert isinstance(res, reliability.Results) and res.folder == reliability.Results.open("results/bimetal_api").folder
    s = json.loads((example["_dir"] / "results" / "bimetal_api" / "summary.json").read_text())
    # the overrides reached the solve: the temperatures asked for and the copper CTE of the case as run
    assert [r["T_C"] for r in s["temperatures"]] == [-40.0, 25.0, 125.0]
    assert res.case.data["materials"]["define"]["my-copper"]["alpha_per_K"] == 16.5e-6
    # the DataFrame and the metric are summary.json's numbers
    df = res.temperatures
    np.testing.assert_allclose(df["warpage_um"], [r["warpage_um"] for r in s["temperatures"]], rtol=1e-12, atol=0)
    np.testing.assert_allclose(df["coplanarity_um"], [r["coplanarity_um"] for r in s["temperatures"]], rtol=1e-12)
    assert df["von_mises_max_MPa[layer_top]"].tolist() == [r["von_mises_max_MPa"]["layer_top"]
                                                           for r in s["temperatures"]]
    w125 = s["temperatures"][2]["warpage_um"]
    assert res["warpage_um@125C"] == w125 and w125 < -10  # Si on Cu heated: concave, tens of um
    assert df["warpage_um"][1] == 0.0  # 25 C is the stress-free temperature
    assert res.metrics.loc["warpage_um@125C", "unit"] == "um"
    assert res.metrics.loc["von_mises_max_MPa[layer_bottom]", "unit"] == "MPa"
    printed = example["_out0"].splitlines()
    assert printed[0] == f"{w125} um"
    # fields: one meshio mesh per temperature, the model's nodes and elements, in order
    meshes = res.fields()
    assert len(meshes) == 3
    for m, T in zip(meshes, [-40, 25, 125]):
        assert len(m.points) == s["sections"]["package"]["nodes"]
        assert len(m.cells[0].data) == s["sections"]["package"]["elements"]
        assert np.all(m.cell_data["temperature_C"][0] == T)
    mesh = example["mesh"]
    assert printed[-2].startswith(f"{s['sections']['package']['nodes']} ")
    np.testing.assert_allclose(meshes[1].point_data["displacement_mm"], 0.0, atol=1e-12)  # stress-free: no motion
    assert float(printed[-2].split()[1]) == mesh.point_data["displacement_mm"][:, 1].max() > 0
    names = [p.name for p in res.plots]
    assert names == ["von_mises_Tm40C.png", "von_mises_Tp125C.png", "von_mises_Tp25C.png", "warpage_profiles.png"]
    assert all(p.stat().st_size > 10000 for p in res.plots)
    assert (res.folder / s["case_file"].rsplit("/", 1)[-1]).is_file()


@pytest.fixture(scope="module")
def process_example(doc):
    ns = doc
    ns["_out1"] = run_block(doc_blocks()[1], ns)
    return ns


def test_process_steps_and_reflow_curve_are_the_summarys(process_example):
    proc = process_example["proc"]
    s = json.loads((proc.folder / "summary.json").read_text())
    steps = proc.process_steps
    pkg = steps[steps["section"] == "package"]
    assert pkg["kind"].tolist() == [st["kind"] for st in s["process"]["steps"]]
    assert len(pkg) >= 3 and "reflow" in pkg["kind"].tolist()
    np.testing.assert_allclose(pkg["warpage_um"], [st["warpage_um"] for st in s["process"]["steps"]], rtol=1e-12,
                               atol=0)
    np.testing.assert_allclose(pkg["time_s"], [st["time_s"] for st in s["process"]["steps"]], rtol=1e-12)
    # the steps' metrics are the registry's
    for st in s["process"]["steps"]:
        assert proc[f"process_step_warpage_um[{st['index']} {st['kind']}]"] == st["warpage_um"]
    points = s["process"]["warpage_vs_temperature"]["points"]
    curve = proc.reflow_curve
    assert len(curve) == len(points) > 10
    np.testing.assert_allclose(curve["warpage_um"], [p["warpage_um"] for p in points], rtol=1e-12, atol=0)
    assert curve["T_C"].tolist() == [p["T_C"] for p in points] and curve["T_C"].max() == 260
    worst = curve.loc[curve["warpage_um"].abs().idxmax()]
    assert abs(worst["warpage_um"]) == proc["reflow_max_abs_warpage_um"]
    printed = process_example["_out1"]
    assert printed.count("package") >= len(pkg) and "reflow" in printed
    # the last step ends where the analysis reads the package: the same warpage at 25 C
    assert pkg["warpage_um"].iloc[-1] == pytest.approx(proc.temperatures["warpage_um"][0], rel=1e-12)
    after = process_example["after"]
    assert len(after.points) == s["sections"]["package"]["nodes"]
    assert proc.joints.empty and proc.joint_cycles.empty  # no board, no cycling


def test_the_sweep_example_plans_then_runs(example):
    ns = example
    out = run_block(doc_blocks()[2], ns)
    res, plan, sweep = ns["res"], ns["plan"], ns["sweep"]
    # the plan: three validated cases, the time per case measured by the example's run
    assert [c["parameters"]["materials.define.my-copper.alpha_per_K"] for c in plan.cases] == [16e-6, 17e-6, 18e-6]
    t = res.summary["wall_time_s"]
    assert plan.estimate.per_case_s == t and plan.estimate.solve_s == pytest.approx(3 * t, rel=1e-12)
    assert "results/bimetal_api/summary.json" in plan.estimate.basis and "nothing solved" in out
    # the sweep: every case complete, the table's numbers are each case's summary
    table = sweep.table
    assert table["status"].tolist() == ["complete"] * 3 and sweep.summary["complete"] == 3
    first = ns["first"]
    assert table["warpage_um@125C"][0] == first["warpage_um@125C"]
    w = table["warpage_um@125C"].to_numpy()
    assert np.all(np.diff(w) < 0)  # a larger copper CTE bends the strip more (concave when hot)
    # the CTE mismatch against silicon (2.6e-6/K) sets the curvature, about linearly (Timoshenko)
    mismatch = np.array([16e-6, 17e-6, 18e-6]) - 2.6e-6
    np.testing.assert_allclose(w / mismatch, w[0] / mismatch[0], rtol=0.02)


CYCLING = {"case": {"name": "api_cycling"},
           "geometry": {"family": "wlp_paste_plug",
                        "dimensions_mm": {"die_width": 1.6, "board_overhang": 0.5, "pcb_thickness": 0.5}},
           "mesh": {"size_mm": 0.1, "board_size_mm": 0.25},
           "process": {"sequence": "none"},
           "analysis": {"kinematics": "plane_strain", "stress_free_temperature_C": 217,
                        "cycling": {"jedec": "G", "cycles": 1, "increments_per_ramp": 3, "increments_per_dwell": 2}},
           "output": {"vtu": False, "plots": False}}


def test_joints_of_a_cli_run_read_by_results_open(tmp_path, monkeypatch):
    """A case built as a dict, written, run by the CLI; Results.open reads its per-joint tables."""
    monkeypatch.chdir(tmp_path)
    reliability.load(CYCLING).write("c.toml")
    assert main(["run", "c.toml", "--out", "out", "--quiet"]) == 0
    res = reliability.Results.open("out")
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert res.complete
    joints = res.joints
    cyc = s["cycling"]["joints"]
    assert joints["name"].tolist() == [j["name"] for j in cyc] == ["solder_1", "solder_2"]
    np.testing.assert_allclose(joints["dW_last_cycle_MPa"], [j["dW_last_cycle_MPa"] for j in cyc], rtol=1e-12, atol=0)
    assert joints["dnp_mm"].tolist() == [j["dnp_mm"] for j in s["joints"]]
    assert joints["standoff_mm"].tolist() == [j["standoff_mm"] for j in s["joints"]]
    crit = joints[joints["critical"]]
    assert crit["name"].tolist() == [s["cycling"]["critical_joint"]["name"]]
    assert crit["dW_last_cycle_MPa"].iloc[0] == res["dW_critical_MPa_per_cycle"] > 0
    assert crit["life_N63_2_cycles[syed]"].iloc[0] == res["life_N63.2_cycles[syed]"]
    # Syed: N63.2 = 1 / (W' dW), W' = 0.0019 per MPa
    assert math.isclose(crit["life_N63_2_cycles[syed]"].iloc[0], 1 / (0.0019 * res["dW_critical_MPa_per_cycle"]),
                        rel_tol=1e-12)
    per_cycle = res.joint_cycles
    assert per_cycle[["name", "cycle"]].values.tolist() == [["solder_1", 1], ["solder_2", 1]]
    assert per_cycle["dW_package_MPa"].tolist() == [j["cycles"][0]["dW_package_MPa"] for j in cyc]
    assert res.metrics.loc["dW_critical_MPa_per_cycle", "unit"] == "MPa/cycle"
    assert res.process_steps.empty and res.reflow_curve.empty and res.plots == []
    with pytest.raises(CaseError, match="no such field collection"):
        res.fields()  # output.vtu = false


def test_errors_are_one_line_and_name_the_key(tmp_path, repo):
    case = reliability.load(repo / "cases" / "bimetal.toml")
    with pytest.raises(CaseError) as err:
        case.with_overrides({"analysis.kinematics": "plain_strain"})
    assert "analysis.kinematics" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CaseError, match="materials.layer_top"):
        case.with_overrides({"materials.layer_top": "unobtainium"})
    with pytest.raises(CaseError, match="not a dotted case key"):
        case.with_overrides({"analysis..kinematics": "plane_strain"})
    with pytest.raises(CaseError, match="mesh file not found"):
        reliability.load({**case.data, "geometry": {"mesh": "nowhere.msh"}}, folder=tmp_path)
    with pytest.raises(CaseError, match="no summary.json"):
        reliability.Results.open(tmp_path)
    # numpy values (a notebook's) are accepted, the original case is untouched
    other = case.with_overrides({"analysis.temperatures_C": np.array([-40.0, 125.0]),
                                 "materials.define.my-copper.E_MPa": np.float64(1.1e5)}, name="numpy")
    assert other.spec.analysis.temperatures_C == [-40.0, 125.0] and other.name == "numpy"
    assert case.spec.analysis.temperatures_C == [-40, 25, 125, 260]
    assert reliability.load(other.write(tmp_path / "x.toml")).data == other.data
