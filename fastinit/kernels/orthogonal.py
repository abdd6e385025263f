"""Haar-random (semi-)orthogonal matrices of many tensors at once, in parallel over matrices.

The Gaussian matrix of a ``(rows, cols)`` tensor is its stream's first ``rows * cols`` standard
normals (:func:`fastinit.kernels.sampling.base_layer`, the values of ``fill_normal``) read as a
C-ordered ``(max(rows, cols), min(rows, cols))`` matrix ``A``. With ``A = QR`` its reduced QR,
the matrix is ``Q diag(sign(diag R))`` (sign 0 read as 1), transposed when ``rows < cols``: the QR
whose R has a non-negative diagonal, so Haar-distributed.

The QR is ``np.linalg.qr`` inside Numba (LAPACK ``dgeqrf`` + ``dorgqr`` through SciPy's
``cython_lapack``), one matrix per thread. LAPACK's own threads must be off meanwhile (they would
oversubscribe the cores, and could change the rounding with their count):
:func:`orthogonal_matrices` limits BLAS to one thread around the kernel, and a caller of
:func:`orthogonal_batch` must do the same. Then the values do not depend on the thread count or
on the batch, and they are those of NumPy's batched ``np.linalg.qr`` on the same matrices (the
same LAPACK routines; bit for bit where NumPy and SciPy share an OpenBLAS build, as their wheels
do).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .._config import jit, pjit
from .blas import one_blas_thread
from .sampling import base_layer


@jit
def orthogonal_into(rows, cols, seed, trial, tensor, out):
    """Serially, the Haar (semi-)orthogonal matrix of one tensor (see the module docstring).

    Parameters
    ----------
    rows, cols : int
        The matrix's shape (both >= 1).
    seed, trial, tensor : int
        Its stream: the Gaussian matrix is the stream's first ``rows * cols`` standard normals.
    out : 1-D float64 array
        ``rows * cols`` entries; receives the C-ordered ``(rows, cols)`` matrix (it holds the
        Gaussian matrix meanwhile, so no other scratch is needed).

    Returns
    -------
    out : 1-D float64 array
    """
    m, n = max(rows, cols), min(rows, cols)
    base_layer(out, 0, seed, trial, tensor)
    q, r = np.linalg.qr(out.reshape(m, n))        # q: a Fortran-ordered copy
    for j in range(n):
        if r[j, j] < 0.0:                           # sign(diag R), sign 0 -> 1
            qj = q[:, j]
            for i in range(m):
                qj[i] = -qj[i]
    if rows >= cols:
        out.reshape(m, n)[:, :] = q
    else:                                           # out = (Q D)^T, C-ordered (n, m)
        out.reshape(n, m)[:, :] = q.T
    return out


@pjit
def orthogonal_batch(shapes, seeds, trials, tensors, offsets, workers, out):
    """Haar (semi-)orthogonal float64 matrices of many tensors, in parallel over matrices.

    BLAS/LAPACK must run single-threaded during the call (``threadpoolctl``, as
    :func:`orthogonal_matrices_uncached` does).

    Parameters
    ----------
    shapes : 2-D int64 array, shape (k, 2)
        ``(rows, cols)`` of matrix ``i`` in row ``i`` (both >= 1).
    seeds, trials, tensors : 1-D integer arrays, length k
        The stream ``(seeds[i], trials[i], tensors[i])`` of matrix ``i`` (uint64 seeds and trials
        and int64 tensor ids, as the simulator passes them).
    offsets : 1-D int64 array, length k + 1
        Matrix ``i`` goes to ``out[offsets[i]:offsets[i + 1]]`` (``rows * cols`` entries).
    workers : int
        How many lists the matrices are dealt into, one thread each (pass the thread count):
        round-robin in decreasing order of size, which only balances the load.
    out : 1-D float64 array
        At least ``offsets[k]`` entries; receives each matrix, C-ordered ``(rows, cols)``.

    Returns
    -------
    out : 1-D float64 array

    Notes
    -----
    Each matrix is computed by one thread with :func:`orthogonal_into`, so the values do not
    depend on the thread count, on ``workers`` or on the other matrices of the batch.
    """
    k = shapes.shape[0]
    cost = np.empty(k)
    for i in range(k):
        big, small = max(shapes[i, 0], shapes[i, 1]), min(shapes[i, 0], shapes[i, 1])
        cost[i] = -(float(big) * small * small + big * small)
    order = np.argsort(cost, kind="mergesort")
    nt = max(1, min(workers, k))
    for p in prange(nt):
        for q in range(p, k, nt):
            i = order[q]
            orthogonal_into(shapes[i, 0], shapes[i, 1], seeds[i], trials[i], tensors[i],
                            out[offsets[i]:offsets[i + 1]])
    return out


def orthogonal_matrices(shapes, seed, trial, tensor_ids) -> list[np.ndarray]:
    """Haar (semi-)orthogonal float64 matrices, one per ``(rows, cols)`` row of ``shapes``, in
    parallel with :func:`orthogonal_batch` (BLAS limited to one thread meanwhile); no caching.

    Parameters
    ----------
    shapes : array_like of int, shape (k, 2)
        ``(rows, cols)`` of each matrix (both >= 1).
    seed, trial : int
        The stream.
    tensor_ids : array_like of int, length k
        Tensor id of each matrix.

    Returns
    -------
    list of numpy.ndarray
        C-contiguous float64 ``(rows, cols)`` matrices in the order of ``shapes`` (views of one
        buffer).
    """
    shapes = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
    tensors = np.asarray(tensor_ids, dtype=np.int64).reshape(-1)
    k = shapes.shape[0]
    if tensors.shape[0] != k:
        raise ValueError(f"{k} shapes but {tensors.shape[0]} tensor ids")
    if k and shapes.min() < 1:
        raise ValueError("orthogonal matrices need rows >= 1 and cols >= 1")
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(shapes[:, 0] * shapes[:, 1], out=offsets[1:])
    out = np.empty(int(offsets[-1]))
    if k:
        seeds = np.full(k, int(seed), dtype=np.uint64)
        trials = np.full(k, int(trial), dtype=np.uint64)
        with one_blas_thread():
            orthogonal_batch(shapes, seeds, trials, tensors, offsets, numba.get_num_threads(), out)
    return [out[offsets[i]:offsets[i + 1]].reshape(r, c) for i, (r, c) in enumerate(shapes.tolist())]
