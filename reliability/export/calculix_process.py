"""CalculiX deck of a process history (element birth and death) for linear-elastic sections and 3D models.

The deck replays a :class:`~reliability.process.history.History` made of
ramp, dwell, activate and deactivate steps with CalculiX's ``*MODEL
CHANGE``; anything inelastic, and the cure and reflow steps, are refused.
Mesh, elements (CPE6, CAX6; C3D10 for a 3D model, ``kinematics = "3d"``),
materials (secant CTE referred to ZERO = the process's initial temperature,
:func:`reliability.export.calculix._material_cards`, the 3D cards of
:mod:`reliability.export.calculix3d`) and supports are those of
:func:`~reliability.export.calculix.write_deck` / ``write_deck3d``.
Regions that no step activates exist from the start, stress-free at
``initial_C``.  Units mm, N, MPa, degrees C.

What CalculiX does (manual, ``*MODEL CHANGE``; source ``modelchanges.f``,
``resultsmech.f``, ``mafillsm.f``):

* ``ADD=STRAIN FREE``: "the strains at the time of adding the element ... are
  modified by artificial initial strains such that the resulting stress
  tensor is zero.  In that sense the elements are stress free rather than
  strain free."  The stored initial strain is the *mechanical* strain at
  the first evaluation after the addition: the total strain of the current
  (deformed) displacements minus the thermal strain eth(T_b) at the current
  temperature.  Later the element's mechanical strain is
  eps - eps_b - (eth(T) - eth(T_b)); with eth(T) = alpha_sec(T) (T - ZERO)
  = A(T) - A(ZERO) that is ours, eps - eps_birth - (A(T) - A(T_b)): the
  thermal strain at birth is accounted for, so every region keeps the one
  ZERO = initial_C (exact at the step temperatures, which the secant table
  lists).  The addition step leaves the temperature unchanged (an
  ``at_C`` activation is a ramp step first), so the strain is taken at T_b
  whichever increment CalculiX evaluates it in.
* ``REMOVE``: removed elements are skipped in the stiffness and the internal
  forces, so their forces on the rest are released in the step's increment
  (the end state of an elastic body does not depend on how).  Their nodes
  keep the displacement they had, as ours do.  ADD and REMOVE toggle an
  element, so the active set is tracked here and a double change refused.
* A strain-free addition needs CalculiX's nonlinear procedure: the first
  step is ``*STEP, NLGEOM`` (nothing loads it), every later one ``*STEP,
  NLGEOM=NO``, which keeps that procedure but with linear kinematics as ours
  (NLGEOM throughout: 1.3-2.4 % off on the test strip's rotations).  Expanded
  2D elements cannot be removed in the first step, so the regions born
  later are removed in a second, unloaded step.

Placement of a born region.  History puts the nodes only a new region
touches on the deformed body (``InelasticProblem.extend_displacement``: the
displacement of an auxiliary elastic body of the new elements, nu = 0.3,
whose shared nodes follow the body).  CalculiX would leave them where they
were: no strain or stress changes, but every displacement there (and the
warpage of a born surface) would.  So each born-later region gets a
*carrier*: a copy of its elements (ids after ours, ELSET ``C_<region>``) of a
stress-free material without expansion, nu = 0.3 and E = 1e-9 of the
smallest modulus, present until the region is added (removed in that same
step).  Its nodes sit where the auxiliary body puts them (the modulus scale
does not move them) and it disturbs the body by ~1e-9.  Limits: regions
born at different times that touch before either is born share carrier
nodes, which ours places one region at a time; a region born again after a
removal has no carrier (stale nodes).  Displacements of those nodes
differ, strains and stresses do not.

Output: U of all nodes at the end of each of our steps only, so the
``.dat`` has one displacement block per step
(:func:`~reliability.export.calculix.read_dat_displacements`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..constitutive.models import inelastic_model
from ..errors import CaseError
from ..material import Material
from ..model import Model
from .calculix import ELEMENT, _material_cards
from .calculix3d import _material_cards3d

KINDS = ("ramp", "dwell", "activate", "deactivate")
CARRIER_E_FRACTION = 1e-9  # carrier modulus / smallest material modulus (disturbs the body by ~1e-9)
STEP_LINE = "*STEP, NLGEOM=NO"
STATIC = ["*STATIC", "1., 1., 1., 1."]  # one increment: the problem is linear
# a step's print selection carries over to the next step that has none: an intermediate step prints the
# temperature of node 1 instead, so that the .dat has one displacement block per process step
NO_U = ["*NODE PRINT, NSET=NPROBE", "NT"]


def _smallest_modulus(assignment: dict[str, Material], T: float) -> float:
    keys = ("E_MPa", "E1_MPa", "E2_MPa", "E3_MPa")
    return min(float(m.elastic.props[k](T)) for m in assignment.values() for k in keys if k in m.elastic.props)


def write_process_deck(path: Path, model: Model, assignment: dict[str, Material], kinematics: str,
                       initial_C: float, steps, fixed_dofs: np.ndarray, labels: list[str] | None = None) -> Path:
    """Write ``path`` (.inp): the history ``steps`` (parsed process steps, temperatures C) from
    ``initial_C``; ``fixed_dofs`` are our full-numbering dofs held at zero (2 or 3 per node; supports on nodes
    that exist throughout); ``labels[i]`` names step i in messages.  Raises :class:`CaseError` (one line) for
    inelastic materials, other step kinds, or a region activated or removed twice."""
    if kinematics not in ("plane_strain", "axisymmetric", "3d"):
        # (plane stress: no process history runs in it, and CalculiX's CPS6 is a slab of the section
        # thickness, 18 % off our plane-stress strip at thickness 1 mm)
        raise CaseError(f"the CalculiX process export supports plane_strain, axisymmetric and 3d, not {kinematics}")
    dim = 3 if kinematics == "3d" else 2
    cards = _material_cards3d if dim == 3 else _material_cards
    present = {r: m for r, m in assignment.items() if r in model.region_names}
    for region, mat in present.items():
        if inelastic_model(mat) is not None:
            raise CaseError(f"the CalculiX *MODEL CHANGE export is for linear-elastic cases: region '{region}' "
                            f"is {mat.name}, which is inelastic (plastic or viscoplastic); set process.sequence = "
                            "\"none\" for the single-temperature deck")

    def name(i: int) -> str:
        return f"{labels[i] if labels else f'process step {i + 1}'} ({steps[i].describe()})"

    for i, st in enumerate(steps):
        if st.kind not in KINDS:
            raise CaseError(f"{name(i)}: the CalculiX process export supports {', '.join(KINDS)} steps, "
                            f"not {st.kind}")
        for r in getattr(st, "regions", []):
            if r not in model.region_names:
                raise CaseError(f"{name(i)}: region '{r}' is not in the model")
    born = list(dict.fromkeys(r for st in steps if st.kind == "activate" for r in st.regions))
    temps = [float(initial_C)] + [float(t) for st in steps for t in (getattr(st, "to_C", None),
                                                                     getattr(st, "at_C", None)) if t is not None]

    el = "C3D10" if dim == 3 else ELEMENT[kinematics]  # our 10-node tetrahedron's order is C3D10's
    out = ["** reliability -> CalculiX deck (process history, linear thermo-elastic)", "*HEADING",
           f"{model.source}; {kinematics}; process from {initial_C:g} C", "*NODE, NSET=NALL"]
    xyz = model.nodes if dim == 3 else np.column_stack([model.nodes, np.zeros(model.n_nodes)])
    out += [f"{i}, {x:.12g}, {y:.12g}, {z:.12g}" for i, (x, y, z) in enumerate(xyz, start=1)]

    def elements(elset: str, ids: np.ndarray, offset: int = 0) -> None:
        out.append(f"*ELEMENT, TYPE={el}, ELSET={elset}")
        out.extend(f"{e + 1 + offset}, " + ", ".join(map(str, model.elements[e] + 1)) for e in ids)

    for region in model.region_names:
        elements(f"E_{region}", model.region_elements(region))
    for region in born:
        elements(f"C_{region}", model.region_elements(region), model.n_elements)
    names: dict[int, str] = {}
    for region, mat in present.items():
        if id(mat) not in names:
            names[id(mat)] = f"M{len(names) + 1}_{mat.name}"[:80].replace(" ", "_")
            out += cards(names[id(mat)], mat, temps, float(initial_C))
    out += [f"*SOLID SECTION, ELSET=E_{region}, MATERIAL={names[id(mat)]}" for region, mat in present.items()]
    if born:
        E_c = CARRIER_E_FRACTION * _smallest_modulus(present, float(initial_C))
        out += ["*MATERIAL, NAME=CARRIER", "*ELASTIC", f"{E_c:.6g}, 0.3"]
        out += [f"*SOLID SECTION, ELSET=C_{r}, MATERIAL=CARRIER" for r in born]
    out.append("*BOUNDARY")
    out += [f"{d // dim + 1}, {d % dim + 1}, {d % dim + 1}, 0" for d in fixed_dofs]
    out += ["*NSET, NSET=NPROBE", "1", "*INITIAL CONDITIONS, TYPE=TEMPERATURE", f"NALL, {initial_C:.10g}"]

    def change(what: str, regions, prefix: str = "E_") -> list[str]:
        return [f"*MODEL CHANGE, TYPE=ELEMENT, {what}"] + [f"{prefix}{r}" for r in regions]

    # the nonlinear procedure a strain-free addition needs; removal is not allowed in the first step
    out += ["** switches on CalculiX's nonlinear procedure (needed by ADD=STRAIN FREE); unloaded",
            "*STEP, NLGEOM", *STATIC, "*END STEP"]
    if born:
        out += ["** regions born later do not exist yet", STEP_LINE, *STATIC, *change("REMOVE", born), "*END STEP"]
    alive = set(model.region_names) - set(born)
    built = set(alive)  # regions whose carrier is gone
    for i, st in enumerate(steps):
        body = []
        if st.kind == "ramp":
            body = ["*TEMPERATURE", f"NALL, {st.to_C:.10g}"]
        elif st.kind == "activate":
            again = [r for r in st.regions if r in alive]
            if again:
                raise CaseError(f"{name(i)}: region '{again[0]}' is already active")
            if st.at_C is not None:
                out += [f"** {name(i)}: to {st.at_C:g} C first", STEP_LINE, *STATIC, "*TEMPERATURE",
                        f"NALL, {st.at_C:.10g}", *NO_U, "*END STEP"]
            carried = [r for r in st.regions if r not in built]
            body = (change("REMOVE", carried, "C_") if carried else []) + change("ADD=STRAIN FREE", st.regions)
            alive |= set(st.regions)
            built |= set(st.regions)
        elif st.kind == "deactivate":
            gone = [r for r in st.regions if r not in alive]
            if gone:
                raise CaseError(f"{name(i)}: region '{gone[0]}' is not active")
            body = change("REMOVE", st.regions)
            alive -= set(st.regions)
        out += [f"** {name(i)}", STEP_LINE, *STATIC, *body,
                "*NODE PRINT, NSET=NALL", "U", "*END STEP"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path
