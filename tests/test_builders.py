"""Package builders: every claimed option meshes, areas match the analytic
shapes, mesh quality is as documented, invalid geometry is refused."""

import itertools
import math
import typing

import numpy as np
import pytest

from reliability.errors import GeometryError
from reliability.fem.geometry import region_area
from reliability.geometry import FAMILIES, build, parse_request
from reliability.geometry.ball import ball_joint
from reliability.mesh_quality import elements_crossed, min_angles_deg

COARSE = dict(size_mm=0.1, joint_size_mm=0.00625, board_size_mm=0.4, interface_layer_mm=0.025)
FINE = dict(size_mm=0.05, joint_size_mm=0.00625, board_size_mm=0.2, interface_layer_mm=0.025)


def make(family, options=None, dims=None, board=True, half=True, mesh=COARSE):
    return build(parse_request(family, options or {}, dims or {}, board, half, mesh, "test"))


def allowed_values(field):
    """The values a claimed option takes: a Literal's choices, or True/False for a flag."""
    return typing.get_args(field.annotation) or (True, False)


def option_grid(family):
    fields = FAMILIES[family].Options.model_fields
    values = [[(name, v) for v in allowed_values(f)] for name, f in fields.items()]
    return [dict(c) for c in itertools.product(*values)]


GRID = [(fam, opts) for fam in FAMILIES for opts in option_grid(fam)]


def test_option_grid_covers_every_claimed_option():
    for family, module in FAMILIES.items():
        fields = module.Options.model_fields
        for name, f in fields.items():  # every option is a choice or a flag, so the grid is finite and complete
            assert typing.get_origin(f.annotation) is typing.Literal or f.annotation is bool, (family, name)
        combos = [opts for fam, opts in GRID if fam == family]
        assert len(combos) == math.prod(len(allowed_values(f)) for f in fields.values())
        assert len({tuple(sorted(c.items())) for c in combos}) == len(combos)
        for name, f in fields.items():
            assert {c[name] for c in combos} == set(allowed_values(f)), (family, name)
        for c in combos:
            module.Options.model_validate(c)


EXPECTED_REGIONS = {
    "fan_out": {"die", "mold", "bump", "trace_1", "solder_mask"},
    "flip_chip_on_leads": {"die", "encapsulant", "bump", "lead"},
    "stacked_flip_chip": {"chip_1", "chip_2", "adhesive", "carrier_1", "carrier_2", "resin", "bump",
                          "ball_pad", "solder_mask"},
    "wlp_paste_plug": {"die", "insulation", "paste_plug", "ball_pad", "solder_mask"},
    "wlp_polyimide_land": {"die", "polyimide_1", "polyimide_2", "wiring"},
    "pbga": {"die", "die_attach", "substrate", "mold", "ball_pad", "solder_mask"},
}
OPTION_REGIONS = {
    ("rdl_layers", 2): {"dielectric", "via", "trace_2"},
    ("protective_layer", "polyimide"): {"protective"},
    ("protective_layer", "titanium"): {"protective"},
    ("protective_layer", "aluminium"): {"protective"},
    ("connection", "vias"): {"via"},
    ("connection", "traces"): {"trace"},
    ("bumps_in_windows", True): {"window_bump"},
    ("redistribution_layer", True): {"rdl_dielectric", "rdl_copper"},
}


@pytest.mark.parametrize("family,options", GRID, ids=[f"{f}-{'-'.join(map(str, o.values()))}" for f, o in GRID])
def test_every_option_combination_meshes_with_the_documented_regions(family, options):
    model = make(family, options, board=False)
    expected = set(EXPECTED_REGIONS[family])
    for item in options.items():
        expected |= OPTION_REGIONS.get(item, set())
    assert set(model.region_names) == expected
    assert {"bottom", "symmetry", "top"} <= set(model.boundaries)
    assert min_angles_deg(model).min() > 10.0


@pytest.mark.parametrize("family", list(FAMILIES))
def test_board_level_joints_named_from_the_centre_out(family):
    model = make(family)
    joints = model.info["joints"]
    names = [j["name"] for j in joints]
    assert names == [f"solder_{i}" for i in range(1, len(joints) + 1)]
    dnp = [j["dnp_mm"] for j in joints]
    assert dnp == sorted(dnp) and len(joints) >= 2
    for j in joints:
        assert j["name"] in model.region_names
        assert j["interface_package"] in model.boundaries and j["interface_board"] in model.boundaries
    assert {"board", "board_pad", "board_mask"} <= set(model.region_names)


def test_full_section_mirrors_the_half():
    half = make("wlp_paste_plug", board=True, half=True)
    full = make("wlp_paste_plug", board=True, half=False)
    assert len(full.info["joints"]) == 2 * len(half.info["joints"])
    assert "symmetry" not in full.boundaries
    for r in ("die", "insulation", "board"):
        assert abs(region_area(full, r) - 2 * region_area(half, r)) < 1e-9 * region_area(full, r)


# ---- areas against the analytic shapes (0.5 %) -------------------------------------------

def rel(a, b):
    return abs(a - b) / abs(b)


def test_fan_out_areas_match_the_parameters():
    fo = FAMILIES["fan_out"]
    d = fo.Dimensions()
    model = make("fan_out", {"backside": "encapsulated"}, mesh=FINE)
    W2, D2 = d.body_width / 2, d.die_width / 2
    assert rel(region_area(model, "die"), D2 * d.die_thickness) < 0.005
    # balls: the opening-confined part in the mask plus the truncated sphere below the mask
    y_pad = d.solder_mask_thickness - d.trace_thickness
    sphere = ball_joint(d.ball_diameter, d.solder_mask_opening / 2, 0.8 * d.ball_diameter / 2)
    ball = d.solder_mask_opening * y_pad + sphere.section_area(y_pad, sphere.h)
    for j in model.info["joints"]:
        assert rel(region_area(model, j["name"]), ball) < 0.005
    # mold: the body between its bottom and top minus die and bumps
    bump = fo.bump_outline("solder", d, 0.0, 0.0)[0][3].section_area()
    y_mold = d.solder_mask_thickness
    top = y_mold + d.solder_bump_height + d.die_thickness + d.mold_cap
    mold = W2 * (top - y_mold) - D2 * d.die_thickness - d.bump_rows * bump
    assert rel(region_area(model, "mold"), mold) < 0.005
    assert rel(region_area(model, "bump"), d.bump_rows * bump) < 0.005
    x_end = W2 + d.board_overhang
    assert rel(region_area(model, "board"), x_end * d.pcb_thickness) < 0.005
    pad = 0.8 * d.ball_diameter
    assert rel(region_area(model, "board_pad"), len(model.info["joints"]) * pad * d.board_pad_thickness) < 0.005


def test_flip_chip_on_leads_areas_match_the_parameters():
    d = FAMILIES["flip_chip_on_leads"].Dimensions()
    model = make("flip_chip_on_leads", mesh=FINE)
    W2, D2 = d.body_width / 2, d.die_width / 2
    assert rel(region_area(model, "die"), D2 * d.die_thickness) < 0.005
    # outer pad + half-etched bar (from the land inset to the pad) + inner pads
    bar_x0 = D2 - d.outer_land_inset - d.bump_land_diameter / 2 - 0.02
    lead = (d.exposed_length * d.leadframe_thickness
            + (W2 - d.exposed_length - bar_x0) * (d.leadframe_thickness - d.half_etch_depth)
            + d.inner_leads * d.lead_width * d.leadframe_thickness)
    assert rel(region_area(model, "lead"), lead) < 0.005
    widths = sorted([d.exposed_length] + [d.lead_width] * d.inner_leads)
    areas = sorted(region_area(model, j["name"]) for j in model.info["joints"])
    for a, w in zip(areas, widths):
        assert rel(a, w * d.board_joint_thickness) < 0.005


def test_wlp_areas_match_the_parameters():
    d = FAMILIES["wlp_paste_plug"].Dimensions()
    model = make("wlp_paste_plug", mesh=FINE)
    n = len(model.info["joints"])
    assert rel(region_area(model, "paste_plug"), n * d.window_diameter * 0.020) < 0.005
    assert rel(region_area(model, "ball_pad"), n * d.ball_pad_diameter * d.ball_pad_thickness) < 0.005
    d4 = FAMILIES["wlp_polyimide_land"].Dimensions()
    m4 = make("wlp_polyimide_land", mesh=FINE)
    L2 = d4.second_polyimide_thickness
    sphere = ball_joint(d4.ball_diameter, d4.ball_diameter / 2, 0.8 * d4.ball_diameter / 2)
    # the part of the sphere inside the third opening is clipped by its walls
    inside = 0.0
    n_steps = 2000
    for k in range(n_steps):
        depth = (k + 0.5) / n_steps * L2
        inside += 2 * min(sphere.half_width_at(depth), d4.ball_diameter / 2) * L2 / n_steps
    ball = inside + sphere.section_area(L2, sphere.h)
    for j in m4.info["joints"]:
        assert rel(region_area(m4, j["name"]), ball) < 0.005


def test_stacked_areas_match_the_parameters():
    d = FAMILIES["stacked_flip_chip"].Dimensions()
    model = make("stacked_flip_chip", mesh=FINE)
    C2 = d.chip_width / 2
    for r in ("chip_1", "chip_2"):
        assert rel(region_area(model, r), C2 * d.chip_thickness) < 0.005
    assert rel(region_area(model, "adhesive"), C2 * d.adhesive_thickness) < 0.005
    vias = model.info["vias_x_mm"]
    t_c = d.substrate_thickness
    height = 2 * t_c + 2 * d.bump_height + 2 * d.chip_thickness + d.adhesive_thickness
    assert rel(region_area(model, "via"), len(vias) * d.via_diameter * height) < 0.005


# ---- mesh quality ------------------------------------------------------------------------

def test_mesh_quality_and_elements_through_thin_layers():
    d = FAMILIES["fan_out"].Dimensions()
    x = 0.02  # between the die pads, away from the balls
    t_sm, t_d = d.solder_mask_thickness, d.dielectric_thickness
    sizes = {}
    for through in (1, 2):  # mesh.feature_elements: 1 (default) and the finer 2
        model = make("fan_out", {"rdl_layers": 2}, mesh={**FINE, "feature_elements": through})
        sizes[through] = model.n_elements
        angles = min_angles_deg(model)
        assert angles.min() > 15.0  # measured 21.4 and 26.9 degrees
        # a vertical line crosses two triangles per layer of elements: at least 2 x feature_elements
        # crossings through every film (measured 5 and 8 in the mask, 4 and 4 in the dielectric)
        assert elements_crossed(model, "solder_mask", x, 0.0, t_sm) >= 2 * through
        assert elements_crossed(model, "dielectric", x, t_sm, t_sm + t_d) >= 2 * through
        ball_pad_x = model.info["joints"][0]["x_mm"]
        assert elements_crossed(model, "trace_2", ball_pad_x, t_sm - d.second_trace_thickness, t_sm) >= 2 * through
        # at least 4 elements across the 0.025 mm interface layer of every joint, both pads, either way
        for j in model.info["joints"]:
            y_top = t_sm - d.second_trace_thickness
            y_bot = y_top - j["standoff_mm"]
            assert elements_crossed(model, j["name"], j["x_mm"], y_top - 0.025, y_top) >= 4
            assert elements_crossed(model, j["name"], j["x_mm"], y_bot, y_bot + 0.025) >= 4
    # the option is what sizes the films: 31,259 against 56,191 elements
    assert sizes[2] > 1.5 * sizes[1]


def test_exposed_and_encapsulated_differ_exactly_by_the_mold_cap():
    d = FAMILIES["fan_out"].Dimensions()
    exp = make("fan_out", {"backside": "exposed"}, board=False, mesh=FINE)
    enc = make("fan_out", {"backside": "encapsulated"}, board=False, mesh=FINE)
    cap = d.mold_cap * d.body_width / 2
    assert rel(region_area(enc, "mold") - region_area(exp, "mold"), cap) < 1e-6
    for r in exp.region_names:
        if r != "mold":
            assert rel(region_area(enc, r), region_area(exp, r)) < 1e-9
    assert abs((enc.info["package_top_y_mm"] - exp.info["package_top_y_mm"]) - d.mold_cap) < 1e-12
    assert exp.info["mold_cap_mm"] == 0.0


# ---- invalid geometry ----------------------------------------------------------------------

INVALID = [
    ("fan_out", {}, {"ball_pitch": 0.28}, "overlap"),
    ("fan_out", {}, {"balls_per_half": 12}, "exceed the body"),
    ("fan_out", {}, {"solder_mask_opening": 0.35}, "wider than its ball pad"),
    ("fan_out", {}, {"die_width": 9.0}, "not smaller than the body"),
    ("fan_out", {}, {"standoff": 0.4}, "cannot be reached"),
    ("wlp_paste_plug", {}, {"solder_mask_opening": 0.3}, "wider than its ball pad"),
    ("stacked_flip_chip", {}, {"chip_width": 8.5}, "not smaller than the body"),
    ("flip_chip_on_leads", {}, {"standoff": 0.1}, "cannot be reached"),
    ("wlp_polyimide_land", {}, {"first_opening": 0.09}, "wider than its chip pad"),
]


@pytest.mark.parametrize("family,options,dims,message", INVALID)
def test_invalid_geometry_is_refused(family, options, dims, message):
    with pytest.raises(GeometryError, match=message):
        make(family, options, dims)


@pytest.mark.parametrize("family,options,dims,message", [
    ("fan_out", {}, {"die_thickness": 0.0}, "geometry.dimensions_mm.die_thickness = 0.0: Input should be greater than 0"),
    ("fan_out", {}, {"die_thickness": -0.1}, "greater than 0"),
    ("flip_chip_on_leads", {"rdl_layers": 2}, {}, "unknown key 'geometry.rdl_layers'; allowed keys here: bump, protective_layer"),
    ("fan_out", {"bump": "copper_pillar"}, {}, "geometry.bump = 'copper_pillar'"),
    ("fan_out", {}, {"die_thikness": 0.2}, "unknown key 'geometry.dimensions_mm.die_thikness'"),
])
def test_bad_options_and_dimensions_name_the_key(family, options, dims, message):
    with pytest.raises(GeometryError) as err:
        make(family, options, dims)
    assert message in str(err.value)
