"""The initializer catalogue: every Keras, PyTorch and JAX initializer, plus the literature's.

An initializer is a canonical name plus parameters. :func:`get_initializer` resolves every
spelling through one registry: Keras names and class names (case-insensitive), PyTorch names (a
trailing ``_`` is allowed), JAX names, framework prefixes ``keras.``, ``torch.``, ``jax.``, Keras
dict specs ``{"class_name": ..., "config": {...}}`` (``keras.initializers.serialize`` output, with
``module`` and ``registered_name``, included) and fastinit's ``{"name": ..., **params}``.
A plain name has the semantics of the framework that owns it (``kaiming_normal`` is PyTorch's
untruncated normal; ``he_normal`` is Keras's truncated one; ``normal`` and ``uniform`` are
PyTorch's, ``keras.normal`` / ``keras.uniform`` Keras's ``RandomNormal`` / ``RandomUniform``).

Each initializer reduces, for a given shape, to a :class:`Plan`: an elementwise distribution
(constant, uniform, normal, truncated normal) or a structured one (orthogonal, identity, dirac,
delta-orthogonal, sparse). Weights are drawn with :mod:`fastinit.kernels.sampling`, so element
``e`` of tensor ``tensor_id`` is a pure function of ``(seed, trial, tensor_id, e)``, and two
initializers of the same family draw the same base numbers (common random numbers).
"""
from __future__ import annotations

import difflib
import enum
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import rng
from ._validate import canonical_label, check_dtype, check_seed, check_shape, check_uint32
from .activations import calculate_gain
from .fans import LAYOUTS, compute_fans
from .kernels import sampling as ks
from .kernels.orthogonal import orthogonal_matrices
from .rng import MAX_ELEMENTS

#: Standard deviation of N(0, 1) truncated to (-2, 2); variance-scaling divides by it.
TRUNC_STD_2 = 0.87962566103423978

class Kind(str, enum.Enum):
    """What an initializer reduces to for one shape, and what each kind knows: its sampling code
    (:func:`fastinit.kernels.sampling.from_base`; None for structured kinds drawn by
    :func:`sample`), whether it is elementwise, its second moment, and the checks of its numbers.

    Arguments (``Plan.args``): ``constant(value)``, ``uniform(low, high)``, ``normal(mean, std)``,
    ``truncated(mean, std, lo, hi)`` (bounds in sigma units), ``orthogonal(gain)``,
    ``identity(gain)``, ``dirac(groups)``, ``delta_orthogonal(scale)``, ``sparse(sparsity, std)``,
    ``sparse_martens(k, scale)``. Adding a structured kind: a member here, its cases in
    :meth:`second_moment` and :meth:`check`, and its sampler in :data:`_STRUCTURED`.
    """

    CONSTANT = "constant"
    UNIFORM = "uniform"
    NORMAL = "normal"
    TRUNCATED = "truncated"
    ORTHOGONAL = "orthogonal"
    IDENTITY = "identity"
    DIRAC = "dirac"
    DELTA_ORTHOGONAL = "delta_orthogonal"
    SPARSE = "sparse"
    SPARSE_MARTENS = "sparse_martens"

    @property
    def code(self) -> int | None:
        """Kernel code of :func:`fastinit.kernels.sampling.from_base`, or None if structured."""
        return _CODES.get(self)

    @property
    def elementwise(self) -> bool:
        """Each entry drawn on its own (constant, uniform, normal, truncated normal)."""
        return self in (Kind.CONSTANT, Kind.UNIFORM, Kind.NORMAL, Kind.TRUNCATED)

    def second_moment(self, a: tuple, n_in: int, n_out: int) -> float:
        """E[w^2] of the entries of an (n_in, n_out) weight of this kind with arguments ``a``
        (inf where it overflows: blow-up is data).

        Where the direct formula is not finite (a square beyond the largest float, or inf - inf
        in the uniform's a^2 + ab + b^2), it is evaluated again with the scale arguments divided
        by the largest of them, s, and multiplied back as s * (s * m): finite where E[w^2] is
        (uniform +-1.5e154: 7.5e307, not NaN), inf where it overflows (+-1e300: inf, not NaN).
        A finite direct result is returned as it is."""
        with np.errstate(over="ignore", invalid="ignore"):
            a = tuple(np.float64(x) for x in a)
            m = float(self._second_moment(a, n_in, n_out))
            if math.isfinite(m) or self not in _SCALE_ARGS:
                return m
            s = max(abs(a[i]) for i in _SCALE_ARGS[self])
            if not 0 < s < math.inf:
                return m
            unit = tuple(x / s if i in _SCALE_ARGS[self] else x for i, x in enumerate(a))
            return float(s * (s * self._second_moment(unit, n_in, n_out)))

    def _second_moment(self, a: tuple, n_in: int, n_out: int) -> float:
        if self is Kind.CONSTANT:
            return a[0] ** 2
        if self is Kind.UNIFORM:
            return (a[0] ** 2 + a[0] * a[1] + a[1] ** 2) / 3
        if self is Kind.NORMAL:
            return a[0] ** 2 + a[1] ** 2
        if self is Kind.TRUNCATED:
            if rng.truncated_mass(a[2], a[3]) < rng.REDRAW_MIN_MASS:
                m1, m2 = _truncated_raw_moments(a[2], a[3])
                return a[0] ** 2 + 2 * a[0] * a[1] * m1 + a[1] ** 2 * m2
            from scipy.stats import truncnorm
            t = truncnorm(a[2], a[3])
            return (a[0] + a[1] * t.mean()) ** 2 + a[1] ** 2 * t.var()
        if self in (Kind.ORTHOGONAL, Kind.IDENTITY):
            return a[0] ** 2 * min(n_in, n_out) / (n_in * n_out)
        if self is Kind.SPARSE:
            return a[1] ** 2 * (1 - math.ceil(a[0] * n_out) / n_out)
        if self is Kind.SPARSE_MARTENS:
            return a[1] ** 2 * a[0] / n_in
        raise ValueError(f"no mean-field variance for initializer kind {self.value!r}")

    def check(self, a: tuple, shape: tuple) -> None:
        """Raise ValueError if a tensor of ``shape`` cannot be drawn with arguments ``a``."""
        if self is Kind.UNIFORM and not a[0] < a[1]:
            raise ValueError(f"uniform bounds must satisfy low < high, got low={a[0]!r}, high={a[1]!r}")
        if self is Kind.TRUNCATED and not a[2] < a[3]:
            # any interval with lower < upper is sampled (tiny probabilities by inverse CDF)
            raise ValueError(f"truncation bounds must satisfy lower < upper, got {a[2]!r} >= {a[3]!r} "
                             f"(in sigma units)")
        if self is Kind.IDENTITY and len(shape) != 2:
            raise ValueError(f"identity/eye needs a 2-D shape, got {shape!r}")
        if self in (Kind.DIRAC, Kind.DELTA_ORTHOGONAL) and not 3 <= len(shape) <= 5:
            raise ValueError(f"{self.value} needs a 3-, 4- or 5-D shape, got {shape!r}")
        if self in (Kind.SPARSE, Kind.SPARSE_MARTENS) and len(shape) != 2:
            raise ValueError(f"{self.value} needs a 2-D shape, got {shape!r}")


def _truncated_raw_moments(lo: float, hi: float) -> tuple[float, float]:
    """E[z] and E[z^2] of N(0, 1) truncated to [lo, hi], accurate however far out the interval lies
    (scipy's truncnorm loses them there): from phi(a) / Z = h(a) / m and phi(b) / Z = h(b) q / m,
    h the hazard phi / P(Z > .), q = P(Z > b) / P(Z > a), m = 1 - q, for 0 <= a = lo, b = hi;
    by symmetry left of 0; directly for an interval around 0 (there narrow, as tiny-probability)."""
    if hi <= 0:
        m1, m2 = _truncated_raw_moments(-hi, -lo)
        return -m1, m2
    if lo < 0:
        z = rng.truncated_mass(lo, hi)
        pa, pb = (math.exp(-0.5 * v * v) / math.sqrt(2 * math.pi) for v in (lo, hi))
        diff = -pa * math.expm1(-0.5 * (hi - lo) * (hi + lo))    # pa - pb without cancellation
        return diff / z, 1.0 + (lo * pa - hi * pb) / z
    r = rng.log_tail_ratio(lo, hi)
    q, m = math.exp(r), -math.expm1(r)
    ha = rng.upper_hazard(lo)
    hb_q = 0.0 if q == 0.0 else rng.upper_hazard(hi) * q      # phi(b) Z / ... -> 0 as b -> inf
    return (ha - hb_q) / m, 1.0 + (lo * ha - (0.0 if hb_q == 0.0 else hi * hb_q)) / m


#: The arguments of each kind that E[w^2] is homogeneous of degree 2 in (values, bounds, means,
#: standard deviations, gains; not bounds in sigma units, sparsities or counts).
_SCALE_ARGS = {Kind.CONSTANT: (0,), Kind.UNIFORM: (0, 1), Kind.NORMAL: (0, 1), Kind.TRUNCATED: (0, 1),
               Kind.ORTHOGONAL: (0,), Kind.IDENTITY: (0,), Kind.SPARSE: (1,), Kind.SPARSE_MARTENS: (1,)}

_CODES = {
    Kind.CONSTANT: ks.CONSTANT,
    Kind.UNIFORM: ks.UNIFORM,
    Kind.NORMAL: ks.NORMAL,
    Kind.TRUNCATED: ks.TRUNCATED,
    Kind.ORTHOGONAL: ks.ORTHOGONAL,
}


@dataclass(frozen=True)
class Plan:
    """How to sample one tensor: a :class:`Kind` and its numbers."""

    kind: Kind
    args: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "kind", Kind(self.kind))

    @property
    def code(self) -> int | None:
        """Kernel code of :func:`fastinit.kernels.sampling.from_base`, or None if structured."""
        return self.kind.code

    def kernel_params(self, dtype) -> np.ndarray:
        """The four parameters of :func:`fastinit.kernels.sampling.from_base` for ``dtype``.

        For uniform, the third is the largest value of ``dtype`` below the upper bound.
        """
        p = np.array((tuple(self.args) + (0.0,) * 4)[:4], dtype=np.float64)
        if self.kind is Kind.UNIFORM:
            dt = np.dtype(dtype).type
            with np.errstate(over="ignore"):    # bounds beyond float32's range are +-inf there: data
                lo, hi = dt(p[0]), dt(p[1])
            p[2] = float(np.nextafter(hi, dt(-np.inf)))
            if lo >= hi:
                lo, hi = float(p[0]), float(p[1])
                raise ValueError(f"uniform bounds {lo!r}, {hi!r} are equal in {np.dtype(dtype).name}")
        return p


# ----------------------------------------------------------------------------------------------
# registry
@dataclass(frozen=True)
class _Entry:
    name: str
    framework: str
    defaults: dict
    planner: Callable
    checks: dict = field(default_factory=dict)
    doc: str = ""


_REGISTRY: dict[str, _Entry] = {}
_ALIASES: dict[str, str] = {}


#: The spellings of each canonical name, as written (the registry's lookup keys are normalised).
_SPELLINGS: dict[str, list[str]] = {}
#: Module paths that name a framework prefix: ``torch.nn.init.kaiming_normal_`` is ``torch.kaiming_normal``.
_MODULES = {"torch.nn.init": "torch", "keras.initializers": "keras", "tf.keras.initializers": "keras",
            "jax.nn.initializers": "jax"}


def _key(name: str) -> str:
    prefix, _, base = name.strip().lower().rpartition(".")
    prefix = _MODULES.get(prefix, prefix)
    base = base.rstrip("_").replace("_", "")
    return f"{prefix}.{base}" if prefix else base


def _alias(spelling: str, name: str, *, replace: bool = True) -> None:
    """Make ``spelling`` resolve to ``name`` (``replace=False``: unless it already resolves)."""
    key = _key(spelling)
    if replace or key not in _ALIASES:
        _ALIASES[key] = name
    if _ALIASES[key] == name and spelling not in _SPELLINGS.setdefault(name, []):
        _SPELLINGS[name].append(spelling)


def _register(name, framework, defaults, planner, *, aliases=(), checks=None, doc=""):
    _REGISTRY[name] = _Entry(name, framework, dict(defaults), planner, checks or {}, doc)
    for a in (name, *aliases):
        _alias(a, name)


def initializer_names() -> list[str]:
    """Canonical initializer names (``jax.``-prefixed where only JAX has those semantics)."""
    return list(_REGISTRY)


def _finite(v) -> bool:
    """A finite int or float, not a bool (an int beyond the float range, 10**400, is not finite:
    math.isfinite raises OverflowError on it)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


# parameter checks: name -> (predicate, description of what is allowed)
_POS = (lambda v: _finite(v) and v > 0, "a finite number > 0")
_NONNEG = (lambda v: _finite(v) and v >= 0, "a finite number >= 0")
_NUM = (_finite, "a finite number")
_MODE = (lambda v: v in ("fan_in", "fan_out", "fan_avg"), "'fan_in', 'fan_out' or 'fan_avg'")
_JMODE = (lambda v: v in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"),
          "'fan_in', 'fan_out', 'fan_avg' or 'fan_geo_avg'")
_TMODE = (lambda v: v in ("fan_in", "fan_out"), "'fan_in' or 'fan_out'")
_KDIST = (lambda v: v in ("truncated_normal", "normal", "untruncated_normal", "uniform"),
          "'truncated_normal', 'normal' (= truncated in Keras), 'untruncated_normal' or 'uniform'")
_JDIST = (
    lambda v: v in ("truncated_normal", "normal", "uniform"),
    "'truncated_normal', 'normal' or 'uniform'",
)
_INT1 = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1")
_FRAC = (
    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1,
    "a number in [0, 1]",
)
_AXES = (lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, (tuple, list))
         and all(isinstance(a, int) for a in v), "an int or a list of ints")
_OPT_AXES = (lambda v: v is None or _AXES[0](v), "None, an int or a list of ints")
#: Keras 3's fan axes of VarianceScaling and its shortcuts (None: Keras's default rule).
_KERAS_AXES = {"input_axes": None, "output_axes": None}
_KERAS_AXES_CHECKS = {"input_axes": _OPT_AXES, "output_axes": _OPT_AXES}
#: Parameters whose default None means "not given" rather than "required".
_OPTIONAL = frozenset(_KERAS_AXES)
_NONLIN = (lambda v: isinstance(v, str), "a nonlinearity name accepted by calculate_gain")
_STR = (lambda v: isinstance(v, (str, dict, Initializer)), "an initializer name or spec")


def _variance_scaling(scale, mode, distribution, fan_in, fan_out, *, normal_is_truncated=True):
    if mode == "fan_geo_avg":  # JAX only
        n = math.sqrt(fan_in * fan_out)
    else:
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    var = scale / max(1.0, n)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * var)
        return Plan("uniform", (-limit, limit))
    if distribution == "truncated_normal" or (distribution == "normal" and normal_is_truncated):
        return Plan("truncated", (0.0, math.sqrt(var) / TRUNC_STD_2, -2.0, 2.0))
    return Plan("normal", (0.0, math.sqrt(var)))


def _vs(scale, mode, distribution):
    return lambda p, fi, fo, shape: _variance_scaling(scale, mode, distribution, fi, fo)


def _kaiming(p, fan_in, fan_out, uniform):
    gain = calculate_gain(p["nonlinearity"], p["a"])
    std = gain / math.sqrt(fan_in if p["mode"] == "fan_in" else fan_out)
    if uniform:
        bound = math.sqrt(3.0) * std
        return Plan("uniform", (-bound, bound))
    return Plan("normal", (0.0, std))


def _kwon(factor, uniform):
    def planner(p, fi, fo, shape):
        if uniform:
            r = factor * math.sqrt(6.0 / (fi + fo))
            return Plan("uniform", (-r, r))
        return Plan("normal", (0.0, factor * math.sqrt(2.0 / (fi + fo))))
    return planner


# --- Keras -------------------------------------------------------------------------------------
_register(
    "zeros", "keras", {}, lambda p, fi, fo, s: Plan("constant", (0.0,)), aliases=("jax.zeros", "torch.zeros")
)
_register(
    "ones", "keras", {}, lambda p, fi, fo, s: Plan("constant", (1.0,)), aliases=("jax.ones", "torch.ones")
)
_register("constant", "keras", {"value": 0.0}, lambda p, fi, fo, s: Plan("constant", (p["value"],)),
          aliases=("jax.constant", "torch.constant"), checks={"value": _NUM})
_register("random_normal", "keras", {"mean": 0.0, "stddev": 0.05},
          lambda p, fi, fo, s: Plan("normal", (p["mean"], p["stddev"])),
          checks={"mean": _NUM, "stddev": _POS})
_register("random_uniform", "keras", {"minval": -0.05, "maxval": 0.05},
          lambda p, fi, fo, s: Plan("uniform", (p["minval"], p["maxval"])),
          checks={"minval": _NUM, "maxval": _NUM})
_register("truncated_normal", "keras", {"mean": 0.0, "stddev": 0.05},
          lambda p, fi, fo, s: Plan("truncated", (p["mean"], p["stddev"], -2.0, 2.0)),
          checks={"mean": _NUM, "stddev": _POS},
          doc="Keras's: bounds mean +- 2 stddev, no variance correction (PyTorch's is trunc_normal, "
              "JAX's jax.truncated_normal)")
_register("variance_scaling", "keras",
          {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", **_KERAS_AXES},
          lambda p, fi, fo, s: _variance_scaling(p["scale"], p["mode"], p["distribution"], fi, fo),
          checks={"scale": _POS, "mode": _MODE, "distribution": _KDIST, **_KERAS_AXES_CHECKS},
          doc="distribution 'normal' is truncated, as in Keras (jax.variance_scaling's is not)")
_register("orthogonal", "keras", {"gain": 1.0}, lambda p, fi, fo, s: Plan("orthogonal", (p["gain"],)),
          aliases=("orthogonal_initializer", "torch.orthogonal"), checks={"gain": _NUM},
          doc="Keras's and PyTorch's (same rule: rows = prod(shape[:-1]) in the keras layout, shape[0] in "
              "the torch one); jax.orthogonal takes column_axis and scale")
_register("identity", "keras", {"gain": 1.0}, lambda p, fi, fo, s: Plan("identity", (p["gain"],)),
          aliases=("identity_initializer",), checks={"gain": _NUM})
_register("lecun_uniform", "keras", _KERAS_AXES, _vs(1.0, "fan_in", "uniform"),
          aliases=("jax.lecun_uniform",), checks=_KERAS_AXES_CHECKS)
_register("lecun_normal", "keras", _KERAS_AXES, _vs(1.0, "fan_in", "truncated_normal"),
          aliases=("jax.lecun_normal",), checks=_KERAS_AXES_CHECKS)
_register("glorot_uniform", "keras", {"gain": 1.0, **_KERAS_AXES},
          lambda p, fi, fo, s: _variance_scaling(p["gain"] ** 2, "fan_avg", "uniform", fi, fo),
          aliases=("jax.glorot_uniform", "jax.xavier_uniform"), checks={"gain": _POS, **_KERAS_AXES_CHECKS},
          doc="gain=4 is the deeplearning.net rule for the logistic sigmoid")
_register("glorot_normal", "keras", {"gain": 1.0, **_KERAS_AXES},
          lambda p, fi, fo, s: _variance_scaling(p["gain"] ** 2, "fan_avg", "truncated_normal", fi, fo),
          aliases=("jax.glorot_normal", "jax.xavier_normal"), checks={"gain": _POS, **_KERAS_AXES_CHECKS},
          doc="truncated normal (Keras, JAX); PyTorch's xavier_normal is untruncated")
_register(
    "he_uniform",
    "keras",
    {"negative_slope": 0.0, **_KERAS_AXES},
    lambda p, fi, fo, s: _variance_scaling(
        2.0 / (1.0 + p["negative_slope"] ** 2), "fan_in", "uniform", fi, fo
    ),
    aliases=("jax.he_uniform", "jax.kaiming_uniform"),
    checks={"negative_slope": _NUM, **_KERAS_AXES_CHECKS},
)
_register("he_normal", "keras", {"negative_slope": 0.0, **_KERAS_AXES},
          lambda p, fi, fo, s: _variance_scaling(2.0 / (1.0 + p["negative_slope"] ** 2), "fan_in",
                                                 "truncated_normal", fi, fo),
          aliases=("jax.he_normal", "jax.kaiming_normal"),
          checks={"negative_slope": _NUM, **_KERAS_AXES_CHECKS},
          doc="truncated normal (Keras, JAX); PyTorch's kaiming_normal is untruncated")

# --- PyTorch -----------------------------------------------------------------------------------
_register("uniform", "torch", {"a": 0.0, "b": 1.0}, lambda p, fi, fo, s: Plan("uniform", (p["a"], p["b"])),
          checks={"a": _NUM, "b": _NUM},
          doc="plain 'uniform' is PyTorch's U[a, b); keras.uniform is random_uniform (+-0.05), "
              "jax.uniform is U[0, scale)")
_register("normal", "torch", {"mean": 0.0, "std": 1.0},
          lambda p, fi, fo, s: Plan("normal", (p["mean"], p["std"])), checks={"mean": _NUM, "std": _POS},
          doc="plain 'normal' is PyTorch's N(mean, std^2); keras.normal is random_normal (stddev 0.05), "
              "jax.normal is N(0, stddev^2) (stddev 0.01)")
_register("trunc_normal", "torch", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0},
          lambda p, fi, fo, s: Plan("truncated", (p["mean"], p["std"], (p["a"] - p["mean"]) / p["std"],
                                                  (p["b"] - p["mean"]) / p["std"])),
          checks={"mean": _NUM, "std": _POS, "a": _NUM, "b": _NUM}, doc="absolute bounds a, b")
_register("xavier_uniform", "torch", {"gain": 1.0},
          lambda p, fi, fo, s: Plan("uniform", (-math.sqrt(3.0) * p["gain"] * math.sqrt(2.0 / (fi + fo)),
                                                math.sqrt(3.0) * p["gain"] * math.sqrt(2.0 / (fi + fo)))),
          checks={"gain": _POS})
_register(
    "xavier_normal",
    "torch",
    {"gain": 1.0},
    lambda p, fi, fo, s: Plan("normal", (0.0, p["gain"] * math.sqrt(2.0 / (fi + fo)))),
    checks={"gain": _POS},
    doc="untruncated normal (PyTorch); glorot_normal (Keras, JAX) is truncated",
)
_KAIMING_CHECKS = {"a": _NUM, "mode": _TMODE, "nonlinearity": _NONLIN}
_register("kaiming_uniform", "torch", {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"},
          lambda p, fi, fo, s: _kaiming(p, fi, fo, True), checks=_KAIMING_CHECKS)
_register("kaiming_normal", "torch", {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"},
          lambda p, fi, fo, s: _kaiming(p, fi, fo, False), checks=_KAIMING_CHECKS,
          doc="untruncated normal (PyTorch); he_normal (Keras, JAX) is truncated")
_register("eye", "torch", {}, lambda p, fi, fo, s: Plan("identity", (1.0,)))
_register(
    "dirac",
    "torch",
    {"groups": 1},
    lambda p, fi, fo, s: Plan("dirac", (p["groups"],)),
    checks={"groups": _INT1},
)
_register(
    "sparse",
    "torch",
    {"sparsity": None, "std": 0.01},
    lambda p, fi, fo, s: Plan("sparse", (p["sparsity"], p["std"])),
    checks={"sparsity": _FRAC, "std": _POS},
)
_register("torch_default", "torch", {},
          lambda p, fi, fo, s: _kaiming({"a": math.sqrt(5.0), "mode": "fan_in", "nonlinearity": "leaky_relu"},
                                        fi, fo, True),
          aliases=("torch.default", "torch_linear"), doc="nn.Linear's weight init: U(+-1/sqrt(fan_in))")

# --- JAX ---------------------------------------------------------------------------------------
_register("jax.uniform", "jax", {"scale": 1e-2}, lambda p, fi, fo, s: Plan("uniform", (0.0, p["scale"])),
          checks={"scale": _POS}, doc="U[0, scale)")
_register("jax.normal", "jax", {"stddev": 1e-2}, lambda p, fi, fo, s: Plan("normal", (0.0, p["stddev"])),
          checks={"stddev": _POS})
_register("jax.truncated_normal", "jax", {"stddev": 1e-2, "lower": -2.0, "upper": 2.0},
          lambda p, fi, fo, s: Plan("truncated", (0.0, p["stddev"], p["lower"], p["upper"])),
          checks={"stddev": _POS, "lower": _NUM, "upper": _NUM}, doc="bounds in sigma units")
_register("jax.variance_scaling", "jax",
          {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "in_axis": -2, "out_axis": -1,
           "batch_axis": ()},
          lambda p, fi, fo, s: _variance_scaling(p["scale"], p["mode"], p["distribution"], fi, fo,
                                                 normal_is_truncated=False),
          checks={"scale": _POS, "mode": _JMODE, "distribution": _JDIST, "in_axis": _AXES, "out_axis": _AXES,
                  "batch_axis": _AXES},
          doc="'normal' is untruncated; mode 'fan_geo_avg' divides by sqrt(fan_in * fan_out)")
_register(
    "jax.orthogonal",
    "jax",
    {"scale": 1.0, "column_axis": -1},
    lambda p, fi, fo, s: Plan("orthogonal", (p["scale"],)),
    checks={"scale": _NUM, "column_axis": _AXES},
)
_register("delta_orthogonal", "jax", {"scale": 1.0, "column_axis": -1},
          lambda p, fi, fo, s: Plan("delta_orthogonal", (p["scale"],)),
          aliases=("jax.delta_orthogonal",), checks={"scale": _NUM, "column_axis": _AXES})

# --- literature --------------------------------------------------------------------------------
for _act, _f in (("logistic", 1.0), ("tanh", 4.0), ("relu", math.sqrt(2.0))):
    _register(f"kwon_{_act}_uniform", "literature", {}, _kwon(_f, True),
              doc=f"Kwon et al. table: r = {_f:g} sqrt(6/(n_in+n_out))")
    _register(f"kwon_{_act}_normal", "literature", {}, _kwon(_f, False),
              doc=f"Kwon et al. table: sigma = {_f:g} sqrt(2/(n_in+n_out)), untruncated")
_register("sparse_martens", "literature", {"k": 15, "scale": 1.0},
          lambda p, fi, fo, s: Plan("sparse_martens", (p["k"], p["scale"])),
          checks={"k": _INT1, "scale": _POS})
_register("lsuv", "literature", {"tol": 0.02, "max_iter": 20, "base": "orthogonal"},
          lambda p, fi, fo, s: get_initializer(p["base"]).plan((int(fi), int(fo))),
          checks={"tol": _POS, "max_iter": _INT1, "base": _STR},
          doc="data-dependent (Mishkin & Matas 2016); runs inside simulate and sweeps")

#: Initializers whose planner does not read the fans (so a shape without fans is no error).
_FAN_FREE = frozenset({
    "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal", "orthogonal",
    "identity", "uniform", "normal", "trunc_normal", "eye", "dirac", "sparse", "jax.uniform", "jax.normal",
    "jax.truncated_normal", "jax.orthogonal", "delta_orthogonal", "sparse_martens",
})

_KERAS_CLASSES = {
    "zeros": "Zeros",
    "ones": "Ones",
    "constant": "Constant",
    "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform",
    "truncated_normal": "TruncatedNormal",
    "variance_scaling": "VarianceScaling",
    "orthogonal": "Orthogonal",
    "identity": "Identity",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
}
#: The initializers whose Keras class takes a ``seed`` (``HeNormal(seed=4)``; as recorded from Keras 3 in
#: tests/data/frameworks/keras.json, where these configs have one): :func:`get_initializer` accepts
#: ``seed`` for every spelling of them, as a keyword or in a dict, as the default stream seed.
_KERAS_SEEDED = frozenset({
    "random_normal", "random_uniform", "truncated_normal", "variance_scaling", "orthogonal",
    "lecun_uniform", "lecun_normal", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
})
#: Keras 3's extra spellings (``keras.initializers.get``). The plain names that PyTorch or JAX own
#: (``normal``, ``uniform``) keep the owner's meaning; with the ``keras.`` prefix they are Keras's.
_KERAS_EXTRA = {
    "normal": "random_normal",
    "uniform": "random_uniform",
    "one": "ones",
    "zero": "zeros",
    "IdentityInitializer": "identity",
    "OrthogonalInitializer": "orthogonal",
}
#: PyTorch's ``torch.nn.init`` functions (in place, hence the ``_``) and the entries they are.
_TORCH_NN_INIT = {
    "uniform_": "uniform", "normal_": "normal", "trunc_normal_": "trunc_normal", "constant_": "constant",
    "ones_": "ones", "zeros_": "zeros", "eye_": "eye", "dirac_": "dirac", "xavier_uniform_": "xavier_uniform",
    "xavier_normal_": "xavier_normal", "kaiming_uniform_": "kaiming_uniform",
    "kaiming_normal_": "kaiming_normal", "orthogonal_": "orthogonal", "sparse_": "sparse",
}
for _spelling, _name in _KERAS_EXTRA.items():
    _alias("keras." + _spelling, _name)
    _alias(_spelling, _name, replace=False)
for _name, _cls in _KERAS_CLASSES.items():
    _alias(_cls, _name)
    _alias("keras." + _name, _name)
    _alias("keras." + _cls, _name)
for _spelling, _name in _TORCH_NN_INIT.items():
    _alias(_spelling, _name, replace=False)    # the plain names stay their owners' (ones_ is Keras's ones)
    _alias("torch." + _spelling, _name)
for _name, _e in list(_REGISTRY.items()):
    if _e.framework == "torch" and not _name.startswith("torch"):
        _alias("torch." + _name, _name)
    if _e.framework == "literature":
        _alias("fastinit." + _name, _name)


# ----------------------------------------------------------------------------------------------
class Initializer:
    """A resolved initializer: call it with a shape to get a NumPy array.

    Use :func:`get_initializer` to make one.
    """

    def __init__(self, name: str, params: dict[str, Any], seed: int | None = None):
        self.name = name
        self.entry = _REGISTRY[name]
        self.params = {**self.entry.defaults, **params}
        self.given = {k: v for k, v in params.items() if v != self.entry.defaults.get(k, object())}
        self.default_seed = seed
        self._plans: dict = {}

    def __repr__(self) -> str:
        return f"Initializer({self.label!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Initializer) and self.label == other.label

    def __hash__(self) -> int:
        return hash(self.label)

    @property
    def label(self) -> str:
        """Canonical label: the name, then parameters that differ from the defaults, sorted by key."""
        return canonical_label(self.name, self.given)

    @property
    def is_data_dependent(self) -> bool:
        """True for LSUV, whose final scale depends on the data a network sees."""
        return self.name == "lsuv"

    @property
    def sampled(self) -> Initializer:
        """The initializer whose draws a network starts from: LSUV's base, otherwise itself."""
        return get_initializer(self.params["base"]) if self.is_data_dependent else self

    def get_config(self) -> dict:
        """All parameters (defaults included), as in Keras; a nested initializer (LSUV's base) as
        its ``{"name": ..., **params}`` spec."""
        return {k: ({"name": v.name, **v.given} if isinstance(v, Initializer) else v)
                for k, v in self.params.items()}

    def plan(self, shape, layout: str = "keras", in_axis=-2, out_axis=-1, batch_axis=()) -> Plan:
        """The :class:`Plan` for a weight of ``shape`` under ``layout`` (memoised)."""
        key = (tuple(int(d) for d in shape), layout, repr(in_axis), repr(out_axis), repr(batch_axis))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(shape, layout, in_axis, out_axis, batch_axis)
        return plan

    def _plan(self, shape, layout, in_axis, out_axis, batch_axis) -> Plan:
        if self.name == "jax.variance_scaling":
            layout, in_axis, out_axis, batch_axis = "jax", self.params["in_axis"], self.params["out_axis"], \
                self.params["batch_axis"]
        try:
            fan_in, fan_out = compute_fans(shape, layout, in_axis, out_axis, batch_axis,
                                           self.params.get("input_axes"), self.params.get("output_axes"))
        except ValueError:          # no fans (rank < 2 under the torch or jax layout)
            if self.name not in _FAN_FREE:
                raise
            fan_in = fan_out = math.nan     # unused: jax.normal on a rank-1 shape works, as in JAX
        return self.entry.planner(self.params, fan_in, fan_out, shape)

    def __call__(self, shape, *, seed: int | None = None, dtype="float32", layout: str = "keras",
                 trial: int = 0, tensor_id: int = 0, in_axis=-2, out_axis=-1, batch_axis=()) -> np.ndarray:
        """Sample a weight tensor.

        Parameters
        ----------
        shape : sequence of int
            Positive dimensions.
        seed, trial, tensor_id : int
            The stream: element ``e`` is a pure function of ``(seed, trial, tensor_id, e)``.
            A simulated network's layer ``l`` is ``tensor_id=l`` in the Keras layout.
        dtype : {"float32", "float64"}
        layout : {"keras", "torch", "jax"}
            How fans (and the rows of orthogonal / the axes of identity, dirac, sparse) are read.
        in_axis, out_axis, batch_axis
            Axes for ``layout="jax"``.
        """
        if self.is_data_dependent:
            raise ValueError("initializer 'lsuv' is data-dependent: use it in fastinit.simulate or a sweep, "
                             f"or sample its base with get_initializer({self.get_config()['base']!r})")
        shape = check_shape(shape)
        dt = check_dtype(dtype)
        if layout not in LAYOUTS:
            raise ValueError(f"layout={layout!r} is not one of {LAYOUTS}")
        seed = self.default_seed if seed is None else seed
        seed = check_seed(0 if seed is None else seed)
        trial, tensor_id = check_uint32("trial", trial), check_uint32("tensor_id", tensor_id)
        axes = _io_axes(shape, layout, in_axis, out_axis)
        plan = self.plan(shape, layout, in_axis, out_axis, batch_axis)
        column_axis = self.params.get("column_axis", None if layout == "torch" else -1)
        return sample(plan, shape, dt, seed, trial, tensor_id, axes, column_axis)


def _io_axes(shape, layout, in_axis, out_axis) -> tuple[int, int]:
    nd = len(shape)
    if nd < 2:
        return (0, 0)
    if layout == "keras":
        return nd - 2, nd - 1
    if layout == "torch":
        return 1, 0
    return in_axis % nd, out_axis % nd


def sample(plan: Plan, shape, dt, seed, trial, tensor_id, axes=(0, 1), column_axis=-1) -> np.ndarray:
    """Draw a tensor for ``plan`` (see :class:`Initializer.__call__` for the stream).

    ``axes`` are the (input, output) axes of identity, dirac, delta-orthogonal and sparse;
    ``column_axis`` is the column axis of orthogonal (None: PyTorch's rule, rows = shape[0]).
    """
    plan.kind.check(plan.args, shape)
    # The kernels take the seed as uint64: a Python int would dispatch to an int64 specialization
    # once one is compiled, and seeds in [2**63, 2**64) would then overflow.
    seed = np.uint64(check_seed(seed))
    if math.prod(shape) >= MAX_ELEMENTS:
        raise ValueError(f"shape {tuple(shape)!r} has {math.prod(shape)} elements; at most "
                         f"{MAX_ELEMENTS - 1} fit the random streams")
    if plan.kind.elementwise:
        out = np.empty(math.prod(shape), dtype=dt)
        p = plan.kernel_params(dt)
        ks.fill(out, plan.code, p[0], p[1], p[2], p[3], seed, trial, tensor_id)
        return out.reshape(shape)
    stream = (seed, trial, tensor_id)
    return _STRUCTURED[plan.kind](plan.args, shape, stream, axes, column_axis).astype(dt)


def _orthogonal(a, shape, stream, axes, column_axis) -> np.ndarray:
    """``gain * Q``: rows of shape[0] (PyTorch, ``column_axis`` None) or columns along ``column_axis``.

    Rank < 2 is an error, as in Keras, JAX and PyTorch. (Checked here, not in :meth:`Kind.check`,
    which the engine calls with a placeholder shape to check the arguments of a kind with a code.)
    """
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a shape of rank >= 2, got {shape!r}")
    size = math.prod(shape)
    if column_axis is None:
        rows = shape[0]
        return (
            a[0] * orthogonal_matrices(np.array([[rows, size // rows]]), *stream[:2], np.array(stream[2:]))[0]
        ).reshape(shape)
    nd = len(shape)
    c_axis = column_axis % nd if nd else 0
    moved = tuple(s for i, s in enumerate(shape) if i != c_axis) + (shape[c_axis],) if nd else (1,)
    cols = moved[-1]
    q = a[0] * orthogonal_matrices(np.array([[size // cols, cols]]), *stream[:2], np.array(stream[2:]))[0]
    return np.moveaxis(q.reshape(moved), -1, c_axis) if nd else q.reshape(())


def _identity(a, shape, stream, axes, column_axis) -> np.ndarray:
    return a[0] * np.eye(shape[0], shape[1])


def _dirac(a, shape, stream, axes, column_axis) -> np.ndarray:
    out = np.zeros(shape)
    i_ax, o_ax = axes
    groups = int(a[0])
    if shape[o_ax] % groups:
        raise ValueError(f"dirac: out channels {shape[o_ax]} are not divisible by groups={groups}")
    per = shape[o_ax] // groups
    centre = tuple(shape[i] // 2 for i in range(len(shape)) if i not in (i_ax, o_ax))
    for g in range(groups):
        for d in range(min(per, shape[i_ax])):
            out[_place(len(shape), i_ax, o_ax, d, g * per + d, centre)] = 1.0
    return out


def _delta_orthogonal(a, shape, stream, axes, column_axis) -> np.ndarray:
    out = np.zeros(shape)
    i_ax, o_ax = axes
    n_in, n_out = shape[i_ax], shape[o_ax]
    if n_in > n_out:
        raise ValueError(f"delta_orthogonal needs in channels <= out channels, got {n_in} > {n_out}")
    q = orthogonal_matrices(np.array([[n_in, n_out]]), *stream[:2], np.array(stream[2:]))[0]
    centre = tuple((shape[i] - 1) // 2 for i in range(len(shape)) if i not in (i_ax, o_ax))
    for i in range(n_in):
        for o in range(n_out):
            out[_place(len(shape), i_ax, o_ax, i, o, centre)] = a[0] * q[i, o]
    return out


def _sparse(a, shape, stream, axes, column_axis, per_input=True) -> np.ndarray:
    """PyTorch's ``sparse_`` (``per_input``: a fraction a[0] of each input's outputs zeroed) or
    Martens' (each output keeps a[0] inputs); nonzero entries N(0, a[1]^2)."""
    flat = np.empty(math.prod(shape))
    ks.fill_normal(flat, *stream)
    flat *= a[1]
    i_ax, o_ax = axes
    n_in, n_out = shape[i_ax], shape[o_ax]
    s_in, s_out = (shape[1], 1) if i_ax == 0 else (1, shape[1])
    if per_input:
        count = math.ceil(a[0] * n_out)
    else:
        count = int(a[0])
        if count > n_in:
            raise ValueError(f"sparse_martens: k={count} exceeds fan_in={n_in}")
    ks.sparse_mask(flat, n_in, n_out, s_in, s_out, per_input, count, *stream)
    return flat.reshape(shape)


def _sparse_martens(a, shape, stream, axes, column_axis) -> np.ndarray:
    return _sparse(a, shape, stream, axes, column_axis, per_input=False)


#: The sampler of each structured kind: ``(args, shape, (seed, trial, tensor_id), axes, column_axis)``.
_STRUCTURED = {
    Kind.ORTHOGONAL: _orthogonal,
    Kind.IDENTITY: _identity,
    Kind.DIRAC: _dirac,
    Kind.DELTA_ORTHOGONAL: _delta_orthogonal,
    Kind.SPARSE: _sparse,
    Kind.SPARSE_MARTENS: _sparse_martens,
}


def _place(nd, i_ax, o_ax, i, o, centre):
    idx, it = [], iter(centre)
    for ax in range(nd):
        idx.append(i if ax == i_ax else o if ax == o_ax else next(it))
    return tuple(idx)


# ----------------------------------------------------------------------------------------------
def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"initializer must be a name, a dict spec or an Initializer, got {name!r}")
    canonical = _ALIASES.get(_key(name))
    if canonical is None:
        known = sorted(set(_REGISTRY) | set(_KERAS_CLASSES.values()))
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or \
            difflib.get_close_matches(_key(name), list(_ALIASES), n=1, cutoff=0.6)
        hint = f"; did you mean {(_ALIASES.get(close[0], close[0]) if close else '')!r}?" if close else "."
        raise ValueError(f"initializer={name!r} is unknown{hint} See fastinit.initializer_names().")
    return canonical


_ORDERED = {"random_uniform": [("minval", "maxval")], "uniform": [("a", "b")], "trunc_normal": [("a", "b")],
            "jax.truncated_normal": [("lower", "upper")]}


def get_initializer(spec, **params) -> Initializer:
    """Resolve an initializer name or spec, with optional parameters (see :func:`_get_initializer`).

    ``seed`` (an int in [0, 2**64) or None) is accepted where Keras's class takes one (random_normal,
    random_uniform, truncated_normal, variance_scaling, orthogonal, and the lecun_*, glorot_*, he_*
    shortcuts, in every spelling): ``get_initializer("HeNormal", seed=4)`` is
    ``get_initializer({"class_name": "HeNormal", "config": {"seed": 4}})``. Either way it is no
    parameter: the label, equality, plans and values are those without it. It is only the default
    stream seed of a direct call that names none, ``init(shape)``, which draws as
    ``init(shape, seed=4)`` (fastinit's streams are keyed by ``(seed, trial, tensor_id, element)``, not
    by a generator the initializer holds); ``init(shape, seed=s)``, :func:`initialize`'s own ``seed``,
    :func:`fastinit.simulate` and sweeps use their stream seed and ignore it. A bad seed (-1, 1.5,
    "x") is a ValueError naming ``seed``.

    Resolutions are memoised by the spec's JSON form: sweeps resolve the same few specs
    thousands of times.
    """
    if isinstance(spec, Initializer) and not params:
        return spec
    try:
        key = json.dumps([spec, params], sort_keys=True)
    except TypeError:
        return _get_initializer(spec, **params)
    return _cached_initializer(key)


@functools.lru_cache(maxsize=4096)
def _cached_initializer(key: str) -> Initializer:
    spec, params = json.loads(key)
    return _get_initializer(spec, **params)


_JAX_AXES = ("in_axis", "out_axis", "batch_axis")
#: JAX's shortcuts: ``jax.nn.initializers.he_normal(in_axis, out_axis, batch_axis)`` is
#: ``variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis)``, and so on.
#: Without axes they resolve to the Keras entries (same numbers: the default axes give Keras's fans).
_JAX_SHORTCUTS = {
    _key(f"jax.{n}"): vs
    for names, vs in (
        (("he_normal", "kaiming_normal"), (2.0, "fan_in", "truncated_normal")),
        (("he_uniform", "kaiming_uniform"), (2.0, "fan_in", "uniform")),
        (("glorot_normal", "xavier_normal"), (1.0, "fan_avg", "truncated_normal")),
        (("glorot_uniform", "xavier_uniform"), (1.0, "fan_avg", "uniform")),
        (("lecun_normal",), (1.0, "fan_in", "truncated_normal")),
        (("lecun_uniform",), (1.0, "fan_in", "uniform")),
    )
    for n in names
}


def _jax_shortcut(name: str, params: dict) -> tuple[str, dict]:
    """A JAX shortcut given fan axes, as the ``jax.variance_scaling`` it is in JAX."""
    unknown = set(params) - set(_JAX_AXES)
    if unknown:
        raise ValueError(f"initializer {name!r} given axes takes only {list(_JAX_AXES)}; got unknown "
                         f"parameter(s) {sorted(unknown)}")
    scale, mode, distribution = _JAX_SHORTCUTS[_key(name)]
    vs = _REGISTRY["jax.variance_scaling"].defaults
    vs_params = {"scale": scale, "mode": mode, "distribution": distribution}
    given = {k: v for k, v in vs_params.items() if v != vs[k]}
    return "jax.variance_scaling", {**given, **params}


def _parse_spec(spec) -> tuple:
    """The name, parameters and seed of a name or dict spec (Keras ``class_name``/``config``,
    whose ``seed`` and ``dtype`` are not parameters, or fastinit's ``name`` and parameters)."""
    if not isinstance(spec, dict):
        return spec, {}, None
    spec = dict(spec)
    if "class_name" in spec:
        module = spec.get("module")
        if module is not None and not (isinstance(module, str) and module.split(".")[0] == "keras"):
            raise ValueError(f"initializer spec {spec!r}: module={module!r} is not a Keras module "
                             f"(keras.initializers)")
        registered = spec.get("registered_name")
        if registered is not None and (
                not isinstance(registered, str)
                or _ALIASES.get(_key(registered.rpartition(">")[2].rpartition(".")[2]))
                != _ALIASES.get(_key(str(spec["class_name"])))):
            raise ValueError(f"initializer spec {spec!r}: registered_name={registered!r} is not the class "
                             f"{spec['class_name']!r}")
        config = spec.get("config") or {}
        if not isinstance(config, dict):
            raise ValueError(
                f"initializer spec {spec!r}: config must be a table of parameters, got {config!r}"
            )
        config = dict(config)
        seed = config.pop("seed", None)
        config.pop("dtype", None)
        return spec["class_name"], config, seed
    if "name" in spec:
        return spec.pop("name"), spec, None
    raise ValueError(f"initializer spec {spec!r} needs a 'name' or 'class_name' key")


def _get_initializer(spec, **params) -> Initializer:
    """Resolve an initializer name or spec, with optional parameters.

    Parameters
    ----------
    spec : str, dict or Initializer
        A name in any supported spelling, a Keras dict ``{"class_name": ..., "config": {...}}``
        or ``{"name": ..., **params}``.
    **params
        Parameters of the initializer (e.g. ``scale=2.0``); unknown names are an error.

    Raises
    ------
    ValueError, TypeError
        Unknown name or parameter, or a parameter value that is not allowed.
    """
    if isinstance(spec, Initializer):
        if not params:
            return spec
        seed = {"seed": spec.default_seed} if spec.default_seed is not None and spec.name in _KERAS_SEEDED \
            else {}
        return get_initializer(spec.name, **{**spec.given, **seed, **params})
    name, config, seed = _parse_spec(spec)
    params = {**config, **params}
    if isinstance(name, str) and _key(name) in _JAX_SHORTCUTS and set(params) & set(_JAX_AXES):
        name, params = _jax_shortcut(name, params)
    canonical = _resolve(name)
    if canonical in _KERAS_SEEDED and "seed" in params:     # Keras's seed argument, as in its dicts
        seed = params.pop("seed")
    entry = _REGISTRY[canonical]
    unknown = set(params) - set(entry.defaults)
    if unknown:
        allowed = ", ".join(entry.defaults) or "none"
        raise ValueError(
            f"initializer {canonical!r} got unknown parameter(s) {sorted(unknown)}; allowed: {allowed}"
        )
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
    for k, v in params.items():
        pred, what = entry.checks.get(k, (lambda v: True, ""))
        if not pred(v):
            raise ValueError(f"initializer {canonical!r}: {k}={v!r} is not allowed; must be {what}")
    missing = [k for k, v in {**entry.defaults, **params}.items() if v is None and k not in _OPTIONAL]
    if missing:
        raise ValueError(f"initializer {canonical!r} needs parameter(s) {missing}")
    merged = {**entry.defaults, **params}
    for lo, hi in _ORDERED.get(canonical, ()):
        if not merged[lo] < merged[hi]:
            raise ValueError(f"initializer {canonical!r}: {lo}={merged[lo]!r} must be < {hi}={merged[hi]!r}")
    if canonical == "kaiming_uniform" or canonical == "kaiming_normal":
        calculate_gain(params.get("nonlinearity", "leaky_relu"), params.get("a", 0.0))
    if canonical == "lsuv":
        base = get_initializer(params.get("base", "orthogonal"))
        if base.is_data_dependent:
            raise ValueError("initializer 'lsuv': base must not be 'lsuv'")
        if "base" in params:
            # a plain name stays a name (its label); a base with parameters is kept resolved, since
            # its label ('random_normal(stddev=0.1)') is not a name that resolves again
            params["base"] = base.label if not base.given else base
    if seed is not None:
        seed = check_seed(seed, f"initializer {canonical!r}: seed")
    return Initializer(canonical, params, seed)


def initialize(spec, shape, *, seed: int = 0, dtype="float32", layout: str = "keras", trial: int = 0,
               tensor_id: int = 0, **params) -> np.ndarray:
    """Sample a weight tensor in one call: ``get_initializer(spec, **params)(shape, ...)``.

    ``seed`` is the stream seed (default 0), so a seed that ``spec`` carries (a Keras dict's) is not
    used here; Keras's ``seed`` argument cannot be passed through ``params``."""
    axes = {k: params.pop(k) for k in ("in_axis", "out_axis", "batch_axis") if k in params}
    return get_initializer(spec, **params)(shape, seed=seed, dtype=dtype, layout=layout, trial=trial,
                                           tensor_id=tensor_id, **axes)


def spellings(name: str) -> list[str]:
    """Every spelling, as written, that resolves to the canonical initializer ``name`` (from the
    registry). Beyond these, case and the underscores between words do not matter, and the module
    paths ``torch.nn.init.``, ``keras.initializers.``, ``jax.nn.initializers.`` work as the
    prefixes ``torch.``, ``keras.``, ``jax.``."""
    name = _resolve(name)
    return [s for s in _SPELLINGS.get(name, [name]) if _ALIASES.get(_key(s)) == name]


_FRAMEWORKS = ("keras", "torch", "jax")


def shared_plain_names() -> list[tuple[str, list[tuple[str, str]]]]:
    """Plain names that mean different initializers in different frameworks, from the registry:
    ``(plain, [(spelling, canonical name), ...])``, the plain name (its owner's meaning) first, then
    each framework prefix that means something else."""
    bases = sorted({sp.rpartition(".")[2].rstrip("_") for names in _SPELLINGS.values() for sp in names
                    if sp == sp.lower()})
    out = []
    for base in bases:
        plain = _ALIASES.get(_key(base))
        if plain is None:
            continue
        others = [(f"{fw}.{base}", _ALIASES.get(_key(f"{fw}.{base}"))) for fw in _FRAMEWORKS]
        others = [(sp, n) for sp, n in others if n is not None and n != plain]
        if others:
            out.append((base, [(base, plain), *others]))
    return out


#: Other names of the same idea, shown on a shared plain name's line (meanings from the registry).
_RELATED = {"truncated_normal": ("trunc_normal",)}


def spelling_notes() -> list[str]:
    """The lines of ``fastinit list`` (and of the README) that say which framework each shared
    plain name follows and which spellings resolve, generated from the registry."""
    import textwrap
    fw = {"keras": "Keras", "torch": "PyTorch", "jax": "JAX", "literature": "fastinit"}
    lines = ["plain names that several frameworks use: a plain name follows the framework that owns it;",
             "a prefix keras., torch. or jax. picks one (spelling = canonical name [framework]):"]
    for plain, pairs in shared_plain_names():
        pairs = pairs + [(sp, _resolve(sp)) for sp in _RELATED.get(plain, ())]
        lines.append("  " + "; ".join(f"{sp} = {n} [{fw[_REGISTRY[n].framework]}]" for sp, n in pairs))
        if _REGISTRY[pairs[0][1]].doc:
            lines += textwrap.wrap(f"{pairs[0][0]}: {_REGISTRY[pairs[0][1]].doc}", width=100,
                                   initial_indent="      ", subsequent_indent="        ")
    wrap = functools.partial(textwrap.wrap, width=100, initial_indent="  ", subsequent_indent="  ")
    example = {"class_name": "HeNormal", "config": {"seed": None, "input_axes": None, "output_axes": None}}
    serialized = {"module": "keras.initializers", "class_name": "VarianceScaling",
                  "config": {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": 1},
                  "registered_name": None}
    extra = ", ".join(f"keras.{a}" for a in _KERAS_EXTRA)
    lines += ["spellings (each initializer lists its own above):"]
    lines += wrap(
        f"Keras snake names and class names ({', '.join(sorted(_KERAS_CLASSES.values()))}), with or without "
        f"keras. or keras.initializers., and Keras's aliases ({extra}; unprefixed too, except those a plain "
        f"name of another framework takes); PyTorch's torch.nn.init names with or without the trailing _ "
        f"(kaiming_normal_), with or without torch. or torch.nn.init.; JAX's names prefixed jax. or "
        f"jax.nn.initializers.; case and the underscores between words do not matter; Keras dicts as "
        f"get_config() and keras.initializers.serialize() write them, e.g.")
    own = {"name": "jax.truncated_normal", "stddev": 0.1, "lower": 3.5, "upper": 10.0}
    lines += ["    " + json.dumps(example), "    " + json.dumps(serialized), "  and fastinit's dicts, e.g.",
              "    " + json.dumps(own)]
    return lines


def describe(name: str) -> str:
    """One line: framework, defaults and notes of a canonical initializer."""
    e = _REGISTRY[_resolve(name)]
    defaults = ", ".join(f"{k}={v!r}" for k, v in e.defaults.items())
    return f"{e.name} [{e.framework}] ({defaults}) {e.doc}".rstrip()
