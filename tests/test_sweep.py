"""Sweeps on a local Dask cluster: results, killed workers, resume, failed cases."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from reliability.cli import main
from reliability.errors import CaseError
from reliability.run import run_case
from reliability.sweep import run_sweep

BASE = """
[case]
name = "strip"
[geometry]
mesh = "{mesh}"
[materials]
layer_top = "silicon"
layer_bottom = "copper"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 25
temperatures_C = {temps}
solver = "superlu"
[output]
plots = false
vtu = false
"""

SWEEP = """
base = "base.toml"
[parameters]
"materials.layer_bottom" = ["copper", "copper-foil", "nickel"]
"analysis.kinematics" = ["plane_strain", "generalized_plane_strain"]
"""


@pytest.fixture
def sweep_dir(tmp_path, repo):
    def make(temps="[-40, 125]", sweep=SWEEP):
        (tmp_path / "base.toml").write_text(BASE.format(mesh=(repo / "meshes" / "bimetal.msh").as_posix(), temps=temps))
        (tmp_path / "s.toml").write_text(sweep)
        return tmp_path
    return make


def table(path):
    return pd.read_csv(path).drop(columns=["wall_time_s"])


def test_six_case_sweep_equals_one_by_one(sweep_dir, monkeypatch, capsys):
    d = sweep_dir()
    monkeypatch.chdir(d)
    assert main(["sweep", "s.toml", "--workers", "2", "--out", "out"]) == 0
    df = pd.read_csv(d / "out" / "sweep.csv")
    assert len(df) == 6 and set(df["status"]) == {"complete"}
    # not on a terminal (a log, CI): one line per finished case, numbered (issue 20, item 14)
    err = capsys.readouterr().err
    done = [line for line in err.splitlines() if "sweep s: case " in line]
    assert [line.split("case ")[1].split()[0] for line in done] == [f"{i}/6" for i in range(1, 7)], err
    assert all(" complete, its run " in line for line in done), done
    for _, row in df.iterrows():
        summary = run_case(d / "out" / "cases" / f"{row['case']}.toml", d / "single" / row["case"], progress=False,
                           mesh_dir=d / "m")
        for r in summary["temperatures"]:
            assert row[f"warpage_um@{r['T_C']:g}C"] == pytest.approx(r["warpage_um"], rel=1e-12)
    assert (d / "out" / "sweep.parquet").stat().st_size > 0
    assert (d / "out" / "main_effects.png").is_file() and (d / "out" / "tornado.png").is_file()


def test_killed_worker_every_case_completes_exactly_once(sweep_dir, tmp_path):
    from dask.distributed import Client, LocalCluster

    d = sweep_dir(temps="[-40, -20, 0, 40, 60, 80, 100, 125]", sweep=SWEEP.replace(
        '"analysis.kinematics" = ["plane_strain", "generalized_plane_strain"]',
        '"analysis.kinematics" = ["plane_strain", "generalized_plane_strain", "plane_stress"]'))
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50)
    client = Client(cluster)
    out = d / "out"
    result = {}
    worker = threading.Thread(target=lambda: result.update(
        run_sweep(d / "s.toml", out, scheduler=cluster.scheduler_address, progress=False)))
    worker.start()
    log = out / "completed.log"
    deadline = time.time() + 120
    while (not log.is_file() or not log.read_text().strip()) and time.time() < deadline:
        time.sleep(0.05)
    pids = client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)  # a worker dies mid-sweep
    worker.join(timeout=600)
    client.close()
    cluster.close()
    lines = log.read_text().split()
    ids = lines[0::2]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 9  # every case completed exactly once
    df = pd.read_csv(out / "sweep.csv")
    assert set(df["status"]) == {"complete"}


def test_interrupt_and_resume_repeats_nothing(sweep_dir):
    d = sweep_dir(temps="[-40, -20, 0, 40, 60, 80, 100, 125]")
    ref = subprocess.run([sys.executable, "-m", "reliability.cli", "sweep", "s.toml", "--workers", "2", "--out",
                          "ref", "--quiet"], cwd=d, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr
    proc = subprocess.Popen([sys.executable, "-m", "reliability.cli", "sweep", "s.toml", "--workers", "1", "--out",
                             "out", "--quiet"], cwd=d, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    log = d / "out" / "completed.log"
    deadline = time.time() + 300
    while (not log.is_file() or len(log.read_text().split()) < 4) and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # interrupted: the sweep and its workers die
    proc.wait()
    done_before = log.read_text().split()[0::2]
    assert 0 < len(done_before) < 6
    again = subprocess.run([sys.executable, "-m", "reliability.cli", "sweep", "s.toml", "--workers", "2", "--out",
                            "out", "--resume", "--quiet"], cwd=d, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    done = log.read_text().split()[0::2]
    assert sorted(done) == sorted(set(done)) and len(done) == 6  # finished cases were not run again
    pd.testing.assert_frame_equal(table(d / "out" / "sweep.csv"), table(d / "ref" / "sweep.csv"))


def test_impossible_geometry_fails_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.toml").write_text("""
[case]
name = "wlp"
[geometry]
family = "wlp_paste_plug"
board = false
[geometry.dimensions_mm]
die_width = 1.6
[mesh]
size_mm = 0.1
[process]
sequence = "none"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 125
temperatures_C = [25]
[output]
plots = false
vtu = false
""")
    (tmp_path / "s.toml").write_text("""
base = "base.toml"
[parameters]
"geometry.dimensions_mm.ball_pitch" = [0.4, 0.2, 0.5]
""")
    assert main(["sweep", "s.toml", "--workers", "2", "--out", "out", "--quiet"]) == 0
    df = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert list(df["status"]) == ["complete", "failed", "complete"]
    assert "overlap" in df["message"][1] and "\n" not in df["message"][1]


def test_invalid_generated_case_stops_before_running(sweep_dir, monkeypatch, capsys):
    d = sweep_dir(sweep=SWEEP.replace('"nickel"', '"unobtainium"'))
    monkeypatch.chdir(d)
    assert main(["sweep", "s.toml", "--out", "out", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unobtainium" in err[0] and "strip_0004" in err[0]
    assert not (d / "out" / "runs").exists()


def test_case_variant_overrides_dotted_keys_and_stays_a_valid_case(repo, tmp_path):
    """The benchmark's overrides go through the sweep writer: the copy loads, with the new values."""
    from reliability.case import load_case
    from reliability.sweep import case_variant

    text = case_variant(repo / "cases" / "fan_out_exposed.toml",
                        {"mesh.joint_size_mm": 0.0125, "analysis.cycling.cycles": 1}, name="variant")
    path = tmp_path / "variant.toml"
    path.write_text(text)
    case = load_case(path)
    assert case.name == "variant"
    assert case.spec.mesh.joint_size_mm == 0.0125 and case.spec.analysis.cycling.cycles == 1
    assert case.spec.geometry.backside == "exposed"  # untouched keys survive


GRID = """
base = "base.toml"
[parameters]
"materials.define.cu.E_MPa" = [100000, 105000, 110000, 115000, 120000, 125000, 130000, 135000, 140000, 145000]
"materials.define.cu.alpha_per_K" = [15e-6, 15.5e-6, 16e-6, 16.5e-6, 17e-6, 17.5e-6, 18e-6, 18.5e-6, 19e-6, 19.5e-6]
"analysis.stress_free_temperature_C" = [20, 25, 30, 35, 40, 45, 50, 55, 60, 65]
"""


@pytest.fixture
def grid_dir(tmp_path, repo):
    """A 1000-case grid (3 parameters x 10 values) on the strip with an inline copper."""
    base = BASE.format(mesh=(repo / "meshes" / "bimetal.msh").as_posix(), temps="[-40, 125]")
    base = base.replace('layer_bottom = "copper"', 'layer_bottom = "cu"\n[materials.define.cu]\nE_MPa = 120000\n'
                        'nu = 0.34\nalpha_per_K = 17e-6')
    (tmp_path / "base.toml").write_text(base)
    (tmp_path / "s.toml").write_text(GRID)
    return tmp_path


def test_dry_run_of_a_large_grid_prints_the_count_and_an_estimated_time(grid_dir, monkeypatch, capsys):
    from reliability.case import load_case
    from reliability.sweep import _duration

    monkeypatch.chdir(grid_dir)
    t0 = time.perf_counter()
    assert main(["sweep", "s.toml", "--dry-run", "--out", "out", "--workers", "2"]) == 0
    assert time.perf_counter() - t0 < 60
    lines = capsys.readouterr().out.splitlines()
    # the first 10 cases, "... 990 more", the count, and why there is no estimate yet: 13 lines, not 1000
    assert len(lines) == 13
    assert [ln.split(":")[0] for ln in lines[:10]] == [f"strip_{i:04d}" for i in range(10)]
    assert lines[0] == ("strip_0000: materials.define.cu.E_MPa = 100000, materials.define.cu.alpha_per_K = 1.5e-05, "
                        "analysis.stress_free_temperature_C = 20")
    assert lines[10] == "... 990 more (every case is in out/cases)"
    assert lines[11].startswith("1000 valid cases (grid of 10 materials.define.cu.E_MPa x 10 "
                                "materials.define.cu.alpha_per_K x 10 analysis.stress_free_temperature_C) written to "
                                "out/cases in ") and "nothing solved" in lines[11]
    assert lines[12].startswith("no time estimate:") and "reliability run out/cases/strip_0000.toml" in lines[12]
    assert len(list((grid_dir / "out" / "cases").glob("*.toml"))) == 1000 and not (grid_dir / "out" / "runs").exists()
    last = load_case(grid_dir / "out" / "cases" / "strip_0999.toml")
    assert last.spec.analysis.stress_free_temperature_C == 65 and last.defined["cu"].name == "cu"
    # a run of the base case (results/strip, as `reliability run` writes it) gives the time per case
    assert main(["run", "base.toml", "--quiet"]) == 0
    t = json.loads((grid_dir / "results" / "strip" / "summary.json").read_text())["wall_time_s"]
    capsys.readouterr()
    assert main(["sweep", "s.toml", "--dry-run", "--out", "out", "--workers", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 14
    assert lines[12] == (f"estimated time: 1000 cases x {_duration(t)} = {_duration(1000 * t)} of solving, "
                         f"about {_duration(500 * t)} on 2 workers")
    assert lines[13].startswith("basis: results/strip/summary.json: a run of the base case (1 run)")


def test_dry_run_estimates_from_runs_of_the_sweep_and_those_runs_are_reused(grid_dir, monkeypatch, capsys):
    from reliability.sweep import _duration, dry_run, run_one

    monkeypatch.chdir(grid_dir)
    plan = dry_run("s.toml", grid_dir / "out", workers=4, estimate_from=2.5)
    assert plan.estimate.per_case_s == 2.5 and plan.estimate.solve_s == 2500 and plan.estimate.wall_s == 250 * 2.5
    # the run the hint asks for: one case into out/runs/<case>
    runs = grid_dir / "out" / "runs"
    for cid in ("strip_0000", "strip_0999"):
        assert main(["run", f"out/cases/{cid}.toml", "--out", f"out/runs/{cid}", "--quiet"]) == 0
    times = [json.loads((runs / c / "summary.json").read_text())["wall_time_s"] for c in ("strip_0000", "strip_0999")]
    plan = dry_run("s.toml", grid_dir / "out")
    e = plan.estimate
    assert e.measured == 2 and e.per_case_s == pytest.approx(sum(times) / 2, rel=1e-12)
    assert (e.min_s, e.max_s) == (min(times), max(times)) and e.basis == f"complete runs of this sweep in {runs}"
    assert e.workers == (os.cpu_count() or 1)
    # with a scheduler the worker count is unknown: the total solving time only
    plan = dry_run("s.toml", grid_dir / "out", scheduler="tcp://127.0.0.1:1", estimate_from=runs / "strip_0000")
    assert plan.estimate.wall_s is None and plan.estimate.per_case_s == times[0]
    assert plan.lines()[-2] == (f"estimated time: 1000 cases x {_duration(times[0])} = "
                                f"{_duration(1000 * times[0])} of solving")
    # a sweep with --resume reuses the measured run: nothing is solved again
    again = run_one(str(grid_dir / "out" / "cases" / "strip_0000.toml"), str(runs / "strip_0000"),
                    str(grid_dir / "m"), resume=True)
    assert again["status"] == "reused"
    with pytest.raises(CaseError, match="no complete run there"):
        dry_run("s.toml", grid_dir / "out", estimate_from=grid_dir / "out" / "cases")
