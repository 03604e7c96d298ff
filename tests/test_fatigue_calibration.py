"""Issue 18, items 3-5: Engelmaier as the closed-form hand check, calibration of the fatigue constants to
test vehicles, and lives with their basis (docs/fatigue.md)."""

import json
import math
import os

import numpy as np
import pytest

from reliability.analysis import calibration as cal
from reliability.analysis import fatigue
from reliability.analysis.cycling_results import critical_block, effective_ctes
from reliability.calibration import calibrate
from reliability.cli import main
from reliability.geometry.strip import layered_strip
from reliability.library import get_material

SAC = get_material("SAC305")


# --- Engelmaier closed form ---------------------------------------------------------------------

def test_engelmaier_closed_form_against_a_hand_calculation():
    """physics.md 6.5: L_D = 5 mm, dalpha = 13.4 ppm/K, dT = 165 K, h = 0.2 mm -> dgamma = 0.055275;
    JEDEC G 15-min dwell: T_sj = 42.5 C, c = -0.442 - 6e-4 * 42.5 + 0.0174 ln(1 + 360/15)."""
    dgamma_hand = 1.0 * 5.0 * 13.4e-6 * 165.0 / 0.2
    assert math.isclose(dgamma_hand, 0.055275, rel_tol=1e-12)
    assert math.isclose(fatigue.engelmaier_shear_strain(1.0, 5.0, 13.4e-6, 165.0, 0.2), dgamma_hand, rel_tol=1e-9)
    c_hand = -0.442 - 6e-4 * 42.5 + 1.74e-2 * math.log(25.0)
    N50_hand = 0.5 * (dgamma_hand / 0.65) ** (1.0 / c_hand)
    inputs = {"dnp_mm": 5.0, "height_mm": 0.2, "delta_alpha_per_K": 13.4e-6, "delta_T_K": 165.0}
    life = fatigue.joint_life(SAC, ["engelmaier"], dW=0.3, dp_cycle=0.01, crack_length_mm=0.4, T_sj=42.5,
                              dwell_min=15.0, engelmaier_inputs=inputs)["engelmaier"]
    assert life["available"]
    assert math.isclose(life["shear_strain_range"], dgamma_hand, rel_tol=1e-9)
    assert math.isclose(life["c"], c_hand, rel_tol=1e-9)
    assert math.isclose(life["N50_cycles"], N50_hand, rel_tol=1e-9)
    # SAC305's Weibull shape 6: N63.2 = N50 / (ln 2)^(1/6)
    assert math.isclose(life["N63_2_cycles"], N50_hand / math.log(2.0) ** (1 / 6.0), rel_tol=1e-9)
    # the FE quantities (dW, the inelastic strain) do not enter the hand check
    again = fatigue.joint_life(SAC, ["engelmaier"], dW=3.0, dp_cycle=0.5, crack_length_mm=0.1, T_sj=42.5,
                               dwell_min=15.0, engelmaier_inputs=inputs)["engelmaier"]
    assert again["N50_cycles"] == life["N50_cycles"]
    # F scales the strain: F = 0.5 is the same life as half the DNP
    half = fatigue.engelmaier_shear_strain(0.5, 5.0, 13.4e-6, 165.0, 0.2)
    assert math.isclose(half, fatigue.engelmaier_shear_strain(1.0, 2.5, 13.4e-6, 165.0, 0.2), rel_tol=1e-12)


def test_effective_ctes_of_layered_bodies_are_the_E_t_weighted_means():
    """A board (fr4 + copper) under a package (silicon + copper) with a solder layer between: the
    closed form's CTEs are sum(E alpha t) / sum(E t) of each body (uniform layers: every station
    alike), alpha the secant CTE over -40/125 C, E at the mean temperature."""
    layers = [("board", 1.0), ("board_cu", 0.035), ("solder_1", 0.2), ("pkg_cu", 0.05), ("die", 0.3)]
    model = layered_strip(layers, 8.0, nx=8, ny=[2, 1, 2, 1, 2], half=True)
    model.info.update({"package_bottom_y_mm": 1.235, "standoff_mm": 0.2, "half": True})
    joint = {"name": "solder_1", "x_mm": 3.0, "dnp_mm": 3.0, "standoff_mm": 0.2}
    mats = {"board": get_material("fr4"), "board_cu": get_material("copper"), "solder_1": SAC,
            "pkg_cu": get_material("copper"), "die": get_material("silicon")}
    got = effective_ctes(model, mats, -40.0, 125.0, [joint])["solder_1"]

    def body(parts):
        E = [mats[r].elastic.youngs_modulus(42.5) * t for r, t in parts]
        a = [mats[r].elastic.thermal_strain(125.0, -40.0)[0] / 165.0 for r, _ in parts]
        return sum(e * x for e, x in zip(E, a)) / sum(E)

    a_board = body([("board", 1.0), ("board_cu", 0.035)])
    a_pkg = body([("pkg_cu", 0.05), ("die", 0.3)])
    assert math.isclose(got["alpha_board_per_K"], a_board, rel_tol=1e-9)
    assert math.isclose(got["alpha_package_per_K"], a_pkg, rel_tol=1e-9)
    assert math.isclose(got["delta_alpha_per_K"], abs(a_board - a_pkg), rel_tol=1e-9)
    assert got["dnp_mm"] == 3.0 and got["height_mm"] == 0.2 and got["delta_T_K"] == 165.0


# --- calibration on synthetic test data -----------------------------------------------------------

METHOD = {"section": "centre_line", "kinematics": "plane_strain", "interface_layer_mm": 0.025,
          "joint_element_size_mm": 0.00625, "solder_model": "anand"}


def fake_results(folder, dW, dp, crack_mm=0.4, engel=None, method=METHOD):
    """A results folder with the summary.json fields calibrate reads (no solve)."""
    folder.mkdir(parents=True, exist_ok=True)
    life = {"engelmaier": {"available": True, **engel}} if engel else {}
    summary = {"cycling": {
        "status": "complete",
        "profile": {"t_min_C": -40.0, "t_max_C": 125.0, "dwell_min": 15.0},
        "fatigue_method": method,
        "joints": [{"name": "solder_9", "material": "SAC305", "crack_length_mm": crack_mm,
                    "cycles": [{"cycle": 3, "inelastic_strain_package": dp}]}],
        "critical_joint": {"name": "solder_9", "interface": "package", "dW_MPa": dW, "stabilisation_percent": 0.5,
                           "life": life},
    }}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def write_input(tmp_path, name, model, vehicles):
    lines = [f'[calibration]\nname = "{name}"\nmodels = ["{model}"]\n']
    for i, (folder, N) in enumerate(vehicles):
        lines.append(f'[[vehicle]]\nname = "tv{i}"\nresults = "{folder.name}"\nN63_2_cycles = {N!r}\n'
                     'weibull_shape = 6.0\n')
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join(lines))
    return path


DWS = [0.12, 0.2, 0.35]
DPS = [0.004, 0.007, 0.012]


def _median_to_n63(N50):
    return N50 / math.log(2.0) ** (1 / 6.0)


@pytest.mark.parametrize("model", ["darveaux", "syed", "engelmaier", "morrow", "coffin_manson"])
def test_calibrating_on_synthetic_data_recovers_the_constants(tmp_path, monkeypatch, model):
    """Lives made with known constants (three vehicles) -> calibrate -> the constants within 1 %."""
    monkeypatch.chdir(tmp_path)
    lit = SAC.spec.fatigue
    engel = [{"dnp_mm": L, "height_mm": 0.3, "delta_alpha_per_K": 12e-6, "delta_T_K": 165.0} for L in (4.0, 7.0, 10.0)]
    if model == "darveaux":
        true = {"K1_cycles": 2.3 * lit.darveaux.K1_cycles, "K3_mm_per_cycle": 0.6 * lit.darveaux.K3_mm_per_cycle}
        N = [fatigue.darveaux(w, 0.4, true["K1_cycles"], lit.darveaux.K2, true["K3_mm_per_cycle"],
                              lit.darveaux.K4)["N63_2_cycles"] for w in DWS]
    elif model == "syed":
        true = {"W_prime_per_MPa": 0.0027}
        N = [1 / (0.0027 * w) for w in DWS]
    elif model == "morrow":
        true = {"W_f_MPa": 8.0, "m": -0.55}
        N = [fatigue.morrow(w, 8.0, -0.55)["N63_2_cycles"] for w in DWS]
    elif model == "coffin_manson":
        true = {"eps_f": 0.41, "c": -0.52}
        N = [_median_to_n63(fatigue.coffin_manson(math.sqrt(3) / 2 * p, 0.41, -0.52)["N50_cycles"]) for p in DPS]
    else:
        true = {"F": 0.7}
        e = lit.engelmaier
        N = []
        for inp in engel:
            g = fatigue.engelmaier_shear_strain(0.7, inp["dnp_mm"], inp["delta_alpha_per_K"], inp["delta_T_K"],
                                                inp["height_mm"])
            N.append(_median_to_n63(fatigue.engelmaier(g, 42.5, 15.0, e.eps_f, e.c0, e.c1_per_C, e.c2)["N50_cycles"]))
    vehicles = [(fake_results(tmp_path / f"r{i}", DWS[i], DPS[i], engel=engel[i]), N[i]) for i in range(3)]
    path = write_input(tmp_path, f"synthetic_{model}", model, vehicles)
    target, lines = calibrate(path)
    assert target == cal.Path("calibrations") / f"synthetic_{model}.toml"
    c = cal.load_calibration(target)
    assert c.solder == "SAC305" and c.method == METHOD and len(c.vehicles) == 3
    for key, value in true.items():
        assert math.isclose(c.constants[model][key], value, rel_tol=0.01), (key, c.constants[model][key], value)
    assert c.fits[model]["scatter_band_factor"] < 1.01
    assert any(model in ln for ln in lines) and any("tv2" in ln for ln in lines)


def test_one_vehicle_is_one_common_scale_factor(tmp_path, monkeypatch):
    """Darveaux with one vehicle: K1 -> s K1 and K3 -> K3 / s, so the life scales by s at every dW."""
    monkeypatch.chdir(tmp_path)
    d = SAC.spec.fatigue.darveaux
    lit = fatigue.darveaux(0.2, 0.4, d.K1_cycles, d.K2, d.K3_mm_per_cycle, d.K4)["N63_2_cycles"]
    path = write_input(tmp_path, "one", "darveaux", [(fake_results(tmp_path / "r", 0.2, 0.01), 4719.0)])
    target, _ = calibrate(path)
    c = cal.load_calibration(target)
    s = 4719.0 / lit
    assert math.isclose(c.constants["darveaux"]["K1_cycles"], s * d.K1_cycles, rel_tol=1e-9)
    assert math.isclose(c.constants["darveaux"]["K3_mm_per_cycle"], d.K3_mm_per_cycle / s, rel_tol=1e-9)
    assert c.fits["darveaux"]["scatter_band_factor"] == pytest.approx(1.0, abs=1e-12)


def test_vehicles_of_different_methods_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    other = dict(METHOD, section="diagonal")
    path = write_input(tmp_path, "mixed", "syed", [(fake_results(tmp_path / "a", 0.2, 0.01), 3000.0),
                                                   (fake_results(tmp_path / "b", 0.3, 0.01, method=other), 2000.0)])
    assert main(["calibrate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another method" in err and "section 'diagonal'" in err


# --- lives with their basis ---------------------------------------------------------------------

def test_critical_block_warns_when_not_stabilised_or_calibrated_for_another_method():
    rows = [{"cycle": 1, "dW_package_MPa": 0.2, "inelastic_strain_package": 0.01}]
    crit = {"name": "solder_3", "critical_interface": "package", "dnp_mm": 2.0, "material": "SAC305",
            "cycles": rows, "dW_last_cycle_MPa": 0.2, "crack_length_mm": 0.3,
            "life": {"syed": {"available": True, "N63_2_cycles": 2632.0, "constants": "literature"}}}
    block = critical_block(crit, METHOD, None, [], 42.5, 15.0)
    assert block["stabilisation_percent"] is None and not block["basis"]["stabilised"]
    assert block["basis"]["cycle_used"] == 1 and block["basis"]["cycles_run"] == 1
    assert block["basis"]["constants"] == cal.NO_CALIBRATION
    assert any("has not stabilised" in w for w in block["warnings"])
    c = cal.Calibration("x", "calibrations/x.toml", "SAC305", dict(METHOD, kinematics="axisymmetric"),
                        {"syed": {"W_prime_per_MPa": 0.002}}, {"syed": {"vehicles": 1, "scatter_band_factor": 1.0}})
    diff = cal.method_differences(METHOD, c.method)
    assert diff == ["kinematics 'plane_strain' (calibrated with 'axisymmetric')"]
    block = critical_block(crit, METHOD, c, diff, 42.5, 15.0)
    assert any("another method" in w and "axisymmetric" in w for w in block["warnings"])


SMALL = """
[case]
name = "{name}"
[geometry]
family = "wlp_paste_plug"
[geometry.dimensions_mm]
die_width = 1.6
board_overhang = 0.5
pcb_thickness = 0.5
[mesh]
size_mm = 0.1
board_size_mm = 0.25
[process]
sequence = "none"
[analysis]
kinematics = "plane_strain"
stress_free_temperature_C = 217
[analysis.cycling]
jedec = "G"
cycles = 2
increments_per_ramp = 6
increments_per_dwell = 4
[fatigue]
{fatigue}
[output]
vtu = false
plots = false
"""


def test_a_cited_calibration_changes_the_lives_and_warns_on_another_method(tmp_path, monkeypatch, capsys):
    """Run a vehicle, calibrate Darveaux and Syed on it (measured = 1.7 x its Darveaux life), run the same
    case citing the calibration: the lives are the measured ones, with the calibration's name and scatter
    band; a copy of the calibration marked as fitted on the diagonal section gives the method warning."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.toml").write_text(SMALL.format(name="vehicle", fatigue='models = ["darveaux", "syed", "engelmaier"]'))
    assert main(["run", "v.toml", "--quiet"]) == 0
    v = json.loads((tmp_path / "results" / "vehicle" / "summary.json").read_text())["cycling"]["critical_joint"]
    assert v["basis"]["constants"] == cal.NO_CALIBRATION and v["basis"]["cycle_used"] == 2
    assert v["life"]["engelmaier"]["available"] and v["life"]["engelmaier"]["delta_alpha_per_K"] > 5e-6
    N_d, N_s = v["life"]["darveaux"]["N63_2_cycles"], v["life"]["syed"]["N63_2_cycles"]
    (tmp_path / "cal.toml").write_text(
        '[calibration]\nname = "small_tv"\nmodels = ["darveaux", "syed"]\n'
        f'[[vehicle]]\nname = "tv"\nresults = "results/vehicle"\nN63_2_cycles = {1.7 * N_d!r}\n')
    assert main(["calibrate", "cal.toml"]) == 0
    out = capsys.readouterr().out
    assert "calibrations/small_tv.toml" in out and "scatter band" in out
    text = (tmp_path / "calibrations" / "small_tv.toml").read_text()
    (tmp_path / "calibrations" / "diag.toml").write_text(text.replace('section = "centre_line"', 'section = "diagonal"')
                                                         .replace('name = "small_tv"', 'name = "diag"'))
    (tmp_path / "c.toml").write_text(SMALL.format(
        name="cited", fatigue='models = ["darveaux", "syed", "engelmaier"]\ncalibration = "calibrations/diag.toml"'))
    assert main(["run", "c.toml", "--quiet"]) == 0
    out = capsys.readouterr().out
    crit = json.loads((tmp_path / "results" / "cited" / "summary.json").read_text())["cycling"]["critical_joint"]
    assert math.isclose(crit["dW_MPa"], v["dW_MPa"], rel_tol=1e-9)  # the same model and method
    # one vehicle: a common scale (Darveaux) and W' (Syed) make both predict the measured life exactly
    assert math.isclose(crit["life"]["darveaux"]["N63_2_cycles"], 1.7 * N_d, rel_tol=1e-6)
    assert math.isclose(crit["life"]["syed"]["N63_2_cycles"], 1.7 * N_d, rel_tol=1e-6)
    assert crit["life"]["darveaux"]["calibration"]["name"] == "diag"
    assert crit["life"]["darveaux"]["calibration"]["scatter_band_factor"] == pytest.approx(1.0)
    # the hand check keeps its literature constants (not in this calibration)
    assert crit["life"]["engelmaier"]["N63_2_cycles"] == pytest.approx(v["life"]["engelmaier"]["N63_2_cycles"],
                                                                       rel=1e-9)
    assert crit["basis"]["constants"].startswith("calibration 'diag'")
    assert any("another method" in w and "section 'centre_line' (calibrated with 'diagonal')" in w
               for w in crit["warnings"])
    assert "WARNING: calibration 'diag' was fitted with another method" in out
    assert "[calibration diag, 1 vehicle(s)" in out


# --- errors: one line, exit 2, no traceback -------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ('[calibration]\nname = "x"\n[[vehicle]]\nname = "a"\nresults = "r"\nN63_2_cycles = -5\n',
     "vehicle[0].N63_2_cycles = -5"),
    ('[calibration]\nname = "x"\nmodel = ["syed"]\n[[vehicle]]\nname = "a"\nresults = "r"\nN63_2_cycles = 5\n',
     "unknown key 'calibration.model'"),
    ('[calibration]\nname = "x"\nmodels = ["basquin"]\n[[vehicle]]\nname = "a"\nresults = "r"\nN63_2_cycles = 5\n',
     "calibration.models[0] = 'basquin'"),
    ('[calibration]\nname = "x"\n[[vehicle]]\nname = "a"\nresults = "nowhere"\nN63_2_cycles = 5\n',
     "vehicle[0].results = 'nowhere': no summary.json"),
    ('[calibration]\nname = "x"\n[[vehicle]]\nname = "a"\nN63_2_cycles = 5\n', "give exactly one of case"),
    ("[calibration\n", "not valid TOML"),
])
def test_calibrate_errors_are_one_line_exit_2(tmp_path, monkeypatch, capsys, body, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text(body)
    assert main(["calibrate", "bad.toml"]) == 2
    cap = capsys.readouterr()
    err = cap.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: bad.toml") and expected in err, err
    assert "Traceback" not in cap.err + cap.out
    assert main(["calibrate", "missing.toml"]) == 2
    assert "missing.toml" in capsys.readouterr().err


def test_a_case_citing_a_missing_calibration_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL.format(name="c", fatigue='calibration = "calibrations/none.toml"'))
    assert main(["run", "c.toml", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "fatigue.calibration = 'calibrations/none.toml'" in err
    assert "calibration file does not exist" in err
