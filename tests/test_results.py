"""The one flattening of summary.json: compare, sweep and report read the same keys."""

import math

from reliability.results import METRICS, Run, metric_of, metrics, table
from reliability.sweep import key_outputs

SUMMARY = {
    "temperatures": [
        {"T_C": -40.0, "warpage_um": 12.5, "coplanarity_um": 13.0, "assembly_warpage_um": 7.0,
         "von_mises_max_MPa": {"die": 80.0, "solder_1": 40.0}},
        {"T_C": 125.0, "warpage_um": -3.0, "coplanarity_um": 3.5, "assembly_warpage_um": None,
         "von_mises_max_MPa": {"die": 90.0, "solder_1": 30.0}},
    ],
    "cycling": {
        "critical_joint": {"name": "solder_1", "interface": "board", "dnp_mm": 1.5, "dW_MPa": 0.25,
                           "life": {"darveaux": {"available": True, "N63_2_cycles": 3000.0, "N1_cycles": 1400.0},
                                    "syed": {"available": False, "reason": "no constants"},
                                    "engelmaier": {"available": True, "N63_2_cycles": math.inf,
                                                   "N1_cycles": math.inf}}},
        "joints": [{"name": "solder_1", "cycles": [{"inelastic_strain_board": 0.02},
                                                   {"inelastic_strain_board": 0.01}]}],
    },
}


def test_metrics_have_one_spelling_in_table_order():
    assert list(metrics(SUMMARY).items()) == [
        ("warpage_um@-40C", 12.5), ("coplanarity_um@-40C", 13.0), ("assembly_warpage_um@-40C", 7.0),
        ("warpage_um@125C", -3.0), ("coplanarity_um@125C", 3.5), ("assembly_warpage_um@125C", None),
        ("von_mises_max_MPa[die]", 90.0), ("von_mises_max_MPa[solder_1]", 40.0),
        ("critical_joint", "solder_1 (board)"), ("critical_dnp_mm", 1.5), ("dW_critical_MPa_per_cycle", 0.25),
        ("inelastic_strain_per_cycle_critical", 0.01),
        ("life_N63.2_cycles[darveaux]", 3000.0), ("life_N1%_cycles[darveaux]", 1400.0),
        ("life_N63.2_cycles[engelmaier]", math.inf), ("life_N1%_cycles[engelmaier]", math.inf),
    ]


def test_sweep_key_outputs_are_the_key_metrics_with_the_same_keys_and_values():
    full, key = metrics(SUMMARY), key_outputs(SUMMARY)
    assert key == {k: v for k, v in full.items() if metric_of(k).key}
    assert set(key) == {"warpage_um@-40C", "warpage_um@125C", "assembly_warpage_um@-40C", "assembly_warpage_um@125C",
                        "critical_joint", "dW_critical_MPa_per_cycle", "life_N63.2_cycles[darveaux]",
                        "life_N63.2_cycles[engelmaier]"}


def test_every_key_names_its_metric_and_other_columns_none():
    for k in metrics(SUMMARY):
        assert metric_of(k) in METRICS, k
    for column in ("case", "status", "geometry.dimensions_mm.die_thickness", "materials.mold"):
        assert metric_of(column) is None
    assert len({m.name for m in METRICS}) == len(METRICS)


def test_no_cycling_block_gives_only_the_elastic_metrics():
    summary = {"temperatures": SUMMARY["temperatures"][:1]}
    assert list(metrics(summary)) == ["warpage_um@-40C", "coplanarity_um@-40C", "assembly_warpage_um@-40C",
                                      "von_mises_max_MPa[die]", "von_mises_max_MPa[solder_1]"]


def test_table_ratios_against_the_first_run():
    other = {"temperatures": [dict(SUMMARY["temperatures"][0], warpage_um=25.0)]}
    header, rows = table([Run("a.toml", "a", "a", SUMMARY, True), Run("b.toml", "b", "b", other, True)])
    assert header == ["metric", "a", "b", "b / a"]
    by = {r[0]: r[1:] for r in rows}
    assert by["warpage_um@-40C"] == [12.5, 25.0, 2.0]
    assert by["warpage_um@125C"] == [-3.0, None, None]
    assert by["critical_joint"] == ["solder_1 (board)", None, None]


def test_a_section_and_its_quarter_3d_twin_compare_on_the_centre_line():
    """A section's warpage is a centre-line value; a quarter_3d run's warpage_um is full-surface (B112) and
    its centre line a separate key: the centre-line row compares the two directly, the compare guard lets a
    quarter_3d twin (no cycling yet) stand beside a cycling section case."""
    from pathlib import Path

    from reliability.compare import check_comparable

    section = {"temperatures": [{"T_C": 25.0, "warpage_um": 32.66, "coplanarity_um": 32.66,
                                 "von_mises_max_MPa": {"die": 1.0}}],
               "cycling": {"profile": {"t_min_C": -40, "t_max_C": 125}}}
    quarter = {"analysis": {"model": "quarter_3d"},
               "temperatures": [{"T_C": 25.0, "warpage_um": 51.76, "warpage_centre_line_um": 25.91,
                                 "coplanarity_um": 51.76, "von_mises_max_MPa": {"die": 2.0}}]}
    assert "warpage_centre_line_um@25C" not in metrics(section)  # alone, a section has no such row
    assert metrics(quarter)["warpage_centre_line_um@25C"] == 25.91 and metrics(quarter)["warpage_um@25C"] == 51.76
    runs = [Run(Path("a.toml"), "a", Path("a"), section, True), Run(Path("b.toml"), "b", Path("b"), quarter, True)]
    check_comparable(runs)  # no error: the 3D twin has no cycling block
    header, rows = table(runs)
    row = next(r for r in rows if r[0] == "warpage_centre_line_um@25C")
    assert math.isclose(row[3], 25.91 / 32.66, rel_tol=1e-12)
