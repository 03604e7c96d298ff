"""Flip chip on leads: a QFN-like leadframe without a die paddle (claims 001).

Half section through a row of leads (package bottom, the warpage surface, at
y = 0; leads of thickness ``leadframe_thickness`` from y = 0):

* leads whose first (bottom) surfaces are exposed as terminals and whose
  second (top) surfaces carry bump lands (claims 1, 3, 4);
* the outer set: a pad portion at the package edge and a connecting bar,
  half-etched from below, running under the chip; the half-etched third
  surface is covered by the encapsulant and the bump land sits on the bar
  (claims 3, 7, 8, 9);
* ``inner_leads`` pad portions under the chip with their lands on the pad
  (claims 7, 8);
* bumps fused to the lands; the chip's active surface at the prescribed
  ``standoff`` above the lead tops (claims 1, 2, 4);
* optional protective layer on the lead tops except the lands:
  ``polyimide`` | ``titanium`` | ``aluminium`` (claims 5, 6);
* encapsulant over everything (claim 1).

Board level: each exposed lead bottom is soldered to a board pad by a
lead-wide solder joint of ``board_joint_thickness``.

Default dimensions: geometry.md, "flip_chip_on_leads".
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .ball import ball_from_standoff
from .board import BoardDimensions, add_board
from .shapes import BODY, BUMP, DIE, METAL, SOLDER, TOP, Joint, Layout

PROTECTIVE = {"polyimide": ("polyimide", 0.005), "titanium": ("titanium", 0.001), "aluminium": ("aluminium", 0.002)}
BUMP_MATERIAL = {"solder": "SAC305", "high_lead": "high-lead"}


class Options(pydantic.BaseModel):
    model_config = STRICT
    protective_layer: Literal["none", "polyimide", "titanium", "aluminium"] = "none"  # claims 5, 6
    bump: Literal["solder", "high_lead"] = "solder"


class Dimensions(BoardDimensions):
    """Flip chip on leads dimensions (mm); geometry.md defaults."""

    body_width: PositiveNumber = 5.0
    body_height: PositiveNumber = 0.85
    leadframe_thickness: PositiveNumber = 0.20
    half_etch_depth: PositiveNumber = 0.10  # claims 3, 9
    lead_width: PositiveNumber = 0.25
    exposed_length: PositiveNumber = 0.40  # outer pad portion
    inner_leads: int = pydantic.Field(1, ge=0, le=20)  # inner set (claim 8)
    lead_pitch: PositiveNumber = 0.50
    die_width: PositiveNumber = 3.0
    die_thickness: PositiveNumber = 0.20
    bump_diameter: PositiveNumber = 0.09
    standoff: PositiveNumber = 0.06  # claim 2: prescribed separation
    bump_land_diameter: PositiveNumber = 0.10
    die_pad_opening: PositiveNumber = 0.07  # (U)
    outer_land_inset: PositiveNumber = 0.15  # outer bump centre inside the die edge (U)
    protective_thickness: Optional[PositiveNumber] = None  # default per material: PI 0.005, Ti 0.001, Al 0.002
    board_joint_thickness: PositiveNumber = 0.05


def layout(opts: Options, d: Dimensions, board: bool) -> Layout:
    W2, D2, t_lf = d.body_width / 2, d.die_width / 2, d.leadframe_thickness
    if d.die_width >= d.body_width:
        raise GeometryError(f"die width {d.die_width:g} mm is not smaller than the body width {d.body_width:g} mm")
    if d.half_etch_depth >= t_lf:
        raise GeometryError("half-etch depth must be below the leadframe thickness")
    y_die = t_lf + d.standoff
    if y_die + d.die_thickness >= d.body_height:
        raise GeometryError(
            f"leadframe + stand-off + die ({y_die + d.die_thickness:g} mm) do not fit in the body height "
            f"{d.body_height:g} mm"
        )
    if d.standoff >= d.bump_diameter:
        raise GeometryError(
            f"stand-off {d.standoff:g} mm cannot be reached by a bump of diameter {d.bump_diameter:g} mm"
        )
    lay = Layout(family="flip_chip_on_leads", package_x=W2)
    pad_x0 = W2 - d.exposed_length
    land = d.bump_land_diameter
    x_outer_land = D2 - d.outer_land_inset
    bar_x0 = x_outer_land - land / 2 - 0.02
    if bar_x0 >= pad_x0:
        raise GeometryError("the die does not reach over the connecting bars: widen the die or lengthen the leads")
    # outer lead: full-thickness pad portion at the edge, half-etched connecting bar under the chip
    lay.rect("lead", pad_x0, 0.0, W2, t_lf, METAL, "copper-c194")
    lay.rect("lead", bar_x0, d.half_etch_depth, pad_x0, t_lf, METAL, "copper-c194")
    lands = [x_outer_land]
    exposed = [(pad_x0 + d.exposed_length / 2, d.exposed_length)]
    tops = [(bar_x0, W2)]
    for k in range(d.inner_leads):
        x = x_outer_land - (k + 1) * d.lead_pitch
        if x - d.lead_width / 2 <= 0.0:
            raise GeometryError(f"{d.inner_leads} inner leads at {d.lead_pitch:g} mm pitch do not fit under the die")
        lay.rect("lead", x - d.lead_width / 2, 0.0, x + d.lead_width / 2, t_lf, METAL, "copper-c194")
        lands.append(x)
        exposed.append((x, d.lead_width))
        tops.append((x - d.lead_width / 2, x + d.lead_width / 2))
    if d.lead_width < land:
        raise GeometryError(f"bump land {land:g} mm is wider than the lead {d.lead_width:g} mm")

    # bumps fused to the lands, chip at the prescribed stand-off (claim 2)
    bump = ball_from_standoff(d.standoff, d.die_pad_opening / 2, land / 2)
    if bump.max_width >= d.lead_pitch:
        raise GeometryError("bumps overlap: reflowed bump wider than the lead pitch")
    for x in lands:
        lay.add("bump", ("ball", x, y_die, bump), BUMP, BUMP_MATERIAL[opts.bump])
    lay.rect("die", 0.0, y_die, D2, y_die + d.die_thickness, DIE, "silicon")

    if opts.protective_layer != "none":
        material, t_default = PROTECTIVE[opts.protective_layer]
        t = d.protective_thickness or t_default
        if t >= d.standoff:
            raise GeometryError("protective layer thicker than the chip stand-off")
        gaps = [(x - land / 2, x + land / 2) for x in lands]
        for x0, x1 in tops:
            lay.segmented("protective", x0, x1, t_lf, t_lf + t, gaps, TOP, material)
        lay.info["protective_thickness_mm"] = t
    lay.rect("encapsulant", 0.0, 0.0, W2, d.body_height, BODY, "emc-low-cte")
    lay.package_bottom_y, lay.package_top_y = 0.0, d.body_height

    if board:
        t_j = d.board_joint_thickness
        for x, w in exposed:
            joint = Joint(x=x, y_top=0.0, y_bottom=-t_j, pad_top_mm=w, pad_bottom_mm=w)
            lay.joint_shape(joint, ("rect", x - w / 2, -t_j, x + w / 2, 0.0), SOLDER, "SAC305")
        add_board(lay, exposed, -t_j, d)
    lay.info.update(die_half_width_mm=D2, bump_standoff_mm=d.standoff, lands_x_mm=lands)
    return lay
