"""From a case to the sections to solve: a mesh file, or a built package (and board).

Warpage in the JEDEC JESD22-B112 sense is a property of the unmounted
package, so a board-level builder case gives two sections:

* ``package`` - the free package (no balls, no board): ``warpage_um``;
* ``assembly`` - the package soldered to the board: stresses, joint strains,
  ``assembly_warpage_um``.

A mesh-file case and a ``board = false`` case give the ``package`` section
only.  Built meshes are cached in ``meshes/<case name>.msh`` (and
``<name>_package.msh``) next to a ``.json`` with the hash of everything that
determines them; an unchanged case reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .assignment import resolve_materials
from .case import Case
from .errors import CaseError, GeometryError, MeshError
from .material import Material
from .mesh import read_msh
from .model import Model

MESH_DIR = Path("meshes")


@dataclass
class Section:
    """One model to solve, with its materials and named lines."""

    role: str  # "package" | "assembly"
    model: Model
    assignment: dict[str, Material]
    warpage_surface: str
    symmetry_line: str | None
    mesh_file: str = ""
    notes: list[str] = field(default_factory=list)


def build_request(case: Case, board: bool | None = None):
    """The builder request of a family case (validated)."""
    from .geometry import parse_request

    g = case.spec.geometry
    m = case.spec.mesh
    layer = m.interface_layer_mm or case.spec.fatigue.interface_layer_mm
    mesh = dict(size_mm=m.size_mm, joint_size_mm=m.joint_size_mm, board_size_mm=m.board_size_mm,
                interface_layer_mm=layer, feature_elements=m.feature_elements, max_elements=m.max_elements)
    try:
        return parse_request(g.family, g.options, dict(g.dimensions_mm), g.board if board is None else board,
                             g.half, mesh, str(case.path))
    except GeometryError as exc:
        raise CaseError(str(exc)) from None


def built_model(case: Case, board: bool, mesh_dir: Path = MESH_DIR) -> tuple[Model, Path]:
    """Build (or reuse) the mesh of a family case."""
    from .geometry import build_cached

    request = build_request(case, board)
    suffix = "" if board == case.spec.geometry.board else "_package"
    path = mesh_dir / f"{case.name}{suffix}.msh"
    try:
        return build_cached(request, path), path
    except GeometryError as exc:
        raise CaseError(f"{case.path}: geometry: {exc}") from None
    except MeshError as exc:  # the element estimate is above mesh.max_elements
        raise CaseError(f"{case.path}: {exc}") from None


def sections(case: Case, mesh_dir: Path = MESH_DIR) -> list[Section]:
    """The sections a case asks to solve, materials assigned."""
    g = case.spec.geometry
    if g.mesh is not None:
        path = mesh_path(case)
        try:
            model = read_msh(path)
        except MeshError as exc:
            raise CaseError(f"{case.path}: geometry.mesh = {g.mesh!r}: {exc}") from None
        _check_lines(case, model, g.warpage_surface, g.symmetry_line)
        return [Section("package", model, resolve_materials(case, model), g.warpage_surface, g.symmetry_line,
                        str(path))]

    symmetry = g.symmetry_line or ("symmetry" if g.half else None)
    out = []
    roles = [("package", False), ("assembly", True)] if g.board else [("package", False)]
    for role, board in roles:
        model, path = built_model(case, board, mesh_dir)
        _check_lines(case, model, g.warpage_surface, symmetry)
        defaults = model.info.get("default_materials", {})
        assignment = resolve_materials(case, model, defaults, strict=(role == "assembly" or not g.board))
        out.append(Section(role, model, assignment, g.warpage_surface, symmetry, str(path)))
    return out


def _check_lines(case: Case, model: Model, warpage_surface: str, symmetry_line: str | None) -> None:
    for key, name in (("geometry.warpage_surface", warpage_surface), ("geometry.symmetry_line", symmetry_line)):
        if name is not None and name not in model.boundaries:
            raise case.error(key, name, f"not a named line of the mesh; lines: "
                             f"{', '.join(sorted(model.boundaries)) or 'none'}")


def preflight(case: Case) -> None:
    """Cheap checks that need no meshing: materials exist, family options and dimensions parse, mesh file exists."""
    for key, name in case.spec.materials.items():
        case.material(name, f"materials.{key}")
    g = case.spec.geometry
    if g.model == "quarter_3d":
        from .analysis.quarter3d import estimate_assembly, is_assembly

        if is_assembly(case):
            estimate_assembly(case)  # the element count, before any geometry
    if g.family is not None:
        build_request(case)
    else:
        mesh_path(case)


def mesh_path(case: Case) -> Path:
    """The case's ``geometry.mesh`` as an absolute path, checked to be a readable regular file.

    A missing file, a broken link or a link loop, a directory, a device or a
    FIFO is a one-line error that says which (never "not found" about a path
    that exists, never a traceback from resolving a loop).
    """
    from .mesh import path_problem, shown

    relative = case.spec.geometry.mesh
    given = case.folder / relative
    problem = path_problem(given, "mesh file")
    if problem == "does not exist":
        raise case.error("geometry.mesh", relative, f"mesh file not found (looked for {shown(given)}; paths are "
                         "relative to the case file)")
    if problem:
        raise case.error("geometry.mesh", relative, f"{shown(given)} {problem}; give a gmsh .msh file (paths are "
                         "relative to the case file)")
    try:
        return case.resolve_path(relative)
    except (OSError, RuntimeError):  # a link loop appearing between the check and here
        return given
