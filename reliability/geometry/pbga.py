"""Plastic ball grid array (PBGA): a wire-bonded die on a BT substrate (a test vehicle, not a patent family).

Half section, bottom to top (package bottom, the warpage surface, at y = 0):

* the substrate's bottom solder mask with openings over the ball pads; the
  copper ball pads are embedded in the top of the mask and solder-mask
  defined (the opening, narrower than the pad, sets the ball's wetted width),
  as on the other families' package side;
* the BT laminate substrate (region ``substrate``, material ``bt``), taken
  homogeneous: its copper planes and traces, the top-side mask and the vias
  are not represented (they stiffen it and raise its in-plane CTE towards
  copper's 17 ppm/K; a homogeneous BT core is the usual 2D simplification);
* the die attach (``die_attach``) and the silicon die, centred, active side
  up; the gold bond wires (25 um, out of the section plane) carry no
  stiffness in a 2D section and are not modelled;
* the mold cap (``mold``) over the whole body, from the substrate top to the
  package top (``mold_thickness``): a MAP-molded, saw-singulated body, so the
  mold is flush with the substrate edge;
* the ball array: a square grid of ``balls_per_row`` x ``balls_per_row``
  positions at ``ball_pitch``, fully populated (``array = "full"``) or only
  the outer ``perimeter_rows`` rings (``array = "perimeter"``, the usual
  wire-bond PBGA: the centre under the die is empty).  The ball count is
  ``N^2`` or ``N^2 - (N - 2 r)^2`` (22 per row, 4 rows: 288).

Which balls a section shows: the centre-line section (``section =
"centre_line"``) is the plane through the ball row nearest the package centre,
parallel to an edge; it cuts the ``perimeter_rows`` outer balls of each side
of a perimeter array (the row crosses the empty centre) or the whole row of a
full one.  The diagonal section (``section = "diagonal"``,
:func:`reliability.geometry.section_dimensions`) cuts the grid's diagonal: the
same ball indices at pitch x sqrt(2), body and die half-lengths x sqrt(2),
so the corner joint, the farthest from the neutral point, is in the model.
For an odd ``balls_per_row`` a full array has a ball on the symmetry line
(DNP 0, no thermal shear); it is left out of the half section.

Then the JEDEC-style test board of :mod:`.board` (FR-4, NSMD copper pads,
board solder mask).  Default dimensions: the 19 mm, 288-ball SAC305 PBGA of
Motalab (Auburn 2013; InterPACK2013-73230), docs/pbga.md and
cases/pbga_motalab.toml: the body, ball count and solder are from the
source (physics_reference.md B1), everything else is labelled unverified
there; geometry.md, "pbga".
"""

from __future__ import annotations

from typing import Literal, Optional

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .board import BoardDimensions, add_balls_and_board, check_row
from .shapes import BODY, DIE, LAYER, METAL, Layout


class Options(pydantic.BaseModel):
    """PBGA options."""

    model_config = STRICT
    array: Literal["perimeter", "full"] = "perimeter"  # the outer perimeter_rows rings, or every grid position


class Dimensions(BoardDimensions):
    """PBGA dimensions (mm); defaults: the Motalab 19 mm 288-ball PBGA (docs/pbga.md, U = unverified)."""

    body_width: PositiveNumber = 19.0  # C: physics_reference.md B1
    substrate_thickness: PositiveNumber = 0.36  # U: a 2-layer BT PBGA substrate
    die_width: PositiveNumber = 10.0  # U
    die_thickness: PositiveNumber = 0.30  # U
    die_attach_thickness: PositiveNumber = 0.025  # U
    mold_thickness: PositiveNumber = 0.80  # U: substrate top to package top
    balls_per_row: int = pydantic.Field(22, ge=2, le=400)  # U: 22 x 22 grid, 4 perimeter rows = 288 (C)
    perimeter_rows: int = pydantic.Field(4, ge=1, le=200)  # U (array = "perimeter")
    ball_pitch: PositiveNumber = 0.80  # U
    ball_diameter: PositiveNumber = 0.46  # U
    ball_pad_diameter: PositiveNumber = 0.40  # U: substrate copper pad, solder-mask defined
    solder_mask_opening: PositiveNumber = 0.35  # U: the package-side wetted width
    ball_pad_thickness: PositiveNumber = 0.018  # U
    solder_mask_thickness: PositiveNumber = 0.025  # U
    board_pad_diameter: Optional[PositiveNumber] = None  # default: board_pad_ratio x ball_diameter
    standoff: Optional[PositiveNumber] = None  # default: from the ball volume


def grid_columns(opts: Options, d: Dimensions) -> list[int]:
    """Grid column indices k (0 .. N-1, k >= N/2: the half x >= 0) with a ball in the section's row.

    The centre-line row and the diagonal hold the same indices: ring index min(k, N-1-k) < rows
    for a perimeter array (the section row itself lies deeper than the rings), every k for a full one.
    """
    n = d.balls_per_row
    if opts.array == "perimeter" and 2 * d.perimeter_rows >= n:
        raise GeometryError(f"{d.perimeter_rows} perimeter rows fill a {n} x {n} grid: use array = \"full\" "
                            f"or fewer perimeter_rows (at most {(n - 1) // 2})")
    cols = []
    for k in range(n):
        if 2 * k < n - 1:  # the other half
            continue
        if 2 * k == n - 1:  # odd grid: the ball on the symmetry line is left out (DNP 0)
            continue
        if opts.array == "full" or min(k, n - 1 - k) < d.perimeter_rows:
            cols.append(k)
    return cols


def ball_count(opts: Options, d: Dimensions) -> int:
    """Balls in the whole package: N^2 (full) or N^2 - (N - 2 r)^2 (perimeter)."""
    n = d.balls_per_row
    return n * n if opts.array == "full" else n * n - (n - 2 * d.perimeter_rows) ** 2


def layout(opts: Options, d: Dimensions, board: bool) -> Layout:
    W2, D2 = d.body_width / 2, d.die_width / 2
    if d.die_width >= d.body_width:
        raise GeometryError(f"die width {d.die_width:g} mm is not smaller than the body width {d.body_width:g} mm")
    if d.solder_mask_opening > d.ball_pad_diameter:
        raise GeometryError(
            f"solder mask opening {d.solder_mask_opening:g} mm is wider than its ball pad {d.ball_pad_diameter:g} mm"
        )
    if d.ball_pad_thickness >= d.solder_mask_thickness:
        raise GeometryError("ball pad thickness must be below the solder mask thickness")
    if d.die_thickness + d.die_attach_thickness >= d.mold_thickness:
        raise GeometryError(f"die ({d.die_thickness:g} mm) and die attach ({d.die_attach_thickness:g} mm) do not "
                            f"fit under the mold thickness {d.mold_thickness:g} mm")
    n, p = d.balls_per_row, d.ball_pitch
    xs = [round((k - (n - 1) / 2) * p, 12) for k in grid_columns(opts, d)]
    if xs and xs[-1] + d.ball_pad_diameter / 2 > W2 + 1e-9:
        raise GeometryError(f"the ball grid ({n} at {p:g} mm pitch, outermost pad edge at "
                            f"{xs[-1] + d.ball_pad_diameter / 2:.4g} mm) exceeds the body's half width {W2:g} mm")
    lay = Layout(family="pbga", package_x=W2)
    t_sm = d.solder_mask_thickness
    gaps = [(x - d.solder_mask_opening / 2, x + d.solder_mask_opening / 2) for x in xs]
    lay.segmented("solder_mask", 0.0, W2, 0.0, t_sm, gaps + [(-b, -a) for a, b in gaps], LAYER, "solder-mask")
    for x in xs:
        lay.rect("ball_pad", x - d.ball_pad_diameter / 2, t_sm - d.ball_pad_thickness, x + d.ball_pad_diameter / 2,
                 t_sm, METAL, "copper")
    y_sub = t_sm
    y_sub_top = y_sub + d.substrate_thickness
    y_die = y_sub_top + d.die_attach_thickness
    y_die_top = y_die + d.die_thickness
    y_top = y_sub_top + d.mold_thickness
    lay.rect("substrate", 0.0, y_sub, W2, y_sub_top, LAYER, "bt")
    lay.rect("die_attach", 0.0, y_sub_top, D2, y_die, LAYER, "die-attach")
    lay.rect("die", 0.0, y_die, D2, y_die_top, DIE, "silicon")
    lay.rect("mold", 0.0, y_sub_top, W2, y_top, BODY, "emc-low-cte")
    lay.package_bottom_y, lay.package_top_y = 0.0, y_top

    if board:
        brd = d
        if d.board_pad_diameter is not None:
            brd = d.model_copy(update={"board_pad_ratio": d.board_pad_diameter / d.ball_diameter})
        sphere = add_balls_and_board(lay, xs, t_sm - d.ball_pad_thickness, d.solder_mask_opening, d.ball_diameter,
                                     brd, d.standoff)
        check_row(xs, _row_pitch(xs, p), sphere.max_width, W2)
    else:
        check_row(xs, _row_pitch(xs, p), d.ball_pad_diameter, W2, "ball pads")
    lay.info.update(die_half_width_mm=D2, ball_count=ball_count(opts, d), balls_per_row=n,
                    ball_pitch_mm=p, array=opts.array, mold_over_die_mm=y_top - y_die_top)
    return lay


def _row_pitch(xs: list[float], pitch: float) -> float:
    """The smallest centre distance in the section, mirror images included (the grid pitch, or the gap
    across the empty centre when it is smaller)."""
    gaps = [b - a for a, b in zip(xs, xs[1:])] + ([2 * xs[0]] if xs else [])
    return min([pitch] + gaps)
