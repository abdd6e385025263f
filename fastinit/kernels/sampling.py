"""Sampling kernels: fill arrays from the stateless Philox streams of :mod:`fastinit.rng`.

Element ``e`` of a tensor is always drawn from ``(seed, trial, tensor, e)``, so every kernel here is
bit-identical for any thread count. Arrays are 1-D (flatten a C-ordered array first).
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from ..rng import (
    MASK_DRAW,
    REDRAW_MIN_MASS,
    draws_into,
    truncated_mass,
    truncated_redraw,
    truncated_tail,
    uniform,
)

# Elementwise sampling codes shared by all kernels.
CONSTANT, UNIFORM, NORMAL, TRUNCATED, ORTHOGONAL = 0, 1, 2, 3, 4
#: Code of a row that :func:`fill_rows` leaves as it is (structured weights, filled by the caller).
EXPLICIT = -1


@jit
def from_base(out, code, p0, p1, p2, p3, base, first, seed, trial, tensor):
    """``out[i]`` from the base draw ``base[i]`` of element ``first + i``; this defines the codes.

    ``CONSTANT``: p0. ``UNIFORM`` (base: uniforms): p0 + (p1 - p0) u, and a value that rounds up to
    p1 becomes p2 (the largest value of ``out.dtype`` below p1). ``NORMAL`` (base: normals):
    p0 + p1 z. ``TRUNCATED``: p0 + p1 z' with z' the element's normal conditioned on [p2, p3]
    (z itself when inside; otherwise its redraws, or for an interval of probability below
    :data:`fastinit.rng.REDRAW_MIN_MASS` the inverse CDF of a uniform, as
    :func:`fastinit.rng.truncated_normal`). ``ORTHOGONAL`` (base: orthogonal entries): p0 q.
    """
    n = out.shape[0]
    if code == NORMAL or code == TRUNCATED:
        for i in range(n):
            out[i] = p0 + p1 * base[i]
        if code == TRUNCATED:
            tail = truncated_mass(p2, p3) < REDRAW_MIN_MASS
            for i in range(n):     # the rare redraws, in their own pass so the first one vectorises
                if base[i] < p2 or base[i] > p3:
                    if tail:
                        out[i] = p0 + p1 * truncated_tail(seed, trial, tensor, first + i, p2, p3)
                    else:
                        out[i] = p0 + p1 * truncated_redraw(seed, trial, tensor, first + i, p2, p3)
    elif code == UNIFORM:
        for i in range(n):
            out[i] = p0 + (p1 - p0) * base[i]
            if out[i] >= p1:
                out[i] = p2
    elif code == ORTHOGONAL:
        for i in range(n):
            out[i] = p0 * base[i]
    else:
        out[:] = p0
    return out


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
    with an elementwise code of :func:`from_base` (not ORTHOGONAL); see :func:`fill_elementwise`.
    Base draws come from :func:`fastinit.rng.draws_into`, CHUNK at a time."""
    n = out.shape[0]
    base = np.empty(CHUNK)
    words = np.empty(CHUNK, np.uint32)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        if code != CONSTANT:
            draws_into(base[:m], first + start, 1 if code == UNIFORM else 0, seed, trial, tensor, words)
        from_base(out[start:start + m], code, p0, p1, p2, p3, base[:m], first + start, seed, trial, tensor)
    return out


@pjit
def fill_elementwise(out, code, p0, p1, p2, p3, seed, trial, tensor):
    """Fill ``out`` with an elementwise code of :func:`from_base` (not ORTHOGONAL), in parallel.

    For UNIFORM, ``p2`` is the largest value of ``out.dtype`` below ``p1``: a draw that rounds up
    to ``p1`` becomes ``p2``, so uniform samples lie in [p0, p1) in every dtype.
    """
    n = out.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        elementwise_into(out[c * CHUNK:min(n, (c + 1) * CHUNK)], c * CHUNK, code, p0, p1, p2, p3, seed, trial,
                         tensor)
    return out


@jit
def base_layer(out, kind, seed, trial, tensor):
    """Serially, the base draws of one tensor: standard normals (``kind`` 0, as
    :func:`fill_normal`) or uniforms (1, as :func:`fill_uniform`)."""
    if kind == 0:
        return elementwise_into(out, 0, NORMAL, 0.0, 1.0, 0.0, 0.0, seed, trial, tensor)
    return elementwise_into(out, 0, UNIFORM, 0.0, 1.0, 1.0 - 2.0 ** -24, 0.0, seed, trial, tensor)


@jit
def fill_layers(widths, seed, trial, kind, out):
    """Base draws of every layer's weights, concatenated: layer ``l`` (tensor id ``l``) is a
    C-ordered ``(widths[l-1], widths[l])`` block. ``kind`` 0: standard normals, 1: uniforms."""
    off = 0
    for l in range(1, widths.shape[0]):
        n = widths[l - 1] * widths[l]
        base_layer(out[off:off + n], kind, seed, trial, l)
        off += n
    return out


@pjit
def fill_layers_rows(widths, seeds, trials, kind, out):
    """:func:`fill_layers` of stream ``(seeds[i], trials[i])`` into row ``i`` of ``out`` for every
    row, in parallel over (row, layer) pairs."""
    depth = widths.shape[0] - 1
    off = np.zeros(depth + 1, np.int64)
    for l in range(depth):
        off[l + 1] = off[l] + widths[l] * widths[l + 1]
    for t in prange(out.shape[0] * depth):
        i, l = t // depth, t % depth
        base_layer(out[i, off[l]:off[l + 1]], kind, seeds[i], trials[i], l + 1)
    return out


@pjit
def fill_rows(
    sizes, tensor0, codes, params, row_group, seeds, trials, group_base, base_z, base_u, base_q, out
):
    """Fill rows of per-layer parameters: block ``l`` (``sizes[l-1]`` elements, tensor id
    ``tensor0 + l``) of row ``r`` with code ``codes[r]`` and parameters ``params[r, l-1]`` of
    :func:`from_base`, in the stream of the row's group ``g = row_group[r]``
    (``seeds[g]``, ``trials[g]``). Rows of code ``EXPLICIT`` are left as they are.

    A group with a row of ``base_z`` / ``base_u`` / ``base_q`` (``group_base[g]``, -1: none; these
    rows lay out layers as ``out`` does) transforms those base draws, shared by its rows;
    otherwise normals and uniforms are drawn here, with the same values. ORTHOGONAL needs
    ``base_q``. Runs in parallel over (row, layer) pairs.
    """
    depth = sizes.shape[0]
    off = np.zeros(depth + 1, np.int64)
    for l in range(depth):
        off[l + 1] = off[l] + sizes[l]
    for t in prange(out.shape[0] * depth):
        r, l = t // depth, t % depth
        code = codes[r]
        if code == EXPLICIT:
            continue
        g = row_group[r]
        p = params[r, l]
        seg = out[r, off[l]:off[l + 1]]
        k = 2 if code == ORTHOGONAL else 1 if code == UNIFORM else 0
        if code == CONSTANT or group_base[g, k] < 0:
            elementwise_into(seg, 0, code, p[0], p[1], p[2], p[3], seeds[g], trials[g], tensor0 + l + 1)
        else:
            base = base_q if k == 2 else base_u if k == 1 else base_z
            from_base(
                seg,
                code,
                p[0],
                p[1],
                p[2],
                p[3],
                base[group_base[g, k], off[l] : off[l + 1]],
                0,
                seeds[g],
                trials[g],
                tensor0 + l + 1,
            )
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
