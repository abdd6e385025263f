"""Philox throughput and weight sampling. JIT compilation happens in setup, which also checks the
kernel against the NumPy reference, so a wrong kernel is never timed."""
import numpy as np

import fastinit as fi
from fastinit.kernels import fill_normal, fill_uniform

from ._common import naive


class Philox:
    def setup(self):
        self.out = np.empty(1 << 22)
        np.testing.assert_array_equal(fill_uniform(np.empty(9), 7, 1, 2), naive.uniforms(7, 1, 2, 9))

    def time_uniform_4m(self):
        fill_uniform(self.out, 0, 0, 1)


class Fill:
    params = ([(256, 256), (1024, 1024), (4096, 4096)], ["float32", "float64"],
              ["random_uniform", "random_normal", "he_normal", "orthogonal"])
    param_names = ["shape", "dtype", "initializer"]
    timeout = 120

    def setup(self, shape, dtype, initializer):
        if initializer == "orthogonal" and shape[0] > 1024:
            raise NotImplementedError("QR of 4096 x 4096 is a LAPACK benchmark, not ours")
        w = fi.initialize(initializer, (4, 4), dtype="float64", seed=3, tensor_id=1)
        if initializer == "random_normal":
            np.testing.assert_allclose(w.ravel(), 0.05 * naive.normals(3, 0, 1, 16), rtol=1e-12)
        fi.initialize(initializer, shape, dtype=dtype)

    def time_initialize(self, shape, dtype, initializer):
        fi.initialize(initializer, shape, dtype=dtype)

    def peakmem_initialize(self, shape, dtype, initializer):
        fi.initialize(initializer, shape, dtype=dtype)


class FillNormalVsNumPy:
    """The sampling target: 4096 x 4096 float32 standard normals, fastinit against NumPy."""

    def setup(self):
        self.out = np.empty(4096 * 4096, dtype=np.float32)
        fill_normal(self.out[:8], 0, 0, 1)
        self.gen = np.random.default_rng(0)

    def time_fastinit(self):
        fill_normal(self.out, 0, 0, 1)

    def time_numpy_default_rng(self):
        self.gen.standard_normal(self.out.size, dtype=np.float32)
