"""The published results of examples/*.py, at small size: every check must agree."""
import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = ["glorot_bengio", "he_prelu", "schoenholz", "pennington", "hanin_rolnick", "symmetry"]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"repro_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_reproduction_agrees(name, tmp_path):
    module = _load(name)
    checks, data = module.run(quick=True)
    assert checks, "a reproduction must check something"
    failed = [f"{c.claim}: published {c.published}; measured {c.measured}" for c in checks if not c.passed]
    assert not failed, "\n".join(failed)
    import matplotlib
    matplotlib.use("Agg")
    fig = module.plot(data)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 5000
