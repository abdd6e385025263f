"""Grid expansion, grouping into kernel calls, and the computation of one chunk.

Configurations are numbered in the order of the grid's Cartesian product (``config_id``).
Configurations that share everything but their initializer, activation and bias initializer form
a group: one kernel call, one set of base random draws (common random numbers). Groups are cut
into chunks of at most ``chunk_size`` configurations; a chunk is the unit of scheduling and of
storage. Each network is computed alone by one thread, so results do not depend on the chunking.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..activations import get_activation
from ..initializers import get_initializer
from ..kernels.network import METRICS
from ..simulate import make_shape, make_variant, memory_estimate, run_group
from .spec import DEFAULTS, Spec

VARIANT_KEYS = ("initializer", "activation", "bias_initializer")
SHAPE_KEYS = ("depth", "width", "widths", "batch", "seed", "trial", "input", "input_corr", "dtype", "backward",
              "jacobian", "loss")


@dataclass
class Chunk:
    """One unit of work: configurations of one group (plain data, so it pickles for Dask)."""

    chunk_id: int
    shape: dict
    config_ids: list
    variants: list          # (initializer, activation, bias_initializer) specs
    columns: dict           # grid column name -> list of values (labels for named things)
    theory: bool = False

    @property
    def size(self) -> int:
        return len(self.config_ids)


def label(key, value):
    """The table value of a grid entry: canonical labels for initializers and activations."""
    if key in ("initializer", "bias_initializer"):
        return get_initializer(value).label
    if key == "activation":
        return get_activation(value).label
    if key == "widths":
        return "-".join(str(w) for w in value)
    return value


def configs(spec: Spec):
    """Yield ``(config_id, settings)`` for every configuration, in grid order."""
    keys = list(spec.grid)
    fixed = {**{k: v for k, v in DEFAULTS.items() if k not in ("theory", "chunk_size")}, **spec.settings}
    fixed.pop("theory", None)
    fixed.pop("chunk_size", None)
    for i, values in enumerate(itertools.product(*(spec.grid[k] for k in keys))):
        yield i, {**fixed, **dict(zip(keys, values))}


def table_columns(spec: Spec) -> list[str]:
    """Identifying columns of the result table, in order."""
    cols = ["config_id", *spec.grid]
    for extra in ("initializer", "activation", "depth", "width", "seed"):
        if extra not in cols and not (extra == "width" and "widths" in spec.grid | spec.settings):
            cols.append(extra)
    return cols


def chunks(spec: Spec) -> list[Chunk]:
    """Group the configurations by shape and cut the groups into chunks."""
    size = spec.value("chunk_size")
    cols = table_columns(spec)[1:]
    groups: dict[tuple, list] = {}
    for cid, cfg in configs(spec):
        key = tuple((k, repr(cfg.get(k))) for k in SHAPE_KEYS)
        groups.setdefault(key, []).append((cid, cfg))
    out = []
    for members in groups.values():
        for start in range(0, len(members), size):
            part = members[start:start + size]
            cfg0 = part[0][1]
            shape = {k: cfg0[k] for k in SHAPE_KEYS if k in cfg0}
            if "widths" in shape:
                shape.pop("depth", None)
                shape.pop("width", None)
            columns = {}
            for c in cols:
                vals = []
                for _, cfg in part:
                    if c == "depth" and "widths" in cfg:
                        vals.append(len(cfg["widths"]) - 1)
                    else:
                        vals.append(label(c, cfg[c]))
                columns[c] = vals
            out.append(Chunk(len(out), shape, [cid for cid, _ in part],
                             [tuple(cfg[k] for k in VARIANT_KEYS) for _, cfg in part], columns,
                             bool(spec.value("theory"))))
    return out


def chunk_memory(chunk: Chunk, threads: int | None = None) -> int:
    """Peak bytes of computing a chunk."""
    shape = make_shape(**chunk.shape)
    n_explicit = sum(get_initializer(v[0]).plan(shape.widths[:2]).code is None for v in chunk.variants)
    return memory_estimate(shape, n_explicit, threads)


def describe(chunk: Chunk) -> str:
    """A short description of a chunk's shape for messages."""
    return ", ".join(f"{k}={v}" for k, v in chunk.shape.items() if k in ("depth", "width", "widths", "batch", "dtype"))


def compute_chunk(chunk: Chunk, threads: int | None = None) -> pd.DataFrame:
    """Simulate every configuration of a chunk; return its rows of the result table."""
    if threads:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    shape = make_shape(**chunk.shape)
    variants = [make_variant(*v) for v in chunk.variants]
    metrics = run_group(shape, variants)              # (n, depth, M)
    n, depth = len(variants), shape.depth
    data = {"config_id": np.repeat(np.asarray(chunk.config_ids, dtype=np.int64), depth)}
    for c, vals in chunk.columns.items():
        data[c] = np.repeat(np.asarray(vals, dtype=object if isinstance(vals[0], str) else None), depth)
    data["layer"] = np.tile(np.arange(1, depth + 1, dtype=np.int64), n)
    flat = metrics.reshape(n * depth, -1)
    for j, m in enumerate(METRICS):
        data[m] = flat[:, j].astype(np.int64) if m in ("distinct_units", "nonfinite") and np.isfinite(flat[:, j]).all() \
            else flat[:, j]
    df = pd.DataFrame(data)
    if chunk.theory:
        from ..theory import predict
        preds = []
        for v in variants:
            p = predict(v.initializer, v.activation, widths=shape.widths, bias_initializer=v.bias_initializer,
                        input=shape.input, input_corr=shape.input_corr)
            preds.append(p.drop(columns="layer").to_numpy())
        pred = np.concatenate(preds)
        for j, c in enumerate(p.columns.drop("layer")):
            df[f"{c}_theory"] = pred[:, j]
    return df
