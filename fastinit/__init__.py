"""fastinit: a Numba-accelerated simulation engine for the study of weight initialization.

>>> import fastinit as fi
>>> W = fi.initialize("he_normal", (256, 128), seed=0)
>>> df = fi.simulate("he_normal", "relu", depth=30, width=256)

Names are imported on first use (``import fastinit`` itself loads neither Numba nor pandas), so
the command line starts fast.
"""
from __future__ import annotations

import importlib

from ._version import __version__
from .simulate import simulate  # light, like the sweep package: both import the engine when called
from .sweep import load, sweep
from .train import train

#: Public name -> the module that defines it (None: the name is a submodule).
_LAZY = {"activation_names": "activations", "calculate_gain": "activations", "get_activation": "activations",
         "compute_fans": "fans", "get_initializer": "initializers", "initialize": "initializers",
         "initializer_names": "initializers", "clear_caches": "engine", "make_task": "tasks",
         "engine": None, "kernels": None, "rng": None, "tasks": None, "theory": None}

__all__ = ["__version__", "load", "simulate", "sweep", "train", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fastinit' has no attribute {name!r}")
    module = importlib.import_module(f"fastinit.{_LAZY[name] or name}")
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
