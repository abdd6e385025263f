"""Sampling kernels: fill arrays from the stateless Philox streams of :mod:`fastinit.rng`.

Element ``e`` of a tensor is always drawn from ``(seed, trial, tensor, e)``, so every kernel here is
bit-identical for any thread count. Arrays are 1-D (flatten a C-ordered array first).
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from ..rng import MASK_DRAW, draws_into, truncated_normal, uniform

# Elementwise sampling codes shared by all kernels.
CONSTANT, UNIFORM, NORMAL, TRUNCATED, ORTHOGONAL = 0, 1, 2, 3, 4


@jit
def transform(code, p0, p1, p2, p3, z, u, q, seed, trial, tensor, element):
    """One weight from its base draws.

    ``CONSTANT``: p0. ``UNIFORM``: p0 + (p1 - p0) u. ``NORMAL``: p0 + p1 z. ``TRUNCATED``:
    p0 + p1 z' with z' the element's standard normal conditioned on [p2, p3] (z itself when inside).
    ``ORTHOGONAL``: p0 q. ``z``, ``u`` and ``q`` are the element's base normal, uniform and
    orthogonal-matrix entry; only the one the code needs is read.
    """
    if code == NORMAL:
        return p0 + p1 * z
    if code == UNIFORM:
        return p0 + (p1 - p0) * u
    if code == TRUNCATED:
        if not (p2 <= z <= p3):
            z = truncated_normal(seed, trial, tensor, element, p2, p3)
        return p0 + p1 * z
    if code == ORTHOGONAL:
        return p0 * q
    return p0


@jit
def fill(out, code, p0, p1, p2, p3, seed, trial, tensor):
    """:func:`fill_elementwise`, or serially below 4 chunks (where starting threads costs more
    than it saves); the values are the same either way."""
    if out.shape[0] <= 4 * CHUNK:
        return elementwise_into(out, 0, code, p0, p1, p2, p3, seed, trial, tensor)
    return fill_elementwise(out, code, p0, p1, p2, p3, seed, trial, tensor)


@jit
def fill_normal(out, seed, trial, tensor):
    """Standard normals: ``out[e]`` = N(0, 1) draw of element ``e``."""
    return fill(out, NORMAL, 0.0, 1.0, 0.0, 0.0, seed, trial, tensor)


@jit
def fill_uniform(out, seed, trial, tensor):
    """Uniforms: ``out[e]`` = U(0, 1) draw of element ``e`` (in (0, 1); a float32 draw that
    rounds up to 1 becomes 1 - 2**-24)."""
    return fill(out, UNIFORM, 0.0, 1.0, 1.0 - 2.0 ** -24, 0.0, seed, trial, tensor)


#: Elements drawn per pass of :func:`elementwise_into` (a multiple of 4).
CHUNK = 1024


@jit
def elementwise_into(out, first, code, p0, p1, p2, p3, seed, trial, tensor):
    """Serially, ``out[i]`` = element ``first + i`` (``first`` a multiple of 4) of a tensor drawn
    with an elementwise code of :func:`transform` (not ORTHOGONAL); see :func:`fill_elementwise`.
    Base draws come from :func:`fastinit.rng.draws_into`, CHUNK at a time."""
    n = out.shape[0]
    base = np.empty(CHUNK)
    words = np.empty(CHUNK, np.uint32)
    kind = 1 if code == UNIFORM else 0
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        if code != CONSTANT:
            draws_into(base[:m], first + start, kind, seed, trial, tensor, words)
        if code == NORMAL:
            for i in range(m):
                out[start + i] = p0 + p1 * base[i]
        elif code == TRUNCATED:
            for i in range(m):
                out[start + i] = p0 + p1 * base[i]
            for i in range(m):     # the rare redraws, in their own pass so the first one vectorises
                if base[i] < p2 or base[i] > p3:
                    out[start + i] = p0 + p1 * truncated_normal(seed, trial, tensor, first + start + i, p2, p3)
        elif code == UNIFORM:
            for i in range(m):
                out[start + i] = p0 + (p1 - p0) * base[i]
                if out[start + i] >= p1:
                    out[start + i] = p2
        else:
            for i in range(m):
                out[start + i] = p0
    return out


@pjit
def fill_elementwise(out, code, p0, p1, p2, p3, seed, trial, tensor):
    """Fill ``out`` with an elementwise code of :func:`transform` (not ORTHOGONAL), in parallel.

    For UNIFORM, ``p2`` is the largest value of ``out.dtype`` below ``p1``: a draw that rounds up
    to ``p1`` becomes ``p2``, so uniform samples lie in [p0, p1) in every dtype.
    """
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        elementwise_into(out[c * CHUNK:min(n, (c + 1) * CHUNK)], c * CHUNK, code, p0, p1, p2, p3, seed, trial,
                         tensor)
    return out


@jit
def fill_layers(widths, seed, trial, kind, out):
    """Base draws of every layer's weights, concatenated: layer ``l`` (tensor id ``l``) is a
    C-ordered ``(widths[l-1], widths[l])`` block. ``kind`` 0: standard normals, 1: uniforms."""
    off = 0
    for l in range(1, widths.shape[0]):
        n = widths[l - 1] * widths[l]
        if kind == 0:
            fill_normal(out[off:off + n], seed, trial, l)
        else:
            fill_uniform(out[off:off + n], seed, trial, l)
        off += n
    return out


@pjit
def sparse_mask(out, n_in, n_out, stride_in, stride_out, per_input, count, seed, trial, tensor):
    """Zero entries of a weight matrix viewed as (n_in, n_out) through element strides.

    ``per_input=True`` (PyTorch ``sparse_``): for each input index, the ``count`` entries along the
    output axis with the smallest mask keys are set to 0. ``per_input=False`` (Martens 2010): for
    each output index, all but the ``count`` entries along the input axis with the smallest keys are
    set to 0. Mask keys are uniforms of the same elements at draw ``MASK_DRAW``.
    """
    outer = n_in if per_input else n_out
    inner = n_out if per_input else n_in
    for a in prange(outer):
        keys = np.empty(inner)
        for k in range(inner):
            e = a * stride_in + k * stride_out if per_input else k * stride_in + a * stride_out
            keys[k] = uniform(seed, trial, tensor, e, MASK_DRAW)
        order = np.argsort(keys)
        for r in range(inner):
            k = order[r]
            e = a * stride_in + k * stride_out if per_input else k * stride_in + a * stride_out
            if (per_input and r < count) or (not per_input and r >= count):
                out[e] = 0.0
    return out
