"""Several hundred malformed specs and sweep options, drawn by a seeded generator: each is either
valid or refused with a ValueError / TypeError (a SpecError is one) before any file is written;
never another exception. The command line turns the refusals into one line and exit code 2."""
from __future__ import annotations

import copy
import random

import pytest

import fastinit as fi
from fastinit.sweep import plan_sweep

VALID = {"name": "fuzz",
         "grid": {"initializer": ["he_normal", {"name": "random_uniform", "minval": -0.5, "maxval": 0.5}],
                  "activation": ["tanh", {"name": "leaky_relu", "negative_slope": 0.2}], "depth": [2, 3],
                  "seed": [0, 1]},
         "settings": {"width": 4, "batch": 4, "dtype": "float32", "bias_initializer": "zeros"}}
JUNK = [None, -1, 0, 1, 2 ** 70, 10 ** 12, 1.5, -0.0, float("nan"), float("inf"), 1e309, True, False, "", "x",
        "he_normal", "relu", [], [1, 2], [[]], {}, {"name": 3},
        {"class_name": "VarianceScaling", "config": "x"}, {"name": "lsuv", "base": "lsuv"},
        {"name": "trunc_normal", "a": 5.0, "b": 5.0}, "float16", "normal",
        {"name": "random_uniform", "minval": 1.0, "maxval": 1.00000001}, [2 ** 40], "uniform01", 2 ** 31]
KEYS = ["initializer", "activation", "depth", "width", "widths", "batch", "seed", "trial", "input",
        "input_corr", "dtype", "backward", "jacobian", "loss", "bias_initializer", "theory", "chunk_size",
        "nonsense"]


def _mutants(n: int, seed: int = 0):
    rng = random.Random(seed)
    for _ in range(n):
        spec = copy.deepcopy(VALID)
        for _ in range(rng.randint(1, 3)):
            key, value = rng.choice(KEYS), rng.choice(JUNK)
            where = rng.choice(["grid", "settings", "top"])
            if where != "top" and not isinstance(spec.get(where), dict):
                continue                   # an earlier mutation replaced the whole table
            if where == "grid":
                good = VALID["grid"].get(key, [1])[0]
                spec["grid"][key] = rng.choice([value, [value], [value, value], [good, value]])
            elif where == "settings":
                spec["settings"][key] = value
            else:
                spec[rng.choice(["name", "grid", "settings", key])] = value
        yield spec


@pytest.mark.parametrize("block", range(4))
def test_malformed_specs_are_refused_cleanly(tmp_path, block):
    refused = 0
    for spec in _mutants(100, seed=block):
        try:
            plan_sweep(spec, max_memory=2 ** 30)
        except (ValueError, TypeError) as e:
            assert str(e), f"an empty message for {spec!r}"
            refused += 1
        except MemoryError as e:       # the memory check: a clear refusal, with a message
            assert "needs about" in str(e)
            refused += 1
    assert refused > 50        # the generator does produce bad specs


def test_bad_sweep_options_never_write(tmp_path):
    rng = random.Random(7)
    options = ["backend", "threads", "max_memory", "progress", "resume", "overwrite"]
    for i in range(60):
        kwargs = {rng.choice(options): rng.choice(JUNK)}
        out = tmp_path / f"o{i}"
        try:
            fi.sweep(VALID, out=out, **kwargs)
        except (ValueError, TypeError):
            assert not out.exists(), kwargs


def test_cli_refusals_are_one_line(tmp_path):
    import subprocess
    import sys
    refused = []
    for spec in _mutants(200, seed=11):
        try:
            plan_sweep(spec, max_memory=2 ** 30)
        except (ValueError, TypeError, MemoryError):
            refused.append(spec)
        if len(refused) == 6:
            break
    from fastinit.sweep.store import to_toml
    ran = 0
    for i, spec in enumerate(refused):
        try:
            text = to_toml(spec)
        except (TypeError, AttributeError):      # not writable as TOML (None, a table replaced): dict-only
            continue
        path, out = tmp_path / f"s{i}.toml", tmp_path / f"o{i}"
        path.write_text(text)
        r = subprocess.run([sys.executable, "-m", "fastinit.cli", "sweep", str(path), "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("fastinit sweep: error:") and not out.exists()
        ran += 1
    assert ran >= 3
