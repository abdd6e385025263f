import math
import warnings

import numpy as np
import pytest

import fastinit as fi
from fastinit import theory as T

ACTS = [a for a in fi.activation_names()]


def _mc(act, q1, q2, c, n=400_000, seed=0):
    rs = np.random.default_rng(seed)
    z1, z2 = rs.standard_normal(n), rs.standard_normal(n)
    u1 = math.sqrt(q1) * z1
    u2 = math.sqrt(q2) * (c * z1 + math.sqrt(1 - c * c) * z2)
    from fastinit.activations import evaluate
    return evaluate(act, u1) * evaluate(act, u2), evaluate(act, u1) ** 2


@pytest.mark.parametrize("act", ACTS)
def test_maps_agree_with_monte_carlo(act):
    """qmap and cmap against brute-force Monte Carlo; tolerance 5 standard errors of the MC mean."""
    sw, sb, q, c = 1.7, 0.1, 0.8, 0.6
    prod, sq = _mc(act, q, q, c)
    mc_q = sw * sq.mean() + sb
    assert abs(T.qmap(act, sw, sb, q) - mc_q) < 5 * sw * sq.std() / math.sqrt(sq.size)
    mc_q12 = sw * prod.mean() + sb
    q12 = T.cmap(act, sw, sb, q, c) * T.qmap(act, sw, sb, q)
    assert abs(q12 - mc_q12) < 5 * sw * prod.std() / math.sqrt(prod.size)


@pytest.mark.parametrize("c", [-0.9, -0.3, 0.0, 0.5, 0.99])
def test_relu_closed_forms(c):
    q, sw, sb = 1.3, 1.6, 0.2
    assert T.qmap("relu", sw, sb, q) == pytest.approx(sw * q / 2 + sb, rel=1e-12)
    theta = math.acos(c)
    q12 = sw * q / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * c) + sb   # arc-cosine kernel
    assert T.cmap("relu", sw, sb, q, c) == pytest.approx(q12 / (sw * q / 2 + sb), rel=1e-10)


@pytest.mark.parametrize("c", [-0.5, 0.2, 0.8])
def test_erf_and_linear_closed_forms(c):
    q, sw, sb = 0.7, 2.0, 0.05
    q11 = q
    e_sq = 2 / math.pi * math.asin(2 * q11 / (1 + 2 * q11))
    e_pair = 2 / math.pi * math.asin(2 * c * q / (1 + 2 * q))
    assert T.qmap("erf", sw, sb, q) == pytest.approx(sw * e_sq + sb, rel=1e-10)
    assert T.cmap("erf", sw, sb, q, c) == pytest.approx((sw * e_pair + sb) / (sw * e_sq + sb), rel=1e-10)
    assert T.cmap("linear", sw, sb, q, c) == pytest.approx((sw * c * q + sb) / (sw * q + sb), rel=1e-12)


def test_tanh_critical_line_literature_value():
    # Schoenholz et al. 2017 (and Poole et al. 2016): sigma_w^2 ~ 1.76 at sigma_b^2 = 0.05.
    s = T.critical_sigma_w2("tanh", 0.05)
    assert abs(s - 1.76) < 0.005
    assert T.chi1("tanh", s, 0.05) == pytest.approx(1.0, abs=1e-9)
    assert T.critical_sigma_w2("tanh", 0.0) == pytest.approx(1.0, abs=1e-4)


def test_relu_critical_point_only_without_bias():
    assert T.critical_sigma_w2("relu", 0.0) == pytest.approx(2.0, rel=1e-9)
    with pytest.raises(ValueError, match="no critical point"):
        T.critical_sigma_w2("relu", 0.05)


def test_selu_lecun_fixed_point():
    # Klambauer et al. 2017: with LeCun normal weights (sigma_w^2 = 1) SELU has the fixed point (0, 1).
    assert T.fixed_point("selu", 1.0, 0.0) == pytest.approx(1.0, rel=1e-6)
    assert T.expect("selu", 1.0, 0) == pytest.approx(0.0, abs=1e-9)


def test_fixed_points_and_phases():
    assert T.fixed_point("relu", 1.0, 0.0) == 0.0
    assert T.fixed_point("relu", 2.5, 0.1) == np.inf
    assert T.fixed_point("relu", 1.5, 0.5) == pytest.approx(0.5 / (1 - 0.75), rel=1e-9)
    q = T.fixed_point("tanh", 1.5, 0.05)
    assert T.qmap("tanh", 1.5, 0.05, q) == pytest.approx(q, rel=1e-10)
    df = T.phase_diagram("tanh", [0.5, 4.0], [0.0, 0.1])
    assert list(df["phase"]) == ["ordered", "ordered", "chaotic", "chaotic"]
    assert T.correlation_fixed_point("tanh", 1.2, 0.05) == pytest.approx(1.0, abs=1e-6)
    assert T.correlation_fixed_point("tanh", 3.0, 0.05) < 0.9


def test_depth_scales():
    xi_q, xi_c = T.depth_scales("tanh", 1.3, 0.05)
    assert xi_c == pytest.approx(-1 / math.log(T.chi1("tanh", 1.3, 0.05)), rel=1e-9)   # ordered phase
    assert xi_q > 0
    near = T.depth_scales("tanh", T.critical_sigma_w2("tanh", 0.05) * 0.999, 0.05)[1]
    assert near > 10 * xi_c   # xi_c diverges at criticality


def test_gains_against_calculate_gain():
    assert T.gain("relu") == pytest.approx(fi.calculate_gain("relu"), rel=1e-12)
    assert T.gain("linear") == pytest.approx(1.0, rel=1e-12)
    assert T.gain("tanh") == pytest.approx(1.5925, abs=1e-4)     # PyTorch uses 5/3
    assert T.gain("selu") == pytest.approx(1.0, rel=1e-9)       # PyTorch uses 3/4
    assert T.gain({"name": "leaky_relu", "negative_slope": 0.2}) == pytest.approx(
        fi.calculate_gain("leaky_relu", 0.2), rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("init,act,bias", [
    ("glorot_normal", "tanh", {"name": "random_normal", "stddev": 0.2}),
    ("he_normal", "relu", "zeros"),
    ("lecun_normal", "selu", "zeros"),
    ({"name": "random_normal", "stddev": 0.06}, "tanh", "zeros")])
def test_theory_matches_wide_simulation(init, act, bias):
    """Width-1000 networks: mean over seeds within 4 standard errors plus 2% (finite-width bias)."""
    sims = [fi.simulate(init, act, depth=6, width=1000, batch=64, seed=s, bias_initializer=bias,
                        input_corr=0.4) for s in range(4)]
    pred = T.predict(init, act, depth=6, width=1000, bias_initializer=bias, input_corr=0.4)
    for col in ("preact_sq", "pair_corr", "delta_sq"):
        vals = np.array([s[col] for s in sims])
        mean, se = vals.mean(0), vals.std(0, ddof=1) / 2
        assert np.all(np.abs(mean - pred[col]) <= 4 * se + 0.02 * np.abs(pred[col])), col


def test_sweep_theory_columns():
    # several depths and seeds, cut into chunks of one network: every configuration's rows equal
    # predict for it exactly (the sweep shares each distinct network's prediction across chunks)
    spec = {"grid": {"initializer": ["he_normal", {"name": "random_normal", "stddev": 0.3}],
                     "activation": ["relu", "tanh"], "depth": [2, 5], "seed": [0, 1]},
            "settings": {"width": 16, "batch": 8, "theory": True, "input_corr": 0.5, "chunk_size": 2,
                         "bias_initializer": {"name": "constant", "value": 0.1}}}
    df = fi.sweep(spec, progress=False)
    assert df["config_id"].nunique() == 16
    for (init, act, depth), rows in df.groupby(["initializer", "activation", "depth"]):
        init_spec = spec["grid"]["initializer"][0 if init == "he_normal" else 1]
        pred = T.predict(init_spec, act, depth=depth, width=16, input_corr=0.5,
                         bias_initializer={"name": "constant", "value": 0.1})
        for _, one in rows.groupby("seed"):
            for col in T.PREDICTED:
                np.testing.assert_array_equal(
                    one[f"{col}_theory"].to_numpy(), pred[col].to_numpy(), err_msg=col
                )


def _reference_predict(init, act, widths, bias_initializer="zeros", input="normal", input_corr=None,
                       loss="probe"):
    """predict as it was before predict_many: one network, layer by layer, through the scalar maps."""
    act, init, bias = fi.get_activation(act), fi.get_initializer(init), fi.get_initializer(bias_initializer)
    L = len(widths) - 1
    q0 = float(np.mean(np.square(input))) if not isinstance(input, str) else \
        {"normal": 1.0, "uniform01": 1.0 / 3.0}[input]
    q, c = np.empty(L), np.full(L, np.nan)
    sw = np.array([T.weight_variance(init, widths[l], widths[l + 1]) for l in range(L)])
    sb = np.array([T.second_moment(bias.plan((n,)), (n,)) for n in widths[1:]])
    for l in range(L):
        if l == 0:
            q[0] = sw[0] * q0 + sb[0]
            if input_corr is not None:
                c[0] = (sw[0] * input_corr * q0 + sb[0]) / q[0]
        else:
            q[l] = T.qmap(act, sw[l], sb[l], q[l - 1])
            if input_corr is not None:
                c[l] = T.cmap(act, sw[l], sb[l], q[l - 1], c[l - 1])
        if init.is_data_dependent:
            q[l] = 1.0
    dphi2 = T.expect(act, q, 1, 1)
    delta = np.empty(L)
    delta[-1] = dphi2[-1] if loss == "probe" else T.expect(act, q[-1], 0, 0, 1, 1) + dphi2[-1]
    for l in range(L - 2, -1, -1):
        delta[l] = dphi2[l] * sw[l + 1] * widths[l + 2] / widths[l + 1] * delta[l + 1]
    return np.stack([q, c, delta], 1)


_REQUESTS = [
    {"initializer": "glorot_normal", "activation": "tanh", "widths": [16] * 9, "depths": [1, 4, 8],
     "bias_initializer": {"name": "random_normal", "stddev": 0.2}, "input_corr": 0.4},
    {"initializer": "he_normal", "activation": "relu", "widths": [8, 32, 16, 64, 8, 8, 24], "depths": [6, 2],
     "input_corr": 0.3, "loss": "mse"},
    {"initializer": "he_normal", "activation": "relu", "widths": [8, 32, 16, 64, 8], "depths": [3]},
    {"initializer": "lecun_normal", "activation": "erf", "widths": [20] * 7, "depths": [2, 6],
     "input_corr": -0.2, "input": "uniform01", "bias_initializer": {"name": "constant", "value": 0.1}},
    {"initializer": "lsuv", "activation": "tanh", "widths": [16, 32, 32, 8, 8], "depths": [1, 2, 4],
     "input_corr": 0.5, "loss": "mse"},
    {"initializer": "orthogonal", "activation": {"name": "leaky_relu", "negative_slope": 0.2},
     "widths": [10, 20, 30, 40], "depths": [3], "input_corr": 0.0},
    {"initializer": "he_normal", "activation": "gelu", "widths": [16] * 6, "depths": [5], "input_corr": 1.0},
    {"initializer": "he_normal", "activation": "hard_tanh", "widths": [16] * 6, "depths": [3, 5],
     "input": np.random.default_rng(0).standard_normal((4, 16)) * 2, "input_corr": 0.2},
    {"initializer": {"name": "random_normal", "stddev": 0.06}, "activation": "tanh", "widths": [512] * 13,
     "depths": [4, 12], "bias_initializer": {"name": "random_normal", "stddev": 0.2236}, "input_corr": 0.5},
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # huge and tiny variances overflow, in both alike
def test_gauss_nodes_equal_numpy_bit_for_bit():
    """The compiled nodes and weights are NumPy's exactly, whatever the shapes and the scratch."""
    rs = np.random.default_rng(1)
    mean = rs.standard_normal(3000) * rs.choice([0.0, 1e-3, 0.3, 1.0, 5.0, 100.0, 1e200], 3000)
    var = rs.exponential(size=3000) * rs.choice([0.0, 1e-300, 1e-12, 1e-3, 1.0, 50.0, 1e6, 1e300], 3000)
    mean[:6], var[:6] = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0], [0.0, 0.0, 0.0, 1.0, -1.0, 0.5]
    scratch = T._Scratch()
    for n in (16, 32):
        for m, v in [(mean, var), (mean.reshape(60, 50), var.reshape(60, 50)), (0.3, 2.0), (0.0, var[:7]),
                     (mean[:5], var[:5])]:
            want = T._gauss_nodes_numpy(m, v, n)
            for got in (T._gauss_nodes(m, v, n), T._gauss_nodes(m, v, n, scratch)):
                assert got[0].shape == want[0].shape
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    bad = T._gauss_nodes([np.nan, 0.0], [1.0, np.inf])     # non-finite arguments take the NumPy path
    assert np.array_equal(bad[1], T._gauss_nodes_numpy([np.nan, 0.0], [1.0, np.inf])[1], equal_nan=True)


def test_predict_many_equals_predict_bit_for_bit(monkeypatch):
    got = T.predict_many(_REQUESTS)
    singles = {}
    for r in _REQUESTS:
        kw = {k: v for k, v in r.items() if k not in ("widths", "depths")}
        singles[id(r)] = [T.predict(widths=r["widths"][:d + 1], **kw).drop(columns="layer").to_numpy()
                          for d in r["depths"]]
    # the reference runs through NumPy's nodes, as predict did before the compiled ones
    monkeypatch.setattr(T, "_gauss_nodes",
                        lambda mean, var, n=16, scratch=None: T._gauss_nodes_numpy(mean, var, n))
    for r, out in zip(_REQUESTS, got):
        assert out.shape == (len(r["depths"]), max(r["depths"]), 3)
        kw = {k: v for k, v in r.items() if k not in ("initializer", "activation", "widths", "depths")}
        for k, d in enumerate(r["depths"]):
            ref = _reference_predict(r["initializer"], r["activation"], r["widths"][:d + 1], **kw)
            assert np.array_equal(out[k, :d], ref, equal_nan=True), (r, d)
            assert np.array_equal(singles[id(r)][k], ref, equal_nan=True), (r, d)
            assert np.isnan(out[k, d:]).all()
        if r.get("input_corr") is None:
            assert np.isnan(out[:, :, 1]).all()


def _count_rows(monkeypatch):
    """Count the networks-layers that reach the length map (_qmap: qmap without its checks) and
    _pair_expect."""
    counts = {"qmap": 0, "pair": 0}
    qmap, pair = T._qmap, T._pair_expect

    def counting_qmap(act, sw, sb, q):
        counts["qmap"] += np.size(q)
        return qmap(act, sw, sb, q)

    def counting_pair(act, q1, q2, c, *args, **kw):
        counts["pair"] += np.size(q1)
        return pair(act, q1, q2, c, *args, **kw)
    monkeypatch.setattr(T, "_qmap", counting_qmap)
    monkeypatch.setattr(T, "_pair_expect", counting_pair)
    return counts


def test_predict_many_computes_each_network_once(monkeypatch):
    counts = _count_rows(monkeypatch)
    base = {"initializer": {"name": "random_normal", "stddev": 0.07}, "activation": "tanh",
            "widths": [64] * 11, "bias_initializer": {"name": "random_normal", "stddev": 0.2},
            "input_corr": 0.5}
    one = T.predict_many([base])[0]
    assert counts == {"qmap": 9, "pair": 9}
    # the same network spelled otherwise, shallower ones (one with the MSE loss), and a prefix of its widths
    same = [{**base, "activation": fi.get_activation("tanh"), "depths": [3, 10]},
            {**base, "initializer": fi.get_initializer({"name": "random_normal", "stddev": 0.07}),
             "depths": [10]},
            {**base, "widths": [64] * 5, "loss": "mse"}, base]
    counts.update(qmap=0, pair=0)
    outs = T.predict_many(same)
    assert counts == {"qmap": 9, "pair": 9}
    assert np.array_equal(outs[0][1], one[0], equal_nan=True) and np.array_equal(outs[1], one, equal_nan=True)
    assert np.array_equal(outs[0][0, :3, :2], one[0, :3, :2])
    assert outs[3] is not outs[1]                                # fresh arrays, equal values
    # other networks are not merged: a stddev that only differs past a label's 6 digits, other widths,
    # no input correlation (no c-map at all)
    other = [base, {**base, "initializer": {"name": "random_normal", "stddev": 0.0700000001}},
             {**base, "widths": [64] * 10 + [32]}, {**base, "input_corr": None}]
    assert T.get_initializer(other[1]["initializer"]).label == T.get_initializer(base["initializer"]).label
    counts.update(qmap=0, pair=0)
    outs = T.predict_many(other)
    assert counts == {"qmap": 9 * 4, "pair": 9 * 3}
    assert not np.array_equal(outs[1], outs[0])
    # a memo carries the passes from call to call (a sweep's chunks)
    memo: dict = {}
    counts.update(qmap=0, pair=0)
    first = T.predict_many(other[:2], memo=memo)
    again = T.predict_many([*same, other[1]], memo=memo)
    assert counts == {"qmap": 9 * 2, "pair": 9 * 2}
    assert np.array_equal(first[1], outs[1]) and np.array_equal(again[1], T.predict_many([same[1]])[0])
    assert np.array_equal(again[2], T.predict_many([same[2]])[0], equal_nan=True)


def test_predict_many_rejects_bad_requests():
    with pytest.raises(ValueError, match="depths"):
        T.predict_many([{"initializer": "he_normal", "activation": "relu", "widths": [4] * 4, "depths": [4]}])
    with pytest.raises(ValueError, match="unknown keys"):
        T.predict_many([{"initializer": "he_normal", "activation": "relu", "widths": [4] * 4, "seed": 3}])
    with pytest.raises(ValueError, match="lacks"):
        T.predict_many([{"initializer": "he_normal", "widths": [4] * 4}])
    with pytest.raises(TypeError, match="dict"):
        T.predict_many([("he_normal", "relu", [4] * 4)])
    assert T.predict_many([]) == []


@pytest.mark.parametrize("kwargs,name", [
    (dict(depth=2, width=0), "width"), (dict(depth=0, width=4), "depth"), (dict(depth=2, width=4.5), "width"),
    (dict(widths=[4, 0, 4]), "widths"), (dict(depth=None, width=4), "depth"),
])
def test_predict_refuses_empty_networks(kwargs, name):
    with pytest.raises(ValueError, match=name):
        T.predict("he_normal", "relu", **kwargs)
    if "widths" in kwargs:
        with pytest.raises(ValueError, match=r"requests\[0\].*widths"):
            T.predict_many([{"initializer": "he_normal", "activation": "relu", **kwargs}])


@pytest.mark.parametrize("call,name", [
    (lambda: T.chi1("tanh", sigma_w2=-1, sigma_b2=0.05), "sigma_w2"),
    (lambda: T.chi1("tanh", 1.0, 0.05, q=-1.0), "q"),
    (lambda: T.critical_sigma_w2("tanh", sigma_b2=-1), "sigma_b2"),
    (lambda: T.fixed_point("tanh", 1.0, -0.5), "sigma_b2"),
    (lambda: T.fixed_point("tanh", 1.0, 0.0, q0=-1.0), "q0"),
    (lambda: T.fixed_point("tanh", [1.0, -2.0], 0.0), r"sigma_w2\[1\]"),
    (lambda: T.qmap("tanh", 1.0, 0.0, -1.0), "q"),
    (lambda: T.qmap("tanh", np.nan, 0.0, 1.0), "sigma_w2"),
    (lambda: T.expect("tanh", -1.0, 0, 0), "q"),
    (lambda: T.cmap("tanh", 1.0, 0.0, 1.0, 1.5), "c"),
    (lambda: T.correlation_fixed_point("tanh", -1.0, 0.05), "sigma_w2"),
    (lambda: T.correlation_fixed_point("tanh", 1.0, 0.05, c0=2.0), "c0"),
    (lambda: T.depth_scales("tanh", 1.5, -0.05), "sigma_b2"),
    (lambda: T.phase_diagram("tanh", [1.0, -1.0], [0.0]), "sigma_w2"),
    (lambda: T.weight_variance("he_normal", 0, 4), "n_in"),
])
def test_negative_variances_refused(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_theory_keeps_infinite_fixed_points():
    # q* = inf is a result (the length map grows without bound) that the other functions take back
    q = T.fixed_point("relu", 2.5, 0.1)
    assert q == np.inf and np.isfinite(T.chi1("relu", 2.5, 0.1, q=q))
    assert T.depth_scales("relu", 2.0, 0.0) == (math.inf, math.inf)    # ReLU's critical point


def _chi_c(act, sw, sb):
    """chi_c computed apart from depth_scales: c* by bisection of cmap(c) - c (bracketed from 1
    downwards), the c-map's slope there by a central difference (chi_c = d cmap / dc at c*)."""
    from scipy import optimize
    q = float(T.fixed_point(act, sw, sb))
    if T.chi1(act, sw, sb) <= 1:
        return float(T.chi1(act, sw, sb))     # ordered: c* = 1, chi_c = chi_1

    def f(c):
        return float(T.cmap(act, sw, sb, q, c)) - c
    eta = 0.25
    while f(1 - eta) > 0:
        eta /= 2
    c = optimize.brentq(f, 1 - 2 * eta, 1 - eta, xtol=1e-15)
    h = (1 - c) * 1e-2
    return (float(T.cmap(act, sw, sb, q, c + h)) - float(T.cmap(act, sw, sb, q, c - h))) / (2 * h)


def test_xi_c_diverges_on_the_critical_line():
    # the correlation iteration used to stop short of c* = 1 there: xi_c was about 1000
    sb = 0.05
    sc = T.critical_sigma_w2("tanh", sigma_b2=sb)
    assert T.depth_scales("tanh", sigma_w2=sc, sigma_b2=sb)[1] > 1e6
    assert T.correlation_fixed_point("tanh", sc * (1 - 1e-3), sb) == 1.0
    # beside it, -1/ln chi_c (chi_c = chi_1 on the ordered side, the c-map's slope at c* < 1 on the
    # chaotic side) within 1e-4 relative ...
    for eps in (1e-2, 1e-4):
        for sw in (sc * (1 - eps), sc * (1 + eps)):
            xi_c = T.depth_scales("tanh", sw, sb)[1]
            assert xi_c == pytest.approx(-1 / math.log(_chi_c("tanh", sw, sb)), rel=1e-4), (eps, sw)
    # ... and growing without bound as sigma_w2 -> sigma_c: xi_c ~ 1 / |chi_1 - 1|
    for side in (-1, 1):
        xis = []
        for eps in (1e-5, 1e-7, 1e-9):
            sw = sc * (1 + side * eps)
            xis.append(T.depth_scales("tanh", sw, sb)[1])
            assert xis[-1] * abs(float(T.chi1("tanh", sw, sb)) - 1) == pytest.approx(1, rel=1e-2), (side, eps)
        assert all(b > 50 * a for a, b in zip(xis, xis[1:])) and xis[-1] > 1e8


def test_predict_refuses_unknown_inputs_and_correlations_beyond_one():
    with pytest.raises(ValueError, match="input='gaussian'"):
        T.predict("he_normal", "relu", depth=2, width=4, input="gaussian")     # was NaN
    with pytest.raises(ValueError, match="input_corr=1.5"):
        T.predict("he_normal", "relu", depth=2, width=4, input_corr=1.5)        # was a correlation > 1


# --- blown-up configurations: inf and NaN, quietly -----------------------------------------------

#: sigma_w^2 = fan_in E[w^2] beyond the largest float: every predicted value is inf or NaN.
_OVERFLOWING = [{"name": "random_uniform", "minval": -1e300, "maxval": 1e300},
                {"name": "random_uniform", "minval": -1e308, "maxval": 1e308},
                {"name": "constant", "value": 1e200}]
#: sigma_w^2 = 8e300 at width 8: finite, and q overflows from layer 2 on for unbounded activations.
_HUGE = {"name": "random_normal", "stddev": 1e150}
_BLOWUP_ACTS = ["tanh", "relu", "sigmoid", "selu", "linear"]


def _no_finite_garbage(p: np.ndarray) -> None:
    """Finite predictions of a blown-up network are numbers theory can give: q > 0, |c| <= 1,
    delta_sq >= 0 (NaN and inf are the honest values of the rest)."""
    q, c, d = p[..., 0], p[..., 1], p[..., 2]
    assert np.all(~np.isfinite(q) | (q > 0)) and np.all(~np.isfinite(c) | (np.abs(c) <= 1))
    assert np.all(~np.isfinite(d) | (d >= 0))


def test_blown_up_predictions_are_inf_or_nan_without_warnings():
    # these printed about 150 RuntimeWarnings (overflow / invalid value in multiply, subtract, divide)
    # and once raised OverflowError in second_moment; uniform +-1e300 had E[w^2] = NaN (inf - inf)
    depths = [1, 2, 3, 4, 10, 50]
    requests = [{"initializer": init, "activation": act, "widths": [8] * 51, "depths": depths,
                 "input_corr": 0.5, "loss": loss}
                for init in [*_OVERFLOWING, _HUGE] for act in _BLOWUP_ACTS for loss in ("probe", "mse")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = T.predict_many(requests)
        single = T.predict(_OVERFLOWING[0], "tanh", depth=3, width=8, input_corr=0.5)
        sw = [T.weight_variance(init, 8, 8) for init in [*_OVERFLOWING, _HUGE]]
    assert sw[:3] == [math.inf] * 3 and sw[3] == pytest.approx(8e300, rel=1e-12)
    assert not np.isfinite(single.drop(columns="layer").to_numpy()).any()
    for r, p in zip(requests, got):
        for k, d in enumerate(depths):
            rows = p[k, :d]
            if r["initializer"] in _OVERFLOWING:
                assert not np.isfinite(rows).any(), (r, d)
                assert rows[0, 0] == np.inf, (r, d)         # q overflows at layer 1 (uniform: was NaN)
            _no_finite_garbage(rows)
            if r["initializer"] is _HUGE:
                assert rows[0, 0] == sw[3]                          # layer 1: q = sigma_w^2 q0, q0 = 1
                if r["activation"] in ("relu", "linear", "selu"):   # q grows as sigma_w^2: 6.4e601 at layer 2
                    assert not np.isfinite(rows[1:, 0]).any() and (d == 1 or rows[1, 0] == np.inf), (r, d)
                else:                                               # bounded phi: q <= sigma_w^2 stays finite
                    assert np.all(np.isfinite(rows[:, 0]) & (rows[:, 0] <= sw[3])), (r, d)


def test_blown_up_arguments_of_the_theory_functions_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for act in _BLOWUP_ACTS:
            assert np.isnan(T.expect(act, math.inf, 0, 0)) and np.isnan(T.expect(act, math.inf, 1, 1))
            q, c = T.qmap(act, 1e300, 0.0, [1e300, math.inf]), T.cmap(act, 1e300, 0.0, [1e300, math.inf], 0.5)
            if act in ("tanh", "sigmoid"):      # bounded: q' <= sigma_w^2, a finite correlation
                assert 0 < q[0] <= 1e300 and -1 <= c[0] <= 1
            else:                               # q' = inf, q12' / q' = inf / inf
                assert q[0] == math.inf and np.isnan(c[0])
            assert np.isnan(q[1]) and np.isnan(c[1])
            assert T.fixed_point(act, 1e300, 0.1) == math.inf
            assert np.isfinite(T.chi1(act, 1e300, 0.1))                # the q -> inf limit (clipped)
            assert math.isnan(T.correlation_fixed_point(act, 1e300, 0.1))   # NaN at once, not 2000 steps
            assert all(math.isnan(x) for x in T.depth_scales(act, 1e300, 0.1))
            T.chi1(act, 1.7e308, 0.0, 1.0)                               # chi_1 overflows: inf or finite
            pd = T.phase_diagram(act, [1e300, 1.7e308, 1.0], [0.0, 0.1])
            assert np.all(pd["q_star"][:4] == math.inf)
        from fastinit.initializers import get_initializer
        moments = {repr(s): T.second_moment(get_initializer(s).plan((8, 8)), (8, 8)) for s in [
            *_OVERFLOWING, {"name": "random_uniform", "minval": -1.5e154, "maxval": 1.5e154},
            {"name": "orthogonal", "gain": 1.5e154}, {"name": "truncated_normal", "stddev": 1.5e154}]}
    m = list(moments.values())
    assert m[:3] == [math.inf] * 3
    # a square beyond the largest float but a finite E[w^2]: finite (were NaN, inf, inf)
    from fastinit.initializers import TRUNC_STD_2
    assert m[3] == pytest.approx(1.5e154 * (1.5e154 / 3), rel=1e-12)            # s^2 / 3
    assert m[4] == pytest.approx(1.5e154 * (1.5e154 / 8), rel=1e-12)            # gain^2 min(n) / (n_in n_out)
    assert m[5] == pytest.approx(1.5e154 * (1.5e154 * TRUNC_STD_2 ** 2), rel=1e-9) and m[5] < math.inf


def test_sweep_theory_columns_of_blown_up_configurations():
    inits = ["he_normal", *_OVERFLOWING, _HUGE]
    spec = {"grid": {"initializer": inits, "activation": _BLOWUP_ACTS, "depth": [1, 4]},
            "settings": {"width": 8, "batch": 8, "theory": True, "input_corr": 0.5}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = fi.sweep(spec, progress=False)
    labels = [fi.get_initializer(i).label for i in inits]
    cols = [f"{c}_theory" for c in T.PREDICTED]
    for (init, act, depth), rows in df.groupby(["initializer", "activation", "depth"]):
        vals = rows[cols].to_numpy()
        if init in labels[1:4]:
            assert not np.isfinite(vals).any(), (init, act, depth)
        _no_finite_garbage(vals)
        pred = T.predict(inits[labels.index(init)], act, depth=depth, width=8, input_corr=0.5)
        np.testing.assert_array_equal(vals, pred[list(T.PREDICTED)].to_numpy())
    # a healthy configuration keeps its values, bit for bit (as before the blow-ups were made quiet)
    relu = df[(df["initializer"] == "he_normal") & (df["activation"] == "relu") & (df["depth"] == 4)]
    assert relu[cols].to_numpy().ravel().tolist() == [
        2.0, 0.5, 0.5, 2.0000000000000004, 0.6089977810442293, 0.5, 2.0000000000000004, 0.683905650898706,
        0.5, 2.0000000000000004, 0.7381281923010007, 0.5]
    tanh = df[(df["initializer"] == "he_normal") & (df["activation"] == "tanh") & (df["depth"] == 4)]
    assert tanh[cols].to_numpy().ravel().tolist() == [
        2.0, 0.5, 0.3398614536249687, 1.0399514913278973, 0.4538814291232273, 0.4861994061602678,
        0.8028475487007323, 0.42687126163767924, 0.5314341418785876, 0.7094403044126508, 0.4061274735217409,
        0.5270281447198522]
