"""End to end: `reliability run cases/bimetal.toml` writes what the README promises."""

import json
import xml.etree.ElementTree as ET

import matplotlib.image as mpimg
import meshio
import numpy as np
import pytest

from closed_form import KAPPA_PLANE_STRAIN
from reliability.cli import main


@pytest.fixture(scope="module")
def bimetal_run(tmp_path_factory, repo):
    out = tmp_path_factory.mktemp("bimetal")
    assert main(["run", str(repo / "cases" / "bimetal.toml"), "--out", str(out), "--quiet"]) == 0
    return out


def test_summary_has_units_in_every_key(bimetal_run):
    summary = json.loads((bimetal_run / "summary.json").read_text())
    assert summary["analysis"]["kinematics"] == "plane_strain"
    assert summary["sections"]["package"]["solver"] in ("pardiso", "cholmod", "superlu", "amg")
    rows = {row["T_C"]: row for row in summary["temperatures"]}
    assert sorted(rows) == [-40, 25, 125, 260]
    for row in rows.values():
        assert set(row) >= {"T_C", "warpage_um", "coplanarity_um", "von_mises_max_MPa"}
        assert set(row["von_mises_max_MPa"]) == {"layer_top", "layer_bottom"}
    # warpage scales with dT; at 125 C (dT = +100 K) the strip bows concave by kappa L^2 / 8
    bow = -(-KAPPA_PLANE_STRAIN) * 10.0**2 / 8 * 1e3
    assert abs(rows[125]["warpage_um"] - bow) / abs(bow) < 0.01
    assert rows[-40]["warpage_um"] > 0 > rows[125]["warpage_um"]  # convex when cold, concave when hot
    assert abs(rows[25]["warpage_um"]) < 1e-9 and rows[25]["von_mises_max_MPa"]["layer_top"] < 1e-6


def test_paraview_files(bimetal_run):
    tree = ET.parse(bimetal_run / "fields.pvd")
    files = [d.get("file") for d in tree.iter("DataSet")]
    assert len(files) == 4
    mesh = meshio.read(bimetal_run / files[2])
    assert "triangle6" in mesh.cells_dict
    assert mesh.point_data["displacement_mm"].shape[1] == 3
    for name in ("stress_xx_MPa", "stress_yy_MPa", "stress_zz_MPa", "stress_xy_MPa", "von_mises_MPa", "region"):
        assert name in mesh.cell_data
    assert np.abs(mesh.point_data["displacement_mm"]).max() > 0


def test_plots_are_written_and_not_blank(bimetal_run):
    pngs = sorted((bimetal_run / "plots").glob("*.png"))
    assert {p.name for p in pngs} >= {"warpage_profiles.png", "von_mises_Tp125C.png"}
    for p in pngs:
        img = mpimg.imread(p)
        assert img.shape[0] > 200 and img[..., :3].std() > 0.05
