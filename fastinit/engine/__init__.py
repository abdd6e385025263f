"""The engine: from groups of networks to metric arrays, for every kind of run.

``simulate`` and the sweep layer talk to the engine only through the names exported here:

* :class:`Shape`, :class:`Variant`, :func:`make_shape`, :func:`make_variant`
  (:mod:`.networks`): what a run is made of, validated once;
* :func:`plan_call` (:mod:`.plan`): the typed tables and parameter rows of one kernel call, with
  :func:`stored_bytes` and :func:`memory_estimate` for what it costs;
* :func:`run_groups` / :func:`run_group`: plan and run on a backend (:mod:`.cpu` today; a CUDA
  backend is another module with the same ``run_statistics(call, threads)``);
* :class:`Cache` (:mod:`.cache`): orthogonal matrices and fill parameters kept between calls,
  bounded and clearable (:func:`clear_caches`).
"""
from __future__ import annotations

import numpy as np

from ..kernels.metrics import INTEGER_METRICS, METRICS
from . import cpu
from .cache import DEFAULT, Cache, clear_caches
from .networks import (
    INPUTS,
    LOSSES,
    SETTING_CHECKS,
    SHAPE_DEFAULTS,
    Shape,
    Variant,
    check_bias_initializer,
    inputs,
    make_shape,
    make_variant,
)
from .plan import Call, check_weights, memory_estimate, plan_call, stored_bytes, weight_rows

__all__ = [
    "Cache",
    "Call",
    "DEFAULT",
    "INPUTS",
    "LOSSES",
    "SETTING_CHECKS",
    "SHAPE_DEFAULTS",
    "Shape",
    "Variant",
    "check_bias_initializer",
    "check_weights",
    "clear_caches",
    "inputs",
    "make_shape",
    "make_variant",
    "memory_estimate",
    "metric_columns",
    "plan_call",
    "run_group",
    "run_groups",
    "stored_bytes",
    "weight_rows",
]


def run_groups(groups: list[tuple[Shape, list[Variant]]], depths=None, *, threads: int | None = None,
               cache: Cache | None = DEFAULT) -> list[np.ndarray]:
    """Per-layer metrics of every variant of every group at each of ``depths`` (default: the
    shape's depth), in one parallel kernel call: one float64 array (n_variants, n_depths, depth,
    N_METRICS) per group, NaN below each depth. The groups must share their shape but seed and
    trial."""
    out = cpu.run_statistics(plan_call(groups, depths, cache), threads)
    return np.split(out, np.cumsum([len(v) for _, v in groups])[:-1])


def run_group(shape: Shape, variants: list[Variant]) -> np.ndarray:
    """Per-layer metrics of the variants of one group: float64 array (n_variants, depth, N_METRICS)."""
    return run_groups([(shape, variants)])[0][:, 0]


def metric_columns(metrics: np.ndarray) -> dict[str, np.ndarray]:
    """Table columns of metric rows (n, N_METRICS): one contiguous array per metric, counts
    (:data:`~fastinit.kernels.metrics.INTEGER_METRICS`) as int64."""
    cols = np.ascontiguousarray(np.moveaxis(metrics, -1, 0))
    return {m: cols[j].astype(np.int64) if m in INTEGER_METRICS else cols[j] for j, m in enumerate(METRICS)}
