"""Shared by all families: solder balls and the JEDEC-style test board.

``add_balls_and_board`` places the reflowed balls under the package's ball
pads and, below them, a FR-4 board with copper pads (non-solder-mask
defined: the mask opening clears the pad) and board solder mask, extending
``board_overhang`` beyond the package edge (geometry.md, "JEDEC-style test
board").  The balls' shape is the truncated sphere of :mod:`.ball`.
"""

from __future__ import annotations

import math

import pydantic

from ..errors import GeometryError
from ..validation import STRICT, PositiveNumber
from .ball import TruncatedSphere, ball_joint
from .shapes import BODY, LAYER, METAL, SOLDER, Joint, Layout


class BoardDimensions(pydantic.BaseModel):
    """Test board (mm); defaults from geometry.md."""

    model_config = STRICT
    pcb_thickness: PositiveNumber = 1.0
    board_pad_thickness: PositiveNumber = 0.035
    board_pad_ratio: PositiveNumber = 0.8  # board pad diameter / ball diameter
    board_mask_thickness: PositiveNumber = 0.025
    board_mask_clearance: PositiveNumber = 0.05  # NSMD: mask opening = pad + 2 x clearance (U)
    board_overhang: PositiveNumber = 2.0


MAX_BALLS_PER_HALF = 200  # as the Dimensions' balls_per_half field allows (le=200)


def ball_positions(half_width: float, pitch: float, ball_width: float, count: int | None, first: float | None = None) -> list[float]:
    """Centres x >= 0 of a row at ``pitch`` symmetric about x = 0 (balls at pitch/2, 3 pitch/2, ...).

    ``count`` balls per half, or as many as fit inside the body when ``None``.
    """
    x0 = pitch / 2 if first is None else first
    if count is None:
        fit = int(math.floor((half_width + 1e-12 - ball_width / 2 - x0) / pitch)) + 1 if pitch > 0 else 0
        if fit > MAX_BALLS_PER_HALF:
            # a body in um typed for mm: thousands of balls, minutes of OpenCASCADE before any mesh
            raise GeometryError(
                f"{fit:,} balls at ball_pitch = {pitch:g} mm fit in the half width {half_width:g} mm, more than "
                f"{MAX_BALLS_PER_HALF} (the most balls_per_half allows); check that the dimensions are in mm, "
                "or give balls_per_half"
            )
        xs, x = [], x0
        while x + ball_width / 2 <= half_width + 1e-12:
            xs.append(x)
            x += pitch
        return xs
    return [x0 + k * pitch for k in range(count)]


def check_row(xs: list[float], pitch: float, width: float, half_width: float, what: str = "balls") -> None:
    """Balls must not overlap each other (nor their mirror images) or leave the body."""
    if width >= pitch:
        raise GeometryError(
            f"{what} overlap: reflowed width {width:.4g} mm is not below the pitch {pitch:g} mm"
        )
    if xs and 0.0 < xs[0] and 2 * xs[0] <= width:
        raise GeometryError(f"{what} overlap their mirror image across the package centre")
    if xs and xs[-1] + width / 2 > half_width + 1e-9:
        raise GeometryError(
            f"{what} exceed the body: the outermost reaches x = {xs[-1] + width / 2:.4g} mm, "
            f"the body's half width is {half_width:g} mm"
        )
    if not xs:
        raise GeometryError(f"no {what} fit in the body")


def add_board(layout: Layout, pads: list[tuple[float, float]], y_pad_top: float, board: BoardDimensions) -> float:
    """Board pads (x centre, width) with their tops at ``y_pad_top``, board mask and PCB.

    Returns the PCB top.  Pads are non-solder-mask defined: the mask opening
    clears each pad by ``board_mask_clearance``.
    """
    pcb_top = y_pad_top - board.board_pad_thickness
    x_end = layout.package_x + board.board_overhang
    gaps = []
    for x, w in pads:
        layout.rect("board_pad", x - w / 2, pcb_top, x + w / 2, y_pad_top, METAL, "copper")
        half_open = w / 2 + board.board_mask_clearance
        gaps += [(x - half_open, x + half_open), (-x - half_open, -x + half_open)]
    if board.board_mask_thickness >= board.board_pad_thickness + 0.5 * (layout.package_bottom_y - y_pad_top):
        raise GeometryError("board solder mask reaches the package: thinner mask or higher stand-off needed")
    layout.segmented("board_mask", 0.0, x_end, pcb_top, pcb_top + board.board_mask_thickness, gaps, LAYER,
                     "solder-mask")
    layout.rect("board", 0.0, pcb_top - board.pcb_thickness, x_end, pcb_top, BODY, "fr4")
    layout.board = True
    return pcb_top


def add_balls_and_board(
    layout: Layout,
    xs: list[float],
    y_pad: float,
    wetted_top: float,
    ball_diameter: float,
    board: BoardDimensions,
    standoff: float | None = None,
    ball_material: str = "SAC305",
) -> TruncatedSphere:
    """Balls hanging from the plane ``y_pad`` (wetted width ``wetted_top``) onto the board.

    Returns the joint shape; adds the balls, board pads, board mask and PCB.
    """
    pad_board = board.board_pad_ratio * ball_diameter
    sphere = ball_joint(ball_diameter, wetted_top / 2, pad_board / 2, standoff)
    y_bpad = y_pad - sphere.h  # board pad top
    for x in xs:
        joint = Joint(x=x, y_top=y_pad, y_bottom=y_bpad, pad_top_mm=wetted_top, pad_bottom_mm=pad_board,
                      shape=sphere)
        layout.joint_shape(joint, ("ball", x, y_pad, sphere), SOLDER, ball_material)
    add_board(layout, [(x, pad_board) for x in xs], y_bpad, board)
    layout.info["board_pad_diameter_mm"] = pad_board
    layout.info["standoff_mm"] = sphere.h
    return sphere
