"""Training runs: what one network's training is made of (:class:`Run`), validated once, and the
planning of many runs into one call of :func:`fastinit.kernels.training.train_networks`.

A run's hidden layers start from the weights and biases that :func:`fastinit.simulate` draws for
the same initializer, widths, seed and trial (the statistics engine's :func:`plan_call`, so step
0 of training is the network a sweep simulates, bit for bit); its linear readout is drawn with
the same initializers on tensors ``READOUT_TENSOR`` and ``READOUT_TENSOR + 1``
(:mod:`fastinit.rng`). LSUV rescales the hidden layers on the run's first minibatch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._validate import check_choice, check_int, check_real
from ..initializers import sample
from ..kernels import network as kn
from ..kernels import training as kt
from ..kernels.layers import layer_scratch
from ..rng import READOUT_TENSOR
from . import cpu
from .cache import Cache
from .networks import SETTING_CHECKS, Shape, Variant, make_shape
from .plan import check_weights, plan_call

OPTIMIZERS = {
    "sgd": kt.OPT_SGD,
    "momentum": kt.OPT_MOMENTUM,
    "nesterov": kt.OPT_NESTEROV,
    "adam": kt.OPT_ADAM,
}
TRAIN_LOSSES = {"mse": kt.TRAIN_MSE, "cross_entropy": kt.TRAIN_CE}
#: Defaults of the training settings (``eval_every`` None: a tenth of the steps, at least 1;
#: ``loss`` None: cross-entropy for classification, MSE for regression).
TRAIN_DEFAULTS = {
    "steps": 100,
    "lr": 1e-3,
    "optimizer": "adam",
    "batch": 64,
    "eval_every": None,
    "loss": None,
    "momentum": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
}
MAX_STEPS = 10**9

#: The check of each training setting taken alone (the spec checks every value of a grid with these).
TRAIN_CHECKS = {
    "steps": lambda v: check_int("steps", v, 1, MAX_STEPS),
    "lr": lambda v: check_real("lr", v, positive=True),
    "optimizer": lambda v: check_choice("optimizer", v, tuple(OPTIMIZERS)),
    "batch": lambda v: check_int("batch", v, 1),
    "eval_every": lambda v: None if v is None else check_int("eval_every", v, 1),
    "loss": lambda v: None if v is None else check_choice("loss", v, tuple(TRAIN_LOSSES)),
    "momentum": lambda v: check_real("momentum", v, 0.0, 1.0),
    "beta1": lambda v: _below_one("beta1", v),
    "beta2": lambda v: _below_one("beta2", v),
    "eps": lambda v: check_real("eps", v, positive=True),
}


def _below_one(name: str, value) -> float:
    """A number in [0, 1) (Adam's betas)."""
    value = check_real(name, value, 0.0, 1.0)
    if value == 1.0:
        raise ValueError(f"{name}={value!r} must be a finite number in [0, 1)")
    return value


@dataclass(frozen=True)
class Run:
    """One network's training: its hidden layers (a :class:`Shape` with the task's input width),
    what tells it apart (a :class:`Variant`), and the optimizer settings."""

    shape: Shape
    variant: Variant
    n_out: int
    loss: str
    steps: int
    lr: float
    optimizer: str
    batch: int
    eval_every: int
    momentum: float
    beta1: float
    beta2: float
    eps: float

    @property
    def eval_steps(self) -> np.ndarray:
        """The steps at which the run is evaluated: 0, eval_every, ..., and ``steps``."""
        return np.unique(np.r_[np.arange(0, self.steps + 1, self.eval_every), self.steps])


def make_run(
    variant: Variant,
    task,
    depth=None,
    width=None,
    *,
    widths=None,
    seed=0,
    trial=0,
    dtype="float32",
    **settings,
) -> Run:
    """Validate one network's training on ``task`` (a :class:`fastinit.tasks.Task`) and return its
    :class:`Run`. ``widths`` are the hidden layers' (``n1, ..., nD``) instead of ``depth`` and
    ``width``; ``settings`` are those of :data:`TRAIN_DEFAULTS`. Errors name the parameter."""
    unknown = sorted(set(settings) - set(TRAIN_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown training setting(s) {unknown}; allowed: {sorted(TRAIN_DEFAULTS)}")
    s = {k: TRAIN_CHECKS[k](settings.get(k, v)) for k, v in TRAIN_DEFAULTS.items()}
    hidden = (
        SETTING_CHECKS["widths"]([task.dim, *widths])[1:]
        if widths is not None
        else (SETTING_CHECKS["width"](width),) * SETTING_CHECKS["depth"](depth)
    )
    if widths is not None and depth is not None and SETTING_CHECKS["depth"](depth) != len(hidden):
        raise ValueError(f"widths lists {len(hidden)} hidden layers but depth={depth}")
    shape = make_shape(
        widths=(task.dim, *hidden), batch=2, seed=seed, trial=trial, dtype=dtype, backward=False
    )
    if s["batch"] > task.n_train:
        raise ValueError(f"batch={s['batch']} exceeds the task's {task.n_train} training rows")
    if s["eval_every"] is None:
        s["eval_every"] = max(1, s["steps"] // 10)
    if s["eval_every"] > s["steps"]:
        raise ValueError(f"eval_every={s['eval_every']} exceeds steps={s['steps']}")
    if s["loss"] is None:
        s["loss"] = "cross_entropy" if task.kind == "classification" else "mse"
    if s["loss"] == "cross_entropy" and task.kind != "classification":
        raise ValueError(f"loss='cross_entropy' needs a classification task; {task.label} is a regression")
    check_weights(shape, variant)
    check_readout(variant, hidden[-1], task.n_out)
    return Run(shape, variant, task.n_out, **s)


def check_readout(variant: Variant, n_in: int, n_out: int) -> None:
    """Raise ValueError, naming the initializer, if the readout (n_in x n_out) cannot be drawn."""
    for init, s, what in (
        (variant.initializer.sampled, (n_in, n_out), f"the readout ({n_in} x {n_out})"),
        (variant.bias_initializer, (n_out,), "the readout's biases"),
    ):
        try:
            plan = init.plan(s)
            plan.kind.check(plan.args, s)
        except ValueError as e:
            raise ValueError(f"initializer {init.label!r}, {what}: {e}") from None


def readout(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """The readout's initial weights (n_in, n_out) and biases (n_out,) of a run."""
    sh, v = run.shape, run.variant
    s = (sh.widths[-1], run.n_out)
    w = sample(v.initializer.sampled.plan(s), s, sh.dtype, sh.seed, sh.trial, READOUT_TENSOR)
    b = sample(
        v.bias_initializer.plan((run.n_out,)), (run.n_out,), sh.dtype, sh.seed, sh.trial, READOUT_TENSOR + 1
    )
    return w, b


def initial_parameters(runs: list[Run], x_train: np.ndarray, cache: Cache | None = None) -> list:
    """Each run's initial parameters (the layout of :mod:`fastinit.kernels.training`) and whether
    its products must be exact (some layer has units with equal incoming weights). Runs of equal
    hidden widths and dtype are planned together, sharing base draws as a sweep does."""
    out: list = [None] * len(runs)
    families: dict = {}
    for i, run in enumerate(runs):
        families.setdefault(replace(run.shape, seed=0, trial=0), {}).setdefault(
            (run.shape.seed, run.shape.trial), []
        ).append(i)
    for members in families.values():
        groups = [(runs[idx[0]].shape, [runs[i].variant for i in idx]) for idx in members.values()]
        call = plan_call(groups, cache=cache)
        order = [i for idx in members.values() for i in idx]
        for k, i in enumerate(order):
            w_row, b_row = call.nets_int[k, kn.N_WEIGHT_ROW], call.nets_int[k, kn.N_BIAS_ROW]
            weights, biases = call.weights[w_row].copy(), call.biases[b_row]
            run = runs[i]
            if run.variant.initializer.is_data_dependent:
                lsuv(run, call.widths, weights, biases, x_train)
            w_out, b_out = readout(run)
            shared = bool((call.classes[w_row] >= 0).any()) or len(np.unique(w_out.T, axis=0)) < run.n_out
            out[i] = (pack(call.widths, weights, biases, w_out, b_out), shared)
    return out


def lsuv(run: Run, widths: np.ndarray, weights: np.ndarray, biases: np.ndarray, x_train: np.ndarray) -> None:
    """Rescale a row of hidden weights in place by LSUV's scales on the run's first minibatch."""
    sh, init, act = run.shape, run.variant.initializer, run.variant.activation
    n = x_train.shape[0]
    order = kt.epoch_order(np.uint64(sh.seed), np.uint64(sh.trial), 0, np.empty(n), np.empty(n, np.int64))
    x0 = np.ascontiguousarray(x_train[order[: run.batch]], dtype=sh.dtype)
    scales = np.ones(sh.depth)
    ws = np.empty(kn.workspace_length(widths, run.batch), dtype=sh.dtype)
    kn.lsuv_scales(
        widths,
        x0,
        weights,
        biases,
        act.code,
        act.param,
        init.params["tol"],
        init.params["max_iter"],
        scales,
        ws,
        layer_scratch(),
    )
    w_off, _, _ = kn.layer_offsets(widths, 1)
    for l, s in enumerate(scales):
        weights[w_off[l] : w_off[l + 1]] *= weights.dtype.type(s)


def pack(widths, weights, biases, w_out, b_out) -> np.ndarray:
    """One network's parameters in the training layout: each hidden layer's weights then biases, the
    readout's last."""
    parts = []
    w_at = b_at = 0
    for n_in, n_l in zip(widths[:-1], widths[1:]):
        parts += [weights[w_at : w_at + n_in * n_l], biases[b_at : b_at + n_l]]
        w_at += n_in * n_l
        b_at += n_l
    return np.concatenate(parts + [w_out.ravel(), b_out])


@dataclass
class Trained:
    """What training returns for each run: its evaluation steps, the curve rows (n_evals, 3, see
    :data:`fastinit.kernels.training.CURVE`), the layer rows (n_evals, depth + 1, 4, see
    :data:`~fastinit.kernels.training.LAYER`; the readout last), the step at which it diverged (-1:
    never) and its final parameters."""

    steps: np.ndarray
    curves: np.ndarray
    layers: np.ndarray
    diverged: int
    params: np.ndarray


def train_runs(
    runs: list[Run], task, *, threads: int | None = None, cache: Cache | None = None
) -> list[Trained]:
    """Train every run on ``task`` in one parallel kernel call (runs must share the dtype)."""
    dtypes = {run.shape.dtype for run in runs}
    if len(dtypes) != 1:
        raise ValueError(f"train_runs: runs must share one dtype, got {sorted(dtypes)}")
    dt = np.dtype(dtypes.pop())
    data = [np.ascontiguousarray(a, dtype=dt) for a in (task.x_train, task.y_train, task.x_test, task.y_test)]
    starts = initial_parameters(runs, data[0], cache)
    ints = np.zeros((len(runs), len(kt.TRAIN_INT)), dtype=np.int64)
    reals = np.zeros((len(runs), len(kt.TRAIN_REAL)))
    widths, params = [], []
    at = 0
    for i, (run, (p, shared)) in enumerate(zip(runs, starts)):
        act = run.variant.activation
        ints[i] = (
            act.code,
            run.shape.depth,
            OPTIMIZERS[run.optimizer],
            TRAIN_LOSSES[run.loss],
            run.steps,
            run.batch,
            run.eval_every,
            at,
            len(widths),
            shared,
        )
        reals[i] = (
            act.param,
            run.lr,
            run.beta1 if run.optimizer == "adam" else run.momentum,
            run.beta2,
            run.eps,
        )
        widths += [*run.shape.widths, run.n_out]
        params.append(p)
        at += p.size
    initial = np.concatenate(params)
    n_evals = max(len(run.eval_steps) for run in runs)
    n_layers = max(run.shape.depth + 1 for run in runs)
    curves = np.full((len(runs), n_evals, len(kt.CURVE)), np.nan)
    layers = np.full((len(runs), n_evals, n_layers, len(kt.LAYER)), np.nan)
    diverged = np.empty(len(runs), dtype=np.int64)
    final = initial.copy()
    seeds = np.array([run.shape.seed for run in runs], dtype=np.uint64)
    trials = np.array([run.shape.trial for run in runs], dtype=np.uint64)
    with cpu.threads_for_call(threads):
        kt.train_networks(
            ints,
            reals,
            seeds,
            trials,
            np.array(widths, dtype=np.int64),
            initial,
            final,
            np.zeros_like(initial),
            np.zeros_like(initial),
            *data,
            task.kind == "classification",
            curves,
            layers,
            diverged,
        )
    out = []
    for i, run in enumerate(runs):
        n_ev, start = len(run.eval_steps), int(ints[i, kt.T_PARAM])
        out.append(
            Trained(
                run.eval_steps,
                curves[i, :n_ev],
                layers[i, :n_ev, : run.shape.depth + 1],
                int(diverged[i]),
                final[start : start + params[i].size],
            )
        )
    return out


#: Per-run summary columns (:func:`summarize`).
SUMMARY = (
    "final_train_loss",
    "final_test_loss",
    "final_test_accuracy",
    "best_test_accuracy",
    "steps_to_target",
    "diverged",
    "diverged_step",
)


def summarize(trained: Trained, target: float = 0.5) -> dict:
    """A run's summary: the last evaluation's losses and accuracy (NaN if it diverged), the
    best test accuracy, ``steps_to_target`` (the first evaluation step whose training loss is below
    ``target`` times the initial one; -1 if none), ``diverged`` and ``diverged_step`` (-1: never)."""
    c = trained.curves
    done = ~np.isnan(c[:, 0])
    last = c[done][-1] if done.any() and trained.diverged < 0 else np.full(c.shape[1], np.nan)
    below = np.flatnonzero(c[:, 0] < target * c[0, 0]) if done.any() else []
    acc = c[done, 2]
    return {
        "final_train_loss": float(last[0]),
        "final_test_loss": float(last[1]),
        "final_test_accuracy": float(last[2]),
        "best_test_accuracy": float(np.nanmax(acc)) if np.isfinite(acc).any() else float("nan"),
        "steps_to_target": int(trained.steps[below[0]]) if len(below) else -1,
        "diverged": trained.diverged >= 0,
        "diverged_step": trained.diverged,
    }
