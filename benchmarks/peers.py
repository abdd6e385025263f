"""Side-by-side comparison with a PyTorch loop, a NumPy loop and the matmul limit.

Run ``python benchmarks/peers.py`` (or ``fastinit bench``); ``--quick`` for a smoke run.
The implementation lives in :mod:`fastinit.bench` so that the installed command can run it.
"""
import sys

from fastinit.bench import main

if __name__ == "__main__":
    sys.exit(main())
