"""The activation catalogue: integer codes, phi / phi' / phi'' device functions and gains.

Catalogue: linear, sigmoid (logistic), tanh, softsign, hard_tanh, relu, leaky_relu(negative_slope=0.01),
elu(alpha=1), selu (Klambauer constants), gelu (erf form), gelu_tanh (tanh approximation), silu
(swish), softplus and erf (whose mean-field maps have closed forms).

Kernels dispatch on an integer code (one compiled body, cacheable, usable from CUDA). An
activation is given as a name (``"tanh"``), or a dict / table with parameters
(``{"name": "leaky_relu", "negative_slope": 0.2}``).
"""
from __future__ import annotations

import difflib
import functools
import json
import math
from dataclasses import dataclass, field

import numpy as np

from ._config import jit
from ._validate import canonical_label, check_real

(
    LINEAR,
    SIGMOID,
    TANH,
    SOFTSIGN,
    HARD_TANH,
    RELU,
    LEAKY_RELU,
    ELU,
    SELU,
    GELU,
    GELU_TANH,
    SILU,
    SOFTPLUS,
    ERF,
) = range(14)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# name -> (code, parameter name or None, default parameter, max |phi'| if bounded else 0)
_CATALOGUE = {
    "linear": (LINEAR, None, 0.0, 0.0),
    "sigmoid": (SIGMOID, None, 0.0, 0.25),
    "tanh": (TANH, None, 0.0, 1.0),
    "softsign": (SOFTSIGN, None, 0.0, 1.0),
    "hard_tanh": (HARD_TANH, None, 0.0, 1.0),
    "relu": (RELU, None, 0.0, 0.0),
    "leaky_relu": (LEAKY_RELU, "negative_slope", 0.01, 0.0),
    "elu": (ELU, "alpha", 1.0, 0.0),
    "selu": (SELU, None, 0.0, 0.0),
    "gelu": (GELU, None, 0.0, 0.0),
    "gelu_tanh": (GELU_TANH, None, 0.0, 0.0),
    "silu": (SILU, None, 0.0, 0.0),
    "softplus": (SOFTPLUS, None, 0.0, 0.0),
    "erf": (ERF, None, 0.0, 2.0 / math.sqrt(math.pi)),
}
_ALIASES = {"identity": "linear", "logistic": "sigmoid", "hardtanh": "hard_tanh", "swish": "silu",
            "leakyrelu": "leaky_relu", "gelu_erf": "gelu"}

#: Fraction of max|phi'| below which a unit of a bounded activation counts as saturated.
SATURATION_THRESHOLD = 0.05


def activation_names() -> list[str]:
    """Canonical activation names."""
    return list(_CATALOGUE)


@dataclass(frozen=True)
class Activation:
    """A resolved activation: canonical ``name``, kernel ``code``, its one parameter and label."""

    name: str
    code: int
    param: float
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Canonical label: the name, then the parameters that differ from the defaults."""
        return canonical_label(self.name, self.params)

    @property
    def saturation_level(self) -> float:
        """|phi'| below which a unit is saturated; 0 for unbounded activations."""
        return SATURATION_THRESHOLD * _CATALOGUE[self.name][3]


def get_activation(spec) -> Activation:
    """Resolve an activation name or ``{"name": ..., param: ...}`` spec (memoised).

    Raises
    ------
    ValueError, TypeError
        Unknown name or parameter, or a parameter of the wrong type.
    """
    if isinstance(spec, Activation):
        return spec
    try:
        key = json.dumps(spec, sort_keys=True)
    except TypeError:
        return _get_activation(spec)
    return _cached_activation(key)


@functools.lru_cache(maxsize=1024)
def _cached_activation(key: str) -> Activation:
    return _get_activation(json.loads(key))


def _get_activation(spec) -> Activation:
    if isinstance(spec, dict):
        spec = dict(spec)
        if "name" not in spec:
            raise ValueError(f"activation spec {spec!r} needs a 'name' key")
        name = spec.pop("name")
        params = spec
    elif isinstance(spec, str):
        name, params = spec, {}
    else:
        raise TypeError(f"activation must be a name or a dict with 'name', got {spec!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _CATALOGUE:
        close = difflib.get_close_matches(key, list(_CATALOGUE) + list(_ALIASES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"activation={name!r} is unknown{hint} Known: {', '.join(_CATALOGUE)}")
    code, pname, default, _ = _CATALOGUE[key]
    extra = set(params) - ({pname} if pname else set())
    if extra:
        allowed = f"'{pname}'" if pname else "no parameters"
        raise ValueError(f"activation {key!r} got unknown parameter(s) {sorted(extra)}; allowed: {allowed}")
    value = default
    shown = {}
    if pname and pname in params:
        value = check_real(f"activation {key!r}: {pname}", params[pname])
        if value != default:
            shown[pname] = value
    return Activation(key, code, value, shown)


@jit
def fast_tanh(x):
    """tanh to within 2 ulp, about 2x faster than libm's: exp for |x| >= 0.625, expm1 below
    (where 1 - exp(-2|x|) would cancel)."""
    ax = abs(x)
    if ax < 0.625:
        e = math.expm1(-2.0 * ax)
        t = -e / (2.0 + e)
    else:
        e = math.exp(-2.0 * ax)
        t = (1.0 - e) / (1.0 + e)
    return t if x >= 0.0 else -t


@jit
def phi(code, x, a):
    """Activation value for code ``code`` with parameter ``a`` (slope or alpha)."""
    if code == RELU:
        return x if x > 0.0 else 0.0 * x
    if code == TANH:
        return fast_tanh(x)
    if code == LINEAR:
        return x
    if code == SIGMOID:
        return 1.0 / (1.0 + math.exp(-x))
    if code == SOFTSIGN:
        return x / (1.0 + abs(x))
    if code == HARD_TANH:
        return min(1.0, max(-1.0, x)) if x == x else x     # min/max would swallow NaN
    if code == LEAKY_RELU:
        return x if x > 0.0 else a * x
    if code == ELU:
        return x if x > 0.0 else a * math.expm1(x)
    if code == SELU:
        return SELU_SCALE * (x if x > 0.0 else SELU_ALPHA * math.expm1(x))
    if code == GELU:
        return 0.5 * x * (1.0 + math.erf(x * _INV_SQRT2))
    if code == GELU_TANH:
        return 0.5 * x * (1.0 + fast_tanh(_K * (x + _C * x * x * x)))
    if code == SILU:
        return x / (1.0 + math.exp(-x))
    if code == SOFTPLUS:
        return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))
    if code == ERF:
        return math.erf(x)
    return np.nan


@jit
def dphi(code, x, a):
    """First derivative phi'(x) (the right derivative at kinks)."""
    if code == RELU:
        return 1.0 if x > 0.0 else 0.0
    if code == TANH:
        t = fast_tanh(x)
        return 1.0 - t * t
    if code == LINEAR:
        return 1.0
    if code == SIGMOID:
        s = 1.0 / (1.0 + math.exp(-x))
        return s * (1.0 - s)
    if code == SOFTSIGN:
        d = 1.0 + abs(x)
        return 1.0 / (d * d)
    if code == HARD_TANH:
        return 1.0 if -1.0 < x < 1.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if x > 0.0 else a
    if code == ELU:
        return 1.0 if x > 0.0 else a * math.exp(x)
    if code == SELU:
        return SELU_SCALE if x > 0.0 else SELU_SCALE * SELU_ALPHA * math.exp(x)
    if code == GELU:
        return 0.5 * (1.0 + math.erf(x * _INV_SQRT2)) + x * _INV_SQRT_2PI * math.exp(-0.5 * x * x)
    if code == GELU_TANH:
        t = fast_tanh(_K * (x + _C * x * x * x))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _K * (1.0 + 3.0 * _C * x * x)
    if code == SILU:
        s = 1.0 / (1.0 + math.exp(-x))
        return s + x * s * (1.0 - s)
    if code == SOFTPLUS:
        return 1.0 / (1.0 + math.exp(-x))
    if code == ERF:
        return _TWO_OVER_SQRT_PI * math.exp(-x * x)
    return np.nan


@jit
def d2phi(code, x, a):
    """Second derivative phi''(x) (0 at the kinks of piecewise-linear activations)."""
    if code == TANH:
        t = fast_tanh(x)
        return -2.0 * t * (1.0 - t * t)
    if code == SIGMOID:
        s = 1.0 / (1.0 + math.exp(-x))
        return s * (1.0 - s) * (1.0 - 2.0 * s)
    if code == SOFTSIGN:
        d = 1.0 + abs(x)
        return -2.0 * math.copysign(1.0, x) / (d * d * d)
    if code == ELU:
        return 0.0 if x > 0.0 else a * math.exp(x)
    if code == SELU:
        return 0.0 if x > 0.0 else SELU_SCALE * SELU_ALPHA * math.exp(x)
    if code == GELU:
        return _INV_SQRT_2PI * math.exp(-0.5 * x * x) * (2.0 - x * x)
    if code == GELU_TANH:
        g = _K * (1.0 + 3.0 * _C * x * x)
        t = fast_tanh(_K * (x + _C * x * x * x))
        return (1.0 - t * t) * (g + 0.5 * x * (6.0 * _K * _C * x - 2.0 * t * g * g))
    if code == SILU:
        s = 1.0 / (1.0 + math.exp(-x))
        return s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))
    if code == SOFTPLUS:
        s = 1.0 / (1.0 + math.exp(-x))
        return s * (1.0 - s)
    if code == ERF:
        return -2.0 * x * _TWO_OVER_SQRT_PI * math.exp(-x * x)
    return 0.0


@jit
def apply(code, a, order, x, out):
    """Elementwise phi (``order=0``), phi' (1) or phi'' (2) of a 1-D float64 array into ``out``."""
    for i in range(x.shape[0]):
        if order == 0:
            out[i] = phi(code, x[i], a)
        elif order == 1:
            out[i] = dphi(code, x[i], a)
        else:
            out[i] = d2phi(code, x[i], a)
    return out


def evaluate(activation, x, order: int = 0) -> np.ndarray:
    """phi, phi' or phi'' of ``activation`` on an array (float64), for theory and tests."""
    act = get_activation(activation)
    x = np.ascontiguousarray(x, dtype=np.float64)
    flat = x.ravel()
    return apply(act.code, act.param, order, flat, np.empty_like(flat)).reshape(x.shape)


_TORCH_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
                "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0,
                "relu": math.sqrt(2.0), "selu": 0.75}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's ``torch.nn.init.calculate_gain``, exactly.

    linear/conv*/sigmoid: 1; tanh: 5/3; relu: sqrt(2); selu: 3/4;
    leaky_relu: sqrt(2 / (1 + s**2)) with s = ``param``, or 0.01 when ``param`` is None.
    """
    if nonlinearity in _TORCH_GAINS:
        return _TORCH_GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"negative_slope {param!r} not a valid number")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    allowed = sorted(list(_TORCH_GAINS) + ["leaky_relu"])
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; allowed: {', '.join(allowed)}")


@jit
def phi_dphi(code, x, a):
    """``(phi(x), phi'(x))`` in one call, sharing the transcendental work where possible."""
    if code == TANH:
        t = fast_tanh(x)
        return t, 1.0 - t * t
    if code == SIGMOID:
        s = 1.0 / (1.0 + math.exp(-x))
        return s, s * (1.0 - s)
    if code == RELU:
        return (x, 1.0) if x > 0.0 else (0.0 * x, 0.0)
    if code == LINEAR:
        return x, 1.0
    return phi(code, x, a), dphi(code, x, a)
