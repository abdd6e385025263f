"""Schoenholz et al. (2017), Poole et al. (2016): the tanh (sigma_w^2, sigma_b^2) phase diagram,
its critical line chi_1 = 1, the correlation depth scale xi_c, and simulated correlation
propagation next to mean-field theory on the sigma_b^2 = 0.05 slice."""
from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _repro import Check, main  # noqa: E402

import fastinit as fi  # noqa: E402
from fastinit import theory  # noqa: E402

TITLE = "Schoenholz et al. 2017: tanh phase diagram, xi_c, and correlation propagation"
SB2 = 0.05


def gaussian(sw2, sb2, n):
    return ({"name": "random_normal", "stddev": math.sqrt(sw2 / n)},
            {"name": "random_normal", "stddev": math.sqrt(sb2)})


def run(quick=False):
    n, depth, batch = (256, 20, 64) if quick else (1000, 40, 128)
    grid_w = np.linspace(0.5, 4.0, 40 if quick else 100)
    grid_b = np.linspace(0.0, 0.3, 30 if quick else 100)
    phase = theory.phase_diagram("tanh", grid_w, grid_b)
    crit_b = np.linspace(0.0, 0.3, 13)
    crit_w = np.array([theory.critical_sigma_w2("tanh", b) for b in crit_b])
    s_crit = theory.critical_sigma_w2("tanh", SB2)
    slice_w = np.linspace(1.0, 3.0, 9 if quick else 21)
    xi_c = np.array([theory.depth_scales("tanh", w, SB2)[1] for w in slice_w])
    sims, preds = {}, {}
    for sw2 in (1.3, round(s_crit, 3), 2.5):
        w_init, b_init = gaussian(sw2, SB2, n)
        sims[sw2] = fi.simulate(w_init, "tanh", depth=depth, width=n, batch=batch, bias_initializer=b_init,
                                input_corr=0.5, backward=False)["pair_corr"].to_numpy()
        preds[sw2] = theory.predict(w_init, "tanh", depth=depth, width=n, bias_initializer=b_init,
                                    input_corr=0.5)["pair_corr"].to_numpy()
    dev = max(np.abs(sims[k] - preds[k]).max() for k in sims)
    tol = 3 / math.sqrt(n)
    c_star_chaotic = theory.correlation_fixed_point("tanh", 2.5, SB2)
    checks = [
        Check("critical line of tanh at sigma_b^2 = 0.05", "sigma_w^2 ~ 1.76", f"{s_crit:.4f}",
              abs(s_crit - 1.76) < 0.005),
        Check("the critical line passes through (sigma_b^2, sigma_w^2) = (0, 1)", "sigma_w^2 = 1",
              f"{crit_w[0]:.5f}", abs(crit_w[0] - 1) < 1e-3),
        Check("xi_c diverges at the critical point", "xi_c -> infinity at chi_1 = 1",
              f"xi_c = {xi_c.max():.1f} at sigma_w^2 = {slice_w[xi_c.argmax()]:.2f} (max over the slice)",
              abs(slice_w[xi_c.argmax()] - s_crit) <= (slice_w[1] - slice_w[0])),
        Check("simulated correlations follow the mean-field c-map (width n)",
              f"agreement up to O(1/sqrt(n)) finite-width effects (tolerance 3/sqrt(n) = {tol:.3f})",
              f"max |simulated - theory| over layers and sigma_w^2 = {dev:.4f}", dev < tol),
        Check("in the chaotic phase correlations converge to c* < 1", "c* < 1 for chi_1 > 1",
              f"c* = {c_star_chaotic:.3f} at sigma_w^2 = 2.5, simulated final layer "
              f"{sims[2.5][-1]:.3f}", c_star_chaotic < 0.99 and abs(sims[2.5][-1] - c_star_chaotic) < tol),
    ]
    return checks, dict(
        phase=phase,
        grid_w=grid_w,
        grid_b=grid_b,
        crit=(crit_b, crit_w),
        slice=(slice_w, xi_c),
        sims=sims,
        preds=preds,
    )


def plot(d):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    chi = d["phase"]["chi1"].to_numpy().reshape(len(d["grid_w"]), len(d["grid_b"]))
    ax = axes[0]
    im = ax.pcolormesh(
        d["grid_b"], d["grid_w"], np.log(chi), cmap="coolwarm", vmin=-1.5, vmax=1.5, shading="auto"
    )
    ax.plot(*d["crit"], "k-", label="chi_1 = 1")
    ax.set_xlabel("sigma_b²")
    ax.set_ylabel("sigma_w²")
    ax.set_title("tanh: log chi_1 (blue ordered, red chaotic)")
    ax.legend()
    fig.colorbar(im, ax=ax)
    axes[1].plot(*d["slice"], marker="o")
    axes[1].set_xlabel("sigma_w²")
    axes[1].set_ylabel("xi_c")
    axes[1].set_title("correlation depth scale at sigma_b² = 0.05")
    for sw2, c in d["sims"].items():
        line, = axes[2].plot(np.arange(1, len(c) + 1), c, label=f"simulated sigma_w²={sw2}")
        axes[2].plot(np.arange(1, len(c) + 1), d["preds"][sw2], ":", color=line.get_color(), label="theory")
    axes[2].set_xlabel("layer")
    axes[2].set_ylabel("pair correlation")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main(TITLE, run, plot, "schoenholz"))
