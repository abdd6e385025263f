"""The forward and forward+backward statistics kernels, one network and many."""
import numpy as np
import pandas as pd

import fastinit as fi
from fastinit.engine import make_shape, make_variant, run_group
from fastinit.kernels import METRICS
from fastinit.rng import INPUT_TENSOR, PROBE_TENSOR

from ._common import naive


def _check_against_naive():
    widths = [6, 7, 5]
    df = fi.simulate("glorot_normal", "tanh", widths=widths, batch=4, dtype="float64")
    ws = [
        fi.initialize("glorot_normal", (widths[l - 1], widths[l]), tensor_id=l, dtype="float64")
        for l in (1, 2)
    ]
    bs = [np.zeros(w) for w in widths[1:]]
    x0 = naive.normals(0, 0, INPUT_TENSOR, 24).reshape(4, 6)
    g = naive.normals(0, 0, PROBE_TENSOR, 20).reshape(4, 5)
    ref = pd.DataFrame(
        naive.network(ws, bs, x0, "tanh", 0.0, g, sat=fi.get_activation("tanh").saturation_level)
    )
    np.testing.assert_allclose(
        df[ref.columns.drop(["jac_sq_mean", "jac_sq_var", "jac_min", "jac_max"])],
        ref[ref.columns.drop(["jac_sq_mean", "jac_sq_var", "jac_min", "jac_max"])],
        rtol=1e-10,
    )


class Network:
    params = ([32, 128, 512], [8, 64], [False, True])
    param_names = ["width", "depth", "backward"]
    timeout = 180

    def setup(self, width, depth, backward):
        _check_against_naive()
        self.shape = make_shape(depth, width, batch=128, backward=backward)
        self.variant = [make_variant("he_normal", "tanh")]
        run_group(self.shape, self.variant)

    def time_one_network(self, width, depth, backward):
        run_group(self.shape, self.variant)


class Batched:
    """48 networks of one shape in one parallel call (8 initializers x 6 activations)."""
    params = [32, 128]
    param_names = ["width"]

    def setup(self, width):
        _check_against_naive()
        inits = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "orthogonal",
                 "truncated_normal", "random_uniform"]
        acts = ["tanh", "relu", "sigmoid", "linear", "leaky_relu", "selu"]
        self.shape = make_shape(16, width, batch=64)
        self.variants = [make_variant(i, a) for i in inits for a in acts]
        run_group(self.shape, self.variants)

    def time_48_networks(self, width):
        run_group(self.shape, self.variants)

    def track_metric_count(self, width):
        return len(METRICS)


class NetworkUnitClasses:
    """Which units share incoming weights, for 8 weight rows of 8 layers (found once per row)."""
    params = [16, 256, 1024]
    param_names = ["width"]

    def setup(self, width):
        from fastinit.kernels import unit_classes
        rng = np.random.default_rng(0)
        w = rng.standard_normal((3, 4)).astype(np.float32)[:, [0, 1, 0, 2]]     # units 0 and 2 share weights
        cls = unit_classes(np.array([3, 4]), w.reshape(1, -1), np.empty((1, 4), np.int64))[0]
        assert cls[0] == cls[2] >= 0 and cls[1] == cls[3] == -1
        self.widths = np.full(9, width, dtype=np.int64)
        self.weights = rng.standard_normal((8, 8 * width * width)).astype(np.float32)
        self.out = np.empty((8, 8 * width), np.int64)
        unit_classes(self.widths, self.weights, self.out)

    def time_unit_classes(self, width):
        from fastinit.kernels import unit_classes
        unit_classes(self.widths, self.weights, self.out)


class NetworkGemm:
    """A 32 x 16 x 16 product (a small-width layer) 10,000 times: kernels' gemm against np.dot."""

    def setup(self):
        import numba

        from fastinit.kernels.blas import gemm

        @numba.njit
        def by_gemm(a, b, c, reps):
            blas = np.empty(6)
            for _ in range(reps):
                gemm(a, False, b, False, c, blas)
            return c

        @numba.njit
        def by_dot(a, b, c, reps):
            for _ in range(reps):
                np.dot(a, b, c)
            return c

        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((32, 16)).astype(np.float32)
        self.b = rng.standard_normal((16, 16)).astype(np.float32)
        self.c = np.empty((32, 16), np.float32)
        self.by_gemm, self.by_dot = by_gemm, by_dot
        np.testing.assert_array_equal(
            by_gemm(self.a, self.b, self.c.copy(), 1), by_dot(self.a, self.b, self.c, 1)
        )

    def time_gemm(self):
        self.by_gemm(self.a, self.b, self.c, 10_000)

    def time_np_dot(self):
        self.by_dot(self.a, self.b, self.c, 10_000)
