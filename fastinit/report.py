"""Readable summaries of sweep tables (text); figures live in :mod:`fastinit.plot`."""
from __future__ import annotations

import numpy as np
import pandas as pd

#: A final-layer signal below this counts as vanished.
VANISHED = 1e-20


def per_config(df: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: first/last layer signal and gradient, blow-up flags."""
    g = df.sort_values(["config_id", "layer"]).groupby("config_id", sort=True)
    first, last = g.first(), g.last()
    keys = [c for c in ("initializer", "activation", "depth", "width", "seed") if c in df.columns]
    out = first[keys].copy()
    out["signal_ratio"] = last["preact_sq"] / first["preact_sq"]
    out["grad_ratio"] = first["delta_sq"] / last["delta_sq"]
    out["blew_up"] = g["nonfinite"].sum() > 0
    out["vanished"] = (last["preact_sq"] < VANISHED) & ~out["blew_up"]
    return out


def verdict(ratio: float) -> str:
    """A word for a first-to-last-layer ratio: stable within 10x, grows/shrinks within 1e6x,
    explodes/vanishes beyond (non-finite: explodes; NaN: undefined)."""
    if np.isnan(ratio):
        return "undefined"
    if not np.isfinite(ratio) or ratio > 1e6:
        return "explodes"
    if ratio < 1e-6:
        return "vanishes"
    if ratio > 10:
        return "grows"
    if ratio < 0.1:
        return "shrinks"
    return "stable"


def summary(df: pd.DataFrame) -> str:
    """Per activation and initializer, at the deepest depth: median change of the signal
    (preact_sq, last / first layer) and of the gradient (delta_sq, first / last layer), and how
    many configurations blew up (non-finite values) or vanished, over all depths."""
    cfg = per_config(df)
    deepest = cfg["depth"].max()
    at_depth = cfg[cfg["depth"] == deepest]
    rows = at_depth.groupby(["activation", "initializer"], sort=True).agg(
        signal_ratio=("signal_ratio", "median"), grad_ratio=("grad_ratio", "median"))
    counts = cfg.groupby(["activation", "initializer"], sort=True).agg(
        configs=("blew_up", "size"), blew_up=("blew_up", "sum"), vanished=("vanished", "sum"))
    table = rows.join(counts)
    table["signal"] = [verdict(r) for r in table["signal_ratio"]]
    table["gradient"] = [verdict(r) for r in table["grad_ratio"]]
    fmt = {"signal_ratio": "{:.3g}".format, "grad_ratio": "{:.3g}".format}
    head = (f"{len(cfg)} configurations, {df['layer'].size} rows; ratios are medians at depth {deepest} "
            f"(signal: preact_sq last/first layer; gradient: delta_sq first/last layer)\n")
    return head + table.to_string(formatters=fmt)


#: Columns that tell a training table's configurations apart but are not a setting being compared.
_NOT_A_SETTING = ("config_id", "seed", "trial", "step", "train_loss", "test_loss", "test_accuracy",
                  "distinct_units_min", "final_train_loss", "final_test_loss", "final_test_accuracy",
                  "best_test_accuracy", "steps_to_target", "diverged", "diverged_step", "task")


def is_training(df: pd.DataFrame) -> bool:
    """Whether a sweep table is a training sweep's (one row per configuration and evaluation step)."""
    return "train_loss" in df.columns


def training_summary(df: pd.DataFrame) -> str:
    """Per setting (every identifying column but the seed and trial): over seeds, the final training
    loss (min / median / max), the median steps to target (runs that never reached it counted
    apart), the best test accuracy (median) and how many runs diverged."""
    cfg = df.groupby("config_id", sort=True).first()
    keys = [c for c in cfg.columns if c not in _NOT_A_SETTING]
    reached = cfg["steps_to_target"].where(cfg["steps_to_target"] >= 0)
    table = cfg.assign(reached=reached, never=cfg["steps_to_target"] < 0).groupby(keys, sort=True).agg(
        runs=("final_train_loss", "size"), loss_min=("final_train_loss", "min"),
        loss_median=("final_train_loss", "median"), loss_max=("final_train_loss", "max"),
        steps_to_target=("reached", "median"), never=("never", "sum"),
        best_accuracy=("best_test_accuracy", "median"), diverged=("diverged", "sum"))
    if cfg["best_test_accuracy"].isna().all():
        table = table.drop(columns="best_accuracy")
    head = (f"{len(cfg)} training runs, {len(df)} rows; final train loss over seeds (min / median / max), "
            f"median steps to target (never: runs that did not reach it)\n")
    return head + table.to_string(float_format="{:.4g}".format)
