"""Planning a kernel call: from groups of networks to the typed tables and parameter rows the
kernels take, and what that costs in memory.

A *group* is networks of one :class:`~fastinit.engine.networks.Shape` (seed and trial included)
that share their random draws; a call holds groups that differ only in seed and trial. Each group
fills one weights row per initializer and one biases row per bias initializer
(:func:`weight_rows`); base draws are shared within a group: normals and uniforms are
materialised once where at least two rows use them, orthogonal matrices always.
"""
from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numba
import numpy as np

from ..initializers import Initializer, Kind, get_initializer, sample
from ..kernels import network as kn
from ..kernels import sampling as ks
from ..rng import BIAS_TENSOR
from .cache import Cache
from .networks import LOSSES, Shape, Variant, inputs


class Call(NamedTuple):
    """The inputs of :func:`fastinit.kernels.network_statistics` but its workspace and output, in
    its argument order."""

    nets_int: np.ndarray
    nets_real: np.ndarray
    widths: np.ndarray
    depths: np.ndarray
    x0: np.ndarray
    grad_seed: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    classes: np.ndarray
    loss: int
    paired: bool
    backward: bool
    jacobian: bool


def weight_rows(initializers: list[Initializer]) -> list:
    """Keys of the weight rows a group of networks with these initializers needs, one per network:
    networks with the same initializer share a row, LSUV networks (whose weights are rescaled in
    place) own theirs."""
    return [("lsuv", i) if init.is_data_dependent else init.label for i, init in enumerate(initializers)]


def base_rows(codes) -> tuple[bool, bool, bool]:
    """Which base draws (normals, uniforms, orthogonal) a group whose weight rows have these codes
    stores: normals and uniforms when at least two rows share them, orthogonal matrices always."""
    codes = np.asarray(codes)
    return (
        int(((codes == ks.NORMAL) | (codes == ks.TRUNCATED)).sum()) >= 2,
        int((codes == ks.UNIFORM).sum()) >= 2,
        bool((codes == ks.ORTHOGONAL).any()),
    )


def weight_code(initializer, shape: Shape) -> int:
    """The fill code of an initializer in networks of ``shape`` (EXPLICIT if structured)."""
    code = get_initializer(initializer).sampled.plan(shape.widths[:2]).code
    return ks.EXPLICIT if code is None else code


def stored_bytes(shape: Shape, initializers: list) -> int:
    """Bytes of weight rows (with their unit classes) and base draws that one group of networks
    with these initializers (names or specs) stores."""
    inits = [get_initializer(init) for init in initializers]
    rows = dict(zip(weight_rows(inits), inits))
    codes = [weight_code(init, shape) for init in rows.values()]
    n_w = sum(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))
    n_units = sum(shape.widths[1:])
    return n_w * (len(rows) * np.dtype(shape.dtype).itemsize + 8 * sum(base_rows(codes))) + 8 * n_units * len(
        rows
    )


#: Bytes a call's resident memory grows by besides its arrays: Python objects, small tables, library
#: buffers, and transparent huge pages (NumPy asks for them on large arrays: a 2 MiB page is resident
#: as soon as one byte of it is written, so an array partly written counts up to 2 MiB more at each
#: edge of the part written). 2-5 MiB measured.
CALL_OVERHEAD = 8 * 2 ** 20


def memory_estimate(shape: Shape, *, stored: int = 0, n_groups: int = 1, threads: int | None = None,
                    cache: Cache | None = None, initializers=(), n_networks: int | None = None,
                    n_depths: int = 1) -> int:
    """Bytes a kernel call needs at peak: ``stored`` bytes of weight rows and base draws (see
    :func:`stored_bytes`), the inputs and a biases row of ``n_groups`` groups, the part of one
    workspace that the call writes per thread running a network (one per thread, or fewer with
    fewer ``n_networks``), the metrics of ``n_networks`` networks (default 1) at ``n_depths``
    depths, what ``cache`` holds, and what the ``initializers`` of the call's networks
    (names or specs) draw on the way: orthogonal matrices (each group's, added to the cache, and
    LAPACK's scratch of one QR per thread), structured tensors (sampled a layer at a time).

    Pages of a workspace that are never written take no memory: the Gram matrices of the backward
    metrics only count where a layer uses them (``batch (n_in + n_out) < n_in n_out``), the backward
    buffers only with ``backward``."""
    threads = threads or numba.get_num_threads()
    item = np.dtype(shape.dtype).itemsize
    widths, rows = shape.widths, shape.batch
    pairs = list(zip(widths[:-1], widths[1:]))
    w_max = max(a * b for a, b in pairs)
    n_w, n_max = sum(a * b for a, b in pairs), max(widths)
    # the workspace (kernels.network.workspace_layout): activations and derivatives of every layer,
    # a pre-activation; with backward two deltas, the weight gradient of the layers that form it,
    # two Gram matrices where some layer uses them instead
    per_thread = (2 * rows * sum(widths[1:]) + rows * n_max) * item
    if shape.backward:
        gram = [rows * (a + b) < a * b for a, b in pairs]
        grad = max((a * b for (a, b), g in zip(pairs, gram) if not g), default=0)
        per_thread += (2 * rows * n_max + grad + (2 * rows * rows if any(gram) else 0)) * item
    if shape.jacobian:   # float64: the Jacobian before and after a layer, the layer's weights, and the
        #                  SVD's copy, U, V^T and gesdd's work (at most 7 min(m, n)^2)
        per_thread += 12 * n_max * widths[0] * 8 + w_max * 8
    # each group's input and probe (built in float64, then copied to the dtype and stacked), biases
    per_group = rows * (widths[0] + widths[-1]) + sum(widths[1:])
    inputs = n_groups * (per_group + rows * (widths[0] + widths[-1])) * item + 2 * rows * n_max * 8
    metrics = (n_networks or 1) * n_depths * shape.depth * kn.N_METRICS * 8
    workers = threads if n_networks is None else max(1, min(threads, n_networks))
    held = cache.nbytes if cache is not None else 0
    drawn = 0
    inits = [get_initializer(init) for init in initializers]
    if any(weight_code(init, shape) == ks.EXPLICIT for init in inits):
        drawn = w_max * max(item, 8)          # one layer's sample
    if any(weight_code(init, shape) == ks.ORTHOGONAL for init in inits):
        one = n_w * 8                         # a group's matrices, cached (the cache keeps its bound,
        bound = cache.orthogonal_bytes if cache is not None else 0   # or one group's, at the end)
        held = min(held + n_groups * one, max(held, bound, one) + one)
        big, small = max(max(p) for p in pairs), max(min(p) for p in pairs)
        drawn = max(drawn, min(threads, len(pairs)) * (big * small + small * small) * 8)   # A's copy, R
    return stored + inputs + metrics + per_thread * workers + held + drawn + CALL_OVERHEAD


def check_weights(shape: Shape, variant: Variant, paths: dict | None = None) -> None:
    """Raise ValueError, naming the initializer and the layer, if the weights or biases of a network
    of ``shape`` cannot be drawn with ``variant``'s initializers (from their plans; nothing is
    sampled, so a sweep can check every network before it writes anything). ``paths`` may name
    where each came from (``{"initializer": "grid.initializer[2]", "bias_initializer": ...}``): the
    message then begins with that path."""
    paths = paths or {}
    pairs = list(zip(shape.widths, shape.widths[1:]))
    weights = [((a, b), f"layer {l} ({a} x {b})") for l, (a, b) in enumerate(pairs, 1)]
    biases = [((b,), f"the biases of layer {l}") for l, (_, b) in enumerate(pairs, 1)]
    for role, init, shapes in (("initializer", variant.initializer.sampled, weights),
                               ("bias_initializer", variant.bias_initializer, biases)):
        seen = set()
        for s, where in shapes:
            if s in seen:
                continue
            seen.add(s)
            try:
                plan = init.plan(s)
                plan.kind.check(plan.args, s)
                if plan.kind.code is not None:
                    plan.kernel_params(shape.dtype)
                if plan.kind is Kind.SPARSE_MARTENS and int(plan.args[0]) > s[0]:
                    raise ValueError(f"k={int(plan.args[0])} exceeds fan_in={s[0]}")
            except ValueError as e:
                path = f"{paths[role]}: " if role in paths else ""
                raise ValueError(f"{path}initializer {init.label!r}, {where}: {e}") from None


def check_depths(shape: Shape, depths) -> np.ndarray:
    """The depths a call reports, sorted: positive, ending at the shape's depth, each at a layer of
    the output width (the probe's)."""
    depths = np.array([shape.depth] if depths is None else sorted(set(depths)), dtype=np.int64)
    if depths[0] < 1 or depths[-1] != shape.depth or any(shape.widths[d] != shape.widths[-1] for d in depths):
        raise ValueError(f"depths={depths.tolist()} must be positive, end at the depth {shape.depth}, and "
                         f"have layers of the output width {shape.widths[-1]}")
    return depths


def plan_call(groups: list[tuple[Shape, list[Variant]]], depths=None, cache: Cache | None = None) -> Call:
    """Kernel inputs for groups of one shape (they may differ in seed and trial), reported at
    ``depths`` (default: the shape's depth). ``cache`` keeps orthogonal matrices and fill
    parameters between calls (default: none)."""
    cache = cache if cache is not None else Cache(orthogonal_bytes=0, param_entries=0)
    shape0 = groups[0][0]
    for shape, _ in groups:
        if replace(shape, seed=shape0.seed, trial=shape0.trial) != shape0:
            raise ValueError("plan_call: groups must share every setting but seed and trial")
    depths = check_depths(shape0, depths)
    tables, w_rows, b_rows = _networks_tables(groups)
    seeds = np.array([s.seed for s, _ in groups], dtype=np.uint64)
    trials = np.array([s.trial for s, _ in groups], dtype=np.uint64)
    weights = _weights(groups, w_rows, seeds, trials, cache)
    widths = np.array(shape0.widths, dtype=np.int64)
    classes = kn.unit_classes(widths, weights, np.empty((len(w_rows), int(widths[1:].sum())), dtype=np.int64))
    biases = np.empty((len(b_rows), int(widths[1:].sum())), dtype=shape0.dtype)
    b_codes, b_params = _fill_codes(shape0, b_rows, [(n,) for n in shape0.widths[1:]], cache)
    no_base = np.full((len(groups), 3), -1, dtype=np.int64)
    empty = np.empty((0, 0))
    ks.fill_rows(widths[1:], BIAS_TENSOR, b_codes, b_params, np.array([g for g, _ in b_rows], dtype=np.int64),
                 seeds, trials, no_base, empty, empty, empty, biases)
    x0, grad_seed = zip(*(inputs(shape) for shape, _ in groups))
    return Call(*tables, widths, depths, np.stack(x0), np.stack(grad_seed), weights, biases, classes,
                LOSSES[shape0.loss], shape0.input_corr is not None, shape0.backward, shape0.jacobian)


def _networks_tables(groups: list) -> tuple[tuple[np.ndarray, np.ndarray], dict, dict]:
    """The networks tables of a call, and its weight and bias rows ``(group, key) -> (row,
    initializer)`` in row order."""
    ints, reals = [], []
    w_rows: dict = {}
    b_rows: dict = {}
    templates: dict = {}   # id of a variants list -> its tables and row keys (groups often share one list)
    for g, (_, variants) in enumerate(groups):
        if id(variants) not in templates:
            templates[id(variants)] = _variant_tables(variants)
        t_int, t_real, w_keys, b_keys = templates[id(variants)]
        t_int = t_int.copy()
        t_int[:, kn.N_GROUP] = g
        t_int[:, kn.N_WEIGHT_ROW] += len(w_rows)
        t_int[:, kn.N_BIAS_ROW] += len(b_rows)
        for key, init in w_keys:
            w_rows[g, key] = (len(w_rows), init)
        for key, init in b_keys:
            b_rows[g, key] = (len(b_rows), init)
        ints.append(t_int)
        reals.append(t_real)
    return (np.concatenate(ints), np.concatenate(reals)), w_rows, b_rows


def _variant_tables(variants: list[Variant]) -> tuple:
    """One group's rows of the networks tables (group 0, rows numbered from 0), and its weight and
    bias rows ``[(key, initializer)]`` in row order."""
    t_int = np.zeros((len(variants), len(kn.NET_INT)), dtype=np.int64)
    t_real = np.zeros((len(variants), len(kn.NET_REAL)))
    w_keys: dict = {}
    b_keys: dict = {}
    for v, (var, key) in enumerate(zip(variants, weight_rows([var.initializer for var in variants]))):
        t_int[v, kn.N_WEIGHT_ROW] = w_keys.setdefault(key, (len(w_keys), var.initializer.sampled))[0]
        t_int[v, kn.N_BIAS_ROW] = b_keys.setdefault(
            var.bias_initializer.label, (len(b_keys), var.bias_initializer)
        )[0]
        t_int[v, kn.N_ACT] = var.activation.code
        t_real[v, kn.R_ACT_PARAM] = var.activation.param
        t_real[v, kn.R_SAT] = var.activation.saturation_level
        if var.initializer.is_data_dependent:
            t_real[v, kn.R_LSUV_TOL] = var.initializer.params["tol"]
            t_int[v, kn.N_LSUV_ITER] = var.initializer.params["max_iter"]
    return (t_int, t_real, [(k, init) for k, (_, init) in w_keys.items()],
            [(k, init) for k, (_, init) in b_keys.items()])


def _weights(groups: list, w_rows: dict, seeds: np.ndarray, trials: np.ndarray, cache: Cache) -> np.ndarray:
    """The weights table of a call: base draws shared within each group, then every row filled."""
    shape0 = groups[0][0]
    dt = np.dtype(shape0.dtype)
    widths = np.array(shape0.widths, dtype=np.int64)
    layer_shapes = [(shape0.widths[l - 1], shape0.widths[l]) for l in range(1, shape0.depth + 1)]
    n_weights = int(sum(a * b for a, b in layer_shapes))
    w_codes, w_params = _fill_codes(shape0, w_rows, layer_shapes, cache)
    row_group = np.array([g for g, _ in w_rows], dtype=np.int64)
    group_base = np.full((len(groups), 3), -1, dtype=np.int64)
    n_base = [0, 0, 0]
    for g in range(len(groups)):
        for k, needed in enumerate(base_rows(w_codes[row_group == g])):
            if needed:
                group_base[g, k] = n_base[k]
                n_base[k] += 1
    bases = [np.empty((n_base[k], n_weights)) for k in range(3)]
    for k in (0, 1):    # normals and uniforms; a group's base row is its rank among the groups with one
        with_base = group_base[:, k] >= 0
        ks.fill_layers_rows(widths, seeds[with_base], trials[with_base], k, bases[k])
    sizes = np.array([a * b for a, b in layer_shapes], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)]
    for g, (shape, _) in enumerate(groups):
        if group_base[g, 2] >= 0:
            qs = cache.orthogonal(
                np.array(layer_shapes), shape.seed, shape.trial, np.arange(1, shape.depth + 1)
            )
            row = bases[2][group_base[g, 2]]
            for l, m in enumerate(qs):      # layer by layer: no temporary copy of the whole row
                row[offsets[l]:offsets[l + 1]] = m.ravel()
            del qs
    weights = np.empty((len(w_rows), n_weights), dtype=dt)
    for r, ((g, _), (_, init)) in enumerate(w_rows.items()):
        if w_codes[r] == ks.EXPLICIT:
            shape = groups[g][0]
            for l, s in enumerate(layer_shapes):
                weights[r, offsets[l]:offsets[l + 1]] = sample(init.plan(s), s, dt, shape.seed, shape.trial,
                                                               l + 1).ravel()
    ks.fill_rows(sizes, 0, w_codes, w_params, row_group, seeds, trials, group_base, *bases, weights)
    return weights


def _layer_params(shape: Shape, init: Initializer, sizes: list) -> tuple[int, np.ndarray]:
    """The fill code of an initializer in networks of ``shape`` and its (depth, 4) parameters of
    :func:`fastinit.kernels.sampling.from_base` (zeros for structured initializers, code EXPLICIT).
    ``sizes``: each layer's tensor shape."""
    dt = np.dtype(shape.dtype)
    distinct, kind = np.unique(np.array(sizes).reshape(len(sizes), -1), axis=0, return_inverse=True)
    plans = [init.plan(tuple(int(n) for n in s)) for s in distinct]
    if plans[0].code is None:
        return ks.EXPLICIT, np.zeros((len(sizes), 4))
    for p in plans:
        p.kind.check(p.args, (1,))
    return plans[0].code, np.array([p.kernel_params(dt) for p in plans])[kind.ravel()]


def _fill_codes(shape: Shape, rows: dict, sizes: list, cache: Cache) -> tuple[np.ndarray, np.ndarray]:
    """Codes (n_rows,) and parameters (n_rows, depth, 4) of :func:`fastinit.kernels.sampling.fill_rows`
    for rows keyed ``(group, key) -> (row, initializer)`` (parameters do not depend on the group)."""
    labels: dict = {}     # label -> its index in `table`
    table = []
    index = np.empty(len(rows), dtype=np.int64)
    for r, (_, init) in enumerate(rows.values()):
        if init.label not in labels:
            labels[init.label] = len(table)
            key = (init.label, tuple(sizes), shape.dtype)
            table.append(cache.params(key, lambda init=init: _layer_params(shape, init, sizes)))
        index[r] = labels[init.label]
    codes = np.array([code for code, _ in table], dtype=np.int64)
    params = np.stack([p for _, p in table]) if table else np.empty((0, len(sizes), 4))
    return codes[index], params[index]
