"""Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural networks"
(AISTATS), Sec. 4.2 and 5: with 5 hidden layers of 1000 tanh (or softsign) units, the normalized
initialization W ~ U[-sqrt(6 / (n_in + n_out)), +sqrt(6 / (n_in + n_out))] trains faster than the
"standard" W ~ U[-1 / sqrt(n_in), +1 / sqrt(n_in)], whose variance 1 / (3 n_in) shrinks the forward signal
and the back-propagated gradients by about 1/3 per layer.

Setting here: scikit-learn's digits (64 features, 10 classes, cross-entropy), 5 hidden layers of ``width``
units (1000 full, 100 quick), a linear readout, zero biases, plain SGD with batch 64 (the paper used
SGD with minibatches of 10 on Shapeset, MNIST and CIFAR-10). Normalized is ``glorot_uniform``; standard is
``variance_scaling`` with scale 1/3, fan_in, uniform, which is exactly U[-1 / sqrt(n_in), 1 / sqrt(n_in)]
for every layer's own fan-in (the first layer has 64 inputs, not ``width``). Each (activation,
initializer) gets the learning rate of a small grid that gives it the lowest median training loss after
the budget; the claim is read on the medians over seeds at those rates:

* normalized's training loss after the budget is below 0.5 x standard's, for tanh and for softsign.

At the best rates both eventually fit digits; the gap is in speed (the curves in the figure). Quick:
width 100, 150 steps, 4 rates (0.1 to 3), 3 seeds (~20 s after compilation); full: width 1000, 300 steps,
the same rates and seeds (about an hour on 2 cores).

Measured (quick, width 100, 150 steps): tanh normalized 0.0061 (lr 1) vs standard 0.071 (lr 0.3), ratio
0.09; softsign 0.0078 (lr 1) vs 0.058 (lr 1), ratio 0.13. Standard needs a smaller rate for tanh
(lr 1 gives 2.7) and is slower at every rate of the grid.

Measured at width 300 (the full settings otherwise: 300 steps, 3 seeds; 2 minutes): normalized is
lower at every rate where either trains (tanh at lr 1 and 3 fails for both), but the gap narrows as
both fit digits: tanh 0.0033 vs 0.0076 (lr 0.3 both), ratio 0.43, PASS; softsign 0.0017 vs 0.0026
(lr 1 both), ratio 0.62, FAIL of the 0.5 margin. The full width 1000 was not run (about an hour on 2
cores); expect the same or a narrower gap there, so the full run may FAIL on softsign.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

from fastinit.engine import make_variant  # noqa: E402
from fastinit.engine.training import make_run, train_runs  # noqa: E402
from fastinit.tasks import make_task  # noqa: E402

TITLE = "Glorot & Bengio 2010: normalized init trains a 5-layer tanh/softsign MLP faster than standard"
INITS = {
    "normalized": "glorot_uniform",
    "standard": {"name": "variance_scaling", "scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"},
}
ACTS = ("tanh", "softsign")
DEPTH = 5


def settings(quick):
    if quick:
        return dict(width=100, steps=150, lrs=[0.1, 0.3, 1.0, 3.0], seeds=[0, 1, 2])
    return dict(width=1000, steps=300, lrs=[0.1, 0.3, 1.0, 3.0], seeds=[0, 1, 2])


def run(quick=False):
    s = settings(quick)
    task = make_task("digits")
    runs, keys = [], []
    for act in ACTS:
        for label, init in INITS.items():
            variant = make_variant(init, act, "zeros")
            for lr in s["lrs"]:
                for seed in s["seeds"]:
                    runs.append(make_run(variant, task, DEPTH, s["width"], seed=seed, dtype="float32",
                                         steps=s["steps"], lr=lr, optimizer="sgd", batch=64,
                                         eval_every=max(1, s["steps"] // 15)))
                    keys.append((act, label, lr, seed))
    trained = dict(zip(keys, train_runs(runs, task)))

    med = {}   # (act, label, lr) -> (steps, median train-loss curve over seeds; inf where diverged)
    for act in ACTS:
        for label in INITS:
            for lr in s["lrs"]:
                done = [trained[(act, label, lr, sd)] for sd in s["seeds"]]
                c = np.array([np.where(np.isnan(t.curves[:, 0]), np.inf, t.curves[:, 0]) for t in done])
                med[(act, label, lr)] = (done[0].steps, np.median(c, axis=0))
    best = {(act, label): min(s["lrs"], key=lambda lr, a=act, lb=label: med[(a, lb, lr)][1][-1])
            for act in ACTS for label in INITS}

    print(f"\n5 hidden layers of {s['width']}, digits, SGD batch 64, {s['steps']} steps; median train loss "
          f"over {len(s['seeds'])} seeds")
    print(f"{'activation':10s} {'init':11s} " + " ".join(f"{'lr ' + format(lr, 'g'):>9s}" for lr in s["lrs"]))
    for act in ACTS:
        for label in INITS:
            print(f"{act:10s} {label:11s} " + " ".join(
                f"{med[(act, label, lr)][1][-1]:8.4f}{'*' if best[(act, label)] == lr else ' '}"
                for lr in s["lrs"]))
    print("(* the best rate of the row)")

    checks = []
    for act in ACTS:
        n = med[(act, "normalized", best[(act, "normalized")])][1][-1]
        st = med[(act, "standard", best[(act, "standard")])][1][-1]
        checks.append(Check(
            f"{act}: normalized init trains faster than standard (train loss after {s['steps']} steps, "
            "each at its best lr, median over seeds)",
            "normalized converges faster (Sec. 5): here loss_normalized < 0.5 x loss_standard",
            f"normalized {n:.4f} (lr {best[(act, 'normalized')]:g}), standard {st:.4f} "
            f"(lr {best[(act, 'standard')]:g}), ratio {n / st:.2f}",
            bool(n < 0.5 * st)))
    return checks, dict(med=med, best=best)


def plot(d):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(ACTS), figsize=(12, 4))
    for ax, act in zip(axes, ACTS):
        for label, style in (("normalized", "-"), ("standard", "--")):
            lr = d["best"][(act, label)]
            steps, curve = d["med"][(act, label, lr)]
            ax.plot(steps, curve, style, marker="o", label=f"{label} (lr {lr:g})")
        ax.set_yscale("log")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("training loss (median over seeds)")
        ax.set_title(f"5 x {act} on digits")
        ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    rc = main(TITLE, run, plot, "train_glorot2010")
    print("PASS" if rc == 0 else "FAIL")
    sys.exit(rc)
