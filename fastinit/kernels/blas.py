"""Matrix products by calling BLAS (SciPy's ``cython_blas``) directly from Numba code.

CPU-only: a CUDA backend replaces :func:`gemm` with its own tiled products.

``np.dot`` in Numba checks shapes, layouts and overlap before it calls the same ``sgemm``/``dgemm``;
for the 32 x 16 x 16 products of small-width sweeps those checks are a tenth of the product's time.
:func:`gemm` makes the same call (so the same numbers) for C-contiguous operands whose shapes the
caller guarantees. The BLAS routines are registered with LLVM under fixed names, so kernels that
use them stay cacheable.
"""
from __future__ import annotations

import contextlib

import llvmlite.binding as ll
import numpy as np
import scipy.linalg.cython_lapack  # noqa: F401  (the LAPACK np.linalg calls in kernels; loaded before threadpoolctl looks)
from numba import types
from numba.extending import get_cython_function_address

from .._config import jit

for _name in ("sgemm", "dgemm"):
    ll.add_symbol(f"fastinit_{_name}", get_cython_function_address("scipy.linalg.cython_blas", _name))
# Fortran BLAS: every argument by address (passed as integers of pointer width)
_ADDRESSES = types.void(*[types.intp] * 13)
_sgemm = types.ExternalFunction("fastinit_sgemm", _ADDRESSES)
_dgemm = types.ExternalFunction("fastinit_dgemm", _ADDRESSES)


#: float64 entries of the scratch :func:`gemm` needs (eight int32 arguments and two scalars).
BLAS_SCRATCH = 6


@jit
def gemm(a, trans_a, b, trans_b, c, blas):
    """``c = op(a) @ op(b)`` for 2-D float32 or float64 arrays of one dtype, ``op`` the transpose
    where ``trans_a`` / ``trans_b``. Shapes are not checked.

    Parameters
    ----------
    a, b, c : 2-D C-contiguous arrays of one dtype
        ``c`` is overwritten (it must not overlap ``a`` or ``b``).
    trans_a, trans_b : bool
    blas : float64 array of at least :data:`BLAS_SCRATCH` entries
        Scratch for the arguments BLAS takes by address.

    Row-major ``c`` is column-major ``c.T = op(b).T @ op(a).T``: the call ``np.dot`` makes.
    Raises ValueError unless all three arrays are C-contiguous.
    """
    if not (a.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous):
        raise ValueError("gemm: a, b and c must be C-contiguous")
    m, n = c.shape
    ints = blas[:4].view(np.int32)
    ints[0] = n
    ints[1] = m
    ints[2] = a.shape[0] if trans_a else a.shape[1]
    ints[3] = b.shape[1]
    ints[4] = a.shape[1]
    ints[5] = n
    ints[6] = ord("T") if trans_b else ord("N")
    ints[7] = ord("T") if trans_a else ord("N")
    if c.itemsize == 4:
        s32 = blas[4:5].view(np.float32)
        s32[0] = 1.0
        s32[1] = 0.0
    else:
        s64 = blas[4:6]
        s64[0] = 1.0
        s64[1] = 0.0
    i = blas.ctypes.data
    s = i + 32
    args = (i + 24, i + 28, i, i + 4, i + 8, s, b.ctypes.data, i + 12, a.ctypes.data, i + 16, s + c.itemsize,
            c.ctypes.data, i + 20)
    if c.itemsize == 4:
        _sgemm(*args)
    else:
        _dgemm(*args)
    return c


_CONTROLLER: list = []


@contextlib.contextmanager
def one_blas_thread():
    """Run the body with BLAS (and LAPACK) on one thread. Kernels run many products in parallel
    on Numba's threads: BLAS's own threads would oversubscribe the cores, and their count changes
    the last bits of a product. The libraries are inspected once per process (milliseconds)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield
