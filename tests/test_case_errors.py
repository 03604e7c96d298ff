"""Malformed case files end in one line naming the problem, exit code 2, no traceback."""

import subprocess
import sys
import textwrap
from pathlib import Path

import gmsh
import pytest

from reliability.cli import main

REPO = Path(__file__).resolve().parent.parent
MESH = (REPO / "meshes" / "bimetal.msh").as_posix()

GOOD = f"""
[case]
name = "bimetal"
[geometry]
mesh = "{MESH}"
warpage_surface = "bottom"
[materials]
layer_top = "silicon"
layer_bottom = "my-copper"
[materials.define.my-copper]
E_MPa = 120000
nu = 0.34
alpha_per_K = 17e-6
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 25
temperatures_C = [-40, 25, 125]
"""


def gmsh_square(path: Path, order: int, named: bool):
    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("sq")
        s = gmsh.model.occ.addRectangle(0, 0, 0, 1, 0.2)
        gmsh.model.occ.synchronize()
        if named:
            gmsh.model.addPhysicalGroup(2, [s], name="layer_top")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.1)
        gmsh.option.setNumber("Mesh.ElementOrder", order)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()


def edit(text, old, new):
    assert old in text, old
    return text.replace(old, new)


CASES = {
    "missing_key": (lambda t: edit(t, 'kinematics = "plane_strain"\n', ""), "analysis.kinematics"),
    "unknown_key": (lambda t: edit(t, "kinematics =", "kinematic ="), "unknown key 'analysis.kinematic'"),
    "unknown_section": (lambda t: t + "\n[solver]\nname = 'x'\n", "solver"),
    "unknown_material": (lambda t: edit(t, 'layer_top = "silicon"', 'layer_top = "unobtainium"'), "unobtainium"),
    "unknown_region": (lambda t: edit(t, 'layer_top = "silicon"', 'layer_top = "silicon"\nlayer_middle = "silicon"'), "layer_middle"),
    "bad_kinematics": (lambda t: edit(t, '"plane_strain"', '"plane"'), "plane_strain"),
    "non_numeric": (lambda t: edit(t, "stress_free_temperature_C = 25", 'stress_free_temperature_C = "hot"'), "stress_free_temperature_C"),
    "non_numeric_material": (lambda t: edit(t, "E_MPa = 120000", 'E_MPa = "stiff"'), "materials.define.my-copper.E_MPa"),
    "mesh_missing": (lambda t: edit(t, MESH, "nowhere/none.msh"), "geometry.mesh"),
    "broken_toml": (lambda t: t + "\n[analysis\n", "not valid TOML"),
    "missing_nu": (lambda t: edit(t, "nu = 0.34\n", ""), "nu"),
    "negative_modulus": (lambda t: edit(t, "E_MPa = 120000", "E_MPa = -5"), "E_MPa"),
    "poisson_too_big": (lambda t: edit(t, "nu = 0.34", "nu = 0.6"), "nu"),
    "empty_temperatures": (lambda t: edit(t, "temperatures_C = [-40, 25, 125]", "temperatures_C = []"), "temperatures_C"),
    "nan_temperature": (lambda t: edit(t, "temperatures_C = [-40, 25, 125]", "temperatures_C = [nan]"), "temperatures_C"),
    "warpage_surface": (lambda t: edit(t, 'warpage_surface = "bottom"', 'warpage_surface = "underside"'), "warpage_surface"),
    "no_material_for_region": (lambda t: edit(t, 'layer_top = "silicon"\n', ""), "layer_top"),
    "outside_table": (
        lambda t: edit(t, "E_MPa = 120000", "E_MPa = {T_C = [0, 100], value = [120000, 110000]}"),
        "temperatures_C",
    ),
    "outside_solder_range": (lambda t: edit(t, '"my-copper"\n', '"SAC305"\n').replace("temperatures_C = [-40, 25, 125]", "temperatures_C = [-40, 260]"), "SAC305"),
    "unsafe_name": (lambda t: edit(t, 'name = "bimetal"', 'name = "../../etc"'), "case.name"),
    "zero_feature_elements": (lambda t: t + "\n[mesh]\nfeature_elements = 0\n", "mesh.feature_elements"),
    "fractional_feature_elements": (lambda t: t + "\n[mesh]\nfeature_elements = 1.5\n", "mesh.feature_elements"),
}


def run(tmp_path, text, capsys):
    case = tmp_path / "case.toml"
    case.write_text(textwrap.dedent(text))
    rc = main(["run", str(case), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_case_one_line_exit_2(tmp_path, capsys, name):
    mutate, expect = CASES[name]
    rc, err = run(tmp_path, mutate(GOOD), capsys)
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert expect in lines[0], lines[0]
    assert "case.toml" in lines[0], lines[0]  # names the file


def test_first_order_mesh_is_refused(tmp_path, capsys):
    mesh = tmp_path / "p1.msh"
    gmsh_square(mesh, order=1, named=True)
    rc, err = run(tmp_path, GOOD.replace(MESH, mesh.as_posix()).replace('layer_bottom = "my-copper"\n', ""), capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "first-order" in err and "p1.msh" in err


def test_mesh_without_physical_names_is_refused(tmp_path, capsys):
    mesh = tmp_path / "anon.msh"
    gmsh_square(mesh, order=2, named=False)
    rc, err = run(tmp_path, GOOD.replace(MESH, mesh.as_posix()), capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "anon.msh" in err and "physical" in err


def test_good_case_runs(tmp_path, capsys):
    rc, err = run(tmp_path, GOOD, capsys)
    assert rc == 0, err
    assert (tmp_path / "out" / "summary.json").is_file()


def test_no_traceback_from_the_installed_command(tmp_path):
    case = tmp_path / "bad.toml"
    case.write_text(CASES["bad_kinematics"][0](GOOD))
    proc = subprocess.run([sys.executable, "-m", "reliability.cli", "run", str(case)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
