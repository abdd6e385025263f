"""Compilation settings shared by every kernel (one place, DESIGN invariant 7)."""
from __future__ import annotations

import functools

import numba

#: Fast-math flags for every kernel. Deliberately without ``nnan``/``ninf`` (they would let LLVM
#: delete the non-finite checks that record blow-up) and without ``reassoc`` (re-association makes
#: vectorised sums depend on array alignment, which would break bit-reproducibility).
FASTMATH = {"nsz", "arcp", "contract", "afn"}

#: ``@jit``: a cached, serial kernel or device function (no eager signature, so CUDA can call it).
jit = functools.partial(numba.njit, cache=True, fastmath=FASTMATH, error_model="numpy")

#: ``@pjit``: a cached kernel whose ``prange`` loops run in parallel.
pjit = functools.partial(numba.njit, cache=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
