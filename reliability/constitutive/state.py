"""The per-point state a constitutive model keeps, declared, and the three quantities every model reports.

Every model (elastic ones too) declares its state: name -> shape per point, for either component count
of the strain vectors (4 in the 2D sections, (xx, yy, zz, xy); 6 in 3D, (xx, yy, zz, yz, xz, xy);
engineering shears in both):

* ``state_fields_for(n_components)``: the declaration for 4 or 6 components, e.g.
  ``{"eps_p": (6,), "p": (), "W": (), "s": (), "rate": ()}`` for Anand in 3D;
* ``state_fields``: the same for 4 components (the 2D declaration, which the 2D solver reads);
* ``initial_state(n, n_components=4)``: the arrays of ``n`` points.

The names are the same for both counts, only the component axes change.  The solver stores, slices,
checkpoints and resets these arrays without knowing what they mean; analyses read what they need only
through the accessors below, never by a model's private names:

* :func:`inelastic_strain` (n, c): the inelastic strain (engineering shears, the component order of
  the strain vectors), zero for an elastic material;
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
COMPONENTS = (4, 6)  # the component counts of the strain vectors: 2D sections, 3D


def reported(n_components: int = 4) -> dict[str, tuple]:
    """What every model's state holds, whatever else it keeps, for strain vectors of ``n_components``."""
    if n_components not in COMPONENTS:
        raise ValueError(f"strain vectors have 4 (2D) or 6 (3D) components, not {n_components}")
    return {INELASTIC_STRAIN: (n_components,), EQUIVALENT_INELASTIC_STRAIN: (), INELASTIC_WORK: ()}


# the 2D declaration (4 components), as the 2D models and solver use it
REPORTED = reported(4)


def make_state(fields: dict[str, tuple], n: int, initial: dict[str, float] | None = None) -> dict:
    """Arrays of ``n`` points for the declared ``fields``, zero unless ``initial`` gives a value."""
    missing = set(REPORTED) - set(fields)
    if missing:
        raise TypeError(f"a constitutive state must declare {sorted(missing)}")
    initial = initial or {}
    return {name: np.full((n, *shape), float(initial.get(name, 0.0))) for name, shape in fields.items()}


def fields_of(model, n_components: int = 4) -> dict[str, tuple]:
    """A model's declared state for ``n_components`` (its ``state_fields_for``; a model declaring only
    ``state_fields`` is a 4-component one)."""
    if hasattr(model, "state_fields_for"):
        return model.state_fields_for(n_components)
    if n_components == 4:
        return model.state_fields
    raise TypeError(f"{type(model).__name__} declares no {n_components}-component state")


def check_state(state: dict, n_components: int) -> None:
    """ValueError unless ``state`` was made for strain vectors of ``n_components`` (a 2D state fed 3D
    strains, or the reverse, would otherwise broadcast or fail far from the cause)."""
    have = state[INELASTIC_STRAIN].shape[-1]
    if have != n_components:
        raise ValueError(f"the state holds {have}-component inelastic strains, the strain has {n_components} "
                         f"components: make it with initial_state(n, n_components={n_components})")


def inelastic_strain(state: dict) -> np.ndarray:
    return state[INELASTIC_STRAIN]


def equivalent_inelastic_strain(state: dict) -> np.ndarray:
    return state[EQUIVALENT_INELASTIC_STRAIN]


def inelastic_work(state: dict) -> np.ndarray:
    return state[INELASTIC_WORK]
