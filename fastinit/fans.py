"""fan_in / fan_out of a weight tensor under the Keras, PyTorch and JAX layouts."""
from __future__ import annotations

import math
from collections.abc import Sequence

LAYOUTS = ("keras", "torch", "jax")


def _axes(value, ndim: int, name: str) -> tuple[int, ...]:
    axes = (value,) if isinstance(value, int) else tuple(value)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}={value!r} is out of range for a {ndim}-D shape")
        out.append(a % ndim)
    return tuple(out)


def compute_fans(
    shape: Sequence[int],
    layout: str = "keras",
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    input_axes: int | Sequence[int] | None = None,
    output_axes: int | Sequence[int] | None = None,
) -> tuple[float, float]:
    """Fan-in and fan-out of a weight tensor.

    Parameters
    ----------
    shape : sequence of int
        The weight shape.
    layout : {"keras", "torch", "jax"}
        ``"keras"``: ``(*kernel, in, out)``; rank 0 gives (1, 1), rank 1 gives (n, n).
        ``"torch"``: ``(out, in, *kernel)``; rank < 2 is an error (as in PyTorch).
        ``"jax"``: axes given by ``in_axis``, ``out_axis`` and ``batch_axis`` (batch axes count in
        neither fan); rank < 2 is an error.
    in_axis, out_axis, batch_axis : int or sequence of int
        Only for ``layout="jax"``.
    input_axes, output_axes : int, sequence of int or None
        Keras 3's ``VarianceScaling(input_axes=..., output_axes=...)``: when both are given, each fan
        is the product of the dimensions on its axes alone (shape ``(3, 3, 16, 32)`` with
        ``input_axes=[0, 1]``, ``output_axes=[3]`` gives ``(9, 32)``); when either is None, the
        layout's rule gives both fans and the other is ignored, as in Keras's ``compute_fans``.

    Returns
    -------
    (fan_in, fan_out) : tuple of float
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not one of {LAYOUTS}")
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    if any(int(d) < 0 for d in shape):
        raise ValueError(f"shape must have non-negative dimensions, got {shape!r}")
    if input_axes is not None and output_axes is not None:
        fan_in, fan_out = (float(math.prod(shape[a] for a in _axes(v, len(shape), n)))
                           for v, n in ((input_axes, "input_axes"), (output_axes, "output_axes")))
        return fan_in, fan_out
    if layout == "keras":
        if len(shape) == 0:
            return 1.0, 1.0
        if len(shape) == 1:
            return float(shape[0]), float(shape[0])
        rf = math.prod(shape[:-2])
        return float(shape[-2] * rf), float(shape[-1] * rf)
    if len(shape) < 2:
        raise ValueError(f"layout={layout!r} needs a shape of rank >= 2 to compute fans, got {shape!r}")
    if layout == "torch":
        rf = math.prod(shape[2:])
        return float(shape[1] * rf), float(shape[0] * rf)
    ndim = len(shape)
    ins = _axes(in_axis, ndim, "in_axis")
    outs = _axes(out_axis, ndim, "out_axis")
    batch = _axes(batch_axis, ndim, "batch_axis")
    n_in = math.prod(shape[a] for a in ins)
    n_out = math.prod(shape[a] for a in outs)
    n_batch = math.prod(shape[a] for a in batch)
    size = math.prod(shape)
    rf = size / (n_in * n_out * n_batch) if size else 0.0
    return float(n_in * rf), float(n_out * rf)
