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
