import math
import warnings

import naive
import numpy as np
import pytest
from scipy import stats

import fastinit as fi
from fastinit.initializers import _KERAS_SEEDED, TRUNC_STD_2

N_IN, N_OUT = 300, 200  # 60,000 samples per tensor
N = N_IN * N_OUT


def _check_moments(w, mean, var, kurt_excess):
    """Mean and variance within 6 standard errors derived from the sample size."""
    n = w.size
    assert abs(w.mean() - mean) < 6 * math.sqrt(var / n)
    var_se = var * math.sqrt((2 + kurt_excess) / n)
    assert abs(w.var() - var) < 6 * var_se


def _uniform(lo, hi):
    return stats.uniform(lo, hi - lo)


def _trunc(mean, std, lo, hi):
    return stats.truncnorm(lo, hi, loc=mean, scale=std)


def _norm(mean, std):
    return stats.norm(mean, std)


fan_avg = (N_IN + N_OUT) / 2
# name, params, expected scipy distribution for a (N_IN, N_OUT) Keras-layout weight
CASES = [
    ("random_normal", {}, _norm(0, 0.05)),
    ("random_normal", {"mean": 1.0, "stddev": 2.0}, _norm(1, 2)),
    ("random_uniform", {}, _uniform(-0.05, 0.05)),
    ("random_uniform", {"minval": -0.5, "maxval": 0.5}, _uniform(-0.5, 0.5)),
    ("truncated_normal", {"stddev": 0.3}, _trunc(0, 0.3, -2, 2)),
    (
        "variance_scaling",
        {"scale": 2.0, "distribution": "normal"},
        _trunc(0, math.sqrt(2 / N_IN) / TRUNC_STD_2, -2, 2),
    ),
    (
        "variance_scaling",
        {"mode": "fan_out", "distribution": "untruncated_normal"},
        _norm(0, math.sqrt(1 / N_OUT)),
    ),
    (
        "variance_scaling",
        {"mode": "fan_avg", "distribution": "uniform"},
        _uniform(-math.sqrt(3 / fan_avg), math.sqrt(3 / fan_avg)),
    ),
    ("lecun_uniform", {}, _uniform(-math.sqrt(3 / N_IN), math.sqrt(3 / N_IN))),
    ("lecun_normal", {}, _trunc(0, math.sqrt(1 / N_IN) / TRUNC_STD_2, -2, 2)),
    ("glorot_uniform", {}, _uniform(-math.sqrt(6 / (N_IN + N_OUT)), math.sqrt(6 / (N_IN + N_OUT)))),
    (
        "glorot_uniform",
        {"gain": 4.0},
        _uniform(-4 * math.sqrt(6 / (N_IN + N_OUT)), 4 * math.sqrt(6 / (N_IN + N_OUT))),
    ),
    ("glorot_normal", {}, _trunc(0, math.sqrt(2 / (N_IN + N_OUT)) / TRUNC_STD_2, -2, 2)),
    ("he_uniform", {}, _uniform(-math.sqrt(6 / N_IN), math.sqrt(6 / N_IN))),
    ("he_normal", {}, _trunc(0, math.sqrt(2 / N_IN) / TRUNC_STD_2, -2, 2)),
    ("he_normal", {"negative_slope": 0.2}, _trunc(0, math.sqrt(2 / (1.04 * N_IN)) / TRUNC_STD_2, -2, 2)),
    (
        "he_uniform",
        {"negative_slope": 0.2},
        _uniform(-math.sqrt(6 / (1.04 * N_IN)), math.sqrt(6 / (1.04 * N_IN))),
    ),
    ("uniform", {}, _uniform(0, 1)),
    ("normal", {"std": 0.5}, _norm(0, 0.5)),
    ("trunc_normal", {"std": 0.5, "a": -0.3, "b": 0.8}, _trunc(0, 0.5, -0.6, 1.6)),
    (
        "xavier_uniform",
        {"gain": 2.0},
        _uniform(-2 * math.sqrt(6 / (N_IN + N_OUT)), 2 * math.sqrt(6 / (N_IN + N_OUT))),
    ),
    ("xavier_normal", {}, _norm(0, math.sqrt(2 / (N_IN + N_OUT)))),
    ("kaiming_uniform", {}, _uniform(-math.sqrt(6 / N_IN), math.sqrt(6 / N_IN))),
    ("kaiming_normal", {}, _norm(0, math.sqrt(2 / N_IN))),
    ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "tanh"}, _norm(0, 5 / 3 / math.sqrt(N_OUT))),
    ("kaiming_normal", {"a": 0.2}, _norm(0, math.sqrt(2 / 1.04 / N_IN))),
    ("torch_default", {}, _uniform(-1 / math.sqrt(N_IN), 1 / math.sqrt(N_IN))),
    ("jax.uniform", {}, _uniform(0, 0.01)),
    ("jax.normal", {"stddev": 0.1}, _norm(0, 0.1)),
    ("jax.truncated_normal", {"stddev": 0.1, "lower": -1.0, "upper": 3.0}, _trunc(0, 0.1, -1, 3)),
    ("jax.variance_scaling", {"distribution": "normal"}, _norm(0, math.sqrt(1 / N_IN))),
    (
        "jax.variance_scaling",
        {"distribution": "truncated_normal"},
        _trunc(0, math.sqrt(1 / N_IN) / TRUNC_STD_2, -2, 2),
    ),
    ("kwon_logistic_uniform", {}, _uniform(-math.sqrt(6 / (N_IN + N_OUT)), math.sqrt(6 / (N_IN + N_OUT)))),
    ("kwon_logistic_normal", {}, _norm(0, math.sqrt(2 / (N_IN + N_OUT)))),
    (
        "kwon_tanh_uniform",
        {},
        _uniform(-4 * math.sqrt(6 / (N_IN + N_OUT)), 4 * math.sqrt(6 / (N_IN + N_OUT))),
    ),
    ("kwon_tanh_normal", {}, _norm(0, 4 * math.sqrt(2 / (N_IN + N_OUT)))),
    ("kwon_relu_uniform", {}, _uniform(-math.sqrt(12 / (N_IN + N_OUT)), math.sqrt(12 / (N_IN + N_OUT)))),
    ("kwon_relu_normal", {}, _norm(0, math.sqrt(4 / (N_IN + N_OUT)))),
]


@pytest.mark.parametrize("name,params,dist", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distribution(name, params, dist, dtype):
    w = fi.initialize(name, (N_IN, N_OUT), seed=3, dtype=dtype, **params)
    assert w.dtype == np.dtype(dtype) and w.shape == (N_IN, N_OUT)
    w64 = w.astype(np.float64).ravel()
    lo, hi = dist.support()
    assert w64.min() >= lo - 1e-6 * abs(lo) and w64.max() <= hi + 1e-6 * abs(hi)
    if dist.dist.name == "uniform":
        assert w64.max() < np.dtype(dtype).type(hi), "uniform samples lie in [low, high)"
    _check_moments(w64, dist.mean(), dist.var(), dist.stats(moments="k"))
    assert stats.kstest(w64, dist.cdf).pvalue > 1e-3


def _exact_moments(lo, hi):
    """Mean, variance and fourth central moment of N(0, 1) truncated to [lo, hi] (quadrature)."""
    z = naive.truncated_partial(lo, hi, lo, hi)
    mean = naive.truncated_partial(lo, hi, lo, hi, 1) / z
    return mean, *(naive.truncated_partial(lo, hi, lo, hi, k, mean) / z for k in (2, 4))


#: Truncated normals whose interval holds probability below 1e-3, which fastinit refused before it
#: sampled them by inverse CDF: name, parameters, (loc, scale) and the bounds in sigma units.
TINY = [
    ("trunc_normal", {"a": 4.0, "b": 6.0}, (0.0, 1.0), (4.0, 6.0)),              # P = 3.2e-5
    ("jax.truncated_normal", {"stddev": 0.1, "lower": 3.5, "upper": 10.0}, (0.0, 0.1), (3.5, 10.0)),
    ("jax.truncated_normal", {"stddev": 1.0, "lower": 12.0, "upper": 40.0}, (0.0, 1.0), (12.0, 40.0)),
    ("jax.truncated_normal", {"stddev": 2.0, "lower": -36.0, "upper": -35.0}, (0.0, 2.0), (-36.0, -35.0)),
    ("trunc_normal", {"mean": 1.0, "std": 2.0, "a": -19.0, "b": -8.0}, (1.0, 2.0), (-10.0, -4.5)),
    ("trunc_normal", {"a": 8.0, "b": 8.05}, (0.0, 1.0), (8.0, 8.05)),          # narrow, far out
    ("trunc_normal", {"a": -1e-4, "b": 2e-4}, (0.0, 1.0), (-1e-4, 2e-4)),      # narrow, around 0
]


@pytest.mark.parametrize("name,params,affine,bounds", TINY, ids=[f"{c[0]}{c[3]}" for c in TINY])
def test_truncated_normals_of_tiny_probability(name, params, affine, bounds):
    (loc, scale), (lo, hi) = affine, bounds
    mean, var, m4 = _exact_moments(lo, hi)
    if lo * hi > 0 and max(abs(lo), abs(hi)) < 30:   # scipy's truncnorm agrees where it is accurate
        t = stats.truncnorm(lo, hi)
        assert t.mean() == pytest.approx(mean, rel=1e-9) and t.var() == pytest.approx(var, rel=1e-6)
    shape = (500, 400)
    n = math.prod(shape)
    w = fi.initialize(name, shape, seed=11, dtype="float64", **params).ravel()
    assert np.float64(loc + scale * lo) <= w.min() and w.max() <= np.float64(loc + scale * hi)
    z = (w - loc) / scale
    # mean and variance within 5 standard errors of the sample size's (exact 4th moment for the variance)
    assert abs(z.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(z.var() - var) < 5 * math.sqrt((m4 - var ** 2) / n)
    # KS statistic below the 0.1 % critical value 1.95 / sqrt(n), against the conditional CDF
    assert stats.kstest(z, lambda x: naive.truncated_cdf(x, lo, hi)).statistic < 1.95 / math.sqrt(n)
    w32 = fi.initialize(name, shape, seed=11, dtype="float32", **params)
    assert np.float32(loc + scale * lo) <= w32.min() and w32.max() <= np.float32(loc + scale * hi)
    np.testing.assert_allclose(w32.ravel(), w, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("lo,hi", [b for *_, b in TINY] + [(1e8, 1e9), (-1e4 - 1.0, -1e4)])
def test_second_moment_of_tiny_probability_intervals(lo, hi):
    # theory's E[w^2] of a truncated normal, where scipy's truncnorm loses it (1e8: mean 1.78e8)
    from fastinit.initializers import Kind
    # quadrature over the part holding all but e^-50 of the mass (the density falls as e^-|lo| t)
    a, b = (lo, min(hi, lo + 50 / lo)) if lo >= 1 else (max(lo, hi + 50 / hi), hi) if hi <= -1 else (lo, hi)
    z = naive.truncated_partial(a, b, a, b)
    m1, m2 = (naive.truncated_partial(a, b, a, b, k) / z for k in (1, 2))
    for loc, scale in ((0.0, 1.0), (0.5, 0.1)):
        want = loc ** 2 + 2 * loc * scale * m1 + scale ** 2 * m2
        assert Kind.TRUNCATED.second_moment((loc, scale, lo, hi), 4, 4) == pytest.approx(want, rel=1e-7)


def test_variance_scaling_truncation_keeps_target_variance():
    w = fi.initialize("he_normal", (400, 500), seed=1, dtype="float64")
    _check_moments(w.ravel(), 0.0, 2 / 400, -0.5)
    assert abs(w).max() <= 2 * math.sqrt(2 / 400) / TRUNC_STD_2


def test_constants():
    assert np.all(fi.initialize("zeros", (3, 4)) == 0)
    assert np.all(fi.initialize("ones", (3, 4)) == 1)
    assert np.all(fi.initialize("constant", (3, 4), value=2.5) == 2.5)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (50, 50), (3, 3, 8, 16)])
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_orthogonal(shape, layout):
    w = fi.initialize("orthogonal", shape, layout=layout, gain=1.5, dtype="float64")
    if layout == "keras":
        m = w.reshape(-1, shape[-1])
    else:
        m = w.reshape(shape[0], -1)
    small = min(m.shape)
    g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(g, 1.5 ** 2 * np.eye(small), atol=1e-12)


def test_orthogonal_is_haar_not_biased():
    # With the sign(diag R) correction the diagonal of Q has mean 0 across draws.
    diag = np.array([fi.initialize("orthogonal", (4, 4), seed=s, dtype="float64")[0, 0] for s in range(400)])
    assert abs(diag.mean()) < 6 * diag.std() / math.sqrt(diag.size)


def test_jax_orthogonal_column_axis():
    w = fi.initialize("jax.orthogonal", (8, 5, 3), column_axis=0, dtype="float64")
    m = np.moveaxis(w, 0, -1).reshape(-1, 8)
    np.testing.assert_allclose(m.T @ m, np.eye(8), atol=1e-12)


def test_identity_eye_dirac_delta_orthogonal():
    np.testing.assert_array_equal(fi.initialize("identity", (3, 5), gain=2.0), 2 * np.eye(3, 5))
    np.testing.assert_array_equal(fi.initialize("eye", (4, 2)), np.eye(4, 2))
    d = fi.initialize("dirac", (4, 2, 4, 4), layout="torch", groups=2)
    assert (
        d.sum() == 4
        and d[0, 0, 2, 2] == 1
        and d[1, 1, 2, 2] == 1
        and d[2, 0, 2, 2] == 1
        and d[3, 1, 2, 2] == 1
    )
    k = fi.initialize("delta_orthogonal", (4, 4, 3, 6), dtype="float64")  # Keras/JAX HWIO layout
    centre = k[1, 1]  # (k - 1) // 2 = 1
    np.testing.assert_allclose(centre @ centre.T, np.eye(3), atol=1e-12)
    assert np.count_nonzero(k) == np.count_nonzero(centre)
    even = fi.initialize("delta_orthogonal", (4, 4, 3, 6), dtype="float64")
    assert np.count_nonzero(even[1, 1]) == 18  # centre (4 - 1) // 2 = 1, unlike dirac's 4 // 2 = 2


def test_sparse_torch_and_martens():
    w = fi.initialize("sparse", (40, 30), layout="torch", sparsity=0.25, std=0.5, dtype="float64")
    assert np.all((w == 0).sum(axis=0) == math.ceil(0.25 * 40))
    m = fi.initialize("sparse_martens", (100, 20), k=15, dtype="float64")
    assert np.all((m != 0).sum(axis=0) == 15)
    nz = m[m != 0]
    assert stats.kstest(nz, "norm").pvalue > 1e-3


def test_fans_all_layouts():
    assert fi.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert fi.compute_fans((32, 16, 3, 3), layout="torch") == (144, 288)
    assert fi.compute_fans((3, 3, 16, 32), layout="jax") == (144, 288)
    assert fi.compute_fans((10, 3, 16, 32), layout="jax", batch_axis=0) == (48, 96)  # rf = 3
    assert fi.compute_fans((10, 16, 32), layout="jax", batch_axis=0) == (16, 32)
    assert fi.compute_fans((5,)) == (5, 5) and fi.compute_fans(()) == (1, 1)
    assert fi.compute_fans((128, 256), layout="torch") == (256, 128)
    with pytest.raises(ValueError, match="rank >= 2"):
        fi.compute_fans((5,), layout="torch")
    # layout changes fans, and so the scale
    w_torch = fi.initialize("kaiming_normal", (400, 100), layout="torch", dtype="float64")
    assert abs(w_torch.std() - math.sqrt(2 / 100)) < 0.03 * math.sqrt(2 / 100)


@pytest.mark.parametrize("nl,param,gain", [
    ("linear", None, 1), ("conv1d", None, 1), ("conv2d", None, 1), ("conv3d", None, 1),
    ("conv_transpose1d", None, 1), ("conv_transpose2d", None, 1), ("conv_transpose3d", None, 1),
    ("sigmoid", None, 1), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))), ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
    ("leaky_relu", 0, math.sqrt(2))])
def test_calculate_gain(nl, param, gain):
    assert fi.calculate_gain(nl, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_rejects():
    with pytest.raises(ValueError, match="gelu"):
        fi.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope"):
        fi.calculate_gain("leaky_relu", True)


def test_names_resolve_by_owner_and_prefix():
    g = fi.get_initializer
    assert g("HeNormal").name == g("he_normal").name == g("keras.HeNormal").name == "he_normal"
    assert g("kaiming_normal_").name == "kaiming_normal" != g("he_normal").name
    assert g("jax.kaiming_normal").name == "he_normal"
    assert g("jax.uniform").name == "jax.uniform" and g("uniform").name == "uniform"
    assert g("torch.uniform").name == "uniform" and g("torch.orthogonal").name == "orthogonal"
    spec = {
        "class_name": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": 7},
    }
    init = g(spec)
    assert init.get_config()["scale"] == 2.0 and init.default_seed == 7
    assert g({"name": "random_uniform", "minval": -0.5, "maxval": 0.5}).label == \
        "random_uniform(maxval=0.5,minval=-0.5)"
    assert set(fi.initializer_names()) >= {"he_normal", "kaiming_normal", "jax.uniform", "delta_orthogonal",
                                           "sparse_martens", "lsuv", "torch_default", "kwon_relu_normal"}


def test_keras_normal_is_truncated_jax_normal_is_not():
    k = fi.initialize("variance_scaling", (500, 400), distribution="normal", dtype="float64")
    j = fi.initialize("jax.variance_scaling", (500, 400), distribution="normal", dtype="float64")
    limit = 2 * math.sqrt(1 / 500) / TRUNC_STD_2
    assert abs(k).max() <= limit < abs(j).max()


def test_reproducible_and_common_random_numbers():
    a = fi.initialize("glorot_normal", (64, 64), seed=4, tensor_id=3)
    np.testing.assert_array_equal(a, fi.initialize("glorot_normal", (64, 64), seed=4, tensor_id=3))
    assert not np.array_equal(a, fi.initialize("glorot_normal", (64, 64), seed=5, tensor_id=3))
    assert not np.array_equal(a, fi.initialize("glorot_normal", (64, 64), seed=4, tensor_id=3, trial=1))
    g = fi.initialize("glorot_normal", (64, 64), seed=4, dtype="float64")
    h = fi.initialize("he_normal", (64, 64), seed=4, dtype="float64")
    np.testing.assert_allclose(h / g, math.sqrt(2 / 64) / math.sqrt(2 / 128), rtol=1e-12)
    x = fi.initialize("xavier_normal", (64, 64), seed=4, dtype="float64")
    k = fi.initialize("kaiming_normal", (64, 64), seed=4, dtype="float64")
    np.testing.assert_allclose(k / x, math.sqrt(2 / 64) / math.sqrt(2 / 128), rtol=1e-12)


def test_initializer_object_and_keras_seed():
    init = fi.get_initializer("random_uniform", minval=-1.0, maxval=1.0)
    assert init.get_config() == {"minval": -1.0, "maxval": 1.0}
    np.testing.assert_array_equal(init((5, 5), seed=1), init((5, 5), seed=1))


BAD = [
    (lambda: fi.get_initializer("he_normla"), ValueError, "did you mean 'he_normal'"),
    (lambda: fi.get_initializer("glorot_uniform", scale=2), ValueError, "unknown parameter.*scale"),
    (lambda: fi.get_initializer("variance_scaling", scale=-1.0), ValueError, "scale=-1.0"),
    (lambda: fi.get_initializer("random_normal", stddev=0), ValueError, "stddev=0"),
    (
        lambda: fi.get_initializer("random_uniform", minval=1.0, maxval=0.5),
        ValueError,
        "minval=1.0 must be < maxval",
    ),
    (lambda: fi.get_initializer("variance_scaling", mode="fan_sum"), ValueError, "mode='fan_sum'"),
    (lambda: fi.get_initializer("kaiming_normal", nonlinearity="gelu"), ValueError, "gelu"),
    (lambda: fi.get_initializer("sparse"), ValueError, "sparsity"),
    (lambda: fi.get_initializer(3), TypeError, "initializer must be"),
    (lambda: fi.initialize("identity", (3, 3, 3)), ValueError, "2-D shape"),
    (lambda: fi.initialize("dirac", (3, 3)), ValueError, "3-, 4- or 5-D"),
    (lambda: fi.initialize("delta_orthogonal", (3, 3, 8, 4)), ValueError, "in channels <= out"),
    (lambda: fi.initialize("he_normal", (0, 3)), ValueError, "positive dimensions"),
    (lambda: fi.initialize("he_normal", (-2, 3)), ValueError, "positive dimensions"),
    (lambda: fi.initialize("he_normal", (3, 3), dtype="float16"), TypeError, "dtype='float16'"),
    (lambda: fi.initialize("he_normal", (3, 3), dtype="int32"), TypeError, "dtype='int32'"),
    (lambda: fi.initialize("he_normal", (3, 3), seed=-1), ValueError, "seed=-1"),
    (lambda: fi.initialize("he_normal", (3, 3), layout="caffe"), ValueError, "layout='caffe'"),
    (lambda: fi.initialize("trunc_normal", (3, 3), a=6.0, b=5.0), ValueError, "a=6.0 must be < b=5.0"),
    (lambda: fi.initialize("trunc_normal", (3, 3), std=1e-300, a=1e10, b=2e10), ValueError, "lower < upper"),
    (lambda: fi.initialize("lsuv", (3, 3)), ValueError, "data-dependent"),
    (lambda: fi.initialize("sparse_martens", (10, 3), k=15), ValueError, "k=15 exceeds fan_in=10"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- Keras 3 configs, serialize() output and aliases ---------------------------------------------
def test_compute_fans_keras_input_output_axes():
    assert fi.compute_fans((3, 3, 16, 32), input_axes=[0, 1], output_axes=[3]) == (9, 32)
    # one of them alone is ignored, as in Keras 3 (recorded in tests/data/frameworks/keras.json)
    assert fi.compute_fans((3, 3, 16, 32), input_axes=[0, 1]) == (144, 288)
    assert fi.compute_fans((3, 3, 16, 32), output_axes=-1) == (144, 288)
    with pytest.raises(ValueError, match="input_axes"):
        fi.compute_fans((16, 32), input_axes=[2], output_axes=[1])


@pytest.mark.parametrize("class_name,scale,mode", [
    ("VarianceScaling", 2.0, "fan_in"), ("GlorotNormal", 1.0, "fan_avg"), ("GlorotUniform", 1.0, "fan_avg"),
    ("HeNormal", 2.0, "fan_in"), ("HeUniform", 2.0, "fan_in"), ("LecunNormal", 1.0, "fan_in"),
    ("LecunUniform", 1.0, "fan_in")])
def test_keras3_config_input_output_axes(class_name, scale, mode):
    config = {"seed": None, "input_axes": None, "output_axes": None}
    if class_name == "VarianceScaling":
        config.update(scale=2.0, mode="fan_in", distribution="truncated_normal")
    shape = (3, 3, 16, 32)
    default = fi.get_initializer({"class_name": class_name, "config": config})
    plain = {k: v for k, v in config.items() if k not in ("input_axes", "output_axes")}
    plain = fi.get_initializer({"class_name": class_name, "config": plain})
    assert default.label == plain.label  # None is the default rule
    assert default.plan(shape) == plain.plan(shape)
    init = fi.get_initializer({"class_name": class_name,
                               "config": {**config, "seed": 5, "input_axes": [0, 1], "output_axes": [3]}})
    assert init.default_seed == 5
    n = {"fan_in": 9, "fan_avg": (9 + 32) / 2}[mode]
    a = init.plan(shape).args
    if "Uniform" in class_name:
        assert a == pytest.approx((-math.sqrt(3 * scale / n), math.sqrt(3 * scale / n)))
    else:
        assert a == pytest.approx((0.0, math.sqrt(scale / n) / TRUNC_STD_2, -2.0, 2.0))
    w = init(shape, dtype="float64")
    assert w.shape == shape
    with pytest.raises(ValueError, match="input_axes"):
        fi.get_initializer(class_name, input_axes="rows")


SERIALIZED = [
    ("Zeros", {}), ("Ones", {}), ("Constant", {"value": 0.5}),
    ("RandomNormal", {"mean": 0.0, "stddev": 0.05, "seed": None}),
    ("RandomUniform", {"minval": -0.05, "maxval": 0.05, "seed": None}),
    ("TruncatedNormal", {"mean": 0.0, "stddev": 0.05, "seed": 3}),
    ("VarianceScaling", {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None,
                         "input_axes": None, "output_axes": None}),
    ("Orthogonal", {"gain": 1.0, "seed": None}), ("Identity", {"gain": 1.0}),
    ("LecunUniform", {"seed": None, "input_axes": None, "output_axes": None}),
    ("LecunNormal", {"seed": None}), ("GlorotUniform", {"seed": None}), ("GlorotNormal", {"seed": None}),
    ("HeUniform", {"seed": None}), ("HeNormal", {"seed": 1, "input_axes": None, "output_axes": None}),
]


def test_serialized_covers_every_keras_class():
    from fastinit.initializers import _KERAS_CLASSES
    assert {c for c, _ in SERIALIZED} == set(_KERAS_CLASSES.values())


@pytest.mark.parametrize("registered", [None, "class"])
@pytest.mark.parametrize("class_name,config", SERIALIZED, ids=[c for c, _ in SERIALIZED])
def test_keras_serialize_output_resolves(class_name, config, registered):
    from fastinit.initializers import _KERAS_CLASSES
    spec = {"module": "keras.initializers", "class_name": class_name, "config": config,
            "registered_name": class_name if registered else None}
    init = fi.get_initializer(spec)
    assert _KERAS_CLASSES[init.name] == class_name
    assert init.default_seed == config.get("seed")
    with pytest.raises(ValueError, match="registered_name"):
        fi.get_initializer({**spec, "registered_name": "my_package>MyInit"})


def test_keras_serialize_rejects_foreign_module():
    with pytest.raises(ValueError, match="module='torch.nn.init'"):
        fi.get_initializer({"module": "torch.nn.init", "class_name": "HeNormal", "config": {}})


@pytest.mark.parametrize("alias,name", [
    ("keras.normal", "random_normal"), ("keras.uniform", "random_uniform"), ("keras.one", "ones"),
    ("keras.zero", "zeros"), ("keras.ones", "ones"), ("keras.zeros", "zeros"),
    ("keras.IdentityInitializer", "identity"), ("keras.OrthogonalInitializer", "orthogonal"),
    ("keras.identity", "identity"), ("keras.orthogonal", "orthogonal"),
    ("keras.random_normal", "random_normal"),
    ("keras.RandomNormal", "random_normal"), ("keras.random_uniform", "random_uniform"),
    ("keras.truncated_normal", "truncated_normal"), ("keras.TruncatedNormal", "truncated_normal"),
    ("keras.constant", "constant"), ("keras.variance_scaling", "variance_scaling"),
    ("keras.glorot_normal", "glorot_normal"), ("keras.GlorotUniform", "glorot_uniform"),
    ("keras.he_normal", "he_normal"), ("keras.HeUniform", "he_uniform"),
    ("keras.lecun_normal", "lecun_normal"),
    ("keras.LecunUniform", "lecun_uniform"), ("one", "ones"), ("zero", "zeros"),
    ("IdentityInitializer", "identity"), ("OrthogonalInitializer", "orthogonal"),
    ("normal", "normal"), ("uniform", "uniform"), ("torch.normal", "normal"),
])
def test_keras_aliases(alias, name):
    assert fi.get_initializer(alias).name == name


def test_keras_normal_uniform_defaults_and_plain_names_follow_pytorch():
    from fastinit.initializers import describe
    assert fi.get_initializer("keras.normal").plan((4, 4)).args == (0.0, 0.05)
    assert fi.get_initializer("keras.uniform").plan((4, 4)).args == (-0.05, 0.05)
    assert fi.get_initializer("normal").plan((4, 4)).args == (0.0, 1.0)
    assert fi.get_initializer("uniform").plan((4, 4)).args == (0.0, 1.0)
    assert "PyTorch" in describe("normal") and "keras.normal" in describe("normal")
    assert "PyTorch" in describe("uniform") and "keras.uniform" in describe("uniform")


# --- JAX -----------------------------------------------------------------------------------------
def test_jax_variance_scaling_fan_geo_avg():
    init = fi.get_initializer("jax.variance_scaling", mode="fan_geo_avg", distribution="normal", scale=2.0)
    assert init.plan((4, 9)).args == pytest.approx((0.0, math.sqrt(2.0 / 6.0)))
    u = fi.get_initializer("jax.variance_scaling", mode="fan_geo_avg", distribution="uniform")
    assert u.plan((3, 3, 4, 9)).args == pytest.approx((-math.sqrt(3 / 54), math.sqrt(3 / 54)))
    with pytest.raises(ValueError, match="fan_geo_avg"):
        fi.get_initializer("variance_scaling", mode="fan_geo_avg")  # Keras has no such mode


JAX_SHORTCUTS = [
    ("he_normal", 2.0, "fan_in", "truncated_normal"), ("kaiming_uniform", 2.0, "fan_in", "uniform"),
    ("glorot_normal", 1.0, "fan_avg", "truncated_normal"), ("xavier_uniform", 1.0, "fan_avg", "uniform"),
    ("lecun_normal", 1.0, "fan_in", "truncated_normal"), ("lecun_uniform", 1.0, "fan_in", "uniform"),
]


@pytest.mark.parametrize("name,scale,mode,dist", JAX_SHORTCUTS, ids=[s[0] for s in JAX_SHORTCUTS])
def test_jax_shortcuts_take_axes(name, scale, mode, dist):
    shape = (5, 3, 7)
    init = fi.get_initializer(f"jax.{name}", in_axis=1, out_axis=0, batch_axis=())
    vs = fi.get_initializer("jax.variance_scaling", scale=scale, mode=mode, distribution=dist, in_axis=1,
                            out_axis=0)
    assert init.plan(shape) == vs.plan(shape)
    fan_in, fan_out = 3 * 7, 5 * 7
    n = fan_in if mode == "fan_in" else (fan_in + fan_out) / 2
    a = init.plan(shape).args
    if dist == "uniform":
        assert a == pytest.approx((-math.sqrt(3 * scale / n), math.sqrt(3 * scale / n)))
    else:  # JAX's shortcuts are truncated normals, like Keras's
        assert a == pytest.approx((0.0, math.sqrt(scale / n) / TRUNC_STD_2, -2.0, 2.0))
    np.testing.assert_array_equal(init(shape, seed=2), vs(shape, seed=2))
    batched = fi.get_initializer(f"jax.{name}", batch_axis=0)
    assert batched.plan((10, 16, 32)) == fi.get_initializer(f"jax.{name}").plan((16, 32))
    # without axes: the Keras entry, unchanged
    vs_default = fi.get_initializer("jax.variance_scaling", scale=scale, mode=mode, distribution=dist)
    assert fi.get_initializer(f"jax.{name}").plan((3, 3, 16, 32)) == vs_default.plan((3, 3, 16, 32))
    with pytest.raises(ValueError, match="unknown parameter"):
        fi.get_initializer(f"jax.{name}", in_axis=1, scale=3.0)


# --- structured shapes, seeds, LSUV bases ------------------------------------------------------
@pytest.mark.parametrize("name", ["orthogonal", "jax.orthogonal", "torch.orthogonal"])
@pytest.mark.parametrize("shape", [(5,), ()])
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_orthogonal_rank_below_2_raises(name, shape, layout):
    with pytest.raises(ValueError, match="rank >= 2"):
        fi.initialize(name, shape, layout=layout)


@pytest.mark.parametrize("name,params", [("he_normal", {}), ("uniform", {}), ("orthogonal", {}),
                                         ("sparse", {"sparsity": 0.3})])
def test_seeds_up_to_2_64(name, params):
    layout = "torch" if name == "sparse" else "keras"
    small = fi.initialize(name, (40, 30), seed=1, layout=layout, **params)  # small seeds first (dispatch)
    for seed in (2 ** 63, 2 ** 64 - 1):
        w = fi.initialize(name, (40, 30), seed=seed, layout=layout, **params)
        assert np.isfinite(w).all() and not np.array_equal(w, small)
        np.testing.assert_array_equal(w, fi.initialize(name, (40, 30), seed=np.uint64(seed), layout=layout,
                                                       **params))
    with pytest.raises(ValueError, match="seed="):
        fi.initialize(name, (40, 30), seed=2 ** 64, layout=layout, **params)


def test_lsuv_base_with_parameters():
    spec = {"name": "lsuv", "base": {"name": "random_normal", "stddev": 0.1}}
    init = fi.get_initializer(spec)
    assert init.label == "lsuv(base=random_normal(stddev=0.1))"
    assert init.sampled == fi.get_initializer("random_normal", stddev=0.1)
    assert init.sampled.plan((4, 4)).args == (0.0, 0.1)
    assert init.get_config()["base"] == {"name": "random_normal", "stddev": 0.1}
    assert fi.get_initializer({"name": "lsuv", **init.get_config()}) == init  # the config resolves again
    keras_base = fi.get_initializer({"name": "lsuv", "base": {"class_name": "RandomNormal",
                                                              "config": {"stddev": 0.1, "seed": None}}})
    assert keras_base == init
    assert fi.get_initializer(init, tol=0.05).sampled == init.sampled
    # plain-name bases keep their label and stay names
    assert fi.get_initializer({"name": "lsuv", "base": "glorot_normal"}).params["base"] == "glorot_normal"
    assert fi.get_initializer({"name": "lsuv", "base": "orthogonal"}).label == "lsuv"


# --- Keras's seed argument as a keyword -----------------------------------------------------------

def _keras_seeded_classes():
    """The Keras classes whose recorded get_config() has a seed (tests/data/frameworks/keras.json)."""
    import json
    import pathlib
    data = json.loads((pathlib.Path(__file__).parent / "data" / "frameworks" / "keras.json").read_text())
    return {e["class_name"] for e in data["initializers"] if "seed" in e["config"]}


def test_keras_seeded_set_is_the_recorded_one():
    from fastinit.initializers import _KERAS_CLASSES
    assert {_KERAS_CLASSES[n] for n in _KERAS_SEEDED} == _keras_seeded_classes()


@pytest.mark.parametrize("name", sorted(_KERAS_SEEDED))
def test_seed_keyword_is_the_dict_forms_seed(name):
    from fastinit.initializers import _KERAS_CLASSES
    cls = _KERAS_CLASSES[name]
    params = {"minval": -0.3, "maxval": 0.2} if name == "random_uniform" else {}
    shape = (12, 10)
    plain = fi.get_initializer(name, **params)
    for spelling in (cls, name, f"keras.{cls}", f"keras.initializers.{cls}"):
        kw = fi.get_initializer(spelling, seed=4, **params)
        as_dict = fi.get_initializer({"class_name": spelling, "config": {**params, "seed": 4}})
        own = fi.get_initializer({"name": spelling, "seed": 4, **params})
        for init in (kw, as_dict, own):
            assert init.default_seed == 4 and init.label == plain.label and init == plain
            assert init.params == plain.params and init.plan(shape) == plain.plan(shape)
            # no parameter: a stream seed given to the call draws what it draws without seed=4
            for s in (0, 9):
                np.testing.assert_array_equal(init(shape, seed=s, dtype="float64"),
                                              plain(shape, seed=s, dtype="float64"))
        # the default stream seed of a direct call, as the dict's seed is
        np.testing.assert_array_equal(kw(shape), as_dict(shape))
        np.testing.assert_array_equal(kw(shape), plain(shape, seed=4))
        assert fi.get_initializer(spelling, seed=None, **params).default_seed is None
        # the keyword wins over a dict's seed, as keywords win over its other entries
        dict_and_keyword = fi.get_initializer({"class_name": cls, "config": {**params, "seed": 4}}, seed=5)
        assert dict_and_keyword.default_seed == 5
    # a resolved initializer given more parameters keeps its seed
    assert fi.get_initializer(fi.get_initializer(name, seed=4, **params), **params).default_seed == 4


@pytest.mark.parametrize("seed", [-1, 1.5, "x", True, 2 ** 64, [4]])
def test_bad_seed_keyword_refused(seed):
    for spec in ("HeNormal", "he_normal", "keras.Orthogonal"):
        with pytest.raises(ValueError, match=r"seed=") as e:
            fi.get_initializer(spec, seed=seed)
        assert "seed" in str(e.value)
    with pytest.raises(ValueError, match=r"'he_normal': seed="):
        fi.get_initializer({"class_name": "HeNormal", "config": {"seed": seed}})


@pytest.mark.parametrize("name", ["zeros", "Ones", "constant", "Identity", "kaiming_normal", "uniform",
                                  "jax.normal", "lsuv"])
def test_seed_keyword_only_where_keras_has_one(name):
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['seed'\]"):
        fi.get_initializer(name, seed=4)


def test_initialize_seed_is_the_stream_seed():
    shape = (16, 8)
    base = fi.get_initializer("HeNormal")
    w3 = fi.initialize("HeNormal", shape, seed=3)
    np.testing.assert_array_equal(w3, base(shape, seed=3))
    assert not np.array_equal(w3, fi.initialize("HeNormal", shape, seed=4))
    # an initializer's own seed (a Keras dict's, or fastinit's dict) does not override initialize's
    for spec in ({"class_name": "HeNormal", "config": {"seed": 4}}, {"name": "he_normal", "seed": 4}):
        np.testing.assert_array_equal(fi.initialize(spec, shape, seed=3), w3)
    # nor does it reach simulate, whose streams are keyed by its own seed
    kw = {"depth": 2, "width": 8, "batch": 8, "seed": 1}
    import pandas as pd
    pd.testing.assert_frame_equal(fi.simulate(fi.get_initializer("HeNormal", seed=4), "relu", **kw),
                                  fi.simulate("he_normal", "relu", **kw))


# --- parameters beyond the float range ---------------------------------------------------------

def test_parameter_beyond_the_float_range_refused():
    # math.isfinite(10**400) raises OverflowError: the checks said nothing of the parameter
    with pytest.raises(ValueError, match="value=.* must be a finite number"):
        fi.get_initializer("constant", value=10 ** 400)
    with pytest.raises(ValueError, match="stddev=.* must be a finite number > 0"):
        fi.get_initializer("random_normal", stddev=-10 ** 400)


def test_uniform_bounds_beyond_float32_quietly_infinite():
    from fastinit.initializers import Plan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = Plan("uniform", (-1e300, 1e300)).kernel_params("float32")
    assert p[0] == -1e300 and p[1] == 1e300 and p[2] == np.finfo(np.float32).max
