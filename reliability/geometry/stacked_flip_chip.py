"""Two flip chips back to back on two carriers (claims 002).

Half section, bottom to top (package bottom, the warpage surface, at y = 0):

* solder mask and ball pads under the second carrier, solder balls for the
  connection to another package or the board (claim 2);
* the second chip carrier, ``substrate`` (BT laminate) or ``tape`` (polyimide
  TAB) (claims 3, 4, 8, 9);
* the second chip flip-chip bonded on it by solder bumps (claim 1);
* a high-elasticity insulating adhesive between the chips' non-active
  surfaces (claims 1, 5, 10);
* the first chip, active surface up, bumped to the first carrier above it;
* resin filling the space between the carriers around chips and bumps
  (claims 1, 6, 11);
* the connection between the carriers: ``vias`` - solid copper through the
  first carrier, the resin and the second carrier (claim 1) - or ``traces``
  along the resin edge (claims 7, 12).

Default dimensions: geometry.md, "stacked_flip_chip".
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .ball import ball_from_standoff
from .board import BoardDimensions, add_balls_and_board, ball_positions, check_row
from .shapes import BODY, BUMP, DIE, LAYER, METAL, Layout

CARRIER = {"substrate": "bt", "tape": "polyimide-tape"}


class Options(pydantic.BaseModel):
    model_config = STRICT
    carrier: Literal["substrate", "tape"] = "substrate"  # claims 3, 4, 8, 9
    connection: Literal["vias", "traces"] = "vias"  # claim 1 / claim 7


class Dimensions(BoardDimensions):
    """Stacked flip chip dimensions (mm); geometry.md defaults."""

    body_width: PositiveNumber = 8.0
    substrate_thickness: PositiveNumber = 0.30
    tape_thickness: PositiveNumber = 0.05
    chip_width: PositiveNumber = 4.0
    chip_thickness: PositiveNumber = 0.15
    bump_diameter: PositiveNumber = 0.08
    bump_height: PositiveNumber = 0.06
    bump_pad_opening: PositiveNumber = 0.06  # (U)
    bump_pitch: PositiveNumber = 0.20  # (U)
    bump_rows: int = pydantic.Field(3, ge=1, le=50)
    adhesive_thickness: PositiveNumber = 0.025
    via_diameter: PositiveNumber = 0.20
    via_pitch: PositiveNumber = 0.65
    trace_thickness: PositiveNumber = 0.015
    ball_diameter: PositiveNumber = 0.30
    ball_pitch: PositiveNumber = 0.65
    balls_per_half: Optional[int] = pydantic.Field(None, ge=1, le=200)
    ball_pad_diameter: PositiveNumber = 0.28  # (U)
    ball_pad_thickness: PositiveNumber = 0.015  # (U)
    solder_mask_thickness: PositiveNumber = 0.020
    solder_mask_opening: PositiveNumber = 0.25  # (U)
    standoff: Optional[PositiveNumber] = None


def layout(opts: Options, d: Dimensions, board: bool) -> Layout:
    W2, C2 = d.body_width / 2, d.chip_width / 2
    if d.chip_width >= d.body_width:
        raise GeometryError(f"chip width {d.chip_width:g} mm is not smaller than the body width {d.body_width:g} mm")
    if d.solder_mask_opening > d.ball_pad_diameter:
        raise GeometryError(
            f"solder mask opening {d.solder_mask_opening:g} mm is wider than its ball pad {d.ball_pad_diameter:g} mm"
        )
    if d.ball_pad_thickness >= d.solder_mask_thickness:
        raise GeometryError("ball pad thickness must be below the solder mask thickness")
    t_c = d.substrate_thickness if opts.carrier == "substrate" else d.tape_thickness
    carrier = CARRIER[opts.carrier]
    lay = Layout(family="stacked_flip_chip", package_x=W2)
    t_sm = d.solder_mask_thickness
    xs = ball_positions(W2, d.ball_pitch, d.ball_pad_diameter, d.balls_per_half)
    gaps = [(x - d.solder_mask_opening / 2, x + d.solder_mask_opening / 2) for x in xs]
    lay.segmented("solder_mask", 0.0, W2, 0.0, t_sm, gaps + [(-b, -a) for a, b in gaps], LAYER, "solder-mask")
    for x in xs:
        lay.rect("ball_pad", x - d.ball_pad_diameter / 2, t_sm - d.ball_pad_thickness, x + d.ball_pad_diameter / 2,
                 t_sm, METAL, "copper")

    # the stack, bottom up
    y0 = t_sm
    lay.rect("carrier_2", 0.0, y0, W2, y0 + t_c, LAYER, carrier)
    y_b2 = y0 + t_c
    y_chip2 = y_b2 + d.bump_height
    y_adh = y_chip2 + d.chip_thickness
    y_chip1 = y_adh + d.adhesive_thickness
    y_b1 = y_chip1 + d.chip_thickness
    y_c1 = y_b1 + d.bump_height
    y_top = y_c1 + t_c
    lay.rect("chip_2", 0.0, y_chip2, C2, y_adh, DIE, "silicon")
    lay.rect("adhesive", 0.0, y_adh, C2, y_chip1, LAYER, "adhesive-low-modulus")
    lay.rect("chip_1", 0.0, y_chip1, C2, y_b1, DIE, "silicon")
    lay.rect("carrier_1", 0.0, y_c1, W2, y_top, LAYER, carrier)
    lay.rect("resin", 0.0, y_b2, W2, y_c1, BODY, "underfill")

    # bumps: second chip hangs on the second carrier, first chip reaches up to the first carrier
    a_top = d.bump_pad_opening / 2
    R = d.bump_diameter / 2
    if a_top >= R:
        raise GeometryError("bump pad opening must be narrower than the bump diameter")
    z1 = (R**2 - a_top**2) ** 0.5
    if d.bump_height >= z1 + R:
        raise GeometryError(f"bump height {d.bump_height:g} mm exceeds what a {d.bump_diameter:g} mm bump can reach")
    a_bot = (R**2 - (d.bump_height - z1) ** 2) ** 0.5
    down = ball_from_standoff(d.bump_height, a_top, a_bot)  # chip pad on top (chip 2 above its bumps)
    up = ball_from_standoff(d.bump_height, a_bot, a_top)  # chip pad at the bottom (chip 1 below)
    if d.bump_pitch <= down.max_width:
        raise GeometryError("bumps overlap: bump pitch not larger than the bump width")
    for k in range(d.bump_rows):
        x = C2 - d.bump_pitch / 2 - k * d.bump_pitch
        if x <= down.max_width / 2:
            raise GeometryError(f"{d.bump_rows} bump rows do not fit on the chip")
        lay.add("bump", ("ball", x, y_chip2, down), BUMP, "SAC305")
        lay.add("bump", ("ball", x, y_c1, up), BUMP, "SAC305")

    # carrier-to-carrier connection
    if opts.connection == "vias":
        vx = []
        x = W2 - d.via_pitch / 2
        while x - d.via_diameter / 2 > C2 + 0.05:
            vx.append(x)
            x -= d.via_pitch
        if not vx:
            raise GeometryError("no room for through vias between the chips and the body edge")
        for x in vx:
            lay.rect("via", x - d.via_diameter / 2, y0, x + d.via_diameter / 2, y_top, METAL, "copper")
        lay.info["vias_x_mm"] = vx
    else:
        lay.rect("trace", W2 - d.trace_thickness, y0, W2, y_top, METAL, "copper")
    lay.package_bottom_y, lay.package_top_y = 0.0, y_top

    if board:
        sphere = add_balls_and_board(lay, xs, t_sm - d.ball_pad_thickness, d.solder_mask_opening, d.ball_diameter,
                                     d, d.standoff)
        check_row(xs, d.ball_pitch, sphere.max_width, W2)
    else:
        check_row(xs, d.ball_pitch, d.ball_pad_diameter, W2, "ball pads")
    lay.info.update(chip_half_width_mm=C2, carrier_thickness_mm=t_c)
    return lay
