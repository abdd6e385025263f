"""The vectorised activation pass of the CPU kernels: ``x = phi(h)`` and ``d = phi'(h)`` over arrays.

CPU-only: :func:`exp_into` computes exp through an int64 view of float64 bits (a trick for SIMD
units; a CUDA kernel calls :func:`fastinit.activations.phi_dphi` per element instead). Values agree
with the scalar device functions of :mod:`fastinit.activations` within 2 ulp.
"""
from __future__ import annotations

import math

import numpy as np

from .._config import jit
from ..activations import (
    ELU,
    HARD_TANH,
    LEAKY_RELU,
    LINEAR,
    RELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    SIGMOID,
    SILU,
    TANH,
    phi_dphi,
)

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_C = tuple(1.0 / math.factorial(k) for k in range(14))
# Cephes' tanh for |x| < 0.625: x + x z P(z) / Q(z), z = x^2
_TP = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TQ = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)

#: Elements per pass of :func:`activate_into` (the size of its scratch buffers).
ACT_CHUNK = 512


@jit
def exp_into(v, k):
    """``v = exp(v)`` in place, in two loops the compiler vectorises (Cody-Waite reduction, a
    degree-13 polynomial, and 2**n added to the exponent through an int64 view), within 1 ulp.
    Arguments are clamped to [-708, 709] (results below 1e-307 or above 1e307 are off, which no
    statistic can see) and NaN is not preserved: callers restore it. ``k``: int64 scratch."""
    n = v.shape[0]
    for i in range(n):
        x = min(max(v[i], -708.0), 709.0)
        t = math.floor(x * _LOG2E + 0.5)
        r = (x - t * _LN2_HI) - t * _LN2_LO
        p = _EXP_C[13]
        for c in range(12, -1, -1):
            p = p * r + _EXP_C[c]
        v[i] = p
        k[i] = np.int64(t)
    bits = v.view(np.int64)
    for i in range(n):
        bits[i] += k[i] << 52
    return v


@jit
def piecewise_linear_into(code, a, h, x, d):
    """:func:`activate_into` for ReLU, linear, leaky ReLU and hard tanh, in branch-free loops;
    False (and nothing written) for other codes."""
    n = h.shape[0]
    # one loop per activation: a branch on the code inside a loop keeps it from vectorising
    if code == RELU:
        for i in range(n):
            v = np.float64(h[i])
            x[i] = v if v > 0.0 else 0.0 * v
            d[i] = 1.0 if v > 0.0 else 0.0
        return True
    if code == LINEAR:
        for i in range(n):
            x[i] = h[i]
            d[i] = 1.0
        return True
    if code == LEAKY_RELU:
        for i in range(n):
            v = np.float64(h[i])
            x[i] = v if v > 0.0 else a * v
            d[i] = 1.0 if v > 0.0 else a
        return True
    if code == HARD_TANH:
        for i in range(n):
            v = np.float64(h[i])
            x[i] = min(1.0, max(-1.0, v)) if v == v else v
            d[i] = 1.0 if -1.0 < v < 1.0 else 0.0
        return True
    return False


@jit
def activate_into(code, a, h, x, d, buf, kbuf):
    """``x = phi(h)`` and ``d = phi'(h)`` over 1-D arrays. tanh, sigmoid, silu, elu and selu run in
    vectorised passes through :func:`exp_into` (within 2 ulp of libm); the piecewise-linear ones in
    branch-free loops; the rest call :func:`phi_dphi` element by element. ``buf`` (float64) and
    ``kbuf`` (int64) are scratch of ACT_CHUNK elements at least. NaN stays NaN."""
    n = h.shape[0]
    if piecewise_linear_into(code, a, h, x, d):
        return x
    for start in range(0, n, ACT_CHUNK):
        m = min(ACT_CHUNK, n - start)
        hs, xs, ds, e = h[start:start + m], x[start:start + m], d[start:start + m], buf[:m]
        if code == TANH:
            for i in range(m):
                e[i] = -2.0 * abs(np.float64(hs[i]))
            exp_into(e, kbuf)
            for i in range(m):
                v = np.float64(hs[i])
                z = v * v
                small = v + v * z * ((_TP[0] * z + _TP[1]) * z + _TP[2]) / (
                    ((z + _TQ[0]) * z + _TQ[1]) * z + _TQ[2]
                )
                big = (1.0 - e[i]) / (1.0 + e[i])
                t = small if abs(v) < 0.625 else (big if v > 0.0 else -big)
                t = t if v == v else v
                xs[i] = t
                ds[i] = 1.0 - t * t
        elif code == SIGMOID or code == SILU:
            for i in range(m):
                e[i] = -np.float64(hs[i])
            exp_into(e, kbuf)
            for i in range(m):
                v = np.float64(hs[i])
                sg = 1.0 / (1.0 + e[i])
                sg = sg if v == v else v
                if code == SIGMOID:
                    xs[i] = sg
                    ds[i] = sg * (1.0 - sg)
                else:
                    xs[i] = v * sg
                    ds[i] = sg + v * sg * (1.0 - sg)
        elif code == ELU or code == SELU:
            alpha = a if code == ELU else SELU_ALPHA
            lam = 1.0 if code == ELU else SELU_SCALE
            for i in range(m):
                e[i] = min(np.float64(hs[i]), 0.0)
            exp_into(e, kbuf)
            for i in range(m):
                v = np.float64(hs[i])
                # expm1 without cancellation near 0: a Taylor polynomial for |v| < 1e-3
                em1 = (
                    e[i] - 1.0
                    if v < -1e-3
                    else v * (1.0 + v * (0.5 + v * (1.0 / 6.0 + v * (1.0 / 24.0 + v / 120.0))))
                )
                xs[i] = lam * (v if v > 0.0 else alpha * em1)
                ds[i] = lam * (1.0 if v > 0.0 else alpha * e[i])
                if v != v:
                    xs[i] = v
                    ds[i] = v
        else:
            for i in range(m):
                xv, dv = phi_dphi(code, np.float64(hs[i]), a)
                xs[i] = xv
                ds[i] = dv
    return x
