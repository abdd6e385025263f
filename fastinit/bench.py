"""Side-by-side benchmark: fastinit against a plain PyTorch loop, a plain NumPy loop and the
machine's matrix-multiply limit, on the same workloads in one run (``fastinit bench``).

The peers are written the way a researcher writes them: one configuration at a time,
``torch.nn.init`` and autograd (PyTorch) or explicit backpropagation (NumPy), float32. Two PyTorch
loops: "same outputs" (Keras initializer semantics through ``trunc_normal_``, the six statistics
per layer fastinit reports) and "light loop" (``torch.nn.init``'s own initializers, one statistic
per layer and the weight-gradient norms: the least a PyTorch user would write).

fastinit's headline time is a *fresh* sweep: new seeds each repetition and the engine's caches
cleared before it (what a user's sweep meets); beside it the *repeat (cached)* time, the same
sweep run again at once with every cache hot.
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


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fastinit bench`` and ``benchmarks/peers.py``."""
    p.add_argument("--quick", action="store_true", help="small workloads (a smoke run)")
    p.add_argument("--peer-limit", type=int, default=None,
                   help="most configurations a peer runs per workload")
    p.add_argument("--no-torch", action="store_true", help="compare with NumPy only")
    p.add_argument("--cold", action="store_true", help="also time cold and warm starts of the CLI")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="fastinit bench", description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with parsed options and print the tables."""
    limit = args.peer_limit or (50 if args.quick else 2000)
    peers = {"numpy": _numpy_peer()}
    if not args.no_torch:
        try:
            same, torch = _torch_peer()
            torch.set_num_threads(os.cpu_count() or 1)
            peers = {"torch_same_outputs": same, "torch_light_loop": _torch_light_peer(), **peers}
        except ImportError:
            print("(torch not installed: pip install 'fastinit[bench]'; comparing with NumPy only)")
    import platform
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, numba threads "
          f"{__import__('numba').config.NUMBA_NUM_THREADS}, python {platform.python_version()}")
    # fastinit first: the peers' thread pools (OpenMP) keep spinning for a while after they ran
    specs = workloads(args.quick)
    rows = [time_fastinit(name, spec) for name, spec in specs.items()]
    results = {"peers": {k: PEER_NAMES[k] for k in peers}, "workloads": rows,
               "kernel": [kernel_row(activation=a) for a in ("relu", "tanh")],
               "sampling": sampling_row(), "scaling": [] if args.quick else scaling_rows()}
    for row, spec in zip(rows, specs.values()):
        time_peers(row, spec, peers, limit)
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
    if results.get("cold_start"):
        print("\ncold start of `fastinit sweep examples/quick.toml` (seconds)")
        print(pd.Series(results["cold_start"]).to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    sys.exit(main())
