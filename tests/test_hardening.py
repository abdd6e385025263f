"""Hardening: specs that were accepted and failed later (or silently did the wrong thing), theory
arguments that gave numbers for nonsense, the memory estimate against the measured peak, and two
writers on one result folder."""
from __future__ import annotations

import re

import pytest

from fastinit.sweep import SpecError, load_spec, plan_sweep

BASE = {"grid": {"initializer": ["he_normal"], "activation": ["relu"]},
        "settings": {"depth": 2, "width": 4, "batch": 4}}


def _spec(grid=None, settings=None, **top):
    """BASE with these grid and settings entries (None removes one) and top-level keys."""
    def merged(a, b):
        return {k: v for k, v in {**a, **(b or {})}.items() if v is not None}
    return {**BASE, **top, "grid": merged(BASE["grid"], grid), "settings": merged(BASE["settings"], settings)}


def _refusal(spec) -> str:
    with pytest.raises(SpecError) as e:
        load_spec(spec)
    return str(e.value)


# --- 1. duplicate grid values, top-level keys -----------------------------------------------------

def test_duplicate_seeds_refused_with_key_paths():
    msg = _refusal(_spec({"seed": [0, 1, 0]}))
    assert "grid.seed[0]" in msg and "grid.seed[2]" in msg and "duplicate" in msg
    assert "grid.seed[1]" not in msg


def test_spellings_of_one_initializer_are_duplicates():
    msg = _refusal(_spec({"initializer": ["he_normal", "glorot_uniform", "HeNormal", "keras.he_normal"]}))
    line = next(line for line in msg.splitlines() if "grid.initializer" in line)
    for path in ("grid.initializer[0]", "grid.initializer[2]", "grid.initializer[3]"):
        assert path in line
    assert "grid.initializer[1]" not in line and "he_normal" in line


def test_duplicates_compared_by_canonical_form():
    # activations by label, dicts as names, numbers by value, bias initializers by label
    msg = _refusal(_spec({"activation": ["relu", {"name": "relu"}], "input_corr": [0, 0.0],
                          "bias_initializer": ["zeros", "Zeros"], "widths": [[4, 4], [4, 4]]},
                         {"depth": None, "width": None}))
    for key in ("activation", "input_corr", "bias_initializer", "widths"):
        assert f"grid.{key}[0]" in msg and f"grid.{key}[1]" in msg, key
    # distinct values are not duplicates; kaiming_normal (untruncated) is not he_normal (truncated)
    load_spec(_spec({"initializer": ["he_normal", "kaiming_normal"], "seed": [0, 1],
                     "input_corr": [0.0, 0.5]}))


def test_duplicates_and_other_errors_reported_together():
    msg = _refusal(_spec({"seed": [1, 1], "depth": [0]}, {"depth": None}))
    assert "grid.seed[0]" in msg and "grid.depth[0]" in msg


@pytest.mark.parametrize("value", [5, ["a"], {"text": "x"}, None, True])
def test_description_must_be_a_string(value):
    assert "description" in _refusal(_spec(description=value))
    load_spec(_spec(description="a sweep of he_normal"))


def test_name_must_be_a_string():
    assert "name" in _refusal(_spec(name=3))


# --- 2. cross-field errors with key paths ---------------------------------------------------------

@pytest.mark.parametrize("corr", [0.5, 0.0])
def test_input_corr_with_odd_batch_refused_by_load_spec(corr):
    msg = _refusal(_spec({"input_corr": [corr], "batch": [4, 3]}, {"batch": None}))
    assert f"grid.input_corr[0]={corr} with grid.batch[1]=3" in msg
    assert "grid.batch[0]" not in msg
    msg = _refusal(_spec(None, {"input_corr": corr, "batch": 5}))
    assert f"settings.input_corr={corr} with settings.batch=5" in msg


def test_input_corr_with_non_normal_input_refused_by_load_spec():
    msg = _refusal(_spec({"input": ["normal", "uniform01"]}, {"input_corr": 0.5}))
    assert "settings.input_corr=0.5 with grid.input[1]='uniform01'" in msg
    assert "grid.input[0]" not in msg


def test_depth_disagreeing_with_widths_refused():
    # depth = 5 with widths of 2 layers was accepted and the table's depth column said 5
    msg = _refusal({"grid": {"initializer": ["he_normal"], "activation": ["relu"], "depth": [2, 5],
                             "widths": [[4, 4, 4]]}})
    assert "grid.depth[1]=5 with grid.widths[0]" in msg and "grid.depth[0]" not in msg
    load_spec({"grid": {"initializer": ["he_normal"], "activation": ["relu"], "depth": [2],
                        "widths": [[4, 4, 4]]}})


def _plan_refusal(spec) -> str:
    with pytest.raises(SpecError) as e:
        plan_sweep(spec)
    return str(e.value)


@pytest.mark.parametrize("init,match", [
    ({"name": "random_uniform", "minval": 1.0, "maxval": 1.00000001},
     "bounds 1.0, 1.00000001 are equal in float32"),
    ("dirac", "3-, 4- or 5-D"),
    ("delta_orthogonal", "3-, 4- or 5-D"),
    ({"name": "sparse_martens", "k": 20}, "k=20 exceeds fan_in=8"),
])
def test_undrawable_initializer_named_by_key_path(init, match):
    spec = {"grid": {"initializer": ["he_normal", "glorot_normal", init], "activation": ["relu"],
                     "seed": [0, 1]},
            "settings": {"depth": 3, "width": 8, "batch": 4, "chunk_size": 1}}
    msg = _plan_refusal(spec)
    lines = msg.splitlines()[1:]
    assert len(lines) == 1, msg                         # one line per problem
    assert lines[0].strip().startswith("grid.initializer[2]"), msg
    assert match in msg and "layer 1 (8 x 8)" in msg
    assert "np.float" not in msg and "np.int" not in msg


def test_undrawable_bias_initializer_named_by_key_path():
    bad = {"name": "random_uniform", "minval": 1.0, "maxval": 1.00000001}
    msg = _plan_refusal({"grid": {"initializer": ["he_normal"], "activation": ["relu"],
                                  "bias_initializer": ["zeros", bad]},
                         "settings": {"depth": 3, "width": 8, "batch": 4}})
    assert "grid.bias_initializer[1]" in msg and "the biases of layer 1" in msg and "np.float" not in msg
    msg = _plan_refusal({"grid": {"initializer": ["he_normal"], "activation": ["relu"]},
                         "settings": {"depth": 3, "width": 8, "batch": 4, "bias_initializer": bad}})
    assert "settings.bias_initializer" in msg


def test_every_undrawable_entry_of_a_chunk_is_named():
    spec = {"grid": {"initializer": ["dirac", "he_normal", "delta_orthogonal"], "activation": ["relu"]},
            "settings": {"depth": 3, "width": 8, "batch": 4}}
    msg = _plan_refusal(spec)
    assert "grid.initializer[0]" in msg and "grid.initializer[2]" in msg
    assert len(re.findall(r"^  grid\.initializer", msg, re.M)) == 2, msg


# --- 4. the memory estimate bounds the measured peak ---------------------------------------------

_PEAK_SCRIPT = r'''
import gc, json, sys
import fastinit as fi
from fastinit import engine
from fastinit.sweep import plan_sweep
from fastinit.sweep.plan import chunk_memory, compute_chunk

def resident():
    with open("/proc/self/status") as f:
        d = {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in f)
             if k in ("VmRSS", "VmHWM")}
    return d["VmRSS"], d["VmHWM"]

def peak(run):
    """Bytes the resident set grows by at most while ``run()`` runs (its high-water mark reset)."""
    fi.clear_caches()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = resident()[0]
    run()
    return resident()[1] - before

out = []
for case in json.loads(sys.argv[1]):
    if "spec" in case:
        _, parts = plan_sweep(case["spec"])
        compute_chunk(parts[0])                                   # compile / load the kernels
        c = max(parts, key=chunk_memory)
        fi.clear_caches()
        estimate = chunk_memory(c)
        out.append((estimate, peak(lambda: compute_chunk(c))))
    else:
        init, act, kw = case["init"], case["act"], case["kw"]
        fi.simulate(init, act, **{**kw, "width": 8})
        fi.clear_caches()
        shape = engine.make_shape(**kw)
        estimate = engine.memory_estimate(shape, stored=engine.stored_bytes(shape, [init]), n_groups=1,
                                          cache=engine.DEFAULT, initializers=[init], n_networks=1)
        out.append((estimate, peak(lambda: fi.simulate(init, act, **kw))))
print(json.dumps(out))
'''

_PEAK_CASES = [
    {"init": "he_normal", "act": "relu", "kw": {"depth": 8, "width": 1024, "batch": 64}},
    # the case, smaller: the orthogonal matrices go to the cache and were copied whole
    {"init": "orthogonal", "act": "tanh", "kw": {"depth": 8, "width": 1024, "batch": 64}},
    {"init": "orthogonal", "act": "tanh", "kw": {"depth": 4, "width": 512, "batch": 64, "dtype": "float64"}},
    {"init": "lsuv", "act": "tanh", "kw": {"depth": 4, "width": 512, "batch": 64}},
    {"init": "he_normal", "act": "tanh", "kw": {"depth": 4, "width": 512, "batch": 64, "jacobian": True}},
    # batch > width: the Gram matrices (batch^2 each) are never used, so never touched
    {"init": "he_normal", "act": "tanh", "kw": {"depth": 4, "width": 64, "batch": 4096}},
    {"spec": {"grid": {"initializer": ["he_normal", "orthogonal"], "activation": ["relu", "tanh"],
                       "depth": [4, 8], "seed": [0, 1]}, "settings": {"width": 512, "batch": 64}}},
    # many small configurations: the table's rows dominate
    {"spec": {"grid": {"initializer": ["he_normal", "glorot_uniform", "orthogonal", "lecun_normal"],
                       "activation": ["relu", "tanh", "sigmoid"], "depth": [2, 4, 8, 16, 32, 64],
                       "seed": list(range(8))}, "settings": {"width": 16, "batch": 32, "theory": True}}},
]


def test_memory_estimate_bounds_the_measured_peak():
    import json
    import os
    import subprocess
    import sys
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the resident high-water mark")
    # glibc: large blocks mmapped and returned when freed, so the resident set follows the arrays
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    run = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, json.dumps(_PEAK_CASES)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    bad = [f"{case}: estimate {est / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB"
           for case, (est, peak) in zip(_PEAK_CASES, json.loads(run.stdout.splitlines()[-1]))
           if not peak <= est < 4 * peak]
    assert not bad, "\n".join(bad)
