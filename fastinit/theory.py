"""Mean-field theory of signal propagation (Poole et al. 2016; Schoenholz et al. 2017).

Conventions (DESIGN.md): ``qmap`` returns the next q, ``cmap`` the next correlation c (not q12);
``gain(activation)`` is the multiplier of the standard deviation (sigma_w = gain / sqrt(fan_in))
that keeps q* = 1 without bias; :func:`predict` assumes the inputs of :func:`fastinit.simulate`.

Gaussian expectations use composite Gauss-Legendre quadrature over mean +- 10 sd, split at the
kinks of the activations (-1, 0, 1), so piecewise activations (ReLU, SELU, hard tanh) are
integrated to near machine precision. Every function broadcasts over array arguments.

Blow-up is data: a value that overflows is inf and one that is then undefined (inf - inf, inf / inf,
0 * inf) NaN, returned without a RuntimeWarning. Each public function ignores NumPy's overflow and
invalid-value errors while it runs (:func:`_blowup_is_data`); finite results are unaffected, and
nothing outside theory is silenced.
"""
from __future__ import annotations

import functools
import math

import numba
import numpy as np
import pandas as pd
from scipy import optimize

from ._validate import check_int, check_real
from .activations import apply, evaluate, get_activation
from .initializers import get_initializer


def _blowup_is_data(func):
    """``func`` with NumPy's overflow and invalid-value errors ignored while it runs (a fresh
    ``np.errstate`` per call: it nests, and NumPy's error state is per thread and context): a
    blown-up configuration (sigma_w^2 = inf, q beyond the largest float) gives inf and NaN quietly."""
    @functools.wraps(func)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return func(*args, **kwargs)
    return quiet


_RULES = {n: np.polynomial.legendre.leggauss(n) for n in (16, 32)}
_SD_CUTS = (-5.0, -2.5, -1.0, 0.0, 1.0, 2.5, 5.0)
_BREAKS = (-1.0, 0.0, 1.0)
_SPAN = 10.0


def _gauss_nodes(mean, var, n=16, scratch=None):
    """Nodes (..., K) and weights (..., K) for E[f(v)], v ~ N(mean, var); ``n`` nodes per segment.

    Segments: mean +- 10 sd cut at mean + {-5, -2.5, -1, 0, 1, 2.5, 5} sd and at the kinks
    (-1, 0, 1) of the catalogue's activations. Finite arguments go through :func:`_node_kernel`,
    3-4x faster than NumPy, with a result equal to :func:`_gauss_nodes_numpy`'s bit for bit (the
    same IEEE operations in the same order, and NumPy's ``exp``); non-finite ones through NumPy.
    With a :class:`_Scratch` the arrays are its buffers (valid until its next use), not new ones.
    """
    mean, var = np.asarray(mean, float), np.asarray(var, float)
    if not (np.isfinite(mean).all() and np.isfinite(var).all()):
        return _gauss_nodes_numpy(mean, var, n)
    rule_x, rule_w = _RULES[n]
    shape = np.broadcast_shapes(mean.shape, var.shape)
    rows, k = math.prod(shape), (len(_BREAKS) + len(_SD_CUTS) + 1) * n
    scratch = _Scratch() if scratch is None else scratch
    m, s2, sd = scratch.get("mean", (rows,)), scratch.get("var", (rows,)), scratch.get("sd", (rows,))
    m.reshape(shape)[...] = mean
    s2.reshape(shape)[...] = var
    v, w, hw = scratch.get("v", (rows, k)), scratch.get("w", (rows, k)), scratch.get("hw", (rows, k))
    _node_kernel(m, s2, rule_x, rule_w, _SPAN, _BREAKS_A, _SD_CUTS_A, v, w, hw, sd)
    np.exp(w, out=w)
    w /= math.sqrt(2 * math.pi) * np.where(sd > 0, sd, 1.0)[:, None]
    np.multiply(hw, w, out=w)
    degenerate = sd == 0
    if degenerate.any():
        v[degenerate] = m[degenerate, None]
        w[degenerate] = np.eye(1, k, 0)[0]
    return v.reshape(*shape, k), w.reshape(*shape, k)


class _Scratch:
    """Named float64 buffers, kept and reused: a fresh array of a few hundred KiB costs page faults
    (about 1 us per 4 KiB page) that exceed the arithmetic done on it."""

    def __init__(self):
        self._buffers: dict = {}

    def get(self, name: str, shape: tuple) -> np.ndarray:
        """A C-contiguous array of ``shape`` (uninitialised) in buffer ``name``."""
        size = math.prod(shape)
        buf = self._buffers.get(name)
        if buf is None or buf.size < size:
            buf = self._buffers[name] = np.empty(max(size, 1))
        return buf[:size].reshape(shape)


_BREAKS_A, _SD_CUTS_A = np.array(_BREAKS), np.array(_SD_CUTS)


# No fastmath: a contraction to fused multiply-add would change the rounding that makes the nodes
# equal to NumPy's (see _gauss_nodes); this is theory, not a simulation kernel.
@numba.njit(cache=True, error_model="numpy")
def _node_kernel(mean, var, rule_x, rule_w, span, breaks, sd_cuts, v, arg, hw, sd_out):
    """The segments of :func:`_gauss_nodes_numpy` for 1-D ``mean`` and ``var`` (finite), row i:
    nodes ``v[i]``, the exponent ``arg[i]`` of the normal density at them, ``hw[i]`` = half the
    segment's length times the rule's weight, and ``sd_out[i]`` the standard deviation."""
    n = rule_x.size
    n_cuts = 2 + breaks.size + sd_cuts.size
    cuts = np.empty(n_cuts)
    for i in range(mean.size):
        m = mean[i]
        sd = math.sqrt(max(var[i], 0.0))
        sd_out[i] = sd
        lo = m - span * sd
        hi = m + span * sd
        cuts[0] = lo
        cuts[1] = hi
        for j in range(breaks.size):        # np.clip(b, lo, hi)
            cuts[2 + j] = min(max(breaks[j], lo), hi)
        for j in range(sd_cuts.size):
            cuts[2 + breaks.size + j] = m + sd_cuts[j] * sd
        for j in range(1, n_cuts):          # insertion sort: the values np.sort gives
            t = cuts[j]
            p = j - 1
            while p >= 0 and cuts[p] > t:
                cuts[p + 1] = cuts[p]
                p -= 1
            cuts[p + 1] = t
        safe = sd if sd > 0.0 else 1.0
        for s in range(n_cuts - 1):
            a = cuts[s]
            b = cuts[s + 1]
            half = (b - a) / 2
            mid = (a + b) / 2
            for k in range(n):
                x = mid + half * rule_x[k]
                z = (x - m) / safe
                v[i, s * n + k] = x
                arg[i, s * n + k] = -0.5 * (z * z)
                hw[i, s * n + k] = half * rule_w[k]


def _gauss_nodes_numpy(mean, var, n=16):
    """:func:`_gauss_nodes` in NumPy (the reference, and the path for non-finite arguments)."""
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


def _checked(name, value, minimum=0.0, maximum=None, infinite=False):
    """``value`` (a number or an array of them) with every entry a finite number in [minimum,
    maximum] (``infinite``: +inf allowed too, as in the q* of a growing length map); raises
    ValueError naming the first bad entry (``sigma_w2[1]=-2.0 ...``) otherwise. Returned as given."""
    a = np.asarray(value)
    if a.dtype.kind not in "iuf":          # strings, bools, None: check_real says what is wrong
        for i, v in enumerate(a.ravel()):
            check_real(f"{name}[{i}]" if a.ndim else name, v, minimum, maximum)
        a = a.astype(float)
    ok = np.isfinite(a) | (infinite & (a == np.inf))
    if minimum is not None:
        ok &= a >= minimum
    if maximum is not None:
        ok &= a <= maximum
    if not ok.all():
        if a.ndim == 0:
            check_real(name, a.item(), minimum, maximum)
        i = np.unravel_index(int(np.argmin(ok)), a.shape)
        check_real(f"{name}[{', '.join(str(int(k)) for k in i)}]", a[i].item(), minimum, maximum)
    return value


def _variances(**values):
    """Check each keyword as a variance (a finite number >= 0, or an array of them); ``q``-like
    names (q, q0) may also be +inf."""
    for name, v in values.items():
        _checked(name, v, infinite=name.startswith("q"))


@_blowup_is_data
def expect(activation, q, *orders, mean=0.0):
    """E[prod_k phi^{(orders[k])}(u)] for u ~ N(mean, q); ``orders`` of 0, 1, 2 (phi, phi', phi'')."""
    _variances(q=q)
    _checked("mean", mean, None)
    return _expect(activation, q, *orders, mean=mean)


def _expect(activation, q, *orders, mean=0.0):
    """:func:`expect` without its checks (internal callers pass q* = inf and blown-up values)."""
    v, w = _gauss_nodes(mean, q)
    f = np.ones_like(v)
    for o in orders:
        f = f * evaluate(activation, v, o)
    return (f * w).sum(-1)


@_blowup_is_data
def qmap(activation, sigma_w2, sigma_b2, q):
    """The length map: q' = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2."""
    _variances(sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=q)
    return _qmap(activation, sigma_w2, sigma_b2, q)


def _qmap(activation, sigma_w2, sigma_b2, q):
    """:func:`qmap` without its checks."""
    return sigma_w2 * _expect(activation, q, 0, 0) + sigma_b2


def _pair_expect(activation, q1, q2, c, o1=0, o2=0, scratch=None):
    """E[phi^{(o1)}(u1) phi^{(o2)}(u2)] with Var u = q1, q2 and correlation c (``scratch``: a
    :class:`_Scratch` whose buffers hold the inner nodes, for repeated calls)."""
    q1, q2, c = np.broadcast_arrays(*(np.asarray(a, float) for a in (q1, q2, c)))
    # the outer integrand E[phi(u2) | u1] bends on the scale sqrt(1 - c^2): a finer outer rule
    v1, w1 = _gauss_nodes(np.zeros_like(q1), q1, 32)                   # (..., K)
    s1 = np.sqrt(q1)[..., None]
    z1 = np.where(s1 > 0, v1 / np.where(s1 > 0, s1, 1), 0.0)
    m2 = np.sqrt(q2)[..., None] * c[..., None] * z1
    var2 = (q2 * (1 - np.minimum(c * c, 1.0)))[..., None] * np.ones_like(z1)
    scratch = _Scratch() if scratch is None else scratch
    v2, w2 = _gauss_nodes(m2, var2, 16, scratch)                       # (..., K, K)
    act = get_activation(activation)
    f2 = scratch.get("phi", v2.shape)
    apply(act.code, act.param, o2, v2.reshape(-1), f2.reshape(-1))      # = evaluate(act, v2, o2), in place
    inner = np.multiply(f2, w2, out=f2).sum(-1)
    return (evaluate(act, v1, o1) * inner * w1).sum(-1)


@_blowup_is_data
def cmap(activation, sigma_w2, sigma_b2, q, c):
    """The correlation map at equal lengths q: c' = q12' / q' (q' from :func:`qmap`)."""
    _variances(sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=q)
    _checked("c", c, -1.0, 1.0)
    return _cmap(activation, sigma_w2, sigma_b2, q, c)


def _cmap(activation, sigma_w2, sigma_b2, q, c):
    """:func:`cmap` without its checks."""
    q12 = sigma_w2 * _pair_expect(activation, q, q, c) + sigma_b2
    return q12 / _qmap(activation, sigma_w2, sigma_b2, q)


def _length_terms(act, q):
    """E[phi^2], E[phi'^2] and E[phi phi''] at variance q, from one set of nodes."""
    v, w = _gauss_nodes(0.0, q)
    f0, f1, f2 = (evaluate(act, v, o) for o in (0, 1, 2))
    return (f0 * f0 * w).sum(-1), (f1 * f1 * w).sum(-1), (f0 * f2 * w).sum(-1)


@_blowup_is_data
def fixed_point(activation, sigma_w2, sigma_b2, q0=1.0, tol=1e-13, max_iter=300):
    """q*, the stable fixed point of the length map reached from q0.

    inf where q grows without bound; 0 where q decays to 0; q0 itself where every q is fixed (ReLU
    at sigma_w2 = 2, sigma_b2 = 0). Newton's method on qmap(q) - q, with the slope from Stein's
    lemma, d qmap / dq = sigma_w2 E[phi'^2 + phi phi''], and growth steps where the map is
    increasing above the diagonal. Broadcasts; converged points drop out of the iteration.
    """
    _variances(sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    _checked("q0", q0)
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
        new = np.where(slope < 0, np.maximum(newton, qa / 10),
                       np.where(g > 0, np.maximum(mapped, 100 * qa), mapped))
        done = (np.abs(g) <= tol * np.maximum(qa, 1e-300)) | (np.abs(new - qa) <= tol * qa) | (new < 1e-250) \
            | (new > 1e30)
        q[active] = np.where(new > 1e30, np.inf,
                             np.where(new < 1e-250, 0.0, np.where(np.abs(g) <= tol * qa, qa, new)))
        active = active[~done]
    q = q.reshape(shape)
    return q[()] if q.ndim == 0 else q


@_blowup_is_data
def chi1(activation, sigma_w2, sigma_b2, q=None):
    """chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2]: slope of the c-map at c = 1 and the mean squared
    singular value of one layer's Jacobian (< 1 ordered, > 1 chaotic)."""
    _variances(sigma_w2=sigma_w2, sigma_b2=sigma_b2, **({} if q is None else {"q": q}))
    q = fixed_point(activation, sigma_w2, sigma_b2) if q is None else q
    # the limits q -> 0+ and q -> inf (a kink at 0 must not be read at the single point 0)
    return np.asarray(sigma_w2) * _expect(activation, np.clip(q, 1e-300, 1e200), 1, 1)


@_blowup_is_data
def correlation_fixed_point(activation, sigma_w2, sigma_b2, c0=0.0, tol=1e-10, max_iter=2000):
    """c*, the correlation the c-map converges to from c0 at q = q* (1 in the ordered phase).

    The c-map is iterated until a step is below ``tol``; where it converges slowly (its slope above
    0.99 there: near the critical line, where c* -> 1), c* is then found by root finding, and is 1
    where no fixed point lies between there and 1 - 1e-5 (see :func:`_correlation_limit`)."""
    sigma_w2, sigma_b2 = check_real("sigma_w2", sigma_w2, 0.0), check_real("sigma_b2", sigma_b2, 0.0)
    check_real("c0", c0, -1.0, 1.0)
    return _correlation_limit(activation, sigma_w2, sigma_b2, c0, tol, max_iter)[0]


#: Where the c-map's slope at the correlation its iteration stopped at exceeds this, the iteration
#: was slow (its error is about tol / (1 - slope)) and :func:`_correlation_limit` refines it.
_SLOW = 0.99
#: The iterations after which the slope is looked at (the slope of a convex c-map only grows on the
#: way up to c*, so a slow iteration is seen early).
_LOOK_AT = (20, 200, 1000)
#: The root search stops this far below c = 1: closer, the rounding of cmap(c) - c (about 1e-14)
#: is comparable to its value.
_ETA_MIN = 1e-5
#: Within this above chi_1 = 1, chi_c = 2 - chi_1: the c-map to second order about c = 1,
#: cmap(1 - eta) = 1 - chi_1 eta + cmap''(1) eta^2 / 2, has its fixed point at
#: eta* = 2 (chi_1 - 1) / cmap''(1) and slope 2 - chi_1 there, to O((chi_1 - 1)^2) (for tanh at
#: sigma_b2 = 0.05 a relative error of 4.7 (chi_1 - 1) in 1 - chi_c); further out the slope at a root
#: of cmap(c) - c is more accurate (its error grows as 1e-16 / (chi_1 - 1)^2).
_NEAR_CRITICAL = 3e-6


def _correlation_limit(activation, sigma_w2, sigma_b2, c0=0.5, tol=1e-10, max_iter=2000, q=None, x1=None):
    """(c*, chi_c): the correlation the c-map converges to from ``c0`` at q = q*, and the c-map's
    slope there, chi_c = sigma_w2 E[phi'(u1) phi'(u2)] (chi_1 where c* = 1)."""
    q = float(fixed_point(activation, sigma_w2, sigma_b2)) if q is None else q
    x1 = float(chi1(activation, sigma_w2, sigma_b2, q)) if x1 is None else x1
    c = float(c0)
    slow = False
    for i in range(max_iter):
        new = float(_cmap(activation, sigma_w2, sigma_b2, q, c))
        if math.isnan(new):     # blown up (q* = inf): NaN at every later step too, so at once
            return new, math.nan
        if abs(new - c) < tol:
            c = min(new, 1.0)
            break
        c = new
        if i in _LOOK_AT and c < 1 - 1e-9 and _slope(activation, sigma_w2, q, c) > _SLOW:
            slow = True     # thousands of steps would not get there: refine now
            break
    else:
        c = min(c, 1.0)
    if c >= 1 - 1e-9:
        return c, x1
    slope = _slope(activation, sigma_w2, q, c)
    if not (slow or slope > _SLOW):
        return c, slope
    # a slow iteration stops short of c*: near the critical line it stopped about 1e-4 below c* = 1
    # and read xi_c of about 1000 there; find c* as a root of cmap(c) - c instead
    if 1 < x1 < 1 + _NEAR_CRITICAL:
        return _near_one(activation, sigma_w2, q, x1)

    def f(x):
        return float(_cmap(activation, sigma_w2, sigma_b2, q, x)) - x
    f_c = f(c)
    if f_c == 0:            # every c fixed (a linear map), or c* itself
        return c, slope
    up = f_c > 0            # the iteration moves up: c* lies between c and 1
    top = 1 - _ETA_MIN
    last, delta = c, max(abs(f_c), 1e-12)
    while True:
        x = min(c + delta, top) if up else max(c - delta, -1.0)
        f_x = f(x)
        if not math.isfinite(f_x):
            return c, slope
        if (f_x > 0) != up or f_x == 0:
            root = x if f_x == 0 else optimize.brentq(f, min(last, x), max(last, x), xtol=1e-15)
            return root, _slope(activation, sigma_w2, q, root)
        if x in (top, -1.0):
            break
        last, delta = x, 4 * delta
    if not up:
        return c, slope
    # no fixed point below 1 - _ETA_MIN: c* = 1 (or, chaotic, closer to it than that)
    return _near_one(activation, sigma_w2, q, x1) if x1 > 1 else (1.0, x1)


def _slope(activation, sigma_w2, q, c) -> float:
    """The c-map's slope at c: sigma_w2 E[phi'(u1) phi'(u2)] (Price's theorem)."""
    return sigma_w2 * float(_pair_expect(activation, q, q, c, 1, 1))


def _near_one(activation, sigma_w2, q, x1):
    """(c*, chi_c) just above chi_1 = 1 from the c-map to second order about c = 1 (see
    :data:`_NEAR_CRITICAL`), cmap''(1) = sigma_w2 q* E[phi''^2]."""
    curvature = sigma_w2 * q * float(_expect(activation, q, 2, 2))
    c = 1 - 2 * (x1 - 1) / curvature if curvature > 0 else 1.0
    return max(c, -1.0), 2 - x1


def _depth_scale(rate: float) -> float:
    """-1 / ln|rate|: the depth over which a deviation shrinking by ``rate`` per layer falls by e
    (inf where it does not shrink, 0 where it vanishes at once)."""
    r = abs(rate)
    if r >= 1:
        return math.inf
    return 0.0 if r == 0 else -1.0 / math.log(r)


@_blowup_is_data
def depth_scales(activation, sigma_w2, sigma_b2):
    """(xi_q, xi_c): depths over which the length and the correlation reach their fixed points
    (Schoenholz et al. 2017, eqs. 4 and 9): xi_c = -1 / ln chi_c, chi_c = sigma_w2 E[phi'(u1) phi'(u2)]
    at the correlation's fixed point c* (chi_c = chi_1 in the ordered phase, where c* = 1). Both
    diverge on the critical line (chi_1 = 1: inf, or ~ 1 / |chi_1 - 1| beside it)."""
    sigma_w2, sigma_b2 = check_real("sigma_w2", sigma_w2, 0.0), check_real("sigma_b2", sigma_b2, 0.0)
    q = fixed_point(activation, sigma_w2, sigma_b2)
    x1 = float(chi1(activation, sigma_w2, sigma_b2, q))
    xi_q = _depth_scale(x1 + sigma_w2 * float(_expect(activation, q, 2, 0)))
    _, slope = _correlation_limit(activation, sigma_w2, sigma_b2, 0.5, q=float(q), x1=x1)
    return xi_q, _depth_scale(slope)


@_blowup_is_data
def critical_sigma_w2(activation, sigma_b2=0.0, bracket=(0.05, 50.0)):
    """sigma_w2 on the critical line chi_1 = 1 at this sigma_b2.

    Raises
    ------
    ValueError
        When chi_1 does not cross 1 in ``bracket``, or q* is infinite at the crossing; when
        ``sigma_b2`` is not a variance (a finite number >= 0) or ``bracket`` not two of them.
    """
    sigma_b2 = check_real("sigma_b2", sigma_b2, 0.0)
    if not (isinstance(bracket, (tuple, list)) and len(bracket) == 2):
        raise ValueError(f"bracket={bracket!r} must be two numbers 0 < a < b")
    a, b = (check_real(f"bracket[{i}]", v, positive=True) for i, v in enumerate(bracket))
    if not a < b:
        raise ValueError(f"bracket={bracket!r} must be two numbers 0 < a < b")

    def f(s):
        return float(chi1(activation, s, sigma_b2)) - 1.0
    fa, fb = f(a), f(b)
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa * fb > 0:
        raise ValueError(f"activation={get_activation(activation).label!r}, sigma_b2={sigma_b2!r}: chi_1 "
                         f"does not cross 1 for sigma_w2 in {bracket} (no critical point with finite q*)")
    s = optimize.brentq(f, a, b, xtol=1e-12, rtol=1e-12)
    # q* must be finite there: ReLU with bias has chi_1 = 1 at sigma_w2 = 2, where q* -> inf (at the
    # root, known to 1e-12, q* is then beyond 1e10; above 1e8 counts as infinite)
    if not float(fixed_point(activation, s, sigma_b2)) < 1e8:
        raise ValueError(f"activation={get_activation(activation).label!r}, sigma_b2={sigma_b2!r}: q* is "
                         f"infinite at chi_1 = 1 (no critical point)")
    return s


@_blowup_is_data
def phase_diagram(activation, sigma_w2_grid, sigma_b2_grid) -> pd.DataFrame:
    """q*, chi_1 and the phase on the grid sigma_w2 x sigma_b2 (one row per point)."""
    _variances(sigma_w2_grid=sigma_w2_grid, sigma_b2_grid=sigma_b2_grid)
    sw, sb = np.meshgrid(np.asarray(sigma_w2_grid, float), np.asarray(sigma_b2_grid, float), indexing="ij")
    q = fixed_point(activation, sw, sb)
    x = chi1(activation, sw, sb, q)
    phase = np.where(np.abs(x - 1) < 1e-9, "critical", np.where(x < 1, "ordered", "chaotic"))
    return pd.DataFrame({"sigma_w2": sw.ravel(), "sigma_b2": sb.ravel(), "q_star": np.ravel(q),
                         "chi1": x.ravel(), "phase": phase.ravel()})


def gain(activation) -> float:
    """The standard-deviation multiplier that makes q* = 1 without bias: 1 / sqrt(E[phi(z)^2]).

    Compare :func:`fastinit.calculate_gain` (PyTorch's heuristics): relu sqrt(2) in both; tanh
    1.5925 here against PyTorch's 5/3; selu 1 here (LeCun scaling, self-normalising) against 3/4.
    """
    return 1.0 / math.sqrt(float(expect(activation, 1.0, 0, 0)))


def weight_variance(initializer, n_in: int, n_out: int) -> float:
    """sigma_w^2 = fan_in * E[w^2] of a (n_in, n_out) Keras-layout weight."""
    n_in, n_out = check_int("n_in", n_in, 1), check_int("n_out", n_out, 1)
    init = get_initializer(initializer).sampled
    return n_in * second_moment(init.plan((n_in, n_out)), (n_in, n_out))


def second_moment(plan, shape) -> float:
    """E[w^2] of the entries of a tensor of ``shape`` drawn from ``plan`` (its kind knows)."""
    n_in, n_out = shape if len(shape) == 2 else (shape[0], shape[0])
    return plan.kind.second_moment(plan.args, n_in, n_out)


def predict(initializer, activation, depth: int | None = None, width: int | None = None, *, widths=None,
            bias_initializer="zeros", input="normal", input_corr=None, loss: str = "probe") -> pd.DataFrame:
    """Per-layer preact_sq, pair_corr and delta_sq that mean-field theory predicts for
    :func:`fastinit.simulate` with the same arguments (sigma_w^2 = fan_in E[w^2] per layer,
    sigma_b^2 = E[b^2]). Mean-field theory assumes zero-mean weights; LSUV is predicted as q = 1.
    One request of :func:`predict_many`; many networks are faster through that."""
    if widths is None:
        widths = [check_int("width", width, 1)] * (check_int("depth", depth, 1) + 1)
    widths = _widths(widths, "widths")
    L = len(widths) - 1
    p = predict_many([{"initializer": initializer, "activation": activation, "widths": widths, "depths": [L],
                       "bias_initializer": bias_initializer, "input": input, "input_corr": input_corr,
                       "loss": loss}])[0][0]
    return pd.DataFrame({"layer": np.arange(1, L + 1), **dict(zip(PREDICTED, p.T))})


_REQUEST_KEYS = ("initializer", "activation", "widths", "depths", "bias_initializer", "input", "input_corr",
                 "loss")
#: The metrics theory predicts, in the order of :func:`predict_many`'s last axis.
PREDICTED = ("preact_sq", "pair_corr", "delta_sq")
_PAIR_BATCH = 4     # networks per call of _pair_expect (1 to 8 measured alike: the phi's dominate)


@_blowup_is_data
def predict_many(requests, memo: dict | None = None) -> list[np.ndarray]:
    """:func:`predict` for many networks and depths at once, each distinct computation done once.

    Parameters
    ----------
    requests : iterable of dict
        One dict per network, with the keys of :func:`predict`: ``initializer``, ``activation``,
        ``widths`` (the widths of the deepest network wanted, input first), optional ``depths``
        (the depths D wanted, each the network ``widths[:D + 1]``; default ``[len(widths) - 1]``),
        and optional ``bias_initializer`` ("zeros"), ``input`` ("normal", "uniform01" or an array),
        ``input_corr`` (None) and ``loss`` ("probe"; anything else is the MSE loss, as in
        :func:`predict`).
    memo : dict, optional
        Where forward passes (and sigma_w^2, sigma_b^2 of layers) are kept: pass the same dict to
        several calls, e.g. one per sweep, to compute each network once across them all. Its keys
        are predict_many's own; it grows by a few arrays of ``depth`` floats per distinct network.

    Returns
    -------
    list of numpy.ndarray
        Per request a float64 array of shape ``(len(depths), max(depths), 3)``: ``[k, l]`` holds
        ``preact_sq``, ``pair_corr`` and ``delta_sq`` of layer ``l + 1`` of the depth-``depths[k]``
        network, NaN for ``l >= depths[k]`` (and ``pair_corr`` NaN without ``input_corr``). Equal
        bit for bit to ``predict(initializer, activation, widths=widths[:D + 1], ...)``. Fresh arrays:
        identical requests get equal values, not the same array.

    Raises
    ------
    TypeError
        A request that is not a dict.
    ValueError
        A request that lacks ``initializer``, ``activation`` or ``widths``, has other
        keys, or asks for a depth outside ``1 .. len(widths) - 1``.

    Notes
    -----
    Work is shared four ways. Requests that agree in everything but seeds (which theory does not
    see) are one network: initializers and activations are compared by their exact parameters (a
    label rounds them to 6 digits). A network's depths share one forward pass (the q and c of depth
    D are the first D of the deepest's), and a shallower network whose widths begin the deeper one's
    joins it; each depth's delta_sq is a reverse cumulative product of per-layer factors. Networks
    with the same activation advance a layer at a time together: one call of :func:`qmap` for all,
    and :func:`_pair_expect` for a few at once. And ``memo`` carries all this from call to call.
    """
    memo = {} if memo is None else memo
    items = [_request(i, r) for i, r in enumerate(requests)]
    todo = []
    for it in items:
        it["pass"] = next((p for p in memo.get(("passes", it["key"]), ()) if p["widths"][:len(it["widths"])]
                           == it["widths"]), None)
        if it["pass"] is None:
            todo.append(it)
    home = _homes(todo)
    by_act: dict = {}       # per activation: {(key, widths of the pass): a request of it}
    for it in todo:
        by_act.setdefault(it["key"][0], {})[home[it["key"], it["widths"]]] = it
    passes = {}
    for nets in by_act.values():
        passes.update(_forward(nets, memo))
    for (key, _), p in passes.items():
        memo.setdefault(("passes", key), []).append(p)
    for it in todo:
        it["pass"] = passes[home[it["key"], it["widths"]]]
    out = []
    for it in items:
        fw = it["pass"]
        res = np.full((len(it["depths"]), max(it["depths"]), 3), np.nan)
        for k, d in enumerate(it["depths"]):
            res[k, :d, 0] = fw["q"][:d]
            res[k, :d, 1] = fw["c"][:d]
            if (d, it["probe"]) not in fw["delta"]:
                fw["delta"][d, it["probe"]] = _delta(fw, d, it["probe"])
            res[k, :d, 2] = fw["delta"][d, it["probe"]]
        out.append(res)
    return out


def _homes(items: list) -> dict:
    """``{(key, widths): (key, widths of its forward pass)}``: per network key the longest widths,
    which shorter widths that begin them join."""
    widths: dict = {}
    for it in items:
        widths.setdefault(it["key"], {})[it["widths"]] = None
    home = {}
    for key, ws in widths.items():
        longest: list = []
        for w in sorted(ws, key=len, reverse=True):
            top = next((t for t in longest if t[:len(w)] == w), None)
            if top is None:
                longest.append(w)
                top = w
            home[key, w] = key, top
    return home


#: q0, the mean square of an input entry, of each kind of input.
_INPUT_Q0 = {"normal": 1.0, "uniform01": 1.0 / 3.0}


def _request(i: int, r) -> dict:
    """A request of :func:`predict_many`, resolved, with the key of its forward pass."""
    if not isinstance(r, dict):
        raise TypeError(f"requests[{i}]={r!r} must be a dict with keys {list(_REQUEST_KEYS)}")
    missing = [k for k in ("initializer", "activation", "widths") if k not in r]
    extra = sorted(set(r) - set(_REQUEST_KEYS))
    if missing or extra:
        raise ValueError(f"requests[{i}] lacks {missing} / has unknown keys {extra}; allowed: "
                         f"{list(_REQUEST_KEYS)}")
    act = get_activation(r["activation"])
    init = get_initializer(r["initializer"])
    bias = get_initializer(r.get("bias_initializer", "zeros"))
    widths = tuple(_widths(r["widths"], f"requests[{i}]: widths"))
    depths = [int(d) for d in r.get("depths", [len(widths) - 1])]
    if not depths or not all(1 <= d < len(widths) for d in depths):
        raise ValueError(f"requests[{i}]: depths={depths!r} must be 1 .. {len(widths) - 1} (widths has "
                         f"{len(widths)} entries)")
    inp = r.get("input", "normal")
    if isinstance(inp, str) and inp not in _INPUT_Q0:
        raise ValueError(f"requests[{i}]: input={inp!r} must be one of {tuple(_INPUT_Q0)} or an array")
    q0 = _INPUT_Q0[inp] if isinstance(inp, str) else float(np.mean(np.square(inp)))
    corr = r.get("input_corr")
    corr = None if corr is None else check_real(f"requests[{i}]: input_corr", corr, -1.0, 1.0)
    key = ((act.name, act.param), _exact(init), _exact(bias), repr(q0), repr(corr))
    return {"key": key, "act": act, "init": init, "bias": bias, "q0": q0, "corr": corr,
            "widths": widths[:max(depths) + 1], "depths": depths, "probe": r.get("loss", "probe") == "probe"}


def _widths(widths, name: str) -> list:
    """``widths``: a list of at least two positive integers (input first)."""
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) < 2:
        raise ValueError(f"{name}={widths!r} must list at least two positive ints (input and layers)")
    return [check_int(f"{name}[{j}]", w, 1) for j, w in enumerate(widths)]


def _exact(init) -> tuple:
    """An initializer's identity for theory: its name and exact parameters."""
    return init.name, repr(sorted(init.params.items()))


def _forward(nets: dict, memo: dict) -> dict:
    """The forward passes of networks with one activation, a layer at a time for all of them
    (``nets``: ``{(key, widths): a request}``): ``{(key, widths): pass}``, a pass holding per layer
    ``q``, ``c``, ``sw`` (sigma_w^2) and ``dphi2`` (E[phi'^2] at q), ``widths``, ``act``, and
    ``delta``: ``{(depth, probe): delta_sq}`` filled as asked for. ``memo``: sigma_w^2 and sigma_b^2."""
    order = sorted(nets, key=lambda kw: -len(kw[1]))
    its = [nets[kw] for kw in order]
    act = its[0]["act"]
    depth = np.array([len(w) - 1 for _, w in order])
    n, top = len(order), int(depth[0])
    sw, sb = np.full((n, top), np.nan), np.full((n, top), np.nan)
    for j, ((_, w), it) in enumerate(zip(order, its)):
        for l in range(len(w) - 1):
            wk, bk = ("sigma_w2", it["key"][1], w[l], w[l + 1]), ("sigma_b2", it["key"][2], w[l + 1])
            if wk not in memo:
                memo[wk] = weight_variance(it["init"], w[l], w[l + 1])
            if bk not in memo:
                memo[bk] = second_moment(it["bias"].plan((w[l + 1],)), (w[l + 1],))
            sw[j, l], sb[j, l] = memo[wk], memo[bk]
    q0 = np.array([it["q0"] for it in its])
    corr = np.array([np.nan if it["corr"] is None else it["corr"] for it in its])
    has_corr = np.array([it["corr"] is not None for it in its])
    lsuv = np.array([it["init"].is_data_dependent for it in its])
    q, c = np.full((n, top), np.nan), np.full((n, top), np.nan)
    scratch = _Scratch()
    for l in range(top):
        m = int(np.count_nonzero(depth > l))        # the networks this deep (deepest first)
        w, b = sw[:m, l], sb[:m, l]
        rows = np.flatnonzero(has_corr[:m])
        if l == 0:
            mapped = w * q0[:m] + b
            c[rows, 0] = (w[rows] * corr[rows] * q0[rows] + b[rows]) / mapped[rows]
        else:
            prev = q[:m, l - 1]
            mapped = _qmap(act, w, b, prev)
            for s in range(0, rows.size, _PAIR_BATCH):
                r = rows[s:s + _PAIR_BATCH]
                q12 = w[r] * _pair_expect(act, prev[r], prev[r], c[r, l - 1], scratch=scratch) + b[r]
                c[r, l] = q12 / mapped[r]
        q[:m, l] = np.where(lsuv[:m], 1.0, mapped)   # LSUV rescales every layer to unit variance
    # phi'^2 at every layer of every network, in one call
    flat = np.concatenate([q[j, :depth[j]] for j in range(n)])
    dphi2 = np.split(_expect(act, flat, 1, 1), np.cumsum(depth)[:-1])
    return {kw: {"q": q[j, :depth[j]], "c": c[j, :depth[j]], "sw": sw[j, :depth[j]], "widths": kw[1],
                 "dphi2": dphi2[j], "act": act, "delta": {}} for j, kw in enumerate(order)}


def _delta(fw: dict, d: int, probe: bool) -> np.ndarray:
    """delta_sq of the depth-``d`` network of a forward pass: the top value, then per layer the
    factor phi'^2 sigma_w^2 n_{l+2} / n_{l+1} (a reverse cumulative product, in predict's order)."""
    dphi2, sw, w = fw["dphi2"], fw["sw"], fw["widths"]
    top = dphi2[d - 1] if probe else _expect(fw["act"], fw["q"][d - 1], 0, 0, 1, 1) + dphi2[d - 1]
    factor = dphi2[:d - 1] * sw[1:d] * np.asarray(w[2:d + 1], float) / np.asarray(w[1:d], float)
    return np.multiply.accumulate(np.concatenate(([top], factor[::-1])))[::-1]
