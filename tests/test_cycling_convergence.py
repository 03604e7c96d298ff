"""dW of the default fan-out board-level case against a twice-finer joint mesh (issue 4).

Slow (two full 3-cycle runs, about 10 minutes on 2 cores): ``pytest -m slow``.
Measured: see bench/README.md ("Thermal cycling").
"""

import json

import pytest

from reliability.cli import main


@pytest.mark.slow
def test_dW_changes_less_than_10_percent_with_a_twice_finer_joint_mesh(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = (repo / "cases" / "fan_out_exposed.toml").read_text()
    (tmp_path / "default.toml").write_text(base.replace('name = "fan_out_exposed"', 'name = "default"'))
    (tmp_path / "fine.toml").write_text(base.replace('name = "fan_out_exposed"', 'name = "fine"')
                                        + "\n[mesh]\njoint_size_mm = 0.003125\n")
    dW = {}
    for name in ("default", "fine"):
        assert main(["run", f"{name}.toml", "--quiet"]) == 0
        s = json.loads((tmp_path / "results" / name / "summary.json").read_text())
        dW[name] = s["cycling"]["critical_joint"]["dW_MPa"]
        assert s["cycling"]["critical_joint"]["name"] == "solder_5"
    print(f"dW default {dW['default']:.5f} MPa, fine {dW['fine']:.5f} MPa")
    assert abs(dW["fine"] - dW["default"]) / dW["default"] < 0.10
