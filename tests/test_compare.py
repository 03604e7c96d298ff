"""`reliability compare` and `reliability report`."""

import json
import shutil
import subprocess
from contextlib import contextmanager

import numpy as np
import pytest

import reliability.run
from reliability.cli import main

BASE = """
[case]
name = "{name}"
[geometry]
family = "fan_out"
backside = "{backside}"
[geometry.dimensions_mm]
body_width = 3.0
die_width = 1.8
bump_rows = 2
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
temperatures_C = {temps}
[analysis.cycling]
jedec = "G"
cycles = 2
increments_per_ramp = 4
increments_per_dwell = 3
[output]
vtu = true
{materials}
"""


def write(tmp, name, backside="exposed", temps="[-40, 25, 125]", materials=""):
    path = tmp / f"{name}.toml"
    path.write_text(BASE.format(name=name, backside=backside, temps=temps, materials=materials))
    return path


@contextmanager
def counting_solves():
    """Spy on run_case (compare imports it when a case must be solved): yields the list of solved cases."""
    solved, real = [], reliability.run.run_case

    def spy(case_path, *args, **kwargs):
        solved.append(case_path)
        return real(case_path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reliability.run, "run_case", spy)
        yield solved


@pytest.fixture(scope="module")
def backside(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmp")
    exp = write(tmp, "exposed", "exposed")
    enc = write(tmp, "encapsulated", "encapsulated")
    import os

    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        with counting_solves() as solved:
            assert main(["compare", str(exp), str(enc), "--out", "out", "--quiet"]) == 0
        solved_first = len(solved)
        with counting_solves() as solved:
            assert main(["compare", str(exp), str(enc), "--out", "out", "--quiet"]) == 0
        solved_again = len(solved)
    finally:
        os.chdir(cwd)
    return tmp, solved_first, solved_again


def test_exposed_vs_encapsulated_table_equals_the_runs(backside):
    tmp, _, _ = backside
    result = json.loads((tmp / "out" / "comparison.json").read_text())
    rows = {r[0]: r[1:] for r in result["rows"]}
    for i, name in enumerate(["exposed", "encapsulated"]):
        summary = json.loads((tmp / "results" / name / "summary.json").read_text())
        for row in summary["temperatures"]:
            assert rows[f"warpage_um@{row['T_C']:g}C"][i] == row["warpage_um"]
        crit = summary["cycling"]["critical_joint"]
        assert rows["dW_critical_MPa_per_cycle"][i] == crit["dW_MPa"]
        assert rows["life_N63.2_cycles[darveaux]"][i] == crit["life"]["darveaux"]["N63_2_cycles"]
    ratio = rows["warpage_um@25C"]
    assert ratio[2] == pytest.approx(ratio[1] / ratio[0], rel=1e-12)
    assert result["verdicts"][0].startswith("encapsulated: warpage at 25 C")
    for f in ("comparison.csv", "comparison.md", "report.html", "warpage.png", "dW_per_joint.png"):
        assert (tmp / "out" / f).is_file(), f


def test_second_compare_reuses_and_a_material_change_resolves_one_case(backside, tmp_path, monkeypatch):
    tmp, solved_first, solved_again = backside
    assert solved_first == 2 and solved_again == 0
    monkeypatch.chdir(tmp)
    # one material value changed in one case: only that case is solved again
    write(tmp, "encapsulated", "encapsulated",
          materials='[materials]\nmold = "stiff-emc"\n[materials.define.stiff-emc]\nE_MPa = 25000\nnu = 0.3\n'
                    'alpha_per_K = 8e-6\n')
    with counting_solves() as solved:
        assert main(["compare", "exposed.toml", "encapsulated.toml", "--out", "out2", "--quiet"]) == 0
    assert [str(p) for p in solved] == ["encapsulated.toml"]
    runs = json.loads((tmp / "out2" / "comparison.json").read_text())["cases"]
    assert [c["reused"] for c in runs] == [True, False]


def test_report_is_self_contained_and_renders(backside):
    tmp, _, _ = backside
    page = (tmp / "out" / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") >= 3
    for external in ("http://", "https://", "src=\"/", "src='/", "<link", "<script"):
        assert external not in page, external
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    shot = tmp / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp / 'chrome'}", f"--screenshot={shot}", "--window-size=1200,2000",
                    (tmp / "out" / "report.html").as_uri()], capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[0] > 500 and img[..., :3].std() > 0.05  # not blank


def test_compare_with_itself_gives_ratio_one_and_zero_difference(tmp_path, monkeypatch, repo):
    monkeypatch.chdir(tmp_path)
    case = tmp_path / "bimetal.toml"
    case.write_text((repo / "cases" / "bimetal.toml").read_text().replace(
        "../meshes/bimetal.msh", (repo / "meshes" / "bimetal.msh").as_posix()))
    assert main(["compare", "bimetal.toml", "bimetal.toml", "--out", "self", "--quiet"]) == 0
    result = json.loads((tmp_path / "self" / "comparison.json").read_text())
    for row in result["rows"]:
        assert row[-1] == 1.0, row
    diff = [f for k, f in result["plots"].items() if k.startswith("difference")]
    assert diff
    from reliability.post.compare_plots import load_field

    a = load_field(tmp_path / "results" / "bimetal", -40.0)
    assert np.array_equal(a[2] - a[2], np.zeros_like(a[2]))


def test_incomparable_cases_give_a_clear_message(tmp_path, monkeypatch, repo, capsys):
    monkeypatch.chdir(tmp_path)
    text = (repo / "cases" / "bimetal.toml").read_text().replace(
        "../meshes/bimetal.msh", (repo / "meshes" / "bimetal.msh").as_posix())
    (tmp_path / "a.toml").write_text(text)
    (tmp_path / "b.toml").write_text(text.replace('name = "bimetal"', 'name = "other"').replace(
        "temperatures_C = [-40, 25, 125, 260]", "temperatures_C = [-40, 125]"))
    assert main(["compare", "a.toml", "b.toml", "--out", "x", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "same temperatures" in err[0] and "b.toml" in err[0]


def test_single_run_report(backside, capsys):
    tmp, _, _ = backside
    assert main(["report", str(tmp / "results" / "exposed")]) == 0
    page = (tmp / "results" / "exposed" / "report.html").read_text()
    assert "data:image/png;base64," in page and "critical joint" in page


def test_report_of_an_interrupted_run_says_incomplete(backside, tmp_path, capsys):
    """Issue 20, item 7: a run stopped during the cycling must not give a normal-looking report."""
    import json
    import shutil

    tmp, _, _ = backside
    folder = tmp_path / "interrupted"
    shutil.copytree(tmp / "results" / "exposed", folder)
    s = json.loads((folder / "summary.json").read_text())
    s["cycling"] = {"status": "running"}
    (folder / "summary.json").write_text(json.dumps(s))
    assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    assert "INCOMPLETE: the thermal cycling is running" in page
