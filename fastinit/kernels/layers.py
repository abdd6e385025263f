"""Layer primitives: one dense layer forward and backward, callable from a user's ``@njit`` code.

Conventions (DESIGN.md): ``h = s (x W) + b`` with ``x`` of shape ``(rows, n_in)``, ``W`` of shape
``(n_in, n_out)`` (Keras layout), ``b`` of ``n_out``, ``s`` a scalar (1, or LSUV's scale);
``y = phi(h)`` and ``d = phi'(h)``. Backward: ``delta = dloss/dh``; the layer below receives
``delta_in = (delta W^T) * d_in`` and the weights the gradient ``x^T delta``.

All arrays are C-contiguous and of one float dtype (float32 or float64), and outputs must not
overlap inputs. ``scratch`` is what :func:`layer_scratch` returns (the caller owns it, one per
thread). A layer forward and backward is three calls::

    dense_forward(x, w, b, 1.0, act, a, h, y, d, scratch)
    weight_gradient(x, delta, grad, scratch)
    dense_backward(delta, w, d_in, delta_in, scratch)

CPU-only parts, which a CUDA backend replaces: the products (:func:`fastinit.kernels.blas.gemm`)
and the vectorised activation pass (:mod:`fastinit.kernels.activate`).
"""
from __future__ import annotations

import math

import numpy as np

from .._config import jit
from .activate import ACT_CHUNK, activate_into
from .blas import BLAS_SCRATCH, gemm
from .views import as_vector

#: Float64 accumulators per sum of the metric kernels (vectorised; combined in a fixed order).
LANES = 64
#: Sums per lane of :func:`fastinit.kernels.metrics.forward_metrics`.
N_SUMS = 6


@jit
def layer_scratch():
    """Fresh scratch for the layer and metric primitives (one per thread, reused across calls):
    a tuple of BLAS's arguments (float64, BLAS_SCRATCH), the activation pass's float64 and int64
    buffers (ACT_CHUNK each) and the metric lanes (float64, (N_SUMS, LANES)). Separate arrays,
    so the compiler knows they do not overlap (a single array cut in parts was 20 % slower)."""
    return (
        np.empty(BLAS_SCRATCH),
        np.empty(ACT_CHUNK),
        np.empty(ACT_CHUNK, np.int64),
        np.empty((N_SUMS, LANES)),
    )


@jit(inline="always")
def all_zero(v):
    """Whether every entry of a 1-D array is 0."""
    for i in range(v.shape[0]):
        if v[i] != 0.0:
            return False
    return True


@jit(inline="always")
def multiply_into(a, b):
    """``a *= b`` elementwise over 1-D arrays (one flat loop, which vectorises)."""
    for i in range(a.shape[0]):
        a[i] *= b[i]
    return a


@jit(inline="always")
def dense_product(x, w, h, scratch):
    """``h = x @ w``.

    Parameters
    ----------
    x : array (rows, n_in)
    w : array (n_in, n_out)
    h : array (rows, n_out), overwritten
    scratch : tuple from layer_scratch()
    """
    return gemm(x, False, w, False, h, scratch[0])


@jit(inline="always")
def bias_activation(h, s, b, act, a, y, d, scratch):
    """``h = s h + b`` in place (skipped when ``s`` is 1 and ``b`` is 0), then ``y = phi(h)`` and
    ``d = phi'(h)``.

    Parameters
    ----------
    h : array (rows, n_out)
        The product ``x @ w``; holds the pre-activations on return.
    s : float
        Scale of the product (1, or an LSUV scale).
    b : array (n_out,)
    act : int
        Activation code (:mod:`fastinit.activations`); ``a`` its parameter.
    y, d : arrays (rows, n_out), overwritten
    scratch : tuple from layer_scratch()
    """
    rows, n_out = h.shape
    if s != 1.0 or not all_zero(b):
        for i in range(rows):
            for j in range(n_out):
                h[i, j] = s * h[i, j] + b[j]
    rows * n_out
    _, buf, kbuf, _ = scratch
    activate_into(act, a, as_vector(h), as_vector(y), as_vector(d), buf, kbuf)
    return y


@jit
def dense_forward(x, w, b, s, act, a, h, y, d, scratch):
    """One dense layer forward: ``h = s (x @ w) + b``, ``y = phi(h)``, ``d = phi'(h)``
    (:func:`dense_product` then :func:`bias_activation`, which document the arguments)."""
    dense_product(x, w, h, scratch)
    return bias_activation(h, s, b, act, a, y, d, scratch)


@jit(inline="always")
def weight_gradient(x, delta, grad, scratch):
    """``grad = x^T @ delta``, the gradient of the loss with respect to a layer's weights.

    Parameters
    ----------
    x : array (rows, n_in)
        The layer's input.
    delta : array (rows, n_out)
        ``dloss/dh`` of the layer.
    grad : array (n_in, n_out), overwritten
    scratch : tuple from layer_scratch()
    """
    return gemm(x, True, delta, False, grad, scratch[0])


@jit(inline="always")
def dense_backward(delta, w, d_in, delta_in, scratch):
    """``delta_in = (delta @ w^T) * d_in``: ``dloss/dh`` of the layer below.

    Parameters
    ----------
    delta : array (rows, n_out)
    w : array (n_in, n_out)
    d_in : array (rows, n_in)
        ``phi'`` of the layer below at its pre-activations.
    delta_in : array (rows, n_in), overwritten
    scratch : tuple from layer_scratch()
    """
    gemm(delta, False, w, True, delta_in, scratch[0])
    multiply_into(as_vector(delta_in), as_vector(d_in))
    return delta_in


@jit
def lsuv_scale(h, b, tol, max_iter):
    """LSUV's scale of a layer (Mishkin & Matas 2016): ``s`` such that ``s h + b`` has pooled
    variance within ``tol`` of 1, by at most ``max_iter`` steps ``s /= sqrt(var)`` from ``s = 1``
    (stopping early at a variance that is 0 or not finite).

    Parameters
    ----------
    h : array (rows, n_out)
        The layer's product ``x @ w`` with its unscaled weights.
    b : array (n_out,)
    tol : float
    max_iter : int
    """
    s = 1.0
    for _ in range(max_iter):
        v = pooled_variance(h, s, b)
        if not (v > 0.0 and np.isfinite(v)) or abs(v - 1.0) < tol:
            break
        s /= math.sqrt(v)
    return s


@jit
def pooled_variance(a, s, b):
    """Pooled variance of ``s * a[:, j] + b[j]`` over all entries of the 2-D array ``a``."""
    n = a.shape[0] * a.shape[1]
    total = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            total += s * a[i, j] + b[j]
    mean = total / n
    ss = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            d = s * a[i, j] + b[j] - mean
            ss += d * d
    return ss / n
