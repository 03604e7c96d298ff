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
