"""Mean-field theory of signal propagation (Poole et al. 2016; Schoenholz et al. 2017).

Conventions (DESIGN.md): ``qmap`` returns the next q, ``cmap`` the next correlation c (not q12);
``gain(activation)`` is the multiplier of the standard deviation (sigma_w = gain / sqrt(fan_in))
that keeps q* = 1 without bias; :func:`predict` assumes the inputs of :func:`fastinit.simulate`.

Gaussian expectations use composite Gauss-Legendre quadrature over mean +- 10 sd, split at the
kinks of the activations (-1, 0, 1), so piecewise activations (ReLU, SELU, hard tanh) are
integrated to near machine precision. Every function broadcasts over array arguments.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize

from .activations import evaluate, get_activation
from .initializers import get_initializer

_RULES = {n: np.polynomial.legendre.leggauss(n) for n in (16, 32)}
_SD_CUTS = (-5.0, -2.5, -1.0, 0.0, 1.0, 2.5, 5.0)
_BREAKS = (-1.0, 0.0, 1.0)
_SPAN = 10.0


def _gauss_nodes(mean, var, n=16):
    """Nodes (..., K) and weights (..., K) for E[f(v)], v ~ N(mean, var); ``n`` nodes per segment.

    Segments: mean +- 10 sd cut at mean + {-5, -2.5, -1, 0, 1, 2.5, 5} sd and at the kinks
    (-1, 0, 1) of the catalogue's activations.
    """
    rule_x, rule_w = _RULES[n]
    mean, var = np.broadcast_arrays(np.asarray(mean, float), np.asarray(var, float))
    sd = np.sqrt(np.maximum(var, 0.0))
    lo, hi = mean - _SPAN * sd, mean + _SPAN * sd
    cuts = np.stack([lo, hi] + [np.clip(b, lo, hi) for b in _BREAKS] + [mean + k * sd for k in _SD_CUTS], -1)
    cuts = np.sort(cuts, -1)
    a, b = cuts[..., :-1, None], cuts[..., 1:, None]
    half = (b - a) / 2
    v = (a + b) / 2 + half * rule_x                                       # (..., segments, n)
    safe = np.where(sd > 0, sd, 1.0)[..., None, None]
    dens = np.exp(-0.5 * ((v - mean[..., None, None]) / safe) ** 2) / (math.sqrt(2 * math.pi) * safe)
    w = half * rule_w * dens
    v, w = v.reshape(*v.shape[:-2], -1), w.reshape(*w.shape[:-2], -1)
    degenerate = (sd == 0)[..., None]
    v = np.where(degenerate, mean[..., None], v)
    w = np.where(degenerate, np.eye(1, v.shape[-1], 0)[0], w)
    return v, w


def expect(activation, q, *orders, mean=0.0):
    """E[prod_k phi^{(orders[k])}(u)] for u ~ N(mean, q); ``orders`` of 0, 1, 2 (phi, phi', phi'')."""
    v, w = _gauss_nodes(mean, q)
    f = np.ones_like(v)
    for o in orders:
        f = f * evaluate(activation, v, o)
    return (f * w).sum(-1)


def qmap(activation, sigma_w2, sigma_b2, q):
    """The length map: q' = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2."""
    return sigma_w2 * expect(activation, q, 0, 0) + sigma_b2


def _pair_expect(activation, q1, q2, c, o1=0, o2=0):
    """E[phi^{(o1)}(u1) phi^{(o2)}(u2)] with Var u = q1, q2 and correlation c."""
    q1, q2, c = np.broadcast_arrays(*(np.asarray(a, float) for a in (q1, q2, c)))
    # the outer integrand E[phi(u2) | u1] bends on the scale sqrt(1 - c^2): a finer outer rule
    v1, w1 = _gauss_nodes(np.zeros_like(q1), q1, 32)                   # (..., K)
    s1 = np.sqrt(q1)[..., None]
    z1 = np.where(s1 > 0, v1 / np.where(s1 > 0, s1, 1), 0.0)
    m2 = np.sqrt(q2)[..., None] * c[..., None] * z1
    var2 = (q2 * (1 - np.minimum(c * c, 1.0)))[..., None] * np.ones_like(z1)
    v2, w2 = _gauss_nodes(m2, var2)                                    # (..., K, K)
    inner = (evaluate(activation, v2, o2) * w2).sum(-1)
    return (evaluate(activation, v1, o1) * inner * w1).sum(-1)


def cmap(activation, sigma_w2, sigma_b2, q, c):
    """The correlation map at equal lengths q: c' = q12' / q' (q' from :func:`qmap`)."""
    q12 = sigma_w2 * _pair_expect(activation, q, q, c) + sigma_b2
    return q12 / qmap(activation, sigma_w2, sigma_b2, q)


def _length_terms(act, q):
    """E[phi^2], E[phi'^2] and E[phi phi''] at variance q, from one set of nodes."""
    v, w = _gauss_nodes(0.0, q)
    f0, f1, f2 = (evaluate(act, v, o) for o in (0, 1, 2))
    return (f0 * f0 * w).sum(-1), (f1 * f1 * w).sum(-1), (f0 * f2 * w).sum(-1)


def fixed_point(activation, sigma_w2, sigma_b2, q0=1.0, tol=1e-13, max_iter=300):
    """q*, the stable fixed point of the length map reached from q0.

    inf where q grows without bound; 0 where q decays to 0; q0 itself where every q is fixed (ReLU
    at sigma_w2 = 2, sigma_b2 = 0). Newton's method on qmap(q) - q, with the slope from Stein's
    lemma, d qmap / dq = sigma_w2 E[phi'^2 + phi phi''], and growth steps where the map is
    increasing above the diagonal. Broadcasts; converged points drop out of the iteration.
    """
    act = get_activation(activation)
    sw, sb = np.broadcast_arrays(np.asarray(sigma_w2, float), np.asarray(sigma_b2, float))
    shape = sw.shape
    sw, sb = sw.ravel(), sb.ravel()
    q = np.full(sw.shape, float(q0))
    active = np.arange(q.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        qa, swa, sba = q[active], sw[active], sb[active]
        e0, e1, e2 = _length_terms(act, qa)
        mapped = swa * e0 + sba
        g = mapped - qa
        slope = swa * (e1 + e2) - 1.0
        newton = qa - g / np.where(slope != 0, slope, 1.0)
        new = np.where(slope < 0, np.maximum(newton, qa / 10), np.where(g > 0, np.maximum(mapped, 100 * qa), mapped))
        done = (np.abs(g) <= tol * np.maximum(qa, 1e-300)) | (np.abs(new - qa) <= tol * qa) | (new < 1e-250) \
            | (new > 1e30)
        q[active] = np.where(new > 1e30, np.inf, np.where(new < 1e-250, 0.0, np.where(np.abs(g) <= tol * qa, qa, new)))
        active = active[~done]
    q = q.reshape(shape)
    return q[()] if q.ndim == 0 else q


def chi1(activation, sigma_w2, sigma_b2, q=None):
    """chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2]: slope of the c-map at c = 1 and the mean squared
    singular value of one layer's Jacobian (< 1 ordered, > 1 chaotic)."""
    q = fixed_point(activation, sigma_w2, sigma_b2) if q is None else q
    # the limits q -> 0+ and q -> inf (a kink at 0 must not be read at the single point 0)
    return np.asarray(sigma_w2) * expect(activation, np.clip(q, 1e-300, 1e200), 1, 1)


def correlation_fixed_point(activation, sigma_w2, sigma_b2, c0=0.0, tol=1e-10, max_iter=2000):
    """c*, the correlation the c-map converges to from c0 at q = q* (1 in the ordered phase)."""
    q = float(fixed_point(activation, sigma_w2, sigma_b2))
    c = float(c0)
    for _ in range(max_iter):
        new = float(cmap(activation, sigma_w2, sigma_b2, q, c))
        if abs(new - c) < tol:
            return min(new, 1.0)
        c = new
    return min(c, 1.0)


def depth_scales(activation, sigma_w2, sigma_b2):
    """(xi_q, xi_c): depths over which the length and the correlation reach their fixed points
    (Schoenholz et al. 2017, eqs. 4 and 9); xi_c = -1 / ln chi_1 in the ordered phase."""
    q = fixed_point(activation, sigma_w2, sigma_b2)
    x1 = float(chi1(activation, sigma_w2, sigma_b2, q))
    xi_q = -1.0 / math.log(x1 + sigma_w2 * float(expect(activation, q, 2, 0)))
    c = correlation_fixed_point(activation, sigma_w2, sigma_b2, c0=0.5)
    slope = x1 if c >= 1 - 1e-9 else sigma_w2 * float(_pair_expect(activation, q, q, c, 1, 1))
    xi_c = -1.0 / math.log(slope) if slope != 1 else math.inf
    return xi_q, xi_c


def critical_sigma_w2(activation, sigma_b2=0.0, bracket=(0.05, 50.0)):
    """sigma_w2 on the critical line chi_1 = 1 at this sigma_b2.

    Raises
    ------
    ValueError
        When chi_1 does not cross 1 in ``bracket``, or q* is infinite at the crossing.
    """
    f = lambda s: float(chi1(activation, s, sigma_b2)) - 1.0
    a, b = bracket
    fa, fb = f(a), f(b)
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa * fb > 0:
        raise ValueError(f"activation={get_activation(activation).label!r}, sigma_b2={sigma_b2!r}: chi_1 does not "
                         f"cross 1 for sigma_w2 in {bracket} (no critical point with finite q*)")
    s = optimize.brentq(f, a, b, xtol=1e-12, rtol=1e-12)
    # q* must be finite there: ReLU with bias has chi_1 = 1 at sigma_w2 = 2, where q* -> inf (at the
    # root, known to 1e-12, q* is then beyond 1e10; above 1e8 counts as infinite)
    if not float(fixed_point(activation, s, sigma_b2)) < 1e8:
        raise ValueError(f"activation={get_activation(activation).label!r}, sigma_b2={sigma_b2!r}: q* is infinite "
                         f"at chi_1 = 1 (no critical point)")
    return s


def phase_diagram(activation, sigma_w2_grid, sigma_b2_grid) -> pd.DataFrame:
    """q*, chi_1 and the phase on the grid sigma_w2 x sigma_b2 (one row per point)."""
    sw, sb = np.meshgrid(np.asarray(sigma_w2_grid, float), np.asarray(sigma_b2_grid, float), indexing="ij")
    q = fixed_point(activation, sw, sb)
    x = chi1(activation, sw, sb, q)
    phase = np.where(np.abs(x - 1) < 1e-9, "critical", np.where(x < 1, "ordered", "chaotic"))
    return pd.DataFrame({"sigma_w2": sw.ravel(), "sigma_b2": sb.ravel(), "q_star": np.ravel(q), "chi1": x.ravel(),
                         "phase": phase.ravel()})


def gain(activation) -> float:
    """The standard-deviation multiplier that makes q* = 1 without bias: 1 / sqrt(E[phi(z)^2]).

    Compare :func:`fastinit.calculate_gain` (PyTorch's heuristics): relu sqrt(2) in both; tanh
    1.5925 here against PyTorch's 5/3; selu 1 here (LeCun scaling, self-normalising) against 3/4.
    """
    return 1.0 / math.sqrt(float(expect(activation, 1.0, 0, 0)))


def weight_variance(initializer, n_in: int, n_out: int) -> float:
    """sigma_w^2 = fan_in * E[w^2] of a (n_in, n_out) Keras-layout weight."""
    init = get_initializer(initializer).sampled
    return n_in * second_moment(init.plan((n_in, n_out)), (n_in, n_out))


def second_moment(plan, shape) -> float:
    """E[w^2] of the entries of a tensor drawn from ``plan``."""
    from scipy.stats import truncnorm
    a = plan.args
    n_in, n_out = shape if len(shape) == 2 else (shape[0], shape[0])
    if plan.kind == "constant":
        return a[0] ** 2
    if plan.kind == "uniform":
        return (a[0] ** 2 + a[0] * a[1] + a[1] ** 2) / 3
    if plan.kind == "normal":
        return a[0] ** 2 + a[1] ** 2
    if plan.kind == "truncated":
        t = truncnorm(a[2], a[3])
        return (a[0] + a[1] * t.mean()) ** 2 + a[1] ** 2 * t.var()
    if plan.kind in ("orthogonal", "identity"):
        return a[0] ** 2 * min(n_in, n_out) / (n_in * n_out)
    if plan.kind == "sparse":
        return a[1] ** 2 * (1 - math.ceil(a[0] * n_out) / n_out)
    if plan.kind == "sparse_martens":
        return a[1] ** 2 * a[0] / n_in
    raise ValueError(f"no mean-field variance for initializer kind {plan.kind!r}")


def predict(initializer, activation, depth: int | None = None, width: int | None = None, *, widths=None,
            bias_initializer="zeros", input="normal", input_corr=None, loss: str = "probe") -> pd.DataFrame:
    """Per-layer preact_sq, pair_corr and delta_sq that mean-field theory predicts for
    :func:`fastinit.simulate` with the same arguments (sigma_w^2 = fan_in E[w^2] per layer,
    sigma_b^2 = E[b^2]). Mean-field theory assumes zero-mean weights; LSUV is predicted as q = 1."""
    widths = list(widths) if widths is not None else [width] * (depth + 1)
    act = get_activation(activation)
    init = get_initializer(initializer)
    bias = get_initializer(bias_initializer)
    L = len(widths) - 1
    q0 = {"normal": 1.0, "uniform01": 1.0 / 3.0}.get(input if isinstance(input, str) else "", np.nan)
    if not isinstance(input, str):
        q0 = float(np.mean(np.square(input)))
    q = np.empty(L)
    c = np.full(L, np.nan)
    sw = np.array([weight_variance(init, widths[l], widths[l + 1]) for l in range(L)])
    sb = np.array([second_moment(bias.plan((n,)), (n,)) for n in widths[1:]])
    for l in range(L):
        if l == 0:
            q[0] = sw[0] * q0 + sb[0]
            if input_corr is not None:
                c[0] = (sw[0] * input_corr * q0 + sb[0]) / q[0]
        else:
            q[l] = qmap(act, sw[l], sb[l], q[l - 1])
            if input_corr is not None:
                c[l] = cmap(act, sw[l], sb[l], q[l - 1], c[l - 1])
        if init.is_data_dependent:
            q[l] = 1.0    # LSUV rescales every layer to unit pre-activation variance
    dphi2 = expect(act, q, 1, 1)
    delta = np.empty(L)
    top = dphi2[-1] if loss == "probe" else expect(act, q[-1], 0, 0, 1, 1) + dphi2[-1]
    delta[-1] = top
    for l in range(L - 2, -1, -1):
        delta[l] = dphi2[l] * sw[l + 1] * widths[l + 2] / widths[l + 1] * delta[l + 1]
    return pd.DataFrame({"layer": np.arange(1, L + 1), "preact_sq": q, "pair_corr": c, "delta_sq": delta})
