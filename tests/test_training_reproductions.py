"""The published training results of examples/train_*.py, at their --quick size: every check must agree
(each script's docstring says what is measured and why its thresholds hold at that size). The tutorial's
ranges are a report: the test asserts that it runs and prints one row per depth and activation."""
import importlib.util
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = ["train_he2015", "train_saxe2014", "train_schoenholz2017", "train_glorot2010"]

DIGITS = {"train_he2015", "train_schoenholz2017", "train_glorot2010", "train_tutorial_ranges"}


def _load(name):
    spec = importlib.util.spec_from_file_location(f"repro_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _figure(module, data, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    fig = module.plot(data)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 5000


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_training_reproduction_agrees(name, tmp_path):
    if name in DIGITS:
        pytest.importorskip("sklearn")   # the digits task
    module = _load(name)
    checks, data = module.run(quick=True)
    assert checks, "a reproduction must check something"
    failed = [f"{c.claim}: published {c.published}; measured {c.measured}" for c in checks if not c.passed]
    assert not failed, "\n".join(failed)
    _figure(module, data, tmp_path)


@pytest.mark.slow
def test_tutorial_ranges_report(tmp_path, capsys):
    pytest.importorskip("sklearn")
    module = _load("train_tutorial_ranges")
    rows, data = module.run(quick=True)
    s = data["settings"]
    module.print_table(rows, s)
    out = capsys.readouterr().out
    for width in s["widths"]:
        for act in module.ACTS:
            for depth in s["depths"]:
                line = re.compile(rf"^\s*{width}\s+{act}\s+{depth}\s", re.M)
                assert len(line.findall(out)) == 1, f"no single row for width {width}, {act}, depth {depth}"
    assert len(rows) == len(s["widths"]) * len(module.ACTS) * len(s["depths"])
    for r in rows:
        assert set(r["loss"]) == set(module.RANGES)
        assert r["fastest"] in (*module.RANGES, "none")
    assert module.CLAIM in out and "REPORT" in out
    _figure(module, data, tmp_path)
