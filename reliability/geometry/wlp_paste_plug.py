"""Wafer-level package with conductive-paste plugs (claims 003).

Half section, bottom to top (package bottom, the warpage surface, at y = 0):

* solder mask exposing the metal ball pads; solder balls on the pads
  (claims 1, 16);
* ball pads patterned from the metallic layer on the insulation surface,
  connected to the plugs (claims 1, 6, 16);
* the insulation layer, ``spin_coated`` (thin) or ``laminated`` (thick)
  (claims 2, 3, 10, 11), with open windows through it filled by
  conductive-paste plugs (claims 1, 9, 16, 19);
* optional bumps on the active side inside the windows, enclosed by the paste
  (``bumps_in_windows``, claims 7, 14, 18, 20);
* optional redistribution circuit layer (dielectric with copper lines)
  between the insulation and the chip (``redistribution_layer``, claims 8,
  15, 17);
* the chip (die = body), active side down.

Default dimensions: geometry.md, "wlp_paste_plug".
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .board import BoardDimensions, add_balls_and_board, ball_positions, check_row
from .shapes import BUMP, DIE, LAYER, METAL, Layout

INSULATION = {"spin_coated": 0.020, "laminated": 0.040}


class Options(pydantic.BaseModel):
    model_config = STRICT
    insulation: Literal["spin_coated", "laminated"] = "spin_coated"  # claims 2, 3
    bumps_in_windows: bool = False  # claims 7, 14, 18, 20
    redistribution_layer: bool = False  # claims 8, 15, 17


class Dimensions(BoardDimensions):
    """Paste-plug WLP dimensions (mm); geometry.md defaults."""

    die_width: PositiveNumber = 4.0
    die_thickness: PositiveNumber = 0.30
    insulation_thickness: Optional[PositiveNumber] = None  # default by process: 0.020 / 0.040
    window_diameter: PositiveNumber = 0.10
    window_bump_diameter: PositiveNumber = 0.06
    window_bump_height: PositiveNumber = 0.015
    rdl_copper_thickness: PositiveNumber = 0.005
    rdl_dielectric_thickness: PositiveNumber = 0.007
    ball_pad_thickness: PositiveNumber = 0.008
    ball_pad_diameter: PositiveNumber = 0.24
    solder_mask_thickness: PositiveNumber = 0.020
    solder_mask_opening: PositiveNumber = 0.24
    ball_diameter: PositiveNumber = 0.25
    ball_pitch: PositiveNumber = 0.40
    balls_per_half: Optional[int] = pydantic.Field(None, ge=1, le=200)
    standoff: Optional[PositiveNumber] = None


def layout(opts: Options, d: Dimensions, board: bool) -> Layout:
    W2 = d.die_width / 2
    if d.solder_mask_opening > d.ball_pad_diameter:
        raise GeometryError(
            f"solder mask opening {d.solder_mask_opening:g} mm is wider than its ball pad {d.ball_pad_diameter:g} mm"
        )
    if d.window_diameter > d.ball_pad_diameter:
        raise GeometryError("open window wider than the ball pad that covers it")
    if d.ball_pad_thickness >= d.solder_mask_thickness:
        raise GeometryError("ball pad thickness must be below the solder mask thickness")
    t_ins = d.insulation_thickness or INSULATION[opts.insulation]
    lay = Layout(family="wlp_paste_plug", package_x=W2)
    t_sm = d.solder_mask_thickness
    xs = ball_positions(W2, d.ball_pitch, d.ball_pad_diameter, d.balls_per_half)
    gaps = [(x - d.solder_mask_opening / 2, x + d.solder_mask_opening / 2) for x in xs]
    lay.segmented("solder_mask", 0.0, W2, 0.0, t_sm, gaps + [(-b, -a) for a, b in gaps], LAYER, "solder-mask")
    y_ins = t_sm
    y_ins_top = y_ins + t_ins
    lay.rect("insulation", 0.0, y_ins, W2, y_ins_top, LAYER, "polyimide")
    w = d.window_diameter
    for x in xs:
        # the pad sits on the insulation surface, embedded in the top of the mask
        lay.rect("ball_pad", x - d.ball_pad_diameter / 2, t_sm - d.ball_pad_thickness, x + d.ball_pad_diameter / 2,
                 t_sm, METAL, "copper")
        lay.rect("paste_plug", x - w / 2, y_ins, x + w / 2, y_ins_top, METAL, "ag-paste")
        if opts.bumps_in_windows:
            if d.window_bump_height >= t_ins or d.window_bump_diameter >= w:
                raise GeometryError("the bump does not fit inside the open window")
            lay.rect("window_bump", x - d.window_bump_diameter / 2, y_ins_top - d.window_bump_height,
                     x + d.window_bump_diameter / 2, y_ins_top, BUMP, "gold")
    y_die = y_ins_top
    if opts.redistribution_layer:
        t_d, t_cu = d.rdl_dielectric_thickness, d.rdl_copper_thickness
        if t_cu >= t_d:
            raise GeometryError("redistribution copper must be thinner than its dielectric")
        lay.rect("rdl_dielectric", 0.0, y_ins_top, W2, y_ins_top + t_d, LAYER, "polyimide")
        for x in xs:
            lay.rect("rdl_copper", x - w / 2 - 0.01, y_ins_top, x + w / 2 + 0.01, y_ins_top + t_cu, METAL, "copper")
        y_die = y_ins_top + t_d
    lay.rect("die", 0.0, y_die, W2, y_die + d.die_thickness, DIE, "silicon")
    lay.package_bottom_y, lay.package_top_y = 0.0, y_die + d.die_thickness

    if board:
        sphere = add_balls_and_board(lay, xs, t_sm - d.ball_pad_thickness, d.solder_mask_opening, d.ball_diameter,
                                     d, d.standoff)
        check_row(xs, d.ball_pitch, sphere.max_width, W2)
    else:
        check_row(xs, d.ball_pitch, d.ball_pad_diameter, W2, "ball pads")
    lay.info.update(insulation_thickness_mm=t_ins)
    return lay
