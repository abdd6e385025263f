"""Side-by-side benchmark: fastinit against a plain PyTorch loop, a plain NumPy loop and the
machine's matrix-multiply limit, on the same workloads in one run (``fastinit bench``); and
training many small networks at once against PyTorch's ways of training many (``--suite``).

The peers are written the way a researcher writes them: one configuration at a time,
``torch.nn.init`` and autograd (PyTorch) or explicit backpropagation (NumPy), float32. Two PyTorch
loops: "same outputs" (Keras initializer semantics through ``trunc_normal_``, the six statistics
per layer fastinit reports) and "light loop" (``torch.nn.init``'s own initializers, one statistic
per layer and the weight-gradient norms: the least a PyTorch user would write).

fastinit's headline time is a *fresh* sweep: new seeds each repetition and the engine's caches
cleared before it (what a user's sweep meets); beside it the *repeat (cached)* time, the same
sweep run again at once with every cache hot.

Training (:func:`training_results`): the 1,152 networks of :func:`training_workload` trained by
one ``train_runs`` call (fresh, as above), against three PyTorch CPU peers written as a user would
(a stacked ``baddbmm`` ensemble per architecture, a ``torch.func`` vmap ensemble, a per-model
loop), each doing the same steps and evaluations, and against np.matmul's time for the same
products (6 batch n_in n_out flops per layer per step).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

import fastinit as fi

REFERENCE_INITS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "orthogonal",
                   {"name": "truncated_normal", "stddev": 0.05},
                   {"name": "random_uniform", "minval": -0.05, "maxval": 0.05}]
REFERENCE_ACTS = ["tanh", "relu", "sigmoid", "linear", "leaky_relu", "selu"]


def workloads(quick: bool) -> dict:
    """The three workloads of the performance issue (smaller with ``quick``)."""
    ref = {"grid": {"initializer": REFERENCE_INITS, "activation": REFERENCE_ACTS,
                    "depth": [2, 8] if quick else [2, 4, 8, 16, 32, 64], "width": [32, 128],
                    "seed": [0] if quick else [0, 1, 2]},
           "settings": {"batch": 64, "dtype": "float32", "backward": True}}
    wide = {"grid": {"initializer": ["he_normal"], "activation": ["relu"], "seed": [0, 1]},
            "settings": {"depth": 8 if quick else 32, "width": 256 if quick else 1024, "batch": 256}}
    n_seeds = 25 if quick else 500
    small = {"grid": {"initializer": REFERENCE_INITS, "activation": REFERENCE_ACTS[:5],
                      "seed": list(range(n_seeds))},
             "settings": {"depth": 16, "width": 16, "batch": 32}}
    return {"reference": ref, "wide": wide, "small-width": small}


def _configs(spec):
    from fastinit.sweep.plan import configs
    from fastinit.sweep.spec import load_spec
    return [c for _, c in configs(load_spec(spec))]


def _flops(cfgs) -> float:
    return sum(6.0 * c["batch"] * c["depth"] * c["width"] ** 2 for c in cfgs)


# ---------------------------------------------------------------------------------------------
#: Peer keys (in results and JSON) and the names the tables print.
PEER_NAMES = {"torch_same_outputs": "PyTorch (same outputs)", "torch_light_loop": "PyTorch (light loop)",
              "numpy": "NumPy loop"}


def _torch_acts(torch):
    return {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda h: h,
            "leaky_relu": torch.nn.functional.leaky_relu, "selu": torch.selu}


def _torch_peer():
    """PyTorch, same outputs: Keras initializer semantics (``trunc_normal_``) and the six
    statistics per layer that fastinit reports."""
    import torch
    nn = torch.nn.init
    T = 0.87962566103423978

    def trunc(w, std):
        return nn.trunc_normal_(w, 0.0, std, -2 * std, 2 * std)

    inits = {
        "glorot_uniform": nn.xavier_uniform_,
        "glorot_normal": lambda w: trunc(w, math.sqrt(2 / sum(w.shape)) / T),
        "he_uniform": lambda w: nn.kaiming_uniform_(w, nonlinearity="relu"),
        "he_normal": lambda w: trunc(w, math.sqrt(2 / w.shape[1]) / T),
        "lecun_normal": lambda w: trunc(w, math.sqrt(1 / w.shape[1]) / T),
        "orthogonal": nn.orthogonal_,
        "truncated_normal": lambda w: trunc(w, 0.05),
        "random_uniform": lambda w: nn.uniform_(w, -0.05, 0.05),
    }
    acts = _torch_acts(torch)

    def run(c):
        torch.manual_seed(c["seed"])
        n, L, B = c["width"], c["depth"], c["batch"]
        ws = []
        for _ in range(L):
            w = torch.empty(n, n)
            inits[fi.get_initializer(c["initializer"]).label](w)
            ws.append(w.requires_grad_())
        x = torch.randn(B, n)
        hs = []
        for w in ws:
            h = x @ w.T
            h.retain_grad()
            hs.append(h)
            x = acts[c["activation"]](h)
        (torch.randn(B, n) * x).sum().backward()
        rows = [torch.stack([h.mean(), h.var(), h.pow(2).mean(), (h == 0).float().mean(),
                             h.grad.pow(2).mean(), w.grad.norm()]) for h, w in zip(hs, ws)]
        return torch.stack(rows).detach().numpy()

    return run, torch


def _torch_light_peer():
    """PyTorch, light loop: ``torch.nn.init``'s own initializers (untruncated), the mean of h^2 per
    layer and the weight-gradient norms, autograd for the backward pass."""
    import torch
    nn = torch.nn.init
    inits = {
        "glorot_uniform": nn.xavier_uniform_,
        "glorot_normal": nn.xavier_normal_,
        "he_uniform": lambda w: nn.kaiming_uniform_(w, nonlinearity="relu"),
        "he_normal": lambda w: nn.kaiming_normal_(w, nonlinearity="relu"),
        "lecun_normal": lambda w: nn.kaiming_normal_(w, nonlinearity="linear"),
        "orthogonal": nn.orthogonal_,
        "truncated_normal": lambda w: nn.normal_(w, 0.0, 0.05),
        "random_uniform": lambda w: nn.uniform_(w, -0.05, 0.05),
    }
    acts = _torch_acts(torch)

    def run(c):
        torch.manual_seed(c["seed"])
        n, L, B = c["width"], c["depth"], c["batch"]
        init, act = inits[fi.get_initializer(c["initializer"]).label], acts[c["activation"]]
        ws = [init(torch.empty(n, n)).requires_grad_() for _ in range(L)]
        x = torch.randn(B, n)
        sq = []
        for w in ws:
            h = x @ w.T
            sq.append(h.detach().pow(2).mean())
            x = act(h)
        (torch.randn(B, n) * x).sum().backward()
        return torch.stack([torch.stack(sq), torch.stack([w.grad.norm() for w in ws])], 1).numpy()

    return run


def _numpy_peer():
    def trunc(rng, shape, std):
        w = rng.standard_normal(shape)
        bad = np.abs(w) > 2
        while bad.any():
            w[bad] = rng.standard_normal(bad.sum())
            bad = np.abs(w) > 2
        return w * std

    def ortho(rng, shape):
        q, r = np.linalg.qr(rng.standard_normal(shape))
        return q * np.sign(np.diag(r))

    T = 0.87962566103423978
    inits = {
        "glorot_uniform": lambda r, n: r.uniform(-math.sqrt(3 / n), math.sqrt(3 / n), (n, n)),
        "glorot_normal": lambda r, n: trunc(r, (n, n), math.sqrt(1 / n) / T),
        "he_uniform": lambda r, n: r.uniform(-math.sqrt(6 / n), math.sqrt(6 / n), (n, n)),
        "he_normal": lambda r, n: trunc(r, (n, n), math.sqrt(2 / n) / T),
        "lecun_normal": lambda r, n: trunc(r, (n, n), math.sqrt(1 / n) / T),
        "orthogonal": lambda r, n: ortho(r, (n, n)),
        "truncated_normal": lambda r, n: trunc(r, (n, n), 0.05),
        "random_uniform": lambda r, n: r.uniform(-0.05, 0.05, (n, n)),
    }
    al, la = 1.6732632423543772, 1.0507009873554805
    acts = {
        "tanh": lambda h: (np.tanh(h), 1 - np.tanh(h) ** 2),
        "relu": lambda h: (np.maximum(h, 0), (h > 0).astype(h.dtype)),
        "sigmoid": lambda h: ((s := 1 / (1 + np.exp(-h))), s * (1 - s)),
        "linear": lambda h: (h, np.ones_like(h)),
        "leaky_relu": lambda h: (np.where(h > 0, h, 0.01 * h), np.where(h > 0, 1, 0.01).astype(h.dtype)),
        "selu": lambda h: (la * np.where(h > 0, h, al * np.expm1(h)),
                           la * np.where(h > 0, 1, al * np.exp(h))),
    }

    def run(c):
        rng = np.random.default_rng(c["seed"])
        n, L, B = c["width"], c["depth"], c["batch"]
        ws = [inits[fi.get_initializer(c["initializer"]).label](rng, n).astype(np.float32) for _ in range(L)]
        x = rng.standard_normal((B, n), dtype=np.float32)
        xs, ds, stats = [x], [], []
        for w in ws:
            h = x @ w
            x, d = acts[c["activation"]](h)
            xs.append(x), ds.append(d)
            stats.append([h.mean(), h.var(), (h * h).mean(), (x == 0).mean()])
        delta = rng.standard_normal((B, n), dtype=np.float32) * ds[-1]
        for l in range(L - 1, -1, -1):
            stats[l] += [(delta * delta).mean(), np.linalg.norm(xs[l].T @ delta)]
            if l:
                delta = (delta @ ws[l].T) * ds[l - 1]
        return np.array(stats)

    return run


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_time(fn, repeats: int = 5, budget: float = 1.0) -> float:
    """The fastest of at least ``repeats`` runs of ``fn``, more while under ``budget`` seconds in
    all: on a shared machine the best run is the one that measures the code, not the neighbours."""
    times = [_time(fn)]
    while len(times) < repeats or sum(times) < budget:
        times.append(_time(fn))
    return min(times)


def matmul_gflops(batch: int, n: int, threads: int | None = None) -> float:
    """Measured float32 GFLOP/s of (batch, n) @ (n, n) on this machine."""
    a = np.random.default_rng(0).standard_normal((batch, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    out = np.empty((batch, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    reps, t = 1, 0.0
    while t < 0.1:
        reps *= 2
        t0 = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=out)
        t = time.perf_counter() - t0
    for _ in range(4):   # the best of five: the machine's rate, not its noise
        t0 = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=out)
        t = min(t, time.perf_counter() - t0)
    return 2.0 * batch * n * n * reps / t / 1e9


def shifted_seeds(spec: dict, k: int) -> dict:
    """``spec`` with every seed moved by ``k`` times a step above its largest seed (1000 for
    seeds below 1000): the same configurations, none of whose seeds ``k' != k`` uses."""
    grid, settings = dict(spec.get("grid", {})), dict(spec.get("settings", {}))
    seeds = list(grid["seed"]) if "seed" in grid else [settings.get("seed", 0)]
    step = 1000 * (max(seeds) // 1000 + 1)
    if "seed" in grid:
        grid["seed"] = [s + k * step for s in seeds]
    else:
        settings["seed"] = seeds[0] + k * step
    return {**spec, "grid": grid, "settings": settings}


def time_fastinit(name: str, spec: dict, repeats: int = 3) -> dict:
    """fastinit's time on one workload and its share of the matmul rate.

    Fresh (the headline): the best of ``repeats`` sweeps, each with its own seeds and the engine's
    caches cleared first, after one warm-up sweep (JIT compilation; seeds of its own). Repeat
    (cached): the last fresh sweep's spec run again at once, caches hot (best of ``repeats``)."""
    cfgs = _configs(spec)

    def fresh(k):
        s = shifted_seeds(spec, k)
        fi.clear_caches()
        return s, _time(lambda: fi.sweep(s, progress=False))

    fresh(0)                                         # warm-up: compiles, fills nothing we time
    times = [fresh(k) for k in range(1, repeats + 1)]
    t_fresh = min(t for _, t in times)
    last = times[-1][0]
    t_repeat = min(_time(lambda: fi.sweep(last, progress=False)) for _ in range(repeats))
    flops = _flops(cfgs)
    per_shape: dict = {}
    for c in cfgs:
        key = (c["batch"], c["width"])
        per_shape[key] = per_shape.get(key, 0.0) + 6.0 * c["batch"] * c["depth"] * c["width"] ** 2
    limit_time = sum(f / (matmul_gflops(*k) * 1e9) for k, f in per_shape.items())
    return {"workload": name, "configs": len(cfgs), "gflop": flops / 1e9,
            "fastinit_fresh_s": t_fresh, "fastinit_fresh_cfg_per_s": len(cfgs) / t_fresh,
            "fastinit_fresh_gflops": flops / t_fresh / 1e9, "fraction_of_matmul_fresh": limit_time / t_fresh,
            "fastinit_repeat_cached_s": t_repeat, "fastinit_repeat_cached_cfg_per_s": len(cfgs) / t_repeat,
            "fraction_of_matmul_repeat_cached": limit_time / t_repeat}


def time_peers(row: dict, spec: dict, peers: dict, peer_limit: int) -> dict:
    """Each peer's rate on an evenly spaced subset of at most ``peer_limit`` configurations (after
    one warm-up configuration), and fastinit's fresh rate over it."""
    cfgs = _configs(spec)
    for peer, fn in peers.items():
        sub = cfgs[:: max(1, len(cfgs) // peer_limit)][:peer_limit]
        fn(sub[0])
        t = _time(lambda fn=fn, sub=sub: [fn(c) for c in sub])
        row[f"{peer}_cfg_per_s"] = len(sub) / t
        row[f"{peer}_measured_on"] = len(sub)
        row[f"speedup_vs_{peer}"] = row["fastinit_fresh_cfg_per_s"] / row[f"{peer}_cfg_per_s"]
    return row


def kernel_row(width: int = 256, batch: int = 128, depth: int = 16, activation: str = "tanh") -> dict:
    """The forward+backward statistics kernel against np.matmul at the same shapes: one network
    per core (BLAS on one thread) against NumPy's matmul on all cores, and one network on one
    core against matmul on one core."""
    import numba
    from threadpoolctl import threadpool_limits

    from fastinit.engine import make_shape, make_variant, run_group, run_groups
    threads = numba.get_num_threads()
    groups = [(make_shape(depth, width, batch=batch, seed=s), [make_variant("he_normal", activation)])
              for s in range(threads)]
    run_groups(groups)
    flops = 6.0 * batch * width * width * depth
    t_all = best_time(lambda: run_groups(groups))
    t_one = best_time(lambda: run_group(*groups[0]))
    with threadpool_limits(1, user_api="blas"):
        mm_one = matmul_gflops(batch, width)
    mm_all = matmul_gflops(batch, width)
    return {"shape": f"width {width}, batch {batch}, depth {depth}, {activation}, float32",
            "kernel_gflops_all_cores": threads * flops / t_all / 1e9, "matmul_gflops_all_cores": mm_all,
            "fraction_all_cores": threads * flops / t_all / 1e9 / mm_all,
            "kernel_gflops_one_core": flops / t_one / 1e9, "matmul_gflops_one_core": mm_one,
            "fraction_one_core": flops / t_one / 1e9 / mm_one}


def sampling_row() -> dict:
    """Filling 4096 x 4096 float32 standard normals: fastinit on 1 and all threads vs NumPy."""
    import numba

    from fastinit.kernels import fill_normal
    out = np.empty(4096 * 4096, dtype=np.float32)
    fill_normal(out[:8], 0, 0, 1)
    gen = np.random.default_rng(0)
    t_np = min(_time(lambda: gen.standard_normal(out.size, dtype=np.float32)) for _ in range(3))
    n = numba.config.NUMBA_NUM_THREADS
    res = {"numpy_default_rng_s": t_np}
    for t in sorted({1, n}):
        numba.set_num_threads(t)
        res[f"fastinit_{t}_threads_s"] = min(_time(lambda: fill_normal(out, 0, 0, 1)) for _ in range(3))
        res[f"speedup_{t}_threads"] = t_np / res[f"fastinit_{t}_threads_s"]
    numba.set_num_threads(n)
    return res


def scaling_rows() -> list[dict]:
    """Time against configurations, depth and width (batch fixed at 64)."""
    rows = []
    base = {"initializer": ["he_normal"], "activation": ["tanh"]}
    cases = [("configs", {"seed": list(range(k))}, {"depth": 8, "width": 64}) for k in (16, 32, 64)] + \
            [("depth", {"seed": list(range(16))}, {"depth": d, "width": 64}) for d in (8, 16, 32)] + \
            [("width", {"seed": list(range(16))}, {"depth": 8, "width": w}) for w in (64, 128, 256)]
    for axis, grid, settings in cases:
        spec = {"grid": {**base, **grid}, "settings": {"batch": 64, **settings}}
        fi.sweep(spec, progress=False)
        t = min(_time(lambda spec=spec: fi.sweep(spec, progress=False)) for _ in range(3))
        n = len(grid["seed"])
        d, w = settings["depth"], settings["width"]
        rows.append({"axis": axis, "configs": n, "depth": d, "width": w, "seconds": t,
                     "seconds_per_config_layer_width2": t / (n * d * w ** 2)})
    return rows


def cold_start_row() -> dict:
    """Wall time of ``fastinit sweep examples/quick.toml``: first ever (empty JIT cache) and warm."""
    import tempfile
    spec = os.path.join(os.path.dirname(__file__), "..", "examples", "quick.toml")
    if not os.path.exists(spec):
        return {}
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": os.path.join(tmp, "cache")}
        for label in ("first_run_s", "warm_cache_s"):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "fastinit.cli", "sweep", spec,
                            "--out", os.path.join(tmp, label), "--quiet"], check=True, env=env)
            res[label] = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------------------------------------
# Training: many small MLPs trained at once (fastinit.engine.training.train_runs) against PyTorch.

#: The training workload of the issue: 8 initializers x 4 activations x 3 depths x 4 widths x 3
#: seeds = 1,152 networks, each 100 Adam steps of batch 64 on the teacher task, float32.
TRAIN_INITS = ["glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
               "orthogonal", "truncated_normal"]
TRAIN_ACTS = ["tanh", "relu", "sigmoid", "selu"]
#: ``make_task("teacher", **TRAIN_TASK)``: 16 input features, one target, the teacher's defaults
#: otherwise (2 tanh layers of 32 units, 2,048 training and 512 test rows, seed 0).
TRAIN_TASK = {"dim": 16, "n_out": 1}
#: Training peer keys and the names the tables print.
TRAIN_PEER_NAMES = {"torch_bmm": "PyTorch bmm ensemble", "torch_func": "PyTorch torch.func vmap",
                    "torch_loop": "PyTorch per-model loop"}


def training_workload(quick: bool) -> dict:
    """The grid (every combination is one network) and the settings of every run. ``eval_every``
    equal to ``steps``: the full training and test losses at steps 0 and ``steps`` only."""
    if quick:
        grid = {"initializer": ["glorot_uniform", "orthogonal"], "activation": ["tanh", "relu"],
                "depth": [2, 4], "width": [16, 32], "seed": [0]}
        steps = 20
    else:
        grid = {"initializer": TRAIN_INITS, "activation": TRAIN_ACTS, "depth": [2, 4, 8],
                "width": [16, 32, 64, 128], "seed": [0, 1, 2]}
        steps = 100
    return {"grid": grid, "settings": {"steps": steps, "batch": 64, "lr": 1e-3, "optimizer": "adam",
                                       "eval_every": steps, "dtype": "float32"}}


def training_configs(grid: dict) -> list[dict]:
    """Every combination of the grid, the last key varying fastest."""
    import itertools
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*grid.values())]


def _layer_shapes(c: dict, dim: int, n_out: int) -> list[tuple[int, int]]:
    sizes = [dim] + [c["width"]] * c["depth"] + [n_out]
    return list(zip(sizes[:-1], sizes[1:]))


def training_flops(cfgs, settings: dict, dim: int, n_out: int, rows: int) -> tuple[float, float]:
    """The training flops (6 batch n_in n_out per layer per step: forward and two backward
    products) and the evaluation flops (2 rows n_in n_out per layer, on every training and test
    row, at each evaluation) of the workload."""
    from fastinit.kernels.training import n_evaluations
    n_ev = n_evaluations(settings["steps"], settings["eval_every"])
    train = evaluate = 0.0
    for c in cfgs:
        per = sum(a * b for a, b in _layer_shapes(c, dim, n_out))
        train += 6.0 * settings["batch"] * per * settings["steps"]
        evaluate += 2.0 * rows * per * n_ev
    return train, evaluate


def _fastinit_runs(cfgs, task, settings: dict, shift: int) -> list:
    """The runs of ``cfgs`` with every seed moved by ``shift`` (validated by make_run, as a user's
    runs are)."""
    from fastinit.engine import make_variant
    from fastinit.engine.training import make_run
    variants: dict = {}
    out = []
    for c in cfgs:
        key = (c["initializer"], c["activation"])
        if key not in variants:
            variants[key] = make_variant(*key)
        out.append(make_run(variants[key], task, c["depth"], c["width"], seed=c["seed"] + shift, **settings))
    return out


def time_fastinit_training(cfgs, task, settings: dict, repeats: int, shift0: int, threads=None) -> dict:
    """Fresh training of ``cfgs``: the best of ``repeats`` calls, each on seeds of its own (new
    initial weights and minibatch orders) with the engine's caches cleared first, timing
    make_run and train_runs (on ``threads`` Numba threads; None: all). No cached repeat: the
    caches hold planning (orthogonal matrices, fill parameters), a fraction of a percent here."""
    from fastinit.engine.training import summarize, train_runs
    times = []
    for k in range(repeats):
        fi.clear_caches()
        t0 = time.perf_counter()
        runs = _fastinit_runs(cfgs, task, settings, shift0 + 1000 * (k + 1))
        done = train_runs(runs, task, threads=threads)
        times.append(time.perf_counter() - t0)
    return {"fresh_s": min(times), "fresh_all_s": times,
            "final_train_loss": [summarize(d)["final_train_loss"] for d in done]}


def _torch_train_inits(torch):
    """The eight initializers on a torch-layout (out, in) weight, Keras semantics (truncated
    normals cut at 2 standard deviations and rescaled, as fastinit's)."""
    nn = torch.nn.init
    T = 0.87962566103423978

    def trunc(w, std):
        return nn.trunc_normal_(w, 0.0, std, -2 * std, 2 * std)

    return {
        "glorot_normal": lambda w: trunc(w, math.sqrt(2 / sum(w.shape)) / T),
        "glorot_uniform": nn.xavier_uniform_,
        "he_normal": lambda w: trunc(w, math.sqrt(2 / w.shape[1]) / T),
        "he_uniform": lambda w: nn.kaiming_uniform_(w, nonlinearity="relu"),
        "lecun_normal": lambda w: trunc(w, math.sqrt(1 / w.shape[1]) / T),
        "lecun_uniform": lambda w: nn.kaiming_uniform_(w, nonlinearity="linear"),
        "orthogonal": nn.orthogonal_,
        "truncated_normal": lambda w: trunc(w, 0.05),
    }


def _torch_sequential(torch, c: dict, shapes, inits):
    """``nn.Sequential`` of Linear layers (torch.nn.init weights, zero biases), the activation
    between them, a linear readout."""
    mods = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "selu": torch.nn.SELU}
    layers = []
    for l, (n_in, n_out) in enumerate(shapes):
        lin = torch.nn.Linear(n_in, n_out)
        inits[c["initializer"]](lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers += [lin] if l == len(shapes) - 1 else [lin, mods[c["activation"]]()]
    return torch.nn.Sequential(*layers)


def _eval_after(t: int, s: dict) -> bool:
    """Whether the losses are evaluated after update ``t`` (0-based), as fastinit does at steps
    eval_every, 2 eval_every, ... and the last."""
    return (t + 1) % s["eval_every"] == 0 or t + 1 == s["steps"]


def _torch_bmm_peer(torch, adam: dict):
    """Models of one architecture (activation, depth, width) stacked: weights (models, in, out) and
    biases (models, 1, out), ``torch.baddbmm`` per layer, one autograd graph for the sum of the
    models' losses (so each model gets its own gradient), ``torch.optim.Adam`` (elementwise:
    each model its own Adam) on the stacked tensors. Each model draws its own minibatches."""
    inits, acts = _torch_train_inits(torch), _torch_acts(torch)

    def run(cfgs, data, s):
        xtr, ytr, xte, yte = data
        m, act = len(cfgs), acts[cfgs[0]["activation"]]
        shapes = _layer_shapes(cfgs[0], xtr.shape[1], ytr.shape[1])
        torch.manual_seed(cfgs[0]["seed"])
        ws = []
        for n_in, n_out in shapes:
            w = torch.empty(m, n_in, n_out)
            for k, c in enumerate(cfgs):
                w[k] = inits[c["initializer"]](torch.empty(n_out, n_in)).T
            ws.append(w.requires_grad_())
        bs = [torch.zeros(m, 1, n_out, requires_grad=True) for _, n_out in shapes]
        opt = torch.optim.Adam(ws + bs, lr=s["lr"], **adam)

        def forward(x):
            for l, (w, b) in enumerate(zip(ws, bs)):
                x = torch.baddbmm(b, x, w)
                if l < len(ws) - 1:
                    x = act(x)
            return x

        def evaluate():
            with torch.no_grad():
                return [((forward(x.expand(m, -1, -1)) - y) ** 2).mean(dim=(1, 2)) for x, y in
                        ((xtr, ytr), (xte, yte))]

        gens = [torch.Generator().manual_seed(c["seed"]) for c in cfgs]
        n, batch = xtr.shape[0], s["batch"]
        per_epoch = n // batch
        losses = evaluate()
        for t in range(s["steps"]):
            p = t % per_epoch
            if p == 0:
                order = torch.stack([torch.randperm(n, generator=g) for g in gens])
            rows = order[:, p * batch:(p + 1) * batch]
            loss = ((forward(xtr[rows]) - ytr[rows]) ** 2).mean(dim=(1, 2)).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if _eval_after(t, s):
                losses = evaluate()
        return losses[0].numpy()

    return run


def _torch_func_peer(torch, adam: dict):
    """``torch.func`` ensemble of one architecture: ``stack_module_state`` of the models'
    ``nn.Sequential``, ``vmap(grad(loss))`` over models with ``functional_call``, and
    ``torch.optim.Adam`` on the stacked parameters (their ``.grad`` set from vmap's)."""
    import copy

    from torch.func import functional_call, grad, stack_module_state, vmap
    inits = _torch_train_inits(torch)

    def run(cfgs, data, s):
        xtr, ytr, xte, yte = data
        shapes = _layer_shapes(cfgs[0], xtr.shape[1], ytr.shape[1])
        torch.manual_seed(cfgs[0]["seed"])
        models = [_torch_sequential(torch, c, shapes, inits) for c in cfgs]
        stacked, _ = stack_module_state(models)
        params = {k: v.detach() for k, v in stacked.items()}
        base = copy.deepcopy(models[0]).to("meta")

        def loss_fn(p, x, y):
            return ((functional_call(base, p, (x,)) - y) ** 2).mean()

        grads_of = vmap(grad(loss_fn))
        loss_of = vmap(loss_fn, in_dims=(0, None, None))
        opt = torch.optim.Adam(list(params.values()), lr=s["lr"], **adam)

        def evaluate():
            with torch.no_grad():
                return [loss_of(params, x, y) for x, y in ((xtr, ytr), (xte, yte))]

        gens = [torch.Generator().manual_seed(c["seed"]) for c in cfgs]
        n, batch = xtr.shape[0], s["batch"]
        per_epoch = n // batch
        losses = evaluate()
        for t in range(s["steps"]):
            p = t % per_epoch
            if p == 0:
                order = torch.stack([torch.randperm(n, generator=g) for g in gens])
            rows = order[:, p * batch:(p + 1) * batch]
            grads = grads_of(params, xtr[rows], ytr[rows])
            for k, v in params.items():
                v.grad = grads[k]
            opt.step()
            if _eval_after(t, s):
                losses = evaluate()
        return losses[0].numpy()

    return run


def _torch_loop_peer(torch, adam: dict):
    """One model at a time, as most training scripts are: ``nn.Sequential``, ``torch.optim.Adam``,
    ``F.mse_loss``, minibatches by indexing with a ``randperm`` per epoch."""
    inits = _torch_train_inits(torch)
    mse = torch.nn.functional.mse_loss

    def run(cfgs, data, s):
        xtr, ytr, xte, yte = data
        out = []
        for c in cfgs:
            torch.manual_seed(c["seed"])
            model = _torch_sequential(torch, c, _layer_shapes(c, xtr.shape[1], ytr.shape[1]), inits)
            opt = torch.optim.Adam(model.parameters(), lr=s["lr"], **adam)

            def evaluate(model=model):
                with torch.no_grad():
                    return [float(mse(model(x), y)) for x, y in ((xtr, ytr), (xte, yte))]

            g = torch.Generator().manual_seed(c["seed"])
            n, batch = xtr.shape[0], s["batch"]
            per_epoch = n // batch
            losses = evaluate()
            for t in range(s["steps"]):
                p = t % per_epoch
                if p == 0:
                    order = torch.randperm(n, generator=g)
                rows = order[p * batch:(p + 1) * batch]
                loss = mse(model(xtr[rows]), ytr[rows])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if _eval_after(t, s):
                    losses = evaluate()
            out.append(losses[0])
        return np.array(out)

    return run


def _pick_adam(torch) -> tuple[str, dict]:
    """The fastest of torch.optim.Adam's CPU implementations (for-loop, foreach, fused) on stacked
    tensors like the bmm ensemble's, for the stacked peers (they should be the best PyTorch has;
    the per-model loop keeps the default, as its users do)."""
    ps = [torch.zeros(24, 128, 128) for _ in range(4)]
    for p in ps:
        p.grad = torch.randn_like(p)
    best = None
    for name, opts in (("for-loop", {"foreach": False}), ("foreach", {"foreach": True}),
                       ("fused", {"fused": True})):
        try:
            opt = torch.optim.Adam(ps, lr=1e-3, **opts)
            opt.step()
            t = best_time(opt.step, repeats=20, budget=0.2)
        except (RuntimeError, TypeError):
            continue
        if best is None or t < best[0]:
            best = (t, name, opts)
    return best[1], best[2]


def _subset(units: list, key, per_stratum: int) -> list:
    """``per_stratum`` evenly spaced units of each stratum (``key(unit)``: (width, depth)), the
    offset turning with the stratum so that the subsets cover the other axes too."""
    strata: dict = {}
    for u in units:
        strata.setdefault(key(u), []).append(u)
    out = []
    for s, members in enumerate(strata.values()):
        n = len(members)
        k = min(per_stratum, n)
        out += [members[(i * n // k + s) % n] for i in range(k)]
    return out


def _torch_threads(torch, fn, unit, data, settings: dict) -> int:
    """The faster torch thread count, 1 or every core, for ``fn`` on ``unit`` (a short run of each,
    best of two): at these sizes every op is a parallel region, and on a busy machine two threads
    were 8-50x slower than one for the small widths, while a quiet machine may favour two at 128.
    Chosen once per width: where the machine's load changes during the run, the choice can turn
    out wrong (a 2-core machine shared with other jobs: use ``--train-threads 1``)."""
    short = {**settings, "steps": 8, "eval_every": 8}
    best = None
    for n in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(n)
        t = min(_time(lambda: fn(unit, data, short)) for _ in range(2))
        if best is None or t < best[0]:
            best = (t, n)
    return best[1]


def time_training_peer(torch, fn, units: list, data, settings: dict, threads=None) -> dict:
    """A peer's seconds and models per width over ``units`` (lists of configurations it trains in
    one call), on ``threads`` torch threads or (None) the count :func:`_torch_threads` picks for
    each width on its first unit (a warm-up too, untimed); and its final training losses."""
    per_width: dict = {}
    chosen: dict = {}
    losses, measured = [], []
    for u in units:
        w = u[0]["width"]
        if w not in chosen:
            if threads:
                torch.set_num_threads(threads)
                fn(u[:2], data, {**settings, "steps": 2, "eval_every": 2})
                chosen[w] = threads
            else:
                chosen[w] = _torch_threads(torch, fn, u, data, settings)
        torch.set_num_threads(chosen[w])
        t0 = time.perf_counter()
        out = fn(u, data, settings)
        t = time.perf_counter() - t0
        sec, models = per_width.get(w, (0.0, 0))
        per_width[w] = (sec + t, models + len(u))
        losses += list(out)
        measured += u
    torch.set_num_threads(os.cpu_count() or 1)
    return {"per_width": per_width, "threads": chosen, "final_train_loss": losses, "configs": measured}


def _layer_products(batch: int, n_in: int, n_out: int):
    """The three products of a layer's training step (forward, weight gradient, delta), as
    (a, b, out) arrays for np.matmul."""
    g = np.random.default_rng(0)
    x = g.standard_normal((batch, n_in), dtype=np.float32)
    w = g.standard_normal((n_in, n_out), dtype=np.float32)
    d = g.standard_normal((batch, n_out), dtype=np.float32)
    return [(x, w, np.empty((batch, n_out), np.float32)),
            (x.T, d, np.empty((n_in, n_out), np.float32)),
            (d, w.T, np.empty((batch, n_in), np.float32))]


def _loop_seconds(fn, target: float = 0.05) -> float:
    """Seconds per call of ``fn(reps)`` (a loop of ``reps`` products): the best of five timings of
    at least ``target`` seconds."""
    reps = 1
    while True:
        t = _time(lambda r=reps: fn(r))
        if t >= target:
            break
        reps *= 4 if t < target / 8 else 2
    return min([t] + [_time(lambda: fn(reps)) for _ in range(4)]) / reps


def matmul_layer_seconds(batch: int, n_in: int, n_out: int) -> dict:
    """Seconds of one layer's three training products (np.matmul, ``out=``, a Python loop) and of
    its forward product alone, BLAS on one thread."""
    from threadpoolctl import threadpool_limits
    prods = _layer_products(batch, n_in, n_out)

    def loop(which):
        def f(reps):
            for _ in range(reps):
                for a, b, out in which:
                    np.matmul(a, b, out=out)
        return f

    with threadpool_limits(1, user_api="blas"):
        return {"step": _loop_seconds(loop(prods)), "forward": _loop_seconds(loop(prods[:1]))}


def matmul_training_seconds(cfgs, settings: dict, dim: int, n_out: int, rows: tuple, threads: int) -> dict:
    """The time np.matmul takes for the workload's products: its training products (three per
    layer per step) and its evaluation products (forward, in chunks of the batch, on the
    ``rows`` = (training, test) rows at each evaluation): BLAS on one thread, the products divided
    among ``threads`` cores that each run their own (the limit for independent small products).
    np.matmul with BLAS's default threads is no limit here: at these shapes it was slower than one
    thread, up to 100x on a busy machine."""
    from fastinit.kernels.training import n_evaluations
    batch = settings["batch"]
    n_ev = n_evaluations(settings["steps"], settings["eval_every"])
    chunks = sum(math.ceil(r / batch) for r in rows)
    shapes = {s for c in cfgs for s in _layer_shapes(c, dim, n_out)}
    timing = {s: matmul_layer_seconds(batch, *s) for s in shapes}
    out = {"train_one_core_x_threads": 0.0, "eval_one_core_x_threads": 0.0}
    per_width: dict = {}
    for c in cfgs:
        for s in _layer_shapes(c, dim, n_out):
            tr = settings["steps"] * timing[s]["step"] / threads
            out["train_one_core_x_threads"] += tr
            out["eval_one_core_x_threads"] += n_ev * chunks * timing[s]["forward"] / threads
            per_width[c["width"]] = per_width.get(c["width"], 0.0) + tr
    out["train_one_core_x_threads_per_width"] = per_width
    return out


def training_results(quick: bool, use_torch: bool, peer_limit: int | None, threads: int | None = None,
                     repeats: int | None = None) -> dict:
    """The training benchmark: fastinit (the whole workload in one call, and each width alone,
    fresh), the PyTorch peers on evenly spaced subsets (at most ``peer_limit`` configurations
    each), and np.matmul's time for the same products. With ``threads``, fastinit, the peers and
    the matmul limit all run on that many cores (1: a per-core comparison, the steadiest on a busy
    machine); else fastinit on every core and each peer on its faster count per width."""
    import numba

    from fastinit.engine.training import train_runs
    from fastinit.tasks import make_task
    spec = training_workload(quick)
    s, cfgs, widths = spec["settings"], training_configs(spec["grid"]), spec["grid"]["width"]
    task = make_task("teacher", **TRAIN_TASK)
    dim, n_out = task.dim, task.n_out
    n_threads = min(threads, numba.config.NUMBA_NUM_THREADS) if threads else numba.get_num_threads()
    of_width = {w: [c for c in cfgs if c["width"] == w] for w in widths}
    res = {"workload": {"configs": len(cfgs), "grid": spec["grid"], "settings": s,
                        "task": f"teacher({TRAIN_TASK})", "threads": n_threads}}
    # compile (or load the on-disk cache) on a few runs of seeds no timed call uses
    train_runs(_fastinit_runs(cfgs[:: max(1, len(cfgs) // 4)][:4], task, s, 10 ** 6), task, threads=threads)
    # fastinit first: the peers' OpenMP pools keep spinning for a while after they ran
    whole = time_fastinit_training(cfgs, task, s, repeats or (1 if quick else 2), 0, threads)
    by_width = {w: time_fastinit_training(of_width[w], task, s, 1, 10 ** 5, threads)["fresh_s"]
                for w in widths}
    flops, eval_flops = training_flops(cfgs, s, dim, n_out, task.n_train + task.n_test)
    mm = matmul_training_seconds(cfgs, s, dim, n_out, (task.n_train, task.n_test), n_threads)
    fresh = whole["fresh_s"]
    fast_rate = {w: len(of_width[w]) * s["steps"] / t for w, t in by_width.items()}
    res["fastinit"] = {"fresh_s": fresh, "fresh_all_s": whole["fresh_all_s"],
                       "model_steps_per_s": len(cfgs) * s["steps"] / fresh,
                       "training_gflops": flops / fresh / 1e9,
                       "per_width_fresh_s": by_width, "per_width_model_steps_per_s": fast_rate}
    res["matmul"] = {**mm, "training_gflop": flops / 1e9, "evaluation_gflop": eval_flops / 1e9}
    one = mm["train_one_core_x_threads"]
    res["share_of_matmul"] = {"training products": one / fresh,
                              "training + evaluation products": (one + mm["eval_one_core_x_threads"]) / fresh}
    res["share_of_matmul_per_width"] = {w: mm["train_one_core_x_threads_per_width"][w] / by_width[w]
                                        for w in widths}
    res["peers"] = {}
    if not use_torch:
        return res
    import torch
    res["adam_implementation"], adam = _pick_adam(torch)
    data = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
            for a in (task.x_train, task.y_train, task.x_test, task.y_test)]
    groups: dict = {}
    for c in cfgs:
        groups.setdefault((c["activation"], c["depth"], c["width"]), []).append(c)
    groups_list = list(groups.values())
    n_strata = len(widths) * len(spec["grid"]["depth"])
    per_group = len(groups_list[0])
    limits = {"torch_bmm": len(cfgs), "torch_func": len(cfgs) // 4, "torch_loop": len(cfgs) // 12}
    limits = {k: min(v, peer_limit or v) for k, v in limits.items()}
    index = {id(c): i for i, c in enumerate(cfgs)}

    def stratum(c):
        return c["width"], c["depth"]

    makers = {"torch_bmm": _torch_bmm_peer, "torch_func": _torch_func_peer, "torch_loop": _torch_loop_peer}
    for name, make in makers.items():
        if name == "torch_loop":
            units = [[c] for c in _subset(cfgs, stratum, max(1, limits[name] // n_strata))]
        else:
            per = max(1, limits[name] // (per_group * n_strata))
            units = _subset(groups_list, lambda g: stratum(g[0]), per)
        fn = make(torch, {} if name == "torch_loop" else adam)
        r = time_training_peer(torch, fn, units, data, s, threads)
        pw = r["per_width"]
        rate = {w: models * s["steps"] / sec for w, (sec, models) in pw.items()}
        est = sum(len(of_width[w]) * s["steps"] / rate[w] for w in widths)   # at each width's rate
        res["peers"][name] = {
            "measured_on_configs": sum(m for _, m in pw.values()),
            "measured_s": sum(t for t, _ in pw.values()),
            "per_width_model_steps_per_s": rate, "per_width_torch_threads": r["threads"],
            "workload_estimate_s": est, "model_steps_per_s": len(cfgs) * s["steps"] / est,
            "speedup_fastinit_fresh": est / fresh,
            "per_width_speedup_fastinit_fresh": {w: fast_rate[w] / rate[w] for w in widths},
            "median_final_train_loss": float(np.median(r["final_train_loss"])),
            "fastinit_median_final_train_loss_same_configs":
                float(np.median([whole["final_train_loss"][index[id(c)]] for c in r["configs"]]))}
    return res


def _print_training(tr: dict) -> None:
    import pandas as pd
    w, f, mm = tr["workload"], tr["fastinit"], tr["matmul"]
    st = w["settings"]
    grid = ", ".join(f"{len(v)} {k}s" for k, v in w["grid"].items())
    print(f"\ntraining: {w['configs']} networks ({grid}), {st['steps']} {st['optimizer']} steps of batch "
          f"{st['batch']}, lr {st['lr']}, {st['dtype']}, {w['task']}; every network (peers too) is "
          f"evaluated on all training and test rows at steps 0 and {st['steps']} (eval_every "
          f"{st['eval_every']}).\nfastinit fresh = make_run + train_runs on new seeds, caches cleared "
          f"(whole workload: best of {len(f['fresh_all_s'])}; each width: one call), {w['threads']} Numba "
          f"threads. Stacked peers' Adam: {tr.get('adam_implementation', '-')}. share of np.matmul = "
          f"seconds np.matmul (one core) takes for the same products / {w['threads']} / fastinit seconds.")
    widths = list(f["per_width_model_steps_per_s"])
    rows = {"fastinit fresh: model-steps/s": f["per_width_model_steps_per_s"],
            "fastinit fresh: share of np.matmul": tr["share_of_matmul_per_width"]}
    whole = {"fastinit fresh: model-steps/s": f["model_steps_per_s"],
             "fastinit fresh: share of np.matmul": tr["share_of_matmul"]["training products"]}
    for k, p in tr["peers"].items():
        name = TRAIN_PEER_NAMES[k]
        rows[f"{name}: model-steps/s"] = p["per_width_model_steps_per_s"]
        rows[f"{name}: torch threads"] = p["per_width_torch_threads"]
        rows[f"speedup vs {name}"] = p["per_width_speedup_fastinit_fresh"]
        whole[f"{name}: model-steps/s"] = p["model_steps_per_s"]
        whole[f"speedup vs {name}"] = p["speedup_fastinit_fresh"]
    table = pd.DataFrame(rows).T[widths]
    table.columns = [f"width {c}" for c in widths]
    table["whole workload"] = pd.Series(whole)
    print(table.to_string(float_format=lambda v: f"{v:.4g}", na_rep="-"))
    print(f"fastinit: {f['fresh_s']:.3g} s fresh (calls: {', '.join(f'{t:.3g}' for t in f['fresh_all_s'])}); "
          f"{mm['training_gflop']:.4g} GFLOP of training products ({f['training_gflops']:.3g} GFLOP/s), "
          f"{mm['evaluation_gflop']:.4g} GFLOP of evaluation products")
    print("share of np.matmul over the whole workload:")
    for k, v in tr["share_of_matmul"].items():
        print(f"  {k}: {v:.3g}")
    if not tr["peers"]:
        print("(no PyTorch peers: torch not installed or --no-torch)")
        return
    print("peers: measured on evenly spaced configurations of each (width, depth), scaled to the workload "
          "by width;\nmedian final training loss, the peer's against fastinit's on the same configurations:")
    for k, p in tr["peers"].items():
        ours = p["fastinit_median_final_train_loss_same_configs"]
        print(f"  {TRAIN_PEER_NAMES[k]}: {p['measured_on_configs']} configs in {p['measured_s']:.3g} s; "
              f"{p['median_final_train_loss']:.4g} vs {ours:.4g}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fastinit bench`` and ``benchmarks/peers.py``."""
    p.add_argument("--quick", action="store_true", help="small workloads (a smoke run)")
    p.add_argument("--peer-limit", type=int, default=None,
                   help="most configurations a peer runs per workload")
    p.add_argument("--no-torch", action="store_true", help="compare with NumPy only")
    p.add_argument("--cold", action="store_true", help="also time cold and warm starts of the CLI")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON")
    p.add_argument("--suite", choices=("all", "statistics", "training"), default="all",
                   help="the statistics workloads, the training workload, or both (default)")
    p.add_argument("--train-threads", type=int, default=None, metavar="N",
                   help="training: fastinit, PyTorch and the matmul limit all on N cores (default: "
                        "fastinit on all, each peer on its faster of 1 and all)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="fastinit bench", description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with parsed options and print the tables."""
    suite = getattr(args, "suite", "all")
    limit = args.peer_limit or (50 if args.quick else 2000)
    peers = {"numpy": _numpy_peer()}
    have_torch = False
    if not args.no_torch:
        try:
            same, torch = _torch_peer()
            torch.set_num_threads(os.cpu_count() or 1)
            peers = {"torch_same_outputs": same, "torch_light_loop": _torch_light_peer(), **peers}
            have_torch = True
        except ImportError:
            print("(torch not installed: pip install 'fastinit[bench]'; comparing with NumPy only)")
    import platform
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, numba threads "
          f"{__import__('numba').config.NUMBA_NUM_THREADS}, python {platform.python_version()}")
    results: dict = {}
    if suite in ("all", "statistics"):
        # fastinit first: the peers' thread pools (OpenMP) keep spinning for a while after they ran
        specs = workloads(args.quick)
        rows = [time_fastinit(name, spec) for name, spec in specs.items()]
        results = {"peers": {k: PEER_NAMES[k] for k in peers}, "workloads": rows,
                   "kernel": [kernel_row(activation=a) for a in ("relu", "tanh")],
                   "sampling": sampling_row(), "scaling": [] if args.quick else scaling_rows()}
        for row, spec in zip(rows, specs.values()):
            time_peers(row, spec, peers, limit)
    if suite in ("all", "training"):
        time.sleep(1.0)   # let the statistics peers' thread pools go quiet
        results["training"] = training_results(args.quick, have_torch, args.peer_limit,
                                               getattr(args, "train_threads", None))
    if args.cold:
        results["cold_start"] = cold_start_row()
    _print(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def _label(names: dict):
    """The printed name of a workload-row key."""
    fixed = {"configs": "configs", "gflop": "GFLOP (6 batch width^2 per layer)",
             "fastinit_fresh_s": "fastinit fresh: seconds",
             "fastinit_fresh_cfg_per_s": "fastinit fresh: configs/s",
             "fastinit_fresh_gflops": "fastinit fresh: GFLOP/s",
             "fraction_of_matmul_fresh": "fastinit fresh: share of np.matmul",
             "fastinit_repeat_cached_s": "fastinit repeat (cached): seconds",
             "fastinit_repeat_cached_cfg_per_s": "fastinit repeat (cached): configs/s",
             "fraction_of_matmul_repeat_cached": "fastinit repeat (cached): share of np.matmul"}

    def label(key: str) -> str:
        if key in fixed:
            return fixed[key]
        for peer, name in names.items():
            if key == f"{peer}_cfg_per_s":
                return f"{name}: configs/s"
            if key == f"{peer}_measured_on":
                return f"{name}: measured on (configs)"
            if key == f"speedup_vs_{peer}":
                return f"speedup, fresh vs {name}"
        return key
    return label


def _print(results: dict) -> None:
    import pandas as pd
    pd.set_option("display.width", 200)
    if "workloads" in results:
        _print_statistics(results)
    if "training" in results:
        _print_training(results["training"])
    if results.get("cold_start"):
        print("\ncold start of `fastinit sweep examples/quick.toml` (seconds)")
        print(pd.Series(results["cold_start"]).to_string(float_format=lambda v: f"{v:.3g}"))


def _print_statistics(results: dict) -> None:
    import pandas as pd
    df = pd.DataFrame(results["workloads"]).set_index("workload")
    names = results.get("peers", PEER_NAMES)
    print("\nworkloads: fresh = new seeds and caches cleared before each sweep (best of 3 after a "
          "warm-up), the headline;\nrepeat (cached) = the same sweep again at once, caches hot; "
          "share of np.matmul = time the same flops take in np.matmul / fastinit time;\n"
          "speedups = fastinit fresh configs/s / the peer's, the peer run on the subset counted in "
          "'measured on'")
    print(df.rename(columns=_label(names)).T.to_string(float_format=lambda v: f"{v:.4g}"))
    print("\nforward+backward statistics kernel vs np.matmul (6 batch width^2 flops per layer)")
    print(pd.DataFrame(results["kernel"]).set_index("shape").T.to_string(float_format=lambda v: f"{v:.4g}"))
    print("\nsampling 4096x4096 float32 normals (seconds; speedup over numpy default_rng)")
    print(pd.Series(results["sampling"]).to_string(float_format=lambda v: f"{v:.4g}"))
    if results.get("scaling"):
        print("\nscaling (batch 64)")
        print(pd.DataFrame(results["scaling"]).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    sys.exit(main())
