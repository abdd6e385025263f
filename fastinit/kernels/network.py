"""Forward and backward statistics of many fully-connected networks of one shape, in one call.

The networks ("variants") of one call share widths and batch. They come in *groups* that share a
seed and trial, and so their inputs, probe and base random draws (common random numbers); within a
group they differ in weight initializer, bias initializer, activation and LSUV settings, given as
rows of a float64 ``variants`` table whose columns are :data:`VARIANT_COLUMNS`. ``prange`` runs over
variants; each is computed by one thread from start to end, so results do not depend on the thread
count or on which other networks share the call.

Conventions (DESIGN.md): ``h^l = x^{l-1} W^l + b^l`` with ``W^l`` of shape ``(n_{l-1}, n_l)``
(Keras layout, tensor id ``l``), ``x^l = phi(h^l)``. Backward: ``delta^l = dloss/dh^l`` for the
probe loss ``sum_b g_b . x^L_b`` (``loss=0``) or ``0.5 sum_b |x^L_b - t_b|^2`` (``loss=1``).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from .._config import jit, pjit
from ..activations import ACT_CHUNK, activate_into
from ..rng import BIAS_TENSOR
from .sampling import CONSTANT, NORMAL, TRUNCATED, UNIFORM, elementwise_into, from_base

METRICS = ("preact_mean", "preact_var", "preact_sq", "act_mean", "act_var", "act_sq", "frac_saturated",
           "frac_zero", "pair_corr", "delta_sq", "grad_w_norm", "distinct_units", "nonfinite",
           "jac_sq_mean", "jac_sq_var", "jac_min", "jac_max")
(PREACT_MEAN, PREACT_VAR, PREACT_SQ, ACT_MEAN, ACT_VAR, ACT_SQ, FRAC_SATURATED, FRAC_ZERO, PAIR_CORR, DELTA_SQ,
 GRAD_W_NORM, DISTINCT_UNITS, NONFINITE, JAC_SQ_MEAN, JAC_SQ_VAR, JAC_MIN, JAC_MAX) = range(len(METRICS))
N_METRICS = len(METRICS)

VARIANT_COLUMNS = ("group", "w_code", "b_code", "act_code", "act_param", "sat_level", "lsuv_tol", "lsuv_max_iter",
                   "explicit_row")
V_GROUP, V_W_CODE, V_B_CODE, V_ACT, V_ACT_PARAM, V_SAT, V_LSUV_TOL, V_LSUV_ITER, V_EXPLICIT = range(len(VARIANT_COLUMNS))

#: ``w_code`` of a variant whose weights are given in the ``explicit`` table.
EXPLICIT = -1
LOSS_PROBE, LOSS_MSE = 0, 1


@jit
def layer_weights(var, par, l, off, seed, trial, base_z, base_u, base_q, explicit, out):
    """Write layer ``l``'s weights (flat, C-ordered ``(n_in, n_out)``) of one variant into ``out``.

    ``par`` holds the layer's parameters (weights 0..3, biases 4..7); for UNIFORM, ``par[2]`` is the
    largest value of the dtype below ``par[1]``, which replaces draws that round up to ``par[1]``.
    ``base_z`` / ``base_u`` / ``base_q`` are the group's base draws of all layers (``off`` is this
    layer's offset); an empty ``base_z`` or ``base_u`` means drawing them here.
    """
    code = int(var[V_W_CODE])
    n = out.shape[0]
    if code == EXPLICIT:
        row = int(var[V_EXPLICIT])
        for e in range(n):
            out[e] = explicit[row, off + e]
        return out
    p0, p1, p2, p3 = par[0], par[1], par[2], par[3]
    normal = code == NORMAL or code == TRUNCATED
    base = base_z if normal else base_u if code == UNIFORM else base_q
    if code != CONSTANT and base.shape[0] == 0:
        return elementwise_into(out, 0, code, p0, p1, p2, p3, seed, trial, l)   # no stored base draws
    return from_base(out, code, p0, p1, p2, p3, base[off:off + n], 0, seed, trial, l)


@jit
def layer_biases(var, par, l, seed, trial, out):
    """Write layer ``l``'s biases (tensor id ``BIAS_TENSOR + l``) of one variant into ``out``."""
    return elementwise_into(out, 0, int(var[V_B_CODE]), par[4], par[5], par[6], par[7], seed, trial, BIAS_TENSOR + l)


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
def distinct_columns(w, b, h, rtol):
    """Number of distinct units: columns ``j`` with equal incoming weights ``w[:, j]``, bias
    ``b[j]`` and activations ``h[:, j]`` count once.

    Weights and biases compare exactly, activations within relative ``rtol`` (BLAS may round
    mathematically identical columns differently). Columns are grouped by a projection of their
    first 8 weights and bias, and compared entry by entry only within a group, so a random layer
    costs O(width). Non-finite columns count as distinct.
    """
    n_in, n_out = w.shape
    keys = np.zeros(n_out)
    for i in range(min(n_in, 8)):
        r = 1.0 + (i * 0.6180339887498949) % 1.0
        for j in range(n_out):
            keys[j] += r * w[i, j]
    for j in range(n_out):
        keys[j] += 0.5698402909980532 * b[j]
    order = np.argsort(keys)
    count = 0
    reps = np.empty(n_out, dtype=np.int64)
    start = 0
    while start < n_out:
        stop = start + 1
        while stop < n_out and keys[order[stop]] == keys[order[start]]:
            stop += 1
        n_reps = 0
        for t in range(start, stop):
            j = order[t]
            new = True
            for r in range(n_reps):
                k = reps[r]
                same = b[j] == b[k]
                i = 0
                while same and i < n_in:
                    same = w[i, j] == w[i, k]
                    i += 1
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
        count += n_reps
        start = stop
    return count


@jit
def clamp_nonnegative(v):
    """max(v, 0) that keeps NaN (rounding may make a variance slightly negative; blow-up must show)."""
    return 0.0 if v < 0.0 else v


@jit
def forward_layer_statistics(h, x, d, act, a, sat_level, paired, stats, buf, kbuf):
    """Fill ``x = phi(h)``, ``d = phi'(h)`` and the forward metrics of one layer into ``stats``.

    The activation runs in :func:`fastinit.activations.activate_into` (``buf``, ``kbuf`` its
    scratch); the statistics in one pass of sums of ``v - v0`` and ``(v - v0)^2`` with ``v0`` the
    first entry (the shifted-data algorithm: an exact 0 variance for constant layers, little
    cancellation otherwise).
    """
    rows, cols = h.shape
    n = rows * cols
    hf, xf, df = h.reshape(n), x.reshape(n), d.reshape(n)
    activate_into(act, a, hf, xf, df, buf, kbuf)
    h0, x0 = hf[0], xf[0]
    sh = sh2 = sx = sx2 = sq_h = sq_x = 0.0
    n_sat = n_zero = n_bad = 0
    for e in range(n):
        hv = np.float64(hf[e])
        xv = np.float64(xf[e])
        dh = hv - h0
        dx = xv - x0
        sh += dh
        sh2 += dh * dh
        sx += dx
        sx2 += dx * dx
        sq_h += hv * hv
        sq_x += xv * xv
        n_sat += abs(df[e]) < sat_level
        n_zero += xv == 0.0
        n_bad += (not np.isfinite(hv)) + (not np.isfinite(xv))
    mh, mx = sh / n, sx / n
    stats[PREACT_MEAN] = h0 + mh
    stats[PREACT_VAR] = clamp_nonnegative(sh2 / n - mh * mh)
    stats[PREACT_SQ] = sq_h / n
    stats[ACT_MEAN] = x0 + mx
    stats[ACT_VAR] = clamp_nonnegative(sx2 / n - mx * mx)
    stats[ACT_SQ] = sq_x / n
    stats[FRAC_SATURATED] = n_sat / n
    stats[FRAC_ZERO] = n_zero / n
    stats[NONFINITE] = n_bad
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
def workspace_length(widths, rows):
    """Length of one thread's workspace for networks of these widths and batch rows: pre- and
    post-activations and derivatives of every layer, every layer's weights, two gradients and two
    batch Gram matrices."""
    total = 0
    n_w = 0
    w_max = 0
    for l in range(1, widths.shape[0]):
        total += widths[l]
        n_w += widths[l - 1] * widths[l]
        w_max = max(w_max, widths[l - 1] * widths[l])
    return 3 * rows * total + n_w + rows * widths.max() + w_max + 2 * rows * rows


@jit
def single_network(var, par, widths, x0, grad_seed, seed, trial, base_z, base_u, base_q, explicit, loss, paired,
                   backward, jacobian, ws, stats):
    """Statistics of one network into ``stats`` (depth, N_METRICS).

    ``var`` is its row of the variants table, ``par`` its (depth, 8) layer parameters, ``ws`` a
    workspace of :func:`workspace_length` elements; the other arguments are those of
    :func:`network_statistics`.
    """
    depth = widths.shape[0] - 1
    rows = x0.shape[0]
    total = 0
    n_w = 0
    wmax = 0
    for l in range(1, depth + 1):
        total += widths[l]
        n_w += widths[l - 1] * widths[l]
        wmax = max(wmax, widths[l - 1] * widths[l])
    act, a, sat = int(var[V_ACT]), var[V_ACT_PARAM], var[V_SAT]
    n_act = rows * total
    hbuf = ws[:n_act]
    xbuf = ws[n_act:2 * n_act]
    dbuf = ws[2 * n_act:3 * n_act]
    wall = ws[3 * n_act:3 * n_act + n_w]
    g = ws[3 * n_act + n_w:3 * n_act + n_w + rows * widths.max()]
    top = 3 * n_act + n_w + rows * widths.max()
    gw = ws[top:top + wmax]
    gram_x = ws[top + wmax:top + wmax + rows * rows].reshape((rows, rows))
    gram_d = ws[top + wmax + rows * rows:top + wmax + 2 * rows * rows].reshape((rows, rows))
    bias = np.empty(widths.max(), np.float64)
    act_buf = np.empty(ACT_CHUNK)
    act_kbuf = np.empty(ACT_CHUNK, np.int64)
    stats[:, :] = np.nan
    jac = np.eye(widths[0])
    x_prev = x0
    woff = 0
    aoff = 0
    for l in range(1, depth + 1):
        n_in, n_out = widths[l - 1], widths[l]
        wflat = wall[woff:woff + n_in * n_out]
        w = layer_weights(var, par[l - 1], l, woff, seed, trial, base_z, base_u, base_q, explicit,
                          wflat).reshape((n_in, n_out))
        b = layer_biases(var, par[l - 1], l, seed, trial, bias[:n_out])
        h = hbuf[aoff:aoff + rows * n_out].reshape((rows, n_out))
        np.dot(x_prev, w, h)
        s = 1.0
        if var[V_LSUV_TOL] > 0.0:
            for _ in range(int(var[V_LSUV_ITER])):
                v = pooled_variance(h, s, b)
                if not (v > 0.0 and np.isfinite(v)) or abs(v - 1.0) < var[V_LSUV_TOL]:
                    break
                s /= math.sqrt(v)
            for e in range(n_in * n_out):
                wflat[e] *= s
        for i in range(rows):
            for j in range(n_out):
                h[i, j] = s * h[i, j] + b[j]
        x = xbuf[aoff:aoff + rows * n_out].reshape((rows, n_out))
        d = dbuf[aoff:aoff + rows * n_out].reshape((rows, n_out))
        st = stats[l - 1]
        forward_layer_statistics(h, x, d, act, a, sat, paired, st, act_buf, act_kbuf)
        st[DISTINCT_UNITS] = distinct_columns(w, b, h, 1e-5)
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
        woff += n_in * n_out
        aoff += rows * n_out
    if not backward:
        return stats
    # backward: delta^l overwrites d^l in place; weights (LSUV scale included) are kept from forward
    n_last = widths[depth]
    dl = dbuf[aoff - rows * n_last:aoff].reshape((rows, n_last))
    xl = xbuf[aoff - rows * n_last:aoff].reshape((rows, n_last))
    for i in range(rows):
        for j in range(n_last):
            gv = grad_seed[i, j] if loss == LOSS_PROBE else xl[i, j] - grad_seed[i, j]
            dl[i, j] = gv * dl[i, j]
    for l in range(depth, 0, -1):
        n_in, n_out = widths[l - 1], widths[l]
        woff -= n_in * n_out
        aoff -= rows * n_out
        delta = dbuf[aoff:aoff + rows * n_out].reshape((rows, n_out))
        ss = 0.0
        for i in range(rows):
            for j in range(n_out):
                ss += delta[i, j] * delta[i, j]
        stats[l - 1, DELTA_SQ] = ss / (rows * n_out)
        x_in = x0 if l == 1 else xbuf[aoff - rows * n_in:aoff].reshape((rows, n_in))
        gg = 0.0
        if rows * (n_in + n_out) < n_in * n_out:
            # |X^T D|_F^2 = sum (X X^T) * (D D^T): 2 rows^2 (n_in + n_out) flops instead of 2 rows n_in n_out
            np.dot(x_in, x_in.T, gram_x)
            np.dot(delta, delta.T, gram_d)
            for i in range(rows):
                for j in range(rows):
                    gg += np.float64(gram_x[i, j]) * np.float64(gram_d[i, j])
        else:
            grad = gw[:n_in * n_out].reshape((n_in, n_out))
            np.dot(x_in.T, delta, grad)
            for e in range(n_in * n_out):
                gg += gw[e] * gw[e]
        stats[l - 1, GRAD_W_NORM] = math.sqrt(clamp_nonnegative(gg))
        if l > 1:
            w = wall[woff:woff + n_in * n_out].reshape((n_in, n_out))
            gp = g[:rows * n_in].reshape((rows, n_in))
            np.dot(delta, w.T, gp)
            d_in = dbuf[aoff - rows * n_in:aoff].reshape((rows, n_in))
            for i in range(rows):
                for j in range(n_in):
                    d_in[i, j] = gp[i, j] * d_in[i, j]
    return stats


@pjit
def network_statistics(variants, layer_params, widths, x0, grad_seed, seeds, trials, group_base, base_z, base_u, base_q,
                       explicit, loss, paired, backward, jacobian, workspace, out):
    """Per-layer statistics of many networks of one shape, in parallel.

    Parameters
    ----------
    variants : float64 array (n_variants, len(VARIANT_COLUMNS))
        One row per network: its group, weight and bias codes of
        :func:`fastinit.kernels.sampling.from_base` (weight code ``EXPLICIT`` reads
        ``explicit[explicit_row]``), activation code and parameter, saturation level of |phi'|,
        LSUV tolerance (0: off) and maximum iterations, explicit row.
    layer_params : float64 array (n_variants, depth, 8)
        Per layer: the 4 weight parameters, then the 4 bias parameters, of ``from_base``.
    widths : int64 array (depth + 1,)
    x0 : float32 or float64 array (n_groups, batch, widths[0])
        Each group's input batch; the dtype is the computation dtype.
    grad_seed : array (n_groups, batch, widths[-1]) of x0's dtype
        The probe g (``loss=0``) or the targets (``loss=1``).
    seeds, trials : uint64 arrays (n_groups,)
        Each group's stream.
    group_base : int64 array (n_groups, 3)
        Each group's rows of ``base_z``, ``base_u`` and ``base_q`` (-1: none; normals and uniforms
        are then drawn per network, which is cheaper for a group of one).
    base_z, base_u, base_q : float64 arrays (rows, sum n_{l-1} n_l)
        Base normals, uniforms and orthogonal entries of all layers, concatenated as
        :func:`fastinit.kernels.sampling.fill_layers` lays them out.
    explicit : x0's dtype array (n_explicit, sum n_{l-1} n_l)
    loss : int
        0 probe, 1 MSE.
    paired, backward, jacobian : bool
    workspace : array (n_threads, workspace_length(widths, batch)) of x0's dtype
        Scratch memory, one row per Numba thread (``numba.get_num_threads()`` rows at least);
        its contents do not matter, and reusing it across calls saves page faults.
    out : float64 array (n_variants, depth, N_METRICS)
        Metrics in the order of :data:`METRICS`; NaN where not computed.
    """
    empty = np.empty(0)
    for v in prange(variants.shape[0]):
        g = int(variants[v, V_GROUP])
        zr, ur, qr = group_base[g, 0], group_base[g, 1], group_base[g, 2]
        single_network(variants[v], layer_params[v], widths, x0[g], grad_seed[g], seeds[g], trials[g],
                       base_z[zr] if zr >= 0 else empty, base_u[ur] if ur >= 0 else empty,
                       base_q[qr] if qr >= 0 else empty, explicit, loss, paired, backward, jacobian,
                       workspace[numba.get_thread_id()], out[v])
    return out
