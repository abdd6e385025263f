"""One network, or a group of networks of one shape: configuration, validation and the kernel call.

:func:`simulate` is the public entry point; :class:`Shape`, :class:`Variant` and :func:`run_group`
are what the sweep engine uses to run many networks that share their random draws in one call.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace

import numba
import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from .activations import Activation, get_activation
from .initializers import (
    Initializer,
    check_dtype,
    check_seed,
    check_uint32,
    get_initializer,
    orthogonal_matrices,
    sample,
)
from .kernels import network as kn
from .kernels import sampling as ks
from .rng import BIAS_TENSOR, INPUT_TENSOR, PROBE_TENSOR, TARGET_TENSOR

INPUTS = ("normal", "uniform01")
LOSSES = {"probe": kn.LOSS_PROBE, "mse": kn.LOSS_MSE}


def _positive_int(name, value, minimum=1):
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return value


@dataclass(frozen=True)
class Shape:
    """What the networks of one kernel call share."""

    widths: tuple[int, ...]
    batch: int = 128
    seed: int = 0
    trial: int = 0
    dtype: str = "float32"
    input: str = "normal"
    input_corr: float | None = None
    backward: bool = True
    jacobian: bool = False
    loss: str = "probe"
    input_array: np.ndarray | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def depth(self) -> int:
        return len(self.widths) - 1


@dataclass(frozen=True)
class Variant:
    """What distinguishes one network from another of the same :class:`Shape`."""

    initializer: Initializer
    activation: Activation
    bias_initializer: Initializer


def make_shape(depth=None, width=None, *, widths=None, batch=None, seed=0, trial=0, input="normal",
               input_corr=None, dtype="float32", backward=True, jacobian=False, loss="probe") -> Shape:
    """Validate simulation settings and return a :class:`Shape` (errors name the parameter)."""
    if widths is not None:
        try:
            widths = tuple(widths)
        except TypeError:
            raise ValueError(f"widths={widths!r} must be a list of positive ints") from None
        for w in widths:
            _positive_int("widths entry", w)
        if len(widths) < 2:
            raise ValueError(f"widths={list(widths)!r} must list at least 2 widths (input and one layer)")
        if depth is not None and _positive_int("depth", depth) != len(widths) - 1:
            raise ValueError(f"widths has length {len(widths)} but depth={depth}: need depth + 1 widths")
        widths = tuple(int(w) for w in widths)
    else:
        depth = _positive_int("depth", depth)
        width = _positive_int("width", width)
        widths = (width,) * (depth + 1)
    array = None
    if isinstance(input, str):
        if input not in INPUTS:
            raise ValueError(f"input={input!r} must be one of {INPUTS} or an array of shape (batch, {widths[0]})")
        batch = 128 if batch is None else _positive_int("batch", batch, 2)
    else:
        array = np.asarray(input)
        if array.dtype.kind not in "fiu" or array.ndim != 2 or array.shape[1] != widths[0] or array.shape[0] < 2:
            raise ValueError(f"input array must be real with shape (batch >= 2, {widths[0]}), "
                             f"got dtype {array.dtype} and shape {array.shape}")
        if batch is not None and batch != array.shape[0]:
            raise ValueError(f"batch={batch!r} disagrees with the input array's {array.shape[0]} rows")
        batch = array.shape[0]
        input = "array"
    if input_corr is not None:
        if isinstance(input_corr, bool) or not isinstance(input_corr, (int, float)) or not -1 <= input_corr <= 1:
            raise ValueError(f"input_corr={input_corr!r} must be a number in [-1, 1]")
        if input != "normal":
            raise ValueError(f"input_corr needs input='normal', got input={input!r}")
        if batch % 2:
            raise ValueError(f"input_corr needs an even batch (pairs), got batch={batch}")
        input_corr = float(input_corr)
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} must be one of {tuple(LOSSES)}")
    for name, flag in (("backward", backward), ("jacobian", jacobian)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name}={flag!r} must be True or False")
    dt = check_dtype(dtype)
    return Shape(widths, batch, check_seed(seed), check_uint32("trial", trial), dt.name, input, input_corr,
                 bool(backward), bool(jacobian), loss, array)


def make_variant(initializer, activation, bias_initializer="zeros") -> Variant:
    """Resolve the initializer, activation and bias initializer of one network."""
    init = get_initializer(initializer)
    bias = get_initializer(bias_initializer)
    if bias.label not in _ELEMENTWISE and (bias.is_data_dependent or bias.plan((4,)).code is None
                                           or bias.plan((4,)).kind == "orthogonal"):
        raise ValueError(f"bias_initializer={bias.label!r} must be elementwise (constant, uniform, normal or "
                         f"truncated normal)")
    _ELEMENTWISE.add(bias.label)
    return Variant(init, get_activation(activation), bias)


_ELEMENTWISE: set = set()   # labels of initializers checked to be elementwise


def inputs(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """The input batch and the gradient seed (probe g or targets) of a shape, in its dtype."""
    dt = np.dtype(shape.dtype)
    b, n0, nl = shape.batch, shape.widths[0], shape.widths[-1]
    if shape.input == "array":
        x0 = np.ascontiguousarray(shape.input_array, dtype=dt)
    else:
        x = np.empty(b * n0)
        if shape.input == "uniform01":
            ks.fill_uniform(x, shape.seed, shape.trial, INPUT_TENSOR)
        else:
            ks.fill_normal(x, shape.seed, shape.trial, INPUT_TENSOR)
        x = x.reshape(b, n0)
        if shape.input_corr is not None:
            c = shape.input_corr
            x[1::2] = c * x[0::2] + math.sqrt(1.0 - c * c) * x[1::2]
        x0 = x.astype(dt)
    g = np.empty(b * nl)
    ks.fill_normal(g, shape.seed, shape.trial, TARGET_TENSOR if shape.loss == "mse" else PROBE_TENSOR)
    return x0, g.reshape(b, nl).astype(dt)


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
        _ = p.kind == "truncated" and sample(p, (1,), dt, 0, 0, 0)  # validates the interval
    return plans[0].code, np.array([p.kernel_params(dt) for p in plans])[kind.ravel()]


def base_rows(codes) -> tuple[bool, bool, bool]:
    """Which base draws (normals, uniforms, orthogonal) a group whose weight rows have these codes
    stores: normals and uniforms when at least two rows share them, orthogonal matrices always."""
    codes = np.asarray(codes)
    return (int(((codes == ks.NORMAL) | (codes == ks.TRUNCATED)).sum()) >= 2, int((codes == ks.UNIFORM).sum()) >= 2,
            bool((codes == ks.ORTHOGONAL).any()))


def weight_code(initializer, shape: Shape) -> int:
    """The fill code of an initializer in networks of ``shape`` (EXPLICIT if structured)."""
    code = get_initializer(initializer).sampled.plan(shape.widths[:2]).code
    return ks.EXPLICIT if code is None else code


def weight_rows(initializers: list[Initializer]) -> list:
    """Keys of the weight rows a group of networks with these initializers needs, one per network:
    networks with the same initializer share a row, LSUV networks (whose weights are rescaled in
    place) own theirs."""
    return [("lsuv", i) if init.is_data_dependent else init.label for i, init in enumerate(initializers)]


def stored_bytes(shape: Shape, initializers: list) -> int:
    """Bytes of weight rows (with their unit classes) and base draws that one group of networks
    with these initializers (names or specs) stores."""
    inits = [get_initializer(init) for init in initializers]
    rows = dict(zip(weight_rows(inits), inits))
    codes = [weight_code(init, shape) for init in rows.values()]
    n_w = sum(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))
    n_units = sum(shape.widths[1:])
    return n_w * (len(rows) * np.dtype(shape.dtype).itemsize + 8 * sum(base_rows(codes))) + 8 * n_units * len(rows)


def plan_call(groups: list[tuple[Shape, list[Variant]]], depths=None) -> dict:
    """Kernel inputs for groups of one shape (they may differ in seed and trial), reported at
    ``depths`` (default: the shape's depth).

    Each group fills one weights row per initializer and one biases row per bias initializer
    (:func:`weight_rows`). Base draws are shared within a group: normals and uniforms are
    materialised once where at least two rows use them, orthogonal matrices always.
    """
    shape0 = groups[0][0]
    for shape, _ in groups:
        if replace(shape, seed=shape0.seed, trial=shape0.trial) != shape0:
            raise ValueError("plan_call: groups must share every setting but seed and trial")
    depths = np.array([shape0.depth] if depths is None else sorted(set(depths)), dtype=np.int64)
    if depths[0] < 1 or depths[-1] != shape0.depth or any(shape0.widths[d] != shape0.widths[-1] for d in depths):
        raise ValueError(f"depths={depths.tolist()} must be positive, end at the depth {shape0.depth}, and "
                         f"have layers of the output width {shape0.widths[-1]}")
    dt = np.dtype(shape0.dtype)
    widths = np.array(shape0.widths, dtype=np.int64)
    layer_shapes = [(shape0.widths[l - 1], shape0.widths[l]) for l in range(1, shape0.depth + 1)]
    n_weights = int(sum(a * b for a, b in layer_shapes))
    tables = []
    w_rows: dict = {}   # (group, key) -> (row, initializer)
    b_rows: dict = {}
    templates: dict = {}   # id of a variants list -> its table and row keys (groups often share one list)
    for g, (_, variants) in enumerate(groups):
        if id(variants) not in templates:
            templates[id(variants)] = _variant_table(variants)
        t, w_keys, w_local, b_keys, b_local = templates[id(variants)]
        t = t.copy()
        t[:, kn.V_GROUP] = g
        t[:, kn.V_WEIGHT_ROW] = w_local + len(w_rows)
        t[:, kn.V_BIAS_ROW] = b_local + len(b_rows)
        for key, init in w_keys:
            w_rows[g, key] = (len(w_rows), init)
        for key, init in b_keys:
            b_rows[g, key] = (len(b_rows), init)
        tables.append(t)
    seeds = np.array([s.seed for s, _ in groups], dtype=np.uint64)
    trials = np.array([s.trial for s, _ in groups], dtype=np.uint64)
    weights = scratch("weights", (len(w_rows), n_weights), dt)
    w_codes, w_params = _fill_codes(shape0, w_rows, layer_shapes)
    group_base = np.full((len(groups), 3), -1, dtype=np.int64)
    n_base = [0, 0, 0]
    row_group = np.array([g for g, _ in w_rows], dtype=np.int64)
    for g in range(len(groups)):
        for k, needed in enumerate(base_rows(w_codes[row_group == g])):
            if needed:
                group_base[g, k] = n_base[k]
                n_base[k] += 1
    bases = [scratch(f"base_{name}", (n_base[k], n_weights), np.float64) for k, name in enumerate("zuq")]
    for k in (0, 1):    # normals and uniforms; a group's base row is its rank among the groups with one
        with_base = group_base[:, k] >= 0
        ks.fill_layers_rows(widths, seeds[with_base], trials[with_base], k, bases[k])
    for g, (shape, _) in enumerate(groups):
        if group_base[g, 2] >= 0:
            q = group_base[g, 2]
            qs = orthogonal_matrices(np.array(layer_shapes), shape.seed, shape.trial, np.arange(1, shape.depth + 1))
            bases[2][q] = np.concatenate([m.ravel() for m in qs])
    for r, ((g, _), (_, init)) in enumerate(w_rows.items()):
        if w_codes[r] == ks.EXPLICIT:
            shape = groups[g][0]
            weights[r] = np.concatenate([sample(init.plan(s), s, dt, shape.seed, shape.trial, l + 1).ravel()
                                         for l, s in enumerate(layer_shapes)])
    sizes = np.array([a * b for a, b in layer_shapes], dtype=np.int64)
    ks.fill_rows(sizes, 0, w_codes, w_params, row_group, seeds, trials, group_base, *bases, weights)
    n_units = int(widths[1:].sum())
    classes = kn.unit_classes(widths, weights, np.empty((len(w_rows), n_units), dtype=np.int64))
    biases = np.empty((len(b_rows), n_units), dtype=dt)
    b_codes, b_params = _fill_codes(shape0, b_rows, [(n,) for n in shape0.widths[1:]])
    no_base = np.full((len(groups), 3), -1, dtype=np.int64)
    ks.fill_rows(widths[1:], BIAS_TENSOR, b_codes, b_params, np.array([g for g, _ in b_rows], dtype=np.int64),
                 seeds, trials, no_base, *bases, biases)
    x0, grad_seed = zip(*(inputs(shape) for shape, _ in groups))
    return dict(variants=np.concatenate(tables), widths=widths, depths=depths, x0=np.stack(x0),
                grad_seed=np.stack(grad_seed), weights=weights, biases=biases, classes=classes, loss=LOSSES[shape0.loss],
                paired=shape0.input_corr is not None, backward=shape0.backward, jacobian=shape0.jacobian)


def _variant_table(variants: list[Variant]) -> tuple:
    """One group's rows of the variants table (group 0, rows numbered from 0), its weight rows
    ``[(key, initializer)]`` and each network's, and likewise its bias rows."""
    t = np.zeros((len(variants), len(kn.VARIANT_COLUMNS)))
    w_keys: dict = {}
    b_keys: dict = {}
    w_local = np.empty(len(variants))
    b_local = np.empty(len(variants))
    for v, (var, key) in enumerate(zip(variants, weight_rows([var.initializer for var in variants]))):
        w_local[v] = w_keys.setdefault(key, (len(w_keys), var.initializer.sampled))[0]
        b_local[v] = b_keys.setdefault(var.bias_initializer.label, (len(b_keys), var.bias_initializer))[0]
        t[v, kn.V_ACT] = var.activation.code
        t[v, kn.V_ACT_PARAM] = var.activation.param
        t[v, kn.V_SAT] = var.activation.saturation_level
        if var.initializer.is_data_dependent:
            t[v, kn.V_LSUV_TOL] = var.initializer.params["tol"]
            t[v, kn.V_LSUV_ITER] = var.initializer.params["max_iter"]
    return (t, [(k, init) for k, (_, init) in w_keys.items()], w_local, [(k, init) for k, (_, init) in b_keys.items()],
            b_local)


def _fill_codes(shape: Shape, rows: dict, sizes: list) -> tuple[np.ndarray, np.ndarray]:
    """Codes (n_rows,) and parameters (n_rows, depth, 4) of :func:`fastinit.kernels.sampling.fill_rows`
    for rows keyed ``(group, key) -> (row, initializer)`` (parameters do not depend on the group)."""
    layers = (tuple(sizes), shape.dtype)
    labels: dict = {}     # label -> its index in `table`
    table = []
    index = np.empty(len(rows), dtype=np.int64)
    for r, (_, init) in enumerate(rows.values()):
        if init.label not in labels:
            labels[init.label] = len(table)
            key = (init.label, *layers)
            if key not in _PARAMS:
                _PARAMS[key] = _layer_params(shape, init, sizes)
            table.append(_PARAMS[key])
        index[r] = labels[init.label]
    codes = np.array([code for code, _ in table], dtype=np.int64)
    params = np.stack([p for _, p in table]) if table else np.empty((0, len(sizes), 4))
    return codes[index], params[index]


_PARAMS: dict = {}   # (label, layer sizes, dtype) -> fill code and parameters


_BLAS = None
_SCRATCH = threading.local()


def scratch(name: str, shape, dtype) -> np.ndarray:
    """A reusable uninitialised array of this thread (reallocated only to grow): repeated kernel
    calls of similar size then touch memory that is already mapped."""
    pool = _SCRATCH.__dict__.setdefault("pool", {})
    size = math.prod(shape)
    buf = pool.get((name, np.dtype(dtype).str))
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        pool[(name, np.dtype(dtype).str)] = buf
    return buf[:size].reshape(shape)


def _single_threaded_blas():
    """Limit BLAS to one thread (a cached controller: inspecting the libraries costs milliseconds)."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def run_groups(groups: list[tuple[Shape, list[Variant]]], depths=None) -> list[np.ndarray]:
    """Per-layer metrics of every variant of every group at each of ``depths`` (default: the
    shape's depth), in one parallel kernel call: one float64 array (n_variants, n_depths, depth,
    N_METRICS) per group, NaN below each depth. The groups must share their shape.

    BLAS runs on one thread: Numba threads run the networks in parallel without oversubscribing
    the cores, and the results are bit-identical for any thread count (multi-threaded BLAS
    changes the last bits of a product with the number of threads).
    """
    args = plan_call(groups, depths)
    n = args["variants"].shape[0]
    shape0 = groups[0][0]
    out = np.empty((n, len(args["depths"]), shape0.depth, kn.N_METRICS))
    ws = scratch("workspace", (numba.get_num_threads(), kn.workspace_length(args["widths"], shape0.batch)),
                 args["x0"].dtype)
    with _single_threaded_blas():
        kn.network_statistics(**args, workspace=ws, out=out)
    return np.split(out, np.cumsum([len(v) for _, v in groups])[:-1])


def run_group(shape: Shape, variants: list[Variant]) -> np.ndarray:
    """Per-layer metrics of the variants of one group: float64 array (n_variants, depth, N_METRICS)."""
    return run_groups([(shape, variants)])[0][:, 0]


def memory_estimate(shape: Shape, *, stored: int = 0, n_groups: int = 1, threads: int | None = None) -> int:
    """Bytes a kernel call needs at peak: ``stored`` bytes of weight rows and base draws (see
    :func:`stored_bytes`), the inputs and a biases row of ``n_groups`` groups, and one workspace
    per thread."""
    threads = threads or numba.get_num_threads()
    item = np.dtype(shape.dtype).itemsize
    w_max = max(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))
    per_thread = kn.workspace_length(np.array(shape.widths, dtype=np.int64), shape.batch) * item
    if shape.jacobian:
        per_thread += 2 * max(shape.widths) * shape.widths[0] * 8 + w_max * 8
    per_group = shape.batch * (shape.widths[0] + shape.widths[-1]) + sum(shape.widths[1:])
    return stored + n_groups * per_group * item + per_thread * threads


def simulate(initializer, activation, depth: int | None = None, width: int | None = None, *,
             widths=None, batch: int | None = None, seed: int = 0, trial: int = 0, bias_initializer="zeros",
             input="normal", input_corr: float | None = None, dtype="float32", backward: bool = True,
             jacobian: bool = False, loss: str = "probe") -> pd.DataFrame:
    """Simulate one network at initialization and return its per-layer statistics.

    Parameters
    ----------
    initializer, activation, bias_initializer
        Names or specs (see :func:`fastinit.get_initializer`, :func:`fastinit.activation_names`).
    depth, width : int
        ``depth`` layers of ``width`` units; the input dimension is ``width`` too.
    widths : list of int, optional
        ``[n0, n1, ..., nL]`` instead of depth and width.
    batch : int
        Number of inputs (>= 2; default 128, or the rows of an input array).
    seed, trial : int
        The random stream (DESIGN invariant 1).
    input : "normal", "uniform01" or array (batch, n0)
    input_corr : float, optional
        Draw the batch as pairs with entry correlation ``input_corr`` (adds ``pair_corr``).
    dtype : "float32" or "float64"
    backward, jacobian : bool
        Compute the backward metrics; the input-output Jacobian spectrum at the first input.
    loss : "probe" or "mse"

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer`` and the columns of :data:`fastinit.kernels.METRICS`;
        ``df.attrs`` holds the configuration.
    """
    shape = make_shape(depth, width, widths=widths, batch=batch, seed=seed, trial=trial, input=input,
                       input_corr=input_corr, dtype=dtype, backward=backward, jacobian=jacobian, loss=loss)
    variant = make_variant(initializer, activation, bias_initializer)
    metrics = run_group(shape, [variant])[0]
    df = pd.DataFrame(metrics, columns=list(kn.METRICS))
    df.insert(0, "layer", np.arange(1, shape.depth + 1))
    df["nonfinite"] = df["nonfinite"].astype(np.int64)
    df["distinct_units"] = df["distinct_units"].astype(np.int64)
    df.attrs.update(initializer=variant.initializer.label, activation=variant.activation.label,
                    bias_initializer=variant.bias_initializer.label, widths=list(shape.widths), batch=shape.batch,
                    seed=shape.seed, trial=shape.trial, input=shape.input, input_corr=shape.input_corr,
                    dtype=shape.dtype, backward=shape.backward, jacobian=shape.jacobian, loss=shape.loss)
    return df
