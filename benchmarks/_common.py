"""Helpers shared by the asv benchmarks: the naive references of the test suite."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import naive  # noqa: E402

__all__ = ["naive"]
