"""Thermal cycling profiles (JESD22-A104) and their time increments.

A run starts stress-free at the stress-free temperature (e.g. 217 C, SAC
solidification), goes to the cold extreme at the cycle's ramp rate (the
cool-down, cycle 0), then repeats cycles of

    ramp up -> dwell at T_max -> ramp down -> dwell at T_min.

Ramps are split into equal temperature steps; dwells into time steps growing
geometrically (creep is fastest at the start of a dwell).  Condition letters
and their confidence labels follow physics.md 4.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# letter: (T_min C, T_max C, label)  - physics.md 4.1 (raonsolution.com table; C confirmed, U unverified)
JEDEC = {
    "A": (-55.0, 85.0, "C"),
    "B": (-55.0, 125.0, "C"),
    "C": (-65.0, 150.0, "C"),
    "G": (-40.0, 125.0, "C"),
    "H": (-55.0, 150.0, "C"),
    "I": (-40.0, 115.0, "U"),
    "J": (0.0, 100.0, "U"),
    "K": (0.0, 125.0, "C"),
    "L": (-55.0, 110.0, "U"),
    "M": (-40.0, 150.0, "U"),
    "N": (-40.0, 85.0, "U"),
}


@dataclass(frozen=True)
class Segment:
    kind: str  # cooldown | ramp_up | dwell_hot | ramp_down | dwell_cold
    cycle: int  # 0 for the cool-down
    t0: float  # s
    t1: float
    T0: float  # C
    T1: float

    def temperature(self, t: float) -> float:
        if self.t1 == self.t0:
            return self.T1
        return self.T0 + (self.T1 - self.T0) * (t - self.t0) / (self.t1 - self.t0)


@dataclass(frozen=True)
class Profile:
    t_min_C: float
    t_max_C: float
    ramp_s: float
    dwell_s: float
    cycles: int
    start_C: float
    segments: tuple[Segment, ...]

    @property
    def period_s(self) -> float:
        return 2 * (self.ramp_s + self.dwell_s)

    @property
    def end_s(self) -> float:
        return self.segments[-1].t1

    def mean_temperature_C(self) -> float:
        return 0.5 * (self.t_min_C + self.t_max_C)


def make_profile(t_min: float, t_max: float, ramp_min: float, dwell_min: float, cycles: int,
                 start_C: float | None) -> Profile:
    """Cool-down from ``start_C`` (if given and different from T_min), then ``cycles`` cycles."""
    ramp, dwell = 60.0 * ramp_min, 60.0 * dwell_min
    rate = (t_max - t_min) / ramp
    segs = []
    t = 0.0
    if start_C is not None and abs(start_C - t_min) > 1e-9:
        dur = abs(start_C - t_min) / rate
        segs.append(Segment("cooldown", 0, t, t + dur, start_C, t_min))
        t += dur
    for c in range(1, cycles + 1):
        for kind, dur, T0, T1 in (("ramp_up", ramp, t_min, t_max), ("dwell_hot", dwell, t_max, t_max),
                                  ("ramp_down", ramp, t_max, t_min), ("dwell_cold", dwell, t_min, t_min)):
            if dur <= 0:
                continue
            segs.append(Segment(kind, c, t, t + dur, T0, T1))
            t += dur
    return Profile(t_min, t_max, ramp, dwell, cycles, start_C if start_C is not None else t_min, tuple(segs))


def segment_times(seg: Segment, n_ramp: int, n_dwell: int, ramp_dT: float, growth: float = 2.0) -> np.ndarray:
    """End times of the increments of one segment (the last equals ``seg.t1``).

    Ramps: ``n_ramp`` equal steps per ``ramp_dT`` of temperature change (so the
    cool-down gets the cycle's step size); dwells: ``n_dwell`` geometric steps.
    """
    dur = seg.t1 - seg.t0
    if seg.kind.startswith("dwell"):
        # geometric: first step dur * (g - 1) / (g^n - 1)
        w = growth ** np.arange(n_dwell)
        steps = dur * w / w.sum()
        return seg.t0 + np.cumsum(steps)
    n = max(1, int(np.ceil(n_ramp * abs(seg.T1 - seg.T0) / ramp_dT - 1e-9)))
    return seg.t0 + dur * np.arange(1, n + 1) / n
