"""Per-layer metric primitives: the statistics fastinit reports for each layer of a network.

:data:`METRICS` names the metric columns (:data:`INTEGER_METRICS` are counts); a layer's metrics
are a float64 row of :data:`N_METRICS`. Sums run in :data:`~fastinit.kernels.layers.LANES`
float64 lanes combined by pairwise halving: vectorised, and the same numbers on every run.
``scratch`` arguments are a primitive's scratch (:func:`fastinit.kernels.layers.layer_scratch`).

Adding a metric: a name in :data:`METRICS` (and :data:`INTEGER_METRICS` if it counts), its
computation here, its call in :mod:`fastinit.kernels.network`, its reference in ``tests/naive.py``.
"""
from __future__ import annotations

import math

import numpy as np

from .._config import jit
from .blas import gemm
from .layers import LANES, weight_gradient
from .views import as_matrix, as_vector

METRICS = ("preact_mean", "preact_var", "preact_sq", "act_mean", "act_var", "act_sq", "frac_saturated",
           "frac_zero", "pair_corr", "delta_sq", "grad_w_norm", "distinct_units", "nonfinite",
           "jac_sq_mean", "jac_sq_var", "jac_min", "jac_max")
(
    PREACT_MEAN,
    PREACT_VAR,
    PREACT_SQ,
    ACT_MEAN,
    ACT_VAR,
    ACT_SQ,
    FRAC_SATURATED,
    FRAC_ZERO,
    PAIR_CORR,
    DELTA_SQ,
    GRAD_W_NORM,
    DISTINCT_UNITS,
    NONFINITE,
    JAC_SQ_MEAN,
    JAC_SQ_VAR,
    JAC_MIN,
    JAC_MAX,
) = range(len(METRICS))
N_METRICS = len(METRICS)
#: Metrics that count (integer columns in tables).
INTEGER_METRICS = ("distinct_units", "nonfinite")


@jit
def lane_total(acc):
    """The sum of LANES lane accumulators by pairwise halving (a fixed order; overwrites ``acc``)."""
    half = LANES // 2
    while half > 0:
        for k in range(half):
            acc[k] += acc[k + half]
        half //= 2
    return acc[0]


@jit
def sum_products(a, b, acc):
    """Sum of ``a[i] * b[i]`` over 1-D arrays in float64, in LANES lanes (``acc``: float64
    scratch of LANES)."""
    n = a.shape[0]
    acc[:] = 0.0
    m = n - n % LANES
    for i in range(0, m, LANES):
        for k in range(LANES):
            acc[k] += np.float64(a[i + k]) * np.float64(b[i + k])
    for i in range(m, n):
        acc[i - m] += np.float64(a[i]) * np.float64(b[i])
    return lane_total(acc)


@jit
def clamp_nonnegative(v):
    """max(v, 0) that keeps NaN (rounding may make a variance slightly negative; blow-up must show)."""
    return 0.0 if v < 0.0 else v


@jit
def count_nonfinite(v):
    """Number of NaN and infinite entries of a 1-D array."""
    count = 0
    for i in range(v.shape[0]):
        count += 0 if np.isfinite(v[i]) else 1
    return count


@jit
def accumulate_moments(acc, k, h, x, d, h0, x0, sat_level):
    """Add one element's terms to lane ``k`` of the sums of :func:`forward_metrics`."""
    dh = np.float64(h) - h0
    dx = np.float64(x) - x0
    acc[0, k] += dh
    acc[1, k] += dh * dh
    acc[2, k] += dx
    acc[3, k] += dx * dx
    acc[4, k] += 1.0 if abs(d) < sat_level else 0.0
    acc[5, k] += 1.0 if x == 0.0 else 0.0


@jit
def pair_correlation(h):
    """Mean over the pairs of rows (2k, 2k+1) of ``h`` of their non-centred correlation."""
    rows, cols = h.shape
    total = 0.0
    for k in range(rows // 2):
        sab = saa = sbb = 0.0
        for j in range(cols):
            ha, hb = h[2 * k, j], h[2 * k + 1, j]
            sab += ha * hb
            saa += ha * ha
            sbb += hb * hb
        total += sab / math.sqrt(saa * sbb)
    return total / (rows // 2)


@jit(inline="always")
def forward_metrics(h, x, d, sat_level, paired, stats, scratch):
    """The forward metrics of one layer into ``stats`` (a float64 row of N_METRICS).

    Parameters
    ----------
    h, x, d : arrays (rows, n_out)
        Pre-activations, activations and ``phi'(h)``.
    sat_level : float
        ``|phi'|`` below which an entry counts as saturated (0: never).
    paired : bool
        Rows come in correlated pairs: also ``pair_corr``.
    stats : float64 array (N_METRICS,)
    scratch : tuple from :func:`fastinit.kernels.layers.layer_scratch`

    One pass of sums of ``v - v0`` and ``(v - v0)^2`` with ``v0`` the first entry (the
    shifted-data algorithm: an exact 0 variance for constant layers, little cancellation
    otherwise). Mean squares follow from the same sums; non-finite entries are counted only when
    a sum of squares is not finite (one of them is, or the sum overflowed).
    """
    rows, cols = h.shape
    n = rows * cols
    hf, xf, df = as_vector(h), as_vector(x), as_vector(d)
    acc = scratch[3]
    h0, x0 = np.float64(hf[0]), np.float64(xf[0])
    acc[:, :] = 0.0
    m = n - n % LANES
    for start in range(0, m, LANES):
        for k in range(LANES):
            accumulate_moments(acc, k, hf[start + k], xf[start + k], df[start + k], h0, x0, sat_level)
    for e in range(m, n):
        accumulate_moments(acc, e - m, hf[e], xf[e], df[e], h0, x0, sat_level)
    mh, mx = lane_total(acc[0]) / n, lane_total(acc[2]) / n
    shh, sxx = lane_total(acc[1]), lane_total(acc[3])
    stats[PREACT_MEAN] = h0 + mh
    stats[PREACT_VAR] = clamp_nonnegative(shh / n - mh * mh)
    stats[PREACT_SQ] = clamp_nonnegative(shh / n + h0 * (2.0 * mh + h0))     # mean of (h0 + dh)^2
    stats[ACT_MEAN] = x0 + mx
    stats[ACT_VAR] = clamp_nonnegative(sxx / n - mx * mx)
    stats[ACT_SQ] = clamp_nonnegative(sxx / n + x0 * (2.0 * mx + x0))
    stats[FRAC_SATURATED] = lane_total(acc[4]) / n
    stats[FRAC_ZERO] = lane_total(acc[5]) / n
    stats[NONFINITE] = (
        0.0 if np.isfinite(shh) and np.isfinite(sxx) else count_nonfinite(hf) + count_nonfinite(xf)
    )
    if paired:
        stats[PAIR_CORR] = pair_correlation(h)
    return stats


@jit(inline="always")
def backward_metrics(x_in, delta, grad, gram_x, gram_d, stats, scratch):
    """``delta_sq`` (mean of ``delta^2``) and ``grad_w_norm`` (``|x_in^T delta|_F``) of one layer
    into ``stats``.

    Parameters
    ----------
    x_in : array (rows, n_in)
        The layer's input.
    delta : array (rows, n_out)
        ``dloss/dh`` of the layer.
    grad : array (n_in * n_out,), scratch for the weight gradient
    gram_x, gram_d : arrays (rows, rows), scratch
        Used instead of ``grad`` when ``rows (n_in + n_out) < n_in n_out``:
        ``|X^T D|_F^2 = sum (X X^T) * (D D^T)`` costs ``2 rows^2 (n_in + n_out)`` flops instead of
        ``2 rows n_in n_out``.
    stats : float64 array (N_METRICS,)
    scratch : tuple from :func:`fastinit.kernels.layers.layer_scratch`
    """
    rows, n_in = x_in.shape
    n_out = delta.shape[1]
    blas, _, _, acc = scratch
    df = as_vector(delta)
    stats[DELTA_SQ] = sum_products(df, df, acc[0]) / (rows * n_out)
    if rows * (n_in + n_out) < n_in * n_out:
        gemm(x_in, False, x_in, True, gram_x, blas)
        gemm(delta, False, delta, True, gram_d, blas)
        gg = sum_products(as_vector(gram_x), as_vector(gram_d), acc[0])
    else:
        g = grad[:n_in * n_out]
        weight_gradient(x_in, delta, as_matrix(g, n_in, n_out), scratch)
        gg = sum_products(g, g, acc[0])
    stats[GRAD_W_NORM] = math.sqrt(clamp_nonnegative(gg))
    return stats


@jit
def jacobian_step(jac, w, d_row, stats):
    """Advance the input-output Jacobian by one layer and put its spectrum metrics in ``stats``.

    Parameters
    ----------
    jac : float64 array (n_in, n0)
        ``dx^{l-1}/dx^0`` at one input (the identity before the first layer).
    w : array (n_in, n_out)
    d_row : array (n_out,)
        ``phi'(h^l)`` at that input.
    stats : float64 array (N_METRICS,)

    Returns
    -------
    float64 array (n_out, n0)
        ``dx^l/dx^0 = diag(d_row) w^T jac`` (a new array; this primitive allocates). A non-finite
        Jacobian gets NaN spectrum metrics.
    """
    out = np.dot(w.T.astype(np.float64), jac)
    for j in range(w.shape[1]):
        out[j, :] *= d_row[j]
    if not np.isfinite(out).all():     # blow-up is data: LAPACK's SVD would raise on it
        stats[JAC_SQ_MEAN] = stats[JAC_SQ_VAR] = stats[JAC_MIN] = stats[JAC_MAX] = np.nan
        return out
    sv = np.linalg.svd(out, full_matrices=False)[1]
    sq = sv * sv
    stats[JAC_SQ_MEAN] = sq.mean()
    stats[JAC_SQ_VAR] = sq.var()
    stats[JAC_MIN] = sv.min()
    stats[JAC_MAX] = sv.max()
    return out


@jit
def shared_weights(w, classes, keys, order):
    """Which units of a layer share their incoming weights: ``classes[j]`` is one and the same
    unit index for every unit whose column ``w[:, j]`` equals another's exactly, and -1 for a unit
    whose weights are its own (``classes``: int64, n_out; ``keys``, ``order``: float64 and int64
    scratch of n_out or more).

    Columns are sorted by a projection of their first 8 weights and compared entry by entry only
    where projections are equal, so a random layer costs O(width log width). Non-finite columns
    are their own.
    """
    n_in, n_out = w.shape
    keys, order = keys[:n_out], order[:n_out]
    keys[:] = 0.0
    for i in range(min(n_in, 8)):
        r = 1.0 + (i * 0.6180339887498949) % 1.0
        for j in range(n_out):
            keys[j] += r * w[i, j]
    if n_out <= 32:     # insertion sort, NaN last: no allocation for narrow layers
        for j in range(n_out):
            k, t = keys[j], j
            while t > 0 and (keys[order[t - 1]] > k or (keys[order[t - 1]] != keys[order[t - 1]] and k == k)):
                order[t] = order[t - 1]
                t -= 1
            order[t] = j
    else:
        order[:] = np.argsort(keys)
    classes[:] = -1
    start = 0
    while start < n_out:
        stop = start + 1
        while stop < n_out and keys[order[stop]] == keys[order[start]]:
            stop += 1
        for t in range(start, stop):
            j = order[t]
            if classes[j] >= 0:
                continue
            for u in range(t + 1, stop):
                k = order[u]
                same = classes[k] < 0
                i = 0
                while same and i < n_in:
                    same = w[i, j] == w[i, k]
                    i += 1
                if same:
                    classes[j] = j
                    classes[k] = j
        start = stop
    return classes


@jit
def distinct_units(classes, b, h, rtol, reps):
    """Number of distinct units of a layer: units with the same incoming weights (``classes``, see
    :func:`shared_weights`), the same bias ``b[j]`` and the same activations ``h[:, j]`` (within
    relative ``rtol``: BLAS may round mathematically identical columns differently) count once.
    ``reps``: int64 scratch of n_out. Units with non-finite activations count as distinct."""
    count = 0
    n_reps = 0
    for j in range(h.shape[1]):
        c = classes[j]
        new = True
        if c >= 0:
            for r in range(n_reps):
                k = reps[r]
                same = classes[k] == c and b[k] == b[j]
                i = 0
                while same and i < h.shape[0]:
                    same = abs(h[i, j] - h[i, k]) <= rtol * max(abs(h[i, j]), abs(h[i, k]))
                    i += 1
                if same:
                    new = False
                    break
            if new:
                reps[n_reps] = j
                n_reps += 1
        if new:
            count += 1
    return count
