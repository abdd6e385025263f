import math

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
@pytest.mark.parametrize("init,act,bias", [("glorot_normal", "tanh", {"name": "random_normal", "stddev": 0.2}),
                                           ("he_normal", "relu", "zeros"),
                                           ("lecun_normal", "selu", "zeros"),
                                           ({"name": "random_normal", "stddev": 0.06}, "tanh", "zeros")])
def test_theory_matches_wide_simulation(init, act, bias):
    """Width-1000 networks: mean over seeds within 4 standard errors plus 2% (finite-width bias)."""
    sims = [fi.simulate(init, act, depth=6, width=1000, batch=64, seed=s, bias_initializer=bias, input_corr=0.4)
            for s in range(4)]
    pred = T.predict(init, act, depth=6, width=1000, bias_initializer=bias, input_corr=0.4)
    for col in ("preact_sq", "pair_corr", "delta_sq"):
        vals = np.array([s[col] for s in sims])
        mean, se = vals.mean(0), vals.std(0, ddof=1) / 2
        assert np.all(np.abs(mean - pred[col]) <= 4 * se + 0.02 * np.abs(pred[col])), col


def test_sweep_theory_columns():
    spec = {"grid": {"initializer": ["he_normal"], "activation": ["relu", "tanh"], "depth": [3], "width": [16]},
            "settings": {"batch": 8, "theory": True, "input_corr": 0.5}}
    df = fi.sweep(spec, progress=False)
    assert {"preact_sq_theory", "pair_corr_theory", "delta_sq_theory"} <= set(df.columns)
    pred = T.predict("he_normal", "relu", depth=3, width=16, input_corr=0.5)
    np.testing.assert_allclose(df[df.activation == "relu"]["preact_sq_theory"], pred["preact_sq"])
