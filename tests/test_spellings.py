"""Every spelling of an initializer name that fastinit lists or that the real frameworks produce.

``fastinit list`` prints, from the registry, each canonical name with its framework and the
spellings that resolve to it; every printed spelling must resolve. The recorded tables under
``tests/data/frameworks/`` (``record_frameworks.py``, from Keras 3 and JAX) hold every Keras alias
and class name, each initializer's ``get_config()`` and ``serialize()`` dict, fans and variances
for a few shapes, and JAX's initializer names with their defaults: each must resolve in fastinit
to the framework's semantics. With keras or jax importable, the same checks run against them live.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import fastinit as fi
from fastinit import cli


def _run_cli(capsys, *args):
    rc = cli.main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- unknown names on the command line ---------------------------------------------------------
def test_cli_unknown_names_point_to_fastinit_list(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text('[grid]\ninitializer = ["he_normla"]\nactivation = ["relux"]\n'
                    "[settings]\ndepth = 2\nwidth = 4\nbatch = 2\n")
    rc, _, err = _run_cli(capsys, "sweep", str(spec), "--out", str(tmp_path / "o"))
    assert rc == 2
    lines = {ln.split(":")[0].strip(): ln for ln in err.splitlines()}
    init, act = lines["grid.initializer[0]"], lines["grid.activation[0]"]
    assert "did you mean 'he_normal'?" in init and "fastinit list" in init
    assert "initializer_names()" not in init           # the API's hint is for Python users
    assert "did you mean 'relu'?" in act and "fastinit list" in act
    # the API keeps its own hint
    with pytest.raises(ValueError, match=r"See fastinit\.initializer_names\(\)"):
        fi.get_initializer("he_normla")


def test_unknown_name_without_a_close_match_reads_as_a_sentence():
    with pytest.raises(ValueError, match=r"'qqqq' is unknown\. See fastinit\.initializer_names\(\)\."):
        fi.get_initializer("qqqq")
    assert cli._for_cli("initializer='qqqq' is unknown. See fastinit.initializer_names().") == \
        "initializer='qqqq' is unknown. Run `fastinit list` to see every name."


# --- recorded tables of the real frameworks ------------------------------------------------------
DATA = Path(__file__).parent / "data" / "frameworks"
KERAS = json.loads((DATA / "keras.json").read_text())
JAX = json.loads((DATA / "jax.json").read_text())
#: Keras classes fastinit does not have (a DFT kernel for audio layers): refused with a clear error.
KERAS_UNSUPPORTED = {"STFT"}
#: Keras aliases that are plain names of another framework in fastinit (``keras.`` + alias is Keras's).
KERAS_PLAIN_OWNED_ELSEWHERE = {"normal": "torch", "uniform": "torch"}
REL = 1e-12


def _plan_of_call(call, factor=1.0):
    """The fastinit plan a framework's captured random call (times ``factor``) amounts to."""
    fn = call["fn"]
    if fn == "truncated_normal":
        if "stddev" in call:                  # Keras: mean +- 2 stddev
            return "truncated", (call["mean"], call["stddev"], -2.0, 2.0)
        return "truncated", (0.0, factor, call["lower"], call["upper"])     # JAX: sigma units
    if fn == "normal":
        return "normal", (call.get("mean", 0.0), call.get("stddev", 1.0) * factor)
    return "uniform", (call["minval"] * factor, call["maxval"] * factor)


def _check_plan(init, row, layout, **axes):
    shape = tuple(row["shape"])
    if "error" in row:                        # the framework refuses this shape: so does fastinit
        with pytest.raises(ValueError):
            init(shape, layout=layout, **axes)
        return
    plan = init.plan(shape, layout, **axes)
    if row.get("calls"):
        factor = row.get("multiplier", 1.0)
        calls = row["calls"]
        if "gram_scale" in row:              # orthogonal: the normals it factorises, and the gain
            assert plan.kind.value == "orthogonal"
            assert plan.args[0] == pytest.approx(row["gram_scale"], rel=1e-6)
            return
        kind, args = _plan_of_call(calls[0], factor)
        assert plan.kind.value == kind and plan.args == pytest.approx(args, rel=REL), (init, row)
    elif "gram_scale" in row:
        assert plan.kind.value == "orthogonal" and plan.args[0] == pytest.approx(row["gram_scale"], rel=1e-6)
    else:                                     # deterministic: the same numbers
        w = init(shape, layout=layout, dtype="float64", **axes)
        if "value" in row:
            np.testing.assert_array_equal(w, np.array(row["value"]).reshape(shape))
        else:
            s = row["value_summary"]
            assert (w.min(), w.max(), w.sum(), np.count_nonzero(w)) == \
                (s["min"], s["max"], s["sum"], s["nonzero"])


def _keras_spec_checks(entry):
    """(spec, rows) pairs of an entry: its class name with its arguments, its get_config() dict
    and its serialize() dict (the last two as Keras rebuilds them from the config)."""
    from_config = entry.get("config_shapes", entry["shapes"])
    return [((entry["class_name"], entry["args"]), entry["shapes"]),
            ({"class_name": entry["class_name"], "config": entry["config"]}, from_config),
            (entry["serialized"], from_config)]


def check_keras(data):
    from fastinit.initializers import _KERAS_CLASSES, _REGISTRY
    for alias, class_name in data["aliases"].items():
        if class_name in KERAS_UNSUPPORTED:
            with pytest.raises(ValueError, match="is unknown"):
                fi.get_initializer(alias)
            continue
        assert _KERAS_CLASSES[fi.get_initializer("keras." + alias).name] == class_name, alias
        plain = fi.get_initializer(alias).name
        if alias in KERAS_PLAIN_OWNED_ELSEWHERE:
            assert _REGISTRY[plain].framework == KERAS_PLAIN_OWNED_ELSEWHERE[alias], alias
        else:
            assert _KERAS_CLASSES[plain] == class_name, alias
    for entry in data["initializers"]:
        if entry["class_name"] in KERAS_UNSUPPORTED:
            continue
        for spec, rows in _keras_spec_checks(entry):
            if isinstance(spec, tuple):   # HeNormal(seed=4): the seed is no parameter in fastinit
                init = fi.get_initializer(spec[0], **{k: v for k, v in spec[1].items() if k != "seed"})
            else:
                init = fi.get_initializer(spec)
                assert init.default_seed == spec["config"].get("seed")
            assert _KERAS_CLASSES[init.name] == entry["class_name"]
            for row in rows:
                if "fans" in row:
                    assert fi.compute_fans(row["shape"], input_axes=init.params.get("input_axes"),
                                           output_axes=init.params.get("output_axes")) == tuple(row["fans"])
                _check_plan(init, row, "keras")


def check_jax(data):
    from fastinit.initializers import _REGISTRY
    for name, info in data["names"].items():
        init = fi.get_initializer("jax." + name) if name != "constant" else fi.get_initializer("jax.constant",
                                                                                               value=0.5)
        entry = _REGISTRY[init.name]
        for k, v in info["defaults"].items():
            if k in entry.defaults:
                got = entry.defaults[k]
                assert (tuple(got) if isinstance(got, (list, tuple)) else got) == \
                    (tuple(v) if isinstance(v, list) else v), (name, k)
    for entry in data["initializers"]:
        init = fi.get_initializer("jax." + entry["name"], **entry["args"])
        axes = {k: entry["args"][k] for k in ("in_axis", "out_axis", "batch_axis") if k in entry["args"]}
        for row in entry["shapes"]:
            if "fans" in row:
                assert fi.compute_fans(row["shape"], layout="jax", **axes) == tuple(row["fans"])
            if entry["name"] == "delta_orthogonal":
                w = init(tuple(row["shape"]), layout="jax", dtype="float64")
                nz = np.argwhere(np.abs(w).reshape(-1, *w.shape[-2:]).sum(axis=(1, 2)) > 0).ravel()
                assert list(np.unravel_index(int(nz[0]), w.shape[:-2])) == row["nonzero_spatial_index"]
                continue
            _check_plan(init, row, "jax", **axes)


def test_recorded_keras_spellings_and_semantics():
    check_keras(KERAS)


def test_recorded_jax_names_and_semantics():
    check_jax(JAX)


def test_live_keras():
    import record_frameworks  # first: it picks Keras's numpy backend unless KERAS_BACKEND is set
    pytest.importorskip("keras")
    check_keras(record_frameworks.record_keras())


def test_live_jax():
    import record_frameworks
    pytest.importorskip("jax")
    check_jax(record_frameworks.record_jax())


def test_fan_free_planners_do_not_read_the_fans():
    # what makes jax.normal on a rank-1 shape (which has no JAX fans) right: the fans are unused
    from fastinit.initializers import _FAN_FREE, _REGISTRY
    required = {"sparse": {"sparsity": 0.5}}
    for name in sorted(_FAN_FREE):
        e = _REGISTRY[name]
        p = {**e.defaults, **required.get(name, {})}
        assert e.planner(p, 3.0, 5.0, (3, 5)) == e.planner(p, 70.0, 110.0, (3, 5)), name
    assert fi.initialize("jax.normal", (7,), layout="jax", dtype="float64").shape == (7,)
    with pytest.raises(ValueError, match="rank >= 2"):
        fi.initialize("jax.he_normal", (7,), layout="jax")    # JAX's fans need rank >= 2


# --- fastinit list: every printed spelling resolves ----------------------------------------------
#: Parameters an initializer needs before it resolves.
REQUIRED = {"sparse": {"sparsity": 0.5}}


def _resolves_to(spelling, name):
    init = fi.get_initializer(spelling, **REQUIRED.get(name, {}))
    return init.name == name


def _list_output(capsys):
    rc, out, _ = _run_cli(capsys, "list")
    assert rc == 0
    return out.splitlines()


def test_every_spelling_fastinit_list_prints_resolves(capsys):
    from fastinit.initializers import _REGISTRY
    lines = _list_output(capsys)
    start, end = lines.index(next(ln for ln in lines if ln.startswith("initializers:"))), \
        lines.index(next(ln for ln in lines if ln.startswith("plain names")))
    entries, name = {}, None
    for ln in lines[start + 1:end]:
        if ln.startswith("      "):
            entries[name] = ln.strip().split(", ")
        else:
            name = ln.split()[0]
    assert sorted(entries) == sorted(fi.initializer_names())
    for name, spelled in entries.items():
        assert name in spelled and all(_resolves_to(sp, name) for sp in spelled), name
    # shared plain names: 'spelling = canonical [Framework]'
    frameworks = {"Keras": "keras", "PyTorch": "torch", "JAX": "jax"}
    shared = [ln for ln in lines[end:] if " = " in ln and ln.startswith("  ") and not ln.startswith("      ")]
    pairs = [p.strip().split(" = ") for ln in shared for p in ln.split(";")]
    assert {sp for sp, _ in pairs} >= {
        "normal", "keras.normal", "uniform", "keras.uniform", "truncated_normal", "trunc_normal",
        "jax.truncated_normal", "variance_scaling", "jax.variance_scaling", "orthogonal", "jax.orthogonal",
        "kaiming_normal", "jax.kaiming_normal"}
    for sp, rhs in pairs:
        canonical, framework = rhs.split(" [")
        assert _resolves_to(sp, canonical) and _REGISTRY[canonical].framework == frameworks[framework[:-1]]
    # the dict examples
    dicts = [json.loads(ln) for ln in lines[end:] if ln.startswith("    {")]
    assert len(dicts) == 3 and all(fi.get_initializer(d) for d in dicts)


MODULE_PATHS = [
    ("torch.nn.init.kaiming_normal_", "kaiming_normal"), ("kaiming_normal_", "kaiming_normal"),
    ("torch.nn.init.trunc_normal_", "trunc_normal"), ("ones_", "ones"),
    ("keras.initializers.HeNormal", "he_normal"),
    ("tf.keras.initializers.Orthogonal", "orthogonal"), ("jax.nn.initializers.uniform", "jax.uniform"),
    ("jax.nn.initializers.he_normal", "he_normal"),
]


@pytest.mark.parametrize("spelling,name", MODULE_PATHS)
def test_module_paths_and_trailing_underscores_resolve(spelling, name):
    assert _resolves_to(spelling, name)


def test_readme_states_the_spellings_fastinit_list_prints():
    from fastinit.initializers import spelling_notes
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = "```text\n" + "\n".join(spelling_notes()) + "\n```"
    assert block in readme, "README's spellings block is out of date: paste\n" + block
