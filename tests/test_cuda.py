"""The CUDA backend under the simulator (NUMBA_ENABLE_CUDASIM=1, set in a subprocess before numba is
imported; CI runs these in their own pytest invocation with numba-cuda installed): Philox words on
the device against the Random123 known answers, standard uniforms bit-identical to the CPU kernels,
normal, truncated-normal and scaled samples within 2 ulp of their scale (the CPU contracts
multiply-adds into FMAs, as NVVM does on a GPU; the simulator, running the device code as Python,
does not), with the
fraction that is bit-identical reported; the clear error when numba-cuda is missing."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from test_rng import KATS

pytestmark = pytest.mark.cuda

SCRIPT = textwrap.dedent("""
    import numpy as np
    from fastinit.cuda import sampling as cs
    from fastinit.initializers import get_initializer
    from fastinit.kernels import sampling as ks

    kats = {kats!r}
    got = cs.philox([c for c, _, _ in kats], [k for _, k, _ in kats])
    for (c, k, expected), row in zip(kats, got):
        assert tuple(int(x) for x in row) == expected, (c, k, row, expected)

    n, seed = 37, 2**64 - 5
    for dtype in ("float32", "float64"):      # standard uniforms: integer words and one exact scaling
        dev = cs.fill(n, ks.UNIFORM, (0.0, 1.0, 1.0 - 2.0**-24, 0.0), dtype, seed, 3, 11)
        cpu = np.empty(n, dtype)
        ks.fill_uniform(cpu, np.uint64(seed), 3, 11)
        assert np.array_equal(dev, cpu), (dtype, dev - cpu)
    identical = total = 0
    for spec in ("he_uniform", "glorot_normal", "truncated_normal", "ones", "random_normal",
                 {{"name": "trunc_normal", "a": 2.5, "b": 6.0}},
                 {{"name": "trunc_normal", "a": 10.0, "b": 20.0}}):
        for dtype in ("float32", "float64"):
            plan = get_initializer(spec).plan((n, 1))
            p = plan.kernel_params(dtype)
            dev = cs.fill(n, plan.code, p, dtype, seed, 3, 11)
            cpu = np.empty(n, dtype)
            ks.fill(cpu, plan.code, *p, np.uint64(seed), 3, 11)
            scale = np.maximum(np.abs(cpu), max(abs(p[0]), abs(p[1]))).astype(dtype)   # a - b cancels near 0
            ulps = np.abs(dev - cpu) / np.spacing(scale)
            assert ulps.max() <= 2, (spec, dtype, ulps.max())
            identical += int((dev == cpu).sum())
            total += n
    print(f"cuda sampling ok: {{identical}} of {{total}} samples bit-identical, the rest within 2 ulp")
""")


def _run(script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=900)


def test_streams_on_the_device_equal_the_cpu():
    pytest.importorskip("numba_cuda")
    run = _run(SCRIPT.format(kats=KATS), {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "cuda sampling ok" in run.stdout
    print(run.stdout)


def test_missing_numba_cuda_is_named():
    script = textwrap.dedent("""
        import sys
        sys.modules["numba_cuda"] = None
        from fastinit.cuda import CudaUnavailable, require
        try:
            require()
        except CudaUnavailable as e:
            print(e)
    """)
    run = _run(script, {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"})
    assert 'needs numba-cuda: pip install "fastinit[cuda]"' in run.stdout, run.stderr[-2000:]
