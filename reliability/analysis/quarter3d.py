"""The 3D quarter model of a ``[geometry] model = "quarter_3d"`` case: what applies, the model, the solve.

:mod:`reliability.run3d` runs it for `reliability run`: builds the family as a 3D quarter model
(:mod:`reliability.geometry.quarter3d`; the fan-out family so far), solves
linear thermo-elasticity (:mod:`reliability.analysis.thermoelastic3d`) at
each ``analysis.temperatures_C`` from one stress-free temperature
(``analysis.stress_free_temperature_C``, ``process.sequence = "none"``) or
after the process history (:mod:`reliability.process_case3d`), and
writes ``summary.json`` (a row per temperature: ``warpage_um`` full surface
per JESD22-B112, ``warpage_centre_line_um``, ``warpage_centre_to_corner_um``,
``coplanarity_um``, von Mises maxima per region), a plan-view contour plot of
the bottom's height per temperature (``plots/bottom_height_<T>.png``) and a
VTU per temperature (``fields.pvd``).

With ``[geometry] board = true`` and ``[analysis.cycling]`` the model is the package on its board with
every ball of the quarter (:mod:`reliability.geometry.quarter3d_assembly`), cycled from stress-free
at the stress-free temperature or from the end of its process history (the board-assembly reflow
last; :mod:`reliability.analysis.cycling3d`): each joint's Darveaux dW by
row, column and DNP, the critical joint and its lives (:func:`build_assembly`, ``run3d``).

What a quarter_3d case refuses, each with one line (:func:`check_quarter_case`):
``analysis.kinematics`` (a 3D model has all six strain components), a process
history with ``[mesh.submodel]``, thermal cycling without the board and the board
without thermal cycling, ``half``, ``symmetry_line``, ``section``, a mesh
file, ``[fatigue]`` without the board, and the 2D-only mesh keys
(``joint_size_mm`` applies with the board).
"""

from __future__ import annotations

from ..errors import CaseError
from ..geometry.submodel_sizes import GLOBAL_JOINT_MM as SUBMODEL_GLOBAL_JOINT_MM
from ..geometry.submodel_sizes import GLOBAL_LAYER_MM as SUBMODEL_GLOBAL_LAYER_MM
from ..geometry.submodel_sizes import GLOBAL_SIZE_MM as SUBMODEL_GLOBAL_SIZE_MM

BASIS_ASSEMBLY = ("3D quarter model of 10-node tetrahedra (symmetry planes x = 0 and y = 0): the package on its "
                  "board with every ball of the quarter; Anand solder, bilinear copper, the other materials as "
                  "their files; the cycling starts stress-free at one stress-free temperature for every "
                  "material (process.sequence = \"none\"); a checkpoint at every cycle end (not with a submodel)")
BASIS_ASSEMBLY_PROCESS = ("3D quarter model of 10-node tetrahedra (symmetry planes x = 0 and y = 0): the package on "
                          "its board with every ball of the quarter; Anand solder, bilinear copper, the other "
                          "materials as their files; the cycling starts from the end of the process history (the "
                          "package's steps, then the board-assembly reflow: the joints and the board born as the "
                          "solder solidifies, cooled to room temperature); a checkpoint at every cycle end")
BASIS = ("linear thermo-elastic, one stress-free temperature for every material (no process history in 3D yet); "
         "3D quarter model of 10-node tetrahedra, symmetry planes x = 0 and y = 0, free package (no balls, "
         "no board)")
BASIS_PROCESS = ("process history (the fabrication steps as element birth, removal, cure shrinkage and reflows; "
                 "elastic parts from their birth references, inelastic ones at their state); 3D quarter model of "
                 "10-node tetrahedra, symmetry planes x = 0 and y = 0, free package (no balls, no board)")
FAMILIES_3D = ("fan_out",)
MESH_KEYS_2D = ("joint_size_mm", "board_size_mm", "feature_elements", "interface_layer_mm")


def check_quarter_case(case) -> None:
    """One-line errors for what a ``model = "quarter_3d"`` case sets that does not apply."""
    g, a, p, path = case.spec.geometry, case.spec.analysis, case.spec.process, case.path
    head = f"{path}: geometry.model = 'quarter_3d'"
    if g.mesh is not None:
        raise CaseError(f"{head}: builds a package family in 3D; a mesh file (geometry.mesh) is a 2D section - "
                        "give geometry.family")
    if g.family not in FAMILIES_3D:
        raise CaseError(f"{head}: the {g.family} family has no 3D builder yet (3D families: "
                        f"{', '.join(FAMILIES_3D)}); use model = \"section\"")
    if a.kinematics is not None:
        raise CaseError(f"{path}: analysis.kinematics = {a.kinematics!r}: does not apply to geometry.model = "
                        "'quarter_3d' (a 3D model has all six strain components); remove the key")
    board = "board" in g.model_fields_set and bool(g.board)
    if a.cycling is not None and not board:
        raise CaseError(f"{path}: [analysis.cycling]: thermal cycling in 3D needs the balls and the board; set "
                        "geometry.board = true (the 3D package on its board), or remove [analysis.cycling]")
    if board and a.cycling is None:
        raise CaseError(f"{path}: geometry.board = true: the 3D assembly is a thermal-cycling model; add "
                        "[analysis.cycling] (e.g. jedec = \"G\"), or set board = false for free-package warpage")
    if board and case.spec.mesh.submodel is not None and (case.sequence != "none" or p.steps is not None):
        raise CaseError(f"{path}: process.sequence = {case.sequence!r}: a [mesh.submodel] run has no process "
                        "history yet (its local models start stress-free); set [process] sequence = \"none\" and "
                        "analysis.stress_free_temperature_C, or remove [mesh.submodel]")
    for key in ("half", "symmetry_line", "section", "warpage_surface"):
        if key in g.model_fields_set:
            raise CaseError(f"{path}: geometry.{key} = {getattr(g, key)!r}: does not apply to geometry.model = "
                            "'quarter_3d' (a quarter with symmetry planes x = 0 and y = 0; warpage on the bottom)")
    if "fatigue" in case.raw and not board:
        raise CaseError(f"{path}: [fatigue]: the free quarter model has no joints; set geometry.board = true with "
                        "[analysis.cycling] for joints and lives")
    if case.spec.mesh.submodel is not None and not board:
        raise CaseError(f"{path}: [mesh.submodel]: the global-local submodel drives joints; the free quarter has "
                        "none - set geometry.board = true with [analysis.cycling], or remove [mesh.submodel]")
    for key in MESH_KEYS_2D:
        if board and key == "joint_size_mm":
            continue
        if key in case.spec.mesh.model_fields_set:
            raise CaseError(f"{path}: mesh.{key}: does not apply to geometry.model = 'quarter_3d' (its keys: "
                            "size_mm, the in-plane element size, default 0.2 mm; max_elements)")


def is_assembly(case) -> bool:
    """A quarter_3d case of the package on its board (thermal cycling), not the free package."""
    g = case.spec.geometry
    return "board" in g.model_fields_set and bool(g.board)


def quarter_mesh_size(case) -> float:
    from ..geometry.quarter3d import QUARTER_SIZE_MM
    from ..geometry.quarter3d_assembly import ASSEMBLY_SIZE_MM

    m = case.spec.mesh
    if "size_mm" in m.model_fields_set:
        return float(m.size_mm)
    if is_assembly(case):
        return SUBMODEL_GLOBAL_SIZE_MM if m.submodel is not None else ASSEMBLY_SIZE_MM
    return QUARTER_SIZE_MM


def assembly_joint_size(case) -> float:
    """The (global) joint element size of an assembly case, mm: mesh.joint_size_mm, else the default (the
    global model's coarse one with a submodel)."""
    from ..geometry.quarter3d_assembly import ASSEMBLY_JOINT_MM

    m = case.spec.mesh
    if "joint_size_mm" in m.model_fields_set:
        return float(m.joint_size_mm)
    return SUBMODEL_GLOBAL_JOINT_MM if m.submodel is not None else ASSEMBLY_JOINT_MM


def assembly_layer_size(case) -> float:
    """The largest element height through a layer of an assembly case, mm (the global model's coarser one
    with a submodel)."""
    from ..geometry.quarter3d import QUARTER_LAYER_MM

    size = quarter_mesh_size(case)
    return min(SUBMODEL_GLOBAL_LAYER_MM if case.spec.mesh.submodel is not None else QUARTER_LAYER_MM, size)


def estimate_assembly(case) -> tuple[int, int]:
    """(balls in the quarter, estimated tetrahedra) of the case's 3D assembly, before any geometry is made.

    One-line :class:`CaseError` for bad options or dimensions and for an estimate above
    ``mesh.max_elements`` (the same check the builder makes)."""
    import pydantic

    from ..geometry import fan_out
    from ..geometry.quarter3d_assembly import assembly_geometry, estimate_assembly_elements

    g = case.spec.geometry
    try:
        opts = fan_out.Options.model_validate(g.options or {})
        d = fan_out.Dimensions.model_validate(dict(g.dimensions_mm))
    except pydantic.ValidationError as err:
        raise CaseError(f"{case.path}: geometry: {err.errors()[0]['msg']}") from None
    geo = assembly_geometry(opts, d)
    size = quarter_mesh_size(case)
    n = int(estimate_assembly_elements(geo, size, assembly_joint_size(case), assembly_layer_size(case)))
    balls = len(geo.xs) ** 2
    if n > case.spec.mesh.max_elements:
        raise CaseError(f"{case.path}: mesh.size_mm = {size:g}, mesh.joint_size_mm = {assembly_joint_size(case):g}: "
                        f"the assembly quarter ({balls} balls) would have about {n:.3g} tetrahedra, above "
                        f"mesh.max_elements = {case.spec.mesh.max_elements}; give larger sizes or fewer balls "
                        "(geometry.dimensions_mm.balls_per_half)")
    return balls, n


def build_assembly(case):
    """The case's 3D quarter assembly (package, every ball of the quarter, board) and its materials."""
    from ..geometry.quarter3d_assembly import build_fan_out_assembly_quarter

    return _built(case, build_fan_out_assembly_quarter, joint_size_mm=assembly_joint_size(case),
                  layer_size_mm=assembly_layer_size(case))


def build_quarter(case):
    """The case's 3D quarter model (the free package) and its material assignment."""
    from ..geometry.quarter3d import build_fan_out_quarter

    model, assignment = _built(case, build_fan_out_quarter)
    if model.n_elements > case.spec.mesh.max_elements:
        size = quarter_mesh_size(case)
        raise CaseError(f"{case.path}: mesh.size_mm = {size:g}: the quarter model has {model.n_elements} elements, "
                        f"above mesh.max_elements = {case.spec.mesh.max_elements}; give a larger size_mm")
    return model, assignment


def _built(case, builder, **sizes):
    """``builder`` (a 3D family builder) on the case's options, dimensions and mesh sizes, its errors as one-line
    case errors; the model and its materials."""
    from ..assignment import resolve_materials
    from ..errors import GeometryError, MeshError
    from ..geometry.quarter3d import QUARTER_LAYER_MM

    g = case.spec.geometry
    size = quarter_mesh_size(case)
    try:
        sizes.setdefault("layer_size_mm", min(QUARTER_LAYER_MM, size))
        model = builder(g.options, dict(g.dimensions_mm), size_mm=size, max_elements=case.spec.mesh.max_elements,
                        source=str(case.path), **sizes)
    except GeometryError as exc:
        raise CaseError(f"{case.path}: geometry: {exc}") from None
    except MeshError as exc:
        raise CaseError(f"{case.path}: {exc}") from None
    return model, resolve_materials(case, model, model.info["default_materials"], strict=False)


def solve_quarter(model, assignment, T_ref: float, temperatures, solver: str = "auto"):
    """T -> (state, surface) at each temperature; also the problem (dofs, solver, factorizations)."""
    from .thermoelastic3d import ThermoElasticProblem3D
    from .warpage3d import bottom_surface

    problem = ThermoElasticProblem3D(model, assignment, T_ref, solver=solver)
    out = {}
    for T in temperatures:
        state = problem.solve(float(T))
        out[float(T)] = (state, bottom_surface(model.nodes, state.u, model.boundaries["bottom"]))
    return problem, out
