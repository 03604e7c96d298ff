"""Independent cross-check of a process history (element birth and death) by CalculiX's *MODEL CHANGE.

The free three-layer strip of tests/test_process_history.py (temperature-independent elastic layers):
a and b stress-free at 175 C, cooled to 25 C, c born there, heated to 125 C, c removed.  After every step
our History displacements must agree with CalculiX's within 0.1 % (max-norm relative to our largest
displacement) on the nodes of elements built so far (a node not yet built carries no displacement in
ours).
"""

import shutil
import subprocess

import numpy as np
import pytest

from conftest import make_material
from reliability.analysis.incremental import InelasticProblem
from reliability.errors import CaseError
from reliability.export.calculix import export_case, read_dat_displacements
from reliability.export.calculix_process import write_process_deck
from reliability.geometry.strip import layered_strip
from reliability.process.history import History, persistent_nodes
from reliability.process.steps import parse_step
from test_process_history import LAYERS, L

needs_ccx = pytest.mark.skipif(shutil.which("ccx") is None,
                               reason="CalculiX (ccx) is not installed: apt-get install calculix-ccx")

STEPS = [{"kind": "ramp", "to_C": 25.0}, {"kind": "activate", "regions": ["c"]}, {"kind": "ramp", "to_C": 125.0},
         {"kind": "deactivate", "regions": ["c"]}]


def _strip(half=False):
    model = layered_strip([(n, t) for n, t, *_ in LAYERS], L, nx=80, ny=2, half=half)
    mats = {n: make_material(n, E_MPa=E, nu=nu, alpha_per_K=a) for n, _, E, nu, a in LAYERS}
    return model, mats


@pytest.fixture(scope="module")
def strip():
    return _strip()


def cross_check(model, mats, kinematics, steps, folder) -> list[float]:
    """Max-norm error of CalculiX's displacements relative to our largest one after each step, on the nodes
    of elements built so far."""
    steps = [parse_step(s) for s in steps]
    problem = InelasticProblem(model, mats, kinematics, 175.0, support_candidates=persistent_nodes(model, {"c"}))
    history = History(problem, 175.0, {"c"})
    ours, built = [], []
    seen = np.zeros(model.n_nodes, dtype=bool)

    def observe(i, step, h):
        ours.append(h.problem.full_displacement(h.state.u)[0].copy())
        seen[model.elements[h.state.birth.active].ravel()] = True
        built.append(seen.copy())

    history.observer = observe
    history.run(steps)
    fixed = np.flatnonzero(problem.layout.fixed[: 2 * model.n_nodes])
    deck = write_process_deck(folder / "strip.inp", model, mats, kinematics, 175.0, steps, fixed)
    proc = subprocess.run(["ccx", deck.stem], cwd=folder, capture_output=True, text=True, timeout=600)
    assert "ERROR" not in proc.stdout, proc.stdout[-2000:]
    theirs = read_dat_displacements(deck.with_suffix(".dat"), model.n_nodes)
    assert len(theirs) == len(steps)
    errors = [np.abs(u - v)[b].max() / np.abs(u).max() for u, v, b in zip(ours, theirs, built)]
    print(f"CalculiX vs History ({kinematics}), per step:", ", ".join(f"{e:.1e}" for e in errors))
    return errors


@needs_ccx
def test_three_layer_birth_and_removal_matches_calculix(strip, tmp_path):
    errors = cross_check(*strip, "plane_strain", STEPS, tmp_path)
    # measured 9.9e-8, 9.9e-8, 2.3e-7, 3.0e-7 (the .dat's 7 digits); c born without regard to its thermal
    # strain at 25 C would differ by 101 % at 125 C, c's nodes left where they were (no carrier) by 100 %
    assert max(errors) < 1e-3


@needs_ccx
def test_activation_at_a_temperature_and_a_dwell_axisymmetric(tmp_path):
    steps = [STEPS[0], {"kind": "activate", "regions": ["c"], "at_C": 100.0}, {"kind": "dwell", "duration_min": 5},
             {"kind": "ramp", "to_C": -40.0}, STEPS[3], STEPS[2]]
    assert max(cross_check(*_strip(half=True), "axisymmetric", steps, tmp_path)) < 1e-3  # measured 3.8e-5


def test_inelastic_materials_and_other_steps_are_refused(strip, tmp_path):
    model, mats = strip
    solder = make_material("solder", E_MPa=40e3, nu=0.35, alpha_per_K=22e-6,
                           plasticity={"yield_MPa": 30.0, "tangent_modulus_MPa": 1e3})
    steps = [parse_step({"kind": "ramp", "to_C": 25.0})]
    with pytest.raises(CaseError, match="for linear-elastic cases: region 'b' is solder.*process.sequence = \"none\""):
        write_process_deck(tmp_path / "x.inp", model, {**mats, "b": solder}, "plane_strain", 175.0, steps, [])
    with pytest.raises(CaseError, match=r"process step 2 \(cure b.*not cure"):
        write_process_deck(tmp_path / "x.inp", model, mats, "plane_strain", 175.0,
                           steps + [parse_step({"kind": "cure", "regions": ["b"]})], [])
    with pytest.raises(CaseError, match="region 'c' is not active"):
        write_process_deck(tmp_path / "x.inp", model, mats, "plane_strain", 175.0,
                           [parse_step(STEPS[3]), parse_step(STEPS[3])], [])


CASE = """
[case]
name = "layers"
[geometry]
mesh = "strip.msh"
warpage_surface = "bottom"
[materials]
a = "a"
b = "b"
c = "c"
{defines}
[process]
initial_C = 175.0
[[process.steps]]
kind = "ramp"
to_C = 25.0
[[process.steps]]
kind = "activate"
regions = ["c"]
[analysis]
kinematics = "plane_strain"
temperatures_C = [25]
"""


def test_export_case_writes_the_process_deck(tmp_path):
    layered_strip([(n, t) for n, t, *_ in LAYERS], L, nx=10, ny=1, path=tmp_path / "strip.msh")
    defines = "\n".join(f"[materials.define.{n}]\nE_MPa = {E}\nnu = {nu}\nalpha_per_K = {a}"
                        for n, _, E, nu, a in LAYERS)
    (tmp_path / "layers.toml").write_text(CASE.format(defines=defines))
    deck, = export_case(tmp_path / "layers.toml", tmp_path / "ccx")
    text = deck.read_text()
    assert "*MODEL CHANGE, TYPE=ELEMENT, ADD=STRAIN FREE\nE_c" in text and "ZERO=175" in text


def test_export_of_an_inelastic_process_case_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wlp.toml").write_text("""
[case]
name = "wlp"
[geometry]
family = "wlp_paste_plug"
[mesh]
size_mm = 0.1
board_size_mm = 0.3
[analysis]
kinematics = "plane_strain"
temperatures_C = [25]
""")
    with pytest.raises(CaseError, match=r"wlp.toml: \[package\] the CalculiX \*MODEL CHANGE export is for "
                                        r"linear-elastic cases: .*set process.sequence = \"none\""):
        export_case(tmp_path / "wlp.toml", tmp_path / "ccx")
