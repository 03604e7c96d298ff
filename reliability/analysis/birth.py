"""Element birth and death: which elements exist, and the state they were born in.

An element born at temperature T_b onto a body already deformed to the
total strain eps_birth is strain-free at birth ("ADD = STRAIN FREE" in
Abaqus' and CalculiX' *MODEL CHANGE); afterwards its mechanical strain is

    eps_mech = eps - eps_birth - (A(T) - A(T_b)) - eps_cure

with A(T) the antiderivative of the instantaneous CTE (the thermal strain
from the problem's reference temperature) and eps_cure the cure-shrinkage
eigenstrain released so far (isotropic, negative: the polymer shrinks by the
linear strain ``cure`` > 0).  Regions that no process step activates exist
from the start, stress-free at the process's initial temperature, which is
the problem's reference temperature: T_b = T_ref, eps_birth = 0.

Strains have four components in a section (xx, yy, zz, xy) and six in a 3D
model (xx, yy, zz, yz, xz, xy); :meth:`Birth.offset` takes the count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_NORMAL = {4: np.array([1.0, 1.0, 1.0, 0.0]), 6: np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])}


def _thermal(law, T: float, T_ref: float, n_components: int) -> np.ndarray:
    if n_components == 4:
        return law.thermal_strain(T, T_ref)
    from ..constitutive.elastic3d import thermal_strain3d

    return thermal_strain3d(law, T, T_ref)


@dataclass
class Birth:
    """Active elements and their birth references.

    Attributes
    ----------
    active : (E,) bool
    T_birth : (E,) birth temperature, degrees C
    eps_birth : (E, Q, n) total strain at birth (n = 4 or 6, engineering shears), or None (all zero)
    cure : (E,) cure shrinkage released so far, linear strain (> 0 shrinks), or None
    """

    active: np.ndarray
    T_birth: np.ndarray
    eps_birth: np.ndarray | None = None
    cure: np.ndarray | None = None
    _offset: dict = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def all_active(n_elements: int, T_C: float) -> "Birth":
        return Birth(np.ones(n_elements, dtype=bool), np.full(n_elements, float(T_C)))

    def copy(self) -> "Birth":
        return Birth(self.active.copy(), self.T_birth.copy(),
                     None if self.eps_birth is None else self.eps_birth.copy(),
                     None if self.cure is None else self.cure.copy())

    def offset(self, materials: list, mat_index: np.ndarray, T_ref: float,
               n_components: int = 4) -> np.ndarray | None:
        """(E, n) offset strain A(T_b) - eps_cure per element (from T_ref), or None where all are zero."""
        key = (id(materials), float(T_ref), n_components)
        if key not in self._offset:
            out = np.zeros((mat_index.size, n_components))
            pairs, inverse = np.unique(np.stack([mat_index.astype(float), self.T_birth]), axis=1,
                                       return_inverse=True)
            inverse = np.asarray(inverse).ravel()
            for k, (m, Tb) in enumerate(pairs.T):
                if Tb != T_ref:
                    out[inverse == k] = _thermal(materials[int(m)].elastic, float(Tb), T_ref, n_components)
            if self.cure is not None:
                out += self.cure[:, None] * _NORMAL[n_components]
            self._offset[key] = out if np.any(out != 0.0) else None
        return self._offset[key]
