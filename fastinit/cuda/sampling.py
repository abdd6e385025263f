"""Random streams on a CUDA device: Philox words and elementwise initializers, one thread per
element, bit-identical to the CPU kernels of :mod:`fastinit.kernels.sampling` (the same scalar
device functions of :mod:`fastinit.rng` compute every value; an element's value does not depend on
how elements are assigned to threads).

Host functions return NumPy arrays (copied back from the device).
"""
from __future__ import annotations

import math

import numpy as np

from ..kernels.sampling import CONSTANT, NORMAL, TRUNCATED, UNIFORM
from ..rng import philox4x32_10, standard_normal, truncated_normal, uniform
from . import require

cuda = require()
#: Threads per block of the sampling kernels.
THREADS = 128


@cuda.jit
def philox_kernel(counters, keys, out):
    """``out[i] = philox4x32_10(counters[i], keys[i])`` (uint32 arrays (n, 4), (n, 2), (n, 4))."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        c = counters[i]
        w = philox4x32_10(c[0], c[1], c[2], c[3], keys[i, 0], keys[i, 1])
        out[i, 0] = w[0]
        out[i, 1] = w[1]
        out[i, 2] = w[2]
        out[i, 3] = w[3]


@cuda.jit
def fill_kernel(out, code, p0, p1, p2, p3, seed, trial, tensor):
    """Element ``i`` of a tensor drawn with an elementwise code of
    :func:`fastinit.kernels.sampling.from_base` (CONSTANT, UNIFORM, NORMAL, TRUNCATED)."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        if code == UNIFORM:
            v = p0 + (p1 - p0) * uniform(seed, trial, tensor, i, 0)
            out[i] = v
            if out[i] >= p1:
                out[i] = p2
        elif code == NORMAL:
            out[i] = p0 + p1 * standard_normal(seed, trial, tensor, i, 0)
        elif code == TRUNCATED:
            out[i] = p0 + p1 * truncated_normal(seed, trial, tensor, i, p2, p3)
        else:
            out[i] = p0


def philox(counters, keys) -> np.ndarray:
    """Philox4x32-10 of each row of ``counters`` (n, 4) with ``keys`` (n, 2), on the device."""
    counters = np.ascontiguousarray(counters, dtype=np.uint32)
    keys = np.ascontiguousarray(keys, dtype=np.uint32)
    out = cuda.device_array((counters.shape[0], 4), dtype=np.uint32)
    philox_kernel[math.ceil(len(counters) / THREADS) or 1, THREADS](cuda.to_device(counters),
                                                                    cuda.to_device(keys), out)
    return out.copy_to_host()


def fill(n: int, code: int, params, dtype, seed: int, trial: int, tensor: int) -> np.ndarray:
    """``n`` elements of tensor ``tensor`` drawn with code ``code`` and the four parameters of
    :meth:`fastinit.initializers.Plan.kernel_params` in ``dtype``, on the device."""
    if code not in (CONSTANT, UNIFORM, NORMAL, TRUNCATED):
        raise ValueError(f"code={code} is not an elementwise sampling code")
    out = cuda.device_array(n, dtype=np.dtype(dtype))
    p0, p1, p2, p3 = (float(p) for p in params)
    stream = (np.uint64(seed), np.uint64(trial), np.uint64(tensor))
    fill_kernel[math.ceil(n / THREADS) or 1, THREADS](out, code, p0, p1, p2, p3, *stream)
    return out.copy_to_host()
