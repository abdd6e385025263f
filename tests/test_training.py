"""Training: kernels against the NumPy reference (tests/naive.py), gradients against finite
differences, bit-identity alone and in company, exact symmetry, divergence, bad input."""

import naive
import numpy as np
import pytest

import fastinit as fi
from fastinit.activations import get_activation
from fastinit.engine import make_variant
from fastinit.engine.training import initial_parameters, make_run, summarize, train_runs
from fastinit.kernels import training as kt
from fastinit.kernels.layers import layer_scratch
from fastinit.rng import BIAS_TENSOR, READOUT_TENSOR
from fastinit.tasks import make_task

OPT_NAMES = {kt.OPT_SGD: "sgd", kt.OPT_MOMENTUM: "momentum", kt.OPT_NESTEROV: "nesterov", kt.OPT_ADAM: "adam"}


@pytest.fixture(scope="module")
def small_task():
    """A tiny classification task (40 training rows of 5 features, 3 classes)."""
    rng = np.random.default_rng(1)
    return make_task(
        (
            rng.standard_normal((40, 5)),
            rng.integers(0, 3, 40),
            rng.standard_normal((12, 5)),
            rng.integers(0, 3, 12),
        )
    )


def _kernel_call(nets, task, layers_of, seeds):
    """Run train_networks on hand-made networks (float64) and return curves, layer rows, divergence."""
    ints, reals, widths, params = [], [], [], []
    for n, layers in zip(nets, layers_of):
        act = get_activation(n["act"])
        ints.append(
            [
                act.code,
                len(n["widths"]) - 2,
                n["opt"],
                n["loss"],
                n["steps"],
                n["batch"],
                n["ev"],
                sum(map(len, params)),
                len(widths),
                n.get("exact", 0),
            ]
        )
        reals.append([act.param, n["lr"], n["mu"], 0.999, 1e-8])
        widths += n["widths"]
        params.append(np.concatenate([np.r_[w.ravel(), b] for w, b in layers]))
    initial = np.concatenate(params)
    n_ev = max(kt.n_evaluations(n["steps"], n["ev"]) for n in nets)
    n_l = max(len(n["widths"]) - 1 for n in nets)
    curves = np.full((len(nets), n_ev, 3), np.nan)
    lay = np.full((len(nets), n_ev, n_l, 4), np.nan)
    div = np.empty(len(nets), np.int64)
    kt.train_networks(
        np.array(ints),
        np.array(reals, float),
        np.array(seeds, np.uint64),
        np.zeros(len(nets), np.uint64),
        np.array(widths, np.int64),
        initial,
        initial.copy(),
        np.zeros_like(initial),
        np.zeros_like(initial),
        task.x_train,
        task.y_train,
        task.x_test,
        task.y_test,
        True,
        curves,
        lay,
        div,
    )
    return curves, lay, div


NETS = [
    dict(
        act="tanh",
        widths=[5, 7, 6, 3],
        opt=kt.OPT_ADAM,
        loss=kt.TRAIN_CE,
        steps=9,
        batch=8,
        ev=4,
        lr=0.01,
        mu=0.9,
    ),
    dict(
        act="relu",
        widths=[5, 4, 3],
        opt=kt.OPT_NESTEROV,
        loss=kt.TRAIN_MSE,
        steps=7,
        batch=5,
        ev=3,
        lr=0.05,
        mu=0.8,
    ),
    dict(
        act="selu",
        widths=[5, 6, 6, 6, 3],
        opt=kt.OPT_SGD,
        loss=kt.TRAIN_MSE,
        steps=5,
        batch=16,
        ev=5,
        lr=0.1,
        mu=0.0,
    ),
    dict(
        act="sigmoid",
        widths=[5, 8, 3],
        opt=kt.OPT_MOMENTUM,
        loss=kt.TRAIN_CE,
        steps=6,
        batch=7,
        ev=2,
        lr=0.2,
        mu=0.9,
        exact=1,
    ),
]


def test_kernel_matches_numpy_reference(small_task):
    """Every optimizer and loss, several depths and activations, biases included, both product paths:
    curves and layer rows equal the float64 NumPy reference to 1e-10 relative."""
    rng = np.random.default_rng(2)
    layers_of = [
        [
            (rng.standard_normal((a, b)) / np.sqrt(a), 0.1 * rng.standard_normal(b))
            for a, b in zip(n["widths"], n["widths"][1:])
        ]
        for n in NETS
    ]
    seeds = [5, 6, 7, 8]
    curves, lay, div = _kernel_call(NETS, small_task, layers_of, seeds)
    t = small_task
    for k, n in enumerate(NETS):
        c, rows, d = naive.train(
            layers_of[k],
            t.x_train,
            t.y_train,
            t.x_test,
            t.y_test,
            n["act"],
            get_activation(n["act"]).param,
            loss=["mse", "ce"][n["loss"]],
            optimizer=OPT_NAMES[n["opt"]],
            lr=n["lr"],
            steps=n["steps"],
            batch=n["batch"],
            seed=seeds[k],
            eval_every=n["ev"],
            classify=True,
            momentum=n["mu"],
        )
        assert div[k] == d == -1
        np.testing.assert_allclose(curves[k, : len(c)], c[:, 1:], rtol=1e-10)
        ref = np.array([rows[s] for s in c[:, 0].astype(int)])
        np.testing.assert_allclose(lay[k, : len(c), : len(n["widths"]) - 1], ref, rtol=1e-10, atol=1e-300)


def test_epoch_order_is_the_reference_shuffle():
    """Each epoch's order is a permutation, equal to the NumPy reference's Fisher-Yates shuffle."""
    keys, order = np.empty(300), np.empty(300, np.int64)
    for seed, epoch in ((0, 0), (2**64 - 1, 7)):
        got = kt.epoch_order(np.uint64(seed), np.uint64(3), epoch, keys, order).copy()
        assert sorted(got) == list(range(300))
        np.testing.assert_array_equal(got, naive.epoch_order(seed, 3, epoch, 300))


def test_gradients_match_finite_differences():
    """The backward pass's gradients of the loss (both losses, both product paths) against central
    differences of the forward pass, float64."""
    rng = np.random.default_rng(3)
    widths = np.array([3, 4, 5, 2], np.int64)
    w_off, b_off, n_par = kt.parameter_offsets(widths)
    params = rng.standard_normal(n_par) * 0.7
    x = rng.standard_normal((6, 3))
    y = np.eye(2)[rng.integers(0, 2, 6)]
    act = get_activation("tanh")
    scratch = layer_scratch()
    acts, ders = np.empty(6 * 9), np.empty(6 * 9)
    h, da, db, wt = np.empty(6 * 5), np.empty(6 * 5), np.empty(6 * 5), np.empty(25)
    out, dout = np.empty((6, 2)), np.empty((6, 2))

    def loss_of(p, loss, exact):
        kt.forward(widths, p, w_off, b_off, act.code, act.param, exact, x, acts, ders, h, out, scratch)
        return kt.loss_and_gradient(loss, out, y, dout)

    for loss in (kt.TRAIN_MSE, kt.TRAIN_CE):
        for exact in (False, True):
            loss_of(params, loss, exact)
            grads = np.empty(n_par)
            kt.backward(
                widths,
                params,
                w_off,
                b_off,
                exact,
                x,
                acts,
                ders,
                dout.copy(),
                grads,
                da,
                db,
                wt,
                np.empty((0, 4)),
                scratch,
            )
            eps = 1e-6
            fd = np.empty(n_par)
            for i in range(n_par):
                p1, p2 = params.copy(), params.copy()
                p1[i] += eps
                p2[i] -= eps
                fd[i] = (loss_of(p1, loss, exact) - loss_of(p2, loss, exact)) / (2 * eps)
            np.testing.assert_allclose(grads, fd, rtol=1e-6, atol=1e-9)


def _runs(task, dtype="float64", steps=12):
    specs = [
        ("he_normal", "relu", 3, 8, "adam", 1e-2, 0),
        ("glorot_uniform", "tanh", 2, 6, "sgd", 0.1, 1),
        ("orthogonal", "selu", 1, 5, "nesterov", 0.05, 2),
        ("lecun_normal", "sigmoid", 4, 7, "momentum", 0.1, 3),
        ({"name": "constant", "value": 0.2}, "tanh", 2, 6, "adam", 1e-2, 4),
    ]
    return [
        make_run(
            make_variant(i, a),
            task,
            d,
            w,
            seed=s,
            dtype=dtype,
            steps=steps,
            optimizer=o,
            lr=lr,
            batch=8,
            eval_every=4,
        )
        for i, a, d, w, o, lr, s in specs
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_alone_equals_in_company(small_task, dtype):
    """A network's training is bit-identical alone and inside a mixed batch (depths, widths,
    activations, optimizers, seeds), with 1 or 2 threads, in any order (DESIGN invariant 8)."""
    runs = _runs(small_task, dtype)
    alone = [train_runs([r], small_task, threads=1)[0] for r in runs]
    for threads in (1, 2):
        for order in (list(range(len(runs))), list(range(len(runs)))[::-1]):
            together = train_runs([runs[i] for i in order], small_task, threads=threads)
            for i, got in zip(order, together):
                np.testing.assert_array_equal(got.curves, alone[i].curves)
                np.testing.assert_array_equal(got.layers, alone[i].layers)
                np.testing.assert_array_equal(got.params, alone[i].params)


def test_initial_weights_are_the_simulated_network(small_task):
    """Step 0: hidden layers are the weights fastinit.simulate draws (fi.initialize on tensor l), the
    readout is drawn on READOUT_TENSOR, biases on BIAS_TENSOR + l and READOUT_TENSOR + 1."""
    bias = {"name": "random_normal", "stddev": 0.1}
    run = make_run(
        make_variant("orthogonal", "tanh", bias), small_task, 2, 6, seed=9, trial=2, dtype="float64", batch=8
    )
    ((params, shared),) = initial_parameters([run], small_task.x_train)
    assert not shared
    widths = [5, 6, 6, 3]
    expect = []
    for l, (a, b) in enumerate(zip(widths, widths[1:]), 1):
        readout = l == len(widths) - 1
        expect += [
            fi.initialize(
                "orthogonal",
                (a, b),
                seed=9,
                trial=2,
                dtype="float64",
                tensor_id=READOUT_TENSOR if readout else l,
            ).ravel(),
            fi.initialize(
                bias,
                (b,),
                seed=9,
                trial=2,
                dtype="float64",
                tensor_id=READOUT_TENSOR + 1 if readout else BIAS_TENSOR + l,
            ),
        ]
    np.testing.assert_array_equal(params, np.concatenate(expect))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "selu", "gelu"])
def test_constant_init_keeps_units_equal_exactly(dtype, act):
    """The tutorial's symmetry (3.1): every unit of a hidden layer that starts equal receives the same
    update for ever, so distinct_units stays exactly 1 during training; a random initializer's units
    are all distinct."""
    task = make_task("gaussian_mixture", n_train=256, n_test=64)
    const = fi.train(
        {"name": "constant", "value": 0.1},
        act,
        3,
        16,
        task=task,
        steps=60,
        lr=1e-2,
        eval_every=10,
        dtype=dtype,
        bias_initializer={"name": "constant", "value": 0.05},
    )
    hidden = const.layers[const.layers.layer <= 3]
    assert (hidden.distinct_units == 1).all()
    assert (hidden[hidden.step == 60].weight_change > 0).all()  # it did train
    rand = fi.train("he_normal", act, 3, 16, task=task, steps=20, lr=1e-2, dtype=dtype)
    assert (rand.layers[rand.layers.layer <= 3].distinct_units == 16).all()


def test_same_seed_same_trajectory_distinct_seeds_spread():
    """The tutorial's 3.2: identical seeds give identical trajectories; distinct seeds spread."""
    kw = dict(task="teacher", steps=30, lr=1e-2, batch=32)
    a = fi.train("glorot_normal", "tanh", 2, 16, seed=3, **kw)
    b = fi.train("glorot_normal", "tanh", 2, 16, seed=3, **kw)
    assert a.curves.equals(b.curves) and a.layers.equals(b.layers)
    finals = {
        fi.train("glorot_normal", "tanh", 2, 16, seed=s, **kw).summary["final_train_loss"] for s in range(4)
    }
    assert len(finals) == 4


def test_divergence_is_recorded_and_the_batch_goes_on(small_task):
    """A learning rate that blows up is a result (diverged, its step), never an exception, and the
    other networks of the call are unaffected."""
    good, bad = (
        make_run(
            make_variant("he_normal", "relu"),
            small_task,
            3,
            8,
            seed=1,
            dtype="float32",
            optimizer="sgd",
            lr=lr,
            steps=50,
            batch=8,
            eval_every=5,
        )
        for lr in (1e-2, 1e12)
    )
    alone = train_runs([good], small_task)[0]
    got_good, got_bad = train_runs([good, bad], small_task)
    np.testing.assert_array_equal(got_good.params, alone.params)
    assert got_good.diverged == -1 and 0 <= got_bad.diverged < 50
    s = summarize(got_bad)
    assert s["diverged"] and s["diverged_step"] == got_bad.diverged and np.isnan(s["final_train_loss"])
    r = fi.train("he_normal", "relu", 3, 8, task=small_task, optimizer="sgd", lr=1e12, steps=50, batch=8)
    assert r.summary["diverged"] and r.curves.step.max() <= r.summary["diverged_step"]


def test_summary_columns(small_task):
    r = fi.train("he_normal", "relu", 2, 16, task=small_task, steps=40, lr=3e-2, batch=8, eval_every=5)
    c, s = r.curves, r.summary
    assert list(c.step) == list(range(0, 41, 5))
    assert s["final_train_loss"] == c.train_loss.iloc[-1] and s["best_test_accuracy"] == c.test_accuracy.max()
    below = c.step[c.train_loss < 0.5 * c.train_loss.iloc[0]]
    assert s["steps_to_target"] == (below.iloc[0] if len(below) else -1)
    assert set(r.layers.layer) == {1, 2, 3} and len(r.layers) == 3 * len(c)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(optimizer="adamw"), "optimizer='adamw'"),
        (dict(loss="hinge"), "loss='hinge'"),
        (dict(steps=0), "steps=0"),
        (dict(lr=0.0), "lr=0.0"),
        (dict(lr=float("nan")), "lr=nan"),
        (dict(batch=0), "batch=0"),
        (dict(batch=41), "batch=41 exceeds"),
        (dict(eval_every=11, steps=10), "eval_every=11 exceeds"),
        (dict(beta2=1.0), "beta2=1.0"),
        (dict(momentum=-0.1), "momentum=-0.1"),
        (dict(task="mnist"), "mnist"),
        (dict(task="teacher", loss="cross_entropy"), "cross_entropy"),
        (dict(target=0), "target=0"),
        (dict(initializer={"name": "delta_orthogonal"}), "delta_orthogonal"),
    ],
)
def test_bad_input_is_refused_before_work(small_task, kwargs, match):
    kw = dict(initializer="he_normal", activation="relu", depth=2, width=8, task=small_task, batch=8)
    kw.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        fi.train(kw.pop("initializer"), kw.pop("activation"), kw.pop("depth"), kw.pop("width"), **kw)


def test_against_torch_optim():
    """Adam, SGD, Nesterov and MSE / cross-entropy against torch.optim and torch.nn, float64 (runs
    when the bench extra, PyTorch, is installed)."""
    torch = pytest.importorskip("torch")
    task = make_task("gaussian_mixture", n_train=64, n_test=16, dim=6, classes=3)
    for optimizer, loss in (
        ("adam", "cross_entropy"),
        ("sgd", "mse"),
        ("nesterov", "cross_entropy"),
        ("momentum", "mse"),
    ):
        run = make_run(
            make_variant("glorot_uniform", "tanh", {"name": "random_normal", "stddev": 0.1}),
            task,
            2,
            8,
            seed=4,
            dtype="float64",
            optimizer=optimizer,
            loss=loss,
            lr=0.05,
            steps=7,
            batch=16,
            eval_every=7,
        )
        ((params, _),) = initial_parameters([run], task.x_train)
        got = train_runs([run], task)[0]
        widths = [6, 8, 8, 3]
        w_off, b_off, _ = kt.parameter_offsets(np.array(widths))
        tensors = []
        for l, (a, b) in enumerate(zip(widths, widths[1:])):
            tensors += [
                torch.tensor(params[w_off[l] : w_off[l] + a * b].reshape(a, b), requires_grad=True),
                torch.tensor(params[b_off[l] : b_off[l] + b], requires_grad=True),
            ]
        opt = {
            "adam": lambda p: torch.optim.Adam(p, lr=0.05),
            "sgd": lambda p: torch.optim.SGD(p, lr=0.05),
            "nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
            "momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        }[optimizer](tensors)
        n = task.n_train
        for t in range(7):
            rows = naive.epoch_order(4, 0, t // (n // 16), n)[(t % (n // 16)) * 16 : (t % (n // 16) + 1) * 16]
            x = torch.tensor(task.x_train[rows])
            for l in range(0, len(tensors) - 2, 2):
                x = torch.tanh(x @ tensors[l] + tensors[l + 1])
            out = x @ tensors[-2] + tensors[-1]
            y = torch.tensor(task.y_train[rows])
            value = (
                torch.nn.functional.cross_entropy(out, y.argmax(1))
                if loss == "cross_entropy"
                else torch.nn.functional.mse_loss(out, y)
            )
            opt.zero_grad()
            value.backward()
            opt.step()
        flat = np.concatenate([p.detach().numpy().ravel() for p in tensors])
        np.testing.assert_allclose(got.params, flat, rtol=1e-10, atol=1e-14)
