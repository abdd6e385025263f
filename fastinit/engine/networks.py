"""What a run is made of: the :class:`Shape` networks of one kernel call share, the
:class:`Variant` that tells them apart, and a shape's inputs.

:func:`make_shape` and :func:`make_variant` are the one place their settings are validated and
given defaults (:data:`SHAPE_DEFAULTS`); ``simulate`` and the sweep spec both call them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from .._validate import check_bool, check_choice, check_dtype, check_int, check_real, check_seed, check_uint32
from ..activations import Activation, get_activation
from ..initializers import Initializer, get_initializer
from ..kernels import sampling as ks
from ..kernels.network import LOSS_MSE, LOSS_PROBE
from ..rng import INPUT_TENSOR, MAX_ELEMENTS, PROBE_TENSOR, TARGET_TENSOR

INPUTS = ("normal", "uniform01")
LOSSES = {"probe": LOSS_PROBE, "mse": LOSS_MSE}
#: Most layers and units a network may have (a bound that keeps validation itself cheap).
MAX_DEPTH = 100_000
MAX_WIDTH = 2 ** 24


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


#: Defaults of every :class:`Shape` setting (``batch`` is 128 unless an input array sets it).
SHAPE_DEFAULTS = {f.name: f.default for f in fields(Shape) if f.name not in ("widths", "input_array")}


@dataclass(frozen=True)
class Variant:
    """What distinguishes one network from another of the same :class:`Shape`."""

    initializer: Initializer
    activation: Activation
    bias_initializer: Initializer


def check_widths(widths, depth=None) -> tuple[int, ...]:
    """``[n0, n1, ..., nL]``: at least two positive widths (``depth + 1`` of them if given)."""
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise ValueError(f"widths={widths!r} must be a list of positive ints")
    if not 2 <= len(widths) <= MAX_DEPTH + 1:
        raise ValueError(f"widths={list(widths)!r} must list 2 to {MAX_DEPTH + 1} widths (input and layers)")
    out = tuple(check_int("widths entry", w, 1, MAX_WIDTH) for w in widths)
    if depth is not None and check_int("depth", depth, 1, MAX_DEPTH) != len(out) - 1:
        raise ValueError(f"widths has length {len(out)} but depth={depth}: need depth + 1 widths")
    return out


def check_input(input, widths, batch):
    """The input kind (``"normal"``, ``"uniform01"`` or ``"array"``), the array if one, and the batch."""
    if isinstance(input, str):
        if input not in INPUTS:
            raise ValueError(
                f"input={input!r} must be one of {INPUTS} or an array of shape (batch, {widths[0]})"
            )
        return input, None, SHAPE_DEFAULTS["batch"] if batch is None else SETTING_CHECKS["batch"](batch)
    array = np.asarray(input)
    if array.dtype.kind not in "fiu" or array.ndim != 2 or array.shape[1] != widths[0] or array.shape[0] < 2:
        raise ValueError(f"input array must be real with shape (batch >= 2, {widths[0]}), "
                         f"got dtype {array.dtype} and shape {array.shape}")
    if batch is not None and batch != array.shape[0]:
        raise ValueError(f"batch={batch!r} disagrees with the input array's {array.shape[0]} rows")
    return "array", array, array.shape[0]


def check_input_corr(input_corr, input: str, batch: int) -> float | None:
    """``input_corr``: None, or a number in [-1, 1] for normal inputs in pairs (an even batch)."""
    if input_corr is None:
        return None
    input_corr = SETTING_CHECKS["input_corr"](input_corr)
    if input != "normal":
        raise ValueError(f"input_corr needs input='normal', got input={input!r}")
    if batch % 2:
        raise ValueError(f"input_corr needs an even batch (pairs), got batch={batch}")
    return input_corr


#: The check of each setting taken alone (the spec checks every value of a grid with these);
#: :func:`make_shape` adds the checks that involve several settings.
SETTING_CHECKS = {
    "depth": lambda v: check_int("depth", v, 1, MAX_DEPTH),
    "width": lambda v: check_int("width", v, 1, MAX_WIDTH),
    "widths": lambda v: check_widths(v),
    "batch": lambda v: check_int("batch", v, 2),
    "seed": check_seed,
    "trial": lambda v: check_uint32("trial", v),
    "input": lambda v: check_choice("input", v, INPUTS),
    "input_corr": lambda v: None if v is None else check_real("input_corr", v, -1.0, 1.0),
    "dtype": lambda v: check_dtype(v).name,
    "backward": lambda v: check_bool("backward", v),
    "jacobian": lambda v: check_bool("jacobian", v),
    "loss": lambda v: check_choice("loss", v, tuple(LOSSES)),
}


def make_shape(depth=None, width=None, *, widths=None, batch=None, seed=0, trial=0, input="normal",
               input_corr=None, dtype="float32", backward=True, jacobian=False, loss="probe") -> Shape:
    """Validate simulation settings and return a :class:`Shape` (errors name the parameter)."""
    c = SETTING_CHECKS
    if widths is not None:
        widths = check_widths(widths, depth)
    else:
        widths = (c["width"](width),) * (c["depth"](depth) + 1)
    for a, b in zip(widths, widths[1:]):
        if a * b >= MAX_ELEMENTS:
            raise ValueError(f"a layer of {a} x {b} weights has {a * b} elements; at most {MAX_ELEMENTS - 1} "
                             f"fit the random streams (rng.MAX_ELEMENTS)")
    input, array, batch = check_input(input, widths, batch)
    return Shape(widths, batch, c["seed"](seed), c["trial"](trial), c["dtype"](dtype), input,
                 check_input_corr(input_corr, input, batch), c["backward"](backward), c["jacobian"](jacobian),
                 c["loss"](loss), array)


def check_bias_initializer(bias_initializer) -> Initializer:
    """A bias initializer: resolved, and elementwise (constant, uniform, normal or truncated normal)."""
    bias = get_initializer(bias_initializer)
    if bias.is_data_dependent or not bias.plan((4,)).kind.elementwise:
        raise ValueError(f"bias_initializer={bias.label!r} must be elementwise (constant, uniform, normal or "
                         f"truncated normal)")
    return bias


def make_variant(initializer, activation, bias_initializer="zeros") -> Variant:
    """Resolve the initializer, activation and bias initializer of one network."""
    return Variant(
        get_initializer(initializer), get_activation(activation), check_bias_initializer(bias_initializer)
    )


def inputs(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """The input batch and the gradient seed (probe g or targets) of a shape, in its dtype."""
    dt = np.dtype(shape.dtype)
    b, n0, nl = shape.batch, shape.widths[0], shape.widths[-1]
    seed = np.uint64(shape.seed)   # seeds >= 2**63 must not meet a kernel compiled for int64 seeds
    if shape.input == "array":
        x0 = np.ascontiguousarray(shape.input_array, dtype=dt)
    else:
        x = np.empty(b * n0)
        if shape.input == "uniform01":
            ks.fill_uniform(x, seed, shape.trial, INPUT_TENSOR)
        else:
            ks.fill_normal(x, seed, shape.trial, INPUT_TENSOR)
        x = x.reshape(b, n0)
        if shape.input_corr is not None:
            c = shape.input_corr
            x[1::2] = c * x[0::2] + math.sqrt(1.0 - c * c) * x[1::2]
        x0 = x.astype(dt)
    g = np.empty(b * nl)
    ks.fill_normal(g, seed, shape.trial, TARGET_TENSOR if shape.loss == "mse" else PROBE_TENSOR)
    return x0, g.reshape(b, nl).astype(dt)
