"""Linear thermo-elasticity in 3D: the 6 x 6 stiffness and the thermal strain 6-vector of a material.

Same laws and the same temperature tables as the 2D path
(:class:`~reliability.constitutive.elastic.ElasticLaw`), in the Voigt order
(xx, yy, zz, yz, xz, xy) with engineering shears:

    sigma = D(T) (eps - eps_th(T)),   eps_th = int_{T_ref}^{T} alpha(T') dT'  (instantaneous alpha).

Isotropic: D = lambda 1 1^T (normal block) + mu diag(2, 2, 2, 1, 1, 1),
lambda = E nu / ((1 + nu)(1 - 2 nu)), mu = E / (2 (1 + nu)).

Orthotropic (laminate axes, as in 2D: 1 and 2 in the package plane, 3
through the thickness): in 3D they are the model axes x, y, z, so
D = inverse of the compliance with S_ij = -nu_ij / E_i (i != j), 1/E_i on the
diagonal, and the shears G23 (yz), G13 (xz), G12 (xy).  nu_ij is
-eps_j / eps_i under uniaxial stress along i (Jones, Mechanics of Composite
Materials, 2nd ed., eq. 2.52).
"""

from __future__ import annotations

import numpy as np

from ..errors import MaterialError
from .elastic import ElasticLaw


def isotropic_stiffness3d(E: float, nu: float) -> np.ndarray:
    """6 x 6 isotropic stiffness (MPa)."""
    lam = E * nu / ((1 + nu) * (1 - 2 * nu))
    mu = E / (2 * (1 + nu))
    D = np.zeros((6, 6))
    D[:3, :3] = lam
    D[np.arange(3), np.arange(3)] += 2 * mu
    D[np.arange(3, 6), np.arange(3, 6)] = mu
    return D


def orthotropic_stiffness3d(E1, E2, E3, nu12, nu13, nu23, G12, G13, G23) -> np.ndarray:
    """6 x 6 orthotropic stiffness (MPa), axes (1, 2, 3) = model (x, y, z)."""
    S = np.array([[1 / E1, -nu12 / E1, -nu13 / E1],
                  [-nu12 / E1, 1 / E2, -nu23 / E2],
                  [-nu13 / E1, -nu23 / E2, 1 / E3]])
    if np.any(np.linalg.eigvalsh(S) <= 0):
        raise MaterialError("orthotropic constants give a compliance matrix that is not positive definite")
    D = np.zeros((6, 6))
    D[:3, :3] = np.linalg.inv(S)
    D[3, 3], D[4, 4], D[5, 5] = G23, G13, G12
    return D


def stiffness3d(law: ElasticLaw, T: float) -> np.ndarray:
    """6 x 6 stiffness of ``law`` at T (degrees C)."""
    p = {k: law.props[k](T) for k in law.props if not k.startswith("alpha")}
    if law.symmetry == "isotropic":
        return isotropic_stiffness3d(float(p["E_MPa"]), float(p["nu"]))
    try:
        return orthotropic_stiffness3d(p["E1_MPa"], p["E2_MPa"], p["E3_MPa"], p["nu12"], p["nu13"], p["nu23"],
                                       p["G12_MPa"], p["G13_MPa"], p["G23_MPa"])
    except MaterialError as exc:
        raise MaterialError(f"material '{law.owner}' at {T:g} C: {exc}") from None


def thermal_strain3d(law: ElasticLaw, T: float, T_ref: float) -> np.ndarray:
    """Thermal strain (xx, yy, zz, 0, 0, 0) from T_ref to T."""
    if law.symmetry == "isotropic":
        e = law.props["alpha_per_K"].integral(T_ref, T)
        return np.array([e, e, e, 0.0, 0.0, 0.0])
    return np.array([law.props[f"alpha{i}_per_K"].integral(T_ref, T) for i in (1, 2, 3)] + [0.0, 0.0, 0.0])
