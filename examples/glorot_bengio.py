"""Glorot & Bengio (2010): "standard" U[-1/sqrt(n), 1/sqrt(n)] against "normalized" (Glorot)
initialization in 5 hidden layers of 1000 units with tanh, softsign and sigmoid, inputs U[0, 1]."""
from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

import fastinit as fi  # noqa: E402
from fastinit.activations import evaluate  # noqa: E402
from fastinit.kernels import fill_uniform  # noqa: E402
from fastinit.rng import INPUT_TENSOR  # noqa: E402

TITLE = "Glorot & Bengio 2010: standard vs normalized initialization"


def inits(n):
    return {"standard": {"name": "random_uniform", "minval": -1 / math.sqrt(n), "maxval": 1 / math.sqrt(n)},
            "normalized": "glorot_uniform"}


def layer_jacobian_mean_sv(init, act, n, depth, seed=0):
    """Mean singular value of each layer Jacobian d x^l / d x^{l-1} at the first input."""
    x = fill_uniform(np.empty(n), seed, 0, INPUT_TENSOR)   # row 0 of the simulated U[0, 1] batch
    out = []
    for l in range(1, depth + 1):
        w = fi.initialize(init, (n, n), seed=seed, tensor_id=l, dtype="float64")
        h = x @ w
        d = evaluate(act, h, 1)
        out.append(np.linalg.svd(d[:, None] * w.T, compute_uv=False).mean())
        x = evaluate(act, h)
    return np.array(out)


def run(quick=False):
    n, depth, batch = (200, 5, 64) if quick else (1000, 5, 256)
    data = {}
    for act in ("tanh", "softsign", "sigmoid"):
        for label, init in inits(n).items():
            df = fi.simulate(init, act, depth=depth, width=n, batch=batch, input="uniform01")
            data[(act, label)] = (df, layer_jacobian_mean_sv(init, act, n, depth))
    checks = []
    # per-layer factor of the back-propagated gradient variance (geometric mean over layers)
    factor = {
        k: (v[0]["delta_sq"].iloc[0] / v[0]["delta_sq"].iloc[-1]) ** (1 / (depth - 1))
        for k, v in data.items()
    }
    checks.append(Check(
        "tanh: with standard init the back-propagated gradient variance shrinks toward the input by about "
        "n Var[W] = 1/3 per layer (Sec. 4.2.1), with normalized init far less (about constant)",
        "standard: factor ~1/3 per layer; normalized: much closer to 1",
        f"per-layer factor of delta_sq: standard {factor[('tanh', 'standard')]:.3f}, "
        f"normalized {factor[('tanh', 'normalized')]:.3f}",
        abs(factor[("tanh", "standard")] - 1 / 3) < 0.25 / 3 and
        factor[("tanh", "normalized")] > 2 * factor[("tanh", "standard")]))
    sv = {k: v[1].mean() for k, v in data.items()}
    checks.append(Check(
        "tanh: average singular value of the layer Jacobians (Sec. 4.2.2)",
        "about 0.8 normalized, about 0.5 standard",
        f"normalized {sv[('tanh', 'normalized')]:.3f}, standard {sv[('tanh', 'standard')]:.3f}",
        abs(sv[("tanh", "normalized")] - 0.8) < 0.1 and abs(sv[("tanh", "standard")] - 0.5) < 0.1))
    return checks, data


def plot(data):
    import matplotlib.pyplot as plt
    acts = ["tanh", "softsign", "sigmoid"]
    fig, axes = plt.subplots(3, 3, figsize=(13, 10))
    for j, act in enumerate(acts):
        for label, style in (("standard", "--"), ("normalized", "-")):
            df, sv = data[(act, label)]
            axes[0, j].plot(df["layer"], df["act_var"], style, marker="o", label=label)
            axes[1, j].plot(df["layer"], df["delta_sq"], style, marker="o", label=label)
            axes[2, j].plot(df["layer"], sv, style, marker="o", label=label)
        axes[0, j].set_title(f"{act}: activation variance")
        axes[1, j].set_title(f"{act}: back-propagated E[δ²]")
        axes[1, j].set_yscale("log")
        axes[2, j].set_title(f"{act}: mean singular value of layer Jacobian")
        for i in range(3):
            axes[i, j].set_xlabel("layer")
    axes[0, 0].legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main(TITLE, run, plot, "glorot_bengio"))
