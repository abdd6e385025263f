"""fastinit: a Numba-accelerated simulation engine for the study of weight initialization.

>>> import fastinit as fi
>>> W = fi.initialize("he_normal", (256, 128), seed=0)
>>> df = fi.simulate("he_normal", "relu", depth=30, width=256)
"""
from __future__ import annotations

from . import kernels, rng
from ._version import __version__
from .activations import activation_names, calculate_gain, get_activation
from .fans import compute_fans
from .initializers import get_initializer, initialize, initializer_names
from .engine import clear_caches
from .simulate import simulate
from .sweep import load, sweep  # rebinds the name ``sweep`` from the subpackage to the function

__all__ = ["__version__", "activation_names", "calculate_gain", "clear_caches", "compute_fans", "get_activation",
           "get_initializer", "initialize", "initializer_names", "kernels", "load", "rng", "simulate", "sweep",
           "theory"]


def __getattr__(name):
    # theory imports lazily: it is not needed to sample or simulate.
    if name == "theory":
        import importlib
        return importlib.import_module("fastinit.theory")
    raise AttributeError(f"module 'fastinit' has no attribute {name!r}")
