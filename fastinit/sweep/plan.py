"""Grid expansion, grouping into kernel calls, and the computation of one chunk.

Configurations are numbered in the order of the grid's Cartesian product (``config_id``).
Configurations that differ only in depth are one *network* (one forward pass serves every depth).
Networks that share everything but their initializer, activation and bias initializer form a
*group*: one set of random draws (common random numbers). Groups of one shape (differing only in
seed and trial) are packed into *chunks* of at most ``chunk_size`` configurations (whole networks)
and :data:`STORED_BUDGET` bytes of weight rows and base draws; a chunk is one parallel kernel call
and the unit of scheduling and storage. Each network is computed alone by one thread, so results
do not depend on the chunking, and the chunking depends on the spec alone.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..activations import get_activation
from ..initializers import get_initializer
from ..kernels.network import METRICS
from ..simulate import (
    make_shape,
    make_variant,
    memory_estimate,
    run_groups,
    stored_bytes,
)
from .spec import DEFAULTS, Spec

VARIANT_KEYS = ("initializer", "activation", "bias_initializer")
#: Most bytes of weight rows and base draws stored per chunk (a fixed number, so chunks depend on
#: the spec alone).
STORED_BUDGET = 256 * 2 ** 20
SHAPE_KEYS = ("depth", "width", "widths", "batch", "seed", "trial", "input", "input_corr", "dtype", "backward",
              "jacobian", "loss")


@dataclass
class Chunk:
    """One unit of work: configurations of one shape (plain data, so it pickles for Dask)."""

    chunk_id: int
    shapes: list            # simulate settings of each configuration (one shape, several seeds/trials/depths)
    config_ids: list
    variants: list          # (initializer, activation, bias_initializer) specs
    columns: dict           # grid column name -> list of values (labels for named things)
    theory: bool = False
    stored: int = 0         # bytes of weight rows and base draws (see simulate.stored_bytes)

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
    """Group the configurations and pack the groups of each shape into chunks.

    Configurations that differ only in depth (widths given by ``width``) are one network: its
    depths go to the same chunk, and one forward pass serves them all.
    """
    size = spec.value("chunk_size")
    cols = table_columns(spec)[1:]
    varying = [k for k in SHAPE_KEYS if k in spec.grid and k not in ("seed", "trial")]
    buckets: dict[tuple, dict[tuple, dict[tuple, list]]] = {}
    memo: dict = {}   # grid values repeat as the same objects: resolve each once
    for cid, cfg in configs(spec):
        shape_key = tuple(repr(cfg[k]) for k in varying if k != "depth" or "widths" in cfg)
        group_key = (cfg.get("seed"), cfg.get("trial"))
        network_key = tuple(id(cfg[k]) for k in VARIANT_KEYS)
        kwargs = _once(memo, ("shape", shape_key, group_key, cfg.get("depth")), _shape_kwargs, cfg)
        buckets.setdefault(shape_key, {}).setdefault(group_key, {}).setdefault(network_key, []).append(
            (cid, cfg, kwargs))
    out: list[Chunk] = []
    for b, groups in enumerate(buckets.values()):
        trunk = _trunk([member for nets in groups.values() for net in nets.values() for member in net])
        current: list = []
        used = 0
        for networks in groups.values():
            inits: list = []    # initializers of this group in the current chunk, and their stored bytes
            group_used = 0
            for piece in _pieces(list(networks.values()), size):
                more = [net[0][1]["initializer"] for net in piece]
                stored = _once(memo, ("stored", b, *map(id, inits + more)), stored_bytes, trunk, inits + more)
                n = sum(len(net) for net in piece)
                if current and (len(current) + n > size or used + stored - group_used > STORED_BUDGET):
                    out.append(_chunk(len(out), current, cols, spec, memo, used))
                    current, used, inits, group_used = [], 0, [], 0
                    stored = _once(memo, ("stored", b, *map(id, more)), stored_bytes, trunk, more)
                current += [member for net in piece for member in net]
                used += stored - group_used
                inits += more
                group_used = stored
        out.append(_chunk(len(out), current, cols, spec, memo, used))
    return out


def _trunk(members: list):
    """The deepest shape of a bucket's members (all its networks' depths are prefixes of it)."""
    return make_shape(**max((kwargs for _, _, kwargs in members), key=_depth))


def _pieces(networks: list, size: int) -> list:
    """Consecutive networks packed into pieces of at most ``size`` configurations (a network with
    more depths than that is a piece of its own)."""
    pieces, current = [], []
    for net in networks:
        if current and sum(map(len, current)) + len(net) > size:
            pieces.append(current)
            current = []
        current.append(net)
    return pieces + [current]


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


def _chunk(chunk_id: int, members: list, cols: list, spec: Spec, memo: dict, stored: int) -> Chunk:
    """A chunk of ``members`` (config_id, settings, shape settings); equal shape settings and
    variants are shared objects, which keeps the chunk small when pickled."""
    columns = {c: [len(cfg["widths"]) - 1 if c == "depth" and "widths" in cfg
                   else _once(memo, ("label", c, id(cfg[c])), label, c, cfg[c]) for _, cfg, _ in members] for c in cols}
    variants = [_once(memo, ("variant", *(id(cfg[k]) for k in VARIANT_KEYS)), lambda c: tuple(c[k] for k in VARIANT_KEYS),
                      cfg) for _, cfg, _ in members]
    return Chunk(chunk_id, [kwargs for _, _, kwargs in members], [cid for cid, _, _ in members], variants, columns,
                 bool(spec.value("theory")), stored)


def _depth(kwargs: dict) -> int:
    return len(kwargs["widths"]) - 1 if "widths" in kwargs else kwargs["depth"]


def _groups(chunk: Chunk) -> tuple[list[tuple], list[int]]:
    """The chunk's groups in order of first appearance, each (trunk Shape, [Variant] one per
    network, [[positions in chunk] per network]), and the depths the chunk reports."""
    depths = sorted({_depth(kwargs) for kwargs in chunk.shapes})
    groups: dict[tuple, dict] = {}
    for i, (kwargs, variant) in enumerate(zip(chunk.shapes, chunk.variants)):
        groups.setdefault((kwargs.get("seed"), kwargs.get("trial")), {}).setdefault(id(variant), []).append(i)
    memo: dict = {}
    out = []
    for nets in groups.values():
        first = chunk.shapes[next(iter(nets.values()))[0]]
        trunk = make_shape(**({**first, "depth": depths[-1]} if "widths" not in first else first))
        variants = [_once(memo, key, make_variant, *chunk.variants[idx[0]]) for key, idx in nets.items()]
        out.append((trunk, variants, list(nets.values())))
    return out, depths


def _deepest(chunk: Chunk) -> dict:
    """The shape settings of the chunk's deepest configuration."""
    return max({id(k): k for k in chunk.shapes}.values(), key=_depth)


def chunk_memory(chunk: Chunk, threads: int | None = None) -> int:
    """Peak bytes of computing a chunk."""
    n_groups = len({(k.get("seed"), k.get("trial")) for k in chunk.shapes})
    return memory_estimate(make_shape(**_deepest(chunk)), stored=chunk.stored, n_groups=n_groups, threads=threads)


def describe(chunk: Chunk) -> str:
    """A short description of a chunk's (deepest) shape for messages."""
    deepest = _deepest(chunk)
    return ", ".join(f"{k}={v}" for k, v in deepest.items() if k in ("depth", "width", "widths", "batch", "dtype"))


def compute_chunk(chunk: Chunk, threads: int | None = None) -> pd.DataFrame:
    """Simulate every configuration of a chunk in one kernel call; return its rows of the table."""
    if threads:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    groups, depths = _groups(chunk)
    results = run_groups([(shape, variants) for shape, variants, _ in groups], depths)
    network = np.empty(chunk.size, dtype=np.int64)     # each configuration's network in `results`
    first = 0
    for _, _, nets in groups:
        for j, idx in enumerate(nets):
            network[idx] = first + j
        first += len(nets)
    memo: dict = {}
    counts = np.array([_once(memo, id(kwargs), _depth, kwargs) for kwargs in chunk.shapes], dtype=np.int64)
    row_layer = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    flat = np.concatenate(results)[np.repeat(network, counts), np.repeat(np.searchsorted(depths, counts), counts),
                                   row_layer]
    data = {"config_id": np.repeat(np.asarray(chunk.config_ids, dtype=np.int64), counts)}
    for c, vals in chunk.columns.items():
        data[c] = np.repeat(np.asarray(vals, dtype=object if isinstance(vals[0], str) else None), counts)
    data["layer"] = row_layer + 1
    for j, m in enumerate(METRICS):
        data[m] = flat[:, j].astype(np.int64) if m in ("distinct_units", "nonfinite") and np.isfinite(flat[:, j]).all() \
            else flat[:, j]
    df = pd.DataFrame(data)
    if chunk.theory:
        from ..theory import predict
        start = np.cumsum(counts) - counts       # each configuration's first row
        pred = np.empty((len(df), 3))
        for shape, variants, nets in groups:
            for v, idx in zip(variants, nets):
                for i in idx:
                    p = predict(v.initializer, v.activation, widths=shape.widths[:counts[i] + 1],
                                bias_initializer=v.bias_initializer, input=shape.input, input_corr=shape.input_corr,
                                loss=shape.loss).drop(columns="layer")
                    pred[start[i]:start[i] + counts[i]] = p.to_numpy()
        for j, c in enumerate(p.columns):
            df[f"{c}_theory"] = pred[:, j]
    return df
