import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import fastinit as fi
from fastinit.kernels import METRICS
from fastinit.sweep import SpecError, load_spec
from fastinit.sweep.plan import chunks

SPEC = {
    "name": "tiny",
    "grid": {
        "initializer": [
            "glorot_uniform",
            "he_normal",
            {"name": "random_uniform", "minval": -0.5, "maxval": 0.5},
        ],
        "activation": ["tanh", {"name": "leaky_relu", "negative_slope": 0.2}],
        "depth": [2, 5],
        "width": [8, 16],
        "seed": [0, 1],
    },
    "settings": {"batch": 8, "dtype": "float32", "backward": True, "bias_initializer": "zeros"},
}
N_CONFIGS = 3 * 2 * 2 * 2 * 2


def _cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "fastinit.cli", *args], capture_output=True, text=True, timeout=600, **kw
    )


def _spec_file(tmp_path, spec=None, name="spec.toml"):
    """``spec`` (default SPEC) written as a TOML file."""
    from fastinit.sweep.store import to_toml
    path = tmp_path / name
    path.write_text(to_toml(SPEC if spec is None else spec))
    return path


def _sweep_process(spec_file, out, **kw):
    """``fastinit sweep`` of a spec file into ``out``, running in the background."""
    return subprocess.Popen([sys.executable, "-m", "fastinit.cli", "sweep", str(spec_file), "--out", str(out),
                             "--quiet"], **kw)


SLICED = dict(SPEC, settings={**SPEC["settings"], "chunk_size": 1})   # one network per chunk: many parts


@pytest.fixture(scope="module")
def reference():
    return fi.sweep(SPEC, progress=False)


def test_grid_expansion_and_table(reference):
    df = reference
    assert df["config_id"].nunique() == N_CONFIGS
    assert len(df) == 3 * 2 * 2 * 2 * (2 + 5)
    assert list(df.columns[:7]) == [
        "config_id",
        "initializer",
        "activation",
        "depth",
        "width",
        "seed",
        "layer",
    ]
    assert set(METRICS) <= set(df.columns)
    assert set(df["initializer"]) == {"glorot_uniform", "he_normal", "random_uniform(maxval=0.5,minval=-0.5)"}
    assert set(df["activation"]) == {"tanh", "leaky_relu(negative_slope=0.2)"}
    # config ids follow the grid's product order: the last key varies fastest
    first = df.groupby("config_id").first()
    assert list(first["seed"].iloc[:4]) == [0, 1, 0, 1] and list(first["width"].iloc[:4]) == [8, 8, 16, 16]


@pytest.mark.parametrize("depth", [2, 5])
def test_rows_equal_simulate(reference, depth):
    row = reference[(reference["initializer"] == "he_normal") & (reference["activation"] == "tanh")
                    & (reference["depth"] == depth) & (reference["width"] == 16) & (reference["seed"] == 1)]
    sim = fi.simulate("he_normal", "tanh", depth=depth, width=16, batch=8, seed=1)
    np.testing.assert_array_equal(row[list(METRICS)].to_numpy(float), sim[list(METRICS)].to_numpy(float))


def test_every_row_equals_simulate_for_widths_trials_and_biases():
    # grid keys the reference spec lacks: widths, trial, bias_initializer, an LSUV initializer; a tiny
    # chunk_size splits groups across chunks
    spec = {
        "grid": {
            "initializer": ["lecun_normal", {"name": "lsuv", "base": "orthogonal"}],
            "activation": ["relu", "tanh"],
            "widths": [[6, 5, 5], [4, 7, 5, 5]],
            "trial": [0, 3],
            "bias_initializer": ["zeros", {"name": "constant", "value": 0.1}],
        },
        "settings": {"batch": 6, "seed": 7, "chunk_size": 3},
    }
    df = fi.sweep(spec, progress=False)
    assert df["config_id"].nunique() == 2 * 2 * 2 * 2 * 2
    for (init, act, widths, trial, bias), rows in df.groupby(["initializer", "activation", "widths", "trial",
                                                                "bias_initializer"]):
        init_spec = spec["grid"]["initializer"][0 if init == "lecun_normal" else 1]
        bias_spec = spec["grid"]["bias_initializer"][0 if bias == "zeros" else 1]
        sim = fi.simulate(
            init_spec,
            act,
            widths=[int(w) for w in widths.split("-")],
            batch=6,
            seed=7,
            trial=trial,
            bias_initializer=bias_spec,
        )
        np.testing.assert_array_equal(rows[list(METRICS)].to_numpy(float), sim[list(METRICS)].to_numpy(float))


def test_chunks_pack_groups_of_one_shape():
    parts = chunks(load_spec(SPEC))
    # one kernel call per width: two seeds (groups sharing draws) of 6 networks, each at depths 2 and 5
    assert len(parts) == 2 and all(c.size == 24 for c in parts)
    assert all(sorted({c.member(i)["seed"] for i in range(c.size)}) == [0, 1] for c in parts)
    assert all(sorted({c.member(i)["depth"] for i in range(c.size)}) == [2, 5] for c in parts)
    # a small chunk_size splits between networks, never between the depths of one network
    small = chunks(load_spec({**SPEC, "settings": {**SPEC["settings"], "chunk_size": 3}}))
    assert len(small) == 2 * 2 * 6 and all(c.size == 2 for c in small)


def test_spec_errors_reported_all_at_once():
    bad = {"name": "bad", "colour": 1,
           "grid": {"initializer": ["he_normla", {"name": "random_uniform", "minval": 1.0, "maxval": 0.0}],
                    "activation": ["tanhh"], "depth": [0], "width": 8, "flavour": [1]},
           "settings": {"batch": [4, 8], "dtype": "float16", "chunk_size": 0}}
    with pytest.raises(SpecError) as e:
        load_spec(bad)
    msg = str(e.value)
    for needle in (
        "colour: unknown top-level key",
        "grid.initializer[0]",
        "did you mean 'he_normal'",
        "grid.initializer[1]",
        "minval=1.0 must be < maxval",
        "grid.activation[0]",
        "grid.depth[0]",
        "grid.width: must be a non-empty list",
        "grid.flavour: unknown key",
        "settings.batch: a list belongs in [grid]",
        "settings.dtype",
        "settings.chunk_size",
    ):
        assert needle in msg, needle
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec("name = 'x'\n[grid\n")
    with pytest.raises(SpecError, match="initializer: missing"):
        load_spec({"grid": {"activation": ["relu"], "depth": [2], "width": [4]}})


def test_store_resume_and_refusal(tmp_path, reference):
    out = tmp_path / "r"
    df = fi.sweep(SPEC, out=out, progress=False)
    pd.testing.assert_frame_equal(df, reference)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["n_configs"] == N_CONFIGS
    assert (out / "spec.toml").read_text().startswith('name = "tiny"')
    # delete one part: a rerun recomputes exactly it
    victim = sorted((out / "parts").glob("*.parquet"))[-1]
    victim.unlink()
    pd.testing.assert_frame_equal(fi.sweep(SPEC, out=out, progress=False), reference)
    other = {**SPEC, "name": "other"}
    with pytest.raises(FileExistsError, match="different spec"):
        fi.sweep(other, out=out, progress=False)
    assert fi.sweep(other, out=out, progress=False, overwrite=True)["config_id"].nunique() == N_CONFIGS
    pd.testing.assert_frame_equal(fi.load(out), fi.sweep(other, progress=False))


def test_resume_refuses_parts_of_another_chunking(tmp_path, reference):
    out = tmp_path / "r"
    fi.sweep(SPEC, out=out, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "layout": "cut-by-another-version"}))
    with pytest.raises(FileExistsError, match="other chunks"):
        fi.sweep(SPEC, out=out, progress=False)
    pd.testing.assert_frame_equal(fi.sweep(SPEC, out=out, progress=False, overwrite=True), reference)


def test_default_chunk_size_grows_for_small_configurations():
    from fastinit.engine import make_shape
    from fastinit.sweep.plan import CHUNK_CONFIGS, CHUNK_FLOPS, default_chunk_size
    assert default_chunk_size(make_shape(8, 512, batch=128), [8]) == CHUNK_CONFIGS
    small = default_chunk_size(make_shape(16, 16, batch=32), [16])
    assert small == int(CHUNK_FLOPS / (6 * 32 * 16 * 16 * 16)) > CHUNK_CONFIGS
    big = {"grid": {"initializer": ["he_normal"], "activation": ["relu"], "seed": list(range(3000))},
           "settings": {"depth": 16, "width": 16, "batch": 32}}
    assert [c.size for c in chunks(load_spec(big))] == [small, 3000 - small]


def test_spec_dict_edited_in_place_between_sweeps():
    spec = {"grid": {"initializer": ["he_normal"], "activation": ["tanh"], "seed": [0]},
            "settings": {"depth": 2, "width": 4, "batch": 4}}
    first = fi.sweep(spec, progress=False)
    spec["grid"]["initializer"][0] = "glorot_uniform"         # the same dict and list objects
    second = fi.sweep(spec, progress=False)
    assert set(second["initializer"]) == {"glorot_uniform"}
    assert not np.array_equal(first["preact_sq"], second["preact_sq"])


def test_large_networks_share_a_chunk():
    # networks of a chunk run in parallel: two 1024-wide, depth-32 networks (269 MB of weights) must fit one
    wide = {"grid": {"initializer": ["he_normal"], "activation": ["relu"], "seed": [0, 1]},
            "settings": {"depth": 32, "width": 1024, "batch": 256}}
    assert [c.size for c in chunks(load_spec(wide))] == [2]


def test_identical_for_chunk_size_and_threads(reference):
    import numba
    small = {**SPEC, "settings": {**SPEC["settings"], "chunk_size": 1}}
    numba.set_num_threads(1)
    try:
        one = fi.sweep(small, progress=False)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    pd.testing.assert_frame_equal(one, reference)


def test_memory_limit_refuses_before_running(tmp_path):
    with pytest.raises(MemoryError, match="config_id=0 .*width=8"):
        fi.sweep(SPEC, out=tmp_path / "m", max_memory=1000, progress=False)
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_resume_after_kill(tmp_path, reference):
    spec = _spec_file(tmp_path, SLICED)
    out = tmp_path / "out"
    proc = _sweep_process(spec, out)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out / "parts").glob("chunk-*.parquet"))) < 5:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_done = len(list((out / "parts").glob("chunk-*.parquet")))
    assert 5 <= n_done < len(chunks(load_spec(SLICED))), "the kill must interrupt the sweep"
    res = _cli("sweep", str(spec), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(fi.load(out), reference)


@pytest.mark.slow
def test_dask_backend_equals_local(tmp_path, reference):
    pytest.importorskip("dask.distributed")
    df = fi.sweep(SPEC, out=tmp_path / "d", backend="dask", progress=False)
    pd.testing.assert_frame_equal(df, reference)


@pytest.mark.slow
def test_cli_commands(tmp_path):
    spec = _spec_file(tmp_path)
    out = tmp_path / "res"
    for args in (["--help"], ["sweep", "--help"], ["show", "--help"], ["plot", "--help"], ["list", "--help"]):
        r = _cli(*args)
        assert r.returncode == 0 and "usage" in r.stdout
    r = _cli("sweep", str(spec), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"{N_CONFIGS} configurations" in r.stdout
    r = _cli("show", str(out))
    assert r.returncode == 0 and "he_normal" in r.stdout and "leaky_relu(negative_slope=0.2)" in r.stdout
    r = _cli("plot", str(out), "--out", str(tmp_path / "f.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "f.png").stat().st_size > 10_000
    r = _cli("list")
    assert "kaiming_normal [torch]" in r.stdout and "gelu" in r.stdout
    r = _cli("list", "--stats")
    assert "he_normal" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "b"\n[grid]\ninitializer = ["nope"]\nactivation = ["relu"]\ndepth = [2]\nwidth = [4]\n'
    )
    r = _cli("sweep", str(bad), "--out", str(tmp_path / "b"))
    assert r.returncode == 2 and "grid.initializer[0]" in r.stderr


@pytest.mark.parametrize("kwargs,match", [
    ({"max_memory": "1GB"}, "max_memory"), ({"max_memory": -1}, "max_memory"), ({"threads": 0}, "threads=0"),
    ({"backend": "spark"}, "backend='spark'"), ({"progress": "yes"}, "progress='yes'"),
])
def test_sweep_bad_options_named_before_any_work(tmp_path, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fi.sweep(SPEC, out=tmp_path / "o", **kwargs)
    assert not (tmp_path / "o").exists()


def test_cli_out_that_is_a_file_or_under_one_is_one_line(tmp_path):
    spec = _spec_file(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile, afile / "sub"):
        r = _cli("sweep", str(spec), "--out", str(out), "--quiet")
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and str(afile) in r.stderr
    assert afile.read_text() == "x"


@pytest.mark.slow
def test_cli_interrupt_is_one_line_and_resumes(tmp_path, reference):
    # Deterministic: the sweep is stopped (SIGSTOP) once 3 of its 24 parts exist, so the interrupt
    # cannot come after it finished (with warm caches a part takes milliseconds), then interrupted
    # and continued, and it handles the interrupt as a user's Ctrl-C. SIGINT's default action is
    # restored in the child: a shell's background job inherits SIGINT ignored, and Python keeps it so.
    spec = _spec_file(tmp_path, SLICED)
    out = tmp_path / "out"
    proc = _sweep_process(spec, out, stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out / "parts").glob("chunk-*.parquet"))) < 3:
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGSTOP)
    finished = len(list((out / "parts").glob("chunk-*.parquet"))) == N_CONFIGS // 2
    proc.send_signal(signal.SIGINT)
    os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=120)
    if finished:
        pytest.skip("the sweep wrote every part before it could be stopped (the machine was too fast)")
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "resume with the same command" in err
    assert _cli("sweep", str(spec), "--out", str(out), "--quiet").returncode == 0
    pd.testing.assert_frame_equal(fi.load(out), reference)


# ---- the result folder: nothing lost, nothing wrong, nothing mixed ------------------------------
def _parts(out):
    return sorted((out / "parts").glob("chunk-*.parquet"))


@pytest.fixture
def stored(tmp_path, reference):
    out = tmp_path / "r"
    fi.sweep(dict(SPEC, settings={**SPEC["settings"], "chunk_size": 6}), out=out, progress=False)
    return out


CHUNKED = dict(SPEC, settings={**SPEC["settings"], "chunk_size": 6})


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "swap"])
def test_damaged_part_is_refused_then_recomputed(stored, reference, damage):
    from fastinit.sweep.store import StoreError
    parts = _parts(stored)
    victim = parts[1]
    data = victim.read_bytes()
    if damage == "flip":
        data = data[:200] + bytes(b ^ 0xFF for b in data[200:264]) + data[264:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    else:
        data = parts[2].read_bytes()          # chunk 2 written over chunk 1
    victim.write_bytes(data)
    with pytest.raises(StoreError, match=victim.name):
        fi.load(stored)
    r = _cli("show", str(stored))
    assert r.returncode == 2 and "Traceback" not in r.stderr and victim.name in r.stderr
    with pytest.warns(UserWarning, match="moved to"):
        df = fi.sweep(CHUNKED, out=stored, progress=False)
    pd.testing.assert_frame_equal(df, reference)
    assert len(list((stored / "parts" / "damaged").iterdir())) == 1     # moved aside, never deleted


def test_stray_and_copied_parts_are_never_read(stored, reference):
    parts = _parts(stored)
    (stored / "parts" / "chunk-000099.parquet").write_bytes(parts[0].read_bytes())
    (stored / "parts" / "chunk-000003 (copy).parquet").write_bytes(parts[3].read_bytes())
    with pytest.warns(UserWarning, match="not part of"):
        pd.testing.assert_frame_equal(fi.load(stored), reference)
    with pytest.warns(UserWarning, match="not part of"):
        pd.testing.assert_frame_equal(fi.sweep(CHUNKED, out=stored, progress=False), reference)


@pytest.mark.parametrize("text", ["{}", "[]", "garbage{"])
def test_broken_manifest_is_a_clear_refusal(stored, reference, text):
    from fastinit.sweep.store import StoreError
    (stored / "manifest.json").write_text(text)
    with pytest.raises(StoreError, match="manifest.json"):
        fi.load(stored)
    with pytest.raises(FileExistsError, match="manifest.json"):
        fi.sweep(CHUNKED, out=stored, progress=False)
    r = _cli("show", str(stored))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "manifest.json" in r.stderr
    pd.testing.assert_frame_equal(fi.sweep(CHUNKED, out=stored, progress=False, overwrite=True), reference)


def test_part_renamed_before_its_manifest_entry_is_kept(stored, reference):
    manifest = json.loads((stored / "manifest.json").read_text())
    first = sorted(manifest["parts"], key=int)[0]
    del manifest["parts"][first]        # a writer killed between the rename and the manifest
    (stored / "manifest.json").write_text(json.dumps(manifest))
    before = _parts(stored)[0].stat().st_mtime_ns
    pd.testing.assert_frame_equal(fi.sweep(CHUNKED, out=stored, progress=False), reference)
    assert _parts(stored)[0].stat().st_mtime_ns == before       # verified against the plan, not recomputed


def test_one_writer_at_a_time(tmp_path):
    from fastinit.sweep.store import Store
    holder = Store(tmp_path / "w")
    holder.root.mkdir()
    holder._acquire()
    try:
        with pytest.raises(FileExistsError, match=f"PID {os.getpid()}"):
            fi.sweep(SPEC, out=tmp_path / "w", progress=False)
    finally:
        holder.close()
    assert fi.sweep(SPEC, out=tmp_path / "w", progress=False)["config_id"].nunique() == N_CONFIGS


@pytest.mark.slow
def test_second_writer_process_refused_with_the_holders_pid(tmp_path, reference):
    # two `fastinit sweep` processes on one --out. Deterministic: the first is stopped (SIGSTOP) as
    # soon as its lock file names it (written once it holds the lock), so it still holds the lock
    # whatever the machine's speed while the second starts, is refused, and leaves the folder as it was
    spec = _spec_file(tmp_path, SLICED)
    out = tmp_path / "out"
    first = _sweep_process(spec, out, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while first.poll() is None and time.time() < deadline:
            if (out / ".lock").exists() and (out / ".lock").read_text().strip() == str(first.pid):
                break
            time.sleep(0.002)
        os.kill(first.pid, signal.SIGSTOP)
        assert first.poll() is None, "the first sweep finished before it was stopped; make the spec larger"
        before = sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*"))
        second = _cli("sweep", str(spec), "--out", str(out), "--quiet")
        after = sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*"))
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    assert f"is being written by another sweep (PID {first.pid})" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1 and "Traceback" not in second.stderr
    assert before == after                               # the refused writer wrote and removed nothing
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    pd.testing.assert_frame_equal(fi.load(out), reference)     # the exact table of an uninterrupted run


def test_killed_during_creation_resumes(tmp_path, reference):
    out = tmp_path / "k"
    (out / "parts").mkdir(parents=True)
    (out / ".spec.toml.tmp-12345").write_text("half")
    pd.testing.assert_frame_equal(fi.sweep(SPEC, out=out, progress=False), reference)
    assert not (out / ".spec.toml.tmp-12345").exists()


def test_overwrite_deletes_only_what_the_format_owns(stored, tmp_path):
    notes = stored / "parts" / "notes.txt"
    notes.write_text("mine")
    (stored / "README.md").write_text("mine too")
    with pytest.warns(UserWarning, match="notes.txt"):
        fi.sweep({**CHUNKED, "name": "other"}, out=stored, progress=False, overwrite=True)
    assert notes.read_text() == "mine" and (stored / "README.md").read_text() == "mine too"
    project = tmp_path / "project"
    project.mkdir()
    (project / "analysis.py").write_text("x = 1")
    with pytest.raises(FileExistsError, match="not sweep results"):
        fi.sweep(SPEC, out=project, progress=False, overwrite=True)
    assert (project / "analysis.py").read_text() == "x = 1"


def test_incomplete_folder_says_so(stored):
    manifest = json.loads((stored / "manifest.json").read_text())
    key = sorted(manifest["parts"], key=int)[-1]
    del manifest["parts"][key]
    manifest["complete"] = False
    (stored / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=f"{N_CONFIGS - 6} of {N_CONFIGS} configurations"):
        df = fi.load(stored)
    assert not df.attrs["complete"]
    r = _cli("show", str(stored))
    assert r.returncode == 0 and "incomplete" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.3, 0.9, 1.6, 2.4])
def test_kill_at_several_moments_then_resume(tmp_path, reference, delay):
    # moments from the start of the process (imports, folder creation) to the middle of the sweep
    spec = _spec_file(tmp_path, SLICED)
    out = tmp_path / "out"
    proc = _sweep_process(spec, out)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    res = _cli("sweep", str(spec), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(fi.load(out), reference)


# truncated normals of tiny probability (trunc_normal a=10 b=20) are drawable since the inverse-CDF
# fallback (rng.truncated_icdf), so they are no longer refused here
@pytest.mark.parametrize("init,match", [
    ("delta_orthogonal", "3-, 4- or 5-D"), ("dirac", "3-, 4- or 5-D"),
    ({"name": "sparse_martens", "k": 20}, "k=20 exceeds fan_in=8"),
    ({"name": "random_uniform", "minval": 1.0, "maxval": 1.00000001}, "equal in float32"),
])
def test_undrawable_initializers_refused_before_anything_is_written(tmp_path, init, match):
    spec = {"grid": {"initializer": ["he_normal", init], "activation": ["relu"], "seed": [0, 1]},
            "settings": {"depth": 3, "width": 8, "batch": 4, "chunk_size": 1}}
    with pytest.raises(SpecError, match=match) as e:
        fi.sweep(spec, out=tmp_path / "o", progress=False)
    assert "grid.initializer[1]: " in str(e.value) and "layer 1 (8 x 8)" in str(e.value)
    assert not (tmp_path / "o").exists()
    r = _cli("sweep", str(_spec_file(tmp_path, spec)), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and not (tmp_path / "o").exists()


def test_spec_files_that_cannot_be_specs(tmp_path):
    (tmp_path / "bin.toml").write_bytes(bytes(range(256)))
    (tmp_path / "utf16.toml").write_bytes('name = "x"'.encode("utf-16"))
    for path, match in ((tmp_path, "is a folder"), ("/dev/null", "not a regular file"),
                        (tmp_path / "bin.toml", "not UTF-8"), (tmp_path / "utf16.toml", "not UTF-8"),
                        (tmp_path / "missing.toml", "does not exist")):
        with pytest.raises(SpecError, match=match):
            load_spec(path)
        r = _cli("sweep", str(path), "--out", str(tmp_path / "o"))
        assert r.returncode == 2 and "Traceback" not in r.stderr and match in r.stderr
