"""Figures of sweep tables (matplotlib, imported lazily; extra ``plot``)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def sweep_figure(df: pd.DataFrame, path=None):
    """Signal and gradient against layer (one panel per activation, one line per initializer, at
    the deepest depth, median over other settings) and a heat map of the final-layer log10 signal
    over initializer x depth. Saves to ``path`` when given; returns the figure (a
    ``matplotlib.figure.Figure``, made without pyplot: the library never changes the backend)."""
    import matplotlib
    from matplotlib.figure import Figure

    acts = sorted(df["activation"].unique())
    inits = sorted(df["initializer"].unique())
    deepest = df["depth"].max()
    fig = Figure(figsize=(5 * len(acts) + 3, 13))
    axes = fig.subplots(3, len(acts), squeeze=False)
    colors = matplotlib.colormaps["tab20"](np.linspace(0, 1, max(len(inits), 2)))
    deep = df[df["depth"] == deepest]
    for a, act in enumerate(acts):
        sub = deep[deep["activation"] == act]
        for row, (col, title) in enumerate((("preact_sq", "signal  E[h²]"), ("delta_sq", "gradient  E[δ²]"))):
            ax = axes[row, a]
            for i, init in enumerate(inits):
                curve = sub[sub["initializer"] == init].groupby("layer")[col].median()
                curve = curve[np.isfinite(curve) & (curve > 0)]
                if len(curve):
                    ax.plot(curve.index, curve.values, color=colors[i], label=init)
            ax.set_yscale("log")
            ax.set_title(f"{act}: {title}")
            ax.set_xlabel("layer")
        last = df[(df["activation"] == act)].sort_values("layer").groupby("config_id").last()
        heat = last.assign(v=np.log10(last["preact_sq"].where(last["preact_sq"] > 0)))
        grid = heat.pivot_table(index="initializer", columns="depth", values="v", aggfunc="median").reindex(
            inits
        )
        ax = axes[2, a]
        im = ax.imshow(grid.to_numpy(float), aspect="auto", cmap="coolwarm", vmin=-10, vmax=10)
        ax.set_yticks(range(len(inits)), inits, fontsize=7)
        ax.set_xticks(range(grid.shape[1]), grid.columns)
        ax.set_xlabel("depth")
        ax.set_title(f"{act}: log10 final-layer signal")
        fig.colorbar(im, ax=ax)
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0, 1 - 2.6 / fig.get_figwidth(), 1))
    fig.legend(
        handles, labels, fontsize=7, loc="upper right", frameon=False
    )  # beside the panels, not on them
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig


def training_figure(df: pd.DataFrame, path=None):
    """Figures of a training sweep: training loss against step per initializer (median over the
    other settings and seeds, band from the 25th to the 75th percentile), the median steps to target
    over initializer x depth (grey: never reached), and, where the initializers are fan-in variance
    scalings, the best test accuracy (or the final training loss for regression) over sigma_w^2 x
    depth. Saves to ``path`` when given; returns the ``matplotlib.figure.Figure``."""
    import matplotlib
    from matplotlib.figure import Figure

    inits = sorted(df["initializer"].unique())
    cfg = df.groupby("config_id", sort=True).first()
    scales = {i: _variance(i) for i in inits}
    phase = all(np.isfinite(v) for v in scales.values()) and len(set(scales.values())) > 1
    fig = Figure(figsize=(6.5 * (3 if phase else 2), 5.5 + 0.2 * len(inits)))
    axes = fig.subplots(1, 3 if phase else 2, squeeze=False)[0]
    colors = (matplotlib.colormaps["tab10"](np.arange(len(inits))) if len(inits) <= 10
              else matplotlib.colormaps["tab20"](np.linspace(0, 1, len(inits))))
    ax = axes[0]
    for i, init in enumerate(inits):
        per_step = df[df["initializer"] == init].groupby("step")["train_loss"]
        med, lo, hi = per_step.median(), per_step.quantile(0.25), per_step.quantile(0.75)
        ax.plot(med.index, med.values, color=colors[i], label=f"{i + 1}: {init}")
        ax.fill_between(med.index, lo.values, hi.values, color=colors[i], alpha=0.2, linewidth=0)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title("training loss (median, 25-75 %)")
    reached = cfg.assign(s=cfg["steps_to_target"].where(cfg["steps_to_target"] >= 0))
    grid = reached.pivot_table(index="initializer", columns="depth", values="s", aggfunc="median",
                               dropna=False).reindex(inits)
    ax = axes[1]
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.8")
    im = ax.imshow(np.ma.masked_invalid(grid.to_numpy(float)), aspect="auto", cmap=cmap)
    ax.set_yticks(range(len(inits)), [f"{i + 1}" for i in range(len(inits))])
    ax.set_ylabel("initializer (legend number)")
    ax.set_xticks(range(grid.shape[1]), grid.columns)
    ax.set_xlabel("depth")
    ax.set_title("steps to target (median; grey: never)")
    fig.colorbar(im, ax=ax)
    if phase:
        classify = cfg["best_test_accuracy"].notna().any()
        value = "best_test_accuracy" if classify else "final_train_loss"
        table = cfg.assign(sw2=cfg["initializer"].map(scales)).pivot_table(
            index="depth", columns="sw2", values=value, aggfunc="median")
        ax = axes[2]
        im = ax.imshow(table.to_numpy(float), aspect="auto", origin="lower", cmap="magma")
        ax.set_xticks(range(table.shape[1]), [f"{v:.3g}" for v in table.columns], fontsize=7)
        ax.set_yticks(range(table.shape[0]), table.index)
        ax.set_xlabel("sigma_w^2")
        ax.set_ylabel("depth")
        ax.set_title(("best test accuracy" if classify else "final training loss") + " (median)")
        fig.colorbar(im, ax=ax)
    handles, labels = axes[0].get_legend_handles_labels()
    below = (0.3 + 0.2 * ((len(inits) + 1) // 2)) / fig.get_figheight()
    fig.tight_layout(rect=(0, below, 1, 1))
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=2, frameon=False)   # below the panels
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig


def _variance(label: str) -> float:
    """sigma_w^2 of an initializer label whose weights have variance sigma_w^2 / fan_in (a fan-in
    ``variance_scaling``: its ``scale``, whatever the distribution, which Keras corrects for
    truncation), else NaN."""
    import re
    m = re.fullmatch(r"variance_scaling(?:\((.*)\))?", label)
    if m is None:
        return float("nan")
    params = dict(p.split("=", 1) for p in m.group(1).split(",")) if m.group(1) else {}
    if params.get("mode", "fan_in") != "fan_in":
        return float("nan")
    return float(params.get("scale", 1.0))
