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
from .initializers import Initializer, check_dtype, check_seed, check_uint32, get_initializer, orthogonal_matrices, \
    sample
from .kernels import network as kn
from .kernels import sampling as ks
from .rng import INPUT_TENSOR, PROBE_TENSOR, TARGET_TENSOR

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
    if bias.is_data_dependent or bias.plan((4,)).code is None or bias.plan((4,)).kind == "orthogonal":
        raise ValueError(f"bias_initializer={bias.label!r} must be elementwise (constant, uniform, normal or "
                         f"truncated normal)")
    return Variant(init, get_activation(activation), bias)


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


def _variant_row(shape: Shape, var: Variant, explicit_rows: list) -> tuple[np.ndarray, np.ndarray]:
    """A variants-table row and (depth, 8) layer parameters; structured weights go to ``explicit_rows``."""
    dt = np.dtype(shape.dtype)
    layer_shapes = [(shape.widths[l - 1], shape.widths[l]) for l in range(1, shape.depth + 1)]
    row = np.zeros(len(kn.VARIANT_COLUMNS))
    params = np.zeros((shape.depth, 8))
    distinct, layer_kind = np.unique(np.array(layer_shapes), axis=0, return_inverse=True)
    distinct_n, bias_kind = np.unique(np.array(shape.widths[1:]), return_inverse=True)
    layer_kind, bias_kind = layer_kind.ravel(), bias_kind.ravel()
    init = var.initializer.sampled
    plans = [init.plan(tuple(s)) for s in distinct]
    code = plans[0].code
    if code is None:
        row[kn.V_EXPLICIT] = len(explicit_rows)
        explicit_rows.append(np.concatenate([sample(plans[k], s, dt, shape.seed, shape.trial, l + 1).ravel()
                                             for l, (k, s) in enumerate(zip(layer_kind, layer_shapes))]))
        code = kn.EXPLICIT
    else:
        for p in plans:
            _ = p.kind == "truncated" and sample(p, (1,), dt, 0, 0, 0)  # validates the interval
        params[:, :4] = np.array([p.kernel_params(dt) for p in plans])[layer_kind]
    bplans = [var.bias_initializer.plan((int(n),)) for n in distinct_n]
    params[:, 4:] = np.array([p.kernel_params(dt) for p in bplans])[bias_kind]
    row[kn.V_W_CODE] = code
    row[kn.V_B_CODE] = bplans[0].code
    row[kn.V_ACT] = var.activation.code
    row[kn.V_ACT_PARAM] = var.activation.param
    row[kn.V_SAT] = var.activation.saturation_level
    if var.initializer.is_data_dependent:
        row[kn.V_LSUV_TOL] = var.initializer.params["tol"]
        row[kn.V_LSUV_ITER] = var.initializer.params["max_iter"]
    return row, params


def base_rows(codes) -> tuple[bool, bool, bool]:
    """Which base draws (normals, uniforms, orthogonal) a group with these weight codes stores:
    normals and uniforms when at least two networks share them, orthogonal matrices always."""
    codes = np.asarray(codes)
    return (int(((codes == ks.NORMAL) | (codes == ks.TRUNCATED)).sum()) >= 2, int((codes == ks.UNIFORM).sum()) >= 2,
            bool((codes == ks.ORTHOGONAL).any()))


def weight_code(initializer, shape: Shape) -> int:
    """The kernel weight code of an initializer in networks of ``shape`` (EXPLICIT if structured)."""
    code = get_initializer(initializer).sampled.plan(shape.widths[:2]).code
    return kn.EXPLICIT if code is None else code


def plan_call(groups: list[tuple[Shape, list[Variant]]]) -> dict:
    """Kernel inputs for groups of one shape (they may differ in seed and trial).

    Base draws are shared within a group: normals and uniforms are materialised once for a group
    where at least two networks use them (otherwise each network draws its own, which is cheaper),
    orthogonal matrices always.
    """
    shape0 = groups[0][0]
    for shape, _ in groups:
        if replace(shape, seed=shape0.seed, trial=shape0.trial) != shape0:
            raise ValueError("plan_call: groups must share every setting but seed and trial")
    dt = np.dtype(shape0.dtype)
    widths = np.array(shape0.widths, dtype=np.int64)
    layer_shapes = [(shape0.widths[l - 1], shape0.widths[l]) for l in range(1, shape0.depth + 1)]
    n_weights = int(sum(a * b for a, b in layer_shapes))
    explicit_rows: list[np.ndarray] = []
    tables, params = [], []
    group_base = np.full((len(groups), 3), -1, dtype=np.int64)
    n_rows = [0, 0, 0]
    rows: dict = {}   # rows do not depend on the seed, except structured (explicit) weights
    for g, (shape, variants) in enumerate(groups):
        t = np.empty((len(variants), len(kn.VARIANT_COLUMNS)))
        p = np.empty((len(variants), shape.depth, 8))
        for v, var in enumerate(variants):
            key = (var.initializer.label, var.activation.label, var.bias_initializer.label)
            if key not in rows or rows[key][0][kn.V_W_CODE] == kn.EXPLICIT:
                rows[key] = _variant_row(shape, var, explicit_rows)
            t[v], p[v] = rows[key]
        t[:, kn.V_GROUP] = g
        tables.append(t)
        params.append(p)
        for k, needed in enumerate(base_rows(t[:, kn.V_W_CODE])):
            if needed:
                group_base[g, k] = n_rows[k]
                n_rows[k] += 1
    bases = [scratch(f"base_{name}", (n_rows[k], n_weights), np.float64) for k, name in enumerate("zuq")]
    for g, (shape, _) in enumerate(groups):
        z, u, q = group_base[g]
        if z >= 0:
            ks.fill_layers(widths, shape.seed, shape.trial, 0, bases[0][z])
        if u >= 0:
            ks.fill_layers(widths, shape.seed, shape.trial, 1, bases[1][u])
        if q >= 0:
            qs = orthogonal_matrices(np.array(layer_shapes), shape.seed, shape.trial, np.arange(1, shape.depth + 1))
            bases[2][q] = np.concatenate([m.ravel() for m in qs])
    x0, grad_seed = zip(*(inputs(shape) for shape, _ in groups))
    explicit = np.stack(explicit_rows).astype(dt) if explicit_rows else np.empty((0, n_weights), dtype=dt)
    return dict(variants=np.concatenate(tables), layer_params=np.concatenate(params), widths=widths,
                x0=np.stack(x0), grad_seed=np.stack(grad_seed),
                seeds=np.array([s.seed for s, _ in groups], dtype=np.uint64),
                trials=np.array([s.trial for s, _ in groups], dtype=np.uint64), group_base=group_base,
                base_z=bases[0], base_u=bases[1], base_q=bases[2], explicit=explicit, loss=LOSSES[shape0.loss],
                paired=shape0.input_corr is not None, backward=shape0.backward, jacobian=shape0.jacobian)


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


def run_groups(groups: list[tuple[Shape, list[Variant]]]) -> list[np.ndarray]:
    """Per-layer metrics of every variant of every group, in one parallel kernel call: one float64
    array (n_variants, depth, N_METRICS) per group. The groups must share their shape.

    BLAS runs on one thread: Numba threads run the networks in parallel without oversubscribing
    the cores, and the results are bit-identical for any thread count (multi-threaded BLAS
    changes the last bits of a product with the number of threads).
    """
    args = plan_call(groups)
    n = args["variants"].shape[0]
    shape0 = groups[0][0]
    out = np.empty((n, shape0.depth, kn.N_METRICS))
    ws = scratch("workspace", (numba.get_num_threads(), kn.workspace_length(args["widths"], shape0.batch)),
                 args["x0"].dtype)
    with _single_threaded_blas():
        kn.network_statistics(**args, workspace=ws, out=out)
    return np.split(out, np.cumsum([len(v) for _, v in groups])[:-1])


def run_group(shape: Shape, variants: list[Variant]) -> np.ndarray:
    """Per-layer metrics of the variants of one group: float64 array (n_variants, depth, N_METRICS)."""
    return run_groups([(shape, variants)])[0]


def memory_estimate(shape: Shape, *, n_explicit: int = 0, n_base_rows: int = 3, n_groups: int = 1,
                    threads: int | None = None) -> int:
    """Bytes a kernel call needs at peak: ``n_base_rows`` rows of base draws, the inputs of
    ``n_groups`` groups, the weights of ``n_explicit`` structured initializers (sparse, identity),
    and one workspace per thread."""
    threads = threads or numba.get_num_threads()
    item = np.dtype(shape.dtype).itemsize
    n_w = sum(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))
    w_max = max(a * b for a, b in zip(shape.widths[:-1], shape.widths[1:]))
    per_thread = kn.workspace_length(np.array(shape.widths, dtype=np.int64), shape.batch) * item
    if shape.jacobian:
        per_thread += 2 * max(shape.widths) * shape.widths[0] * 8 + w_max * 8
    return (n_base_rows * n_w * 8 + n_groups * shape.batch * (shape.widths[0] + shape.widths[-1]) * item
            + n_explicit * n_w * item + per_thread * threads)


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
