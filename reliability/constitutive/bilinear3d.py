"""Bilinear von Mises plasticity in 3D (six components, (xx, yy, zz, yz, xz, xy)): the 3D solver's face of
:class:`~reliability.constitutive.bilinear.BilinearModel`.

There is one bilinear law (:mod:`.bilinear`: yield stress sigma_y, tangent
modulus E_t, plastic hardening modulus H = E E_t / (E - E_t), kinematic
(Prager) or isotropic hardening; the radial return of :mod:`.j2`), which
takes 4- or 6-component vectors.  :class:`Bilinear3D` only builds it from a
material and keeps a rate-independent call: ``initial_state(n)`` gives a
6-component state, ``update(eps, T, state, eps_th)`` needs no time step (the
3D solver, :mod:`reliability.analysis.inelastic3d`, calls the 2D law itself).

Strains are engineering (shears gamma), stresses and back stresses tensor
components, MPa.  The 3D Voigt constants are :mod:`.j2`'s, kept here under
their former names.
"""

from __future__ import annotations

import numpy as np

from . import j2
from .bilinear import BilinearModel, BilinearParameters

HYDRO6 = j2.HYDRO6
SHEAR_WEIGHT = j2.SHEAR_WEIGHT6  # a:b of tensor Voigt vectors = sum w a b
I_DEV6 = j2.I_DEV6  # engineering shear strain -> tensor deviatoric strain


def isotropic_D6(G: float, K: float) -> np.ndarray:
    """6 x 6 isotropic stiffness (MPa) on engineering strain."""
    return j2.isotropic_D(G, K, 6)


class Bilinear3D:
    """The 3D radial return of a material with ``[plasticity]``; state: eps_p (n, 6) engineering,
    beta (n, 6) back stress (tensor components), p (n,) accumulated equivalent plastic strain,
    W (n,) plastic work density (MPa)."""

    def __init__(self, material):
        spec = material.spec.plasticity
        if spec is None:
            raise ValueError(f"material '{material.name}' has no [plasticity]")
        self.name = material.name
        self.elastic = material.elastic
        self.model = BilinearModel(material.name, BilinearParameters(**spec.model_dump()), material.elastic)
        self.yield_MPa = float(spec.yield_MPa)
        self.Et = float(spec.tangent_modulus_MPa)
        self.kinematic = spec.hardening == "kinematic"

    def state_fields_for(self, n_components: int = 6) -> dict:
        return self.model.state_fields_for(n_components)

    def initial_state(self, n: int, n_components: int = 6) -> dict:
        return self.model.initial_state(n, n_components)

    def moduli(self, T: float) -> tuple[float, float, float]:
        """G, K and the plastic hardening modulus H at T (MPa)."""
        G, K = self.model.moduli(T)
        return G, K, self.model.hardening_modulus(T)

    def update(self, eps: np.ndarray, T: float, state: dict, eps_th: np.ndarray, stress_n=None):
        """Stress (n, 6), consistent tangent (n, 6, 6) and the new state at total strain ``eps`` (n, 6).

        ``stress_n``: the committed stress, for the trapezoidal work W (without it, the end stress).
        """
        return self.model.update(eps, T, 0.0, state, eps_th, stress_n)
