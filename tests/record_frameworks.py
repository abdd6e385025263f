"""Record, from the real Keras 3 and JAX packages, the spellings and semantics that
``test_spellings.py`` checks fastinit against (``tests/data/frameworks/{keras,jax}.json``).

Run in an environment with keras (3.x) and jax, not fastinit's own (the test suite does not need
them)::

    python -m venv /tmp/fw && /tmp/fw/bin/pip install keras jax jaxlib
    /tmp/fw/bin/python tests/record_frameworks.py

No random numbers are recorded (each framework has its own generator). Instead the calls that an
initializer makes to its framework's random functions are captured, with their arguments
(Keras: ``mean``, ``stddev``, ``minval``, ``maxval``; JAX: ``lower``, ``upper``, ``minval``), and
the factor JAX multiplies the draws by is read from the output for draws replaced by ones. What
is deterministic (fans, constants, identity matrices, the scale of an orthogonal matrix, where
delta-orthogonal puts its matrix) is recorded as computed.
"""
from __future__ import annotations

import inspect
import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "numpy")

OUT = Path(__file__).parent / "data" / "frameworks"

#: Weight shapes (Keras/JAX layout: ..., in, out) each initializer is called with.
SHAPES = [(16, 32), (3, 3, 16, 32), (7,), (5, 2, 3)]
SHAPES_2D = [(16, 32), (40, 12)]


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, type):
        return v.__name__
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return repr(v)


def _deterministic(value) -> dict:
    """A deterministic output: its values if small, else its min, max, sum and nonzero count."""
    import numpy as np
    value = np.asarray(value, dtype=np.float64)
    if value.size <= 512:
        return {"value": value.tolist()}
    return {"value_summary": {"min": float(value.min()), "max": float(value.max()), "sum": float(value.sum()),
                              "nonzero": int(np.count_nonzero(value))}}


class _Capture:
    """Replace functions ``names`` of ``module`` by recorders of their arguments that return
    ``make(original, bound_arguments)``."""

    def __init__(self, module, names, make):
        self.module, self.names, self.make, self.calls = module, names, make, []

    def __enter__(self):
        self.saved = {n: getattr(self.module, n) for n in self.names}
        for n in self.names:
            setattr(self.module, n, self._recorder(n, self.saved[n]))
        return self.calls

    def _recorder(self, name, original):
        sig = inspect.signature(original)

        def record(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            skip = ("key", "seed", "dtype", "out_sharding")
            args_ = {k: v for k, v in bound.arguments.items() if k not in skip}
            self.calls.append({"fn": name, **_jsonable(args_)})
            return self.make(original, bound)
        return record

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(self.module, n, f)


def record_keras() -> dict:
    import keras
    import numpy as np
    from keras.src import initializers as ki
    from keras.src.initializers import random_initializers as kr

    aliases = {k: v.__name__ for k, v in sorted(ki.ALL_OBJECTS_DICT.items()) if v is not ki.Initializer}
    # constructor arguments beyond the defaults, to see parameters travel through the configs
    variants = {
        "Constant": [{"value": 0.5}],
        "RandomNormal": [{"mean": 0.3, "stddev": 2.0, "seed": 7}],
        "RandomUniform": [{"minval": -0.2, "maxval": 0.3}],
        "TruncatedNormal": [{"mean": -0.1, "stddev": 0.4, "seed": 3}],
        "VarianceScaling": [{"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"},
                            {"scale": 0.5, "mode": "fan_avg", "distribution": "uniform"},
                            {"distribution": "normal"},
                            {"scale": 3.0, "input_axes": [0, 1], "output_axes": [-1]},
                            {"input_axes": [0, 1]}],
        "Orthogonal": [{"gain": 2.0}],
        "Identity": [{"gain": 3.0}],
        "HeNormal": [{"seed": 4}],
    }
    def rows(init, cls_name):
        shapes = SHAPES_2D if cls_name == "Identity" else [s for s in SHAPES
                                                          if cls_name != "Orthogonal" or len(s) >= 2]
        out = []
        for shape in shapes:
            with _Capture(kr.random, ("normal", "uniform", "truncated_normal"),
                          lambda f, b: f(*b.args, **b.kwargs)) as calls:
                try:
                    value = init(shape, dtype="float64")
                except Exception as e:        # axes beyond the rank
                    out.append({"shape": list(shape), "error": type(e).__name__})
                    continue
            row = {"shape": list(shape),
                   "fans": list(kr.compute_fans(shape, getattr(init, "input_axes", None),
                                                getattr(init, "output_axes", None))),
                   "calls": calls}
            if not calls:                     # deterministic: constants, identity
                row.update(_deterministic(value))
            elif cls_name == "Orthogonal":    # the scale of the orthogonal matrix
                m = np.asarray(value).reshape(-1, shape[-1])
                g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
                row["gram_scale"] = float(math.sqrt(np.mean(np.diag(g))))
            out.append(row)
        return out

    entries = []
    for cls_name in sorted(set(aliases.values())):
        cls = getattr(keras.initializers, cls_name)
        for args in [{}] + variants.get(cls_name, []):
            init = cls(**args)
            serialized = keras.initializers.serialize(init)
            entry = {"class_name": cls_name, "args": _jsonable(args), "config": _jsonable(init.get_config()),
                     "serialized": _jsonable(serialized)}
            if cls_name == "STFT":      # a DFT kernel for audio layers: recorded, not called
                entries.append(entry)
                continue
            entry["shapes"] = rows(init, cls_name)
            # what an initializer made from the config does, where that differs (a parameter that
            # get_config() leaves out)
            from_config = rows(keras.initializers.get(serialized), cls_name)
            if from_config != entry["shapes"]:
                entry["config_shapes"] = from_config
            entries.append(entry)
    return {"keras_version": keras.__version__, "backend": keras.backend.backend(), "aliases": aliases,
            "initializers": entries}


def record_jax() -> dict:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from jax._src import random as jr
    from jax._src.nn import initializers as ji

    names = {}
    for name in sorted(dir(jax.nn.initializers)):
        obj = getattr(jax.nn.initializers, name)
        if name.startswith("_") or isinstance(obj, type) or not callable(obj):
            continue
        params = inspect.signature(obj).parameters
        direct = "key" in params            # zeros, ones: initializers themselves, not factories
        names[name] = {"kind": "initializer" if direct else "factory",
                       "defaults": {} if direct else {k: _jsonable(p.default) for k, p in params.items()
                                                      if p.default is not inspect.Parameter.empty}}

    variants = {
        "constant": [{"value": 0.5}], "uniform": [{}, {"scale": 0.3}], "normal": [{}, {"stddev": 0.2}],
        "truncated_normal": [{}, {"stddev": 0.3, "lower": -1.0, "upper": 3.0}],
        "variance_scaling": [{"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"},
                             {"scale": 1.0, "mode": "fan_avg", "distribution": "normal"},
                             {"scale": 0.5, "mode": "fan_out", "distribution": "uniform"},
                             {"scale": 2.0, "mode": "fan_geo_avg", "distribution": "normal"},
                             {"scale": 1.0, "mode": "fan_in", "distribution": "normal", "in_axis": 1,
                              "out_axis": 0},
                             {"scale": 1.0, "mode": "fan_in", "distribution": "normal", "batch_axis": 0}],
        "orthogonal": [{}, {"scale": 2.0}, {"column_axis": 0}],
        "delta_orthogonal": [{}],
    }
    for n in ("glorot_normal", "glorot_uniform", "lecun_normal", "lecun_uniform", "he_normal", "he_uniform",
              "kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"):
        variants[n] = [{}, {"in_axis": 1, "out_axis": 0}]
    key = jax.random.key(0)
    entries = []
    for name, info in names.items():
        for args in ([{}] if info["kind"] == "initializer" else variants.get(name, [{}])):
            init = getattr(jax.nn.initializers, name)
            init = init if info["kind"] == "initializer" else init(**args)
            entry = {"name": name, "args": _jsonable(args), "shapes": []}
            shapes = [(3, 3, 4, 6), (5, 4, 8)] if name == "delta_orthogonal" else \
                [s for s in SHAPES if "orthogonal" not in name or len(s) >= 2]
            for shape in shapes:
                if "orthogonal" in name:            # QR of real draws; their scale and layout
                    w = np.asarray(init(key, shape, jnp.float64))
                    row = {"shape": list(shape)}
                    if name == "orthogonal":
                        ax = args.get("column_axis", -1) % len(shape)
                        m = np.moveaxis(w, ax, -1).reshape(-1, shape[ax])
                        g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
                        row["gram_scale"] = float(math.sqrt(np.mean(np.diag(g))))
                    else:
                        nz = np.argwhere(np.abs(w).reshape(-1, *w.shape[-2:]).sum(axis=(1, 2)) > 0).ravel()
                        row["nonzero_spatial_index"] = np.unravel_index(int(nz[0]), w.shape[:-2])
                        row["nonzero_spatial_index"] = [int(i) for i in row["nonzero_spatial_index"]]
                    entry["shapes"].append(row)
                    continue
                with _Capture(jr, ("normal", "uniform", "truncated_normal"),
                              lambda f, b: jnp.ones(b.arguments["shape"], jnp.float64)) as calls:
                    try:
                        w = np.asarray(init(key, shape, jnp.float64))
                    except Exception as e:        # e.g. a fan rule that needs rank >= 2
                        entry["shapes"].append({"shape": list(shape), "error": type(e).__name__})
                        continue
                row = {"shape": list(shape), "calls": calls}
                if calls:       # the draws were ones: the output is the factor they are scaled by
                    row["multiplier"] = float(w.ravel()[0])
                else:
                    row.update(_deterministic(w))
                try:
                    in_axis, out_axis, batch_axis = (args.get(k, d) for k, d in
                                                     (("in_axis", -2), ("out_axis", -1), ("batch_axis", ())))
                    row["fans"] = [float(f) for f in ji._compute_fans(shape, in_axis, out_axis, batch_axis)]
                except Exception:
                    pass
                entry["shapes"].append(row)
            entries.append(entry)
    return {"jax_version": jax.__version__, "names": names, "initializers": entries}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, fn in (("keras", record_keras), ("jax", record_jax)):
        data = fn()
        (OUT / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {OUT / f'{name}.json'}: {len(data['initializers'])} initializer configurations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
