"""One network's training: :func:`train`, the thin public door to the training engine.

The engine (Numba, pandas) is imported on the first call, so ``import fastinit`` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Training:
    """What :func:`train` returns.

    Attributes
    ----------
    curves : pandas.DataFrame
        One row per evaluation step: ``step``, ``train_loss`` (the whole training set),
        ``test_loss``, ``test_accuracy`` (NaN for regression).
    layers : pandas.DataFrame
        One row per evaluation step and layer (the readout last): ``step``, ``layer``,
        ``grad_w_norm``, ``delta_sq`` (on that step's minibatch), ``distinct_units``,
        ``weight_change`` (``|W_t - W_0|_F / |W_0|_F``).
    summary : dict
        ``final_train_loss``, ``final_test_loss``, ``final_test_accuracy``, ``best_test_accuracy``,
        ``steps_to_target`` (-1: never), ``diverged``, ``diverged_step`` (-1: never).
    config : dict
        The run's settings after defaults.
    """

    curves: pd.DataFrame
    layers: pd.DataFrame
    summary: dict
    config: dict


def resolve_task(task: Any):
    """A :class:`fastinit.tasks.Task` from a name, a dict ``{"name": ..., **params}``, a Task or
    user arrays ``(X_train, y_train, X_test, y_test)``."""
    from .tasks import make_task

    if isinstance(task, dict):
        params = dict(task)
        if "name" not in params:
            raise ValueError(f"task={task!r}: a task table needs a 'name'")
        return make_task(params.pop("name"), **params)
    return make_task(task)


def train(
    initializer,
    activation,
    depth: int | None = None,
    width: int | None = None,
    *,
    widths=None,
    task: Any = "teacher",
    steps: int = 100,
    lr: float = 1e-3,
    optimizer: str = "adam",
    batch: int = 64,
    seed: int = 0,
    trial: int = 0,
    eval_every: int | None = None,
    loss: str | None = None,
    bias_initializer="zeros",
    dtype="float32",
    momentum: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    target: float = 0.5,
    threads: int | None = None,
) -> Training:
    """Train one MLP (``depth`` hidden layers of ``width`` units and a linear readout) on a task.

    Parameters
    ----------
    initializer, activation, bias_initializer
        Names or specs, as in :func:`fastinit.simulate`; the readout is drawn with the same ones.
    depth, width : int
        Hidden layers and their width; the input width is the task's.
    widths : list of int, optional
        The hidden widths ``[n1, ..., nD]`` instead of depth and width.
    task
        ``"teacher"``, ``"gaussian_mixture"``, ``"digits"``, a dict ``{"name": ..., **params}``,
        a :class:`fastinit.tasks.Task` or arrays ``(X_train, y_train, X_test, y_test)``.
    steps, lr, optimizer, batch
        Minibatch steps, learning rate, ``"sgd"``, ``"momentum"``, ``"nesterov"`` or ``"adam"``,
        rows per minibatch.
    seed, trial : int
        The network's random stream: initial weights (as :func:`fastinit.simulate`) and minibatch
        order.
    eval_every : int, optional
        Steps between evaluations (default: a tenth of ``steps``); the last step is always one.
    loss : "mse" or "cross_entropy", optional
        Default: cross-entropy for classification tasks, MSE for regression.
    dtype : "float32" or "float64"
    momentum : float
        SGD's momentum (``"momentum"``, ``"nesterov"``).
    beta1, beta2, eps : float
        Adam's (PyTorch's defaults).
    target : float
        ``steps_to_target``: the first evaluation step whose training loss is below ``target``
        times the initial one.
    threads : int, optional
        Numba threads (default: as set).

    Returns
    -------
    Training
        Curves, per-layer rows, a summary and the configuration. A run whose loss stops being
        finite is recorded (``summary["diverged"]``), not raised.
    """
    import numpy as np
    import pandas as pd

    from ._validate import check_real
    from .engine import make_variant
    from .engine.training import make_run, summarize, train_runs
    from .kernels.training import CURVE, LAYER

    task = resolve_task(task)
    variant = make_variant(initializer, activation, bias_initializer)
    run = make_run(
        variant,
        task,
        depth,
        width,
        widths=widths,
        seed=seed,
        trial=trial,
        dtype=dtype,
        steps=steps,
        lr=lr,
        optimizer=optimizer,
        batch=batch,
        eval_every=eval_every,
        loss=loss,
        momentum=momentum,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
    )
    target = check_real("target", target, positive=True)
    done = train_runs([run], task, threads=threads)[0]
    reached = done.steps <= (
        done.diverged if done.diverged >= 0 else run.steps
    )  # a curve ends where it diverged
    steps, rows, per_layer = done.steps[reached], done.curves[reached], done.layers[reached]
    curves = pd.DataFrame({"step": steps, **{c: rows[:, j] for j, c in enumerate(CURVE)}})
    n_ev, n_layers = per_layer.shape[:2]
    layers = pd.DataFrame(
        {
            "step": np.repeat(steps, n_layers),
            "layer": np.tile(np.arange(1, n_layers + 1), n_ev),
            **{c: per_layer[:, :, j].ravel() for j, c in enumerate(LAYER)},
        }
    )
    layers["distinct_units"] = layers["distinct_units"].astype(np.int64)
    config = {
        "initializer": variant.initializer.label,
        "activation": variant.activation.label,
        "bias_initializer": variant.bias_initializer.label,
        "task": task.label,
        "widths": [*run.shape.widths, run.n_out],
        "seed": run.shape.seed,
        "trial": run.shape.trial,
        "dtype": run.shape.dtype,
        "loss": run.loss,
        "steps": run.steps,
        "lr": run.lr,
        "optimizer": run.optimizer,
        "batch": run.batch,
        "eval_every": run.eval_every,
        "momentum": run.momentum,
        "beta1": run.beta1,
        "beta2": run.beta2,
        "eps": run.eps,
    }
    return Training(curves, layers, summarize(done, target), config)
