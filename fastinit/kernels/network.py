"""Forward and backward statistics of many fully-connected networks of one shape, in one call.

The networks ("variants") of one call share widths and batch, and come in *groups* that share a
seed and trial and so their inputs and probe. Their parameters are rows of a ``weights`` and a
``biases`` table (filled by :func:`fastinit.kernels.sampling.fill_rows`; networks that differ only
in activation share a row; :func:`unit_classes` says which units of a row share incoming weights).
Products go through :func:`fastinit.kernels.blas.gemm`. ``prange`` runs over variants; each is
computed by one thread from start to end, so results do not depend on the thread count or on the
other networks of the call.

One forward pass serves several depths: a network of depth ``D`` is the first ``D`` layers of the
deepest one (its weights do not depend on the depth), so the kernel propagates to the largest
requested depth once and backpropagates from each requested depth.

Conventions (DESIGN.md): ``h^l = x^{l-1} W^l + b^l`` with ``W^l`` of shape ``(n_{l-1}, n_l)``
(Keras layout, tensor id ``l``), ``x^l = phi(h^l)``. Backward: ``delta^l = dloss/dh^l`` for the
probe loss ``sum_b g_b . x^L_b`` (``loss=0``) or ``0.5 sum_b |x^L_b - t_b|^2`` (``loss=1``).
Sums run in :data:`LANES` float64 lanes combined in a fixed order: vectorised, and the same
numbers on every run.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from .._config import jit, pjit
from ..activations import ACT_CHUNK, activate_into
from .blas import gemm

METRICS = ("preact_mean", "preact_var", "preact_sq", "act_mean", "act_var", "act_sq", "frac_saturated",
           "frac_zero", "pair_corr", "delta_sq", "grad_w_norm", "distinct_units", "nonfinite",
           "jac_sq_mean", "jac_sq_var", "jac_min", "jac_max")
(PREACT_MEAN, PREACT_VAR, PREACT_SQ, ACT_MEAN, ACT_VAR, ACT_SQ, FRAC_SATURATED, FRAC_ZERO, PAIR_CORR, DELTA_SQ,
 GRAD_W_NORM, DISTINCT_UNITS, NONFINITE, JAC_SQ_MEAN, JAC_SQ_VAR, JAC_MIN, JAC_MAX) = range(len(METRICS))
N_METRICS = len(METRICS)

VARIANT_COLUMNS = ("group", "weight_row", "bias_row", "act_code", "act_param", "sat_level", "lsuv_tol",
                   "lsuv_max_iter")
V_GROUP, V_WEIGHT_ROW, V_BIAS_ROW, V_ACT, V_ACT_PARAM, V_SAT, V_LSUV_TOL, V_LSUV_ITER = range(len(VARIANT_COLUMNS))

LOSS_PROBE, LOSS_MSE = 0, 1
#: Float64 accumulators per sum (vectorised; combined in a fixed order; a power of two).
LANES = 64
#: Sums per lane of :func:`forward_layer_statistics` (its ``acc`` scratch is (N_SUMS, LANES)).
N_SUMS = 6


@jit
def sum_products(a, b, acc):
    """Sum of ``a[i] * b[i]`` over 1-D arrays in float64, in :data:`LANES` lanes (``acc``: scratch
    of LANES float64)."""
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
def lane_total(acc):
    """The sum of LANES lane accumulators by pairwise halving (a fixed order; overwrites ``acc``)."""
    half = LANES // 2
    while half > 0:
        for k in range(half):
            acc[k] += acc[k + half]
        half //= 2
    return acc[0]


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


@pjit
def unit_classes(widths, weights, classes):
    """:func:`shared_weights` of every layer of every row of a weights table (see
    :func:`network_statistics`) into ``classes``: int64 (n_rows, sum n_l), laid out as a biases row."""
    depth = widths.shape[0] - 1
    w_off, b_off, _ = layer_offsets(widths, 1)
    for r in prange(weights.shape[0]):
        keys = np.empty(widths.max())
        order = np.empty(widths.max(), np.int64)
        for l in range(depth):
            w = weights[r, w_off[l]:w_off[l + 1]].reshape((widths[l], widths[l + 1]))
            shared_weights(w, classes[r, b_off[l]:b_off[l + 1]], keys, order)
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


@jit
def all_zero(v):
    """Whether every entry of a 1-D array is 0."""
    for i in range(v.shape[0]):
        if v[i] != 0.0:
            return False
    return True


@jit
def multiply_into(a, b):
    """``a *= b`` elementwise over 1-D arrays (one flat loop, which vectorises)."""
    for i in range(a.shape[0]):
        a[i] *= b[i]
    return a


@jit
def clamp_nonnegative(v):
    """max(v, 0) that keeps NaN (rounding may make a variance slightly negative; blow-up must show)."""
    return 0.0 if v < 0.0 else v


@jit
def accumulate_moments(acc, k, h, x, d, h0, x0, sat_level):
    """Add one element's terms to lane ``k`` of the sums of :func:`forward_layer_statistics`."""
    dh = np.float64(h) - h0
    dx = np.float64(x) - x0
    acc[0, k] += dh
    acc[1, k] += dh * dh
    acc[2, k] += dx
    acc[3, k] += dx * dx
    acc[4, k] += 1.0 if abs(d) < sat_level else 0.0
    acc[5, k] += 1.0 if x == 0.0 else 0.0


@jit
def count_nonfinite(v):
    """Number of NaN and infinite entries of a 1-D array."""
    count = 0
    for i in range(v.shape[0]):
        count += 0 if np.isfinite(v[i]) else 1
    return count


@jit
def forward_layer_statistics(h, x, d, act, a, sat_level, paired, stats, buf, kbuf, acc):
    """Fill ``x = phi(h)``, ``d = phi'(h)`` and the forward metrics of one layer into ``stats``.

    The activation runs in :func:`fastinit.activations.activate_into` (``buf``, ``kbuf`` its
    scratch); the statistics in one pass of sums of ``v - v0`` and ``(v - v0)^2`` with ``v0`` the
    first entry (the shifted-data algorithm: an exact 0 variance for constant layers, little
    cancellation otherwise), in :data:`LANES` lanes (``acc``: float64 scratch (N_SUMS, LANES)).
    The mean square follows from the same sums, and non-finite entries are counted only when a
    sum of squares is not finite (one of them is, or the sum overflowed).
    """
    rows, cols = h.shape
    n = rows * cols
    hf, xf, df = h.reshape(n), x.reshape(n), d.reshape(n)
    activate_into(act, a, hf, xf, df, buf, kbuf)
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
    stats[NONFINITE] = 0.0 if np.isfinite(shh) and np.isfinite(sxx) else count_nonfinite(hf) + count_nonfinite(xf)
    if paired:
        total = 0.0
        for k in range(rows // 2):
            sab = saa = sbb = 0.0
            for j in range(cols):
                ha, hb = h[2 * k, j], h[2 * k + 1, j]
                sab += ha * hb
                saa += ha * ha
                sbb += hb * hb
            total += sab / math.sqrt(saa * sbb)
        stats[PAIR_CORR] = total / (rows // 2)


@jit
def workspace_layout(widths, rows):
    """Where each buffer of one thread's workspace starts, for networks of these widths and batch
    rows: every layer's activations, every layer's derivatives, one layer's pre-activations, two
    backward deltas, a weight gradient, two batch Gram matrices; the last entry is the length."""
    total = 0
    w_max = 0
    for l in range(1, widths.shape[0]):
        total += widths[l]
        w_max = max(w_max, widths[l - 1] * widths[l])
    n_max = widths.max()
    x = 0
    d = x + rows * total
    h = d + rows * total
    delta_a = h + rows * n_max
    delta_b = delta_a + rows * n_max
    gw = delta_b + rows * n_max
    gram_x = gw + w_max
    gram_d = gram_x + rows * rows
    return x, d, h, delta_a, delta_b, gw, gram_x, gram_d, gram_d + rows * rows


@jit
def workspace_length(widths, rows):
    """Length of one thread's workspace for networks of these widths and batch rows (see
    :func:`workspace_layout`)."""
    return workspace_layout(widths, rows)[-1]


@jit
def layer_offsets(widths, rows):
    """Offsets of each layer's weights (in a weights row), biases (in a biases row) and
    activations (in the workspace): three int64 arrays of depth + 1 entries."""
    depth = widths.shape[0] - 1
    w_off = np.zeros(depth + 1, np.int64)
    b_off = np.zeros(depth + 1, np.int64)
    for l in range(1, depth + 1):
        w_off[l] = w_off[l - 1] + widths[l - 1] * widths[l]
        b_off[l] = b_off[l - 1] + widths[l]
    return w_off, b_off, rows * b_off


@jit
def single_network(var, widths, depths, x0, grad_seed, weights, biases, classes, loss, paired, backward, jacobian, ws,
                   out):
    """Statistics of one network at each of ``depths`` into ``out`` (len(depths), depth, N_METRICS).

    ``var`` is its row of the variants table, ``weights``, ``biases`` and ``classes`` its rows of
    parameters and of :func:`unit_classes` (an LSUV network's weights are rescaled in place, and its
    classes found again), ``ws`` a workspace of
    :func:`workspace_length` elements; the other arguments are those of :func:`network_statistics`.
    Layers below a depth are NaN.
    """
    depth = widths.shape[0] - 1
    rows = x0.shape[0]
    n_max = widths.max()
    w_off, b_off, a_off = layer_offsets(widths, rows)
    act, a, sat = int(var[V_ACT]), var[V_ACT_PARAM], var[V_SAT]
    o = workspace_layout(widths, rows)
    xbuf, dbuf, hbuf = ws[o[0]:o[1]], ws[o[1]:o[2]], ws[o[2]:o[3]]
    delta_a, delta_b, gw = ws[o[3]:o[4]], ws[o[4]:o[5]], ws[o[5]:o[6]]
    gram_x = ws[o[6]:o[7]].reshape((rows, rows))
    gram_d = ws[o[7]:o[8]].reshape((rows, rows))
    act_buf = np.empty(ACT_CHUNK)
    act_kbuf = np.empty(ACT_CHUNK, np.int64)
    acc = np.empty((N_SUMS, LANES))
    reps = np.empty(n_max, np.int64)
    lsuv_classes = np.empty(n_max, np.int64)
    blas_ints = np.empty(8, np.int32)
    blas_scalars = np.empty(2, ws.dtype)
    stats = out[out.shape[0] - 1]
    out[:, :, :] = np.nan
    jac = np.eye(widths[0] if jacobian else 1)
    x_prev = x0
    for l in range(1, depth + 1):
        n_in, n_out = widths[l - 1], widths[l]
        wflat = weights[w_off[l - 1]:w_off[l]]
        w = wflat.reshape((n_in, n_out))
        b = biases[b_off[l - 1]:b_off[l]]
        cls = classes[b_off[l - 1]:b_off[l]]
        h = hbuf[:rows * n_out].reshape((rows, n_out))
        gemm(x_prev, False, w, False, h, blas_ints, blas_scalars)
        s = 1.0
        if var[V_LSUV_TOL] > 0.0:
            for _ in range(int(var[V_LSUV_ITER])):
                v = pooled_variance(h, s, b)
                if not (v > 0.0 and np.isfinite(v)) or abs(v - 1.0) < var[V_LSUV_TOL]:
                    break
                s /= math.sqrt(v)
            for e in range(n_in * n_out):
                wflat[e] *= s
            cls = shared_weights(w, lsuv_classes[:n_out], np.empty(n_out), np.empty(n_out, np.int64))
        if s != 1.0 or not all_zero(b):
            for i in range(rows):
                for j in range(n_out):
                    h[i, j] = s * h[i, j] + b[j]
        x = xbuf[a_off[l - 1]:a_off[l]].reshape((rows, n_out))
        d = dbuf[a_off[l - 1]:a_off[l]].reshape((rows, n_out))
        st = stats[l - 1]
        forward_layer_statistics(h, x, d, act, a, sat, paired, st, act_buf, act_kbuf, acc)
        st[DISTINCT_UNITS] = distinct_units(cls, b, h, 1e-5, reps)
        if jacobian:
            jac = np.dot(w.T.astype(np.float64), jac)
            for j in range(n_out):
                jac[j, :] *= d[0, j]
            sv = np.linalg.svd(jac, full_matrices=False)[1]
            sq = sv * sv
            st[JAC_SQ_MEAN] = sq.mean()
            st[JAC_SQ_VAR] = sq.var()
            st[JAC_MIN] = sv.min()
            st[JAC_MAX] = sv.max()
        x_prev = x
    for k in range(depths.shape[0] - 1):
        out[k, :depths[k]] = stats[:depths[k]]
    if not backward:
        return out
    for k in range(depths.shape[0]):
        top_layer = depths[k]
        n_last = widths[top_layer]
        xl = xbuf[a_off[top_layer - 1]:a_off[top_layer]].reshape((rows, n_last))
        dl = dbuf[a_off[top_layer - 1]:a_off[top_layer]].reshape((rows, n_last))
        delta = delta_a[:rows * n_last].reshape((rows, n_last))
        for i in range(rows):
            for j in range(n_last):
                gv = grad_seed[i, j] if loss == LOSS_PROBE else xl[i, j] - grad_seed[i, j]
                delta[i, j] = gv * dl[i, j]
        for l in range(top_layer, 0, -1):
            n_in, n_out = widths[l - 1], widths[l]
            df = delta.reshape(rows * n_out)
            out[k, l - 1, DELTA_SQ] = sum_products(df, df, acc[0]) / (rows * n_out)
            x_in = x0 if l == 1 else xbuf[a_off[l - 2]:a_off[l - 1]].reshape((rows, n_in))
            if rows * (n_in + n_out) < n_in * n_out:
                # |X^T D|_F^2 = sum (X X^T) * (D D^T): 2 rows^2 (n_in + n_out) flops instead of 2 rows n_in n_out
                gemm(x_in, False, x_in, True, gram_x, blas_ints, blas_scalars)
                gemm(delta, False, delta, True, gram_d, blas_ints, blas_scalars)
                gg = sum_products(gram_x.reshape(rows * rows), gram_d.reshape(rows * rows), acc[0])
            else:
                grad = gw[:n_in * n_out].reshape((n_in, n_out))
                gemm(x_in, True, delta, False, grad, blas_ints, blas_scalars)
                gg = sum_products(gw[:n_in * n_out], gw[:n_in * n_out], acc[0])
            out[k, l - 1, GRAD_W_NORM] = math.sqrt(clamp_nonnegative(gg))
            if l > 1:
                w = weights[w_off[l - 1]:w_off[l]].reshape((n_in, n_out))
                spare = delta_b if (top_layer - l) % 2 == 0 else delta_a
                nxt = spare[:rows * n_in].reshape((rows, n_in))
                gemm(delta, False, w, True, nxt, blas_ints, blas_scalars)
                multiply_into(spare[:rows * n_in], dbuf[a_off[l - 2]:a_off[l - 1]])
                delta = nxt
    return out


@pjit
def network_statistics(variants, widths, depths, x0, grad_seed, weights, biases, classes, loss, paired, backward,
                       jacobian, workspace, out):
    """Per-layer statistics of many networks of one shape, at several depths, in parallel.

    Parameters
    ----------
    variants : float64 array (n_variants, len(VARIANT_COLUMNS))
        One row per network: its group, weights row, biases row, activation code and parameter,
        saturation level of |phi'|, LSUV tolerance (0: off) and maximum iterations.
    widths : int64 array (depth + 1,)
        Widths of the deepest network.
    depths : int64 array (n_depths,)
        Increasing depths to report, the last equal to ``depth``; requires ``widths[D]`` equal to
        ``widths[-1]`` for each (the probe has that width).
    x0 : float32 or float64 array (n_groups, batch, widths[0])
        Each group's input batch; the dtype is the computation dtype. Arrays are C-contiguous.
    grad_seed : array (n_groups, batch, widths[-1]) of x0's dtype
        The probe g (``loss=0``) or the targets (``loss=1``).
    weights : array (n_weight_rows, sum n_{l-1} n_l) of x0's dtype
        Each row: every layer's weights, C-ordered ``(n_{l-1}, n_l)`` blocks, concatenated. A row
        used by an LSUV network belongs to it alone: it is rescaled in place.
    biases : array (n_bias_rows, sum n_l) of x0's dtype
    classes : int64 array (n_weight_rows, sum n_l)
        :func:`unit_classes` of ``weights``: which units share their incoming weights.
    loss : int
        0 probe, 1 MSE.
    paired, backward, jacobian : bool
    workspace : array (n_threads, workspace_length(widths, batch)) of x0's dtype
        Scratch memory, one row per Numba thread (``numba.get_num_threads()`` rows at least);
        its contents do not matter, and reusing it across calls saves page faults.
    out : float64 array (n_variants, n_depths, depth, N_METRICS)
        Metrics in the order of :data:`METRICS`; NaN where not computed.
    """
    for v in prange(variants.shape[0]):
        g = int(variants[v, V_GROUP])
        row = int(variants[v, V_WEIGHT_ROW])
        single_network(variants[v], widths, depths, x0[g], grad_seed[g], weights[row],
                       biases[int(variants[v, V_BIAS_ROW])], classes[row], loss, paired, backward, jacobian,
                       workspace[numba.get_thread_id()], out[v])
    return out
