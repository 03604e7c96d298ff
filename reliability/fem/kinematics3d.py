"""3D small-strain kinematics of 10-node tetrahedra: six strain components.

Strain and stress are carried as 6-vectors in the Voigt order

    (xx, yy, zz, yz, xz, xy)    engineering shears gamma_ij = 2 eps_ij,

with x, y in the package plane and z vertical.  Element unknowns are ordered
``(u0x, u0y, u0z, u1x, ..., u9z)`` (30 per element); eps = B u_e with

    eps_xx = du_x/dx, eps_yy = du_y/dy, eps_zz = du_z/dz,
    gamma_yz = du_y/dz + du_z/dy, gamma_xz = du_x/dz + du_z/dx, gamma_xy = du_x/dy + du_y/dx.

:data:`STRAIN_ROWS_3D` writes B as data: B[k, 3a + i] = sum_r S_i[k, r] dN_a/dx_r,
so node-pair stiffness blocks need only the gradients (no B), as in 2D
(:mod:`reliability.fem.node_blocks`).
"""

from __future__ import annotations

import numpy as np

N_STRAIN = 6
STRAIN_NAMES_3D = ("xx", "yy", "zz", "yz", "xz", "xy")

# STRAIN_ROWS_3D[i][k, r] = 1: strain row k of displacement component i gets gradient d/dx_r
STRAIN_ROWS_3D = np.zeros((3, 6, 3))
for _i in range(3):
    STRAIN_ROWS_3D[_i, _i, _i] = 1.0  # normal strains
# shears: yz <- (u_y, d/dz), (u_z, d/dy); xz <- (u_x, d/dz), (u_z, d/dx); xy <- (u_x, d/dy), (u_y, d/dx)
for _k, (_a, _b) in zip((3, 4, 5), ((1, 2), (0, 2), (0, 1))):
    STRAIN_ROWS_3D[_a, _k, _b] = 1.0
    STRAIN_ROWS_3D[_b, _k, _a] = 1.0


def strain_operator(grad: np.ndarray) -> np.ndarray:
    """B (n, Q, 6, 30) from the gradients (n, Q, 10, 3): one tensor contraction, no loop."""
    n, Q, A, _ = grad.shape
    # B[e, q, k, a, i] = sum_r S[i, k, r] g[e, q, a, r]
    B = np.einsum("ikr,eqar->eqkai", STRAIN_ROWS_3D, grad, optimize=True)
    return B.reshape(n, Q, N_STRAIN, 3 * A)


def element_force(B: np.ndarray, sigma: np.ndarray, w: np.ndarray) -> np.ndarray:
    """f_e = sum_q w_q B_q^T sigma_q, shape (n, 30); sigma (n, Q, 6)."""
    n, Q, K, m = B.shape
    sw = (sigma * w[..., None]).reshape(n, 1, K * Q)
    return np.matmul(sw, B.reshape(n, Q * K, m))[:, 0]


def element_strain(B: np.ndarray, ue: np.ndarray) -> np.ndarray:
    """eps_q = B_q u_e, shape (n, Q, 6); ue (n, 30)."""
    return np.einsum("eqki,ei->eqk", B, ue, optimize=True)


def von_mises3d(stress: np.ndarray) -> np.ndarray:
    """Equivalent stress of (..., 6) stress vectors (xx, yy, zz, yz, xz, xy), MPa."""
    sx, sy, sz, tyz, txz, txy = np.moveaxis(stress, -1, 0)
    return np.sqrt(0.5 * ((sx - sy) ** 2 + (sy - sz) ** 2 + (sz - sx) ** 2) + 3.0 * (tyz**2 + txz**2 + txy**2))
