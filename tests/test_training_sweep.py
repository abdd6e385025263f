"""Training sweeps: a spec's [train] table, rows equal to fi.train, chunking and resume, errors."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import fastinit as fi
from fastinit.sweep import SpecError, load_spec
from fastinit.sweep.training import training_chunks

TASK = {"name": "gaussian_mixture", "n_train": 128, "n_test": 32, "dim": 6, "classes": 3}


def spec(**train):
    return {
        "name": "train-test",
        "grid": {
            "initializer": ["he_normal", "glorot_uniform", {"name": "constant", "value": 0.1}],
            "activation": ["relu", "tanh"],
            "depth": [1, 3],
            "seed": [0, 1],
        },
        "settings": {"width": 8},
        "train": {"task": TASK, "steps": 12, "lr": [1e-2, 3e-2], "eval_every": 4, "batch": 16, **train},
    }


@pytest.fixture(scope="module")
def table():
    return fi.sweep(spec(), progress=False)


def test_rows_equal_train_alone(table):
    """Each configuration's curve is bit-identical to fi.train of the same settings (DESIGN invariant 8)."""
    assert len(table) == 48 * 4 and table.groupby("config_id").size().eq(4).all()
    for cid in (0, 13, 29, 47):
        rows = table[table.config_id == cid]
        r = rows.iloc[0]
        init = {"constant(value=0.1)": {"name": "constant", "value": 0.1}}.get(r.initializer, r.initializer)
        alone = fi.train(
            init,
            r.activation,
            int(r.depth),
            8,
            task=TASK,
            steps=12,
            lr=float(r.lr),
            eval_every=4,
            batch=16,
            seed=int(r.seed),
        )
        for c in ("step", "train_loss", "test_loss", "test_accuracy"):
            np.testing.assert_array_equal(rows[c].to_numpy(), alone.curves[c].to_numpy())
        for c, v in alone.summary.items():
            assert rows[c].iloc[0] == v or (np.isnan(v) and np.isnan(rows[c].iloc[0]))


def test_symmetry_column(table):
    """distinct_units_min stays 1 for the constant initializer, equals the width for random ones."""
    const = table[table.initializer == "constant(value=0.1)"]
    assert (const.distinct_units_min == 1).all()
    assert (table[table.initializer == "he_normal"].distinct_units_min == 8).all()


def test_chunking_does_not_change_results(table):
    small = fi.sweep({**spec(), "settings": {"width": 8, "chunk_size": 5}}, progress=False)
    assert len(training_chunks(load_spec({**spec(), "settings": {"width": 8, "chunk_size": 5}}))) == 10
    pd.testing.assert_frame_equal(small, table)


def test_resume_after_a_lost_part(tmp_path, table):
    out = tmp_path / "run"
    s = {**spec(), "settings": {"width": 8, "chunk_size": 16}}
    first = fi.sweep(s, out=out, progress=False)
    pd.testing.assert_frame_equal(first, table)
    parts = sorted((out / "parts").glob("chunk-*.parquet"))
    assert len(parts) == 3
    parts[1].unlink()
    pd.testing.assert_frame_equal(fi.sweep(s, out=out, progress=False), table)
    pd.testing.assert_frame_equal(fi.load(out), table)
    assert load_spec(out / "spec.toml").hash == load_spec(s).hash  # the written spec is the same spec


def test_cli_show_and_plot(tmp_path):
    out = tmp_path / "cli"
    path = tmp_path / "spec.toml"
    path.write_text(
        'name = "t"\n[grid]\ninitializer = ["he_normal", "lecun_normal"]\ndepth = [1, 2]\n'
        'seed = [0, 1]\n[settings]\nactivation = "tanh"\nwidth = 4\n[train]\n'
        'task = {name = "teacher", n_train = 64, n_test = 16, dim = 3}\nsteps = 6\nbatch = 8\n'
    )
    run = [sys.executable, "-m", "fastinit.cli"]
    r = subprocess.run(
        [*run, "sweep", str(path), "--out", str(out), "--quiet"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*run, "show", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and "8 training runs" in r.stdout and "loss_median" in r.stdout
    pytest.importorskip("matplotlib")
    r = subprocess.run(
        [*run, "plot", str(out), "--out", str(tmp_path / "f.png")], capture_output=True, text=True
    )
    assert r.returncode == 0 and (tmp_path / "f.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["train"].update(optimizer="adamw"), "train.optimizer: optimizer='adamw'"),
        (lambda s: s["train"].update(lr=[1e-2, 0.0]), "train.lr[1]: lr=0.0"),
        (lambda s: s["train"].update(lr=[1e-2, 1e-2]), "train.lr[0], train.lr[1] are all 0.01"),
        (lambda s: s["train"].update(speed=3), "train.speed: unknown key"),
        (lambda s: s["train"].update(task="mnist"), "train.task: "),
        (lambda s: s["train"].update(task={"name": "teacher", "dim": 0}), "train.task: "),
        (lambda s: s["train"].update(steps=[]), "train.steps: must be a value or a non-empty list"),
        (lambda s: s["grid"].update(batch=[8, 16]), "grid.batch: a training sweep takes batch in [train]"),
        (lambda s: s["settings"].update(jacobian=True), "settings.jacobian: not used by a training sweep"),
        (lambda s: s["settings"].update(theory=True), "settings.theory: mean-field columns are not part"),
        (lambda s: s["train"].update(batch=1000), "batch=1000 exceeds the task's 128 training rows"),
        (lambda s: s["train"].update(task="teacher", loss="cross_entropy", batch=16), "cross_entropy"),
        (lambda s: s["train"].update(eval_every=50), "eval_every=50 exceeds steps=12"),
        (lambda s: s["train"].update(target=-1), "train.target: target=-1"),
    ],
)
def test_bad_training_specs_are_refused_before_anything_is_written(tmp_path, change, message):
    s = spec()
    change(s)
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fi.sweep(s, out=tmp_path / "never", progress=False)
    assert not (tmp_path / "never").exists()


def test_statistics_specs_keep_their_hash():
    """Adding [train] to the format changes no existing spec's identity (stored results resume)."""
    s = load_spec(
        {"grid": {"initializer": ["he_normal"], "depth": [2]}, "settings": {"activation": "relu", "width": 4}}
    )
    assert not s.train and '"train"' not in s.canonical


def test_dask_backend_gives_the_same_table(table):
    pytest.importorskip("dask.distributed")
    got = fi.sweep(spec(), backend="dask", progress=False)
    pd.testing.assert_frame_equal(got, table)
