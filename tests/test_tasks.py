"""Tasks: shapes, determinism, the generated data against NumPy references built from the same
Philox draws, digits' split and scaling, user arrays and every refusal."""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from fastinit.kernels.sampling import fill_normal
from fastinit.rng import TASK_TENSOR
from fastinit.tasks import TASKS, Task, make_task

SMALL = {"teacher": {"n_train": 300, "n_test": 100}, "gaussian_mixture": {"n_train": 300, "n_test": 100},
         "digits": {}}
_ACTS = {"tanh": np.tanh, "relu": lambda h: np.maximum(h, 0.0), "linear": lambda h: h,
         "sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h))}


def normals(n, seed, k):
    """The reference draws: tensor TASK_TENSOR + k, trial 0."""
    return fill_normal(np.empty(n), np.uint64(seed), 0, TASK_TENSOR + k)


def reference_teacher(dim, depth, width, activation, n_out, n_train, n_test, seed):
    """Inputs and unscaled outputs of the teacher, written out in NumPy."""
    n = n_train + n_test
    x = normals(n * dim, seed, 0).reshape(n, dim)
    h = x
    for l in range(depth):
        w = normals(h.shape[1] * width, seed, 1 + l).reshape(h.shape[1], width) / np.sqrt(h.shape[1])
        h = _ACTS[activation](h @ w)
    w = normals(h.shape[1] * n_out, seed, 1 + depth).reshape(h.shape[1], n_out) / np.sqrt(h.shape[1])
    return x, h @ w


def assert_same(a: Task, b: Task):
    assert a.label == b.label and a.kind == b.kind and a.params == b.params
    for f in ("x_train", "y_train", "x_test", "y_test", "labels_train", "labels_test"):
        u, v = getattr(a, f), getattr(b, f)
        if u is None:
            assert v is None
        else:
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)


def test_task_names():
    assert TASKS == ("teacher", "gaussian_mixture", "digits")


@pytest.mark.parametrize("name", TASKS)
def test_shapes_and_dtypes(name):
    t = make_task(name, **SMALL[name])
    assert t.name == name and t.label.startswith(name + "(")
    for a, rows in ((t.x_train, t.n_train), (t.x_test, t.n_test)):
        assert a.dtype == np.float64 and a.flags.c_contiguous and a.shape == (rows, t.dim)
    for a, rows in ((t.y_train, t.n_train), (t.y_test, t.n_test)):
        assert a.dtype == np.float64 and a.flags.c_contiguous and a.shape == (rows, t.n_out)
    assert np.all(np.isfinite(t.x_train)) and np.all(np.isfinite(t.y_train))
    if name == "teacher":
        assert t.kind == "regression" and t.n_classes is None
        assert t.labels_train is None and t.labels_test is None
        assert (t.n_train, t.n_test, t.dim, t.n_out) == (300, 100, 16, 1)
    else:
        assert t.kind == "classification"
        assert t.n_classes == t.n_out == (4 if name == "gaussian_mixture" else 10)
        for y, labels in ((t.y_train, t.labels_train), (t.y_test, t.labels_test)):
            assert labels.dtype == np.int64 and labels.shape == (y.shape[0],)
            np.testing.assert_array_equal(y, np.eye(t.n_out)[labels])
    assert "Task(" in repr(t) and len(repr(t)) < 200


@pytest.mark.parametrize("name", TASKS)
def test_deterministic_and_seeded(name):
    a, b = make_task(name, **SMALL[name]), make_task(name, **SMALL[name])
    assert_same(a, b)
    assert_same(a, make_task(name, **a.params))         # params are the whole recipe
    assert make_task(a) is a
    c = make_task(name, **{**SMALL[name], "seed": 1})
    assert c.label != a.label
    assert not np.array_equal(a.x_train, c.x_train)


def test_defaults_and_label():
    t = make_task()
    assert t.label == ("teacher(dim=16,depth=2,width=32,activation='tanh',noise=0.0,n_out=1,n_train=2048,"
                       "n_test=512,seed=0)")
    assert t.params == {"dim": 16, "depth": 2, "width": 32, "activation": "tanh", "noise": 0.0, "n_out": 1,
                        "n_train": 2048, "n_test": 512, "seed": 0}
    assert make_task("gaussian_mixture", n_train=2, n_test=1).label == (
        "gaussian_mixture(classes=4,dim=16,separation=3.0,n_train=2,n_test=1,seed=0)")
    assert make_task("teacher", activation="identity", n_train=4, n_test=1).params["activation"] == "linear"


@pytest.mark.parametrize(("activation", "depth", "n_out", "seed"), [
    ("tanh", 2, 1, 0), ("relu", 3, 3, 7), ("linear", 0, 2, 1), ("sigmoid", 1, 1, 2 ** 64 - 1)])
def test_teacher_is_the_numpy_forward_pass(activation, depth, n_out, seed):
    p = {"dim": 5, "depth": depth, "width": 9, "activation": activation, "n_out": n_out, "n_train": 200,
         "n_test": 50, "seed": seed}
    t = make_task("teacher", **p)
    x, y = reference_teacher(**p)
    np.testing.assert_array_equal(t.x_train, x[:200])
    np.testing.assert_array_equal(t.x_test, x[200:])
    scale = y[:200].std()
    np.testing.assert_allclose(t.y_train, y[:200] / scale, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(t.y_test, y[200:] / scale, rtol=1e-12, atol=1e-13)
    assert abs(t.y_train.std() - 1.0) < 1e-12                 # pooled over every entry
    assert abs(t.y_test.std() - 1.0) < 0.3                    # unscaled by test data, but the same scale


def test_teacher_noise_is_added_in_the_standardised_unit():
    p = {"dim": 4, "depth": 2, "n_train": 100, "n_test": 20, "n_out": 2, "seed": 3}
    clean, noisy = make_task("teacher", **p), make_task("teacher", noise=0.25, **p)
    z = normals(120 * 2, 3, 2 + 2).reshape(120, 2)
    np.testing.assert_allclose(noisy.y_train - clean.y_train, 0.25 * z[:100], atol=1e-14)
    np.testing.assert_allclose(noisy.y_test - clean.y_test, 0.25 * z[100:], atol=1e-14)
    np.testing.assert_array_equal(noisy.x_train, clean.x_train)


def test_teacher_with_constant_training_targets_is_not_scaled():
    # a relu teacher of one hidden unit whose two training inputs both switch it off
    p = {"dim": 2, "depth": 1, "width": 1, "activation": "relu", "n_out": 1, "n_train": 2, "n_test": 30}
    seed = next(s for s in range(200) if np.all(reference_teacher(**p, seed=s)[1][:2] == 0.0))
    t = make_task("teacher", seed=seed, **p)
    y = reference_teacher(**p, seed=seed)[1]
    assert np.all(t.y_train == 0.0) and np.all(np.isfinite(t.y_test))
    np.testing.assert_allclose(t.y_test, y[2:], rtol=1e-12, atol=1e-15)
    assert np.any(t.y_test != 0.0)


def test_gaussian_mixture_means_and_labels():
    classes, dim, sep, n_train, n_test = 5, 8, 4.0, 4000, 1003
    t = make_task("gaussian_mixture", classes=classes, dim=dim, separation=sep, n_train=n_train,
                  n_test=n_test, seed=11)
    n = n_train + n_test
    np.testing.assert_array_equal(np.concatenate([t.labels_train, t.labels_test]), np.arange(n) % classes)
    for labels in (t.labels_train, t.labels_test):
        counts = np.bincount(labels, minlength=classes)
        assert counts.max() - counts.min() <= 1
    u = normals(classes * dim, 11, 0).reshape(classes, dim)
    means = sep / np.sqrt(2.0) * u / np.linalg.norm(u, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), sep / np.sqrt(2.0), rtol=1e-14)
    x = np.concatenate([t.x_train, t.x_test])
    np.testing.assert_allclose(x - means[np.arange(n) % classes], normals(n * dim, 11, 1).reshape(n, dim),
                               atol=1e-13)
    for c in range(classes):       # the class means come back from the training points
        rows = t.x_train[t.labels_train == c]
        se = 1.0 / np.sqrt(rows.shape[0])
        assert np.all(np.abs(rows.mean(axis=0) - means[c]) < 5 * se)


def test_gaussian_mixture_separation_zero_is_one_gaussian():
    t = make_task("gaussian_mixture", separation=0.0, n_train=20, n_test=4, dim=3)
    np.testing.assert_array_equal(t.x_train, normals(24 * 3, 0, 1).reshape(24, 3)[:20])


def test_digits_split_and_standardisation():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    t = make_task("digits", test_fraction=0.2, seed=5)
    assert t.n_train + t.n_test == 1797 and t.dim == 64 and t.n_out == 10
    assert t.n_test == 360
    everything = np.bincount(np.concatenate([t.labels_train, t.labels_test]), minlength=10)
    for labels in (t.labels_train, t.labels_test):
        counts = np.bincount(labels, minlength=10)
        assert np.all(np.abs(counts - everything * labels.shape[0] / 1797) <= 1)
    mean, std = t.x_train.mean(axis=0), t.x_train.std(axis=0)
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)
    constant = std < 1e-12
    assert 1 <= constant.sum() < 64                                   # a few pixels are always 0
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-12)
    # the same stratified split as scikit-learn's, scaled by the training rows' statistics
    d = load_digits()
    x_tr, x_te, l_tr, l_te = train_test_split(d.data, d.target, test_size=0.2, stratify=d.target,
                                              random_state=5)
    np.testing.assert_array_equal(t.labels_train, l_tr)
    np.testing.assert_array_equal(t.labels_test, l_te)
    s = np.where(x_tr.std(axis=0) > 0, x_tr.std(axis=0), 1.0)
    np.testing.assert_allclose(t.x_test, (x_te - x_tr.mean(axis=0)) / s, atol=1e-12)


def test_digits_without_scikit_learn(monkeypatch):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")] + ["sklearn"]:
        monkeypatch.setitem(sys.modules, name, None)
    message = 'task \'digits\' needs scikit-learn: pip install "fastinit[datasets]"'
    with pytest.raises(ImportError, match=f"^{re.escape(message)}$"):
        make_task("digits")


def test_arrays_classification():
    rng = np.random.default_rng(0)
    x_tr, x_te = rng.normal(size=(12, 3)), rng.integers(0, 5, size=(4, 3))       # integer X is accepted
    y_tr, y_te = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], np.int32), np.array([4, 0, 1, 2], np.uint8)
    t = make_task((x_tr, y_tr, x_te, y_te))
    assert t.name == "arrays" and t.kind == "classification" and t.n_classes == 5
    assert t.label == "arrays(n_train=12,n_test=4,dim=3,n_out=5)"
    assert t.x_test.dtype == np.float64 and t.labels_test.dtype == np.int64
    np.testing.assert_array_equal(t.x_test, x_te)
    np.testing.assert_array_equal(t.y_train, np.eye(5)[y_tr])
    np.testing.assert_array_equal(t.labels_test, y_te)
    x_tr[0, 0] = 99.0                                                             # the task holds copies
    assert t.x_train[0, 0] != 99.0


def test_arrays_regression():
    x = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]
    t = make_task([x, [0.5, 1.5, 2.5], x[:1], [3.0]])
    assert t.kind == "regression" and t.n_out == 1 and t.labels_train is None and t.n_classes is None
    np.testing.assert_array_equal(t.y_train, [[0.5], [1.5], [2.5]])
    t = make_task((np.ones((3, 2)), np.ones((3, 4), np.float32), np.ones((2, 2)), np.zeros((2, 4))))
    assert t.kind == "regression" and t.n_out == 4 and t.y_train.dtype == np.float64


X, Y, XT, YT = np.ones((12, 3)), np.zeros(12, np.int64), np.ones((2, 3)), np.zeros(2, np.int64)


@pytest.mark.parametrize(("arrays", "match"), [
    ((X, Y[:10], XT, YT), "task arrays: y_train has 10 rows but X_train has 12"),
    ((X, Y, XT, YT[:1]), "task arrays: y_test has 1 rows but X_test has 2"),
    ((X, Y, np.where(XT > 0, np.nan, XT), YT), "task arrays: X_test has non-finite values"),
    ((np.full((12, 3), np.inf), Y, XT, YT), "task arrays: X_train has non-finite values"),
    ((X, Y.astype(float) * np.nan, XT, YT.astype(float)), "task arrays: y_train has non-finite values"),
    ((X, Y, np.ones((2, 4)), YT), "task arrays: X_test has 4 columns but X_train has 3"),
    ((X[:1], Y[:1], XT, YT), "task arrays: X_train has 1 rows; needs at least 2"),
    ((X, Y, XT[:0], YT[:0]), "task arrays: X_test has 0 rows; needs at least 1"),
    ((X.ravel(), Y, XT, YT), "task arrays: X_train has 1 dimension"),
    ((X, Y, XT, YT.astype(float)), "task arrays: y_train has dtype int64 but y_test float64"),
    ((X, Y - 1, XT, YT), "task arrays: y_train has labels from -1"),
    ((X, np.zeros((12, 2), np.int64), XT, YT), "task arrays: y_train is a 2-D integer array"),
    ((X, Y.astype(float), XT, np.zeros((2, 2))), "task arrays: y_test has 2 columns but y_train has 1"),
    ((X, Y, XT, np.zeros((2, 1, 1))), "task arrays: y_test has 3 dimension"),
    ((X, Y, XT.astype(bool), YT), "task arrays: X_test has dtype bool"),
    ((X, [[0], [1, 2]], XT, YT), "task arrays: y_train is not an array of numbers"),
    ((X, Y, XT), r"task arrays: expected \(X_train, y_train, X_test, y_test\), got 3 item"),
])
def test_arrays_refused(arrays, match):
    with pytest.raises(ValueError, match=match):
        make_task(arrays)


@pytest.mark.parametrize(("task", "params", "match"), [
    ("mnist", {}, "task='mnist' is unknown; known: teacher, gaussian_mixture, digits"),
    ("teacher", {"classes": 3},
     r"task 'teacher' got unknown parameter\(s\) \['classes'\]; allowed: dim, depth, width, activation"),
    ("digits", {"dim": 3}, r"unknown parameter\(s\) \['dim'\]; allowed: test_fraction, seed"),
    ("teacher", {"dim": 0}, "dim=0 must be an integer in"),
    ("teacher", {"dim": True}, "dim=True must be an integer"),
    ("teacher", {"depth": 65}, "depth=65 must be an integer in"),
    ("teacher", {"width": 2.0}, "width=2.0 must be an integer"),
    ("teacher", {"n_train": 1}, "n_train=1 must be an integer in"),
    ("teacher", {"n_test": 0}, "n_test=0 must be an integer in"),
    ("teacher", {"n_out": 5000}, "n_out=5000 must be an integer in"),
    ("teacher", {"noise": -0.1}, "noise=-0.1 must be a finite number >= 0"),
    ("teacher", {"noise": float("nan")}, "noise=nan must be a finite number"),
    ("teacher", {"activation": "tanhh"}, "activation='tanhh' is unknown"),
    ("teacher", {"seed": -1}, "seed=-1 must be an integer"),
    ("teacher", {"seed": 2 ** 64}, "seed=18446744073709551616 must be an integer"),
    ("teacher", {"n_train": 10_000_000, "dim": 1000}, r"task 'teacher': \(n_train \+ n_test\) \* max"),
    ("gaussian_mixture", {"classes": 1}, "classes=1 must be an integer in"),
    ("gaussian_mixture", {"separation": float("inf")}, "separation=inf must be a finite number"),
    ("gaussian_mixture", {"separation": -1}, "separation=-1 must be a finite number >= 0"),
    ("digits", {"test_fraction": 0.0}, r"test_fraction=0.0 must be in \(0, 1\)"),
    ("digits", {"test_fraction": 1}, r"test_fraction=1 must be in \(0, 1\)"),
    ("digits", {"test_fraction": 0.001}, r"test_fraction=0.001 must be in \(0, 1\) and leave at least 10"),
    ("digits", {"seed": 2 ** 32}, "seed=4294967296 must be an integer in"),
])
def test_named_task_refused(task, params, match):
    with pytest.raises(ValueError, match=match):
        make_task(task, **params)


def test_other_refusals():
    t = make_task("teacher", n_train=4, n_test=1)
    with pytest.raises(ValueError, match=r"make_task: parameters \['seed'\] are only for a named task"):
        make_task(t, seed=1)
    with pytest.raises(ValueError, match=r"make_task: parameters \['dim'\]"):
        make_task((X, Y, XT, YT), dim=3)
    with pytest.raises(TypeError, match="task must be a name of .* got ndarray"):
        make_task(np.zeros((3, 3)))
