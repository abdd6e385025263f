"""He, Zhang, Ren & Sun (2015), "Delving deep into rectifiers", Sec. 2.2 and Fig. 3: a 30-layer ReLU
network initialised with Var[W] = 2 / n_in (He) converges, while the same network with Var[W] = 1 / n_in
("Xavier" as in Caffe, the fan-in form) stalls: its forward signal is halved in variance by every ReLU
layer, 2^-30 after 30 layers, so the output does not depend on the input and the gradients that reach the
weights are ~2^-15 of He's.

Setting here: scikit-learn's digits (64 features, 10 classes, cross-entropy), 30 hidden ReLU layers of 64
units (square: the input has 64 features), a linear readout, zero biases, plain SGD with batch 64. Each
initializer gets the learning rate of a small grid that is best for it (lowest median over seeds of
final / initial training loss; a diverged run counts as +inf), and the claim is read on the medians over
seeds at that rate:

* He: final training loss <= 0.5 x its initial one (and below half the chance level ln 10, so it learned
  the classes rather than only shrinking its large initial logits);
* Xavier (``lecun_normal``: Var = 1 / fan_in): final training loss >= 0.8 x its initial one.

The paper trained on ImageNet with momentum SGD for many epochs; this is the same mechanism on a small
task. Quick: 3 learning rates, 3 seeds, 500 steps (~20 s after compilation); full: 6 rates, 5 seeds, 2000
steps (~4 minutes on 2 cores). Adam would hide the effect (it rescales the tiny gradients), which is why
the claim is about SGD.

Measured (medians over seeds, at each one's best rate): quick, lr 0.01 both: He 3.11 -> 0.90 (ratio
0.27, test accuracy 0.65), Xavier 2.303 -> 2.301 (ratio 0.999, accuracy 0.12; chance is 0.10). Full:
He 2.80 -> 0.002 (ratio 0.001, accuracy 0.90); Xavier 2.303 -> 2.202 (ratio 0.956, accuracy 0.20) -
after 2000 steps at lr 0.01 Xavier has begun to move, so "stalls" here means "barely moves in a budget
in which He fits the training set", not "never learns".
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

from fastinit.engine import make_variant  # noqa: E402
from fastinit.engine.training import make_run, summarize, train_runs  # noqa: E402
from fastinit.tasks import make_task  # noqa: E402

TITLE = "He et al. 2015 (Fig. 3): a 30-layer ReLU MLP trains with He init and stalls with Xavier"
INITS = {"He": "he_normal", "Xavier": "lecun_normal"}
DEPTH, WIDTH = 30, 64


def settings(quick):
    if quick:
        return dict(lrs=[1e-3, 1e-2, 1e-1], seeds=[0, 1, 2], steps=500)
    return dict(lrs=[1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1], seeds=[0, 1, 2, 3, 4], steps=2000)


def run(quick=False):
    s = settings(quick)
    task = make_task("digits")
    runs, keys = [], []
    for label, init in INITS.items():
        variant = make_variant(init, "relu", "zeros")
        for lr in s["lrs"]:
            for seed in s["seeds"]:
                runs.append(make_run(variant, task, DEPTH, WIDTH, seed=seed, dtype="float32",
                                     steps=s["steps"], lr=lr, optimizer="sgd", batch=64,
                                     eval_every=s["steps"] // 10))
                keys.append((label, lr, seed))
    trained = dict(zip(keys, train_runs(runs, task)))

    table = {}   # (label, lr) -> medians over seeds
    for label in INITS:
        for lr in s["lrs"]:
            done = [trained[(label, lr, seed)] for seed in s["seeds"]]
            ratios = [t.curves[-1, 0] / t.curves[0, 0] if t.diverged < 0 else math.inf for t in done]
            table[(label, lr)] = dict(
                ratio=float(np.median(ratios)),
                initial=float(np.median([t.curves[0, 0] for t in done])),
                final=float(np.median([summarize(t)["final_train_loss"] if t.diverged < 0 else math.inf
                                       for t in done])),
                accuracy=float(np.median([summarize(t)["final_test_accuracy"] if t.diverged < 0 else 0.0
                                          for t in done])),
                diverged=sum(t.diverged >= 0 for t in done),
                curve=np.median(np.array([t.curves[:, 0] for t in done]), axis=0),
                steps=done[0].steps,
            )
    best = {label: min(s["lrs"], key=lambda lr, lb=label: table[(lb, lr)]["ratio"]) for label in INITS}

    print(f"\n30-layer ReLU, width {WIDTH}, digits, SGD batch 64, {s['steps']} steps, "
          f"medians over {len(s['seeds'])} seeds")
    print(f"{'init':8s} {'lr':>7s} {'initial':>8s} {'final':>8s} {'final/initial':>14s} {'test acc':>9s} "
          "diverged")
    for (label, lr), row in table.items():
        mark = "  <- best" if best[label] == lr else ""
        print(f"{label:8s} {lr:7.0e} {row['initial']:8.3f} {row['final']:8.3f} {row['ratio']:14.3f} "
              f"{row['accuracy']:9.3f} {row['diverged']}/{len(s['seeds'])}{mark}")

    he, xa = table[("He", best["He"])], table[("Xavier", best["Xavier"])]
    chance = math.log(10)
    checks = [
        Check("He init: the 30-layer ReLU net trains (best lr of the grid, median over seeds)",
              "converges (Fig. 3): here final train loss <= 0.5 x initial and < 0.5 ln 10",
              f"lr {best['He']:g}: {he['initial']:.3f} -> {he['final']:.3f} (ratio {he['ratio']:.3f}), "
              f"test accuracy {he['accuracy']:.3f}",
              he["ratio"] <= 0.5 and he["final"] < 0.5 * chance),
        Check("Xavier (Var = 1/n_in) init: the same net stalls at every lr of the grid",
              "does not learn (Fig. 3): here final train loss >= 0.8 x initial at its best lr",
              f"lr {best['Xavier']:g}: {xa['initial']:.3f} -> {xa['final']:.3f} (ratio {xa['ratio']:.3f}), "
              f"test accuracy {xa['accuracy']:.3f}",
              xa["ratio"] >= 0.8),
    ]
    return checks, dict(table=table, best=best)


def plot(d):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, style in (("He", "-"), ("Xavier", "--")):
        row = d["table"][(label, d["best"][label])]
        ax.plot(row["steps"], row["curve"], style, marker="o", label=f"{label} (lr {d['best'][label]:g})")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss (median over seeds)")
    ax.set_title("30-layer ReLU MLP on digits")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    rc = main(TITLE, run, plot, "train_he2015")
    print("PASS" if rc == 0 else "FAIL")
    sys.exit(rc)
