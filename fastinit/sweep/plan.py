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

import hashlib
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..activations import get_activation
from ..engine import DEFAULT as CACHE
from ..engine import (
    check_weights,
    make_shape,
    make_variant,
    memory_estimate,
    metric_columns,
    run_groups,
    stored_bytes,
)
from ..initializers import get_initializer
from ..kernels import METRICS
from .spec import DEFAULTS, ENGINE_KEYS, Spec

VARIANT_KEYS = ("initializer", "activation", "bias_initializer")
#: Most bytes of weight rows and base draws stored per chunk (a fixed number, so chunks depend on
#: the spec alone). Networks of one chunk run in parallel, one per thread: the budget must hold
#: several large ones (two of width 1024 and depth 32 store 269 MB).
STORED_BUDGET = 2 ** 30
#: Default chunk size: at least this many configurations, ...
CHUNK_CONFIGS = 512
#: ... or as many as make this many flops of forward and backward passes (0.1 s of work or so).
CHUNK_FLOPS = 2e9
SHAPE_KEYS = (
    "depth",
    "width",
    "widths",
    "batch",
    "seed",
    "trial",
    "input",
    "input_corr",
    "dtype",
    "backward",
    "jacobian",
    "loss",
)


@dataclass
class Chunk:
    """One unit of work: configurations of one shape (plain data, so it pickles for Dask).

    Its members come group by group (seed and trial), network by network within a group
    (initializer, activation and bias initializer), and depth by depth within a network.
    """

    chunk_id: int
    config_ids: np.ndarray  # int64, one per member
    index: dict             # grid key -> int64 array: each member's position in grid[key]
    grid: dict              # the spec's grid
    settings: dict          # the settings every configuration shares (defaults and [settings])
    theory: bool = False
    stored: int = 0         # bytes of weight rows and base draws (see simulate.stored_bytes)
    resolved: dict = field(default_factory=dict, repr=False, compare=False)   # names resolved so far,
    #                                                                           shared by a sweep's chunks

    @property
    def size(self) -> int:
        return len(self.config_ids)

    def member(self, i: int) -> dict:
        """The settings of member ``i``."""
        return _settings_of(self.grid, self.settings, self.index, i)


def _settings_of(grid: dict, settings: dict, index: dict, i: int) -> dict:
    """The settings of configuration ``i`` of the ``index`` arrays."""
    return {**settings, **{k: v[int(index[k][i])] for k, v in grid.items()}}


def label(key, value):
    """The table value of a grid entry: canonical labels for initializers and activations."""
    if key in ("initializer", "bias_initializer"):
        return get_initializer(value).label
    if key == "activation":
        return get_activation(value).label
    if key == "widths":
        return "-".join(str(w) for w in value)
    return value


def shared_settings(spec: Spec) -> dict:
    """The simulate settings every configuration of a spec shares: defaults and ``[settings]``."""
    fixed = {**DEFAULTS, **spec.settings}
    for k in ENGINE_KEYS:
        fixed.pop(k, None)
    return fixed


def configs(spec: Spec):
    """Yield ``(config_id, settings)`` for every configuration, in grid order."""
    keys = list(spec.grid)
    fixed = shared_settings(spec)
    for i, values in enumerate(itertools.product(*(spec.grid[k] for k in keys))):
        yield i, {**fixed, **dict(zip(keys, values))}


def table_columns(grid: dict, settings: dict) -> list[str]:
    """Identifying columns of the result table, in order."""
    cols = ["config_id", *grid]
    for extra in ("initializer", "activation", "depth", "width", "seed"):
        if extra not in cols and not (extra == "width" and "widths" in grid | settings):
            cols.append(extra)
    return cols


def _code(index: dict, grid: dict, keys, n: int) -> np.ndarray:
    """One integer per member for its values of ``keys`` (those in the grid; mixed radix)."""
    code = np.zeros(n, dtype=np.int64)
    for k in keys:
        if k in grid:
            code = code * len(grid[k]) + index[k]
    return code


def _first_rank(code: np.ndarray) -> np.ndarray:
    """Each entry's value numbered in order of first appearance."""
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def member_depths(grid: dict, settings: dict, index: dict, members) -> np.ndarray:
    """The depth of each of ``members`` (positions in the ``index`` arrays)."""
    n = len(members)
    if "widths" in grid:
        return np.array([len(w) - 1 for w in grid["widths"]], dtype=np.int64)[index["widths"][members]]
    if "widths" in settings:
        return np.full(n, len(settings["widths"]) - 1, dtype=np.int64)
    if "depth" in grid:
        return np.asarray(grid["depth"], dtype=np.int64)[index["depth"][members]]
    return np.full(n, settings["depth"], dtype=np.int64)


def chunks(spec: Spec) -> list[Chunk]:
    """Group the configurations and pack the groups of each shape into chunks.

    Configurations that differ only in depth (widths given by ``width``) are one network: its
    depths go to the same chunk, and one forward pass serves them all. The grid is a Cartesian
    product, so every group of a shape has the same networks, each with the same depths.
    """
    grid, settings = spec.grid, shared_settings(spec)
    n = spec.n_configs
    cids = np.arange(n, dtype=np.int64)
    index = {
        k: np.asarray(v, dtype=np.int64)
        for k, v in zip(grid, np.unravel_index(cids, [len(v) for v in grid.values()]))
    }
    by_width = "widths" not in grid and "widths" not in settings
    shape_keys = [
        k for k in SHAPE_KEYS if k in grid and k not in ("seed", "trial") and not (k == "depth" and by_width)
    ]
    bucket = _first_rank(_code(index, grid, shape_keys, n))
    group = _first_rank(_code(index, grid, shape_keys + ["seed", "trial"], n))
    network = _first_rank(_code(index, grid, shape_keys + ["seed", "trial", *VARIANT_KEYS], n))
    order = np.lexsort((cids, network, group, bucket))
    n_groups, n_networks = group.max() + 1, network.max() + 1
    per_network = n // n_networks                          # depths of each network
    per_group = n_networks // n_groups                     # networks of each group
    depths = member_depths(grid, settings, index, cids)
    out: list[Chunk] = []
    resolved: dict = {}
    memo: dict = {}   # stored bytes of a group's networks first..stop-1 in a bucket
    starts = np.flatnonzero(np.r_[True, np.diff(bucket[order]) != 0])
    for b, (lo, hi) in enumerate(zip(starts, [*starts[1:], n])):
        members = order[lo:hi]
        trunk = make_shape(
            **_shape_kwargs(_settings_of(grid, settings, index, members[np.argmax(depths[members])]))
        )
        firsts = members[:per_group * per_network:per_network]     # the first group's networks
        inits = [_settings_of(grid, settings, index, i)["initializer"] for i in firsts]
        size = spec.value("chunk_size") or default_chunk_size(trunk, depths[members[:per_network]])
        pieces = max(1, size // per_network)                   # networks per piece
        current: list = []   # slices of `members`
        count = used = 0
        for g in range(len(members) // (per_group * per_network)):
            first, group_used = None, 0
            for s in range(0, per_group, pieces):
                e = min(s + pieces, per_group)
                piece = (e - s) * per_network
                lo_net = s if first is None else first
                need = _once(memo, (b, lo_net, e), stored_bytes, trunk, inits[lo_net:e])
                if current and (count + piece > size or used + need - group_used > STORED_BUDGET):
                    out.append(_chunk(len(out), members, current, index, spec, settings, used, resolved))
                    current, count, used, first, group_used = [], 0, 0, None, 0
                    need = _once(memo, (b, s, e), stored_bytes, trunk, inits[s:e])
                first = s if first is None else first
                base = g * per_group * per_network
                current.append(slice(base + s * per_network, base + e * per_network))
                count += piece
                used += need - group_used
                group_used = need
        out.append(_chunk(len(out), members, current, index, spec, settings, used, resolved))
    return out


def layout(parts: list[Chunk]) -> str:
    """A digest of which configurations each chunk holds, in order (stored results can only be
    resumed by the same cut)."""
    digest = hashlib.sha256()
    for c in parts:
        digest.update(np.asarray(c.config_ids, dtype="<i8").tobytes() + b"|")
    return digest.hexdigest()[:16]


def expected_parts(parts: list[Chunk]) -> dict:
    """What each chunk's stored part must hold: chunk id -> (digest of its configuration ids, rows,
    configurations)."""
    from .store import ids_digest
    return {c.chunk_id: (ids_digest(np.unique(c.config_ids)),
                         int(member_depths(c.grid, c.settings, c.index, np.arange(c.size)).sum()), c.size)
            for c in parts}


def default_chunk_size(shape, depths) -> int:
    """Configurations per chunk when the spec does not say: :data:`CHUNK_CONFIGS`, or more small
    ones, as many as make :data:`CHUNK_FLOPS` (so a chunk's fixed costs stay small)."""
    layer = np.cumsum([0, *(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))])
    flops = (6 if shape.backward else 2) * shape.batch * layer[np.asarray(depths)].mean()
    return max(CHUNK_CONFIGS, int(CHUNK_FLOPS / flops))


def _chunk(
    chunk_id: int,
    members: np.ndarray,
    slices: list,
    index: dict,
    spec: Spec,
    settings: dict,
    stored: int,
    resolved: dict,
) -> Chunk:
    ids = np.concatenate([members[s] for s in slices])
    return Chunk(
        chunk_id,
        ids,
        {k: v[ids] for k, v in index.items()},
        spec.grid,
        settings,
        bool(spec.value("theory")),
        stored,
        resolved,
    )


def _shape_kwargs(cfg: dict) -> dict:
    shape = {k: cfg[k] for k in SHAPE_KEYS if k in cfg}
    if "widths" in shape:
        shape.pop("depth", None)
        shape.pop("width", None)
    return shape


def _once(memo: dict, key, fn, *args):
    """``fn(*args)`` computed once per ``key``."""
    if key not in memo:
        memo[key] = fn(*args)
    return memo[key]


def _structure(chunk: Chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each member's depth and variant code, and the members that start a group and a network."""
    n = chunk.size
    group = _code(chunk.index, chunk.grid, ("seed", "trial"), n)
    variant = _code(chunk.index, chunk.grid, VARIANT_KEYS, n)
    new_group = np.r_[True, group[1:] != group[:-1]]
    new_network = new_group | np.r_[True, variant[1:] != variant[:-1]]
    return (
        member_depths(chunk.grid, chunk.settings, chunk.index, np.arange(n)),
        variant,
        np.flatnonzero(new_group),
        np.flatnonzero(new_network),
    )


def _groups(chunk: Chunk, structure: tuple) -> tuple[list[tuple], list[int]]:
    """The chunk's groups, each (trunk Shape, [Variant] one per network), and the depths the
    chunk reports (``structure``: see :func:`_structure`). Groups with the same networks share
    one list of variants."""
    depth_of, variant, group_starts, network_starts = structure
    depths = sorted(set(depth_of.tolist()))
    memo = chunk.resolved
    bounds = np.searchsorted(network_starts, [*group_starts, chunk.size])
    out = []
    for g, start in enumerate(group_starts):
        cfg = chunk.member(int(start))
        trunk = make_shape(**_shape_kwargs({**cfg, "depth": depths[-1]} if "widths" not in cfg else cfg))
        nets = network_starts[bounds[g]:bounds[g + 1]]
        key = ("variants", *variant[nets].tolist())
        if key not in memo:
            memo[key] = [
                _once(memo, ("variant", int(variant[i])), _variant, chunk.member(int(i))) for i in nets
            ]
        out.append((trunk, memo[key]))
    return out, depths


def check_networks(chunk: Chunk) -> None:
    """Every network of a chunk can be drawn (:func:`fastinit.engine.check_weights`); raises
    ValueError with one line per initializer that cannot, naming its key path in the spec
    (``grid.initializer[2]``, ``settings.bias_initializer``), the initializer and the layer. Its
    variants are resolved into ``chunk.resolved``, where computing the chunk finds them."""
    structure = _structure(chunk)
    groups, _ = _groups(chunk, structure)
    _, _, group_starts, network_starts = structure
    bounds = np.searchsorted(network_starts, [*group_starts, chunk.size])
    memo = chunk.resolved.setdefault("checked", set())
    problems: dict = {}     # messages, in order, each once
    for g, (trunk, variants) in enumerate(groups):
        for i, v in zip(network_starts[bounds[g]:bounds[g + 1]], variants):
            key = (trunk.widths, trunk.dtype, v.initializer.label, v.bias_initializer.label)
            if key in memo:
                continue
            paths = {k: f"grid.{k}[{int(chunk.index[k][i])}]" if k in chunk.grid else f"settings.{k}"
                     for k in ("initializer", "bias_initializer")}
            try:
                check_weights(trunk, v, paths)
            except ValueError as e:
                problems[str(e)] = None
                continue
            memo.add(key)
    if problems:
        raise ValueError("\n  ".join(problems))


def _variant(cfg: dict):
    return make_variant(*(cfg[k] for k in VARIANT_KEYS))


def _deepest(chunk: Chunk, depth_of: np.ndarray) -> dict:
    """The shape settings of the chunk's deepest configuration (``depth_of``: each member's depth)."""
    return _shape_kwargs(chunk.member(int(np.argmax(depth_of))))


def chunk_memory(chunk: Chunk, threads: int | None = None) -> int:
    """Peak bytes of computing a chunk: its kernel call (:func:`fastinit.engine.memory_estimate`)
    and its rows of the table (the call's metrics gathered into rows, their columns, the
    identifying columns, the theory columns)."""
    depth_of, _, group_starts, network_starts = _structure(chunk)
    n_depths = len(set(depth_of.tolist()))
    # every group of a chunk has the same networks (the grid is a product): the first group's
    first = network_starts[network_starts < (group_starts[1] if len(group_starts) > 1 else chunk.size)]
    call = memory_estimate(
        make_shape(**_deepest(chunk, depth_of)),
        stored=chunk.stored,
        n_groups=len(group_starts),
        threads=threads,
        cache=CACHE,
        initializers=[chunk.member(int(i))["initializer"] for i in first],
        n_networks=len(network_starts),
        n_depths=n_depths,
    )
    rows = int(depth_of.sum())
    columns = len(METRICS) + len(table_columns(chunk.grid, chunk.settings)) + 1
    theory = 3 * 3 if chunk.theory else 0       # three predicted columns, each built in three steps
    results = len(network_starts) * n_depths * int(depth_of.max()) * len(METRICS) * 8   # their concatenation
    return call + results + rows * 8 * (3 * len(METRICS) + columns + theory)


def describe(chunk: Chunk) -> str:
    """A short description of a chunk's (deepest) shape for messages."""
    deepest = _deepest(chunk, _structure(chunk)[0])
    return ", ".join(
        f"{k}={v}" for k, v in deepest.items() if k in ("depth", "width", "widths", "batch", "dtype")
    )


def compute_chunk(chunk: Chunk, threads: int | None = None) -> pd.DataFrame:
    """Simulate every configuration of a chunk in one kernel call; return its rows of the table."""
    structure = _structure(chunk)
    groups, depths = _groups(chunk, structure)
    results = np.concatenate(run_groups(groups, depths, threads=threads))
    counts, _, group_starts, network_starts = structure
    members = np.arange(chunk.size)
    network = np.searchsorted(network_starts, members, side="right") - 1     # each member's row of `results`
    row_layer = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    metrics = results[
        np.repeat(network, counts), np.repeat(np.searchsorted(depths, counts), counts), row_layer
    ]
    data = {"config_id": np.repeat(chunk.config_ids, counts)}
    memo = chunk.resolved
    for c in table_columns(chunk.grid, chunk.settings)[1:]:
        if c in chunk.grid:
            labels = _once(memo, ("labels", c), lambda key: [label(key, v) for v in chunk.grid[key]], c)
            data[c] = _column(labels, np.repeat(chunk.index[c], counts))
        elif c == "depth":
            data[c] = np.repeat(counts, counts)
        else:
            data[c] = _column([label(c, chunk.settings[c])], np.zeros(len(row_layer), dtype=np.int64))
    data["layer"] = row_layer + 1
    data.update(metric_columns(metrics))
    df = pd.DataFrame(data, copy=False)
    if chunk.theory:
        for name, column in _theory_columns(chunk, groups, structure).items():
            df[name] = column
    return df


def _theory_columns(chunk: Chunk, groups: list, structure: tuple) -> dict:
    """The mean-field predictions of a chunk's rows (``preact_sq_theory``, ...): one request per
    configuration, each distinct network computed once per sweep (``chunk.resolved`` keeps them)."""
    from ..theory import PREDICTED, predict_many
    counts, _, group_starts, network_starts = structure
    members = np.arange(chunk.size)
    network = np.searchsorted(network_starts, members, side="right") - 1
    group = np.searchsorted(group_starts, members, side="right") - 1
    variants = [v for _, vs in groups for v in vs]
    requests = []
    for i in members:
        shape, v = groups[group[i]][0], variants[network[i]]
        requests.append(
            {
                "initializer": v.initializer,
                "activation": v.activation,
                "bias_initializer": v.bias_initializer,
                "widths": shape.widths,
                "depths": [int(counts[i])],
                "input": shape.input,
                "input_corr": shape.input_corr,
                "loss": shape.loss,
            }
        )
    pred = np.concatenate([p[0, :c] for p, c in zip(predict_many(requests, memo=chunk.resolved.setdefault(
        "theory", {})), counts)])
    return {f"{c}_theory": pred[:, j] for j, c in enumerate(PREDICTED)}


_STR = pd.Series(["a"]).dtype   # the dtype pandas gives a column of strings


def _column(labels: list, codes: np.ndarray):
    """The table column ``labels[codes]``; strings are gathered by Arrow where pandas keeps them
    in Arrow (a quarter of the time of converting Python strings)."""
    if isinstance(labels[0], str):
        if isinstance(_STR, pd.StringDtype) and _STR.storage == "pyarrow":
            import pyarrow as pa
            return pd.array(pa.array(labels).take(codes), dtype=_STR)
        return np.asarray(labels, dtype=object)[codes]
    return np.asarray(labels)[codes]
