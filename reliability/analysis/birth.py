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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_NORMAL = np.array([1.0, 1.0, 1.0, 0.0])


@dataclass
class Birth:
    """Active elements and their birth references.

    Attributes
    ----------
    active : (E,) bool
    T_birth : (E,) birth temperature, degrees C
    eps_birth : (E, Q, 4) total strain at birth (xx, yy, zz, xy engineering), or None (all zero)
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

    def offset(self, materials: list, mat_index: np.ndarray, T_ref: float) -> np.ndarray | None:
        """(E, 4) offset strain A(T_b) - eps_cure per element (from T_ref), or None where all are zero."""
        key = (id(materials), float(T_ref))
        if key not in self._offset:
            out = np.zeros((mat_index.size, 4))
            pairs, inverse = np.unique(np.stack([mat_index.astype(float), self.T_birth]), axis=1,
                                       return_inverse=True)
            inverse = np.asarray(inverse).ravel()
            for k, (m, Tb) in enumerate(pairs.T):
                if Tb != T_ref:
                    out[inverse == k] = materials[int(m)].elastic.thermal_strain(float(Tb), T_ref)
            if self.cure is not None:
                out += self.cure[:, None] * _NORMAL
            self._offset[key] = out if np.any(out != 0.0) else None
        return self._offset[key]
