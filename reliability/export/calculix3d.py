"""CalculiX / Abaqus input deck of a 3D model: C3D10 elements, the same materials, supports and temperatures.

Node order: ours (skfem's P2 tetrahedron: corners, then edges 0-1, 1-2, 0-2,
0-3, 1-3, 2-3) is the C3D10 order, so elements are written as they are.
C3D10 integrates with 4 points, as we do (:mod:`reliability.fem.geometry3d`).
One linear ``*STEP`` per temperature under a uniform temperature field from
the stress-free temperature; thermal expansion as *secant* coefficients
referred to ZERO = T_ref at the analysis and table temperatures (exact
there; see :mod:`reliability.export.calculix` for why).

Orthotropic axes in 3D: ours (1, 2, 3) = model (x, y, z) = CalculiX (x, y, z),
so the engineering constants go in unpermuted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..material import Material
from ..model import Model
from .calculix import _material_cards, _temperatures


def _secant3(mat: Material, T: float, T_ref: float) -> np.ndarray:
    from ..constitutive.elastic3d import thermal_strain3d

    if abs(T - T_ref) < 1e-9:
        h = 1e-3
        return thermal_strain3d(mat.elastic, T_ref + h, T_ref)[:3] / h
    return thermal_strain3d(mat.elastic, T, T_ref)[:3] / (T - T_ref)


def _material_cards3d(name: str, mat: Material, temps: list[float], T_ref: float) -> list[str]:
    if mat.elastic.symmetry == "isotropic":
        return _material_cards(name, mat, temps, T_ref)  # the same cards as 2D
    lines = [f"*MATERIAL, NAME={name}", "*ELASTIC, TYPE=ENGINEERING CONSTANTS"]
    Ts = _temperatures(mat, temps, T_ref)
    p = mat.elastic.props
    for T in Ts:
        v = [p[k](T) for k in ("E1_MPa", "E2_MPa", "E3_MPa", "nu12", "nu13", "nu23", "G12_MPa", "G13_MPa",
                               "G23_MPa")]
        lines.append(", ".join(f"{x:.10g}" for x in v[:8]))
        lines.append(f"{v[8]:.10g}, {T:.10g}")
    lines.append(f"*EXPANSION, TYPE=ORTHO, ZERO={T_ref:.10g}")
    for T in Ts:
        a = _secant3(mat, T, T_ref)
        lines.append(f"{a[0]:.12g}, {a[1]:.12g}, {a[2]:.12g}, {T:.10g}")
    return lines


def write_deck3d(path: Path, model: Model, assignment: dict[str, Material], T_ref: float,
                 temperatures: list[float], fixed: np.ndarray, note: str = "") -> Path:
    """Write ``path`` (.inp) for a 10-node tetrahedral model; ``fixed`` (3 N,) bool, our supports; ``note``
    goes into the heading."""
    out = ["** reliability -> CalculiX deck (3D, linear thermo-elastic, C3D10)", "*HEADING",
           f"{model.source}; 3D; stress-free at {T_ref:g} C" + (f"; {note}" if note else ""), "*NODE, NSET=NALL"]
    out += [f"{i}, {x:.12g}, {y:.12g}, {z:.12g}" for i, (x, y, z) in enumerate(model.nodes, start=1)]
    for r, region in enumerate(model.region_names):
        elems = np.flatnonzero(model.element_region == r)
        out.append(f"*ELEMENT, TYPE=C3D10, ELSET=E_{region}")
        out += [f"{e + 1}, " + ", ".join(str(n + 1) for n in model.elements[e]) for e in elems]
    names: dict[int, str] = {}
    for mat in assignment.values():
        names.setdefault(id(mat), f"M{len(names) + 1}_{mat.name}"[:80].replace(" ", "_"))
    done = set()
    for region, mat in assignment.items():
        if region not in model.region_names:
            continue
        name = names[id(mat)]
        if name not in done:
            out += _material_cards3d(name, mat, temperatures, T_ref)
            done.add(name)
        out.append(f"*SOLID SECTION, ELSET=E_{region}, MATERIAL={name}")
    out.append("*BOUNDARY")
    out += [f"{d // 3 + 1}, {d % 3 + 1}, {d % 3 + 1}, 0" for d in np.flatnonzero(fixed)]
    out += ["*INITIAL CONDITIONS, TYPE=TEMPERATURE", f"NALL, {T_ref:.10g}"]
    for T in temperatures:
        out += ["*STEP", "*STATIC", "*TEMPERATURE", f"NALL, {T:.10g}", "*NODE PRINT, NSET=NALL", "U", "*END STEP"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path


def read_dat_displacements3d(path: Path, n_nodes: int) -> list[np.ndarray]:
    """Nodal displacements (n_nodes, 3) of every step from a CalculiX ``.dat`` file."""
    from .calculix import read_dat_displacements

    return read_dat_displacements(path, n_nodes, dim=3)


def export_case3d(case) -> callable:
    """Deck writer of a ``model = "quarter_3d"`` case: ``write(out_dir) -> [path]`` (C3D10, one step per
    temperature from the case's stress-free temperature, our supports).

    The free package: a step at each ``analysis.temperatures_C``.  The assembly (``board = true``): the
    package on its board with every ball of the quarter (the global model's mesh with a submodel), as a
    linear thermo-elastic cross-check of the mesh, the materials and the supports - every material
    elastic, the solder and the copper too (their inelastic laws have no CalculiX equivalent here), one
    step at each cycling extreme; the deck's heading says so."""
    from ..analysis.quarter3d import build_assembly, build_quarter, is_assembly
    from ..analysis.thermoelastic3d import quarter_supports

    def write(out_dir) -> list[Path]:
        a = case.spec.analysis
        if is_assembly(case):
            model, assignment = build_assembly(case)
            lo, hi = a.cycling.extremes()
            # stress-free where the cycling starts: the stress-free temperature, or T_min without the cool-down
            T_ref = float(a.stress_free_temperature_C) if a.cycling.cooldown else float(lo)
            deck = Path(out_dir) / f"{case.name}_assembly.inp"
            return [write_deck3d(deck, model, assignment, T_ref, [float(lo), float(hi)], quarter_supports(model),
                                 note=ASSEMBLY_NOTE)]
        model, assignment = build_quarter(case)
        deck = Path(out_dir) / f"{case.name}_package.inp"
        if case.has_process:  # the *MODEL CHANGE deck of its steps (linear-elastic, ramp/dwell/birth/removal)
            from ..errors import CaseError
            from ..process_case3d import quarter_history
            from .calculix_process import write_process_deck

            _, initial, steps, labels, fixed = quarter_history(case, model, assignment)
            try:
                return [write_process_deck(deck, model, assignment, "3d", initial, steps, np.flatnonzero(fixed),
                                           labels)]
            except CaseError as exc:
                raise CaseError(f"{case.path}: [package, 3D] {exc}") from None
        return [write_deck3d(deck, model, assignment, float(a.stress_free_temperature_C),
                             [float(t) for t in a.temperatures_C], quarter_supports(model))]

    return write


ASSEMBLY_NOTE = ("the assembly as a linear thermo-elastic cross-check: every material elastic, solder and copper "
                 "included (Anand and plasticity are not exported); steps at the cycling extremes")
