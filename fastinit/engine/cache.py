"""The engine's caches, owned by one object: bounded, counted, clearable.

Two things are worth keeping between kernel calls: orthogonal matrices (a layer's matrix does not
depend on depth, initializer scale or activation, so a sweep over those reuses it; QR is the
expensive part) and the fill parameters of an initializer at a list of layer sizes. Everything
else a call needs is allocated for it and freed with it.
"""
from __future__ import annotations

import collections
import threading

import numpy as np

from ..kernels.orthogonal import orthogonal_matrices

#: Default bound on the bytes of cached orthogonal matrices.
ORTHOGONAL_BYTES = 256 * 2 ** 20
#: Default bound on the number of cached fill-parameter tables.
PARAM_ENTRIES = 4096


class Cache:
    """Orthogonal matrices (least recently used dropped beyond ``orthogonal_bytes``) and fill
    parameters (at most ``param_entries``, oldest dropped first). Thread-safe."""

    def __init__(self, orthogonal_bytes: int = ORTHOGONAL_BYTES, param_entries: int = PARAM_ENTRIES):
        self.orthogonal_bytes = orthogonal_bytes
        self.param_entries = param_entries
        self._orthogonal: collections.OrderedDict = collections.OrderedDict()
        self._orthogonal_held = 0
        self._params: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes the cache holds now (what the memory estimate counts)."""
        return self._orthogonal_held + sum(p.nbytes for _, p in self._params.values())

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._orthogonal.clear()
            self._orthogonal_held = 0
            self._params.clear()

    def orthogonal(
        self, shapes: np.ndarray, seed: int, trial: int, tensor_ids: np.ndarray
    ) -> list[np.ndarray]:
        """:func:`fastinit.kernels.orthogonal.orthogonal_matrices`, through the cache (read-only arrays)."""
        seed, trial = int(seed), int(trial)
        shapes = np.asarray(shapes, dtype=np.int64)
        keys = [(seed, trial, t, r, c) for (r, c), t in zip(shapes.tolist(), np.asarray(tensor_ids).tolist())]
        with self._lock:
            missing = [i for i, k in enumerate(keys) if k not in self._orthogonal]
        if missing:
            made = orthogonal_matrices(shapes[missing], seed, trial, np.asarray(tensor_ids)[missing])
        with self._lock:
            for i, m in zip(missing, made if missing else ()):
                m.flags.writeable = False
                if keys[i] not in self._orthogonal:
                    self._orthogonal[keys[i]] = m
                    self._orthogonal_held += m.nbytes
            out = [self._orthogonal[k] for k in keys]
            for k in keys:
                self._orthogonal.move_to_end(k)
            while self._orthogonal_held > self.orthogonal_bytes and len(self._orthogonal) > len(keys):
                self._orthogonal_held -= self._orthogonal.popitem(last=False)[1].nbytes
        return out

    def params(self, key, make):
        """The fill code and parameters stored under ``key``, made by ``make()`` when missing."""
        with self._lock:
            found = self._params.get(key)
        if found is None:
            found = make()
            with self._lock:
                self._params[key] = found
                while len(self._params) > self.param_entries:
                    self._params.popitem(last=False)
        return found


#: The cache of the default engine (what ``fastinit.clear_caches`` clears).
DEFAULT = Cache()


def clear_caches() -> None:
    """Drop every cached orthogonal matrix, fill-parameter table and resolved name."""
    from ..activations import _cached_activation
    from ..initializers import _cached_initializer
    DEFAULT.clear()
    _cached_initializer.cache_clear()
    _cached_activation.cache_clear()
