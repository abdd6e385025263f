"""Philox4x32-10 counter-based random numbers and the scalar samplers built on it.

Every random number in fastinit is a pure function of ``(seed, trial, tensor id, element index)``
(DESIGN invariant 1). One Philox call serves a *block* of four consecutive elements::

    counter = (block lo 32 bits, block hi 16 bits | attempt << 16, tensor id, trial)
    key     = (seed lo 32 bits, seed hi 32 bits)

with ``block = element // 4`` and ``lane = element % 4`` choosing one of the four output words.
``attempt`` is 0 for a first draw; truncated samplers redraw a rejected element with attempts
1, 2, ... (at most :data:`MAX_ATTEMPT`), and masks of sparse initializers use :data:`MASK_ATTEMPT`.

Conversions (all computed in float64, then rounded to the output dtype):

* uniform: ``u = (word + 0.5) * 2**-32``, in the *open* interval (0, 1);
* standard normal: Box–Muller on the word pairs (w0, w1) and (w2, w3); lanes 0/1 take the cosine
  and sine branch of the first pair, lanes 2/3 of the second. |z| is at most 6.66.

Tensor ids used by the simulator (none depends on depth, so a shallow network is a prefix of a
deeper one with the same seed): weights of layer ``l`` are ``l`` (1-based), biases
``BIAS_TENSOR + l``, the input batch :data:`INPUT_TENSOR`, the backward probe :data:`PROBE_TENSOR`
and the regression targets :data:`TARGET_TENSOR`.

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
_LOW16 = np.uint64(0xFFFF)
_S32 = np.uint64(32)
_S16 = np.uint64(16)
_TWO_M32 = 2.0 ** -32
_TWO_PI = 2.0 * math.pi

BIAS_TENSOR = 0x01000000
INPUT_TENSOR = 0x02000000
PROBE_TENSOR = 0x03000000
TARGET_TENSOR = 0x04000000
MAX_ATTEMPT = 0x7FFF
MASK_ATTEMPT = 0x8000


@jit
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
    for r in range(10):
        if r > 0:
            y0 = (y0 + _W0) & _MASK
            y1 = (y1 + _W1) & _MASK
        p0 = _M0 * x0
        p1 = _M1 * x2
        n0 = (p1 >> _S32) ^ x1 ^ y0
        n2 = (p0 >> _S32) ^ x3 ^ y1
        x1 = p1 & _MASK
        x3 = p0 & _MASK
        x0 = n0
        x2 = n2
    return np.uint32(x0), np.uint32(x1), np.uint32(x2), np.uint32(x3)


@jit
def block_words(seed, trial, tensor, block, attempt):
    """The four Philox words of one block of four elements (see the module docstring)."""
    s = np.uint64(seed)
    b = np.uint64(block)
    c1 = ((b >> _S32) & _LOW16) | (np.uint64(attempt) << _S16)
    return philox4x32_10(b & _MASK, c1, np.uint64(tensor), np.uint64(trial), s & _MASK, s >> _S32)


@jit
def word_to_uniform(w):
    """Map a 32-bit word to a float64 in the open interval (0, 1)."""
    return (np.float64(w) + 0.5) * _TWO_M32


@jit
def box_muller(wa, wb):
    """Two independent standard normals from two 32-bit words."""
    r = math.sqrt(-2.0 * math.log(word_to_uniform(wa)))
    t = _TWO_PI * word_to_uniform(wb)
    return r * math.cos(t), r * math.sin(t)


@jit
def block_normals(seed, trial, tensor, block, attempt):
    """The four standard normals of one block."""
    w0, w1, w2, w3 = block_words(seed, trial, tensor, block, attempt)
    z0, z1 = box_muller(w0, w1)
    z2, z3 = box_muller(w2, w3)
    return z0, z1, z2, z3


@jit
def uniform(seed, trial, tensor, element, attempt):
    """Uniform float64 in (0, 1) for one element."""
    w = block_words(seed, trial, tensor, element >> 2, attempt)
    return word_to_uniform(w[element & 3])


@jit
def standard_normal(seed, trial, tensor, element, attempt):
    """Standard normal float64 for one element."""
    z = block_normals(seed, trial, tensor, element >> 2, attempt)
    return z[element & 3]


@jit
def truncated_normal(seed, trial, tensor, element, lo, hi):
    """Standard normal conditioned on ``lo <= z <= hi`` (bounds in sigma units), by redraw.

    The first draw is the element's plain standard normal (so truncated and untruncated
    initializers share their draws inside the bounds); a rejected draw is replaced by the same
    element's draw at attempt 1, 2, .... Returns NaN if :data:`MAX_ATTEMPT` redraws all fail,
    which callers prevent by refusing intervals of probability below 1e-3.
    """
    for attempt in range(MAX_ATTEMPT + 1):
        z = standard_normal(seed, trial, tensor, element, attempt)
        if lo <= z <= hi:
            return z
    return np.nan
