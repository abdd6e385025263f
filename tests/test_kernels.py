import math

import naive
import numba
import numpy as np
import pandas as pd
import pytest

import fastinit as fi
from fastinit import kernels
from fastinit.engine import make_shape, make_variant, plan_call, run_group, run_groups
from fastinit.kernels import views
from fastinit.rng import BIAS_TENSOR, INPUT_TENSOR, PROBE_TENSOR, TARGET_TENSOR


def _reference(init, act, widths, batch, seed=0, trial=0, bias="zeros", loss="probe", corr=None, a=0.0):
    ws = [
        fi.initialize(init, (widths[l - 1], widths[l]), seed=seed, trial=trial, tensor_id=l, dtype="float64")
        for l in range(1, len(widths))
    ]
    bs = [
        fi.initialize(bias, (widths[l],), seed=seed, trial=trial, tensor_id=BIAS_TENSOR + l, dtype="float64")
        for l in range(1, len(widths))
    ]
    x0 = naive.normals(seed, trial, INPUT_TENSOR, batch * widths[0]).reshape(batch, widths[0])
    if corr is not None:
        x0[1::2] = corr * x0[0::2] + math.sqrt(1 - corr ** 2) * x0[1::2]
    g = naive.normals(seed, trial, TARGET_TENSOR if loss == "mse" else PROBE_TENSOR,
                      batch * widths[-1]).reshape(batch, widths[-1])
    return ws, bs, x0, g


CASES = [
    ("he_normal", "relu", {}),
    ("glorot_uniform", "tanh", {"bias": {"name": "random_normal", "stddev": 0.1}}),
    ("orthogonal", "sigmoid", {"corr": 0.3}),
    ("lecun_normal", "selu", {"loss": "mse"}),
    ("kaiming_uniform", {"name": "leaky_relu", "negative_slope": 0.2}, {}),
    ({"name": "sparse_martens", "k": 4}, "softsign", {"bias": "ones"}),
    ("random_uniform", "hard_tanh", {}),
    ("glorot_normal", "gelu", {}),
    ("he_uniform", "silu", {}),
    ("xavier_normal", "softplus", {}),
    ("he_normal", {"name": "elu", "alpha": 0.5}, {}),
    ("zeros", "tanh", {"bias": "ones"}),
    ("torch_default", "gelu_tanh", {}),
    ("jax.normal", "erf", {"bias": {"name": "random_uniform"}}),
]


@pytest.mark.parametrize("init,act,opts", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_network_matches_naive_float64(init, act, opts):
    widths = [12, 16, 9, 16, 8]
    corr, loss, bias = opts.get("corr"), opts.get("loss", "probe"), opts.get("bias", "zeros")
    df = fi.simulate(
        init,
        act,
        widths=widths,
        batch=10,
        seed=3,
        trial=1,
        bias_initializer=bias,
        dtype="float64",
        jacobian=True,
        input_corr=corr,
        loss=loss,
    )
    a = fi.get_activation(act)
    ws, bs, x0, g = _reference(init, act, widths, 10, 3, 1, bias, loss, corr)
    ref = naive.network(ws, bs, x0, a.name, a.param, g, loss, corr is not None, a.saturation_level)
    ref = pd.DataFrame(ref)
    for col in ref.columns:
        np.testing.assert_allclose(df[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-10, atol=1e-13,
                                   err_msg=col)
    if corr is None:
        assert df["pair_corr"].isna().all()


@pytest.mark.parametrize("batch", [2, 3, 40])
def test_gradient_norm_paths_agree_with_naive(batch):
    """Small batches take the Gram-matrix path for |dloss/dW|_F, large ones the GEMM path."""
    widths = [24, 32, 20]
    df = fi.simulate("glorot_normal", "tanh", widths=widths, batch=batch, dtype="float64")
    ws, bs, x0, g = _reference("glorot_normal", "tanh", widths, batch)
    grads = naive.weight_gradients(ws, bs, x0, "tanh", 0.0, g)
    np.testing.assert_allclose(df["grad_w_norm"], [np.linalg.norm(gr) for gr in grads], rtol=1e-10)


def test_naive_gradients_agree_with_finite_differences():
    widths, a = [5, 6, 4], "tanh"
    ws, bs, x0, g = _reference("glorot_normal", a, widths, 4, bias={"name": "random_normal", "stddev": 0.3})
    for loss in ("probe", "mse"):
        grads = naive.weight_gradients(ws, bs, x0, a, 0.0, g, loss)
        eps = 1e-6
        for l in range(len(ws)):
            for (i, j) in [(0, 0), (2, 1), (4, 3)]:
                wp = [w.copy() for w in ws]
                wm = [w.copy() for w in ws]
                wp[l][i, j] += eps
                wm[l][i, j] -= eps
                fd = (
                    naive.loss_value(wp, bs, x0, a, 0.0, g, loss)
                    - naive.loss_value(wm, bs, x0, a, 0.0, g, loss)
                ) / (2 * eps)
                assert fd == pytest.approx(grads[l][i, j], rel=1e-6, abs=1e-9)
    # and the kernel's gradient norms are the norms of these gradients
    df = fi.simulate(
        "glorot_normal",
        a,
        widths=widths,
        batch=4,
        bias_initializer={"name": "random_normal", "stddev": 0.3},
        dtype="float64",
        loss="mse",
    )
    ws, bs, x0, t = _reference("glorot_normal", a, widths, 4, bias={"name": "random_normal", "stddev": 0.3},
                               loss="mse")
    grads = naive.weight_gradients(ws, bs, x0, a, 0.0, t, "mse")
    np.testing.assert_allclose(df["grad_w_norm"], [np.linalg.norm(gr) for gr in grads], rtol=1e-10)


def test_float32_agrees_with_float64():
    d32 = fi.simulate("he_normal", "tanh", depth=6, width=32, batch=16)
    d64 = fi.simulate("he_normal", "tanh", depth=6, width=32, batch=16, dtype="float64")
    np.testing.assert_allclose(d32["preact_sq"], d64["preact_sq"], rtol=1e-4)
    np.testing.assert_allclose(d32["delta_sq"], d64["delta_sq"], rtol=1e-4)


@numba.njit
def _user_code(c, out):
    # a user's own @njit code drives the public kernels
    z = kernels.fill_normal(np.empty(8), 0, 0, 1)
    ws = np.empty((numba.get_num_threads(), kernels.workspace_length(c.widths, c.x0.shape[1])))
    classes = kernels.unit_classes(
        c.widths, c.weights, np.empty((c.weights.shape[0], c.widths[1:].sum()), np.int64)
    )
    kernels.network_statistics(
        c.nets_int,
        c.nets_real,
        c.widths,
        c.depths,
        c.x0,
        c.grad_seed,
        c.weights,
        c.biases,
        classes,
        0,
        False,
        True,
        False,
        ws,
        out,
    )
    return out[:, 0, -1, 2].sum() + z[0] * 0.0


def test_kernels_callable_from_user_njit():
    shape = make_shape(3, 8, batch=4, dtype="float64")
    call = plan_call([(shape, [make_variant("he_normal", "relu")] * 2)])
    out = np.empty((2, 1, 3, kernels.N_METRICS))
    total = _user_code(call, out)
    ref = fi.simulate("he_normal", "relu", depth=3, width=8, batch=4, dtype="float64")
    assert total == 2 * ref["preact_sq"].iloc[-1]


@numba.njit
def _one_layer(x, w, b, act, a, g):
    # one dense layer forward and backward in a user's @njit code: three calls, no engine objects
    rows, n_in = x.shape
    n_out = w.shape[1]
    scratch = kernels.layer_scratch()
    h, y, d = np.empty((rows, n_out)), np.empty((rows, n_out)), np.empty((rows, n_out))
    kernels.dense_forward(x, w, b, 1.0, act, a, h, y, d, scratch)
    delta = g * d                                    # the probe loss sum(g * y)
    grad = np.empty((n_in, n_out))
    kernels.weight_gradient(x, delta, grad, scratch)
    delta_in = np.empty((rows, n_in))
    kernels.dense_backward(delta, w, np.ones((rows, n_in)), delta_in, scratch)
    return y, grad, delta_in


def test_layer_primitives_from_user_njit():
    rng = np.random.default_rng(0)
    x, w, b, g = rng.standard_normal((6, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4), \
        rng.standard_normal((6, 4))
    act = fi.get_activation("tanh")
    y, grad, delta_in = _one_layer(x, w, b, act.code, act.param, g)
    h = x @ w + b
    np.testing.assert_allclose(y, np.tanh(h), rtol=1e-14, atol=1e-15)
    delta = g * (1 - np.tanh(h) ** 2)
    np.testing.assert_allclose(grad, x.T @ delta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(delta_in, delta @ w.T, rtol=1e-12, atol=1e-14)


def test_groups_in_one_call_equal_separate_calls():
    shapes = [make_shape(3, 12, batch=6, seed=s, trial=t) for s, t in ((0, 0), (1, 0), (0, 2))]
    variants = [[make_variant("he_normal", "tanh"), make_variant("random_uniform", "relu")],
                [make_variant("orthogonal", "tanh")],
                [make_variant("he_normal", "tanh")]]
    together = run_groups(list(zip(shapes, variants)))
    for shape, vs, res in zip(shapes, variants, together):
        res = res[:, 0]
        np.testing.assert_array_equal(res, run_group(shape, vs))
        for v, row in zip(vs, res):  # shared base draws or drawn per network: the same numbers
            np.testing.assert_array_equal(row, run_group(shape, [v])[0])


@pytest.mark.parametrize("batch,backward", [(6, True), (6, False), (4, True)])
def test_one_pass_serves_every_depth(batch, backward):
    """A depth-D network reported from a deeper call equals the depth-D network run alone, bit for
    bit (batch 4 takes the Gram-matrix path for gradient norms)."""
    variants = [
        make_variant(i, a)
        for i, a in (
            ("he_normal", "tanh"),
            ("lsuv", "relu"),
            ("identity", "linear"),
            ("glorot_uniform", "selu"),
        )
    ]
    deep = run_groups([(make_shape(7, 10, batch=batch, backward=backward), variants)], depths=[1, 3, 7])[0]
    for k, d in enumerate((1, 3, 7)):
        alone = run_group(make_shape(d, 10, batch=batch, backward=backward), variants)
        np.testing.assert_array_equal(deep[:, k, :d], alone)
        assert np.isnan(deep[:, k, d:]).all()
    with pytest.raises(ValueError, match="depths"):
        run_groups([(make_shape(7, 10, batch=6), variants)], depths=[3, 5])


def test_batched_equals_single_and_any_thread_count():
    shape = make_shape(4, 24, batch=8)
    variants = [
        make_variant(i, a)
        for i in ("he_normal", "orthogonal", "random_uniform", "sparse_martens", "lsuv")
        for a in ("relu", "tanh")
    ]
    n = numba.config.NUMBA_NUM_THREADS
    results = []
    for t in sorted({1, n}):
        numba.set_num_threads(t)
        results.append(run_group(shape, variants))
    numba.set_num_threads(n)
    np.testing.assert_array_equal(results[0], results[-1])
    single = np.stack([run_group(shape, [v])[0] for v in variants])
    np.testing.assert_array_equal(np.isnan(single), np.isnan(results[0]))
    np.testing.assert_allclose(single, results[0], rtol=1e-6, equal_nan=True)


def test_depth_prefix_property():
    deep = fi.simulate("glorot_normal", "tanh", depth=8, width=16, batch=8, backward=False)
    shallow = fi.simulate("glorot_normal", "tanh", depth=3, width=16, batch=8, backward=False)
    pd.testing.assert_frame_equal(shallow, deep.iloc[:3], check_like=True)


def test_symmetry_constant_initializer_one_distinct_unit():
    const = fi.simulate("constant", "tanh", depth=4, width=32, batch=8, bias_initializer="zeros")
    const = fi.simulate({"name": "constant", "value": 0.1}, "tanh", depth=4, width=32, batch=8)
    assert (const["distinct_units"] == 1).all()
    rand = fi.simulate("glorot_uniform", "tanh", depth=4, width=32, batch=8)
    assert (rand["distinct_units"] == 32).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_against_numpy(dtype):
    from fastinit.kernels.blas import gemm
    rng = np.random.default_rng(0)
    blas = np.empty(6)
    for trans_a in (False, True):
        for trans_b in (False, True):
            a = rng.standard_normal((5, 7) if trans_a else (7, 5)).astype(dtype)
            b = rng.standard_normal((3, 5) if trans_b else (5, 3)).astype(dtype)
            expect = (a.T if trans_a else a) @ (b.T if trans_b else b)
            got = gemm(a, trans_a, b, trans_b, np.empty((7, 3), dtype), blas)
            np.testing.assert_allclose(got, expect, rtol=1e-5 if dtype == np.float32 else 1e-12)
    with pytest.raises(ValueError, match="C-contiguous"):
        gemm(a[:, :2], False, b[:2], False, np.empty((7, 3), dtype), blas)


@pytest.mark.parametrize("n_out", [6, 40])      # insertion sort (<= 32 units) and argsort
def test_distinct_units_against_naive(n_out):
    rng = np.random.default_rng(n_out)
    pool = rng.standard_normal((10, 4)).astype(np.float32)
    pool[0, 1] = np.nan                          # a non-finite column is its own
    w = pool[:, rng.integers(0, 4, n_out)]       # columns drawn from a pool of 4: many repeats
    b = rng.integers(0, 2, n_out).astype(np.float32)
    x = rng.standard_normal((5, 10)).astype(np.float32)
    table = np.stack([w.ravel(), w[:, ::-1].ravel()])      # a weights table of two rows of one layer
    classes = kernels.unit_classes(np.array([10, n_out]), table, np.empty((2, n_out), np.int64))
    for row, cls in zip(table, classes):
        cols = row.reshape(10, n_out).T
        eye = np.eye(n_out, dtype=bool)
        same = (cols[:, None, :] == cols[None, :, :]).all(axis=2) | eye      # naive: which columns are equal
        assert (((cls[:, None] == cls[None, :]) & (cls[:, None] >= 0) | eye) == same).all()
    finite = np.isfinite(w).all(axis=0)
    expect = naive.distinct_units(w[:, finite], b[finite]) + (~finite).sum()
    assert kernels.distinct_units(classes[0], b, x @ w + b, 1e-5, np.empty(n_out, np.int64)) == expect


def test_lsuv_sets_unit_preactivation_variance():
    df = fi.simulate(
        "lsuv", "tanh", depth=6, width=64, batch=64, bias_initializer={"name": "constant", "value": 0.3}
    )
    assert np.all(abs(df["preact_var"] - 1) < 0.02)
    df2 = fi.simulate({"name": "lsuv", "base": "he_normal", "tol": 0.1}, "relu", depth=6, width=64, batch=64)
    assert np.all(abs(df2["preact_var"] - 1) < 0.1)


def test_blow_up_is_data_not_an_exception():
    df = fi.simulate({"name": "random_normal", "stddev": 1.0}, "relu", depth=200, width=16, batch=4)
    assert df["nonfinite"].iloc[-1] > 0 and df["nonfinite"].iloc[0] == 0
    assert not np.isfinite(df["preact_sq"].iloc[-1])
    small = fi.simulate({"name": "random_normal", "stddev": 0.01}, "tanh", depth=200, width=16, batch=4)
    assert small["preact_sq"].iloc[-1] == 0.0 and small["nonfinite"].sum() == 0


def test_dead_relu_and_saturation_fractions():
    df = fi.simulate({"name": "random_normal", "stddev": 3.0}, "tanh", depth=3, width=64, batch=32)
    assert df["frac_saturated"].iloc[-1] > 0.5
    relu = fi.simulate("he_normal", "relu", depth=3, width=64, batch=32)
    assert relu["frac_zero"].between(0.35, 0.65).all() and (relu["frac_saturated"] == 0).all()


BAD = [
    (dict(depth=0, width=8), "depth=0"), (dict(depth=3, width=-1), "width=-1"),
    (dict(widths=[8, 8]), None), (dict(depth=3, widths=[8, 8]), "depth \\+ 1"),
    (dict(depth=2, width=8, batch=1), "batch=1"), (dict(depth=2, width=8, input="gauss"), "input='gauss'"),
    (dict(depth=2, width=8, input=np.zeros((4, 7))), "shape"),
    (dict(depth=2, width=8, input=np.zeros((4, 8), dtype=complex)), "dtype"),
    (dict(depth=2, width=8, input_corr=1.5), "input_corr=1.5"),
    (dict(depth=2, width=8, batch=5, input_corr=0.5), "even batch"),
    (dict(depth=2, width=8, dtype="int8"), "dtype='int8'"),
    (dict(depth=2, width=8, loss="hinge"), "loss='hinge'"),
    (dict(depth=2, width=8, bias_initializer="orthogonal"), "bias_initializer"),
]


@pytest.mark.parametrize("kwargs,match", BAD)
def test_simulate_bad_input(kwargs, match):
    if match is None:
        fi.simulate("he_normal", "relu", **kwargs)  # widths alone are enough
        return
    with pytest.raises((ValueError, TypeError), match=match):
        fi.simulate("he_normal", "relu", **kwargs)


def test_simulate_bad_names():
    with pytest.raises(ValueError, match="activation='tanhh' is unknown; did you mean 'tanh'"):
        fi.simulate("he_normal", "tanhh", depth=2, width=4)
    with pytest.raises(ValueError, match="negative_slopee"):
        fi.simulate("he_normal", {"name": "leaky_relu", "negative_slopee": 0.1}, depth=2, width=4)
    with pytest.raises(ValueError, match="did you mean"):
        fi.simulate("glorot", "relu", depth=2, width=4)


def test_input_array_and_uniform_inputs():
    x = np.random.default_rng(0).normal(size=(6, 10))
    df = fi.simulate("he_normal", "relu", depth=2, width=10, input=x, dtype="float64")
    ws, bs, _, g = _reference("he_normal", "relu", [10, 10, 10], 6)
    ref = pd.DataFrame(naive.network(ws, bs, x, "relu", 0.0, g))
    np.testing.assert_allclose(df["preact_sq"], ref["preact_sq"], rtol=1e-10)
    u = fi.simulate("he_normal", "relu", depth=1, width=500, batch=200, input="uniform01", backward=False)
    assert u.attrs["input"] == "uniform01" and u["preact_sq"].iloc[0] == pytest.approx(2 / 3, rel=0.1)


@pytest.mark.slow
def test_he_relu_preserves_and_glorot_halves_signal():
    """He et al. 2015: with ReLU, q^l = (n Var w / 2) q^{l-1}: 1 for He, 1/2 for Glorot on square layers.

    Tolerance: 4 standard errors of the mean over seeds (the fluctuation across networks is
    measured, not assumed).
    """
    he = np.array(
        [
            fi.simulate("he_normal", "relu", depth=30, width=512, batch=32, seed=s, backward=False)[
                "preact_sq"
            ]
            for s in range(12)
        ]
    )
    ratio = he[:, -1] / he[:, 0]
    assert abs(ratio.mean() - 1) < 4 * ratio.std(ddof=1) / math.sqrt(len(ratio)) + 1e-3
    gl = np.array(
        [
            fi.simulate("glorot_normal", "relu", depth=30, width=512, batch=32, seed=s, backward=False)[
                "preact_sq"
            ]
            for s in range(12)
        ]
    )
    per_layer = (gl[:, -1] / gl[:, 0]) ** (1 / 29)
    assert abs(per_layer.mean() - 0.5) < 4 * per_layer.std(ddof=1) / math.sqrt(len(per_layer)) + 1e-3


def test_linear_orthogonal_jacobian_is_isometric():
    df = fi.simulate("orthogonal", "linear", depth=10, width=32, batch=4, dtype="float64", jacobian=True)
    np.testing.assert_allclose(df[["jac_min", "jac_max", "jac_sq_mean"]].to_numpy(), 1.0, atol=1e-10)
    gauss = fi.simulate("lecun_normal", "linear", depth=10, width=32, batch=4, dtype="float64", jacobian=True)
    assert gauss["jac_max"].iloc[-1] > 2 and gauss["jac_min"].iloc[-1] < 0.1


def test_blow_up_statistics_are_nan_not_zero():
    df = fi.simulate({"name": "random_normal", "stddev": 1.0}, "relu", depth=400, width=16, batch=4)
    last = df.iloc[-1]
    assert last["nonfinite"] > 0
    assert not np.isfinite(last["preact_var"]) and not np.isfinite(last["act_var"])


@pytest.mark.parametrize(
    "name",
    [
        "linear",
        "sigmoid",
        "tanh",
        "softsign",
        "hard_tanh",
        "relu",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "gelu_tanh",
        "silu",
        "softplus",
        "erf",
    ],
)
def test_vectorised_activation_pass_matches_naive(name):
    from fastinit.kernels.activate import ACT_CHUNK, activate_into
    rs = np.random.default_rng(1)
    h = np.concatenate([rs.standard_normal(3000) * 4, np.logspace(-12, 1.5, 300), -np.logspace(-12, 1.5, 300),
                        [0.0, np.nan]])
    act = fi.get_activation(name)
    x, d = np.empty_like(h), np.empty_like(h)
    activate_into(act.code, act.param, h, x, d, np.empty(ACT_CHUNK), np.empty(ACT_CHUNK, np.int64))
    with np.errstate(invalid="ignore"):   # the NaN input
        rx, rd = naive.act(name, h, act.param)
    np.testing.assert_allclose(x, rx, rtol=1e-13, atol=1e-15)   # gelu_tanh cancels for x < 0
    np.testing.assert_allclose(d, rd, rtol=1e-11, atol=1e-14)   # 1 - tanh^2 and gelu_tanh cancel
    assert np.isnan(x[-1])   # blow-up stays visible


@numba.njit
def _views(a, rows, cols):
    v = views.as_vector(a)
    return v, views.as_matrix(v, rows, cols)


def test_views_equal_numpy_reshape():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    v, m = _views(a, 3, 8)
    np.testing.assert_array_equal(v, a.reshape(24))
    np.testing.assert_array_equal(m, a.reshape(3, 8))
    assert m.flags.c_contiguous and m.strides == (32, 4)
    v[5] = -1.0        # views, not copies
    assert a[0, 5] == -1.0 and m[0, 5] == -1.0


def test_simulate_takes_every_documented_seed():
    small = fi.simulate("he_normal", "relu", depth=2, width=4, batch=4, seed=1)     # compiles for int64 seeds
    for seed in (2 ** 63, 2 ** 64 - 1):
        df = fi.simulate("he_normal", "relu", depth=2, width=4, batch=4, seed=seed, input="uniform01")
        assert np.isfinite(df["preact_sq"]).all() and not df["preact_sq"].equals(small["preact_sq"])


def test_blow_up_with_jacobian_is_data():
    df = fi.simulate({"name": "random_normal", "stddev": 10.0}, "linear", depth=400, width=8, batch=4,
                     dtype="float64", jacobian=True)
    assert (df["nonfinite"] > 0).any() and df["jac_max"].isna().any()


def test_tensors_beyond_the_streams_are_refused():
    with pytest.raises(ValueError, match="MAX_ELEMENTS|fit the random streams"):
        fi.initialize("he_normal", (2 ** 17, 2 ** 17))
    with pytest.raises(ValueError, match="fit the random streams"):
        fi.simulate("he_normal", "relu", widths=[2 ** 17, 2 ** 17])


def test_theory_of_a_blown_up_initializer_is_inf_not_an_error():
    pred = fi.theory.predict({"name": "random_uniform", "minval": -1e308, "maxval": 1e308}, "linear", depth=2,
                             width=4)
    assert not np.isfinite(pred["preact_sq"]).all()
