"""Training: the optimizer steps on 1e5 parameters, and a small training sweep through train_runs.

As elsewhere, setup compiles and checks the kernels against the NumPy references of the test
suite (tests/naive.py), so a wrong kernel is never timed; the sweep's timed calls are fresh (new
seeds, caches cleared), as the Sweep benchmarks are.
"""
import numpy as np

import fastinit as fi
from fastinit.engine import make_variant
from fastinit.engine.training import initial_parameters, make_run, train_runs
from fastinit.kernels import training as kt
from fastinit.tasks import make_task

from ._common import naive

N_PARAMS = 100_000
LR, MU, BETA1, BETA2, EPS = 1e-3, 0.9, 0.9, 0.999, 1e-8


def _check_optimizers():
    """Five steps of every optimizer on 7 float64 parameters against naive.optimizer_update."""
    rng = np.random.default_rng(0)
    for name in ("sgd", "momentum", "nesterov", "adam"):
        w = rng.standard_normal(7)
        ref, state = w.copy(), {}
        m, v = np.zeros(7), np.zeros(7)
        for t in range(1, 6):
            g = rng.standard_normal(7)
            ref = naive.optimizer_update(ref, g, state, t, name, LR, momentum=MU, betas=(BETA1, BETA2),
                                         eps=EPS)
            if name == "sgd":
                kt.sgd_step(w, g, LR)
            elif name == "adam":
                kt.adam_step(w, g, m, v, t, LR, BETA1, BETA2, EPS)
            else:
                kt.momentum_step(w, g, m, LR, MU, name == "nesterov")
        np.testing.assert_allclose(w, ref, rtol=1e-12, err_msg=name)


class OptimizerSteps:
    """One optimizer step on 1e5 parameters (a width-128, depth-8 network has 118,000)."""

    params = (["sgd", "momentum", "nesterov", "adam"], ["float32", "float64"])
    param_names = ["optimizer", "dtype"]

    def setup(self, optimizer, dtype):
        _check_optimizers()
        rng = np.random.default_rng(1)
        self.w = rng.standard_normal(N_PARAMS).astype(dtype)
        self.g = rng.standard_normal(N_PARAMS).astype(dtype)
        self.m = np.zeros(N_PARAMS, dtype)
        self.v = np.zeros(N_PARAMS, dtype)
        self.step = {
            "sgd": lambda: kt.sgd_step(self.w, self.g, LR),
            "momentum": lambda: kt.momentum_step(self.w, self.g, self.m, LR, MU, False),
            "nesterov": lambda: kt.momentum_step(self.w, self.g, self.m, LR, MU, True),
            "adam": lambda: kt.adam_step(self.w, self.g, self.m, self.v, 10, LR, BETA1, BETA2, EPS),
        }[optimizer]
        self.step()   # compiles for this dtype

    def time_step(self, optimizer, dtype):
        self.step()


TASK = {"dim": 16, "n_out": 1}
#: 4 initializers x 2 activations x depths 2, 4 x widths 16, 64 = 32 networks, 100 Adam steps of
#: batch 64 on the teacher task (2,048 training rows), evaluated at steps 0 and 100, float32.
GRID = [(i, a, d, w) for i in ("glorot_uniform", "he_normal", "lecun_normal", "orthogonal")
        for a in ("tanh", "relu") for d in (2, 4) for w in (16, 64)]
SETTINGS = {"steps": 100, "batch": 64, "eval_every": 100, "optimizer": "adam", "lr": 1e-3}


def _check_training():
    """One float32 run of train_runs against naive.train (float64) from the same initial
    parameters: the curves agree to float32 accuracy."""
    task = make_task("teacher", dim=6, n_train=40, n_test=12)
    run = make_run(make_variant("glorot_uniform", "tanh"), task, 2, 5, seed=3, steps=6, batch=8, eval_every=2)
    done = train_runs([run], task)[0]
    p = initial_parameters([run], task.x_train.astype(np.float32))[0][0].astype(np.float64)
    widths = [*run.shape.widths, run.n_out]
    w_off, b_off, _ = kt.parameter_offsets(np.array(widths, np.int64))
    layers = [(p[w_off[l]:w_off[l] + a * b].reshape(a, b), p[b_off[l]:b_off[l] + b])
              for l, (a, b) in enumerate(zip(widths[:-1], widths[1:]))]
    curves, _, diverged = naive.train(layers, task.x_train, task.y_train, task.x_test, task.y_test, "tanh",
                                      0.0, loss="mse", optimizer="adam", lr=1e-3, steps=6, batch=8, seed=3,
                                      eval_every=2)
    assert diverged == done.diverged == -1
    np.testing.assert_allclose(done.curves[:, :2], curves[:, 1:3], rtol=1e-4)


class TrainingSweep:
    """A fresh training sweep of 32 networks in one train_runs call: new seeds on every call (a
    counter in the instance) and the engine's caches cleared inside the timing, make_run included
    (what a user's next sweep meets)."""

    timeout = 600   # a cold JIT cache compiles the training kernel in setup (minutes)

    def setup(self):
        _check_training()   # also compiles the float32 kernel
        self.task = make_task("teacher", **TASK)
        self.variants = {(i, a): make_variant(i, a) for i, a, _, _ in GRID}
        self.k = 0
        self._fresh()

    def _fresh(self):
        self.k += 1
        fi.clear_caches()
        runs = [make_run(self.variants[i, a], self.task, d, w, seed=1000 * self.k, **SETTINGS)
                for i, a, d, w in GRID]
        return train_runs(runs, self.task)

    def time_train_32_networks(self):
        self._fresh()

    def peakmem_train_32_networks(self):
        self._fresh()
