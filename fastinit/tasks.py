"""Tasks to train on: generated data sets (a random teacher network, a Gaussian mixture), scikit-learn's
digits, or the user's own arrays, all as one :class:`Task`.

Generated data is a pure function of the parameters: every random number is a Philox draw of
:func:`fastinit.kernels.sampling.fill_normal` on tensor ``TASK_TENSOR + k``
(:data:`fastinit.rng.TASK_TENSOR`), keyed by the task's ``seed``, trial 0. Tensors ``k``:

* ``teacher``: 0 the inputs, ``1 + l`` the weights of hidden layer ``l`` (0-based), ``1 + depth`` the
  readout weights, ``2 + depth`` the label noise;
* ``gaussian_mixture``: 0 the class directions, 1 the points' noise.

Matrix products go through NumPy (BLAS), so arrays are bit-identical from call to call on one NumPy
build. Nothing is cached.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import check_int, check_real, check_seed
from .rng import TASK_TENSOR

#: The named tasks of :func:`make_task`.
TASKS = ("teacher", "gaussian_mixture", "digits")

#: Largest number of elements of one generated array (2 GiB of float64).
MAX_ELEMENTS = 2 ** 28
#: Largest number of classes (of a mixture, or of user labels).
MAX_CLASSES = 10_000
_MAX_DIM = 65_536
_MAX_ROWS = 10_000_000

_DEFAULTS = {
    "teacher": {"dim": 16, "depth": 2, "width": 32, "activation": "tanh", "noise": 0.0, "n_out": 1,
                "n_train": 2048, "n_test": 512, "seed": 0},
    "gaussian_mixture": {"classes": 4, "dim": 16, "separation": 3.0, "n_train": 2048, "n_test": 512,
                         "seed": 0},
    "digits": {"test_fraction": 0.25, "seed": 0},
}
# (minimum, maximum) of the integer parameters
_INT_RANGES = {"dim": (1, _MAX_DIM), "depth": (0, 64), "width": (1, _MAX_DIM), "n_out": (1, 4096),
               "classes": (2, MAX_CLASSES), "n_train": (2, _MAX_ROWS), "n_test": (1, _MAX_ROWS)}


@dataclass(frozen=True, eq=False, repr=False)
class Task:
    """A data set to train on.

    Attributes
    ----------
    name : str
        ``"teacher"``, ``"gaussian_mixture"``, ``"digits"`` or ``"arrays"``.
    label : str
        The name with every parameter, e.g. ``"digits(test_fraction=0.25,seed=0)"``.
    kind : str
        ``"regression"`` or ``"classification"``.
    x_train, x_test : numpy.ndarray
        float64 inputs, C-contiguous, ``(n_train, dim)`` and ``(n_test, dim)``.
    y_train, y_test : numpy.ndarray
        float64 ``(n, n_out)``: regression targets, or one-hot rows of the class labels.
    labels_train, labels_test : numpy.ndarray or None
        int64 ``(n,)`` class labels (classification), else None.
    params : dict
        The parameters after defaults (``make_task(name, **params)`` makes the task again).
    """

    name: str
    label: str
    kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    labels_train: np.ndarray | None
    labels_test: np.ndarray | None
    params: dict

    @property
    def dim(self) -> int:
        """Number of input features."""
        return self.x_train.shape[1]

    @property
    def n_out(self) -> int:
        """Number of outputs (targets, or classes)."""
        return self.y_train.shape[1]

    @property
    def n_train(self) -> int:
        """Number of training rows."""
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        """Number of test rows."""
        return self.x_test.shape[0]

    @property
    def n_classes(self) -> int | None:
        """Number of classes (classification), else None."""
        return self.n_out if self.kind == "classification" else None

    def __repr__(self) -> str:
        return f"Task({self.label}, {self.kind}, n_out={self.n_out})"


def make_task(task: Any = "teacher", **params: Any) -> Task:
    """Make a :class:`Task`.

    Parameters
    ----------
    task : str, Task, tuple or list
        A name of :data:`TASKS` (``params`` are its parameters, see :func:`teacher`,
        :func:`gaussian_mixture` and :func:`digits`); a Task (returned as it is); or user arrays
        ``(X_train, y_train, X_test, y_test)`` (see :func:`from_arrays`).
    **params
        Parameters of a named task; none otherwise.

    Returns
    -------
    Task

    Raises
    ------
    ValueError
        An unknown task or parameter, a parameter out of range, or invalid arrays.
    TypeError
        ``task`` of none of the types above.
    ImportError
        ``"digits"`` without scikit-learn.
    """
    if isinstance(task, Task) or isinstance(task, (tuple, list)):
        if params:
            raise ValueError(f"make_task: parameters {sorted(params)} are only for a named task {TASKS}")
        return task if isinstance(task, Task) else from_arrays(*_four(task))
    if not isinstance(task, str):
        raise TypeError(f"task must be a name of {TASKS}, a Task or a tuple (X_train, y_train, X_test, "
                        f"y_test); got {type(task).__name__}")
    if task not in TASKS:
        raise ValueError(f"task={task!r} is unknown; known: {', '.join(TASKS)}")
    unknown = sorted(set(params) - set(_DEFAULTS[task]))
    if unknown:
        raise ValueError(f"task {task!r} got unknown parameter(s) {unknown}; "
                         f"allowed: {', '.join(_DEFAULTS[task])}")
    return {"teacher": teacher, "gaussian_mixture": gaussian_mixture, "digits": digits}[task](**params)


def teacher(dim: int = 16, depth: int = 2, width: int = 32, activation: Any = "tanh", noise: float = 0.0,
            n_out: int = 1, n_train: int = 2048, n_test: int = 512, seed: int = 0) -> Task:
    """Regression on the outputs of a random teacher network.

    Inputs are standard normals (one draw of ``(n_train + n_test) * dim``, train rows first). The
    teacher has ``depth`` (0 to 64) hidden layers of ``width`` units of ``activation`` (a name or
    spec of :func:`fastinit.activations.get_activation`) and a linear readout of ``n_out``, weights
    N(0, 1 / fan_in) as ``(fan_in, fan_out)`` matrices, no biases. Its outputs are divided by their
    standard deviation over the training rows (all entries pooled; 1 where that is 0), then
    ``noise`` times standard normals are added, so the targets have unit scale (noise 0) and a
    predictor of zero has a test MSE near 1.

    Parameters
    ----------
    dim : int
        Input features (1 to 65,536).
    depth, width : int
        Hidden layers (0 to 64) and their units (1 to 65,536).
    activation : str or dict
        The hidden layers' activation.
    noise : float
        Standard deviation of the label noise, in units of the scaled targets (>= 0).
    n_out : int
        Targets per row (1 to 4,096).
    n_train, n_test : int
        Rows (at least 2 and 1, at most 10**7).
    seed : int
        Philox key, in [0, 2**64).

    Returns
    -------
    Task
        A regression task; ``params["activation"]`` is the canonical name (a dict with its
        parameter where that differs from the default).
    """
    from .activations import evaluate, get_activation

    p = _checked("teacher", locals())
    act = get_activation(activation)
    p["activation"] = act.name if not act.params else {"name": act.name, **act.params}
    n = p["n_train"] + p["n_test"]
    _check_elements("teacher", n * max(p["dim"], p["width"], p["n_out"]),
                    "(n_train + n_test) * max(dim, width, n_out)")
    if p["depth"]:
        _check_elements("teacher", p["width"] * max(p["dim"], p["width"]), "width * max(dim, width)")
    seed = p["seed"]
    h = _normals(n * p["dim"], seed, 0).reshape(n, p["dim"])
    x = h
    for l in range(p["depth"] + 1):
        fan_in, fan_out = h.shape[1], p["width"] if l < p["depth"] else p["n_out"]
        w = _normals(fan_in * fan_out, seed, 1 + l).reshape(fan_in, fan_out) / math.sqrt(fan_in)
        h = h @ w
        if l < p["depth"]:
            h = evaluate(act, h)
    scale = float(np.std(h[:p["n_train"]]))
    y = h / (scale if scale > 0.0 else 1.0)
    if p["noise"] > 0.0:
        y = y + p["noise"] * _normals(n * p["n_out"], seed, 2 + p["depth"]).reshape(n, p["n_out"])
    label = _label("teacher", {**p, "activation": act.label})
    return _task("teacher", label, "regression", x, y, None, p["n_train"], p)


def gaussian_mixture(classes: int = 4, dim: int = 16, separation: float = 3.0, n_train: int = 2048,
                     n_test: int = 512, seed: int = 0) -> Task:
    """Classification of points of a mixture of unit-variance Gaussians.

    Class ``c`` has mean ``separation / sqrt(2) * u_c``, with ``u_c`` a random unit vector (a row of
    ``classes * dim`` standard normals, normalised). Two means are thus ``separation * sqrt(1 - cos)``
    apart, with ``cos = u_a . u_b``, which is about 0 (so the distance about ``separation``) for
    large ``dim``; exactly ``separation`` for orthogonal directions. Point ``i`` (train points,
    then test points) has label ``i % classes`` and is its class mean plus N(0, I).

    Parameters
    ----------
    classes : int
        Number of classes (2 to 10,000).
    dim : int
        Input features (1 to 65,536).
    separation : float
        Scale of the class means (>= 0; 0: one Gaussian).
    n_train, n_test : int
        Rows (at least 2 and 1, at most 10**7).
    seed : int
        Philox key, in [0, 2**64).

    Returns
    -------
    Task
        A classification task with one-hot ``y`` of ``classes`` columns.
    """
    p = _checked("gaussian_mixture", locals())
    n, d, k = p["n_train"] + p["n_test"], p["dim"], p["classes"]
    _check_elements("gaussian_mixture", n * max(d, k), "(n_train + n_test) * max(dim, classes)")
    _check_elements("gaussian_mixture", k * d, "classes * dim")
    u = _normals(k * d, p["seed"], 0).reshape(k, d)
    norms = np.sqrt(np.sum(u * u, axis=1, keepdims=True))
    means = p["separation"] / math.sqrt(2.0) * u / np.where(norms > 0.0, norms, 1.0)
    labels = np.arange(n, dtype=np.int64) % k
    x = means[labels] + _normals(n * d, p["seed"], 1).reshape(n, d)
    return _task("gaussian_mixture", _label("gaussian_mixture", p), "classification", x, k, labels,
                 p["n_train"], p)


def digits(test_fraction: float = 0.25, seed: int = 0) -> Task:
    """Classification of scikit-learn's digits (1,797 8x8 images, 64 features, 10 classes).

    A stratified split (``train_test_split(..., test_size=test_fraction, stratify=labels,
    random_state=seed)``, so ``seed`` < 2**32) standardised with the training rows' per-feature
    mean and standard deviation (1 for the constant pixels). Needs scikit-learn
    (``pip install "fastinit[datasets]"``); the data ships with it (no download).

    Parameters
    ----------
    test_fraction : float
        Share of the rows in the test set, in (0, 1), leaving at least 10 rows in each set.
    seed : int
        ``random_state`` of the split, in [0, 2**32).

    Returns
    -------
    Task
        A classification task of 64 features and 10 classes.

    Raises
    ------
    ImportError
        Without scikit-learn.
    """
    p = {"test_fraction": check_real("test_fraction", test_fraction),
         "seed": check_int("seed", seed, 0, 2 ** 32, right_open=True)}
    n_test = math.ceil(p["test_fraction"] * 1797)    # scikit-learn's rounding of test_size
    if not 0.0 < p["test_fraction"] < 1.0 or min(n_test, 1797 - n_test) < 10:
        raise ValueError(f"test_fraction={test_fraction!r} must be in (0, 1) and leave at least 10 rows (one "
                         "per class) in both the train and the test set")
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:
        raise ImportError('task \'digits\' needs scikit-learn: pip install "fastinit[datasets]"',
                          name="sklearn") from exc
    data = load_digits()
    x, labels = np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.int64)
    x_tr, x_te, l_tr, l_te = train_test_split(x, labels, test_size=p["test_fraction"], stratify=labels,
                                              random_state=p["seed"])
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std = np.where(std > 0.0, std, 1.0)
    x = np.concatenate([(x_tr - mean) / std, (x_te - mean) / std])
    return _task("digits", _label("digits", p), "classification", x, 10, np.concatenate([l_tr, l_te]),
                 len(l_tr), p)


def from_arrays(x_train: Any, y_train: Any, x_test: Any, y_test: Any) -> Task:
    """A task of the user's arrays.

    ``X`` are 2-D real finite arrays with the same number of columns (train at least 2 rows, test
    at least 1). ``y`` have one row per row of their ``X``: 1-D integers are class labels
    ``0..C-1`` (``C`` = largest label + 1 over both sets; one-hot ``y``), 1-D reals are one
    regression target, 2-D reals ``n_out`` of them. The arrays are copied as float64.

    Raises
    ------
    ValueError
        Naming the array and what is wrong with it.
    """
    xs = {"X_train": x_train, "y_train": y_train, "X_test": x_test, "y_test": y_test}
    a = {}
    for name, v in xs.items():
        try:
            a[name] = np.asarray(v)
        except (ValueError, TypeError):
            raise ValueError(f"task arrays: {name} is not an array of numbers") from None
        if a[name].dtype.kind not in "iuf":
            raise ValueError(f"task arrays: {name} has dtype {a[name].dtype}; needs integers or reals")
    for name in ("X_train", "X_test"):
        x = a[name]
        if x.ndim != 2:
            raise ValueError(f"task arrays: {name} has {x.ndim} dimension(s); needs 2 (rows, features)")
        if x.shape[1] < 1:
            raise ValueError(f"task arrays: {name} has no columns")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"task arrays: {name} has non-finite values")
    for name, least in (("X_train", 2), ("X_test", 1)):
        if a[name].shape[0] < least:
            raise ValueError(f"task arrays: {name} has {a[name].shape[0]} rows; needs at least {least}")
    if a["X_train"].shape[1] != a["X_test"].shape[1]:
        raise ValueError(f"task arrays: X_test has {a['X_test'].shape[1]} columns but X_train has "
                         f"{a['X_train'].shape[1]}")
    for part in ("train", "test"):
        y, rows = a[f"y_{part}"], a[f"X_{part}"].shape[0]
        if y.ndim not in (1, 2):
            raise ValueError(f"task arrays: y_{part} has {y.ndim} dimension(s); needs 1 (labels or one "
                             "target) or 2 (targets)")
        if y.shape[0] != rows:
            raise ValueError(f"task arrays: y_{part} has {y.shape[0]} rows but X_{part} has {rows}")
        if y.dtype.kind in "iu" and y.ndim != 1:
            raise ValueError(f"task arrays: y_{part} is a 2-D integer array; give class labels as 1-D "
                             "integers, regression targets as reals")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError(f"task arrays: y_{part} has non-finite values")
    y_tr, y_te = a["y_train"], a["y_test"]
    if (y_tr.dtype.kind == "f") != (y_te.dtype.kind == "f"):
        raise ValueError(f"task arrays: y_train has dtype {y_tr.dtype} but y_test {y_te.dtype}; both need "
                         "integer labels (classification) or both real targets (regression)")
    n_tr = y_tr.shape[0]
    x = np.concatenate([a["X_train"], a["X_test"]]).astype(np.float64)
    if y_tr.dtype.kind == "f":
        y_tr, y_te = (y.reshape(y.shape[0], -1) for y in (y_tr, y_te))
        if y_tr.shape[1] != y_te.shape[1]:
            raise ValueError(f"task arrays: y_test has {y_te.shape[1]} columns but y_train has "
                             f"{y_tr.shape[1]}")
        if y_tr.shape[1] < 1:
            raise ValueError("task arrays: y_train has no columns")
        y, labels, kind = np.concatenate([y_tr, y_te]).astype(np.float64), None, "regression"
    else:
        for name, y in (("y_train", y_tr), ("y_test", y_te)):
            if (y.min() < 0 or y.max() >= MAX_CLASSES):
                raise ValueError(f"task arrays: {name} has labels from {y.min()} to {y.max()}; labels are "
                                 f"0..C-1 with C <= {MAX_CLASSES}")
        labels = np.concatenate([y_tr, y_te]).astype(np.int64)
        y, kind = int(labels.max()) + 1, "classification"
    n_out = y if labels is not None else y.shape[1]
    p = {"n_train": n_tr, "n_test": x.shape[0] - n_tr, "dim": x.shape[1], "n_out": n_out}
    return _task("arrays", _label("arrays", p), kind, x, y, labels, n_tr, p)


def _four(task) -> tuple:
    if len(task) != 4:
        raise ValueError(f"task arrays: expected (X_train, y_train, X_test, y_test), got {len(task)} item(s)")
    return tuple(task)


def _checked(name: str, given: dict) -> dict:
    """The parameters of a named task in canonical form, in the order of its signature."""
    p = {}
    for key in _DEFAULTS[name]:
        v = given[key]
        if key == "seed":
            v = check_seed(v)
        elif key in _INT_RANGES:
            v = check_int(key, v, *_INT_RANGES[key])
        elif key in ("noise", "separation"):
            v = check_real(key, v, 0.0)
        p[key] = v
    return p


def _check_elements(name: str, count: int, what: str) -> None:
    if count > MAX_ELEMENTS:
        raise ValueError(f"task {name!r}: {what} = {count} elements exceeds {MAX_ELEMENTS} (2**28)")


def _label(name: str, p: dict) -> str:
    return f"{name}(" + ",".join(f"{k}={v!r}" for k, v in p.items()) + ")"


def _normals(count: int, seed: int, k: int) -> np.ndarray:
    """Standard normals of tensor ``TASK_TENSOR + k``, trial 0."""
    from .kernels.sampling import fill_normal

    return fill_normal(np.empty(count), np.uint64(seed), 0, TASK_TENSOR + k)


def _task(name: str, label: str, kind: str, x: np.ndarray, y, labels, n_train: int, params: dict) -> Task:
    """Split rows ``[0, n_train)`` / ``[n_train, n)`` into a Task; ``y`` an int: one-hot of ``labels``."""
    if isinstance(y, int):
        onehot = np.zeros((labels.shape[0], y))
        onehot[np.arange(labels.shape[0]), labels] = 1.0
        y = onehot
    x, y = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)
    lab = (None, None) if labels is None else (labels[:n_train].copy(), labels[n_train:].copy())
    return Task(name, label, kind, x[:n_train].copy(), y[:n_train].copy(), x[n_train:].copy(),
                y[n_train:].copy(), lab[0], lab[1], dict(params))
