"""Fan-out package: a bumped chip in an encapsulation body (claims 000).

Half section, bottom to top (package bottom, the warpage surface, at y = 0):

* solder mask (claim 1) with openings over the ball pads; the ball pads are
  the exposed portions of the traces (claims 7, 8: terminals), solder-mask
  defined, so the opening is narrower than the pad;
* ``rdl_layers = 1``: the first traces lie on the mold surface and carry the
  ball pads (claim 1);
  ``rdl_layers = 2``: a dielectric on the first traces with vias, and second
  traces carrying the ball pads under the mask (claims 2, 15);
* the encapsulation body (mold) whose bottom surface is flush with the ends of
  the conductive bumps (claims 1, 10);
* the chip, active surface down, on its bumps (claim 1);
* die backside ``exposed`` - ground flush with the mold top (claims 3, 4, 11,
  17) - or ``encapsulated`` under a mold cap;
* bump ``solder`` | ``high_lead`` (truncated spheres ground flat at the mold
  surface), ``gold`` (plated, rectangular) or ``gold_stud`` (coined two-tier
  stud) (claims 5, 6, 12, 18).

In a 2D section the traces are modelled by their copper at the pads, bump
landings and vias; the routing between them, narrow and out of the section
plane, is not represented (a stiffness the section cannot carry).

Default dimensions: geometry.md, "fan_out".
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .ball import ball_from_standoff
from .board import BoardDimensions, add_balls_and_board, ball_positions, check_row
from .shapes import BODY, BUMP, DIE, LAYER, METAL, Layout

BUMP_MATERIAL = {"solder": "SAC305", "high_lead": "high-lead", "gold": "gold", "gold_stud": "gold"}


class Options(pydantic.BaseModel):
    """Claimed options of the fan-out family."""

    model_config = STRICT
    backside: Literal["exposed", "encapsulated"] = "exposed"  # claims 3, 4, 11, 17
    rdl_layers: Literal[1, 2] = 1  # claims 2, 15: dielectric + vias + second traces
    bump: Literal["solder", "high_lead", "gold", "gold_stud"] = "solder"  # claims 5, 6, 12, 18


class Dimensions(BoardDimensions):
    """Fan-out dimensions (mm); geometry.md defaults."""

    body_width: PositiveNumber = 8.0
    die_width: PositiveNumber = 5.0
    die_thickness: PositiveNumber = 0.30
    mold_cap: PositiveNumber = 0.15  # over the die backside when encapsulated
    die_pad_pitch: PositiveNumber = 0.20
    die_pad_opening: PositiveNumber = 0.08
    bump_rows: int = pydantic.Field(4, ge=1, le=50)  # peripheral bumps per half section
    solder_bump_diameter: PositiveNumber = 0.10
    solder_bump_height: PositiveNumber = 0.07
    gold_bump_width: PositiveNumber = 0.06
    gold_bump_height: PositiveNumber = 0.02
    stud_bump_diameter: PositiveNumber = 0.06
    stud_bump_height: PositiveNumber = 0.05
    trace_thickness: PositiveNumber = 0.005
    trace_width: PositiveNumber = 0.02
    dielectric_thickness: PositiveNumber = 0.007
    via_diameter: PositiveNumber = 0.03
    second_trace_thickness: PositiveNumber = 0.005
    solder_mask_thickness: PositiveNumber = 0.020
    solder_mask_opening: PositiveNumber = 0.25
    ball_pad_diameter: PositiveNumber = 0.30  # solder-mask defined: wider than the opening (U)
    ball_diameter: PositiveNumber = 0.30
    ball_pitch: PositiveNumber = 0.50
    balls_per_half: Optional[int] = pydantic.Field(None, ge=1, le=200)  # default: as many as fit
    standoff: Optional[PositiveNumber] = None  # default: from the ball volume


def bump_outline(bump: str, d: Dimensions, x: float, y_bottom: float) -> tuple[tuple, float]:
    """Outline of one bump standing on the mold surface ``y_bottom``; returns (outline, height)."""
    if bump in ("solder", "high_lead"):
        h = d.solder_bump_height
        a1 = d.die_pad_opening / 2
        R = d.solder_bump_diameter / 2
        if a1 >= R:
            raise GeometryError(
                f"die pad opening {d.die_pad_opening:g} mm is not narrower than the bump diameter "
                f"{d.solder_bump_diameter:g} mm"
            )
        z1 = (R**2 - a1**2) ** 0.5
        if h >= z1 + R:
            raise GeometryError(f"solder bump height {h:g} mm exceeds what a {2 * R:g} mm bump can reach")
        a2 = (R**2 - (h - z1) ** 2) ** 0.5
        return ("ball", x, y_bottom + h, ball_from_standoff(h, a1, a2)), h
    if bump == "gold":
        w, h = d.gold_bump_width, d.gold_bump_height
        return ("rect", x - w / 2, y_bottom, x + w / 2, y_bottom + h), h
    # coined stud: the wide ball on the die pad (top), the narrow coined tail on the trace (bottom)
    w, h = d.stud_bump_diameter, d.stud_bump_height
    t = w / 4
    y_step = y_bottom + 0.4 * h
    pts = [(x - t, y_bottom), (x + t, y_bottom), (x + t, y_step), (x + w / 2, y_step),
           (x + w / 2, y_bottom + h), (x - w / 2, y_bottom + h), (x - w / 2, y_step), (x - t, y_step)]
    return ("poly", pts), h


def layout(opts: Options, d: Dimensions, board: bool) -> Layout:
    W2, D2 = d.body_width / 2, d.die_width / 2
    if d.die_width >= d.body_width:
        raise GeometryError(f"die width {d.die_width:g} mm is not smaller than the body width {d.body_width:g} mm")
    if d.solder_mask_opening > d.ball_pad_diameter:
        raise GeometryError(
            f"solder mask opening {d.solder_mask_opening:g} mm is wider than its ball pad "
            f"{d.ball_pad_diameter:g} mm (solder-mask-defined pads need opening <= pad)"
        )
    if d.via_diameter >= d.ball_pad_diameter:
        raise GeometryError("via diameter must be smaller than the ball pad")
    lay = Layout(family="fan_out", package_x=W2)
    t_sm = d.solder_mask_thickness
    xs = ball_positions(W2, d.ball_pitch, d.ball_pad_diameter, d.balls_per_half)

    # terminal level: ball pads embedded in the top of the solder mask, openings below them
    t_pad = d.trace_thickness if opts.rdl_layers == 1 else d.second_trace_thickness
    if t_pad >= t_sm:
        raise GeometryError("ball pad (trace) thickness must be below the solder mask thickness")
    open_gaps = [(x - d.solder_mask_opening / 2, x + d.solder_mask_opening / 2) for x in xs]
    lay.segmented("solder_mask", 0.0, W2, 0.0, t_sm, open_gaps + [(-b, -a) for a, b in open_gaps],
                  LAYER, "solder-mask")
    pad_region = "trace_1" if opts.rdl_layers == 1 else "trace_2"
    for x in xs:
        lay.rect(pad_region, x - d.ball_pad_diameter / 2, t_sm - t_pad, x + d.ball_pad_diameter / 2, t_sm,
                 METAL, "copper")
    y_mold = t_sm
    if opts.rdl_layers == 2:
        t_d, t1 = d.dielectric_thickness, d.trace_thickness
        if t1 >= t_d:
            raise GeometryError("first trace thickness must be below the dielectric thickness")
        lay.rect("dielectric", 0.0, t_sm, W2, t_sm + t_d, LAYER, "polyimide")
        for x in xs:
            lay.rect("via", x - d.via_diameter / 2, t_sm, x + d.via_diameter / 2, t_sm + t_d - t1, METAL, "copper")
            lay.rect("trace_1", x - d.ball_pad_diameter / 2, t_sm + t_d - t1, x + d.ball_pad_diameter / 2,
                     t_sm + t_d, METAL, "copper")
        y_mold = t_sm + t_d

    # bumps on the die pads, flush with the mold bottom; first-trace landing under each
    bumps_x = [D2 - d.die_pad_pitch / 2 - k * d.die_pad_pitch for k in range(d.bump_rows)]
    if bumps_x[-1] <= 0:
        raise GeometryError(f"{d.bump_rows} bump rows at {d.die_pad_pitch:g} mm pitch do not fit on the die")
    bump_h = 0.0
    for x in bumps_x:
        outline, bump_h = bump_outline(opts.bump, d, x, y_mold)
        lay.add("bump", outline, BUMP, BUMP_MATERIAL[opts.bump])
        land = max(d.trace_width, d.die_pad_opening)
        lay.rect("trace_1", x - land / 2, y_mold - d.trace_thickness, x + land / 2, y_mold, METAL, "copper")
    if d.die_pad_pitch <= max(d.solder_bump_diameter if opts.bump in ("solder", "high_lead") else
                              d.gold_bump_width if opts.bump == "gold" else d.stud_bump_diameter, 0):
        raise GeometryError("bumps overlap: die pad pitch is not larger than the bump width")

    y_die = y_mold + bump_h
    y_die_top = y_die + d.die_thickness
    y_top = y_die_top + (d.mold_cap if opts.backside == "encapsulated" else 0.0)
    lay.rect("die", 0.0, y_die, D2, y_die_top, DIE, "silicon")
    lay.rect("mold", 0.0, y_mold, W2, y_top, BODY, "emc-low-cte")
    lay.package_bottom_y, lay.package_top_y = 0.0, y_top

    if board:
        sphere = add_balls_and_board(lay, xs, t_sm - t_pad, d.solder_mask_opening, d.ball_diameter, d,
                                     d.standoff)
        check_row(xs, d.ball_pitch, sphere.max_width, W2)
    else:
        check_row(xs, d.ball_pitch, d.ball_pad_diameter, W2, "ball pads")
    lay.info.update(die_half_width_mm=D2, bump_rows=d.bump_rows, bump_height_mm=bump_h,
                    mold_cap_mm=y_top - y_die_top)
    return lay
