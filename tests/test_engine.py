"""The engine's owned state: a bounded, clearable cache counted in the memory estimate, fresh
arrays per call, and the thread count restored after every call."""
from __future__ import annotations

import numba
import numpy as np

import fastinit as fi
from fastinit import engine
from fastinit.engine.cache import Cache


def _ortho_call(cache, seed=0):
    shape = engine.make_shape(4, 8, batch=4, seed=seed)
    return engine.plan_call([(shape, [engine.make_variant("orthogonal", "tanh")])], cache=cache)


def test_cache_is_bounded_counted_and_clearable():
    cache = Cache(orthogonal_bytes=3 * 8 * 8 * 8)      # room for three 8 x 8 matrices
    _ortho_call(cache)
    assert cache.nbytes >= 3 * 8 * 8 * 8            # the call's four layers stay while they are in use ...
    _ortho_call(cache, seed=1)
    assert cache._orthogonal_held <= 4 * 8 * 8 * 8  # ... and older ones are dropped beyond the bound
    shape = engine.make_shape(4, 8, batch=4)
    assert engine.memory_estimate(shape, cache=cache) - engine.memory_estimate(shape) == cache.nbytes
    cache.clear()
    assert cache.nbytes == 0


def test_cached_and_uncached_calls_give_the_same_tables():
    a = _ortho_call(Cache())
    b = _ortho_call(Cache(orthogonal_bytes=0, param_entries=0))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_calls_do_not_share_memory():
    a, b = _ortho_call(engine.DEFAULT), _ortho_call(engine.DEFAULT)
    assert not np.shares_memory(a.weights, b.weights) and not np.shares_memory(a.x0, b.x0)


def test_thread_count_restored_after_a_call():
    before = numba.get_num_threads()
    shape = engine.make_shape(2, 8, batch=4)
    engine.run_groups([(shape, [engine.make_variant("he_normal", "relu")])], threads=1)
    assert numba.get_num_threads() == before
    fi.sweep({"grid": {"initializer": ["he_normal"], "activation": ["relu"]},
              "settings": {"depth": 2, "width": 8, "batch": 4}}, threads=1, progress=False)
    assert numba.get_num_threads() == before


def test_clear_caches_empties_the_default_cache():
    _ortho_call(engine.DEFAULT)
    assert engine.DEFAULT.nbytes > 0
    fi.clear_caches()
    assert engine.DEFAULT.nbytes == 0
