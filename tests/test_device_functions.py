"""The scalar device functions (Philox, samplers, phi and phi') are callable from a ``@cuda.jit``
kernel, as ``rng.py`` and ``_config.py`` claim. CI has no GPU: this runs under the CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, set in a subprocess before numba.cuda is imported), which checks the
calls and their arguments but not device compilation; the real-device check is the CUDA issue's.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import numpy as np
    from numba import cuda

    from fastinit import activations as A, rng

    @cuda.jit
    def kernel(words, uni, nrm, act):
        i = cuda.grid(1)
        if i < words.shape[0]:
            w = rng.philox4x32_10(i, 0, 0, 0, 7, 0)
            words[i, 0] = w[0]
            words[i, 3] = w[3]
            uni[i] = rng.uniform(11, 2, 3, i, 0)
            nrm[i] = rng.standard_normal(11, 2, 3, i, 0)
            act[i, 0], act[i, 1] = A.phi_dphi(A.TANH, nrm[i], 0.0)

    n = 8
    words, uni, nrm, act = np.zeros((n, 4), np.uint32), np.zeros(n), np.zeros(n), np.zeros((n, 2))
    kernel[1, n](words, uni, nrm, act)
    for i in range(n):
        w = rng.philox4x32_10(i, 0, 0, 0, 7, 0)
        assert words[i, 0] == w[0] and words[i, 3] == w[3], i
        assert uni[i] == rng.uniform(11, 2, 3, i, 0)
        assert nrm[i] == rng.standard_normal(11, 2, 3, i, 0)
        assert tuple(act[i]) == A.phi_dphi(A.TANH, nrm[i], 0.0)
    print("device functions ok")
""")


@pytest.mark.cuda
def test_scalar_device_functions_in_a_cuda_kernel():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "device functions ok" in run.stdout
