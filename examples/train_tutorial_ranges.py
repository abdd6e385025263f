"""The initialization tutorial's uniform ranges (its Sec. 4, the ranges this project's ``quick.toml``
sweep simulates): weights drawn from U[-1, 1], U[-0.5, 0.5] or U[-0.1, 0.1], beside Glorot & Bengio's
(2010) normalized range U[+-sqrt(6 / (n_in + n_out))] (``glorot_uniform``), with the logistic sigmoid and
tanh at depths 2 to 16, trained on scikit-learn's digits. The tutorial says that [-0.5, 0.5] is adequate
for most uses of the logistic and tanh activations.

This is a report, not a pass/fail check: it prints, for every (activation, depth), the median training
loss over seeds after a fixed budget of plain SGD (batch 64, zero biases, cross-entropy), each range at
the learning rate of a small grid that is best for it, and which range trained fastest (lowest loss;
"none" where every range's loss is still above 0.9 ln 10, the chance level).

The fixed ranges do not scale with the width, so the answer depends on it: n Var[W] is n/3, n/12 and
n/300 for the three ranges (21, 5.3 and 0.21 at width 64: saturating, strongly amplifying and shrinking
for tanh), while Glorot's is 1 for square layers. Shallow rows often prefer the grid's largest rate.
Quick: width 64, depths 2, 4, 8, 16, 200 steps, rates 0.03, 0.3, 3, 2 seeds (~35 s after compilation);
full: widths 64 and 128, 500 steps, rates 0.03 to 3, 3 seeds (8 to 10 minutes on 2 cores).

Measured. Quick (8 rows): fastest U[-1,1] 4, U[-0.5,0.5] 2, Glorot 1, none 1 (sigmoid depth 16);
U[-0.5,0.5] within 2 x of the best in 4 of 7 rows, below 0.5 ln 10 in 6 of 8. Full (16 rows, 10
minutes on a shared 2-core machine): fastest U[-1,1] 7 (6 of the 8 sigmoid rows: the logistic's slope
1/4 wants the widest range), Glorot 5, U[-0.5,0.5] 3 (tanh depth 8 at both widths, sigmoid depth 4 at
width 128), U[-0.1,0.1] none, none 1 (sigmoid depth 16, width 64); U[-0.5,0.5] within 2 x of the best
in 10 of 15 rows and below 0.5 ln 10 in 13 of 16. It fails for sigmoid at depth 16 (both widths) and
depth 8 at width 64, and lags Glorot for tanh at depth 16 (0.042 vs 0.0066 at width 64, 0.68 vs 0.0031
at width 128). Shallow tanh rows are ties (all ranges near 1e-4 to 1e-3). So [-0.5, 0.5] is adequate
for shallow nets of either activation and for tanh to depth 8, not for deep sigmoid nets: the tutorial's
claim holds only in that sense.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from fastinit.engine import make_variant
from fastinit.engine.training import make_run, train_runs
from fastinit.tasks import make_task

TITLE = "The tutorial's uniform ranges vs Glorot's, sigmoid and tanh, depths 2-16 (a report)"
CLAIM = "tutorial: U[-0.5, 0.5] is adequate for most uses of the logistic and tanh activations"
RANGES = {
    "U[-1,1]": {"name": "random_uniform", "minval": -1.0, "maxval": 1.0},
    "U[-0.5,0.5]": {"name": "random_uniform", "minval": -0.5, "maxval": 0.5},
    "U[-0.1,0.1]": {"name": "random_uniform", "minval": -0.1, "maxval": 0.1},
    "glorot": "glorot_uniform",
}
ACTS = ("sigmoid", "tanh")
STALLED = 0.9   # a row whose best loss is above 0.9 ln 10 has no fastest range


def settings(quick):
    if quick:
        return dict(widths=[64], depths=[2, 4, 8, 16], steps=200, lrs=[0.03, 0.3, 3.0], seeds=[0, 1])
    return dict(widths=[64, 128], depths=[2, 4, 8, 16], steps=500, lrs=[0.03, 0.1, 0.3, 1.0, 3.0],
                seeds=[0, 1, 2])


def run(quick=False):
    """One row per (width, activation, depth): each range's median final training loss at its best
    learning rate, the best rate, and the fastest range."""
    s = settings(quick)
    task = make_task("digits")
    runs, keys = [], []
    for width in s["widths"]:
        for act in ACTS:
            for label, init in RANGES.items():
                variant = make_variant(init, act, "zeros")
                for depth in s["depths"]:
                    for lr in s["lrs"]:
                        for seed in s["seeds"]:
                            runs.append(make_run(variant, task, depth, width, seed=seed, dtype="float32",
                                                 steps=s["steps"], lr=lr, optimizer="sgd", batch=64,
                                                 eval_every=max(1, s["steps"] // 10)))
                            keys.append((width, act, label, depth, lr, seed))
    trained = dict(zip(keys, train_runs(runs, task)))

    rows, curves = [], {}
    for width in s["widths"]:
        for act in ACTS:
            for depth in s["depths"]:
                row = dict(width=width, activation=act, depth=depth, loss={}, lr={})
                for label in RANGES:
                    med = {}
                    for lr in s["lrs"]:
                        done = [trained[(width, act, label, depth, lr, sd)] for sd in s["seeds"]]
                        c = np.array([np.where(np.isnan(t.curves[:, 0]), np.inf, t.curves[:, 0])
                                      for t in done])
                        med[lr] = (done[0].steps, np.median(c, axis=0))
                    lr = min(s["lrs"], key=lambda r, m=med: m[r][1][-1])
                    row["loss"][label], row["lr"][label] = float(med[lr][1][-1]), lr
                    curves[(width, act, depth, label)] = med[lr]
                best = min(RANGES, key=lambda lb, r=row: r["loss"][lb])
                # no range learned: the lowest loss is still near chance (ln 10)
                row["fastest"] = best if row["loss"][best] < STALLED * np.log(10) else "none"
                rows.append(row)
    return rows, dict(rows=rows, curves=curves, settings=s)


def print_table(rows, s):
    print(f"\n{TITLE}")
    print(f"digits, plain SGD batch 64, {s['steps']} steps, zero biases; median train loss over "
          f"{len(s['seeds'])} seeds, each range at its best lr of {s['lrs']} (lr in brackets)")
    print(f"{'width':>5s} {'activation':10s} {'depth':>5s} " + " ".join(f"{lb:>20s}" for lb in RANGES)
          + "  fastest")
    for r in rows:
        cells = " ".join(f"{r['loss'][lb]:11.4f} ({r['lr'][lb]:<6g})" for lb in RANGES)
        print(f"{r['width']:5d} {r['activation']:10s} {r['depth']:5d} {cells}  {r['fastest']}")
    n = len(rows)
    half = "U[-0.5,0.5]"
    wins = {lb: sum(r["fastest"] == lb for r in rows) for lb in RANGES}
    learned = [r for r in rows if r["fastest"] != "none"]
    near = sum(r["loss"][half] <= 2 * r["loss"][r["fastest"]] for r in learned)
    usable = sum(r["loss"][half] < 0.5 * np.log(10) for r in rows)
    print(f"\n{CLAIM}")
    print("measured: fastest range per row: " + ", ".join(f"{lb} {k}/{n}" for lb, k in wins.items())
          + f", none learned (best loss > {STALLED} ln 10) {n - len(learned)}/{n}")
    print(f"          U[-0.5,0.5] within 2x of the best loss in {near}/{len(learned)} rows where some range "
          f"learned; below half the chance loss (0.5 ln 10) in {usable}/{n} rows")
    print("REPORT (no pass/fail claim)")


def plot(d):
    import matplotlib.pyplot as plt
    s = d["settings"]
    width = s["widths"][0]
    fig, axes = plt.subplots(len(ACTS), len(s["depths"]), figsize=(4 * len(s["depths"]), 3.5 * len(ACTS)),
                             squeeze=False)
    for i, act in enumerate(ACTS):
        for j, depth in enumerate(s["depths"]):
            ax = axes[i, j]
            for label in RANGES:
                steps, curve = d["curves"][(width, act, depth, label)]
                ax.plot(steps, np.where(np.isfinite(curve), curve, np.nan), marker=".", label=label)
            ax.set_yscale("log")
            ax.set_title(f"{act}, depth {depth}, width {width}")
            ax.set_xlabel("SGD step")
    axes[0, 0].set_ylabel("train loss (median, best lr)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def main():
    p = argparse.ArgumentParser(description=TITLE)
    p.add_argument("--quick", action="store_true", help="small networks (seconds)")
    p.add_argument("--out", default="results/reproductions", help="folder for the figure")
    args = p.parse_args()
    rows, data = run(quick=args.quick)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "train_tutorial_ranges.png")
    import matplotlib
    matplotlib.use("Agg")
    plot(data).savefig(path, dpi=90)
    print(f"figure: {path}")
    print_table(rows, data["settings"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
