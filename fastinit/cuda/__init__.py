"""The CUDA backend (optional extra ``cuda``: numba-cuda), imported lazily.

Everything that touches numba-cuda lives in this package, so moving to another CUDA target is this
package's work alone. The scalar device functions (Philox, the samplers, phi and phi') are the
CPU kernels' own, from :mod:`fastinit.rng` and :mod:`fastinit.activations`, not copies.

Built so far: the random streams on the device (:mod:`.sampling`), bit-identical to the CPU.
Statistics and training kernels on the device are not built yet; ``backend="cuda"`` is not offered
by ``simulate``, ``sweep`` or ``train``.

:func:`require` is the one check of what a device run needs, with a message naming what is missing.
"""
from __future__ import annotations

import os


class CudaUnavailable(RuntimeError):
    """The CUDA backend was asked for, and what it needs is missing (the message says what)."""


def require():
    """Return ``numba.cuda`` ready to launch kernels on a device (or the simulator under
    ``NUMBA_ENABLE_CUDASIM=1``), or raise :class:`CudaUnavailable` naming what is missing: the
    numba-cuda package, a CUDA driver, or a device."""
    try:
        import numba_cuda  # noqa: F401  (the NVIDIA package; numba's built-in target is deprecated)
        from numba import cuda
    except ImportError:
        raise CudaUnavailable('the CUDA backend needs numba-cuda: pip install "fastinit[cuda]"') from None
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return cuda
    try:
        available = cuda.is_available()
    except Exception as e:   # the driver library itself failed to load
        raise CudaUnavailable(f"the CUDA backend found no usable CUDA driver: {e}") from None
    if not available:
        raise CudaUnavailable("the CUDA backend found no CUDA driver or no CUDA device "
                              "(numba.cuda.is_available() is False; see numba.cuda.detect())")
    return cuda
