"""Forward and backward statistics of many fully-connected networks of one shape, in one call.

The networks of one call share widths and batch, and come in *groups* that share a seed and
trial and so their inputs and probe. Their parameters are rows of a ``weights`` and a ``biases``
table (filled by :func:`fastinit.kernels.sampling.fill_rows`; networks that differ only in
activation share a row; :func:`unit_classes` says which units of a row share incoming weights).
Each network is described by one row of two typed tables, ``nets_int`` (:data:`NET_INT`) and
``nets_real`` (:data:`NET_REAL`). ``prange`` runs over networks; each is computed by one thread
from start to end, so results do not depend on the thread count or on the other networks of the
call.

One forward pass serves several depths: a network of depth ``D`` is the first ``D`` layers of the
deepest one (its weights do not depend on the depth), so the kernel propagates to the largest
requested depth once and backpropagates from each requested depth.

The kernel is composed of the layer primitives of :mod:`fastinit.kernels.layers` and the metric
primitives of :mod:`fastinit.kernels.metrics`; a network's pieces are :func:`lsuv_scales` (a
pre-pass), :func:`forward_pass` and :func:`backward_pass`. The probe loss is ``sum_b g_b . x^L_b``
(``loss=0``), the MSE ``0.5 sum_b |x^L_b - t_b|^2`` (``loss=1``).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .._config import jit, pjit
from .layers import bias_activation, dense_backward, dense_product, layer_scratch, lsuv_scale
from .metrics import (
    DISTINCT_UNITS,
    N_METRICS,
    backward_metrics,
    distinct_units,
    forward_metrics,
    jacobian_step,
    shared_weights,
)
from .views import as_matrix

#: Integer columns of the networks table ``nets_int``: the network's group (inputs and probe),
#: weights row, biases row, activation code, LSUV's most iterations.
NET_INT = ("group", "weight_row", "bias_row", "act_code", "lsuv_max_iter")
N_GROUP, N_WEIGHT_ROW, N_BIAS_ROW, N_ACT, N_LSUV_ITER = range(len(NET_INT))
#: Float columns of ``nets_real``: the activation's parameter, the saturation level of |phi'|,
#: LSUV's tolerance (0: no LSUV).
NET_REAL = ("act_param", "sat_level", "lsuv_tol")
R_ACT_PARAM, R_SAT, R_LSUV_TOL = range(len(NET_REAL))

LOSS_PROBE, LOSS_MSE = 0, 1
#: Relative tolerance of :func:`fastinit.kernels.metrics.distinct_units` on activations.
DISTINCT_RTOL = 1e-5


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
def workspace_parts(ws, widths, rows):
    """The buffers of a workspace (:func:`workspace_layout`): activations and derivatives of every
    layer, pre-activations, two deltas and a gradient (1-D), two Gram matrices (rows, rows)."""
    o = workspace_layout(widths, rows)
    return (ws[o[0]:o[1]], ws[o[1]:o[2]], ws[o[2]:o[3]], ws[o[3]:o[4]], ws[o[4]:o[5]], ws[o[5]:o[6]],
            as_matrix(ws[o[6]:o[7]], rows, rows), as_matrix(ws[o[7]:o[8]], rows, rows))


@pjit
def unit_classes(widths, weights, classes):
    """:func:`fastinit.kernels.metrics.shared_weights` of every layer of every row of a weights
    table into ``classes``: int64 (n_rows, sum n_l), laid out as a biases row."""
    depth = widths.shape[0] - 1
    w_off, b_off, _ = layer_offsets(widths, 1)
    for r in prange(weights.shape[0]):
        keys = np.empty(widths.max())
        order = np.empty(widths.max(), np.int64)
        for l in range(depth):
            w = as_matrix(weights[r, w_off[l]:w_off[l + 1]], widths[l], widths[l + 1])
            shared_weights(w, classes[r, b_off[l]:b_off[l + 1]], keys, order)
    return classes


@jit
def lsuv_scales(widths, x0, weights, biases, act, a, tol, max_iter, scales, ws, scratch):
    """LSUV's pre-pass: each layer's scale (:func:`fastinit.kernels.layers.lsuv_scale`) in turn,
    propagating through the scaled layers, into ``scales`` (depth,). ``weights`` are left as they
    are; ``ws`` is a workspace (:func:`workspace_length`), ``scratch`` a primitive's scratch."""
    rows = x0.shape[0]
    w_off, b_off, a_off = layer_offsets(widths, rows)
    xbuf, dbuf, hbuf = workspace_parts(ws, widths, rows)[:3]
    x_prev = x0
    for l in range(1, widths.shape[0]):
        n_in, n_out = widths[l - 1], widths[l]
        w = as_matrix(weights[w_off[l - 1]:w_off[l]], n_in, n_out)
        b = biases[b_off[l - 1]:b_off[l]]
        h = as_matrix(hbuf[:rows * n_out], rows, n_out)
        x = as_matrix(xbuf[a_off[l - 1]:a_off[l]], rows, n_out)
        dense_product(x_prev, w, h, scratch)
        scales[l - 1] = lsuv_scale(h, b, tol, max_iter)
        bias_activation(
            h, scales[l - 1], b, act, a, x, as_matrix(dbuf[a_off[l - 1] : a_off[l]], rows, n_out), scratch
        )
        x_prev = x
    return scales


@jit
def forward_pass(
    widths, act, a, sat, x0, weights, biases, classes, scales, paired, jacobian, ws, scratch, stats
):
    """Propagate one network through every layer, keeping each layer's activations and
    derivatives in the workspace ``ws``, and put each layer's forward metrics in ``stats``
    (depth, N_METRICS). A layer with a scale other than 1 (LSUV, see :func:`lsuv_scales`) has its
    weights rescaled in place once its product is taken (the backward pass uses them), and its
    unit classes found again."""
    rows = x0.shape[0]
    n_max = widths.max()
    w_off, b_off, a_off = layer_offsets(widths, rows)
    xbuf, dbuf, hbuf = workspace_parts(ws, widths, rows)[:3]
    reps = np.empty(n_max, np.int64)
    jac = np.eye(widths[0] if jacobian else 1)
    x_prev = x0
    for l in range(1, widths.shape[0]):
        n_in, n_out = widths[l - 1], widths[l]
        wflat = weights[w_off[l - 1]:w_off[l]]
        w = as_matrix(wflat, n_in, n_out)
        b = biases[b_off[l - 1]:b_off[l]]
        cls = classes[b_off[l - 1]:b_off[l]]
        h = as_matrix(hbuf[:rows * n_out], rows, n_out)
        x = as_matrix(xbuf[a_off[l - 1]:a_off[l]], rows, n_out)
        d = as_matrix(dbuf[a_off[l - 1]:a_off[l]], rows, n_out)
        s = scales[l - 1]
        dense_product(x_prev, w, h, scratch)
        if s != 1.0:
            for e in range(n_in * n_out):
                wflat[e] *= s
            cls = shared_weights(w, np.empty(n_out, np.int64), np.empty(n_out), np.empty(n_out, np.int64))
        bias_activation(h, s, b, act, a, x, d, scratch)
        st = stats[l - 1]
        forward_metrics(h, x, d, sat, paired, st, scratch)
        st[DISTINCT_UNITS] = distinct_units(cls, b, h, DISTINCT_RTOL, reps)
        if jacobian:
            jac = jacobian_step(jac, w, d[0], st)
        x_prev = x
    return stats


@jit
def backward_pass(widths, top, x0, grad_seed, weights, loss, ws, scratch, stats):
    """Backpropagate the loss at layer ``top`` of a network whose forward pass is in ``ws``, and
    put ``delta_sq`` and ``grad_w_norm`` of layers ``top`` .. 1 in ``stats`` (depth, N_METRICS)."""
    rows = x0.shape[0]
    w_off, _, a_off = layer_offsets(widths, rows)
    xbuf, dbuf, _, delta_a, delta_b, gw, gram_x, gram_d = workspace_parts(ws, widths, rows)
    n_last = widths[top]
    xl = as_matrix(xbuf[a_off[top - 1]:a_off[top]], rows, n_last)
    dl = as_matrix(dbuf[a_off[top - 1]:a_off[top]], rows, n_last)
    delta = as_matrix(delta_a[:rows * n_last], rows, n_last)
    for i in range(rows):
        for j in range(n_last):
            gv = grad_seed[i, j] if loss == LOSS_PROBE else xl[i, j] - grad_seed[i, j]
            delta[i, j] = gv * dl[i, j]
    for l in range(top, 0, -1):
        n_in, n_out = widths[l - 1], widths[l]
        x_in = x0 if l == 1 else as_matrix(xbuf[a_off[l - 2]:a_off[l - 1]], rows, n_in)
        backward_metrics(x_in, delta, gw, gram_x, gram_d, stats[l - 1], scratch)
        if l > 1:
            w = as_matrix(weights[w_off[l - 1]:w_off[l]], n_in, n_out)
            spare = delta_b if (top - l) % 2 == 0 else delta_a
            nxt = as_matrix(spare[:rows * n_in], rows, n_in)
            dense_backward(delta, w, as_matrix(dbuf[a_off[l - 2]:a_off[l - 1]], rows, n_in), nxt, scratch)
            delta = nxt
    return stats


@jit
def single_network(ints, reals, widths, depths, x0, grad_seed, weights, biases, classes, loss, paired,
                   backward, jacobian, ws, out):
    """Statistics of one network at each of ``depths`` into ``out`` (len(depths), depth, N_METRICS).

    ``ints`` and ``reals`` are its rows of the networks tables, ``weights``, ``biases`` and
    ``classes`` its rows of parameters and of :func:`unit_classes` (an LSUV network's weights are
    rescaled in place), ``ws`` a workspace of :func:`workspace_length` elements; the other
    arguments are those of :func:`network_statistics`. Layers below a depth are NaN.
    """
    depth = widths.shape[0] - 1
    act, a = ints[N_ACT], reals[R_ACT_PARAM]
    scratch = layer_scratch()
    scales = np.ones(depth)
    if reals[R_LSUV_TOL] > 0.0:
        lsuv_scales(
            widths, x0, weights, biases, act, a, reals[R_LSUV_TOL], ints[N_LSUV_ITER], scales, ws, scratch
        )
    out[:, :, :] = np.nan
    last = out[out.shape[0] - 1]
    forward_pass(
        widths,
        act,
        a,
        reals[R_SAT],
        x0,
        weights,
        biases,
        classes,
        scales,
        paired,
        jacobian,
        ws,
        scratch,
        last,
    )
    for k in range(depths.shape[0] - 1):
        out[k, :depths[k]] = last[:depths[k]]
    if backward:
        for k in range(depths.shape[0]):
            backward_pass(widths, depths[k], x0, grad_seed, weights, loss, ws, scratch, out[k])
    return out


@pjit
def network_statistics(nets_int, nets_real, widths, depths, x0, grad_seed, weights, biases, classes, loss,
                       paired, backward, jacobian, workspace, out):
    """Per-layer statistics of many networks of one shape, at several depths, in parallel.

    Parameters
    ----------
    nets_int : int64 array (n_networks, len(NET_INT))
        Per network: its group, weights row, biases row, activation code, LSUV's most iterations.
    nets_real : float64 array (n_networks, len(NET_REAL))
        Per network: the activation's parameter, the saturation level of |phi'|, LSUV's
        tolerance (0: off).
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
    out : float64 array (n_networks, n_depths, depth, N_METRICS)
        Metrics in the order of :data:`fastinit.kernels.metrics.METRICS`; NaN where not computed.
    """
    for v in prange(nets_int.shape[0]):
        g, row = nets_int[v, N_GROUP], nets_int[v, N_WEIGHT_ROW]
        single_network(nets_int[v], nets_real[v], widths, depths, x0[g], grad_seed[g], weights[row],
                       biases[nets_int[v, N_BIAS_ROW]], classes[row], loss, paired, backward, jacobian,
                       workspace[numba.get_thread_id()], out[v])
    return out


__all__ = ["LOSS_MSE", "LOSS_PROBE", "N_METRICS", "NET_INT", "NET_REAL", "backward_pass", "forward_pass",
           "layer_offsets", "lsuv_scales", "network_statistics", "single_network", "unit_classes",
           "workspace_layout", "workspace_length", "workspace_parts"]
