"""One network at initialization: :func:`simulate`, the thin public door to the engine.

The engine (Numba, pandas) is imported on the first call, so ``import fastinit`` stays light.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


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
    import numpy as np
    import pandas as pd

    from . import engine
    shape = engine.make_shape(
        depth,
        width,
        widths=widths,
        batch=batch,
        seed=seed,
        trial=trial,
        input=input,
        input_corr=input_corr,
        dtype=dtype,
        backward=backward,
        jacobian=jacobian,
        loss=loss,
    )
    variant = engine.make_variant(initializer, activation, bias_initializer)
    metrics = engine.run_group(shape, [variant])[0]
    df = pd.DataFrame({"layer": np.arange(1, shape.depth + 1), **engine.metric_columns(metrics)})
    df.attrs.update(
        initializer=variant.initializer.label,
        activation=variant.activation.label,
        bias_initializer=variant.bias_initializer.label,
        widths=list(shape.widths),
        batch=shape.batch,
        seed=shape.seed,
        trial=shape.trial,
        input=shape.input,
        input_corr=shape.input_corr,
        dtype=shape.dtype,
        backward=shape.backward,
        jacobian=shape.jacobian,
        loss=shape.loss,
    )
    return df
