"""Why initialization must be random: with a constant initializer every unit of a layer computes
the same function (one distinct unit per layer); a random initializer gives the full width. The
same seed reproduces a network exactly; another seed does not."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

import fastinit as fi  # noqa: E402

TITLE = "The symmetry argument at initialization"


def run(quick=False):
    n, depth = (32, 6) if quick else (128, 10)
    const = fi.simulate({"name": "constant", "value": 0.05}, "tanh", depth=depth, width=n, batch=16)
    rand = fi.simulate("glorot_uniform", "tanh", depth=depth, width=n, batch=16)
    again = fi.simulate("glorot_uniform", "tanh", depth=depth, width=n, batch=16)
    other = fi.simulate("glorot_uniform", "tanh", depth=depth, width=n, batch=16, seed=1)
    checks = [
        Check("a constant initializer makes all units of a layer identical", "1 distinct unit per layer",
              f"distinct units per layer: {sorted(set(const['distinct_units']))}",
              bool((const["distinct_units"] == 1).all())),
        Check("a random initializer breaks the symmetry", f"{n} distinct units per layer",
              f"distinct units per layer: {sorted(set(rand['distinct_units']))}",
              bool((rand["distinct_units"] == n).all())),
        Check("networks that start from the same weights are the same network", "identical statistics",
              f"identical: {rand.equals(again)}; another seed identical: {rand.equals(other)}",
              rand.equals(again) and not rand.equals(other)),
    ]
    return checks, {"constant": const, "random": rand}


def plot(data):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, df in data.items():
        ax.plot(df["layer"], df["distinct_units"], marker="o", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("distinct units")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main(TITLE, run, plot, "symmetry"))
