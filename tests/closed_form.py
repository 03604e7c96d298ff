"""Closed-form references used by the verification tests (physics.md section 6)."""

from __future__ import annotations

import math


def timoshenko_curvature(E1, h1, a1, E2, h2, a2, dT):
    """Timoshenko (1925) bimetal curvature, 1/mm; layer 1 on top.

    kappa = 6 (a2 - a1) dT (1 + m)^2 / (h [3 (1 + m)^2 + (1 + m n)(m^2 + 1/(m n))]),
    m = h1/h2, n = E1/E2.  kappa > 0 bends toward layer 1 when a2 > a1 and dT > 0,
    i.e. kappa is d2w/dx2 of the mid-line with y up.
    """
    m, n, h = h1 / h2, E1 / E2, h1 + h2
    return 6 * (a2 - a1) * dT * (1 + m) ** 2 / (h * (3 * (1 + m) ** 2 + (1 + m * n) * (m**2 + 1 / (m * n))))


def plane_strain(E, nu, a):
    """Beam properties under eps_zz = 0: E -> E/(1 - nu^2), alpha -> (1 + nu) alpha."""
    return E / (1 - nu**2), (1 + nu) * a


def biaxial(E, nu, a):
    """Equibiaxial plate: E -> E/(1 - nu), alpha unchanged."""
    return E / (1 - nu), a


def lame_radial_stress(E_cu, nu_cu, a_cu, E_si, nu_si, a_si, dT, D, r):
    """Radial stress (MPa) in the silicon around a copper via, plane strain (physics.md 6.4)."""
    return -(E_cu * (a_cu - a_si) * dT) / ((1 - 2 * nu_cu) + (1 + nu_si) / (1 + nu_cu) * E_cu / E_si) * (D / (2 * r)) ** 2


# physics.md 6.1: Si (130 GPa, 0.28, 2.6 ppm) 0.3 mm on Cu (120 GPa, 0.34, 17 ppm) 0.3 mm, dT = -100 K
SI = dict(E_MPa=130000.0, nu=0.28, alpha_per_K=2.6e-6)
CU = dict(E_MPa=120000.0, nu=0.34, alpha_per_K=17e-6)
KAPPA_PLANE_STRAIN = -4.863e-3
KAPPA_PLANE_STRESS = -3.599e-3
KAPPA_BIAXIAL = -3.600e-3


def bimetal_reference(kind: str, si=SI, cu=CU, h_si=0.3, h_cu=0.3, dT=-100.0) -> float:
    """Closed-form curvature of the Si-on-Cu strip for 'plane_strain' | 'plane_stress' | 'biaxial'."""
    if kind == "plane_strain":
        E1, a1 = plane_strain(si["E_MPa"], si["nu"], si["alpha_per_K"])
        E2, a2 = plane_strain(cu["E_MPa"], cu["nu"], cu["alpha_per_K"])
    elif kind == "biaxial":
        E1, a1 = biaxial(si["E_MPa"], si["nu"], si["alpha_per_K"])
        E2, a2 = biaxial(cu["E_MPa"], cu["nu"], cu["alpha_per_K"])
    else:
        E1, a1, E2, a2 = si["E_MPa"], si["alpha_per_K"], cu["E_MPa"], cu["alpha_per_K"]
    return timoshenko_curvature(E1, h_si, a1, E2, h_cu, a2, dT)


def rel(a, b):
    return abs(a - b) / abs(b)


assert math.isclose(bimetal_reference("plane_strain"), KAPPA_PLANE_STRAIN, rel_tol=1e-3)


def lame_radial_stress_exact(E_cu, nu_cu, a_cu, E_si, nu_si, a_si, dT, D, r):
    """Exact plane-strain composite cylinder (infinite plate), MPa.

    Compatibility of the hoop strain at the interface with eps_zz = 0 in both
    materials gives p [(1+nu_s)/E_s + (1+nu_c)(1-2nu_c)/E_c] = [(1+nu_c) a_c - (1+nu_s) a_s] dT.
    The physics.md 6.4 formula writes (1+nu_c)(a_c - a_s) for the bracket on the
    right, i.e. takes nu_s = nu_c in the thermal term: 0.49 % lower for Choi's data.
    """
    p = ((1 + nu_cu) * a_cu - (1 + nu_si) * a_si) * dT / (
        (1 + nu_si) / E_si + (1 + nu_cu) * (1 - 2 * nu_cu) / E_cu
    )
    return -p * (D / (2 * r)) ** 2


def composite_cylinder_radial_stress(E_c, nu_c, a_c, E_s, nu_s, a_s, dT, a, b, r):
    """Plane-strain radial stress (MPa) at r in a silicon annulus a < r < b (free at b)
    around a copper core of radius a: u = C r in the core, u = A r + B / r outside.
    """
    import numpy as np

    def lame(E, nu):
        return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))

    lc, mc = lame(E_c, nu_c)
    ls, ms = lame(E_s, nu_s)
    thc = (3 * lc + 2 * mc) * a_c * dT
    ths = (3 * ls + 2 * ms) * a_s * dT
    # sigma_r of u = A r + B/r: 2(l+m) A - 2 m B / r^2 - th
    M = np.array(
        [
            [2 * (ls + ms), -2 * ms / a**2, -2 * (lc + mc)],  # sigma_r continuous at a
            [a, 1 / a, -a],  # u continuous at a
            [2 * (ls + ms), -2 * ms / b**2, 0.0],  # sigma_r(b) = 0
        ]
    )
    rhs = np.array([ths - thc, 0.0, ths])
    A, B, _ = np.linalg.solve(M, rhs)
    return 2 * (ls + ms) * A - 2 * ms * B / r**2 - ths


def laminate_curvature(layers, plane_strain: bool = True) -> float:
    """Curvature kappa (1/mm) of a free N-layer strip, bending strain eps(y) = eps0 + kappa y.

    ``layers`` = [(thickness mm, E MPa, nu, eigenstrain), ...] bottom to top,
    each with a uniform isotropic eigenstrain (thermal alpha dT, or a cure
    shrinkage -s).  Classical laminate (beam) theory: zero axial force and
    zero moment, sum_i E'_i int_i (eps0 + kappa y - e'_i) y^k dy = 0 for
    k = 0, 1; in plane strain E' = E / (1 - nu^2) and e' = (1 + nu) e.
    Two layers reduce to Timoshenko's bimetal formula.
    """
    import numpy as np

    A = np.zeros((2, 2))
    b = np.zeros(2)
    y0 = 0.0
    for t, E, nu, e in layers:
        Ep, ep = (E / (1 - nu**2), (1 + nu) * e) if plane_strain else (E, e)
        y1 = y0 + t
        m0, m1, m2 = y1 - y0, (y1**2 - y0**2) / 2, (y1**3 - y0**3) / 3
        A += Ep * np.array([[m0, m1], [m1, m2]])
        b += Ep * ep * np.array([m0, m1])
        y0 = y1
    return float(np.linalg.solve(A, b)[1])
