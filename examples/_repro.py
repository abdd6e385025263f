"""Shared plumbing of the reproduction scripts: checks, the report, and the command line."""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass


@dataclass
class Check:
    """One published claim, what this run measured, and whether they agree."""

    claim: str
    published: str
    measured: str
    passed: bool


def report(title: str, checks: list[Check]) -> int:
    """Print the checks; return 0 when all agree, 1 otherwise."""
    print(f"\n{title}")
    for c in checks:
        print(f"  [{'match' if c.passed else 'NO MATCH'}] {c.claim}\n      published: {c.published}\n"
              f"      measured:  {c.measured}")
    return 0 if all(c.passed for c in checks) else 1


def main(title: str, run, plot, name: str) -> int:
    """Command line of a reproduction: ``--quick`` for small sizes, ``--out DIR`` for the figure."""
    p = argparse.ArgumentParser(description=title)
    p.add_argument("--quick", action="store_true", help="small networks (seconds)")
    p.add_argument("--out", default="results/reproductions", help="folder for the figure")
    args = p.parse_args()
    checks, data = run(quick=args.quick)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{name}.png")
    import matplotlib
    matplotlib.use("Agg")
    fig = plot(data)
    fig.savefig(path, dpi=90)
    print(f"figure: {path}")
    return report(title, checks)
