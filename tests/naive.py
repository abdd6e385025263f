"""Slow, obviously correct NumPy references for every kernel."""
from __future__ import annotations

import math

import numpy as np

M32 = 0xFFFFFFFF


def philox(c, k):
    """Philox4x32-10 on Python ints (Random123's reference algorithm)."""
    c, k = list(c), list(k)
    for r in range(10):
        if r:
            k = [(k[0] + 0x9E3779B9) & M32, (k[1] + 0xBB67AE85) & M32]
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & M32, (p0 >> 32) ^ c[3] ^ k[1], p0 & M32]
    return c


def words(seed, trial, tensor, block, draw=0, sub=0):
    return philox([block & M32, (draw << 8) | sub, tensor, trial], [seed & M32, seed >> 32])


def word(seed, trial, tensor, e, draw=0, sub=0):
    return words(seed, trial, tensor, e // 4, draw, sub)[e % 4]


def uniforms(seed, trial, tensor, n):
    return np.array([(word(seed, trial, tensor, e) + 0.5) * 2.0 ** -32 for e in range(n)])


def _tables():
    # Marsaglia & Tsang (2000), 256 layers, 23-bit positions (NumPy's float32 constants r, v)
    n, r, v, m = 256, 3.6541528853610088, 0.00492867323399, 2.0 ** 23
    k, w, f = [0] * n, [0.0] * n, [0.0] * n
    dn = tn = r
    q = v / math.exp(-0.5 * dn * dn)
    k[0], w[0], w[-1], f[0], f[-1] = int(dn / q * m), q / m, dn / m, 1.0, math.exp(-0.5 * dn * dn)
    for i in range(n - 2, 0, -1):
        dn = math.sqrt(-2 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1], tn, f[i], w[i] = int(dn / tn * m), dn, math.exp(-0.5 * dn * dn), dn / m
    return k, w, f, r


K, W, F, R = _tables()


def normal(seed, trial, tensor, e, draw=0):
    """The ziggurat, written out: one word per try; sub-words for wedge and tail tests."""
    sub = 0
    def uni(s):
        return (word(seed, trial, tensor, e, draw, s) + 0.5) * 2.0 ** -32
    w = word(seed, trial, tensor, e, draw, 0)
    while True:
        idx, sign, pos = w & 0xFF, (w >> 8) & 1, w >> 9
        x = -pos * W[idx] if sign else pos * W[idx]
        if pos < K[idx]:
            return x
        if idx == 0:
            while True:
                xx, yy = -math.log(uni(sub + 1)) / R, -math.log(uni(sub + 2))
                sub += 2
                if 2 * yy > xx * xx:
                    return -(R + xx) if sign else R + xx
        sub += 1
        if (F[idx - 1] - F[idx]) * uni(sub) + F[idx] < math.exp(-0.5 * x * x):
            return x
        sub += 1
        w = word(seed, trial, tensor, e, draw, sub)


def normals(seed, trial, tensor, n):
    return np.array([normal(seed, trial, tensor, e) for e in range(n)])


def act(name, x, a=0.0):
    """phi and phi' in plain NumPy."""
    from scipy.special import erf, expit
    if name == "linear":
        return x, np.ones_like(x)
    if name == "relu":
        return np.maximum(x, 0), (x > 0).astype(x.dtype)
    if name == "leaky_relu":
        return np.where(x > 0, x, a * x), np.where(x > 0, 1.0, a)
    if name == "tanh":
        return np.tanh(x), 1 - np.tanh(x) ** 2
    if name == "sigmoid":
        s = expit(x)
        return s, s * (1 - s)
    if name == "softsign":
        return x / (1 + abs(x)), 1 / (1 + abs(x)) ** 2
    if name == "hard_tanh":
        return np.clip(x, -1, 1), ((x > -1) & (x < 1)).astype(x.dtype)
    if name == "elu":
        return np.where(x > 0, x, a * np.expm1(x)), np.where(x > 0, 1.0, a * np.exp(x))
    if name == "selu":
        al, la = 1.6732632423543772, 1.0507009873554805
        return la * np.where(x > 0, x, al * np.expm1(x)), la * np.where(x > 0, 1.0, al * np.exp(x))
    if name == "gelu":
        pdf = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        return 0.5 * x * (1 + erf(x / math.sqrt(2))), 0.5 * (1 + erf(x / math.sqrt(2))) + x * pdf
    if name == "erf":
        return erf(x), 2 / math.sqrt(math.pi) * np.exp(-x * x)
    if name == "gelu_tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x ** 3))
        return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * k * (1 + 3 * 0.044715 * x ** 2)
    if name == "silu":
        s = expit(x)
        return x * s, s + x * s * (1 - s)
    if name == "softplus":
        return np.logaddexp(0, x), expit(x)
    raise KeyError(name)


def distinct_units(w, b):
    """Distinct (incoming weights, bias) columns of a layer (its activations follow from them)."""
    return np.unique(np.vstack([w, b[None]]), axis=1).shape[1]


def network(weights, biases, x0, name, a=0.0, grad_seed=None, loss="probe", paired=False, sat=0.0):
    """Per-layer statistics of one network, written out layer by layer with NumPy."""
    rows = []
    hs, xs, ds = [], [x0], []
    x = x0
    jac = np.eye(x0.shape[1])
    for w, b in zip(weights, biases):
        h = x @ w + b
        x, d = act(name, h, a)
        hs.append(h), xs.append(x), ds.append(d)
        jac = (d[0][:, None] * w.T) @ jac
        sv = np.linalg.svd(jac, compute_uv=False)
        r = dict(preact_mean=h.mean(), preact_var=h.var(), preact_sq=(h ** 2).mean(), act_mean=x.mean(),
                 act_var=x.var(), act_sq=(x ** 2).mean(), frac_saturated=(abs(d) < sat).mean(),
                 frac_zero=(x == 0).mean(), nonfinite=(~np.isfinite(h)).sum() + (~np.isfinite(x)).sum(),
                 distinct_units=distinct_units(w, b),
                 jac_sq_mean=(sv ** 2).mean(), jac_sq_var=(sv ** 2).var(), jac_min=sv.min(), jac_max=sv.max())
        if paired:
            ha, hb = h[0::2], h[1::2]
            r["pair_corr"] = np.mean((ha * hb).sum(1) / np.sqrt((ha ** 2).sum(1) * (hb ** 2).sum(1)))
        rows.append(r)
    if grad_seed is not None:
        g = grad_seed if loss == "probe" else xs[-1] - grad_seed
        delta = g * ds[-1]
        for l in range(len(weights) - 1, -1, -1):
            rows[l]["delta_sq"] = (delta ** 2).mean()
            rows[l]["grad_w_norm"] = np.linalg.norm(xs[l].T @ delta)
            if l:
                delta = (delta @ weights[l].T) * ds[l - 1]
    return rows


def loss_value(weights, biases, x0, name, a, grad_seed, loss="probe"):
    x = x0
    for w, b in zip(weights, biases):
        x = act(name, x @ w + b, a)[0]
    return (grad_seed * x).sum() if loss == "probe" else 0.5 * ((x - grad_seed) ** 2).sum()


def weight_gradients(weights, biases, x0, name, a, grad_seed, loss="probe"):
    """dloss/dW^l for every layer, by the chain rule written out."""
    xs, ds = [x0], []
    x = x0
    for w, b in zip(weights, biases):
        x, d = act(name, x @ w + b, a)
        xs.append(x), ds.append(d)
    g = grad_seed if loss == "probe" else xs[-1] - grad_seed
    delta = g * ds[-1]
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grads[l] = xs[l].T @ delta
        if l:
            delta = (delta @ weights[l].T) * ds[l - 1]
    return grads


def truncated(seed, trial, tensor, e, lo, hi):
    """The element's standard normal conditioned on [lo, hi]: its draw 0 if inside; otherwise, for
    intervals of probability >= 1e-3, the first of draws 1, 2, ... inside, and for smaller ones the
    inverse CDF (scipy's) of the uniform at draw 1."""
    from scipy.special import ndtr
    from scipy.stats import truncnorm
    z = normal(seed, trial, tensor, e)
    if lo <= z <= hi:
        return z
    if ndtr(hi) - ndtr(lo) >= 1e-3:
        draw = 1
        while not lo <= (z := normal(seed, trial, tensor, e, draw)) <= hi:
            draw += 1
        return z
    return float(truncnorm(lo, hi).ppf((word(seed, trial, tensor, e, 1) + 0.5) * 2.0 ** -32))



def truncated_partial(lo, hi, x0, x1, k=0, c=0.0):
    """The integral of (x - c)^k phi(x) over [x0, x1] (inside [lo, hi]), divided by phi(s) for s
    the point of [lo, hi] nearest 0: quadrature in x - s, stable however far out."""
    from scipy.integrate import quad
    if hi <= 0:
        return (-1) ** k * truncated_partial(-hi, -lo, -x1, -x0, k, -c)
    s = max(lo, 0.0)
    return quad(lambda t: (t + s - c) ** k * math.exp(-s * t - 0.5 * t * t), x0 - s, x1 - s,
                epsabs=0, epsrel=1e-13, limit=200)[0]


def truncated_cdf(x, lo, hi):
    """P(Z <= x) for Z ~ N(0, 1) given lo <= Z <= hi, vectorised, to about 1e-13 absolute
    (log-space tails; erf, accurate relative to its argument, around 0)."""
    from scipy.special import erf, log_ndtr
    x = np.asarray(x, dtype=np.float64)
    if hi <= 0:
        return 1 - truncated_cdf(-x, -hi, -lo)
    if lo < 0:
        e_lo, e_x, e_hi = (erf(v / math.sqrt(2)) for v in (lo, x, hi))
        return (e_x - e_lo) / (e_hi - e_lo)
    la, lx, lb = (log_ndtr(-v) for v in (lo, x, hi))    # log P(Z > v)
    return np.expm1(lx - la) / np.expm1(lb - la)


# ---- training ------------------------------------------------------------------------------------

def epoch_order(seed, trial, epoch, n):
    """Training rows in the order of an epoch: Fisher-Yates, position i (from n - 1 down to 1) swapped
    with floor(u_i (i + 1)), u_i the uniforms of ORDER_TENSOR + epoch."""
    from fastinit.rng import ORDER_TENSOR
    u = uniforms(seed, trial, ORDER_TENSOR + epoch, n)
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(u[i] * (i + 1))
        order[i], order[j] = order[j], order[i]
    return np.array(order)


def train_loss(out, y, loss):
    """The loss of readout ``out`` against ``y`` and its gradient with respect to ``out`` (PyTorch's
    MSELoss / CrossEntropyLoss with mean reduction, written out)."""
    if loss == "mse":
        r = out - y
        return float(np.mean(r * r)), 2 * r / r.size
    z = out - out.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-(y * logp).sum(axis=1).mean()), (p - y) / out.shape[0]


def train_forward(layers, x, name, a):
    """Activations (inputs of every layer), derivatives of the hidden layers, and the readout."""
    xs, ds = [x], []
    for w, b in layers[:-1]:
        y, d = act(name, xs[-1] @ w + b, a)
        xs.append(y)
        ds.append(d)
    w, b = layers[-1]
    return xs, ds, xs[-1] @ w + b


def train_gradients(layers, x, y, name, a, loss):
    """Loss, per-layer (dW, db) and per-layer deltas of one minibatch, by the chain rule."""
    xs, ds, out = train_forward(layers, x, name, a)
    value, delta = train_loss(out, y, loss)
    grads, deltas = [None] * len(layers), [None] * len(layers)
    for l in range(len(layers) - 1, -1, -1):
        grads[l] = (xs[l].T @ delta, delta.sum(axis=0))
        deltas[l] = delta
        if l:
            delta = (delta @ layers[l][0].T) * ds[l - 1]
    return value, grads, deltas


def optimizer_update(p, g, state, t, optimizer, lr, momentum=0.9, betas=(0.9, 0.999), eps=1e-8):
    """One torch.optim step on array ``p`` (returned updated; ``state`` a dict kept by the caller)."""
    if optimizer == "sgd":
        return p - lr * g
    if optimizer in ("momentum", "nesterov"):
        m = g if "m" not in state else momentum * state["m"] + g
        state["m"] = m
        return p - lr * (g + momentum * m if optimizer == "nesterov" else m)
    b1, b2 = betas
    m = state.get("m", 0 * g) * b1 + (1 - b1) * g
    v = state.get("v", 0 * g) * b2 + (1 - b2) * g * g
    state["m"], state["v"] = m, v
    mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return p - lr * mhat / (np.sqrt(vhat) + eps)


def train(layers, x_train, y_train, x_test, y_test, name, a, *, loss, optimizer, lr, steps, batch, seed,
          trial=0, eval_every=1, classify=False, **hyper):
    """Train one network in float64, the slow obvious way. ``layers``: [(W, b), ...], the readout last.
    Returns (curves, layer_rows, diverged_step): curves rows (step, train_loss, test_loss, test_accuracy),
    layer_rows {step: [(grad_w_norm, delta_sq, distinct_units, weight_change) per layer]}."""
    layers = [(np.array(w, float), np.array(b, float)) for w, b in layers]
    w0 = [w.copy() for w, _ in layers]
    states = [({}, {}) for _ in layers]
    per_epoch = len(x_train) // batch
    curves, layer_rows = [], {}
    order = None
    for t in range(steps + 1):
        if t % per_epoch == 0:
            order = epoch_order(seed, trial, t // per_epoch, len(x_train))
        rows = order[(t % per_epoch) * batch:(t % per_epoch + 1) * batch]
        value, grads, deltas = train_gradients(layers, x_train[rows], y_train[rows], name, a, loss)
        if t % eval_every == 0 or t == steps:
            _, _, out_tr = train_forward(layers, x_train, name, a)
            _, _, out_te = train_forward(layers, x_test, name, a)
            acc = float(np.mean(out_te.argmax(1) == y_test.argmax(1))) if classify else np.nan
            curves.append((t, train_loss(out_tr, y_train, loss)[0], train_loss(out_te, y_test, loss)[0], acc))
            layer_rows[t] = [
                (float(np.linalg.norm(gw)), float(np.mean(d * d)), distinct_units(w, b),
                 float(np.linalg.norm(w - w00) / np.linalg.norm(w00)) if np.any(w00) else np.nan)
                for (gw, _), d, (w, b), w00 in zip(grads, deltas, layers, w0)
            ]
        if not np.isfinite(value):
            return np.array(curves), layer_rows, t
        if t == steps:
            break
        new = []
        for (w, b), (gw, gb), (sw, sb) in zip(layers, grads, states):
            new.append((optimizer_update(w, gw, sw, t + 1, optimizer, lr, **hyper),
                        optimizer_update(b, gb, sb, t + 1, optimizer, lr, **hyper)))
        layers = new
    return np.array(curves), layer_rows, -1
