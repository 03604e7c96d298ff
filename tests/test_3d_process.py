"""Process history in 3D: element birth, removal and cure shrinkage on InelasticProblem3D against linear solves.

Each check reduces a history to a linear thermo-elastic problem whose answer is known independently
(the 3D linear solve, itself checked against Timoshenko and the N-layer laminate in test_3d.py):
- a layer born at T_b on a free substrate carries the bilayer stresses of a body stress-free at T_b
  (the substrate's free expansion before adds no stress, and moves its nodes by exactly that expansion);
- the same with the born layer inelastic (bilinear, in its elastic range): the shifted strains of
  inelastic points;
- removing the layer leaves the free substrate stress-free;
- a cure shrinkage s of one layer over a layer with no thermal expansion equals cooling by s / alpha.
"""

from __future__ import annotations

import numpy as np
import pytest

from closed_form import CU, SI
from conftest import make_material


def bilayer(bottom="cu", top="si"):
    from reliability.fem.mesh3d import layered_box

    return layered_box(5.0, 5.0, [(bottom, 0.3), (top, 0.3)], 6, 6, 2)


def history_problem(model, mats, initial_C, born_later, tol=1e-11):
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.analysis.thermoelastic3d import quarter_supports
    from reliability.process.history import History, persistent_nodes

    keep = persistent_nodes(model, set(born_later))
    p = InelasticProblem3D(model, mats, initial_C, fixed=quarter_supports(model, candidates=keep), tol=tol)
    return p, History(p, initial_C, set(born_later))


def test_a_layer_born_on_the_deformed_substrate_carries_the_stresses_of_its_birth_temperature():
    from reliability.analysis.thermoelastic3d import ThermoElasticProblem3D, quarter_supports
    from reliability.process.steps import Activate, Ramp

    model = bilayer()
    mats = {"cu": make_material("cu", **CU), "si": make_material("si", **SI)}
    ref = ThermoElasticProblem3D(model, mats, 100.0).solve(0.0)
    p, h = history_problem(model, mats, 150.0, ["si"])
    end = h.run([Ramp(to_C=100.0), Activate(regions=["si"]), Ramp(to_C=0.0)])
    sig = p.stress_field(end)
    assert np.abs(sig - ref.stress).max() < 1e-7 * np.abs(ref.stress).max()  # measured 1.8e-9
    # the copper's nodes: its free contraction 150 -> 100 C about the support, then the bilayer's bending
    z0 = model.nodes[np.flatnonzero(quarter_supports(model).reshape(-1, 3)[:, 2])[0], 2]
    free = CU["alpha_per_K"] * (100.0 - 150.0) * (model.nodes - np.array([0.0, 0.0, z0]))
    cu = np.unique(model.elements[model.element_region == model.region_index("cu")])
    du = (end.u.reshape(-1, 3) - free - ref.u)[cu]
    assert np.abs(du).max() < 1e-7 * np.abs(ref.u).max()  # measured 8e-10
    # removing the silicon again: the free copper is stress-free (E alpha dT = 306 MPa)
    h.step_label = "removal"
    h.deactivate(["si"])
    left = p.stress_field(h.state)[model.element_region == model.region_index("cu")]
    assert np.abs(left).max() < 1e-7 * 120000.0 * 17e-6 * 150.0  # measured 1.2e-8 MPa
    assert not h.state.birth.active[model.element_region == model.region_index("si")].any()


def test_an_inelastic_layer_born_later_sees_only_the_strain_since_its_birth():
    from reliability.analysis.thermoelastic3d import ThermoElasticProblem3D
    from reliability.process.steps import Activate, Ramp

    model = bilayer("si", "cu")
    elastic = {"cu": make_material("cu", **CU), "si": make_material("si", **SI)}
    # bilinear copper far below its yield (1e5 MPa): the path of an inelastic group, the answer elastic
    mats = {"cu": make_material("cu", **CU, plasticity={"yield_MPa": 1e5, "tangent_modulus_MPa": 1200.0}),
            "si": elastic["si"]}
    ref = ThermoElasticProblem3D(model, elastic, 100.0).solve(0.0)
    p, h = history_problem(model, mats, 150.0, ["cu"])
    assert len(p.groups) == 1
    end = h.run([Ramp(to_C=100.0), Activate(regions=["cu"]), Ramp(to_C=0.0)])
    assert np.abs(p.stress_field(end) - ref.stress).max() < 1e-7 * np.abs(ref.stress).max()  # measured 5e-10


def test_cure_shrinkage_equals_cooling_by_shrinkage_over_alpha():
    from reliability.analysis.thermoelastic3d import ThermoElasticProblem3D
    from reliability.process.steps import Cure

    s, alpha = 0.002, 20e-6
    model = bilayer("sub", "poly")
    sub = make_material("sub", E_MPa=130000.0, nu=0.28, alpha_per_K=0.0)
    poly = make_material("poly", E_MPa=8000.0, nu=0.35, alpha_per_K=alpha)
    cured = make_material("poly", E_MPa=8000.0, nu=0.35, alpha_per_K=alpha, cure_shrinkage_linear=s)
    ref = ThermoElasticProblem3D(model, {"sub": sub, "poly": poly}, 25.0).solve(25.0 - s / alpha)
    p, h = history_problem(model, {"sub": sub, "poly": cured}, 25.0, [])
    end = h.run([Cure(regions=["poly"], duration_min=30.0)])
    assert np.abs(p.stress_field(end) - ref.stress).max() < 1e-7 * np.abs(ref.stress).max()
    assert np.abs(end.u - ref.u.ravel()).max() < 1e-7 * np.abs(ref.u).max()


def test_a_support_on_a_region_built_later_is_refused():
    from reliability.analysis.inelastic3d import InelasticProblem3D
    from reliability.errors import CaseError
    from reliability.process.history import History
    from reliability.process.steps import Activate, Ramp

    model = bilayer("mask", "si")  # the default support holds the lowest node: in the mask, built later
    mats = {"mask": make_material("mask", **CU), "si": make_material("si", **SI)}
    p = InelasticProblem3D(model, mats, 150.0)
    with pytest.raises(CaseError, match=r"a support holds the node at \(0, 0, 0\) mm"):
        History(p, 150.0, {"mask"}).run([Ramp(to_C=100.0), Activate(regions=["mask"])])


QUARTER = """[case]
name = "q3p"
[geometry]
family = "fan_out"
model = "quarter_3d"
backside = "exposed"
[analysis]
temperatures_C = [-40, 25, 217]
[mesh]
size_mm = 0.5
"""


def test_a_quarter_history_of_one_ramp_equals_the_stress_free_solve(tmp_path):
    """Every region there from 217 C, cooled: the history's rows are the one-stress-free-temperature run's."""
    from reliability.run import run_case

    one = tmp_path / "one.toml"
    one.write_text((QUARTER + '[process]\nsequence = "none"\n[output]\nplots = false\nvtu = false\n')
                   .replace("[analysis]\n", "[analysis]\nstress_free_temperature_C = 217\n", 1))
    ramp = tmp_path / "ramp.toml"
    ramp.write_text(QUARTER + '[process]\ninitial_C = 217\nreflow_curve = false\n[[process.steps]]\nkind = "ramp"\n'
                    'to_C = 25\n[output]\nplots = false\nvtu = false\n')
    want = {r["T_C"]: r for r in run_case(one, tmp_path / "o1", progress=False)["temperatures"]}
    got = run_case(ramp, tmp_path / "o2", progress=False)
    assert got["analysis"]["stress_free_state"].startswith("the steps process history")
    for r in got["temperatures"]:
        w = want[r["T_C"]]
        for key in ("warpage_um", "warpage_centre_line_um", "warpage_centre_to_corner_um"):
            assert r[key] == pytest.approx(w[key], rel=1e-7, abs=1e-9), (r["T_C"], key)
        for region, vm in w["von_mises_max_MPa"].items():
            assert r["von_mises_max_MPa"][region] == pytest.approx(vm, rel=1e-7)


def test_the_claimed_sequence_of_a_free_quarter(tmp_path):
    """The fan-out's claimed steps on the regions the quarter has; the mask is born at its 150 C cure on the
    body as deformed, so the package is not flat at the solder's solidus (217 C) any more."""
    from reliability.run import run_case

    case = tmp_path / "c.toml"
    case.write_text(QUARTER + "[output]\nvtu = false\n")
    s = run_case(case, tmp_path / "o", progress=False)
    steps = s["process"]["steps"]
    assert [st["kind"] for st in steps] == ["cure", "activate", "ramp", "reflow"]
    assert steps[1]["T_C"] == 150.0 and steps[1]["von_mises_max_MPa"]["solder_mask"] == 0.0  # born strain-free
    assert s["process"]["sections"]["package"]["initial_C"] == 175.0
    rows = {r["T_C"]: r for r in s["temperatures"]}
    # size 0.5 mm; measured at 0.2 mm (cases/fan_out_exposed_3d_process.toml): -9.45, 38.07, 46.12 um
    assert -14.0 < rows[217.0]["warpage_um"] < -6.0
    assert 30.0 < rows[25.0]["warpage_um"] < 46.0
    assert rows[-40.0]["warpage_um"] > rows[25.0]["warpage_um"]
    assert rows[25.0]["warpage_um"] == pytest.approx(steps[2]["warpage_um"], rel=1e-6)  # the process's end
    curve = s["process"]["warpage_vs_temperature"]
    assert curve["points"][0]["T_C"] == 25.0 and "3D" in curve["section_bias"]
    assert "process history" in s["analysis"]["basis"]
    for name in ("process_steps_warpage.png", "reflow_warpage_curve.png", "bottom_height_Tp25C.png"):
        assert (tmp_path / "o" / "plots" / name).is_file()


def test_a_submodel_run_still_refuses_a_process(tmp_path):
    from reliability.case import load_case
    from reliability.errors import CaseError

    case = tmp_path / "b.toml"
    case.write_text(QUARTER.replace('backside = "exposed"', 'backside = "exposed"\nboard = true')
                    + '[analysis.cycling]\njedec = "G"\n[mesh.submodel]\n')
    with pytest.raises(CaseError, match=r"a \[mesh.submodel\] run has no process history yet"):
        load_case(case)


@pytest.mark.skipif(__import__("shutil").which("ccx") is None, reason="CalculiX (ccx) is not installed")
def test_a_3d_birth_and_removal_matches_calculix(tmp_path):
    """The three-layer history of tests/test_calculix_process.py on a 3D quarter plate (C3D10, *MODEL CHANGE):
    a and b stress-free at 175 C, cooled to 25 C, c born there on the bent plate, heated to 125 C, c removed.
    After every step our displacements agree with CalculiX's within 0.1 % (max norm over the nodes built so
    far, relative to our largest)."""
    import subprocess

    from reliability.export.calculix3d import read_dat_displacements3d
    from reliability.export.calculix_process import write_process_deck
    from reliability.fem.mesh3d import layered_box
    from reliability.process.steps import parse_step

    model = layered_box(4.0, 4.0, [("a", 0.3), ("b", 0.2), ("c", 0.2)], 6, 6, 2)
    mats = {"a": make_material("a", **SI), "b": make_material("b", **CU),
            "c": make_material("c", E_MPa=20000.0, nu=0.3, alpha_per_K=40e-6)}
    steps = [parse_step(s) for s in ({"kind": "ramp", "to_C": 25.0}, {"kind": "activate", "regions": ["c"]},
                                     {"kind": "ramp", "to_C": 125.0}, {"kind": "deactivate", "regions": ["c"]})]
    p, h = history_problem(model, mats, 175.0, ["c"])
    ours, built = [], []
    seen = np.zeros(model.n_nodes, dtype=bool)

    def observe(i, step, hist):
        ours.append(hist.state.u.reshape(-1, 3).copy())
        seen[model.elements[hist.state.birth.active].ravel()] = True
        built.append(seen.copy())

    h.observer = observe
    h.run(steps)
    deck = write_process_deck(tmp_path / "plate.inp", model, mats, "3d", 175.0, steps,
                              np.flatnonzero(p.held_by_component().ravel()))
    proc = subprocess.run(["ccx", deck.stem], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert "ERROR" not in proc.stdout, proc.stdout[-2000:]
    theirs = read_dat_displacements3d(deck.with_suffix(".dat"), model.n_nodes)
    assert len(theirs) == len(steps)
    errors = [np.abs(u - v)[b].max() / np.abs(u).max() for u, v, b in zip(ours, theirs, built)]
    print("CalculiX vs History (3D), per step:", ", ".join(f"{e:.1e}" for e in errors))
    assert max(errors) < 1e-3


def test_export_ccx_of_a_quarter_process_case(tmp_path):
    """A quarter case's own birth steps give the C3D10 *MODEL CHANGE deck; the claimed sequence's cure and
    reflow steps (no CalculiX equivalent here) are refused in one line."""
    from reliability.case import load_case
    from reliability.errors import CaseError
    from reliability.export.calculix3d import export_case3d

    own = tmp_path / "own.toml"
    own.write_text(QUARTER + '[process]\ninitial_C = 175\n[[process.steps]]\nkind = "activate"\nat_C = 150\n'
                   'regions = ["solder_mask"]\n[[process.steps]]\nkind = "ramp"\nto_C = 25\n')
    text = export_case3d(load_case(own))(tmp_path / "deck")[0].read_text()
    assert "TYPE=C3D10" in text and "ADD=STRAIN FREE\nE_solder_mask" in text and "ZERO=175" in text
    claimed = tmp_path / "claimed.toml"
    claimed.write_text(QUARTER)
    with pytest.raises(CaseError, match=r"^[^\n]*not cure$"):
        export_case3d(load_case(claimed))(tmp_path / "deck2")


def test_the_process_command_lists_the_quarters_own_steps(tmp_path, capsys):
    from reliability.cli import main

    case = tmp_path / "c.toml"
    case.write_text(QUARTER)
    assert main(["process", str(case)]) == 0
    out = capsys.readouterr().out
    assert "[package, 3D quarter] claimed sequence: mold, die exist from the start, stress-free at 175 C" in out
    assert "activate solder_mask at 150 C" in out and "trace_1" not in out and "[assembly]" not in out
