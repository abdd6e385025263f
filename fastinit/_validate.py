"""The one set of argument checks, used by the API, the spec and the CLI alike.

Each check returns the value in canonical form (a Python int, float, bool, str or NumPy dtype)
or raises ``ValueError`` / ``TypeError`` with a message that names the parameter, the value given
and what is allowed. The spec layer calls the same checks with its key path as the name.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The computation dtypes.
DTYPES = ("float32", "float64")


def _interval(minimum, maximum, right_open: bool) -> str:
    if minimum is not None and maximum is not None:
        return f"in [{minimum}, {maximum}{')' if right_open else ']'}"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"{'<' if right_open else '<='} {maximum}"
    return ""


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None, *,
              right_open: bool = False) -> int:
    """An integer (not a bool; NumPy integers accepted) in ``[minimum, maximum]`` (``maximum``
    excluded with ``right_open``)."""
    if isinstance(value, np.integer):
        value = int(value)
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and minimum is not None:
        ok = value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if right_open else value <= maximum
    if not ok:
        where = _interval(minimum, maximum, right_open)
        raise ValueError(f"{name}={value!r} must be an integer{' ' + where if where else ''}")
    return value


def check_real(name: str, value: Any, minimum: float | None = None, maximum: float | None = None, *,
               positive: bool = False) -> float:
    """A finite real number (not a bool) in ``[minimum, maximum]`` (``> 0`` with ``positive``)."""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if ok and positive:
        ok = value > 0
    if not ok:
        where = "> 0" if positive else _interval(minimum, maximum, False)
        raise ValueError(f"{name}={value!r} must be a finite number{' ' + where if where else ''}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """True or False (NumPy booleans accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} must be True or False")
    return bool(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} must be one of {tuple(choices)}")
    return value


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """float32 or float64, as a NumPy dtype (raises ``TypeError`` otherwise)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise TypeError(f"{name}={dtype!r} is not supported; allowed: 'float32', 'float64'")
    return dt


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed: an integer in [0, 2**64)."""
    return check_int(name, seed, 0, 2 ** 64, right_open=True)


def check_uint32(name: str, value: Any) -> int:
    """An integer in [0, 2**32) (trials, tensor ids)."""
    return check_int(name, value, 0, 2 ** 32, right_open=True)


def check_shape(shape: Any, name: str = "shape") -> tuple[int, ...]:
    """A tensor shape: a positive int or a sequence of positive ints, as a tuple of ints."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive ints, got {shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) and not hasattr(d, "__index__"):
            raise TypeError(f"{name} must be a sequence of positive ints, got {shape!r}")
        if int(d) <= 0:
            raise ValueError(f"{name} must have positive dimensions, got {tuple(dims)!r}")
    return tuple(int(d) for d in dims)


def format_value(v: Any) -> str:
    """How a parameter value is written in a canonical label: floats in ``%g`` form, nested
    specs by their own label (``label`` attribute), everything else by ``str``."""
    if isinstance(v, float):
        return f"{v:g}"
    if hasattr(v, "label"):
        return v.label
    return str(v)


def canonical_label(name: str, given: dict) -> str:
    """The canonical label of a catalogue entry (initializer or activation): the name, then the
    parameters that differ from the defaults, sorted by key, e.g. ``leaky_relu(negative_slope=0.2)``."""
    if not given:
        return name
    return f"{name}(" + ",".join(f"{k}={format_value(v)}" for k, v in sorted(given.items())) + ")"
