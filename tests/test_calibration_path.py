"""``[fatigue] calibration``: a relative path is read next to the case file first, then in the current
directory (where ``reliability calibrate`` writes ``calibrations/NAME.toml``); missing, one line naming the
case file, the key, the value and every place tried."""

import shutil
from pathlib import Path

import pytest

import reliability
from reliability.case import load_case
from reliability.errors import CaseError
from reliability.sections import preflight

CALIBRATION = Path(__file__).resolve().parents[1] / "calibrations" / "pbga_motalab_centre_line.toml"

CASE = """
[case]
name = "cites_a_calibration"
[geometry]
family = "wlp_paste_plug"
[process]
sequence = "none"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 217
[analysis.cycling]
jedec = "G"
cycles = 1
[fatigue]
calibration = "{calibration}"
"""


@pytest.fixture
def case_dir(tmp_path, monkeypatch):
    """A case folder with a calibration file next to the case, and the current directory elsewhere."""
    folder = tmp_path / "project" / "cases"
    folder.mkdir(parents=True)
    shutil.copy(CALIBRATION, folder / "mine.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return folder


def test_a_calibration_next_to_the_case_is_found_from_another_directory(case_dir):
    (case_dir / "c.toml").write_text(CASE.format(calibration="mine.toml"))
    case = load_case(case_dir / "c.toml")
    preflight(case)
    cal = case.spec.fatigue.calibration_data
    assert cal.name == "pbga_motalab_centre_line" and Path(cal.path) == case_dir / "mine.toml"
    assert case.spec.fatigue.calibration == "mine.toml"  # the case's own words are kept
    # a relative case path from the current directory: the same file
    rel = Path("..") / "project" / "cases" / "c.toml"
    assert load_case(rel).spec.fatigue.calibration_data.sha256 == cal.sha256


def test_the_case_folder_comes_before_the_current_directory(case_dir):
    """Both hold a ``mine.toml``: the case folder's is used; only the current directory's: that one."""
    other = CALIBRATION.parent / "pbga_motalab_diagonal.toml"
    shutil.copy(other, Path.cwd() / "mine.toml")
    shutil.copy(other, Path.cwd() / "only_here.toml")
    (case_dir / "c.toml").write_text(CASE.format(calibration="mine.toml"))
    assert load_case(case_dir / "c.toml").spec.fatigue.calibration_data.name == "pbga_motalab_centre_line"
    (case_dir / "d.toml").write_text(CASE.format(calibration="only_here.toml"))
    cal = load_case(case_dir / "d.toml").spec.fatigue.calibration_data
    assert cal.name == "pbga_motalab_diagonal" and cal.path == "only_here.toml"


def test_a_missing_calibration_names_the_case_key_value_and_both_places(case_dir):
    (case_dir / "c.toml").write_text(CASE.format(calibration="calibrations/none.toml"))
    with pytest.raises(CaseError) as err:
        load_case(case_dir / "c.toml")
    msg = str(err.value)
    assert len(msg.splitlines()) == 1
    assert msg.startswith(f"{case_dir / 'c.toml'}: fatigue.calibration = 'calibrations/none.toml': ")
    assert "calibration file does not exist" in msg
    assert str(case_dir / "calibrations" / "none.toml") in msg and "next to the case file" in msg
    assert f"then calibrations/none.toml in the current directory {Path.cwd()}" in msg


def test_the_api_and_sweeps_read_it_from_the_case_folder(case_dir):
    """``reliability.load`` of the file, and of a dict with ``folder``: the calibration beside the case."""
    (case_dir / "c.toml").write_text(CASE.format(calibration="mine.toml"))
    from reliability.case import read_toml

    for case in (reliability.load(case_dir / "c.toml"), reliability.load(read_toml(case_dir / "c.toml"),
                                                                        folder=case_dir)):
        assert Path(case.spec.fatigue.calibration_data.path) == (case_dir / "mine.toml").resolve()
    from reliability.sweep import case_variant

    text = case_variant(case_dir / "c.toml", {"analysis.cycling.cycles": 2})
    (Path.cwd() / "variant.toml").write_text(text)  # written elsewhere: the path was made absolute
    assert load_case(Path.cwd() / "variant.toml").spec.fatigue.calibration_data.name == "pbga_motalab_centre_line"
