"""Wafer-level package with a polyimide ball land (claims 004).

Half section, bottom to top (package bottom, the warpage surface, at y = 0):

* the second polyimide (insulating) layer covering the metal wiring, with a
  third opening exposing the ball land (claims 1, 2, 12, 20);
* the metal wiring, one piece from the chip pad through the first opening,
  along the first polyimide and into the second opening, where it forms the
  ball land (claims 1, 12, 20);
* the first polyimide with the first opening over the chip pad and the
  second opening forming the ball-land recess (claims 1, 2, 12, 20);
* the chip (die = body), chip pads on its active side, facing down;
* the ball on the land, touching the sides of the third opening
  (claims 1, 12, 20).

Width relations (``third_opening``): ``ball_width`` makes the third opening
essentially the ball's width (claims 3, 18); ``wider_than_land`` makes it
wider than the second opening by ``third_opening_margin`` on each side
(claims 17, 24).  ``second_opening`` sets the land (claim 25 takes it near
the ball width).  The wiring fills the openings in the 2D section (a 5 um
liner in a 6 um recess).

Default dimensions: geometry.md, "wlp_polyimide_land".
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .board import BoardDimensions, add_balls_and_board, ball_positions, check_row
from .shapes import DIE, LAYER, METAL, Layout


class Options(pydantic.BaseModel):
    model_config = STRICT
    third_opening: Literal["ball_width", "wider_than_land"] = "ball_width"  # claims 3, 18 / 17, 24


class Dimensions(BoardDimensions):
    """Polyimide-land WLP dimensions (mm); geometry.md defaults."""

    die_width: PositiveNumber = 4.0
    die_thickness: PositiveNumber = 0.30
    chip_pad_width: PositiveNumber = 0.07
    first_polyimide_thickness: PositiveNumber = 0.006
    first_opening: PositiveNumber = 0.04
    second_opening: PositiveNumber = 0.20
    wiring_thickness: PositiveNumber = 0.005
    second_polyimide_thickness: PositiveNumber = 0.006
    third_opening_width: Optional[PositiveNumber] = None  # overrides the rule
    third_opening_margin: PositiveNumber = 0.015  # for wider_than_land (U)
    chip_pad_offset: PositiveNumber = 0.15  # chip pad to land centre, along the section (U)
    ball_diameter: PositiveNumber = 0.25
    ball_pitch: PositiveNumber = 0.40
    balls_per_half: Optional[int] = pydantic.Field(None, ge=1, le=200)
    standoff: Optional[PositiveNumber] = None


def layout(opts: Options, d: Dimensions, board: bool) -> Layout:
    W2 = d.die_width / 2
    if d.third_opening_width is not None:
        w3 = d.third_opening_width
    elif opts.third_opening == "ball_width":
        w3 = d.ball_diameter
    else:
        w3 = d.second_opening + 2 * d.third_opening_margin
    w2, w1 = d.second_opening, d.first_opening
    if w1 >= d.chip_pad_width:
        raise GeometryError(f"first opening {w1:g} mm is wider than its chip pad {d.chip_pad_width:g} mm")
    if w3 < w2:
        raise GeometryError(
            f"third opening {w3:g} mm is narrower than the ball land (second opening {w2:g} mm); it must expose the land"
        )
    if opts.third_opening == "wider_than_land" and w3 <= w2:
        raise GeometryError("third opening must be wider than the second opening (claims 17, 24)")
    if d.wiring_thickness >= d.second_polyimide_thickness + d.first_polyimide_thickness:
        raise GeometryError("wiring thicker than the polyimide stack")
    lay = Layout(family="wlp_polyimide_land", package_x=W2)
    L3 = 0.0
    L2 = L3 + d.second_polyimide_thickness  # wiring bottom = land surface
    L1 = L2 + d.wiring_thickness  # first polyimide bottom
    L0 = L1 + d.first_polyimide_thickness  # die active surface
    xs = ball_positions(W2, d.ball_pitch, max(w3, w2), d.balls_per_half)
    pads = []
    for x in xs:
        xc = x - d.chip_pad_offset if x - d.chip_pad_offset - w1 / 2 > 0 else x + d.chip_pad_offset
        pads.append(xc)
        # one-piece wiring: plug in the first opening, trace, land filling the second opening
        lay.rect("wiring", xc - w1 / 2, L1, xc + w1 / 2, L0, METAL, "copper")
        lay.rect("wiring", min(xc, x) - w1 / 2, L2, max(xc, x) + w1 / 2, L1, METAL, "copper")
        lay.rect("wiring", x - w2 / 2, L2, x + w2 / 2, L0, METAL, "copper")
    first_gaps = [(xc - w1 / 2, xc + w1 / 2) for xc in pads] + [(x - w2 / 2, x + w2 / 2) for x in xs]
    lay.segmented("polyimide_1", 0.0, W2, L1, L0, first_gaps + [(-b, -a) for a, b in first_gaps], LAYER, "polyimide")
    third = [(x - w3 / 2, x + w3 / 2) for x in xs]
    lay.segmented("polyimide_2", 0.0, W2, L3, L2, third + [(-b, -a) for a, b in third], LAYER, "polyimide")
    lay.rect("polyimide_2", 0.0, L2, W2, L1, LAYER, "polyimide")
    lay.rect("die", 0.0, L0, W2, L0 + d.die_thickness, DIE, "silicon")
    lay.package_bottom_y, lay.package_top_y = 0.0, L0 + d.die_thickness

    if board:
        sphere = add_balls_and_board(lay, xs, L2, w3, d.ball_diameter, d, d.standoff)
        check_row(xs, d.ball_pitch, max(sphere.max_width, w3), W2)
    else:
        check_row(xs, d.ball_pitch, w3, W2, "ball lands")
    lay.info.update(third_opening_mm=w3, second_opening_mm=w2, chip_pads_x_mm=pads)
    return lay
