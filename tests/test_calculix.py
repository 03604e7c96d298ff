"""Independent cross-check: the same decks solved by CalculiX (Debian calculix-ccx).

`reliability export-ccx` writes the mesh, materials (with temperature tables,
orthotropy and the secant form of the CTE), supports and one step per
temperature; our displacements must agree with CalculiX's within 0.1 %
(max-norm relative) at every temperature, in plane strain and axisymmetry.
"""

import shutil
import subprocess

import numpy as np
import pytest

from reliability.analysis.thermoelastic import ThermoElasticProblem
from reliability.case import load_case
from reliability.cli import main
from reliability.export.calculix import read_dat_displacements
from reliability.geometry.strip import layered_strip
from reliability.run import solvable_temperatures
from reliability.sections import sections

pytestmark = pytest.mark.skipif(shutil.which("ccx") is None,
                                reason="CalculiX (ccx) is not installed: apt-get install calculix-ccx")


def cross_check(case_path, out, monkeypatch):
    monkeypatch.chdir(out)
    assert main(["export-ccx", str(case_path), "--out", "ccx"]) == 0
    case = load_case(case_path)
    worst = 0.0
    for sec in sections(case):
        deck = out / "ccx" / f"{case.name}_{sec.role}"
        proc = subprocess.run(["ccx", deck.name], cwd=deck.parent, capture_output=True, text=True, timeout=600)
        assert "ERROR" not in proc.stdout, proc.stdout[-2000:]
        steps = read_dat_displacements(deck.with_suffix(".dat"), sec.model.n_nodes)
        temps, _ = solvable_temperatures(sec, case.spec.analysis.temperatures_C)
        assert len(steps) == len(temps)
        problem = ThermoElasticProblem(sec.model, sec.assignment, case.spec.analysis.kinematics,
                                       case.spec.analysis.stress_free_temperature_C, symmetry_line=sec.symmetry_line)
        for T, u_ccx in zip(temps, steps):
            u = problem.solve(T).u
            scale = np.abs(u).max()
            if scale == 0:
                assert np.abs(u_ccx).max() < 1e-12
                continue
            err = np.abs(u - u_ccx).max() / scale
            worst = max(worst, err)
            assert err < 1e-3, (sec.role, T, err)
    return worst


def test_bimetal_plane_strain_matches_calculix(repo, tmp_path, monkeypatch):
    assert cross_check(repo / "cases" / "bimetal.toml", tmp_path, monkeypatch) < 1e-3  # measured 3e-7


def test_bimetal_axisymmetric_matches_calculix(tmp_path, monkeypatch):
    layered_strip([("layer_bottom", 0.3), ("layer_top", 0.3)], 10.0, nx=40, ny=3, half=True,
                  path=tmp_path / "disk.msh")
    (tmp_path / "disk.toml").write_text(f"""
[case]
name = "disk"
[geometry]
mesh = "disk.msh"
warpage_surface = "bottom"
[materials]
layer_top = "silicon"
layer_bottom = "copper"
[analysis]
kinematics = "axisymmetric"
stress_free_temperature_C = 25
temperatures_C = [-40, 125]
""")
    assert cross_check(tmp_path / "disk.toml", tmp_path, monkeypatch) < 1e-3


@pytest.mark.parametrize("kinematics", ["plane_strain", "axisymmetric"])
def test_package_family_matches_calculix(tmp_path, monkeypatch, kinematics):
    """Board-level paste-plug WLP: orthotropic FR-4, T-tabled solder mask, SAC305, copper, silicon."""
    (tmp_path / "wlp.toml").write_text(f"""
[case]
name = "wlp"
[geometry]
family = "wlp_paste_plug"
[geometry.dimensions_mm]
die_width = 1.6
board_overhang = 0.5
[mesh]
size_mm = 0.1
board_size_mm = 0.3
[process]
sequence = "none"
[analysis]
kinematics = "{kinematics}"
stress_free_temperature_C = 125
temperatures_C = [-40, 25, 150]
""")
    assert cross_check(tmp_path / "wlp.toml", tmp_path, monkeypatch) < 1e-3
