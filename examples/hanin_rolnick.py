"""Hanin & Rolnick (2018): under He initialization a ReLU network preserves the mean squared
activation length, but its fluctuation across networks grows with beta = sum_j 1/n_j: deep
networks need width growing with depth. For ReLU, Var[log M] ~ 5 beta."""
from __future__ import annotations

import os
import sys

import numpy as np
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

import fastinit as fi  # noqa: E402

TITLE = "Hanin & Rolnick 2018: the spread of activation length grows with sum 1/n_j"


def per_layer_variance(n, samples=400_000, seed=0):
    """Var[log R] of one layer's length ratio R = (2/n) sum_i relu(z_i)^2, z ~ N(0, I_n), by Monte Carlo.

    With Gaussian weights the layers' ratios are independent, so Var[log M_L] = L Var[log R]
    exactly, finite width included; 5/n is its leading term."""
    z = np.random.default_rng(seed).standard_normal((samples, n))
    return np.log(2 / n * (np.maximum(z, 0) ** 2).sum(1)).var()


def run(quick=False):
    seeds = 150 if quick else 600
    spec = {"grid": {"depth": [4, 8, 16, 32], "width": [32, 64, 128, 256], "seed": list(range(seeds))},
            "settings": {"initializer": "kaiming_normal", "activation": "relu", "batch": 2, "input_corr": 1.0,
                         "backward": False}}  # two copies of one input: M of a single input
    df = fi.sweep(spec, progress=False)
    last = df[df["layer"] == df["depth"]]
    res = last.groupby(["depth", "width"])["act_sq"].agg(
        mean="mean", log_var=lambda v: np.log(v).var(ddof=1)).reset_index()
    res["beta"] = res["depth"] / res["width"]
    v = {n: per_layer_variance(n, 100_000 if quick else 400_000) for n in res["width"].unique()}
    res["exact"] = res["depth"] * res["width"].map(v)
    se = np.sqrt(2 / (seeds - 1))   # relative standard error of a sample variance
    rho = stats.spearmanr(res["beta"], res["log_var"]).statistic
    same = res[np.isclose(res["beta"], 0.125)]["log_var"].to_numpy()
    dev = (res["log_var"] / res["exact"] - 1).abs()
    wide = res[res["width"] == 256]
    lead = (wide["log_var"] / (5 * wide["beta"])).to_numpy()
    checks = [
        Check(
            "He init preserves the mean squared activation length",
            "E[M] = 1",
            f"mean over networks {res['mean'].min():.3f} to {res['mean'].max():.3f}",
            bool(np.all(np.abs(res["mean"] - 1) < 5 * np.sqrt((np.exp(res["exact"]) - 1) / seeds))),
        ),
        Check(
            "the spread of log M across networks increases with beta = sum 1/n_j",
            "monotone in beta",
            f"Spearman correlation {rho:.3f}",
            rho > 0.9,
        ),
        Check(
            "networks with equal beta have (nearly) equal spread, whatever their depth and width",
            "depends on beta only",
            f"Var log M at beta = 1/8 (depth/width 4/32 ... 32/256): {same.round(3)}",
            same.max() / same.min() < 1 + 6 * se,
        ),
        Check(
            "Var[log M] = L Var[log R_layer] (independent layers; finite width included)",
            "exact for Gaussian weights",
            f"largest relative deviation {dev.max():.3f} (statistical s.e. {se:.3f})",
            bool(dev.max() < 5 * se),
        ),
        Check(
            "leading order: Var[log M] ~ 5 beta",
            "ratio 1 for wide layers",
            f"Var log M / (5 beta) at width 256: {lead.round(3)}",
            bool(np.all(np.abs(lead - 1) < 0.05 + 4 * se)),
        ),
    ]
    return checks, res


def plot(res):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for depth, sub in res.groupby("depth"):
        ax.plot(sub["beta"], sub["log_var"], "o", label=f"depth {depth}")
    b = np.linspace(0, res["beta"].max(), 50)
    ax.plot(b, 5 * b, "k:", label="5 beta")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("beta = sum 1/n_j")
    ax.set_ylabel("Var log M over networks")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main(TITLE, run, plot, "hanin_rolnick"))
