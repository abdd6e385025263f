"""Saxe, McClelland & Ganguli (2014), "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks" (ICLR; arXiv:1312.6120), the learning time against depth of its Sec. 4: deep
*linear* networks started from random orthogonal weights learn in a number of steps that is nearly
independent of depth, while scaled random Gaussian weights (Var = 1 / N) learn ever more slowly as depth
grows (the product of Gaussian matrices has a singular-value spectrum that spreads with depth, so most
input modes start with tiny gain and sit on long plateaus).

Setting here: a linear teacher (``make_task("teacher", depth=0)``: targets ``x T`` with T of N(0, 1/32)
entries, 32 inputs and 32 outputs, scaled to unit variance), students of ``depth`` linear hidden layers of
32 units and a linear readout, zero biases, MSE, plain SGD with batch 32. Learning time is
``steps_to_target``: the first evaluation step (every 2 steps) whose training loss is below 0.1 x the
initial one. Each (initializer, depth) gets the learning rate of a small grid that reaches the target
soonest (median over seeds), so a depth-dependent best step size is not mistaken for slower learning. A
run that never reaches the target counts as the budget (printed as ">budget").

Checks: orthogonal (``orthogonal``, gain 1): the largest learning time over the depths is at most 3 x
the smallest; scaled Gaussian (``lecun_normal``: Var = 1 / fan_in): the deepest net's is at least 5 x
depth 2's (or it never reaches the target within the budget). The best rate falls as depth grows
(3 at depth 2, where 5 already diverges; 0.1 at depth 64), as the paper's analysis predicts (the
product of N_l layers moves N_l times faster per step). Quick: depths 2, 8, 32, 64, rates 0.1 to 3,
3 seeds, 300 steps (~15 s after compilation); full: depths 2 to 64 (doubling), rates 0.01 to 3, 3 seeds,
1000 steps.

Measured. Quick: orthogonal 8, 10, 16, 14 steps at depths 2, 8, 32, 64 (max / min 2.0); Gaussian 12,
104, >300, >300. Full: orthogonal 8, 12, 10, 14, 16, 14 at depths 2 to 64 (max / min 2.0); Gaussian 12,
22, 104, 740, >1000, >1000. Orthogonal's time does rise a little from depth 2 and then stays flat,
which is the paper's "finite, depth independent, delay" relative to shallow networks.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

from fastinit.engine import make_variant  # noqa: E402
from fastinit.engine.training import make_run, summarize, train_runs  # noqa: E402
from fastinit.tasks import make_task  # noqa: E402

TITLE = "Saxe et al. 2014: deep linear nets learn in depth-independent time from orthogonal init"
INITS = {"orthogonal": "orthogonal", "Gaussian 1/N": "lecun_normal"}
WIDTH, TARGET, EVAL = 32, 0.1, 2


def settings(quick):
    if quick:
        return dict(depths=[2, 8, 32, 64], lrs=[1e-1, 3e-1, 1.0, 3.0], seeds=[0, 1, 2], steps=300)
    return dict(depths=[2, 4, 8, 16, 32, 64], lrs=[1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0], seeds=[0, 1, 2],
                steps=1000)


def run(quick=False):
    s = settings(quick)
    task = make_task("teacher", dim=WIDTH, depth=0, n_out=WIDTH, n_train=256, n_test=128, seed=0)
    runs, keys = [], []
    for label, init in INITS.items():
        variant = make_variant(init, "linear", "zeros")
        for depth in s["depths"]:
            for lr in s["lrs"]:
                for seed in s["seeds"]:
                    runs.append(make_run(variant, task, depth, WIDTH, seed=seed, dtype="float32",
                                         steps=s["steps"], lr=lr, optimizer="sgd", batch=32, eval_every=EVAL))
                    keys.append((label, depth, lr, seed))
    trained = dict(zip(keys, train_runs(runs, task)))
    budget = s["steps"]

    def learn_time(t):
        st = summarize(t, TARGET)["steps_to_target"]
        return st if st >= 0 else np.inf

    times, best_lr, curves = {}, {}, {}
    for label in INITS:
        for depth in s["depths"]:
            med = {lr: float(np.median([learn_time(trained[(label, depth, lr, sd)]) for sd in s["seeds"]]))
                   for lr in s["lrs"]}
            lr = min(s["lrs"], key=lambda r, m=med: (m[r], -r))
            times[(label, depth)], best_lr[(label, depth)] = med[lr], lr
            done = [trained[(label, depth, lr, sd)] for sd in s["seeds"]]
            rel = [t.curves[:, 0] / t.curves[0, 0] for t in done]
            curves[(label, depth)] = (done[0].steps, np.median(rel, axis=0))

    def show(v):
        return f">{budget}" if not np.isfinite(v) else f"{v:g}"

    print(f"\nsteps to train loss < {TARGET} x initial (linear teacher 32 -> 32, width {WIDTH}, SGD "
          f"batch 32, best lr per depth, median over {len(s['seeds'])} seeds)")
    print(f"{'depth':>6s} " + " ".join(f"{lb:>22s}" for lb in INITS))
    for depth in s["depths"]:
        cells = []
        for lb in INITS:
            t = times[(lb, depth)]
            cells.append(f"{show(t):>10s} (lr {best_lr[(lb, depth)] if np.isfinite(t) else '-':>5})")
        print(f"{depth:6d} " + " ".join(cells))

    d0, d1 = s["depths"][0], s["depths"][-1]
    ortho = [times[("orthogonal", d)] for d in s["depths"]]
    o0, o1 = ortho[0], ortho[-1]
    g0, g1 = times[("Gaussian 1/N", d0)], times[("Gaussian 1/N", d1)]
    checks = [
        Check(f"orthogonal init: learning time nearly independent of depth ({d0} to {d1})",
              "depth-independent learning time: here max <= 3 x min over the depths",
              f"depth {d0}: {show(o0)} steps, depth {d1}: {show(o1)} steps; all depths: "
              + ", ".join(show(v) for v in ortho) + f" (max / min {max(ortho) / min(ortho):.2f})",
              bool(np.all(np.isfinite(ortho)) and max(ortho) <= 3 * min(ortho))),
        Check(f"scaled Gaussian init: learning time grows with depth ({d0} to {d1})",
              "grows with depth: here deepest >= 5 x shallowest (or never within the budget)",
              f"depth {d0}: {show(g0)} steps, depth {d1}: {show(g1)} steps; all depths: "
              + ", ".join(show(times[("Gaussian 1/N", d)]) for d in s["depths"]),
              np.isfinite(g0) and g1 >= 5 * g0),
    ]
    return checks, dict(times=times, depths=s["depths"], curves=curves, budget=budget)


def plot(d):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for label, style in (("orthogonal", "-"), ("Gaussian 1/N", "--")):
        t = [d["times"][(label, dep)] for dep in d["depths"]]
        axes[0].plot(d["depths"], [v if np.isfinite(v) else d["budget"] for v in t], style, marker="o",
                     label=label)
        for dep in (d["depths"][0], d["depths"][-1]):
            steps, c = d["curves"][(label, dep)]
            axes[1].plot(steps, c, style, label=f"{label}, depth {dep}")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("depth")
    axes[0].set_ylabel(f"steps to loss < {TARGET} x initial (capped at budget)")
    axes[0].legend()
    axes[1].set_yscale("log")
    axes[1].set_xlabel("SGD step")
    axes[1].set_ylabel("train loss / initial (median, best lr)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    rc = main(TITLE, run, plot, "train_saxe2014")
    print("PASS" if rc == 0 else "FAIL")
    sys.exit(rc)
