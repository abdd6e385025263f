"""He et al. (2015): in a 30-layer ReLU network He initialization keeps the signal magnitude
constant while Xavier (Glorot) initialization halves it at every layer; with PReLU/leaky slope a
the condition becomes 1/2 (1 + a^2) n Var[w] = 1."""
from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

import fastinit as fi  # noqa: E402

TITLE = "He et al. 2015: Xavier vs He in 30-layer rectifier networks"
A = 0.25  # the PReLU slope He et al. initialise with


def _runs(init, act, n, seeds, batch):
    return np.array(
        [
            fi.simulate(init, act, depth=30, width=n, batch=batch, seed=s, backward=False)["preact_sq"]
            for s in range(seeds)
        ]
    )


def _within(values, target):
    """Mean within 4 standard errors of the target (fluctuations across networks are measured)."""
    se = values.std(ddof=1) / math.sqrt(len(values))
    return abs(values.mean() - target) <= 4 * se + 1e-3 * abs(target), values.mean(), se


def run(quick=False):
    n, seeds, batch = (256, 8, 16) if quick else (512, 16, 64)
    leaky = {"name": "leaky_relu", "negative_slope": A}
    data = {"He (relu)": _runs("he_normal", "relu", n, seeds, batch),
            "Xavier (relu)": _runs("glorot_normal", "relu", n, seeds, batch),
            f"He a={A} (leaky)": _runs({"name": "he_normal", "negative_slope": A}, leaky, n, seeds, batch),
            f"He a=0 (leaky {A})": _runs("he_normal", leaky, n, seeds, batch)}
    checks = []
    ok, m, se = _within(data["He (relu)"][:, -1] / data["He (relu)"][:, 0], 1.0)
    checks.append(Check("He init keeps E[h^2] constant over 30 ReLU layers", "ratio layer 30 / layer 1 = 1",
                        f"{m:.3f} +- {se:.3f} (mean +- s.e. over {seeds} networks)", ok))
    per_layer = (data["Xavier (relu)"][:, -1] / data["Xavier (relu)"][:, 0]) ** (1 / 29)
    ok, m, se = _within(per_layer, 0.5)
    checks.append(
        Check(
            "Xavier init halves E[h^2] at every ReLU layer (square layers)",
            "factor 1/2 per layer",
            f"{m:.4f} +- {se:.4f}",
            ok,
        )
    )
    r = data[f"He a={A} (leaky)"]
    ok, m, se = _within(r[:, -1] / r[:, 0], 1.0)
    checks.append(Check(f"PReLU (slope {A}): Var[w] = 2 / ((1 + a^2) n) keeps E[h^2] constant",
                        "ratio layer 30 / layer 1 = 1", f"{m:.3f} +- {se:.3f}", ok))
    r = data[f"He a=0 (leaky {A})"]
    per_layer = (r[:, -1] / r[:, 0]) ** (1 / 29)
    ok, m, se = _within(per_layer, (1 + A * A))
    checks.append(
        Check(
            f"ignoring the slope (Var[w] = 2/n) grows E[h^2] by (1 + a^2) = {1 + A * A} per layer",
            f"factor {1 + A * A} per layer",
            f"{m:.4f} +- {se:.4f}",
            ok,
        )
    )
    pred = fi.theory.predict("glorot_normal", "relu", depth=30, width=n)["preact_sq"].to_numpy()
    data["theory Xavier"] = pred[None, :]
    data["theory He"] = fi.theory.predict("he_normal", "relu", depth=30, width=n)["preact_sq"].to_numpy()[
        None, :
    ]
    return checks, data


def plot(data):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5))
    for label, runs in data.items():
        style = ":" if label.startswith("theory") else "-"
        ax.plot(np.arange(1, runs.shape[1] + 1), np.median(runs, 0), style, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("E[h²] (median over networks)")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main(TITLE, run, plot, "he_prelu"))
