"""Training sweeps: a spec with a ``[train]`` table trains every configuration of its grid.

A configuration is one network trained on one task (:func:`fastinit.train`'s settings). The
configurations of one task and dtype are cut into chunks of at most ``chunk_size`` (default: about
:data:`CHUNK_FLOPS` of training, at most :data:`CHUNK_CONFIGS`); a chunk is one parallel call of
the training kernel, so its networks may differ in depth, width, activation, initializer,
optimizer, learning rate, batch and seed. Each network is trained alone by one thread: results do
not depend on the chunking.

The table has one row per configuration and evaluation step: the identifying columns, ``step``,
``train_loss``, ``test_loss``, ``test_accuracy``, ``distinct_units_min`` (the fewest distinct
units of a hidden layer at that step), and the configuration's summary
(:data:`fastinit.engine.training.SUMMARY`) on each of its rows. Steps after a divergence are
NaN (``distinct_units_min`` -1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import make_variant
from ..engine.training import SUMMARY, TRAIN_DEFAULTS, make_run, summarize, train_runs
from ..kernels.training import CURVE, EVAL_ROWS
from .plan import Chunk, _column, _first_rank, _once, _settings_of, label, table_columns
from .spec import DEFAULTS, ENGINE_KEYS, Spec

#: Default chunk size: at most this many configurations ...
CHUNK_CONFIGS = 512
#: ... and about this many flops of training (a few seconds of work on two cores).
CHUNK_FLOPS = 2e10
#: Table columns of a training sweep besides the identifying ones.
CURVE_COLUMNS = ("step", *CURVE, "distinct_units_min", *SUMMARY)


def shared_settings(spec: Spec) -> dict:
    """The settings every configuration of a training spec shares: defaults and ``[settings]``."""
    fixed = {k: DEFAULTS[k] for k in ("bias_initializer", "seed", "trial", "dtype")}
    fixed.update(TRAIN_DEFAULTS, task="teacher", target=0.5)
    fixed.update({k: v for k, v in spec.settings.items() if k not in ENGINE_KEYS})
    return fixed


def _index(spec: Spec) -> dict:
    cids = np.arange(spec.n_configs, dtype=np.int64)
    return {
        k: np.asarray(v, dtype=np.int64)
        for k, v in zip(spec.grid, np.unravel_index(cids, [len(v) for v in spec.grid.values()]))
    }


def _work(cfg: dict) -> float:
    """Flops of training one configuration (products of the steps and of the evaluations are
    ignored: a bound within a small factor)."""
    n = cfg["width"]
    return 6.0 * cfg["steps"] * cfg["batch"] * n * n * cfg["depth"]


def training_chunks(spec: Spec) -> list[Chunk]:
    """Cut a training spec's configurations into chunks: configurations of one task and dtype, in
    ``config_id`` order."""
    grid, settings = spec.grid, shared_settings(spec)
    index = _index(spec)
    n = spec.n_configs
    code = np.zeros(n, dtype=np.int64)
    for k in ("task", "dtype"):
        if k in grid:
            code = code * len(grid[k]) + index[k]
    bucket = _first_rank(code)
    order = np.lexsort((np.arange(n), bucket))
    out: list[Chunk] = []
    resolved: dict = {}
    size = spec.value("chunk_size")
    start = 0
    while start < n:
        stop, work = start, 0.0
        while stop < n and bucket[order[stop]] == bucket[order[start]]:
            work += _work(_settings_of(grid, settings, index, int(order[stop])))
            stop += 1
            if stop - start >= (size or CHUNK_CONFIGS) or (size is None and work >= CHUNK_FLOPS):
                break
        ids = order[start:stop]
        out.append(
            Chunk(len(out), ids, {k: v[ids] for k, v in index.items()}, grid, settings, False, 0, resolved)
        )
        start = stop
    return out


def _task(chunk: Chunk, value):
    """The task of a spec value, built once per process (``chunk.resolved`` is shared by a sweep's
    chunks; labels and runs both take it from here)."""
    from ..train import resolve_task

    return _once(chunk.resolved, ("task", repr(value)), resolve_task, value)


def _runs(chunk: Chunk) -> tuple[list, object]:
    """The chunk's runs, validated (errors name the configuration), and its task."""
    task = _task(chunk, chunk.member(0)["task"])
    runs = []
    for i in range(chunk.size):
        cfg = chunk.member(i)
        variant = _once(
            chunk.resolved,
            ("variant", *(label(k, cfg[k]) for k in ("initializer", "activation", "bias_initializer"))),
            make_variant,
            cfg["initializer"],
            cfg["activation"],
            cfg["bias_initializer"],
        )
        try:
            runs.append(
                make_run(
                    variant,
                    task,
                    cfg["depth"],
                    cfg["width"],
                    seed=cfg["seed"],
                    trial=cfg["trial"],
                    dtype=cfg["dtype"],
                    **{k: cfg[k] for k in TRAIN_DEFAULTS},
                )
            )
        except (ValueError, TypeError) as e:
            raise ValueError(f"configuration config_id={int(chunk.config_ids[i])}: {e}") from None
    return runs, task


def check_training(chunk: Chunk) -> None:
    """Every configuration of a chunk can be trained (raises ValueError naming the first that cannot)."""
    chunk.resolved[("runs", chunk.chunk_id)] = _runs(chunk)


def training_rows(chunk: Chunk) -> np.ndarray:
    """Rows of the table per configuration of a chunk: its evaluations."""
    out = np.empty(chunk.size, dtype=np.int64)
    for i in range(chunk.size):
        cfg = chunk.member(i)
        every = cfg["eval_every"] or max(1, cfg["steps"] // 10)
        out[i] = cfg["steps"] // every + 1 + (1 if cfg["steps"] % every else 0)
    return out


def expected_training_parts(parts: list[Chunk]) -> dict:
    """What each chunk's stored part must hold: chunk id -> (digest of its configuration ids, rows,
    configurations)."""
    from .store import ids_digest

    return {
        c.chunk_id: (ids_digest(np.unique(c.config_ids)), int(training_rows(c).sum()), c.size) for c in parts
    }


def training_memory(chunk: Chunk, threads: int | None = None) -> int:
    """Bytes of training a chunk at peak: every network's parameters four times (initial, trained,
    two optimizer states) and its curve and layer rows, one network's buffers per thread, the task
    in its dtype, and the table's rows."""
    import numba

    from ..engine.plan import CALL_OVERHEAD

    runs, task = chunk.resolved.get(("runs", chunk.chunk_id)) or _runs(chunk)
    item = np.dtype(runs[0].shape.dtype).itemsize
    widths = [(*r.shape.widths, r.n_out) for r in runs]
    n_params = [sum(a * b + b for a, b in zip(w[:-1], w[1:])) for w in widths]
    n_evals = [len(r.eval_steps) for r in runs]
    per_net = [4 * p * item + e * (3 + 4 * len(w)) * 8 for p, e, w in zip(n_params, n_evals, widths)]
    buffers = max(
        (
            max(r.batch, EVAL_ROWS) * (2 * sum(w[1:-1]) + max(w) + 2 * w[-1])
            + r.batch * (2 * max(w) + w[0] + w[-1])
            + max(a * b for a, b in zip(w[:-1], w[1:]))
            + p
        )
        * item
        + 16 * task.n_train
        for r, w, p in zip(runs, widths, n_params)
    )
    data = (task.x_train.size + task.y_train.size + task.x_test.size + task.y_test.size) * item
    rows = sum(n_evals) * 8 * (2 * len(CURVE_COLUMNS) + len(identifying_columns(chunk.grid, chunk.settings)))
    workers = max(1, min(threads or numba.get_num_threads(), len(runs)))
    return sum(per_net) + workers * buffers + data + rows + CALL_OVERHEAD


def identifying_columns(spec_grid: dict, settings: dict) -> list[str]:
    """The identifying columns of a training table: the statistics table's and the task,
    optimizer and learning rate."""
    cols = table_columns(spec_grid, settings)
    return cols + [c for c in ("task", "optimizer", "lr") if c not in cols]


def compute_training_chunk(chunk: Chunk, threads: int | None = None) -> pd.DataFrame:
    """Train every configuration of a chunk in one kernel call; return its rows of the table."""
    runs, task = chunk.resolved.pop(("runs", chunk.chunk_id), None) or _runs(chunk)
    trained = train_runs(runs, task, threads=threads, cache=None)
    counts = np.array([len(t.steps) for t in trained], dtype=np.int64)
    data = {"config_id": np.repeat(chunk.config_ids, counts)}
    for c in identifying_columns(chunk.grid, chunk.settings)[1:]:
        if c in chunk.grid:
            labels = _once(
                chunk.resolved, ("labels", c), lambda key: [_label(chunk, key, v) for v in chunk.grid[key]], c
            )
            data[c] = _column(labels, np.repeat(chunk.index[c], counts))
        else:
            one = np.zeros(int(counts.sum()), dtype=np.int64)
            data[c] = _column([_label(chunk, c, chunk.settings[c])], one)
    data["step"] = np.concatenate([t.steps for t in trained])
    curves = np.concatenate([t.curves for t in trained])
    for j, c in enumerate(CURVE):
        data[c] = curves[:, j]
    hidden = np.concatenate(
        [np.where(np.isnan(t.layers[:, :-1, 2]), np.inf, t.layers[:, :-1, 2]).min(axis=1) for t in trained]
    )
    data["distinct_units_min"] = np.where(np.isfinite(hidden), hidden, -1).astype(np.int64)
    summaries = [summarize(t, chunk.member(i)["target"]) for i, t in enumerate(trained)]
    for c in SUMMARY:
        data[c] = np.repeat(np.array([s[c] for s in summaries]), counts)
    return pd.DataFrame(data, copy=False)


def _label(chunk: Chunk, key, value):
    """The table value of a setting: a task's label (the task built once, see :func:`_task`)."""
    return _task(chunk, value).label if key == "task" else label(key, value)
