"""Philox4x32-10 counter-based random numbers and the scalar samplers built on it.

Every random number in fastinit is a pure function of ``(seed, trial, tensor id, element index)``
(DESIGN invariant 1). One Philox call serves a *block* of four consecutive elements::

    counter = (block, draw << 8 | sub, tensor id, trial)        key = (seed lo, seed hi)

with ``block = element // 4`` (tensors hold fewer than 2**34 elements) and ``lane = element % 4``
choosing one of the four output words. ``draw`` numbers the normals an element needs (0 for its
first; truncated samplers redraw a rejected element with draws 1, 2, ..., at most
:data:`MAX_DRAW`); ``sub`` numbers the extra words the ziggurat consumes on its rare rejections.
Masks of sparse initializers use draw :data:`MASK_DRAW`.

Truncated normals keep an element's draw 0 when it falls inside the interval. Otherwise an
interval of probability at least :data:`REDRAW_MIN_MASS` takes the element's first of draws 1, 2,
... inside it; a smaller one (a far tail, where redraws would practically never land) takes the
uniform of draw :data:`TAIL_DRAW` (sub 0) through the inverse CDF, :func:`truncated_icdf` (no
redraws, so draw 1 has one meaning per interval). Both are exact: a draw 0 inside is itself
distributed as the truncated normal.

Conversions (computed in float64, then rounded to the output dtype):

* uniform: ``u = (word + 0.5) * 2**-32``, in the *open* interval (0, 1);
* standard normal: Marsaglia & Tsang's ziggurat with 256 layers on one 32-bit word (8 bits
  layer, 1 bit sign, 23 bits position, as NumPy's float32 generator); about 1% of draws need more
  words (``sub`` 1, 2, ...). Normals therefore have a resolution of 2**-23 relative to their layer.

Tensor ids used by the simulator (none depends on depth, so a shallow network is a prefix of a
deeper one with the same seed): weights of layer ``l`` are ``l`` (1-based), biases
``BIAS_TENSOR + l``, the input batch :data:`INPUT_TENSOR`, the backward probe :data:`PROBE_TENSOR`
and the regression targets :data:`TARGET_TENSOR`. Training adds the readout layer's weights
:data:`READOUT_TENSOR` and biases ``READOUT_TENSOR + 1`` (the same for every depth), the minibatch
order of epoch ``e`` :data:`ORDER_TENSOR` ``+ e`` (keyed by the network's seed and trial), and the
data of a generated task :data:`TASK_TENSOR` ``+ k`` (keyed by the task's seed, trial 0;
:mod:`fastinit.tasks` numbers its tensors ``k``).

All functions here are scalar ``@njit`` functions without eager signatures: they can be called
from Python, from a user's ``@njit`` code and from ``@cuda.jit`` kernels.
"""
from __future__ import annotations

import math

import numpy as np

from ._config import jit

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S8 = np.uint64(8)
_TWO_M32 = 2.0 ** -32

BIAS_TENSOR = 0x01000000
INPUT_TENSOR = 0x02000000
PROBE_TENSOR = 0x03000000
TARGET_TENSOR = 0x04000000
READOUT_TENSOR = 0x05000000
ORDER_TENSOR = 0x06000000
TASK_TENSOR = 0x07000000
MAX_DRAW = 0xFFFFFE
MASK_DRAW = 0xFFFFFF
MAX_ELEMENTS = 2 ** 34
#: The draw whose uniform a rejected element of a tiny-probability interval inverts.
TAIL_DRAW = 1
#: Intervals holding at least this probability are sampled by redraw, smaller ones by inverse CDF.
#: Just below the 1e-3 that fastinit once required (then refusing smaller intervals), so every
#: interval accepted then is drawn bit for bit as then, whatever the rounding of its probability;
#: redraw needs 1 / probability draws per rejected element on average.
REDRAW_MIN_MASS = 0.999e-3


def _ziggurat_tables(n=256, r=3.6541528853610088, v=0.00492867323399, bits=23):
    """Marsaglia & Tsang (2000) ziggurat tables for ``n`` layers and ``bits``-bit positions."""
    m = float(2 ** bits)
    k, w, f = np.zeros(n, np.uint32), np.zeros(n), np.zeros(n)
    dn = tn = r
    q = v / math.exp(-0.5 * dn * dn)
    k[0], k[1] = int(dn / q * m), 0
    w[0], w[n - 1] = q / m, dn / m
    f[0], f[n - 1] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(n - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = int(dn / tn * m)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / m
    return k, w, f


_ZK, _ZW, _ZF = _ziggurat_tables()
_ZR = 3.6541528853610088
_ZINV_R = 1.0 / _ZR

_SQRT1_2 = 0.70710678118654752
_INV_SQRT_2PI = 0.39894228040143268
#: Above this, log P(Z > x) comes from its asymptotic series (erfc would soon underflow).
_ASYMPTOTIC = 30.0


@jit(inline="always")
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32 with 10 rounds (Salmon et al. 2011, Random123).

    Parameters
    ----------
    c0, c1, c2, c3 : int
        The 128-bit counter as four 32-bit words.
    k0, k1 : int
        The 64-bit key as two 32-bit words.

    Returns
    -------
    tuple of 4 numpy.uint32
    """
    x0 = np.uint64(c0) & _MASK
    x1 = np.uint64(c1) & _MASK
    x2 = np.uint64(c2) & _MASK
    x3 = np.uint64(c3) & _MASK
    y0 = np.uint64(k0) & _MASK
    y1 = np.uint64(k1) & _MASK
    for _ in range(10):      # the key bump after the last round is unused: no branch in the loop
        p0 = _M0 * x0
        p1 = _M1 * x2
        n0 = (p1 >> _S32) ^ x1 ^ y0
        n2 = (p0 >> _S32) ^ x3 ^ y1
        x1 = p1 & _MASK
        x3 = p0 & _MASK
        x0 = n0
        x2 = n2
        y0 = (y0 + _W0) & _MASK
        y1 = (y1 + _W1) & _MASK
    return np.uint32(x0), np.uint32(x1), np.uint32(x2), np.uint32(x3)


@jit
def block_words(seed, trial, tensor, block, draw, sub):
    """The four Philox words of one block of four elements (see the module docstring)."""
    s = np.uint64(seed)
    c1 = (np.uint64(draw) << _S8) | np.uint64(sub)
    return philox4x32_10(np.uint64(block), c1, np.uint64(tensor), np.uint64(trial), s & _MASK, s >> _S32)


@jit
def philox_words(seed, trial, tensor, first_block, draw, sub, out):
    """The words of blocks ``first_block, first_block + 1, ...`` into ``out`` (uint32, a multiple
    of 4 long): a branch-free loop the compiler vectorises."""
    s = np.uint64(seed)
    c1 = (np.uint64(draw) << _S8) | np.uint64(sub)
    for i in range(out.shape[0] // 4):
        w = philox4x32_10(
            np.uint64(first_block + i), c1, np.uint64(tensor), np.uint64(trial), s & _MASK, s >> _S32
        )
        out[4 * i] = w[0]
        out[4 * i + 1] = w[1]
        out[4 * i + 2] = w[2]
        out[4 * i + 3] = w[3]
    return out


@jit
def element_word(seed, trial, tensor, element, draw, sub):
    """The 32-bit word of one element."""
    return block_words(seed, trial, tensor, element >> 2, draw, sub)[element & 3]


@jit
def word_to_uniform(w):
    """Map a 32-bit word to a float64 in the open interval (0, 1)."""
    return (np.float64(w) + 0.5) * _TWO_M32


@jit
def ziggurat(w, seed, trial, tensor, element, draw):
    """Standard normal from the element's first word ``w``; rejections read words sub = 1, 2, ...

    The accepting path (about 99 % of draws) is a table look-up, small enough to inline into
    sampling loops; the wedge and tail tests live in :func:`ziggurat_rejected`.
    """
    idx = np.int64(w & np.uint32(0xFF))
    rabs = w >> np.uint32(9)
    if rabs < _ZK[idx]:
        x = np.float64(rabs) * _ZW[idx]
        return -x if (w >> np.uint32(8)) & np.uint32(1) else x
    return ziggurat_rejected(w, seed, trial, tensor, element, draw)


@jit
def ziggurat_rejected(w, seed, trial, tensor, element, draw):
    """The ziggurat from a word whose first test failed (wedge, tail, and redraws)."""
    sub = 0
    while sub < 255:
        idx = np.int64(w & np.uint32(0xFF))
        sign = (w >> np.uint32(8)) & np.uint32(1)
        rabs = w >> np.uint32(9)
        x = np.float64(rabs) * _ZW[idx]
        if sign:
            x = -x
        if rabs < _ZK[idx]:
            return x
        if idx == 0:
            while sub < 253:
                sub += 1
                xx = -_ZINV_R * math.log(
                    word_to_uniform(element_word(seed, trial, tensor, element, draw, sub))
                )
                sub += 1
                yy = -math.log(word_to_uniform(element_word(seed, trial, tensor, element, draw, sub)))
                if yy + yy > xx * xx:
                    return -(_ZR + xx) if sign else _ZR + xx
        else:
            sub += 1
            u = word_to_uniform(element_word(seed, trial, tensor, element, draw, sub))
            if (_ZF[idx - 1] - _ZF[idx]) * u + _ZF[idx] < math.exp(-0.5 * x * x):
                return x
        sub += 1
        w = element_word(seed, trial, tensor, element, draw, sub)
    return np.nan


@jit
def draws_into(out, first, kind, seed, trial, tensor, words):
    """Elements ``first, first + 1, ...`` (``first`` a multiple of 4) of a tensor's standard normals
    (``kind`` 0) or uniforms in (0, 1) (``kind`` 1) into ``out``, serially, in vectorisable passes:
    Philox words, the ziggurat's table look-up, then the rare rejections. ``words`` is uint32
    scratch of a multiple of 4 elements; the values equal :func:`standard_normal` / :func:`uniform`."""
    n = out.shape[0]
    chunk = words.shape[0]
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        philox_words(seed, trial, tensor, (first + start) >> 2, 0, 0, words[:(m + 3) // 4 * 4])
        if kind == 1:
            for i in range(m):
                out[start + i] = word_to_uniform(words[i])
            continue
        for i in range(m):
            w = words[i]
            x = np.float64(w >> np.uint32(9)) * _ZW[np.int64(w & np.uint32(0xFF))]
            out[start + i] = -x if (w >> np.uint32(8)) & np.uint32(1) else x
        for i in range(m):
            w = words[i]
            if (w >> np.uint32(9)) >= _ZK[np.int64(w & np.uint32(0xFF))]:
                out[start + i] = ziggurat_rejected(w, seed, trial, tensor, first + start + i, 0)
    return out


@jit
def uniform(seed, trial, tensor, element, draw):
    """Uniform float64 in (0, 1) for one element."""
    return word_to_uniform(element_word(seed, trial, tensor, element, draw, 0))


@jit
def standard_normal(seed, trial, tensor, element, draw):
    """Standard normal float64 for one element."""
    return ziggurat(element_word(seed, trial, tensor, element, draw, 0), seed, trial, tensor, element, draw)


@jit
def truncated_normal(seed, trial, tensor, element, lo, hi):
    """Standard normal conditioned on ``lo <= z <= hi`` (bounds in sigma units), any lo < hi.

    The first draw is the element's plain standard normal (so truncated and untruncated
    initializers share their draws inside the bounds); a rejected draw is replaced by
    :func:`truncated_redraw`, or, for an interval of probability below :data:`REDRAW_MIN_MASS`,
    by :func:`truncated_tail` (inverse CDF).
    """
    z = standard_normal(seed, trial, tensor, element, 0)
    if lo <= z <= hi:
        return z
    if truncated_mass(lo, hi) < REDRAW_MIN_MASS:
        return truncated_tail(seed, trial, tensor, element, lo, hi)
    return truncated_redraw(seed, trial, tensor, element, lo, hi)


@jit
def truncated_redraw(seed, trial, tensor, element, lo, hi):
    """The element's first of draws 1, 2, ... inside ``[lo, hi]`` (its draw 0 was rejected).
    Returns NaN if :data:`MAX_DRAW` redraws all fail, which cannot happen for the intervals it is
    used for (probability >= :data:`REDRAW_MIN_MASS`: all fail with probability below 1e-7000)."""
    for draw in range(1, MAX_DRAW + 1):
        z = standard_normal(seed, trial, tensor, element, draw)
        if lo <= z <= hi:
            return z
    return np.nan


@jit
def truncated_tail(seed, trial, tensor, element, lo, hi):
    """For an interval of probability below :data:`REDRAW_MIN_MASS` whose draw 0 was rejected: the
    inverse CDF of the element's uniform at draw :data:`TAIL_DRAW`."""
    return truncated_icdf(uniform(seed, trial, tensor, element, TAIL_DRAW), lo, hi)


@jit
def _tail_series(x):
    """``S(x) = x P(Z > x) / phi(x) = 1 - 1/x^2 + 3/x^4 - ...`` (to 1e-17 for x >= 30)."""
    r = 1.0 / (x * x)
    s = 1.0
    t = 1.0
    for k in range(1, 10):
        t *= -(2 * k - 1) * r
        s += t
    return s


@jit
def log_upper_tail(x):
    """``log P(Z > x)`` for a standard normal Z, accurate in the far right tail (any x >= 0)."""
    if x < _ASYMPTOTIC:
        return math.log(0.5 * math.erfc(x * _SQRT1_2))
    return -0.5 * x * x - math.log(x) - 0.91893853320467274 + math.log(_tail_series(x))


@jit
def upper_hazard(x):
    """``phi(x) / P(Z > x)`` (x >= 0; about x far out)."""
    if x < _ASYMPTOTIC:
        return 2.0 * _INV_SQRT_2PI * math.exp(-0.5 * x * x) / math.erfc(x * _SQRT1_2)
    return x / _tail_series(x)


@jit
def log_tail_ratio(a, b):
    """``log(P(Z > b) / P(Z > a))`` for ``0 <= a <= b`` (b may be inf), without the cancellation of
    two large logarithms when b is close to a far out, nor that of erfc near 1 when both are small."""
    if b < 1.0:
        return math.log1p((math.erf(a * _SQRT1_2) - math.erf(b * _SQRT1_2)) / math.erfc(a * _SQRT1_2))
    if b < _ASYMPTOTIC:
        return math.log(math.erfc(b * _SQRT1_2) / math.erfc(a * _SQRT1_2))
    if a < _ASYMPTOTIC:
        return log_upper_tail(b) - log_upper_tail(a)
    return -0.5 * (b - a) * (b + a) - math.log1p((b - a) / a) + math.log(_tail_series(b) / _tail_series(a))


@jit
def truncated_mass(lo, hi):
    """``P(lo <= Z <= hi)`` for a standard normal Z, accurate relative to itself (it may underflow
    to 0 beyond about 37 sigma)."""
    if lo >= 0.0:
        return math.exp(log_upper_tail(lo)) * -math.expm1(log_tail_ratio(lo, hi))
    if hi <= 0.0:
        return truncated_mass(-hi, -lo)
    return 0.5 * (math.erf(hi * _SQRT1_2) - math.erf(lo * _SQRT1_2))


@jit
def _upper_icdf(u, a, b):
    """The z in [a, b] (0 <= a < b, b may be inf) with P(Z <= z | a <= Z <= b) = u in [0, 1).

    Solves ``log(P(Z > z) / P(Z > a)) = log(1 - u m)``, m = 1 - q the fraction of P(Z > a) inside
    [a, b] (1 - u m is log1p's argument for small u m, else (1 - u) + u q: no cancellation at
    either end), by Newton's method: log P(Z > z) is concave, so after the first step (from a,
    clamped to b) the iterates decrease monotonically to the root; it stops when a step no longer
    moves z.
    """
    d = log_tail_ratio(a, b)
    m = -math.expm1(d)
    if u * m < 0.5:
        target = math.log1p(-u * m)
    else:
        target = math.log((1.0 - u) + u * math.exp(d))
    z = a - target / upper_hazard(a)
    if not z <= b:
        z = b
    for _ in range(100):
        step = (log_tail_ratio(a, z) - target) / upper_hazard(z)      # <= 0 right of the root
        if not step < 0.0:
            break
        nz = z + step
        if nz <= a:
            z = a
            break
        if nz == z:
            break
        z = nz
    return z


@jit
def truncated_icdf(u, lo, hi):
    """The inverse CDF of a standard normal truncated to ``[lo, hi]`` at ``u`` in (0, 1).

    Computed in complementary, log-space form, so it is accurate however far out the interval
    lies and however little probability it holds: right of 0 by :func:`_upper_icdf`, left of 0 by
    symmetry, and an interval around 0 is split at 0 (its side chosen by u). Only ``math``
    functions: callable from ``@njit`` and ``@cuda.jit`` code. The result lies in [lo, hi].
    """
    if lo >= 0.0:
        z = _upper_icdf(u, lo, hi)
    elif hi <= 0.0:
        z = -_upper_icdf(1.0 - u, -hi, -lo)
    else:
        e_lo = math.erf(-lo * _SQRT1_2)
        p_lo = e_lo / (e_lo + math.erf(hi * _SQRT1_2))       # P(Z < 0 | lo <= Z <= hi)
        if u < p_lo:
            z = -_upper_icdf(1.0 - u / p_lo, 0.0, -lo)
        else:
            z = _upper_icdf((u - p_lo) / (1.0 - p_lo), 0.0, hi)
    return min(max(z, lo), hi)
