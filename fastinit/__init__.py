"""fastinit: a Numba-accelerated simulation engine for the study of weight initialization.

>>> import fastinit as fi
>>> W = fi.initialize("he_normal", (256, 128), seed=0)
>>> df = fi.simulate("he_normal", "relu", depth=30, width=256)
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import kernels, rng
from .activations import activation_names, calculate_gain, get_activation
from .fans import compute_fans
from .initializers import get_initializer, initialize, initializer_names
from .simulate import simulate
from .sweep import load, sweep  # rebinds the name ``sweep`` from the subpackage to the function

__all__ = ["activation_names", "calculate_gain", "compute_fans", "get_activation", "get_initializer",
           "initialize", "initializer_names", "kernels", "rng", "simulate", "sweep", "load", "theory"]


def __getattr__(name):
    # theory imports lazily: it is not needed to sample or simulate.
    if name == "theory":
        import importlib
        return importlib.import_module("fastinit.theory")
    raise AttributeError(f"module 'fastinit' has no attribute {name!r}")
