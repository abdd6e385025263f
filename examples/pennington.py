"""Pennington, Schoenholz & Ganguli (2017): the spread of the input-output Jacobian's singular
values against depth, Gaussian vs orthogonal weights, for linear, ReLU and critical tanh networks."""
from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

import fastinit as fi  # noqa: E402
from fastinit import theory  # noqa: E402

TITLE = "Pennington et al. 2017: dynamical isometry, Gaussian vs orthogonal"
TANH_SB2 = 1e-4


def settings():
    s_tanh = theory.critical_sigma_w2("tanh", TANH_SB2)
    return {"linear": (1.0, 0.0), "relu": (2.0, 0.0), "tanh": (s_tanh, TANH_SB2)}


def spread(act, weights, sw2, sb2, n, depth, seeds):
    """Mean over networks of the variance of the squared singular values at every depth."""
    q_star = float(theory.fixed_point(act, sw2, sb2)) if act == "tanh" else 1.0
    init = ({"name": "random_normal", "stddev": math.sqrt(sw2 / n)} if weights == "gaussian"
            else {"name": "orthogonal", "gain": math.sqrt(sw2)})
    bias = {"name": "random_normal", "stddev": math.sqrt(sb2)} if sb2 > 0 else "zeros"
    out = []
    for s in range(seeds):
        x = np.random.default_rng(s).standard_normal((2, n)) * math.sqrt(max(q_star - sb2, 1e-12) / sw2)
        df = fi.simulate(
            init,
            act,
            depth=depth,
            width=n,
            input=x,
            seed=s,
            bias_initializer=bias,
            dtype="float64",
            jacobian=True,
            backward=False,
        )
        out.append(df[["jac_sq_mean", "jac_sq_var"]].to_numpy())
    return np.mean(out, axis=0)


def run(quick=False):
    n, depth, seeds = (96, 16, 2) if quick else (256, 32, 3)
    data = {(act, w): spread(act, w, *sw, n, depth, seeds) for act, sw in settings().items()
            for w in ("gaussian", "orthogonal")}
    var = {k: v[:, 1] for k, v in data.items()}
    lin_g = var[("linear", "gaussian")]
    ratio = lin_g[[1, 3]] / np.array([2, 4])   # small depths: finite-width corrections grow like L^2 / n
    checks = [
        Check(
            "linear + orthogonal: every singular value is 1 at every depth",
            "spread 0",
            f"max variance of squared singular values {var[('linear', 'orthogonal')].max():.2e}",
            var[("linear", "orthogonal")].max() < 1e-10,
        ),
        Check(
            "linear + Gaussian: the spread grows linearly with depth (Fuss-Catalan: variance = L)",
            "variance of squared singular values = L",
            f"variance / L at L = 2, 4: {ratio.round(3)}",
            bool(np.all(np.abs(ratio - 1) < 0.3)),
        ),
        Check(
            "critical tanh: orthogonal weights keep the spectrum far tighter than Gaussian ones",
            "orthogonal << Gaussian (dynamical isometry for small q*)",
            f"at depth {depth}: Gaussian {var[('tanh', 'gaussian')][-1]:.3g}, "
            f"orthogonal {var[('tanh', 'orthogonal')][-1]:.3g}",
            var[("tanh", "gaussian")][-1] > 3 * var[("tanh", "orthogonal")][-1],
        ),
        Check(
            "ReLU: orthogonal weights do not achieve isometry",
            "spread grows with depth for both",
            f"orthogonal spread at depth 1, {depth}: {var[('relu', 'orthogonal')][0]:.3g}, "
            f"{var[('relu', 'orthogonal')][-1]:.3g}",
            var[("relu", "orthogonal")][-1] > 1.0
            and var[("relu", "orthogonal")][-1] > 5 * var[("relu", "orthogonal")][0],
        ),
        Check(
            "at criticality the mean squared singular value stays ~1",
            "chi_1 = 1",
            "mean at the last layer: " + ", ".join(f"{a}/{w} {data[(a, w)][-1, 0]:.2f}" for a, w in data),
            all(0.5 < data[k][-1, 0] < 2 for k in data),
        ),
    ]
    return checks, data


def plot(data):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for j, act in enumerate(("linear", "relu", "tanh")):
        for w, style in (("gaussian", "-o"), ("orthogonal", "-s")):
            v = data[(act, w)][:, 1]
            depth = np.arange(1, len(v) + 1)
            axes[j].plot(depth, np.maximum(v, 1e-16), style, label=w)
        axes[j].set_xscale("log")
        axes[j].set_yscale("log")
        axes[j].set_title(f"{act} at criticality: variance of squared singular values")
        axes[j].set_xlabel("depth")
        axes[j].legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main(TITLE, run, plot, "pennington"))
