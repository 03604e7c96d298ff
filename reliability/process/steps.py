"""Process steps: the kinds a fabrication history is made of, and their case-file schema.

Each kind is a small class with ``kind`` (its case-file name) and
``run(history)``, which drives a :class:`~reliability.process.history.History`
through increments and element births or removals.  ``STEP_KINDS`` is the
registry the case schema reads: a new kind is one class here.

Temperatures are in degrees C, durations in minutes in the case file (s
inside), rates in K/min.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

import pydantic

from ..validation import STRICT, Number, PositiveNumber

DEFAULT_RATE_K_PER_MIN = 10.0  # a typical oven ramp; override per step
# J-STD-020 (physics.md 5: dynamic warpage zone 150 C -> peak -> 150 C); the segment rates are U
REFLOW_PREHEAT_C = (150.0, 200.0)
REFLOW_LIQUIDUS_C = 217.0


class _Step(pydantic.BaseModel):
    model_config = STRICT
    claim: str = ""  # the patent claim(s) this step implements, for the printed sequence
    note: str = ""

    def describe(self) -> str:
        raise NotImplementedError


class Ramp(_Step):
    """Uniform temperature change to ``to_C`` at ``rate_K_per_min``."""

    kind: Literal["ramp"] = "ramp"
    to_C: Number
    rate_K_per_min: PositiveNumber = DEFAULT_RATE_K_PER_MIN

    def describe(self) -> str:
        return f"ramp to {self.to_C:g} C at {self.rate_K_per_min:g} K/min"

    def run(self, h) -> None:
        h.ramp(self.to_C, self.rate_K_per_min)


class Dwell(_Step):
    """A hold at the current temperature (viscous materials creep and relax)."""

    kind: Literal["dwell"] = "dwell"
    duration_min: PositiveNumber

    def describe(self) -> str:
        return f"dwell {self.duration_min:g} min"

    def run(self, h) -> None:
        h.dwell(60.0 * self.duration_min)


class RegionStep(_Step):
    """A step acting on named regions of the model."""

    regions: list[str] = pydantic.Field(min_length=1)

    @property
    def names(self) -> str:
        return ", ".join(self.regions)


class Activate(RegionStep):
    """The regions are born strain-free at the current temperature, on the body as deformed now."""

    kind: Literal["activate"] = "activate"
    at_C: Optional[Number] = None  # first ramp to this temperature (e.g. a cure or solidus temperature)

    def describe(self) -> str:
        where = f" at {self.at_C:g} C" if self.at_C is not None else ""
        return f"activate {self.names}{where}"

    def run(self, h) -> None:
        if self.at_C is not None:
            h.ramp(self.at_C, DEFAULT_RATE_K_PER_MIN)
        h.activate(self.regions)


class Deactivate(RegionStep):
    """The regions' elements are removed (carrier release, grinding): their forces are released."""

    kind: Literal["deactivate"] = "deactivate"

    def describe(self) -> str:
        return f"remove {self.names}"

    def run(self, h) -> None:
        h.deactivate(self.regions)


class Cure(RegionStep):
    """A hold during which the regions shrink by their material's ``cure_shrinkage_linear``."""

    kind: Literal["cure"] = "cure"
    duration_min: PositiveNumber = 60.0

    def describe(self) -> str:
        return f"cure {self.names} for {self.duration_min:g} min (cure shrinkage released)"

    def run(self, h) -> None:
        h.cure(self.regions, 60.0 * self.duration_min)


class Reflow(_Step):
    """A J-STD-020 style reflow: preheat to 150 C, soak to 200 C, to the peak, a time there, cool to the start.

    Solder whose solidus lies below the peak melts on the way up (its elements
    are removed, their stress released) and is born again strain-free at its
    solidus on the way down; ``join`` regions (the board-level joints, the
    board) are born there too: board assembly.
    """

    kind: Literal["reflow"] = "reflow"
    peak_C: Number = 260.0
    soak_s: PositiveNumber = 90.0
    time_at_peak_s: PositiveNumber = 30.0
    ramp_K_per_s: PositiveNumber = 2.0
    cool_K_per_s: PositiveNumber = 4.0
    join: list[str] = []

    def describe(self) -> str:
        joined = f", joining {', '.join(self.join)} as the solder solidifies" if self.join else ""
        return f"reflow to a {self.peak_C:g} C peak and back{joined}"

    def run(self, h) -> None:
        lo, hi = REFLOW_PREHEAT_C
        start = h.state.T
        segments = [(lo, 60.0 * self.ramp_K_per_s), (hi, 60.0 * (hi - lo) / self.soak_s),
                    (self.peak_C, 60.0 * self.ramp_K_per_s), ("dwell", self.time_at_peak_s),
                    (start, 60.0 * self.cool_K_per_s)]
        h.reflow(self.peak_C, [seg for seg in segments if seg[0] == "dwell" or seg[0] <= self.peak_C], self.join)


class Evaluate(_Step):
    """Report at temperatures without changing the history (each from the current state)."""

    kind: Literal["evaluate"] = "evaluate"
    temperatures_C: list[Number] = pydantic.Field(min_length=1)

    def describe(self) -> str:
        return f"evaluate at {', '.join(f'{t:g}' for t in self.temperatures_C)} C"

    def run(self, h) -> None:
        h.evaluate(self.temperatures_C)


STEP_KINDS = {cls.model_fields["kind"].default: cls for cls in (Ramp, Dwell, Activate, Deactivate, Cure, Reflow,
                                                                Evaluate)}
Step = Union[Ramp, Dwell, Activate, Deactivate, Cure, Reflow, Evaluate]


def parse_step(data: dict) -> _Step:
    """One step from its case-file table (``kind`` chooses the class); raises pydantic's ValidationError."""
    kind = data.get("kind")
    if kind not in STEP_KINDS:
        raise ValueError(f"kind = {kind!r}: allowed kinds are {', '.join(STEP_KINDS)}")
    return STEP_KINDS[kind].model_validate(data)


def regions_named(steps) -> set[str]:
    """Every region a list of steps names."""
    return {r for s in steps if isinstance(s, RegionStep) for r in s.regions} | \
        {r for s in steps if isinstance(s, Reflow) for r in s.join}


def born_later(steps) -> set[str]:
    """Regions some step creates (activate, or joined in a reflow): inactive at the start."""
    return {r for s in steps if isinstance(s, Activate) for r in s.regions} | \
        {r for s in steps if isinstance(s, Reflow) for r in s.join}
