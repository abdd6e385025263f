"""Grid expansion, grouping into kernel calls, and the computation of one chunk.

Configurations are numbered in the order of the grid's Cartesian product (``config_id``).
Configurations that share everything but their initializer, activation and bias initializer form
a *group*: one set of base random draws (common random numbers). Groups of one shape (differing
only in seed and trial) are packed into *chunks* of at most ``chunk_size`` configurations and
:data:`BASE_BUDGET` bytes of stored base draws; a chunk is one parallel kernel call and the unit of
scheduling and storage. Each network is computed alone by one thread, so results do not depend on
the chunking, and the chunking depends on the spec alone.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..activations import get_activation
from ..initializers import get_initializer
from ..kernels.network import METRICS
from ..simulate import base_rows, make_shape, make_variant, memory_estimate, run_groups, weight_code
from .spec import DEFAULTS, Spec

VARIANT_KEYS = ("initializer", "activation", "bias_initializer")
#: Most bytes of stored base draws per chunk (a fixed number, so chunks depend on the spec alone).
BASE_BUDGET = 256 * 2 ** 20
SHAPE_KEYS = ("depth", "width", "widths", "batch", "seed", "trial", "input", "input_corr", "dtype", "backward",
              "jacobian", "loss")


@dataclass
class Chunk:
    """One unit of work: configurations of one group (plain data, so it pickles for Dask)."""

    chunk_id: int
    shapes: list            # simulate settings of each configuration (one shape, several seeds/trials)
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
    """Group the configurations and pack the groups of each shape into chunks."""
    size = spec.value("chunk_size")
    cols = table_columns(spec)[1:]
    varying = [k for k in SHAPE_KEYS if k in spec.grid and k not in ("seed", "trial")]
    buckets: dict[tuple, dict[tuple, list]] = {}
    for cid, cfg in configs(spec):
        shape_key = tuple(repr(cfg[k]) for k in varying)
        group_key = (cfg.get("seed"), cfg.get("trial"))
        buckets.setdefault(shape_key, {}).setdefault(group_key, []).append((cid, cfg))
    memo: dict = {}   # grid values repeat as the same objects: resolve each once
    out: list[Chunk] = []
    for groups in buckets.values():
        pieces = [members[i:i + size] for members in groups.values() for i in range(0, len(members), size)]
        shape = make_shape(**_shape_kwargs(pieces[0][0][1]))
        n_w = sum(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))
        current: list = []
        used = 0
        for piece in pieces:
            codes = [_once(memo, ("code", id(cfg["initializer"])), weight_code, cfg["initializer"], shape)
                     for _, cfg in piece]
            need = 8 * n_w * sum(base_rows(codes))
            if current and (len(current) + len(piece) > size or used + need > BASE_BUDGET):
                out.append(_chunk(len(out), current, cols, spec, memo))
                current, used = [], 0
            current += piece
            used += need
        out.append(_chunk(len(out), current, cols, spec, memo))
    return out


def _once(memo: dict, key, fn, *args):
    """``fn(*args)`` computed once per ``key`` (keys hold ``id``s of objects alive during the call)."""
    if key not in memo:
        memo[key] = fn(*args)
    return memo[key]


def _shape_kwargs(cfg: dict) -> dict:
    shape = {k: cfg[k] for k in SHAPE_KEYS if k in cfg}
    if "widths" in shape:
        shape.pop("depth", None)
        shape.pop("width", None)
    return shape


def _chunk(chunk_id: int, members: list, cols: list, spec: Spec, memo: dict) -> Chunk:
    columns = {c: [len(cfg["widths"]) - 1 if c == "depth" and "widths" in cfg
                   else _once(memo, ("label", c, id(cfg[c])), label, c, cfg[c]) for _, cfg in members] for c in cols}
    return Chunk(chunk_id, [_shape_kwargs(cfg) for _, cfg in members], [cid for cid, _ in members],
                 [tuple(cfg[k] for k in VARIANT_KEYS) for _, cfg in members], columns, bool(spec.value("theory")))


def _groups(chunk: Chunk) -> list[tuple]:
    """The chunk's groups in order of first appearance: (Shape, [Variant], [positions in chunk])."""
    groups: dict[tuple, list] = {}
    for i, kwargs in enumerate(chunk.shapes):
        groups.setdefault((kwargs.get("seed"), kwargs.get("trial")), []).append(i)
    memo: dict = {}
    variants = [_once(memo, tuple(map(id, v)), make_variant, *v) for v in chunk.variants]
    return [(make_shape(**chunk.shapes[idx[0]]), [variants[i] for i in idx], idx) for idx in groups.values()]


def chunk_memory(chunk: Chunk, threads: int | None = None) -> int:
    """Peak bytes of computing a chunk."""
    groups = _groups(chunk)
    shape = groups[0][0]
    codes = [[weight_code(v.initializer, shape) for v in variants] for _, variants, _ in groups]
    return memory_estimate(shape, n_explicit=sum(c.count(-1) for c in codes),
                           n_base_rows=sum(sum(base_rows(c)) for c in codes), n_groups=len(groups), threads=threads)


def describe(chunk: Chunk) -> str:
    """A short description of a chunk's shape for messages."""
    return ", ".join(f"{k}={v}" for k, v in chunk.shapes[0].items()
                     if k in ("depth", "width", "widths", "batch", "dtype"))


def compute_chunk(chunk: Chunk, threads: int | None = None) -> pd.DataFrame:
    """Simulate every configuration of a chunk in one kernel call; return its rows of the table."""
    if threads:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    groups = _groups(chunk)
    results = run_groups([(shape, variants) for shape, variants, _ in groups])
    depth = groups[0][0].depth
    metrics = np.empty((chunk.size, depth, len(METRICS)))
    for (_, _, idx), res in zip(groups, results):
        metrics[idx] = res
    n = chunk.size
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
        pred = np.empty((n, depth, 3))
        for shape, variants, idx in groups:
            for i, v in zip(idx, variants):
                p = predict(v.initializer, v.activation, widths=shape.widths, bias_initializer=v.bias_initializer,
                            input=shape.input, input_corr=shape.input_corr, loss=shape.loss)
                pred[i] = p.drop(columns="layer").to_numpy()
        pred = pred.reshape(n * depth, 3)
        for j, c in enumerate(p.columns.drop("layer")):
            df[f"{c}_theory"] = pred[:, j]
    return df
