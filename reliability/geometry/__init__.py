"""Parametric 2D cross-sections of the five claimed package families and the PBGA test vehicle.

Each family module exposes ``Options`` (the claimed options, pydantic),
``Dimensions`` (mm, with geometry.md defaults) and
``layout(options, dimensions, board) -> Layout``.  :func:`build` validates the
user's choices, lays the section out and meshes it into a
:class:`~reliability.model.Model`.

Which plane the section is (``[geometry] section``, :func:`section_dimensions`):
``"centre_line"`` (default) through the package centre parallel to an edge, or
``"diagonal"`` along the body diagonal for the families with a ball array.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pydantic

from ..errors import GeometryError, MeshError
from ..model import Model
from ..validation import format_error
from . import fan_out, flip_chip_on_leads, pbga, stacked_flip_chip, wlp_paste_plug, wlp_polyimide_land
from .assemble import build_model
from .estimate import DEFAULT_MAX_ELEMENTS

# mm: what a package cross-section's dimensions can be.  Below 0.1 um a part is thinner than
# 1000 x the boolean tolerance (assemble.TOL) and fragments merge; above 1 m it is no package (a
# value in um typed for mm), and gmsh's second-order meshing fails on such aspect ratios
# ("Cannot reparametrize a mesh node" at die_thickness = 1e9).
DIMENSION_RANGE_MM = (1e-4, 1000.0)

FAMILIES = {
    "fan_out": fan_out,
    "flip_chip_on_leads": flip_chip_on_leads,
    "stacked_flip_chip": stacked_flip_chip,
    "wlp_paste_plug": wlp_paste_plug,
    "wlp_polyimide_land": wlp_polyimide_land,
    "pbga": pbga,
}

SECTIONS = ("centre_line", "diagonal")
DEFAULT_SECTION = "centre_line"
# The diagonal section of a square body with a square ball grid: the plane through the centre along the
# diagonal cuts the grid positions (k, k), so the balls appear at pitch x sqrt(2) out to the corner joint, the
# body and die (chip) half-lengths are sqrt(2) x their half widths, and every through-thickness dimension and
# every feature size (ball and pad diameters, openings, thicknesses) is unchanged.  These are each ball-array
# family's in-plane lengths that scale; the rows of flip-chip bumps and vias are peripheral rows like the
# balls, so their pitches scale too.  A family not listed (the leads of flip_chip_on_leads: a row of leads
# along the edge, not a grid) has no diagonal section.
DIAGONAL_LENGTHS = {
    "fan_out": ("body_width", "die_width", "die_pad_pitch", "ball_pitch"),
    "stacked_flip_chip": ("body_width", "chip_width", "bump_pitch", "via_pitch", "ball_pitch"),
    "wlp_paste_plug": ("die_width", "ball_pitch"),
    "wlp_polyimide_land": ("die_width", "ball_pitch"),
    "pbga": ("body_width", "die_width", "ball_pitch"),
}

# bump when a change to the builders changes the meshes they produce
# 2: the board meshes at board_size_mm away from small package features; 3: mesh.feature_elements
GEOMETRY_VERSION = "3"


@dataclass
class BuildRequest:
    """Everything that determines a built mesh."""

    family: str
    options: pydantic.BaseModel
    dimensions: pydantic.BaseModel
    board: bool
    half: bool
    size_mm: float
    joint_size_mm: float
    board_size_mm: float
    interface_layer_mm: float
    feature_elements: int = 1
    section: str = DEFAULT_SECTION  # "centre_line" or "diagonal" (section_dimensions)
    # refuse to mesh above this many elements (estimated first; not part of the key: it changes no mesh)
    max_elements: int | None = DEFAULT_MAX_ELEMENTS

    def key(self) -> str:
        # the section joins the key only when it is not the default, so centre-line meshes keep their keys
        extra = {} if self.section == DEFAULT_SECTION else {"section": self.section}
        blob = json.dumps(
            {
                **extra,
                "v": GEOMETRY_VERSION,
                "family": self.family,
                "options": self.options.model_dump(mode="json"),
                "dimensions": self.dimensions.model_dump(mode="json"),
                "board": self.board,
                "half": self.half,
                "mesh": [self.size_mm, self.joint_size_mm, self.board_size_mm, self.interface_layer_mm,
                         self.feature_elements],
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def section_dimensions(family: str, dims: pydantic.BaseModel, section: str, source: str = "geometry"):
    """The dimensions a family's builder lays out for ``section``.

    ``"centre_line"``: as given.  ``"diagonal"``: the family's in-plane lengths
    (:data:`DIAGONAL_LENGTHS`) times sqrt(2) - the body diagonal of a square
    package and its square ball grid, balls at pitch x sqrt(2), so the corner
    joint is in the model; ball, pad and opening sizes and all thicknesses
    unchanged.  This is the one place the diagonal is made: every builder lays
    out the scaled dimensions exactly as an edge section.
    """
    if section not in SECTIONS:
        raise GeometryError(f"{source}: geometry.section = {section!r}: allowed: {', '.join(map(repr, SECTIONS))}")
    if section == DEFAULT_SECTION:
        return dims
    lengths = DIAGONAL_LENGTHS.get(family)
    if lengths is None:
        raise GeometryError(f"{source}: geometry.section = 'diagonal': the {family} family has no ball array, so no "
                            f"diagonal section (the families that have one: {', '.join(DIAGONAL_LENGTHS)}); use "
                            "section = \"centre_line\"")
    return dims.model_copy(update={k: getattr(dims, k) * math.sqrt(2.0) for k in lengths
                                   if getattr(dims, k) is not None})


def parse_request(family: str, options: dict, dimensions: dict, board: bool, half: bool, mesh: dict,
                  source: str, section: str | None = None) -> BuildRequest:
    """Validate family options and dimension overrides; one-line errors name the key.

    ``section`` (or ``options["section"]``, as a case's ``[geometry] section``
    arrives with the family options): ``"centre_line"`` or ``"diagonal"``."""
    module = FAMILIES[family]
    options = dict(options)
    section = options.pop("section", None) if section is None else section
    section = DEFAULT_SECTION if section is None else section
    try:
        opts = module.Options.model_validate(options)
    except pydantic.ValidationError as err:
        raise GeometryError(format_error(err, source, module.Options, "geometry")) from None
    try:
        dims = module.Dimensions.model_validate(dimensions)
    except pydantic.ValidationError as err:
        raise GeometryError(format_error(err, source, module.Dimensions, "geometry.dimensions_mm")) from None
    lo, hi = DIMENSION_RANGE_MM
    for name, value in dims.model_dump().items():
        if isinstance(value, float) and not name.endswith("_ratio") and not lo <= value <= hi:
            raise GeometryError(f"{source}: geometry.dimensions_mm.{name} = {value:g}: outside {lo:g} to {hi:g} mm, "
                                "the range of a package cross-section (dimensions are in mm, not um)")
    section_dimensions(family, dims, section, source)  # refuse a diagonal the family does not have, before meshing
    return BuildRequest(family, opts, dims, board, half, section=section, **mesh)


def build(request: BuildRequest, path: str | Path | None = None) -> Model:
    """Lay out and mesh a family; ``path`` keeps the ``.msh``."""
    module = FAMILIES[request.family]
    dims = section_dimensions(request.family, request.dimensions, request.section)
    lay = module.layout(request.options, dims, request.board)
    lay.finalize(request.half)
    try:
        model = build_model(
            lay,
            size=request.size_mm,
            joint_size=request.joint_size_mm,
            interface_layer=request.interface_layer_mm,
            path=path,
            half=request.half,
            board_size=request.board_size_mm,
            feature_elements=request.feature_elements,
            max_elements=request.max_elements,
        )
    except Exception as exc:
        # gmsh reports every failure as a bare Exception (OpenCASCADE booleans, "Cannot reparametrize a
        # mesh node in high order meshing", ...): a geometry it cannot mesh, not a bug of ours to hide
        if type(exc) is not Exception:
            raise
        raise GeometryError(f"gmsh cannot mesh this {request.family} section ({exc}); check the dimensions "
                            "(mm) and the [mesh] sizes") from None
    model.info["options"] = request.options.model_dump(mode="json")
    model.info["dimensions_mm"] = request.dimensions.model_dump(mode="json")
    model.info["section"] = request.section
    if request.section != DEFAULT_SECTION:  # the lengths the builder laid out
        model.info["section_dimensions_mm"] = {k: getattr(dims, k) for k in DIAGONAL_LENGTHS[request.family]}
    model.info["build_key"] = request.key()
    return model


def build_cached(request: BuildRequest, path: Path) -> Model:
    """Reuse ``path`` if it was built from the same request, else build and write it.

    The request's hash and the model's metadata live beside the mesh in
    ``<path>.json``; both files are replaced atomically.
    """
    from ..mesh import path_problem, read_msh
    from ..post.files import atomic_write_json

    sidecar = path.with_suffix(".json")
    key = request.key()
    if path.is_file() and sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text())
        except (OSError, json.JSONDecodeError):
            meta = {}
        if meta.get("build_key") == key:
            model = read_msh(path)
            model.info = meta
            model.source = f"builder:{request.family} (cached {path})"
            return model
    if os.path.lexists(path) and not path.is_file():  # a folder, a FIFO, a link loop: refuse before meshing
        raise MeshError(f"cannot write the mesh {path}: it {path_problem(path, 'mesh file')}; remove it or give "
                        "another mesh folder")
    tmp = path.with_name(f".{path.stem}.{key}.partial.msh")
    try:
        model = build(request, tmp)
        tmp.replace(path)
        atomic_write_json(sidecar, model.info)
    except OSError as exc:  # the mesh folder is a file, not writable, full...
        where = exc.filename2 or exc.filename or path
        why = "is a file, not a folder" if exc.errno == errno.EEXIST else exc.strerror or type(exc).__name__
        raise MeshError(f"cannot write the mesh {path} ({where}: {why}); give a writable mesh folder") from None
    finally:
        if tmp.is_file():
            tmp.unlink()
    model.source = f"builder:{request.family} -> {path}"
    return model
