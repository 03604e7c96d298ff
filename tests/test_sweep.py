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


def test_six_case_sweep_equals_one_by_one(sweep_dir, monkeypatch):
    d = sweep_dir()
    monkeypatch.chdir(d)
    assert main(["sweep", "s.toml", "--workers", "2", "--out", "out", "--quiet"]) == 0
    df = pd.read_csv(d / "out" / "sweep.csv")
    assert len(df) == 6 and set(df["status"]) == {"complete"}
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
