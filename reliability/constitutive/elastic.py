"""Linear thermo-elasticity, isotropic or orthotropic, with temperature tables.

Stress and strain are carried as 4-vectors in the order

    (xx, yy, zz, xy)     with engineering shear gamma_xy = 2 eps_xy,

where x runs along the 2D section, y is the through-thickness (vertical)
direction and z is out of the section plane (the hoop direction in
axisymmetry).  The kinematics decide what eps_zz is (zero, free, linear in x
and y, or u_r/r); the material law is always the 3D law restricted to these
four components, so one law serves all four kinematics.

Constitutive relation (total form, temperature-dependent moduli):

    sigma = D(T) : (eps - eps_th(T)),      eps_th(T) = int_{T_ref}^{T} alpha(T') dT'

with alpha the instantaneous coefficient of thermal expansion (1/K) and T_ref
the stress-free temperature.  Units: MPa for stress and moduli, 1/K for alpha,
degrees C for temperatures.

Orthotropic axes follow laminate practice: 1 = in-plane along the section
(model x), 2 = in-plane out of the section (model z), 3 = through the
thickness (model y).  The in-plane shear of the section, gamma_xy, is
therefore the 1-3 shear with modulus G13.  nu_ij is the Poisson ratio
-eps_j / eps_i under uniaxial stress along i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MaterialError
from .tables import Table

ISOTROPIC_KEYS = ("E_MPa", "nu", "alpha_per_K")
ORTHOTROPIC_KEYS = (
    "E1_MPa", "E2_MPa", "E3_MPa",
    "nu12", "nu13", "nu23",
    "G12_MPa", "G13_MPa", "G23_MPa",
    "alpha1_per_K", "alpha2_per_K", "alpha3_per_K",
)
# the independent entries of an orthotropic D in (xx, yy, zz, xy): normal block and the section shear
_ORTHOTROPIC_ENTRIES = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2), (3, 3))


def isotropic_stiffness(E, nu):
    """3D isotropic stiffness restricted to (xx, yy, zz, xy); E in MPa.

    ``E`` and ``nu`` may be arrays; the result has shape ``E.shape + (4, 4)``.
    """
    E = np.asarray(E, dtype=float)
    nu = np.asarray(nu, dtype=float)
    lam = E * nu / ((1 + nu) * (1 - 2 * nu))
    mu = E / (2 * (1 + nu))
    D = np.zeros(np.broadcast(E, nu).shape + (4, 4))
    D[..., :3, :3] = lam[..., None, None]
    for i in range(3):
        D[..., i, i] += 2 * mu
    D[..., 3, 3] = mu
    return D


def orthotropic_stiffness(E1, E2, E3, nu12, nu13, nu23, G12, G13, G23):
    """Orthotropic stiffness in (xx, yy, zz, xy) = axes (1, 3, 2, 13-shear); MPa."""
    del G12, G23  # out-of-section shears do not enter a 2D section
    S = np.array(
        [
            [1 / E1, -nu12 / E1, -nu13 / E1],
            [-nu12 / E1, 1 / E2, -nu23 / E2],
            [-nu13 / E1, -nu23 / E2, 1 / E3],
        ]
    )
    # is the compliance positive definite? (otherwise the material creates energy)
    if np.any(np.linalg.eigvalsh(S) <= 0):
        raise MaterialError(
            "orthotropic constants give a compliance matrix that is not positive definite"
        )
    C = np.linalg.inv(S)  # axes (1, 2, 3)
    order = [0, 2, 1]  # model (x, y, z) = material (1, 3, 2)
    D = np.zeros((4, 4))
    D[:3, :3] = C[np.ix_(order, order)]
    D[3, 3] = G13
    return D


@dataclass
class ElasticLaw:
    """Thermo-elastic part of a material: stiffness D(T) and thermal strain."""

    owner: str
    symmetry: str  # "isotropic" | "orthotropic"
    props: dict[str, Table]
    valid_C: tuple[float, float] = (-np.inf, np.inf)  # e.g. up to a solder's solidus

    @property
    def temperature_dependent(self) -> bool:
        """True when the stiffness changes with temperature."""
        return any(
            not t.constant for k, t in self.props.items() if not k.startswith("alpha")
        )

    @property
    def range_C(self) -> tuple[float, float]:
        """Temperature range (degrees C) in which every property has data."""
        lo = max([t.range_C[0] for t in self.props.values()] + [self.valid_C[0]])
        hi = min([t.range_C[1] for t in self.props.values()] + [self.valid_C[1]])
        return lo, hi

    def stiffness(self, T: float) -> np.ndarray:
        """4x4 stiffness (MPa) at temperature T (degrees C)."""
        p = {k: self.props[k](T) for k in self.props if not k.startswith("alpha")}
        if self.symmetry == "isotropic":
            return isotropic_stiffness(p["E_MPa"], p["nu"])
        try:
            return orthotropic_stiffness(
                p["E1_MPa"], p["E2_MPa"], p["E3_MPa"],
                p["nu12"], p["nu13"], p["nu23"],
                p["G12_MPa"], p["G13_MPa"], p["G23_MPa"],
            )
        except MaterialError as exc:
            raise MaterialError(f"material '{self.owner}' at {T:g} C: {exc}") from None

    def stiffness_basis(self) -> np.ndarray:
        """Fixed matrices D_j (r, 4, 4) with D(T) = sum_j c_j(T) D_j, c = :meth:`stiffness_coefficients`.

        Isotropic: D = lambda (1 1^T on the normal components) + mu diag(2, 2, 2, 1),
        r = 2.  Orthotropic: the seven independent entries of D (3x3 normal
        block and the 1-3 shear) times symmetric unit matrices, r = 7.  A
        temperature-independent law is its one matrix, r = 1.  Operators
        linear in D (a stiffness matrix) then need integrating only r times,
        not at every temperature.
        """
        if not self.temperature_dependent:
            return self.stiffness(self._any_temperature())[None]
        if self.symmetry == "isotropic":
            lam = np.zeros((4, 4))
            lam[:3, :3] = 1.0
            return np.stack([lam, np.diag([2.0, 2.0, 2.0, 1.0])])
        basis = np.zeros((len(_ORTHOTROPIC_ENTRIES), 4, 4))
        for j, (a, b) in enumerate(_ORTHOTROPIC_ENTRIES):
            basis[j, a, b] = basis[j, b, a] = 1.0
        return basis

    def stiffness_coefficients(self, T: float) -> np.ndarray:
        """c(T) (r,) of :meth:`stiffness_basis`: sum_j c_j D_j equals :meth:`stiffness` at T."""
        if not self.temperature_dependent:
            return np.ones(1)
        D = self.stiffness(T)
        if self.symmetry == "isotropic":
            mu = D[3, 3]
            return np.array([D[0, 0] - 2.0 * mu, mu])
        return np.array([D[a, b] for a, b in _ORTHOTROPIC_ENTRIES])

    def _any_temperature(self) -> float:
        lo, hi = self.range_C  # a temperature inside the data (the stiffness is the same at all)
        return float(np.clip(25.0, lo, hi))

    def thermal_strain(self, T: float, T_ref: float) -> np.ndarray:
        """Thermal strain 4-vector (xx, yy, zz, xy) from T_ref to T (degrees C)."""
        if self.symmetry == "isotropic":
            e = self.props["alpha_per_K"].integral(T_ref, T)
            return np.array([e, e, e, 0.0])
        return np.array(
            [
                self.props["alpha1_per_K"].integral(T_ref, T),
                self.props["alpha3_per_K"].integral(T_ref, T),
                self.props["alpha2_per_K"].integral(T_ref, T),
                0.0,
            ]
        )

    def youngs_modulus(self, T: float) -> float:
        """Representative Young's modulus (MPa): E or E1."""
        key = "E_MPa" if self.symmetry == "isotropic" else "E1_MPa"
        return float(self.props[key](T))
