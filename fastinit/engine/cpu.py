"""The CPU backend: runs a planned :class:`~fastinit.engine.plan.Call` on Numba's threads.

CPU-only concerns live here and nowhere else in the engine: the Numba thread count (set for the
call, restored after it), BLAS pinned to one thread (Numba threads run the networks in parallel
without oversubscribing the cores, and results are bit-identical for any thread count:
multi-threaded BLAS changes the last bits of a product with the number of threads), and the
per-thread workspaces.
"""
from __future__ import annotations

import contextlib

import numba
import numpy as np

from ..kernels import network as kn
from ..kernels.blas import one_blas_thread
from .plan import Call


@contextlib.contextmanager
def threads_for_call(threads: int | None):
    """Run the body with ``threads`` Numba threads (default: as they are) and one BLAS thread,
    restoring both afterwards."""
    before = numba.get_num_threads()
    if threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        with one_blas_thread():
            yield
    finally:
        numba.set_num_threads(before)


def run_statistics(call: Call, threads: int | None = None) -> np.ndarray:
    """Per-layer metrics of every network of a call at each of its depths: float64
    (n_networks, n_depths, depth, N_METRICS), NaN below each depth."""
    depth = call.widths.shape[0] - 1
    out = np.empty((call.nets_int.shape[0], call.depths.shape[0], depth, kn.N_METRICS))
    with threads_for_call(threads):
        ws = np.empty(
            (numba.get_num_threads(), kn.workspace_length(call.widths, call.x0.shape[1])), call.x0.dtype
        )
        kn.network_statistics(*call, ws, out)
    return out
