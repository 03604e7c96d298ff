"""CalculiX / Abaqus input deck of a section: the same mesh, materials, supports and temperatures.

Elements: CPE6 (plane strain), CPS6 (plane stress, unit thickness) or CAX6
(axisymmetric); node order of the 6-node triangle is the same as ours.
Materials are linear thermo-elastic with their temperature tables.  One
``*STEP`` per temperature, each a linear static step under a uniform
temperature field, so each step's displacements correspond to one of our
states.  Generalized plane strain has no CalculiX 2D equivalent and is
refused.

Thermal expansion: Abaqus/CalculiX ``*EXPANSION`` takes *secant*
coefficients referred to ``ZERO``; ours are instantaneous.  The deck lists
alpha_sec(T) = eps_th(T) / (T - T_ref) at the analysis temperatures and
every table temperature, with ZERO = T_ref and the initial temperature
T_ref, which reproduces eps_th exactly at those temperatures (piecewise
linear between them).

Orthotropic axes: our (1 along the section, 2 out of it, 3 thickness) are
CalculiX (x, z, y); the engineering constants are permuted accordingly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CaseError
from ..material import Material
from ..model import Model

ELEMENT = {"plane_strain": "CPE6", "plane_stress": "CPS6", "axisymmetric": "CAX6"}


def _temperatures(mat: Material, temps: list[float], T_ref: float) -> list[float]:
    pts = set(float(t) for t in temps) | {float(T_ref)}
    for table in mat.elastic.props.values():
        if table.T_C is not None:
            lo, hi = min(pts), max(pts)
            pts |= {float(t) for t in table.T_C if lo <= t <= hi}
    return sorted(pts)


def _secant(mat: Material, T: float, T_ref: float) -> np.ndarray:
    """Secant CTE (xx, yy, zz) from T_ref to T; the instantaneous one at T_ref."""
    if abs(T - T_ref) < 1e-9:
        h = 1e-3
        return mat.elastic.thermal_strain(T_ref + h, T_ref)[:3] / h
    return mat.elastic.thermal_strain(T, T_ref)[:3] / (T - T_ref)


def _material_cards(name: str, mat: Material, temps: list[float], T_ref: float) -> list[str]:
    lines = [f"*MATERIAL, NAME={name}"]
    Ts = _temperatures(mat, temps, T_ref)
    p = mat.elastic.props
    if mat.elastic.symmetry == "isotropic":
        lines.append("*ELASTIC")
        for T in Ts:
            lines.append(f"{p['E_MPa'](T):.10g}, {p['nu'](T):.10g}, {T:.10g}")
        lines.append(f"*EXPANSION, ZERO={T_ref:.10g}")
        for T in Ts:
            lines.append(f"{_secant(mat, T, T_ref)[0]:.12g}, {T:.10g}")
        return lines
    lines.append("*ELASTIC, TYPE=ENGINEERING CONSTANTS")
    for T in Ts:
        E1, E2, E3 = p["E1_MPa"](T), p["E2_MPa"](T), p["E3_MPa"](T)
        nu12, nu13, nu23 = p["nu12"](T), p["nu13"](T), p["nu23"](T)
        G12, G13, G23 = p["G12_MPa"](T), p["G13_MPa"](T), p["G23_MPa"](T)
        # CalculiX axes (x, y, z) = ours (1, 3, 2)
        cx = [E1, E3, E2, nu13, nu12, nu23 * E3 / E2, G13, G12, G23]
        lines.append(", ".join(f"{v:.10g}" for v in cx[:8]))  # 8 values per data line
        lines.append(f"{cx[8]:.10g}, {T:.10g}")
    lines.append(f"*EXPANSION, TYPE=ORTHO, ZERO={T_ref:.10g}")
    for T in Ts:
        a = _secant(mat, T, T_ref)  # ours (xx, yy, zz) are already model axes x, y, z
        lines.append(f"{a[0]:.12g}, {a[1]:.12g}, {a[2]:.12g}, {T:.10g}")
    return lines


def write_deck(path: Path, model: Model, assignment: dict[str, Material], kinematics: str, T_ref: float,
               temperatures: list[float], fixed_dofs: np.ndarray) -> Path:
    """Write ``path`` (.inp); ``fixed_dofs`` are our full-numbering dofs held at zero."""
    if kinematics not in ELEMENT:
        raise CaseError(f"CalculiX export supports plane_strain, plane_stress and axisymmetric, not {kinematics}")
    el = ELEMENT[kinematics]
    out = ["** reliability -> CalculiX deck (linear thermo-elastic)", "*HEADING",
           f"{model.source}; {kinematics}; stress-free at {T_ref:g} C", "*NODE, NSET=NALL"]
    for i, (x, y) in enumerate(model.nodes, start=1):
        # CalculiX reads at most 20 characters per number: 12 significant digits fit
        out.append(f"{i}, {x:.12g}, {y:.12g}, 0")
    for r, region in enumerate(model.region_names):
        elems = np.flatnonzero(model.element_region == r)
        out.append(f"*ELEMENT, TYPE={el}, ELSET=E_{region}")
        for e in elems:
            out.append(f"{e + 1}, " + ", ".join(str(n + 1) for n in model.elements[e]))
    materials: dict[int, str] = {}
    for region, mat in assignment.items():
        materials.setdefault(id(mat), f"M{len(materials) + 1}_{mat.name}"[:80].replace(" ", "_"))
    done = set()
    for region, mat in assignment.items():
        name = materials[id(mat)]
        if name not in done:
            out += _material_cards(name, mat, temperatures, T_ref)
            done.add(name)
        out.append(f"*SOLID SECTION, ELSET=E_{region}, MATERIAL={name}")
        if el == "CPS6":
            out.append("1.0")
    out.append("*BOUNDARY")
    for d in fixed_dofs:
        out.append(f"{d // 2 + 1}, {d % 2 + 1}, {d % 2 + 1}, 0")
    out.append("*INITIAL CONDITIONS, TYPE=TEMPERATURE")
    out.append(f"NALL, {T_ref:.10g}")
    for T in temperatures:
        out += ["*STEP", "*STATIC", "*TEMPERATURE", f"NALL, {T:.10g}", "*NODE PRINT, NSET=NALL", "U", "*END STEP"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path


def read_dat_displacements(path: Path, n_nodes: int, dim: int = 2) -> list[np.ndarray]:
    """Nodal displacements (n_nodes, dim) of every step from a CalculiX ``.dat`` file (dim 2: a section's
    x, y; dim 3: a 3D model's x, y, z)."""
    steps, current = [], None
    for line in Path(path).read_text().splitlines():
        if "displacements (vx,vy,vz)" in line:
            current = np.zeros((n_nodes, dim))
            steps.append(current)
            continue
        parts = line.split()
        if current is not None and len(parts) == 4:
            try:
                node = int(parts[0])
            except ValueError:
                continue
            if 1 <= node <= n_nodes:
                current[node - 1] = [float(v) for v in parts[1:1 + dim]]
    return steps


def export_case(case_path, out_dir) -> list[Path]:
    """Write one deck per section of a case (mesh file: one; board-level builder: package and assembly).

    A case with a process history gets the *MODEL CHANGE deck of its steps
    (:mod:`reliability.export.calculix_process`, linear-elastic cases only);
    otherwise one step per temperature from the stress-free temperature.
    """
    from ..case import load_case
    from ..fem.constraints import supports
    from ..process.history import persistent_nodes
    from ..process.steps import born_later
    from ..process_case import check_step_temperatures, section_steps
    from ..run import solvable_temperatures
    from ..sections import sections
    from .calculix_process import write_process_deck

    case = load_case(case_path)
    analysis = case.spec.analysis
    written = []
    for sec in sections(case):
        deck = Path(out_dir) / f"{case.name}_{sec.role}.inp"
        if case.has_process:
            initial, steps, labels = section_steps(case, sec)
            check_step_temperatures(case, sec, initial, steps, labels)
            # point supports on nodes that exist through every step, as the history's
            transient = born_later(steps) | {r for s in steps if s.kind == "deactivate" for r in s.regions}
            keep = persistent_nodes(sec.model, transient)
            layout = supports(sec.model, analysis.kinematics, sec.symmetry_line, keep)
            fixed = np.flatnonzero(layout.fixed[: 2 * sec.model.n_nodes])
            try:
                written.append(write_process_deck(deck, sec.model, sec.assignment, analysis.kinematics, initial,
                                                  steps, fixed, labels))
            except CaseError as exc:
                raise CaseError(f"{case.path}: [{sec.role}] {exc}") from None
            continue
        temps, _ = solvable_temperatures(sec, analysis.temperatures_C)
        layout = supports(sec.model, analysis.kinematics, sec.symmetry_line)
        fixed = np.flatnonzero(layout.fixed[: 2 * sec.model.n_nodes])
        written.append(write_deck(deck, sec.model, sec.assignment, analysis.kinematics,
                                  analysis.stress_free_temperature_C, temps, fixed))
    return written
