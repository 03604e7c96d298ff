"""A run's output folder and progress (issue 20, items 2, 8, 14): refused in one line with exit 2 before
anything is solved, one run per folder, and progress lines when stderr is not a terminal."""

import subprocess
import sys

import pytest

from reliability.cli import main


@pytest.fixture
def bimetal(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return str(repo / "cases" / "bimetal.toml")


@pytest.mark.parametrize("out,expect", [
    ("afile", "--out afile: is a file; give a folder"),
    ("afile/sub", "--out afile/sub: lies under the file afile; give a folder"),
    ("/proc/reliability_out", "--out /proc/reliability_out: cannot write there"),
])
def test_an_output_folder_that_cannot_be_written_is_one_line(bimetal, tmp_path, capsys, out, expect):
    (tmp_path / "afile").write_text("not a folder")
    assert main(["run", bimetal, "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0], err


def test_a_second_run_into_a_held_folder_is_refused(bimetal, tmp_path, capsys):
    import socket

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / ".running").write_text(f"{socket.gethostname()}:{holder.pid}")
        assert main(["run", bimetal, "--out", "out", "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"another run (pid {holder.pid}) is writing there" in err[0], err
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its stale lock is taken over, and released at the end
    assert main(["run", bimetal, "--out", "out", "--quiet"]) == 0
    assert not (tmp_path / "out" / ".running").exists()


def test_progress_is_printed_as_lines_when_stderr_is_not_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text("""
[case]
name = "p"
[geometry]
family = "wlp_polyimide_land"
board = false
[mesh]
size_mm = 0.1
[analysis]
kinematics = "plane_strain"
temperatures_C = [25]
[output]
plots = false
vtu = false
""")
    assert main(["run", "c.toml"]) == 0  # capsys: stderr is not a terminal
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "process [package] step" in ln]
    assert len(lines) == 4, err  # one per claimed step: wiring, polyimide 2, cool, reflow
    assert "step 4/4 reflow to a 260 C peak" in lines[-1]


def test_materials_shows_every_block_and_lists_the_model_kind(capsys):
    """Issue 20, item 13: SAC305's Anand and fatigue blocks with their sources; the list says Anand."""
    assert main(["materials", "SAC305", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "model: Anand" in out and "[anand]        s0_MPa = 21" in out
    assert "[fatigue.darveaux] K1_cycles = 37.97" in out and "[fatigue.weibull] shape = 6" in out
    assert out.count("source:") >= 9
    assert main(["materials"]) == 0
    rows = {ln.split()[0]: ln.split()[1] for ln in capsys.readouterr().out.splitlines()[1:] if ln.strip()}
    assert rows["SAC305"] == "Anand" and rows["copper"] == "bilinear" and rows["bt"] == "orthotropic"
    assert rows["silicon"] == "elastic" and rows["emc-low-cte-visco"] == "viscoelastic"


def test_report_orders_plots_by_temperature_with_readable_titles():
    """Issue 20, item 15: -40, 25, 125, 217 C in that order (not as text), titles in words."""
    from pathlib import Path

    from reliability.post.report import _caption, _plot_order

    names = ["von_mises_Tp25C", "von_mises_Tm40C", "von_mises_Tp125C", "von_mises_Tp217C"]
    ordered = [_caption(p.stem) for p in sorted((Path(n + ".png") for n in names), key=_plot_order)]
    assert ordered == ["von Mises stress at -40 C", "von Mises stress at 25 C", "von Mises stress at 125 C",
                       "von Mises stress at 217 C"]
    assert _caption("von_mises_Tm40C_outer_joint") == "von Mises stress at -40 C, outer joint"


def test_a_symlink_loop_as_a_sweeps_base_is_one_line(tmp_path, monkeypatch, capsys):
    """Issue 20, item 3, for sweeps: before, Path.resolve's RuntimeError as a traceback."""
    import os

    monkeypatch.chdir(tmp_path)
    os.symlink("loop_b.toml", "loop_a.toml")
    os.symlink("loop_a.toml", "loop_b.toml")
    (tmp_path / "s.toml").write_text('base = "loop_a.toml"\n[parameters]\n"mesh.size_mm" = [0.1, 0.2]\n')
    assert main(["sweep", "s.toml", "--dry-run", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "base = " in err[0] and "symbolic link loop" in err[0], err
