"""Anand unified viscoplasticity for solders, implicit and vectorised.

Scalar (von Mises) form, physics.md 2.1 (Anand 1985; Brown, Kim & Anand 1989):

    flow        dp/dt = A exp(-Q/(R T)) [sinh(xi q / s)]^(1/m)
    evolution   ds/dt = h0 |1 - s/s*|^a sign(1 - s/s*) dp/dt
    saturation  s*    = s_hat [ (dp/dt / A) exp(Q/(R T)) ]^n

with q the von Mises stress (MPa), p the equivalent inelastic strain, s the
deformation resistance (MPa), T in K, A in 1/s, Q/R in K; xi, m, n, a
dimensionless, h0 and s_hat in MPa.

Backward Euler over an increment dt at the end-of-increment temperature:
the unknown is the equivalent inelastic strain increment dp of each point.
With the rate frozen at dp/dt, s* is fixed and the evolution equation is
integrated *exactly* over the increment (physics.md numerical note: with
h0 = 180 000 MPa an explicit update overshoots): for y = 1 - s/s*,

    |y_{n+1}|^(1-a) = |y_n|^(1-a) + (a - 1) (h0 / s*) dp,   sign(y) kept.

The flow rule is inverted into a flow stress,
q = (s_{n+1} / xi) asinh[(dp/dt / A exp(Q/RT))^m], and the scalar equation
q_trial - 3 G dp = q(dp) is solved per point by a safeguarded Newton
iteration in ln(dp), bracketed in (0, q_trial / 3G].  The derivative of
q(dp) (for the Newton steps and the consistent tangent) is the exact chain
rule (:func:`flow_stress_slope`), checked in the tests against complex-step
differentiation of :func:`flow_stress`.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ..errors import ConvergenceError
from . import j2
from .state import check_state, make_state, reported

KELVIN = 273.15


@dataclass(frozen=True)
class AnandParameters:
    s0_MPa: float
    Q_over_R_K: float
    A_per_s: float
    xi: float
    m: float
    h0_MPa: float
    s_hat_MPa: float
    n: float
    a: float


def saturation_stress(p: AnandParameters, rate: float, T_C: float) -> float:
    """Closed-form steady-state stress (MPa) at constant inelastic strain rate (physics.md 2.1, anchor 1)."""
    Z = rate / p.A_per_s * np.exp(p.Q_over_R_K / (T_C + KELVIN))
    return p.s_hat_MPa / p.xi * Z**p.n * np.arcsinh(Z**p.m)


def transient_stress(p: AnandParameters, rate: float, T_C: float, ep: float) -> float:
    """Closed-form stress at plastic strain ``ep`` under a constant plastic strain rate (anchor 2)."""
    Z = rate / p.A_per_s * np.exp(p.Q_over_R_K / (T_C + KELVIN))
    s_star = p.s_hat_MPa * Z**p.n
    y = ((s_star - p.s0_MPa) ** (1 - p.a) + (p.a - 1) * p.h0_MPa * s_star ** (-p.a) * ep) ** (1 / (1 - p.a))
    return (s_star - y) / p.xi * np.arcsinh(Z**p.m)


def flow_stress(dp, dt: float, T_K: float, s_n, p: AnandParameters):
    """Flow stress q(dp) and the end-of-increment resistance s(dp); complex-safe."""
    Z = (dp / dt) * (np.exp(p.Q_over_R_K / T_K) / p.A_per_s)
    s_star = p.s_hat_MPa * Z**p.n
    y_n = 1.0 - s_n / s_star
    sgn = np.where(np.real(y_n) >= 0.0, 1.0, -1.0)
    mag = y_n * sgn
    mag = np.where(np.real(mag) < 1e-14, 1e-14, mag)
    w = mag ** (1.0 - p.a) + (p.a - 1.0) * p.h0_MPa / s_star * dp
    s = s_star * (1.0 - sgn * w ** (1.0 / (1.0 - p.a)))
    return s / p.xi * np.arcsinh(Z**p.m), s


def flow_stress_slope(dp, dt: float, T_K: float, s_n, p: AnandParameters, with_resistance: bool = False):
    """Flow stress q(dp) (MPa) and its exact derivative dq/d(dp) (MPa), real arithmetic.

    ``with_resistance``: also the end-of-increment resistance s(dp) (MPa).

    The chain rule through :func:`flow_stress` (Z ~ dp, s* ~ Z^n, the exact
    s-integration, asinh(Z^m)); four times cheaper than its complex step,
    which the tests use to check it (agreement to 1e-9 relative).
    """
    Z = (dp / dt) * (np.exp(p.Q_over_R_K / T_K) / p.A_per_s)
    Zn = Z**p.n
    s_star = p.s_hat_MPa * Zn
    ds_star = p.n * s_star / dp
    y_n = 1.0 - s_n / s_star
    sgn = np.where(y_n >= 0.0, 1.0, -1.0)
    mag = y_n * sgn
    clamped = mag < 1e-14
    mag = np.where(clamped, 1e-14, mag)
    dmag = np.where(clamped, 0.0, sgn * (s_n / s_star) * (p.n / dp))
    one_a = 1.0 - p.a
    w = mag**one_a + (p.a - 1.0) * p.h0_MPa / s_star * dp
    dw = one_a * mag ** (-p.a) * dmag + (p.a - 1.0) * p.h0_MPa / s_star * (1.0 - p.n)
    wp = w ** (1.0 / one_a)
    s = s_star * (1.0 - sgn * wp)
    ds = ds_star * (1.0 - sgn * wp) - s_star * sgn * (wp / w) * dw / one_a
    Zm = Z**p.m
    ash = np.arcsinh(Zm)
    q = s / p.xi * ash
    dq = ds / p.xi * ash + s / p.xi * (p.m * Zm / dp) / np.sqrt(1.0 + Zm * Zm)
    return (q, dq, s) if with_resistance else (q, dq)


def _flow_law(x, c0: float, s_n, p: AnandParameters):
    """q, dq/d(dp), s and ds/d(dp) at dp = exp(x), with c0 = ln(exp(Q/RT) / (A dt)).

    :func:`flow_stress_slope` in the local solve's variable x = ln(dp): every
    power of Z is an exponential of ln Z = x + c0, and the powers of the
    saturation distance go through one logarithm each, so the five ``pow``
    calls per point become exponentials and logarithms (about twice as fast
    here) with the same values to round-off.
    """
    dp = np.exp(x)
    lnZ = x + c0
    s_star = p.s_hat_MPa * np.exp(p.n * lnZ)
    ds_star = p.n * s_star / dp
    ratio = s_n / s_star
    y_n = 1.0 - ratio
    sgn = np.where(y_n >= 0.0, 1.0, -1.0)
    mag = y_n * sgn
    clamped = mag < 1e-14
    mag = np.where(clamped, 1e-14, mag)
    dmag = np.where(clamped, 0.0, sgn * ratio * (p.n / dp))
    one_a = 1.0 - p.a
    P = np.exp(one_a * np.log(mag))  # mag^(1-a); mag^(-a) = P / mag
    k = (p.a - 1.0) * p.h0_MPa / s_star
    w = P + k * dp
    dw = one_a * (P / mag) * dmag + k * (1.0 - p.n)
    wp = np.exp(np.log(w) / one_a)
    s = s_star * (1.0 - sgn * wp)
    ds = ds_star * (1.0 - sgn * wp) - s_star * sgn * (wp / w) * dw / one_a
    Zm = np.exp(p.m * lnZ)
    ash = np.arcsinh(Zm)
    q = s / p.xi * ash
    dq = ds / p.xi * ash + s / p.xi * (p.m * Zm / dp) / np.sqrt(1.0 + Zm * Zm)
    return dp, q, dq, s, ds


# a point whose residual is below this (relative to q_trial) takes its Newton step and stops: the
# local Newton is quadratic, |g_next| ~ C g^2 with C about 1 on the solder states of the fan-out case
# (6.6e-4 -> 2.8e-7 -> 5e-14), so the step lands at ~1e-12, below the tolerance, without a check
FINAL_STEP = 1e-6


def solve_increment(q_trial, G, dt: float, T_K: float, s_n, p: AnandParameters, tol: float = 1e-10,
                    guess=None, with_resistance: bool = False):
    """Equivalent inelastic strain increment dp (n,) and the flow-stress slope dq/d(dp).

    ``G`` (MPa): a number, or one per point.  ``guess``: a starting dp per
    point (e.g. the previous rate times dt).  ``with_resistance``: also the
    end-of-increment resistance s (n,), MPa.  Points with q_trial below
    ~1e-12 MPa do not flow.

    Newton in x = ln(dp) inside a shrinking bracket, over the points still
    unconverged only.  A point stops when |g| <= tol q_trial at an iterate
    (its slope and s are that iterate's), or, once |g| <= FINAL_STEP q_trial,
    after one more Newton step taken without evaluating the flow law again:
    from a close guess (the usual case inside an increment) that is two
    evaluations instead of three.  Its s is then corrected to the step's dp
    to first order (ds/d(dp) dp-change, second-order error ~1e-14), its
    slope is the last iterate's (a relative 1e-7 or so away; it only feeds
    the tangent).
    """
    q_trial = np.asarray(q_trial, dtype=float)
    dp = np.zeros_like(q_trial)
    slope = np.zeros_like(q_trial)
    s_end = np.array(np.broadcast_to(np.asarray(s_n, dtype=float), q_trial.shape))
    active = q_trial > 1e-12
    if not np.any(active):
        return (dp, slope, s_end) if with_resistance else (dp, slope)
    qt = q_trial[active]
    scalar_G = np.ndim(G) == 0
    Ga = float(G) if scalar_G else np.broadcast_to(np.asarray(G, dtype=float), q_trial.shape)[active]
    sn = s_end[active]
    hi = np.log(qt / (3.0 * Ga))
    lo = hi - 80.0
    floor = lo.copy()
    c0 = p.Q_over_R_K / T_K - np.log(p.A_per_s * dt)
    # start from the guess if it is inside the bracket, else a point below the elastic limit
    x = hi - 3.0
    if guess is not None:
        g0 = np.broadcast_to(guess, q_trial.shape)[active]
        with np.errstate(divide="ignore"):
            lg = np.log(np.maximum(g0, 1e-300))
        x = np.where((lg > lo) & (lg < hi), lg, x)
    slope_a = np.zeros(qt.size)
    s_a = sn.copy()
    known = np.zeros(qt.size, dtype=bool)  # slope and s set for the final x
    # most points converge in two evaluations from a good guess; the rest need up to ~8
    todo = np.arange(qt.size)
    for _ in range(100):
        xt = x[todo]
        qt_t = qt[todo]
        G_t = Ga if scalar_G else Ga[todo]
        d, q, dq, s_it, ds_it = _flow_law(xt, c0, sn[todo], p)
        g = qt_t - 3.0 * G_t * d - q
        dg = -3.0 * G_t - dq
        r = np.abs(g)
        done = r <= tol * qt_t + 1e-12
        lo_t = np.where(g > 0, xt, lo[todo])
        hi_t = np.where(g < 0, xt, hi[todo])
        step = np.where(dg != 0, g / (dg * d), 0.0)
        x_new = xt - step
        bad = ~np.isfinite(x_new) | (x_new <= lo_t) | (x_new >= hi_t)
        last = ~done & ~bad & (r <= FINAL_STEP * qt_t)
        # a converged point keeps x = xt and this iterate's slope and s; a last-step one moves on
        # to x_new with s corrected to first order
        stop = done | last
        hit = todo[stop]
        d_new = np.exp(x_new[last])
        slope_a[hit] = dq[stop]
        s_a[hit] = np.where(done[stop], s_it[stop], 0.0)
        s_a[todo[last]] = s_it[last] + ds_it[last] * (d_new - d[last])
        known[hit] = True
        x[todo] = np.where(done, xt, np.where(bad, 0.5 * (lo_t + hi_t), x_new))
        lo[todo], hi[todo] = lo_t, hi_t
        stop |= hi_t - lo_t < 1e-13
        todo = todo[~stop]
        if todo.size == 0:
            break
    if todo.size:
        d, q, _, _, _ = _flow_law(x[todo], c0, sn[todo], p)
        G_t = Ga if scalar_G else Ga[todo]
        worst = float(np.max(np.abs(qt[todo] - 3.0 * G_t * d - q) / qt[todo]))
        raise ConvergenceError(f"Anand update did not converge at {T_K - KELVIN:.4g} C (relative residual {worst:.2e})")
    d = np.exp(x)
    # below the bracket's floor the flow is negligible: no flow
    d = np.where(x <= floor + 0.1, 0.0, d)
    redo = np.flatnonzero(~known & (d > 0))  # stopped by the bracket, not the residual test
    if redo.size:
        _, _, dq, s_it, _ = _flow_law(x[redo], c0, sn[redo], p)
        slope_a[redo], s_a[redo] = dq, s_it
    dp[active] = d
    slope[active] = np.where(d > 0, slope_a, 0.0)
    s_end[active] = np.where(d > 0, s_a, sn)
    return (dp, slope, s_end) if with_resistance else (dp, slope)


class AnandModel:
    """Anand viscoplasticity with temperature-dependent isotropic elasticity.

    ``update`` maps (total strain, temperature, time increment, state) to
    (stress, consistent tangent, new state), in 2D or 3D by the component
    count c of the strain (n, c): c = 4, (xx, yy, zz, gamma_xy), or c = 6,
    (xx, yy, zz, gamma_yz, gamma_xz, gamma_xy), engineering shears; stresses
    in the same order, MPa.  The law is isotropic, so one return mapping
    (:mod:`.j2`) serves both.  State arrays, over n points:
    ``eps_p`` (n, c) engineering inelastic strain, ``s`` (n,) deformation
    resistance (MPa), ``p`` (n,) accumulated equivalent inelastic strain,
    ``W`` (n,) inelastic work density (MPa = mJ/mm^3), ``rate`` (n,) the
    last equivalent inelastic strain rate (1/s).
    """

    kind = "anand"

    def __init__(self, name: str, params: AnandParameters, elastic):
        self.name = name
        self.params = params
        self.elastic = elastic  # ElasticLaw (isotropic)

    def state_fields_for(self, n_components: int = 4) -> dict:
        """The declared state for strain vectors of 4 (2D) or 6 (3D) components."""
        # s: deformation resistance (MPa); rate: the last equivalent inelastic strain rate (1/s), the local
        # Newton's starting point
        return {**reported(n_components), "s": (), "rate": ()}

    @property
    def state_fields(self) -> dict:
        """The 2D (4-component) declaration."""
        return self.state_fields_for(4)

    def initial_state(self, n: int, n_components: int = 4) -> dict:
        return make_state(self.state_fields_for(n_components), n, {"s": self.params.s0_MPa})

    def moduli(self, T_C: float) -> tuple[float, float]:
        D = self.elastic.stiffness(T_C)
        G = D[3, 3]
        K = D[0, 0] - 4.0 * G / 3.0
        return float(G), float(K)

    def update(self, eps: np.ndarray, T_C: float, dt: float, state: dict, eps_th: np.ndarray, stress_n=None,
               lazy_tangent: bool = False, dp_guess=None):
        """Stress (n, c), consistent tangent (n, c, c) and new state at the end of the increment.

        ``eps``, ``eps_th`` (n, c) or (c,): total and thermal strain, c = 4 or
        6 components (see the class docstring), ``state`` made for the same c.
        ``lazy_tangent``: return the tangent as a :class:`~.j2.RadialReturn`
        to call when it is needed; ``dp_guess``: a starting dp per point for
        the local Newton solve (default: the previous increment's rate times
        dt), or the last global iteration's :class:`~.j2.RadialReturn`, whose
        first-order prediction at this iteration's trial stresses saves the
        local solve one flow-law pass per point.
        """
        G, K = self.moduli(T_C)
        n, c = eps.shape[0], j2.components(eps)
        check_state(state, c)
        # one D for all points (a broadcast view), built only for the tangent
        D = np.broadcast_to(j2.isotropic_D(G, K, c), (n, c, c))
        sig_tr = j2.elastic_stress(eps - eps_th - state["eps_p"], G, K)
        s_tr = j2.deviator(sig_tr)
        q_tr = j2.equivalent(s_tr)
        guess = dp_guess if dp_guess is not None else (state["rate"] * dt if "rate" in state else None)
        if isinstance(guess, j2.RadialReturn):
            guess = guess.predict(q_tr)
        dp, slope, s_new = solve_increment(q_tr, G, dt, T_C + KELVIN, state["s"], self.params, guess=guess,
                                           with_resistance=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            N = np.where(q_tr[:, None] > 0, 1.5 * s_tr / q_tr[:, None], 0.0)
        sig = sig_tr - (2.0 * G * dp)[:, None] * N
        kappa = np.where(dp > 0, 1.0 / (3.0 * G + slope), 0.0)
        C = j2.RadialReturn(D, G, N, dp, q_tr, kappa)
        C = C if lazy_tangent else C()
        d_eps_p = j2.engineering(N * dp[:, None])
        sig_n = stress_n if stress_n is not None else sig
        new = {
            "eps_p": state["eps_p"] + d_eps_p,
            "s": s_new,
            "p": state["p"] + dp,
            "W": state["W"] + 0.5 * np.einsum("ni,ni->n", sig_n + sig, d_eps_p),
            "rate": dp / dt,
        }
        return sig, C, new
