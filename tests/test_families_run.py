"""Every family runs end to end through the core; warpage has the sign the CTE
mismatch predicts; `reliability mesh` and the mesh cache; geometry errors from
the command line are one line with exit code 2."""

import json

import pytest

from reliability.cli import main
from reliability.geometry import FAMILIES


def case_text(family, extra="", board=True, temps="[-40, 125]", dims="", sft=25):
    """A coarse case; ``sft=None``: the family's claimed process instead of one stress-free temperature."""
    process = '[process]\nsequence = "none"' if sft is not None else ""
    sft_line = f"stress_free_temperature_C = {sft}" if sft is not None else ""
    return f"""{process}
[case]
name = "{family}_t"
[geometry]
family = "{family}"
board = {str(board).lower()}
{extra}
[geometry.dimensions_mm]
{dims}
[mesh]
size_mm = 0.1
board_size_mm = 0.4
[analysis]
kinematics = "plane_strain"
{sft_line}
temperatures_C = {temps}
[output]
plots = false
vtu = false
"""


@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_runs_and_warps_as_the_cte_mismatch_predicts(family, tmp_path, monkeypatch, capsys):
    """Below the polymers' Tg, all five have their higher-CTE layers at the bottom:
    mold, copper and solder mask under a silicon die (fan-out); the copper
    leadframe (17 ppm/K) under the EMC body (8 ppm/K) (leads); the solder mask
    under two equal BT carriers (stacked); polyimide and mask under the silicon
    (both WLPs).  Cooling from 25 C to -40 C shrinks the bottom more: convex,
    positive JEDEC warpage; heating to 125 C: concave, negative."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(case_text(family))
    assert main(["run", "c.toml", "--quiet"]) == 0
    summary = json.loads((tmp_path / "results" / f"{family}_t" / "summary.json").read_text())
    cold, hot = summary["temperatures"]
    assert cold["warpage_um"] > 0.5, cold
    assert hot["warpage_um"] < 0, hot
    assert cold["assembly_warpage_um"] is not None
    assert set(summary["sections"]) == {"package", "assembly"}
    assert len(summary["joints"]) >= 2


def test_mesh_command_writes_msh_png_and_is_reused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(case_text("wlp_paste_plug"))
    assert main(["mesh", "c.toml"]) == 0
    msh = tmp_path / "meshes" / "wlp_paste_plug_t.msh"
    png = msh.with_suffix(".png")
    assert msh.stat().st_size > 10000 and png.stat().st_size > 20000
    stamp = msh.stat().st_mtime_ns
    assert main(["run", "c.toml", "--quiet"]) == 0  # reuses the unchanged mesh
    assert msh.stat().st_mtime_ns == stamp
    summary = json.loads((tmp_path / "results" / "wlp_paste_plug_t" / "summary.json").read_text())
    assert summary["sections"]["assembly"]["mesh"].endswith("wlp_paste_plug_t.msh")
    # changing a dimension rebuilds it
    (tmp_path / "c.toml").write_text(case_text("wlp_paste_plug", dims="die_thickness = 0.25"))
    assert main(["run", "c.toml", "--quiet"]) == 0
    assert msh.stat().st_mtime_ns != stamp


@pytest.mark.parametrize("extra,dims,expect", [
    ("", "ball_pitch = 0.28", "overlap"),
    ("", "balls_per_half = 12", "exceed the body"),
    ("", "solder_mask_opening = 0.35", "wider than its ball pad"),
    ("", "die_width = 9.0", "not smaller than the body"),
    ("", "die_thickness = -0.2", "geometry.dimensions_mm.die_thickness"),
    ("", "standoff = 0.4", "cannot be reached"),
    ("protective_layer = 'titanium'", "", "unknown key 'geometry.protective_layer'"),
])
def test_invalid_geometry_from_the_command_line(tmp_path, monkeypatch, capsys, extra, dims, expect):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(case_text("fan_out", extra=extra, dims=dims))
    assert main(["run", "c.toml", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0] and "c.toml" in err[0], err
