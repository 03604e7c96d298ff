"""The per-point state a constitutive model keeps, declared, and the three quantities every model reports.

Every model (elastic ones too) declares its state as ``state_fields``: name -> shape per point, e.g.
``{"eps_p": (4,), "p": (), "W": (), "s": ()}`` for Anand.  The solver stores, slices, checkpoints and
resets these arrays without knowing what they mean; analyses read what they need only through the
accessors below, never by a model's private names:

* :func:`inelastic_strain` (n, 4): the inelastic strain (xx, yy, zz, xy engineering), zero for an
  elastic material;
* :func:`equivalent_inelastic_strain` (n,): the accumulated equivalent inelastic strain
  integral of sqrt(2/3 deps_p : deps_p), the measure Coffin-Manson and the strain plots use;
* :func:`inelastic_work` (n,): the accumulated inelastic work density integral of sigma : deps_p,
  MPa (= mJ/mm^3), whose change over a cycle is the dW of Darveaux and Syed.
"""

from __future__ import annotations

import numpy as np

INELASTIC_STRAIN = "eps_p"
EQUIVALENT_INELASTIC_STRAIN = "p"
INELASTIC_WORK = "W"

# what every model's state holds, whatever else it keeps
REPORTED = {INELASTIC_STRAIN: (4,), EQUIVALENT_INELASTIC_STRAIN: (), INELASTIC_WORK: ()}


def make_state(fields: dict[str, tuple], n: int, initial: dict[str, float] | None = None) -> dict:
    """Arrays of ``n`` points for the declared ``fields``, zero unless ``initial`` gives a value."""
    missing = set(REPORTED) - set(fields)
    if missing:
        raise TypeError(f"a constitutive state must declare {sorted(missing)}")
    initial = initial or {}
    return {name: np.full((n, *shape), float(initial.get(name, 0.0))) for name, shape in fields.items()}


def inelastic_strain(state: dict) -> np.ndarray:
    return state[INELASTIC_STRAIN]


def equivalent_inelastic_strain(state: dict) -> np.ndarray:
    return state[EQUIVALENT_INELASTIC_STRAIN]


def inelastic_work(state: dict) -> np.ndarray:
    return state[INELASTIC_WORK]
