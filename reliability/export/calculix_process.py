"""CalculiX deck of a process history (element birth and death) for linear-elastic sections.

The deck replays a :class:`~reliability.process.history.History` made of
ramp, dwell, activate and deactivate steps with CalculiX's ``*MODEL
CHANGE``.  Mesh, elements, materials (secant CTE referred to ZERO = the
process's initial temperature), sections and supports are those of
:func:`reliability.export.calculix.write_deck`.  Regions that no step
activates exist from the start, stress-free at ``initial_C``.

What CalculiX does (ccx 2.20 manual, ``*MODEL CHANGE``; source
``modelchanges.f``, ``resultsmech.f``):

* ``ADD=STRAIN FREE`` stores the element's *mechanical* strain at the moment
  it is added (total strain of the current displacements minus the thermal
  strain at the current temperature) as an initial strain, "such that the
  resulting stress tensor is zero ... stress free rather than strain free".
  An element added at T_b onto the deformed body therefore carries later the
  mechanical strain eps - eps_b - (eth(T) - eth(T_b)), which with
  eth(T) = alpha_sec(T) (T - ZERO) = A(T) - A(ZERO) is ours,
  eps - eps_birth - (A(T) - A(T_b)): the thermal strain at birth is
  accounted for and no per-region ``ZERO`` is needed.  The addition step
  keeps the temperature (an activation ``at_C`` is a ramp step first), so
  the strain is taken at T_b whichever increment CalculiX takes it in.
* ``REMOVE`` takes the elements out of the equations: their forces on the
  rest are released within the step (the end state of a linear-elastic
  body does not depend on how).  ``ADD``/``REMOVE`` toggle the element
  state, so the active set is tracked here and a double change refused.
* A strain-free addition needs a nonlinear procedure: the first step is
  ``*STEP, NLGEOM`` (nothing loads it); every later step is ``*STEP,
  NLGEOM=NO``, which keeps CalculiX's nonlinear procedure but with linear
  kinematics, as ours.  Expanded 2D elements (CPE6/CPS6/CAX6 become
  C3D15) cannot be removed in the first step: the born-later regions are
  removed in a second, unloaded step.

Placement of a born region.  History puts the nodes that only a new region
touches on the deformed body (``InelasticProblem.extend_displacement``:
the displacement of an auxiliary elastic body of the new elements, E
arbitrary, nu = 0.3, whose shared nodes follow the body).  In CalculiX
those nodes would otherwise stay where they were, which changes no strain
or stress but all their displacements.  The deck gives each born-later
region a *carrier*: a copy of its elements (ids after ours, ELSET
``C_<region>``) of a stress-free, non-expanding material with nu = 0.3 and
E = 1e-6 of the smallest modulus, present until the region is added (then
removed in the same step).  Its nodes then sit exactly where the
auxiliary body puts them (a stiffness scale does not move them) and it
disturbs the body by about 1e-6.  (Regions born at different times that
touch before either is born share carrier nodes, which ours places one
region at a time: displacements of those nodes differ, strains do not.)

Output: ``*NODE PRINT`` of U at the end of each of our steps only, so the
``.dat`` has one displacement block per step
(:func:`~reliability.export.calculix.read_dat_displacements`).  Nodes of
removed elements keep the displacement they had, as ours do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..constitutive.models import inelastic_model
from ..errors import CaseError
from ..material import Material
from ..model import Model
from .calculix import ELEMENT, _material_cards

KINDS = ("ramp", "dwell", "activate", "deactivate")
CARRIER_E_FRACTION = 1e-9  # carrier modulus / smallest material modulus (disturbs the body by ~1e-9)
STEP_LINE = "*STEP, NLGEOM=NO"
STATIC = ["*STATIC", "1., 1., 1., 1."]  # one increment: the problem is linear


def _smallest_modulus(assignment: dict[str, Material], T: float) -> float:
    keys = ("E_MPa", "E1_MPa", "E2_MPa", "E3_MPa")
    return min(float(m.elastic.props[k](T)) for m in assignment.values() for k in keys if k in m.elastic.props)


def write_process_deck(path: Path, model: Model, assignment: dict[str, Material], kinematics: str,
                       initial_C: float, steps, fixed_dofs: np.ndarray) -> Path:
    """Write ``path`` (.inp): the history ``steps`` (parsed process steps, temperatures C) from
    ``initial_C``; ``fixed_dofs`` are our full-numbering dofs held at zero (supports on nodes that exist
    throughout).  Raises :class:`CaseError` for inelastic materials or other step kinds."""
    if kinematics not in ELEMENT:
        raise CaseError(f"CalculiX export supports plane_strain, plane_stress and axisymmetric, not {kinematics}")
    present = {r: m for r, m in assignment.items() if r in model.region_names}
    for region, mat in present.items():
        if inelastic_model(mat) is not None:
            raise CaseError(f"CalculiX process export (*MODEL CHANGE) is for linear-elastic cases: region "
                            f"'{region}' is '{mat.name}', which is inelastic")
    for i, st in enumerate(steps):
        if st.kind not in KINDS:
            raise CaseError(f"process step {i + 1} ({st.describe()}): the CalculiX process export supports "
                            f"{', '.join(KINDS)} steps, not {st.kind}")
        for r in getattr(st, "regions", []):
            if r not in model.region_names:
                raise CaseError(f"process step {i + 1} ({st.describe()}): region '{r}' is not in the model")
    born = list(dict.fromkeys(r for st in steps if st.kind == "activate" for r in st.regions))
    temps = [float(initial_C)] + [float(t) for st in steps for t in (getattr(st, "to_C", None),
                                                                     getattr(st, "at_C", None)) if t is not None]

    el = ELEMENT[kinematics]
    out = ["** reliability -> CalculiX deck (process history, linear thermo-elastic)", "*HEADING",
           f"{model.source}; {kinematics}; process from {initial_C:g} C", "*NODE, NSET=NALL"]
    out += [f"{i}, {x:.12g}, {y:.12g}, 0" for i, (x, y) in enumerate(model.nodes, start=1)]

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
            out += _material_cards(names[id(mat)], mat, temps, float(initial_C))
    thickness = ["1.0"] if el == "CPS6" else []
    for region, mat in present.items():
        out += [f"*SOLID SECTION, ELSET=E_{region}, MATERIAL={names[id(mat)]}"] + thickness
    if born:
        E_c = CARRIER_E_FRACTION * _smallest_modulus(present, float(initial_C))
        out += ["*MATERIAL, NAME=CARRIER", "*ELASTIC", f"{E_c:.6g}, 0.3"]
        out += [line for r in born for line in [f"*SOLID SECTION, ELSET=C_{r}, MATERIAL=CARRIER"] + thickness]
    out.append("*BOUNDARY")
    out += [f"{d // 2 + 1}, {d % 2 + 1}, {d % 2 + 1}, 0" for d in fixed_dofs]
    out += ["*INITIAL CONDITIONS, TYPE=TEMPERATURE", f"NALL, {initial_C:.10g}"]

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
                raise CaseError(f"process step {i + 1} ({st.describe()}): region '{again[0]}' is already active")
            if st.at_C is not None:
                out += [f"** process step {i + 1}: to {st.at_C:g} C first", STEP_LINE, *STATIC, "*TEMPERATURE",
                        f"NALL, {st.at_C:.10g}", "*END STEP"]
            carried = [r for r in st.regions if r not in built]
            body = (change("REMOVE", carried, "C_") if carried else []) + change("ADD=STRAIN FREE", st.regions)
            alive |= set(st.regions)
            built |= set(st.regions)
        elif st.kind == "deactivate":
            gone = [r for r in st.regions if r not in alive]
            if gone:
                raise CaseError(f"process step {i + 1} ({st.describe()}): region '{gone[0]}' is not active")
            body = change("REMOVE", st.regions)
            alive -= set(st.regions)
        out += [f"** process step {i + 1}: {st.describe()}", STEP_LINE, *STATIC, *body,
                "*NODE PRINT, NSET=NALL", "U", "*END STEP"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path
