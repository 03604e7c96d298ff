"""The 3D quarter model of a ``[geometry] model = "quarter_3d"`` case: what applies, the model, the solve.

:mod:`reliability.run3d` runs it for `reliability run`: builds the family as a 3D quarter model
(:mod:`reliability.geometry.quarter3d`; the fan-out family so far), solves
linear thermo-elasticity (:mod:`reliability.analysis.thermoelastic3d`) at
each ``analysis.temperatures_C`` from **one stress-free temperature**
(``analysis.stress_free_temperature_C``; no process history in 3D yet), and
writes ``summary.json`` (a row per temperature: ``warpage_um`` full surface
per JESD22-B112, ``warpage_centre_line_um``, ``warpage_centre_to_corner_um``,
``coplanarity_um``, von Mises maxima per region), a plan-view contour plot of
the bottom's height per temperature (``plots/bottom_height_<T>.png``) and a
VTU per temperature (``fields.pvd``).

What a quarter_3d case refuses, each with one line (:func:`check_quarter_case`):
``analysis.kinematics`` (a 3D model has all six strain components), a process
sequence other than "none", thermal cycling, ``board = true`` (balls and
board are not in 3D yet), ``half``, ``symmetry_line``, ``section``, a mesh
file, ``[fatigue]`` and the 2D-only mesh keys.
"""

from __future__ import annotations

from ..errors import CaseError

BASIS = ("linear thermo-elastic, one stress-free temperature for every material (no process history in 3D yet); "
         "3D quarter model of 10-node tetrahedra, symmetry planes x = 0 and y = 0, free package (no balls, "
         "no board)")
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
    if a.cycling is not None:
        raise CaseError(f"{path}: [analysis.cycling]: thermal cycling is not in the 3D model yet (linear "
                        "free-package warpage only); remove it or use geometry.model = \"section\"")
    if case.sequence != "none" or p.steps is not None:
        raise CaseError(f"{path}: process.sequence = {case.sequence!r}: the 3D model has no process history yet "
                        "(one stress-free temperature for every material); set [process] sequence = \"none\" and "
                        "analysis.stress_free_temperature_C")
    if "board" in g.model_fields_set and g.board:
        raise CaseError(f"{path}: geometry.board = true: balls and board are not in the 3D model yet; quarter_3d "
                        "is the free package (set board = false or remove the key)")
    for key in ("half", "symmetry_line", "section", "warpage_surface"):
        if key in g.model_fields_set:
            raise CaseError(f"{path}: geometry.{key} = {getattr(g, key)!r}: does not apply to geometry.model = "
                            "'quarter_3d' (a quarter with symmetry planes x = 0 and y = 0; warpage on the bottom)")
    if "fatigue" in case.raw:
        raise CaseError(f"{path}: [fatigue]: does not apply to geometry.model = 'quarter_3d' (no joints in 3D yet)")
    for key in MESH_KEYS_2D:
        if key in case.spec.mesh.model_fields_set:
            raise CaseError(f"{path}: mesh.{key}: does not apply to geometry.model = 'quarter_3d' (its keys: "
                            "size_mm, the in-plane element size, default 0.2 mm; max_elements)")


def quarter_mesh_size(case) -> float:
    from ..geometry.quarter3d import QUARTER_SIZE_MM

    m = case.spec.mesh
    return float(m.size_mm) if "size_mm" in m.model_fields_set else QUARTER_SIZE_MM


def build_quarter(case):
    """The case's 3D quarter model and its material assignment."""
    from ..assignment import resolve_materials
    from ..errors import GeometryError, MeshError
    from ..geometry.quarter3d import QUARTER_LAYER_MM, build_fan_out_quarter

    g = case.spec.geometry
    size = quarter_mesh_size(case)
    try:
        model = build_fan_out_quarter(g.options, dict(g.dimensions_mm), size_mm=size,
                                      layer_size_mm=min(QUARTER_LAYER_MM, size), source=str(case.path),
                                      max_elements=case.spec.mesh.max_elements)
    except GeometryError as exc:
        raise CaseError(f"{case.path}: geometry: {exc}") from None
    except MeshError as exc:
        raise CaseError(f"{case.path}: {exc}") from None
    if model.n_elements > case.spec.mesh.max_elements:
        raise CaseError(f"{case.path}: mesh.size_mm = {size:g}: the quarter model has {model.n_elements} elements, "
                        f"above mesh.max_elements = {case.spec.mesh.max_elements}; give a larger size_mm")
    assignment = resolve_materials(case, model, model.info["default_materials"], strict=False)
    return model, assignment


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
