"""Training many MLPs at once: losses, optimizer steps and the network trainer.

A trained network is ``depth`` dense hidden layers of one activation and a linear readout,
``out = x^D W + b``, trained by minibatch gradient descent on a loss of ``out`` against targets.
Each network is one row of two typed tables, ``nets_int`` (:data:`TRAIN_INT`) and ``nets_real``
(:data:`TRAIN_REAL`); networks differ in depth, widths, activation, optimizer, learning rate,
batch, steps and seed. ``prange`` runs over networks and each is trained by one thread from its
first step to its last, so its result does not depend on the other networks of the call or on
the thread count (DESIGN invariant 8).

Parameters of all networks lie in one flat array; a network's starts at its ``param_offset``
and holds, layer by layer (the readout last), the weights ``(n_in, n_out)`` C-ordered, then the
biases ``(n_out,)``. Its widths ``n0, n1, ..., nD, n_out`` lie in a flat int64 array from its
``width_offset``.

Minibatches: epoch ``e`` orders the training rows by a Fisher-Yates shuffle driven by the uniforms
of tensor ``ORDER_TENSOR + e`` (keyed by the network's seed and trial, :mod:`fastinit.rng`; see
:func:`epoch_order`); its steps take
consecutive slices of ``batch`` rows, and the last ``n_train % batch`` rows of an epoch are not
used (``drop_last``). Step ``t`` (0-based) uses slice ``t % (n_train // batch)`` of epoch
``t // (n_train // batch)``.

Losses (PyTorch's means): mean squared error ``sum (out - y)^2 / (rows n_out)``
(:data:`TRAIN_MSE`) and softmax cross-entropy on logits ``mean_rows (logsumexp(out) - y . out)``
(:data:`TRAIN_CE`, log-sum-exp with the row maximum subtracted; ``y`` one-hot).

Optimizers (``torch.optim``'s update order and defaults, no weight decay): SGD ``w -= lr g``;
heavy-ball momentum ``m = mu m + g; w -= lr m``; Nesterov ``m = mu m + g; w -= lr (g + mu m)``;
Adam ``m += (1 - b1) (g - m); v = b2 v + (1 - b2) g^2; w -= (lr / (1 - b1^t)) m /
(sqrt(v) / sqrt(1 - b2^t) + eps)``.

Symmetry is kept exactly: a network whose initial weights have units with equal incoming weights
(``exact`` in its row; a constant initializer, say) computes its products with loops whose every
output element takes the same operations in the same order, so equal units stay equal bit for
bit for ever (BLAS rounds mathematically equal columns differently). Other networks use BLAS.

CPU-only (a CUDA backend replaces these): the BLAS products and the vectorised activation pass
that :func:`fastinit.kernels.layers.bias_activation` calls.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._config import jit, pjit
from ..rng import ORDER_TENSOR
from .layers import (
    bias_activation,
    dense_backward,
    dense_product,
    layer_scratch,
    multiply_into,
    weight_gradient,
)
from .metrics import distinct_units, shared_weights
from .sampling import fill_uniform
from .views import as_matrix, as_vector

#: Integer columns of ``nets_int``: activation code, hidden layers, optimizer code, loss code,
#: steps, batch rows, steps between evaluations, where the parameters and the widths begin, and
#: whether products are exact (see the module docstring).
TRAIN_INT = (
    "act_code",
    "depth",
    "optimizer",
    "loss",
    "steps",
    "batch",
    "eval_every",
    "param_offset",
    "width_offset",
    "exact",
)
(T_ACT, T_DEPTH, T_OPT, T_LOSS, T_STEPS, T_BATCH, T_EVAL, T_PARAM, T_WIDTH, T_EXACT) = range(len(TRAIN_INT))
#: Float columns of ``nets_real``: the activation's parameter, learning rate, momentum (SGD) or
#: beta1 (Adam), beta2 (Adam), eps (Adam).
TRAIN_REAL = ("act_param", "lr", "momentum", "beta2", "eps")
R_ACT, R_LR, R_MOMENTUM, R_BETA2, R_EPS = range(len(TRAIN_REAL))

OPT_SGD, OPT_MOMENTUM, OPT_NESTEROV, OPT_ADAM = range(4)
TRAIN_MSE, TRAIN_CE = 0, 1
#: Rows an evaluation forwards at a time (or the batch, if larger).
EVAL_ROWS = 256
#: Columns of a network's curve row at an evaluation step.
CURVE = ("train_loss", "test_loss", "test_accuracy")
#: Columns of a layer's row at an evaluation step (on that step's minibatch; ``weight_change`` is
#: ``|W_t - W_0|_F / |W_0|_F``, NaN where ``W_0 = 0``).
LAYER = ("grad_w_norm", "delta_sq", "distinct_units", "weight_change")


@jit
def n_evaluations(steps, eval_every):
    """Evaluations of a run: at steps 0, eval_every, 2 eval_every, ... and at ``steps``."""
    return steps // eval_every + 1 + (1 if steps % eval_every else 0)


@jit
def ordered_product(x, w, out):
    """``out = x @ w`` by loops in which every output element takes the same operations in the same
    order (``x``: (rows, n_in), ``w``: (n_in, n_out), ``out``: (rows, n_out)), so equal columns
    of ``w`` give equal columns of ``out`` bit for bit. Four rows at a time, vectorised over
    columns."""
    rows, n_in = x.shape
    n_out = w.shape[1]
    i = 0
    while i + 4 <= rows:
        o0, o1, o2, o3 = out[i], out[i + 1], out[i + 2], out[i + 3]
        for j in range(n_out):
            o0[j] = 0.0
            o1[j] = 0.0
            o2[j] = 0.0
            o3[j] = 0.0
        for k in range(n_in):
            a0, a1, a2, a3 = x[i, k], x[i + 1, k], x[i + 2, k], x[i + 3, k]
            wk = w[k]
            for j in range(n_out):
                v = wk[j]
                o0[j] += a0 * v
                o1[j] += a1 * v
                o2[j] += a2 * v
                o3[j] += a3 * v
        i += 4
    for r in range(i, rows):
        o = out[r]
        for j in range(n_out):
            o[j] = 0.0
        for k in range(n_in):
            a = x[r, k]
            wk = w[k]
            for j in range(n_out):
                o[j] += a * wk[j]
    return out


@jit
def ordered_gradient(x, delta, grad):
    """``grad = x^T @ delta`` with the guarantee of :func:`ordered_product` (rows summed in order)."""
    rows, n_in = x.shape
    n_out = delta.shape[1]
    for k in range(n_in):
        for j in range(n_out):
            grad[k, j] = 0.0
    for i in range(rows):
        di = delta[i]
        for k in range(n_in):
            a = x[i, k]
            gk = grad[k]
            for j in range(n_out):
                gk[j] += a * di[j]
    return grad


@jit
def transpose_into(w, wt):
    """``wt = w^T`` (``wt``: (n_out, n_in))."""
    for k in range(w.shape[0]):
        for j in range(w.shape[1]):
            wt[j, k] = w[k, j]
    return wt


@jit
def mse_loss(out, y, grad):
    """Mean squared error of ``out`` against ``y`` (both (rows, n_out)) and its gradient with
    respect to ``out`` into ``grad``: ``2 (out - y) / (rows n_out)``. The loss is float64."""
    rows, n_out = out.shape
    n = rows * n_out
    total = 0.0
    for i in range(rows):
        for j in range(n_out):
            r = float(out[i, j]) - float(y[i, j])
            total += r * r
            grad[i, j] = 2.0 * r / n
    return total / n


@jit
def cross_entropy_loss(out, y, grad):
    """Softmax cross-entropy of logits ``out`` against target rows ``y`` (one-hot or probabilities),
    the mean over rows, and its gradient ``(softmax(out) - y) / rows`` into ``grad``."""
    rows, n_out = out.shape
    total = 0.0
    for i in range(rows):
        m = -np.inf
        for j in range(n_out):
            m = max(m, float(out[i, j]))
        s = 0.0
        for j in range(n_out):
            s += math.exp(float(out[i, j]) - m)
        lse = m + math.log(s)
        dot = 0.0
        for j in range(n_out):
            dot += float(y[i, j]) * float(out[i, j])
            grad[i, j] = (math.exp(float(out[i, j]) - m) / s - float(y[i, j])) / rows
        total += lse - dot
    return total / rows


@jit
def loss_and_gradient(loss, out, y, grad):
    """:func:`mse_loss` (``loss`` 0) or :func:`cross_entropy_loss` (1)."""
    if loss == TRAIN_MSE:
        return mse_loss(out, y, grad)
    return cross_entropy_loss(out, y, grad)


@jit
def correct_predictions(out, y):
    """Rows whose largest logit is at the largest target (the first of equal ones)."""
    count = 0
    for i in range(out.shape[0]):
        a = 0
        b = 0
        for j in range(1, out.shape[1]):
            if out[i, j] > out[i, a]:
                a = j
            if y[i, j] > y[i, b]:
                b = j
        count += a == b
    return count


@jit(inline="always")
def in_dtype(x, like):
    """The number ``x`` in the dtype of array ``like`` (so arithmetic with its entries stays in it)."""
    one = like[:1].copy()
    one[0] = x
    return one[0]


@jit
def sgd_step(w, g, lr):
    """``w -= lr g`` (1-D arrays; arithmetic in their dtype, as torch.optim)."""
    lr = in_dtype(lr, w)
    for i in range(w.shape[0]):
        w[i] -= lr * g[i]
    return w


@jit
def momentum_step(w, g, m, lr, mu, nesterov):
    """``torch.optim.SGD`` with momentum ``mu`` (dampening 0): ``m = mu m + g``, then ``w -= lr m``,
    or ``w -= lr (g + mu m)`` if ``nesterov``. ``m`` starts at 0 (so the first step sets it to g).
    Arithmetic in the arrays' dtype."""
    lr, mu = in_dtype(lr, w), in_dtype(mu, w)
    for i in range(w.shape[0]):
        m[i] = mu * m[i] + g[i]
        w[i] -= lr * (g[i] + mu * m[i] if nesterov else m[i])
    return w


@jit
def adam_step(w, g, m, v, t, lr, beta1, beta2, eps):
    """``torch.optim.Adam`` at step ``t`` (1-based): ``m += (1 - beta1) (g - m)``,
    ``v = beta2 v + (1 - beta2) g^2``, ``w -= (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t)
    + eps)``; ``m`` and ``v`` start at 0. The step's scalars are computed in float64, the
    elementwise arithmetic in the arrays' dtype (as torch.optim; float32 square roots and divisions
    cost a quarter of float64's)."""
    step_size = in_dtype(lr / (1.0 - beta1**t), w)
    root_bc2 = in_dtype(math.sqrt(1.0 - beta2**t), w)
    c1, b2, c2, e = in_dtype(1.0 - beta1, w), in_dtype(beta2, w), in_dtype(1.0 - beta2, w), in_dtype(eps, w)
    for i in range(w.shape[0]):
        gi = g[i]
        m[i] += c1 * (gi - m[i])
        v[i] = b2 * v[i] + c2 * gi * gi
        w[i] -= step_size * (m[i] / (math.sqrt(v[i]) / root_bc2 + e))
    return w


@jit
def optimizer_step(opt, w, g, m, v, t, lr, mu, beta2, eps):
    """One step of optimizer ``opt`` (:data:`OPT_SGD` .. :data:`OPT_ADAM`) on flat parameters."""
    if opt == OPT_SGD:
        return sgd_step(w, g, lr)
    if opt == OPT_ADAM:
        return adam_step(w, g, m, v, t, lr, mu, beta2, eps)
    return momentum_step(w, g, m, lr, mu, opt == OPT_NESTEROV)


@jit
def epoch_order(seed, trial, epoch, keys, order):
    """The training rows in the order of ``epoch`` into ``order`` (int64, n_train): a Fisher-Yates
    shuffle of ``0 .. n - 1`` by the uniforms ``u_i`` of tensor ``ORDER_TENSOR + epoch``, ``i`` from
    ``n - 1`` down to 1 swapping entry ``i`` with entry ``floor(u_i (i + 1))`` (exact in float64).
    ``keys``: float64 scratch of n_train."""
    n = order.shape[0]
    fill_uniform(keys, seed, trial, ORDER_TENSOR + epoch)
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        j = int(math.floor(keys[i] * (i + 1)))
        order[i], order[j] = order[j], order[i]
    return order


@jit
def parameter_offsets(widths):
    """Where each layer's weights and biases begin in a network's parameters (the layout of the
    module docstring): two int64 arrays of one entry per layer, and the number of parameters."""
    n_layers = widths.shape[0] - 1
    w_off = np.empty(n_layers, np.int64)
    b_off = np.empty(n_layers, np.int64)
    cursor = 0
    for l in range(n_layers):
        w_off[l] = cursor
        cursor += widths[l] * widths[l + 1]
        b_off[l] = cursor
        cursor += widths[l + 1]
    return w_off, b_off, cursor


@jit
def forward(widths, params, w_off, b_off, act, a, exact, x, acts, ders, h, out, scratch):
    """Forward pass of ``x`` (rows, n0) through a network: each hidden layer's activations and
    derivatives into ``acts`` and ``ders`` (flat, layer ``l`` at ``batch * sum n_1..n_{l-1}``,
    ``batch = acts.size / sum n_l``), the readout into ``out`` (rows, n_out); ``h`` is scratch of
    rows * max n_l."""
    rows = x.shape[0]
    depth = widths.shape[0] - 2
    per_row = 0
    for l in range(1, depth + 1):
        per_row += widths[l]
    batch = acts.shape[0] // per_row
    x_prev = x
    off = 0
    for l in range(1, depth + 2):
        n_in, n_out = widths[l - 1], widths[l]
        w = as_matrix(params[w_off[l - 1] : w_off[l - 1] + n_in * n_out], n_in, n_out)
        b = params[b_off[l - 1] : b_off[l - 1] + n_out]
        hl = out if l == depth + 1 else as_matrix(h[: rows * n_out], rows, n_out)
        if exact:
            ordered_product(x_prev, w, hl)
        else:
            dense_product(x_prev, w, hl, scratch)
        if l == depth + 1:
            for i in range(rows):
                for j in range(n_out):
                    out[i, j] += b[j]
        else:
            y = as_matrix(acts[off : off + rows * n_out], rows, n_out)
            d = as_matrix(ders[off : off + rows * n_out], rows, n_out)
            bias_activation(hl, 1.0, b, act, a, y, d, scratch)
            x_prev = y
            off += batch * n_out
    return out


@jit
def backward(
    widths,
    params,
    w_off,
    b_off,
    exact,
    x,
    acts,
    ders,
    delta_out,
    grads,
    delta_a,
    delta_b,
    wt,
    layer_stats,
    scratch,
):
    """Backpropagate ``delta_out`` (dloss/dout, (rows, n_out)) through a network whose forward pass
    of ``x`` is in ``acts`` / ``ders`` (:func:`forward`): every layer's weight and bias gradients
    into ``grads`` (the parameter layout), and, if ``layer_stats`` has rows, each layer's
    ``grad_w_norm`` and ``delta_sq`` into its columns 0 and 1. ``delta_a``, ``delta_b``, ``wt``:
    scratch of rows * max n_l and max n_in n_out."""
    rows = x.shape[0]
    depth = widths.shape[0] - 2
    per_row = 0
    for l in range(1, depth + 1):
        per_row += widths[l]
    batch = acts.shape[0] // per_row
    a_off = np.zeros(depth + 1, np.int64)
    for l in range(1, depth + 1):
        a_off[l] = a_off[l - 1] + batch * widths[l]
    delta = delta_out
    for l in range(depth + 1, 0, -1):
        n_in, n_out = widths[l - 1], widths[l]
        x_in = x if l == 1 else as_matrix(acts[a_off[l - 2] : a_off[l - 2] + rows * n_in], rows, n_in)
        gw = as_matrix(grads[w_off[l - 1] : w_off[l - 1] + n_in * n_out], n_in, n_out)
        gb = grads[b_off[l - 1] : b_off[l - 1] + n_out]
        if exact:
            ordered_gradient(x_in, delta, gw)
        else:
            weight_gradient(x_in, delta, gw, scratch)
        gb[:] = 0.0
        for i in range(rows):
            for j in range(n_out):
                gb[j] += delta[i, j]
        if layer_stats.shape[0]:
            ss = 0.0
            for i in range(rows):
                for j in range(n_out):
                    ss += float(delta[i, j]) ** 2
            gg = 0.0
            for e in range(n_in * n_out):
                gg += float(grads[w_off[l - 1] + e]) ** 2
            layer_stats[l - 1, 0] = math.sqrt(gg)
            layer_stats[l - 1, 1] = ss / (rows * n_out)
        if l > 1:
            w = as_matrix(params[w_off[l - 1] : w_off[l - 1] + n_in * n_out], n_in, n_out)
            nxt = as_matrix((delta_b if l % 2 else delta_a)[: rows * n_in], rows, n_in)
            d_in = as_matrix(ders[a_off[l - 2] : a_off[l - 2] + rows * n_in], rows, n_in)
            if exact:
                ordered_product(delta, transpose_into(w, as_matrix(wt[: n_in * n_out], n_out, n_in)), nxt)
                multiply_into(as_vector(nxt), as_vector(d_in))
            else:
                dense_backward(delta, w, d_in, nxt, scratch)
            delta = nxt
    return grads


@jit
def train_network(
    ints,
    reals,
    seed,
    trial,
    widths,
    initial,
    params,
    state_m,
    state_v,
    x_train,
    y_train,
    x_test,
    y_test,
    classify,
    curves,
    layers,
):
    """Train one network (its rows ``ints`` / ``reals`` of the networks tables, its ``widths``, its
    ``initial`` parameters, ``params`` a copy of them updated in place, ``state_m`` / ``state_v``
    its optimizer state, zeros). Curve rows (:data:`CURVE`) into ``curves`` (n_evals, 3) and layer
    rows (:data:`LAYER`) into ``layers`` (n_evals, depth + 1, 4) at each evaluation; rows after a
    divergence are left as they are. Returns the step at which the minibatch loss first was not
    finite, or -1."""
    act, depth, opt, loss = ints[T_ACT], ints[T_DEPTH], ints[T_OPT], ints[T_LOSS]
    steps, batch, eval_every, exact = ints[T_STEPS], ints[T_BATCH], ints[T_EVAL], ints[T_EXACT] != 0
    a, lr, mu, beta2, eps = reals[R_ACT], reals[R_LR], reals[R_MOMENTUM], reals[R_BETA2], reals[R_EPS]
    n_train, n0 = x_train.shape
    n_out = widths[depth + 1]
    w_off, b_off, _ = parameter_offsets(widths)
    n_max = widths.max()
    w_max = 0
    hidden = 0
    for l in range(1, depth + 2):
        w_max = max(w_max, widths[l - 1] * widths[l])
        if l <= depth:
            hidden += widths[l]
    scratch = layer_scratch()
    dt = params.dtype
    rows = max(batch, EVAL_ROWS)        # evaluations forward EVAL_ROWS rows at a time
    acts = np.empty(rows * hidden, dt)
    ders = np.empty_like(acts)
    h = np.empty(rows * n_max, dt)
    delta_a = np.empty(batch * n_max, dt)
    delta_b = np.empty_like(delta_a)
    wt = np.empty(w_max, dt)
    out_rows = np.empty((rows, n_out), dt)
    dout_rows = np.empty_like(out_rows)
    out, dout = out_rows[:batch], dout_rows[:batch]
    xb = np.empty((batch, n0), dt)
    yb = np.empty((batch, n_out), dt)
    grads = np.empty_like(params)
    keys = np.empty(n_train)
    order = np.empty(n_train, np.int64)
    cls = np.empty(n_max, np.int64)
    ckeys = np.empty(n_max)
    corder = np.empty(n_max, np.int64)
    reps = np.empty(n_max, np.int64)
    no_stats = np.empty((0, 4))
    per_epoch = n_train // batch
    for t in range(steps + 1):
        p = t % per_epoch
        if p == 0:
            epoch_order(seed, trial, t // per_epoch, keys, order)
        for i in range(batch):
            r = order[p * batch + i]
            xb[i] = x_train[r]
            yb[i] = y_train[r]
        evaluate = t % eval_every == 0 or t == steps
        e = t // eval_every if t % eval_every == 0 else curves.shape[0] - 1
        forward(widths, params, w_off, b_off, act, a, exact, xb, acts, ders, h, out, scratch)
        value = loss_and_gradient(loss, out, yb, dout)
        stats = layers[e] if evaluate else no_stats
        backward(
            widths,
            params,
            w_off,
            b_off,
            exact,
            xb,
            acts,
            ders,
            dout,
            grads,
            delta_a,
            delta_b,
            wt,
            stats,
            scratch,
        )
        if evaluate:
            off = 0
            for l in range(1, depth + 2):
                n_in, n_l = widths[l - 1], widths[l]
                w = as_matrix(params[w_off[l - 1] : w_off[l - 1] + n_in * n_l], n_in, n_l)
                b = params[b_off[l - 1] : b_off[l - 1] + n_l]
                hl = out if l == depth + 1 else as_matrix(acts[off : off + batch * n_l], batch, n_l)
                shared_weights(w, cls[:n_l], ckeys, corder)
                stats[l - 1, 2] = distinct_units(cls[:n_l], b, hl, 0.0, reps)
                num = 0.0
                den = 0.0
                for k in range(n_in * n_l):
                    w0 = float(initial[w_off[l - 1] + k])
                    dw = float(params[w_off[l - 1] + k]) - w0
                    num += dw * dw
                    den += w0 * w0
                stats[l - 1, 3] = math.sqrt(num / den) if den > 0.0 else np.nan
                off += rows * n_l
            curves[e, 0] = dataset_loss(
                widths,
                params,
                w_off,
                b_off,
                act,
                a,
                exact,
                loss,
                x_train,
                y_train,
                acts,
                ders,
                h,
                out_rows,
                dout_rows,
                scratch,
            )[0]
            test = dataset_loss(
                widths,
                params,
                w_off,
                b_off,
                act,
                a,
                exact,
                loss,
                x_test,
                y_test,
                acts,
                ders,
                h,
                out_rows,
                dout_rows,
                scratch,
            )
            curves[e, 1] = test[0]
            curves[e, 2] = test[1] if classify else np.nan
        if not np.isfinite(value):
            return t
        if t == steps:
            break
        optimizer_step(opt, params, grads, state_m, state_v, t + 1, lr, mu, beta2, eps)
    return -1


@jit
def dataset_loss(widths, params, w_off, b_off, act, a, exact, loss, x, y, acts, ders, h, out, dout, scratch):
    """The loss over all rows of ``x`` (weighted by rows, in chunks of the batch) and the fraction of
    rows predicted correctly (:func:`correct_predictions`)."""
    batch = out.shape[0]
    n = x.shape[0]
    total = 0.0
    correct = 0
    for start in range(0, n, batch):
        r = min(batch, n - start)
        o = out[:r]
        forward(widths, params, w_off, b_off, act, a, exact, x[start : start + r], acts, ders, h, o, scratch)
        total += loss_and_gradient(loss, o, y[start : start + r], dout[:r]) * r
        correct += correct_predictions(o, y[start : start + r])
    return total / n, correct / n


@pjit
def train_networks(
    nets_int,
    nets_real,
    seeds,
    trials,
    widths,
    initial,
    params,
    state_m,
    state_v,
    x_train,
    y_train,
    x_test,
    y_test,
    classify,
    curves,
    layers,
    diverged,
):
    """Train many networks in parallel, one thread per network.

    Parameters
    ----------
    nets_int : int64 array (n_networks, len(TRAIN_INT))
    nets_real : float64 array (n_networks, len(TRAIN_REAL))
    seeds, trials : uint64 arrays (n_networks,)
        The random stream of each network's minibatch order.
    widths : int64 array
        Every network's widths ``n0, n1, ..., nD, n_out`` from its ``width_offset``.
    initial : float32 or float64 array
        Every network's initial parameters from its ``param_offset`` (the module's layout); the
        dtype is the computation dtype.
    params, state_m, state_v : arrays like ``initial``
        A copy of ``initial``, trained in place; the optimizer state, zeros.
    x_train, y_train, x_test, y_test : arrays of ``initial``'s dtype (rows, n0) and (rows, n_out)
        The task, shared by every network (one-hot rows for classification).
    classify : bool
        Report test accuracy (else NaN).
    curves : float64 array (n_networks, n_evals, 3), NaN on entry
    layers : float64 array (n_networks, n_evals, max layers, 4), NaN on entry
    diverged : int64 array (n_networks,)
        The step at which a network's loss first was not finite, or -1.
    """
    for v in prange(nets_int.shape[0]):
        ints = nets_int[v]
        depth = ints[T_DEPTH]
        wo = ints[T_WIDTH]
        ww = widths[wo : wo + depth + 2]
        po = ints[T_PARAM]
        n_par = parameter_offsets(ww)[2]
        n_ev = n_evaluations(ints[T_STEPS], ints[T_EVAL])
        diverged[v] = train_network(
            ints,
            nets_real[v],
            seeds[v],
            trials[v],
            ww,
            initial[po : po + n_par],
            params[po : po + n_par],
            state_m[po : po + n_par],
            state_v[po : po + n_par],
            x_train,
            y_train,
            x_test,
            y_test,
            classify,
            curves[v, :n_ev],
            layers[v, :n_ev, : depth + 1],
        )
    return diverged
