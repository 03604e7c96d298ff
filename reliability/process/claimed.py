"""The claimed fabrication sequence of each package family, as process steps.

Each family's method claims list the order in which the package is made;
here that order is a list of :class:`Stage` (which regions are formed, at
what temperature, by which claim).  :func:`claimed_steps` turns it into
steps for one section: the first stage's regions exist from the start,
stress-free at its temperature; each later stage is an activation at its
temperature (a cure with shrinkage where the material has it); the package
cools to room temperature, and goes through the ball-attach reflow (solder
bumps inside it melt and solidify again).  A board-level section then
goes through the board-assembly reflow, in which the joints and the board
are born as the solder solidifies at its solidus.

Regions a stage names that the section does not have (an option not
chosen, the board in a free package) are skipped, so one list serves every
option of a family.

Temperatures (degrees C; docs/physics_reference.md 4.2, the table in docs/process_history.md):
"""

from __future__ import annotations

from dataclasses import dataclass

from .steps import Activate, Cure, Ramp, Reflow

ROOM_C = 25.0
MOLD_CURE_C = 175.0  # C: transfer molding 160-180 C, post-mold cure 175 C (physics.md 4.2)
ADHESIVE_CURE_C = 150.0  # C: die-attach cure 150 C in the Zymet comparison (physics.md 4.2)
UNDERFILL_CURE_C = 165.0  # U: underfill cure 120-165 C (physics.md 4.2), the upper value
POLYIMIDE_CURE_C = 200.0  # U: low-temperature-cure polyimide for redistribution layers; no source in physics.md
LAMINATE_C = 150.0  # U: a laminated (dry-film) insulation, pressed and cured at about 150 C
PASTE_CURE_C = 150.0  # U: conductive paste cure
MASK_CURE_C = 150.0  # U: LPI solder mask thermal cure
PLATING_C = ROOM_C  # U: electroplated copper is deposited near room temperature
BOARD_REGIONS = ("board", "board_pad", "board_mask")  # joints: the solder_<k> regions


@dataclass(frozen=True)
class Stage:
    regions: tuple[str, ...]
    T_C: float
    claim: str
    what: str
    cure: bool = False  # release the regions' cure shrinkage (material key cure_shrinkage_linear)


def _fan_out(options: dict) -> list[Stage]:
    grind = ("; grinding flush with the bump ends (claims 10, 16) and off the die backside (claims 11, 17): "
             "the mold over the die is not in the section, exact for the elastic mold and die"
             if options.get("backside") == "exposed" else
             "; grinding flush with the bump ends (claims 10, 16)")
    return [
        Stage(("die", "bump", "mold"), MOLD_CURE_C, "1, 9",
              "bumped chips on the carrier, encapsulated; the carrier (a tape, claims 14, 20) is compliant "
              "and not modelled", cure=True),
        Stage(("trace_1",), PLATING_C, "1, 9, 15",
              "carrier removed (claim 9)" + grind + "; first traces plated"),
        Stage(("dielectric",), POLYIMIDE_CURE_C, "2, 15", "dielectric cured"),
        Stage(("via", "trace_2"), PLATING_C, "2, 15", "vias and second traces plated"),
        Stage(("solder_mask",), MASK_CURE_C, "1, 9", "solder mask cured"),
    ]


def _flip_chip_on_leads(options: dict) -> list[Stage]:
    return [
        Stage(("die", "bump", "lead", "protective"), 0.0, "1", "bumps fused to the leads at their solidus"),
        Stage(("encapsulant",), MOLD_CURE_C, "1", "encapsulant molded and cured", cure=True),
    ]


def _stacked_flip_chip(options: dict) -> list[Stage]:
    return [
        Stage(("chip_1", "chip_2", "bump", "carrier_1", "carrier_2", "adhesive", "via"), ADHESIVE_CURE_C,
              "1, 5, 10",
              "both chips flip-chip bonded, their backsides joined by the adhesive as it cures (the two bonds "
              "share one bump region in the section, so they start together, stress-free at the cure); the "
              "section cuts the carriers at the via holes, around which they are whole in 3D, so the vias "
              "(claim 1) stand in for the carrier there from the start"),
        Stage(("resin",), UNDERFILL_CURE_C, "1, 6, 11", "resin filled and cured", cure=True),
        Stage(("trace",), PLATING_C, "7, 12", "traces between the carriers plated along the resin edge"),
        Stage(("ball_pad",), PLATING_C, "2", "ball pads"),
        Stage(("solder_mask",), MASK_CURE_C, "2", "solder mask cured"),
    ]


def _wlp_paste_plug(options: dict) -> list[Stage]:
    laminated = options.get("insulation") == "laminated"
    return [
        Stage(("die", "insulation"), LAMINATE_C if laminated else POLYIMIDE_CURE_C, "1, 2, 3",
              "insulation " + ("laminated (claim 3)" if laminated else "spin-coated and cured (claim 2)")
              + " on the wafer, windows opened"),
        Stage(("window_bump",), PLATING_C, "7, 14", "bumps in the windows"),
        Stage(("paste_plug",), PASTE_CURE_C, "1", "conductive paste plugs filled and cured"),
        Stage(("rdl_dielectric",), POLYIMIDE_CURE_C, "8, 15", "redistribution dielectric cured"),
        Stage(("rdl_copper",), PLATING_C, "8, 15", "redistribution metal"),
        Stage(("ball_pad",), PLATING_C, "1", "ball pads (metal on the plugs)"),
        Stage(("solder_mask",), MASK_CURE_C, "1", "solder mask cured"),
    ]


def _pbga(options: dict) -> list[Stage]:
    """The standard PBGA assembly flow (a test vehicle, not a patent family, so no claim numbers): die attach
    dispensed on the BT substrate (its bottom pads and solder mask made with it) and cured, wire bonding
    (the wires are not in the section), transfer molding with post-mold cure, then ball attach and board
    assembly (the two reflows of :func:`claimed_steps`).  Temperatures: die-attach cure 150 C and mold cure
    175 C (physics.md 4.2, the constants above); ball-attach and board-assembly reflow peaks: the solder's
    reflow (process.reflow_peak_C, 260 C default), the joints solidifying at the solidus (217 C for SAC305)."""
    return [
        Stage(("substrate", "ball_pad", "solder_mask", "die", "die_attach"), ADHESIVE_CURE_C, "",
              f"standard PBGA process, not from a claim: die attached to the BT substrate, the die attach cured "
              f"at {ADHESIVE_CURE_C:g} C (physics.md 4.2), the die, attach and substrate stress-free there; wire "
              "bonding follows (gold wires, not in the section)", cure=True),
        Stage(("mold",), MOLD_CURE_C, "",
              f"standard PBGA process, not from a claim: mold cap transfer-molded and post-mold cured at "
              f"{MOLD_CURE_C:g} C (physics.md 4.2)", cure=True),
    ]


def _wlp_polyimide_land(options: dict) -> list[Stage]:
    return [
        Stage(("die", "polyimide_1"), POLYIMIDE_CURE_C, "1", "first polyimide cured on the wafer, opened at the "
              "chip pads"),
        Stage(("wiring",), PLATING_C, "1", "wiring plated"),
        Stage(("polyimide_2",), POLYIMIDE_CURE_C, "1", "second polyimide (the ball land) cured"),
    ]


SEQUENCES = {
    "fan_out": _fan_out,
    "flip_chip_on_leads": _flip_chip_on_leads,
    "stacked_flip_chip": _stacked_flip_chip,
    "wlp_paste_plug": _wlp_paste_plug,
    "wlp_polyimide_land": _wlp_polyimide_land,
    "pbga": _pbga,
}


def joint_regions(region_names) -> list[str]:
    return [r for r in region_names if r.startswith("solder_") and r[7:].isdigit()]


def claimed_steps(family: str, options: dict, region_names, assignment: dict):
    """(initial_C, steps) of ``family``'s claimed sequence for a section with ``region_names``.

    ``assignment``: region -> Material; a stage at 0.0 C starts at the solidus of its solder, a cure
    stage releases the shrinkage of the regions whose material has ``cure_shrinkage_linear``."""
    present = set(region_names)
    solidus = {r: m.spec.solidus_C for r, m in assignment.items() if m.spec.solidus_C is not None}
    shrinks = {r for r, m in assignment.items() if getattr(m.spec, "cure_shrinkage_linear", None)}
    stages = []
    for st in SEQUENCES[family](options):
        regions = tuple(r for r in st.regions if r in present)
        if regions:
            stages.append(Stage(regions, st.T_C, st.claim, st.what, st.cure))
    first = stages[0]
    initial = first.T_C if first.T_C > 0 else min(solidus[r] for r in first.regions if r in solidus)
    steps = []
    def cure(st: Stage, note: str) -> None:
        regions = [r for r in st.regions if r in shrinks]
        if st.cure and regions:
            steps.append(Cure(regions=regions, claim=st.claim, note=note))

    cure(first, first.what)
    T = initial
    for st in stages[1:]:
        steps.append(Activate(regions=list(st.regions), at_C=st.T_C if st.T_C != T else None, claim=st.claim,
                              note=st.what))
        T = st.T_C
        cure(st, "cure shrinkage")
    if T != ROOM_C:
        steps.append(Ramp(to_C=ROOM_C, note="cool to room temperature"))
    joints = joint_regions(region_names)
    if not joints:
        melting = sorted(r for r in present if r in solidus)
        steps.append(Reflow(claim="", note=(f"ball attach: the solder in the package ({', '.join(melting)}) melts "
                                            "and solidifies again") if melting else
                            "ball attach: no solder inside the package, a thermal excursion to the peak"))
    else:
        # the ball-attach reflow is skipped: the board-assembly reflow melts the same solder again, and the
        # elastic parts' state at its solidus does not depend on what the solder did before
        steps.append(Reflow(join=joints + [r for r in BOARD_REGIONS if r in present],
                            note="board assembly: the balls become joints as the solder solidifies, the board "
                            "joins stress-free at the solidus"))
    known = {r for st in stages for r in st.regions} | set(joints) | set(BOARD_REGIONS)
    missing = sorted(present - known)
    if missing:
        raise ValueError(f"{family}: regions {missing} are in no stage of the claimed sequence")
    return initial, steps
