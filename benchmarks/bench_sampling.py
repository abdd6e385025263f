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


class FillLayersRows:
    """Base normals of 64 groups' 16 layers of 16 x 16 weights in one parallel call (a chunk of a
    small-width sweep), and of 2 groups' 8 layers of 1024 x 1024."""
    params = [16, 1024]
    param_names = ["width"]

    def setup(self, width):
        from fastinit.kernels import fill_layers_rows

        row = fill_layers_rows(
            np.array([3, 2]), np.array([5], np.uint64), np.array([0], np.uint64), 0, np.empty((1, 6))
        )
        np.testing.assert_allclose(row[0], naive.normals(5, 0, 1, 6), rtol=1e-12)
        n_rows, depth = (64, 16) if width == 16 else (2, 8)
        self.widths = np.full(depth + 1, width, dtype=np.int64)
        self.seeds = np.arange(n_rows, dtype=np.uint64)
        self.trials = np.zeros(n_rows, dtype=np.uint64)
        self.out = np.empty((n_rows, depth * width * width))
        fill_layers_rows(self.widths, self.seeds, self.trials, 0, self.out)

    def time_fill_layers_rows(self, width):
        from fastinit.kernels import fill_layers_rows
        fill_layers_rows(self.widths, self.seeds, self.trials, 0, self.out)
