"""Record the reference tables that ``test_reference_tables.py`` compares against.

Run once on a trusted version (``python tests/record_reference.py``); the tables were recorded
from main at b5e53a7, before the engine redesign. Rows of initializers drawn from orthogonal
matrices may differ within float rounding after the QR moved to Numba; everything else must be
bit-identical.

Products go through OpenBLAS, whose kernels (chosen per CPU) round differently: the tables were
recorded with its Haswell kernels, so recording runs with ``OPENBLAS_CORETYPE=Haswell``
(:data:`CORETYPE`; it must be set before SciPy loads OpenBLAS, which is why the test records in a
subprocess). Any x86-64 CPU with AVX2 and FMA runs them.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import fastinit as fi

DATA = Path(__file__).parent / "data" / "reference"
#: The OpenBLAS kernel the tables were recorded with.
CORETYPE = "Haswell"

#: One sweep that reaches the planner's paths: families sharing base draws, structured weights,
#: LSUV, biases, widths lists, trials, paired inputs, several depths per network, chunk splits.
SWEEPS = {
    "families": {
        "grid": {
            "initializer": [
                "glorot_uniform",
                "glorot_normal",
                "he_normal",
                "lecun_normal",
                "kaiming_normal",
                "orthogonal",
                {"name": "truncated_normal", "stddev": 0.3},
                {"name": "random_uniform", "minval": -0.4, "maxval": 0.4},
                {"name": "constant", "value": 0.1},
                "torch_default",
                {"name": "lsuv", "base": "glorot_normal"},
                "sparse_martens",
                {"name": "he_uniform", "negative_slope": 0.2},
                "kwon_tanh_uniform",
            ],
            "activation": [
                "tanh",
                "relu",
                "sigmoid",
                "linear",
                {"name": "leaky_relu", "negative_slope": 0.2},
                "selu",
                "softplus",
                "hard_tanh",
                "gelu",
            ],
            "depth": [1, 3, 6],
            "seed": [0, 5],
        },
        "settings": {"width": 16, "batch": 8, "bias_initializer": {"name": "random_normal", "stddev": 0.1}},
    },
    "shapes": {
        "grid": {
            "initializer": ["he_normal", "orthogonal", {"name": "lsuv", "base": "orthogonal"}, "identity"],
            "activation": ["relu", "tanh"],
            "widths": [[7, 9, 9, 9], [12, 12, 5, 5]],
            "trial": [0, 2],
            "dtype": ["float32", "float64"],
        },
        "settings": {"batch": 6, "seed": 3, "chunk_size": 5, "jacobian": True},
    },
    "paired": {
        "grid": {
            "initializer": ["glorot_normal", "he_uniform"],
            "activation": ["tanh", "silu", "elu"],
            "input_corr": [0.0, 0.8],
            "loss": ["probe", "mse"],
            "depth": [4, 9],
        },
        "settings": {"width": 33, "batch": 10, "dtype": "float64", "input": "normal"},
    },
    "uniform01": {
        "grid": {
            "initializer": ["glorot_uniform", {"name": "random_uniform", "minval": -1.0, "maxval": 1.0}],
            "activation": ["softsign", "sigmoid"],
            "backward": [True, False],
        },
        "settings": {"depth": 5, "width": 70, "batch": 4, "input": "uniform01"},
    },
}


def array_input() -> pd.DataFrame:
    """``simulate`` with a user's input array (a path sweeps do not take)."""
    x = np.linspace(-2.0, 3.0, 5 * 11).reshape(5, 11)
    return fi.simulate("lecun_uniform", "tanh", depth=4, width=11, input=x, seed=9, jacobian=True)


def record() -> dict[str, pd.DataFrame]:
    """Every reference table by name."""
    return {**{name: fi.sweep(spec, progress=False) for name, spec in SWEEPS.items()}, "array": array_input()}


def blas_coretype() -> str | None:
    """The kernel architecture of the OpenBLAS that SciPy (and so fastinit's products) uses."""
    import scipy.linalg  # noqa: F401  (loads SciPy's OpenBLAS)
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        path = info.get("filepath", "")
        if info.get("internal_api") == "openblas" and ("scipy.libs" in path or "scipy_openblas32" in path):
            return info.get("architecture")
    return None


if __name__ == "__main__":
    if os.environ.get("OPENBLAS_CORETYPE") != CORETYPE:
        sys.exit(f"run with OPENBLAS_CORETYPE={CORETYPE} (the kernel the tables are recorded with)")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    out.mkdir(parents=True, exist_ok=True)
    print(f"OpenBLAS kernel: {blas_coretype()}")
    for name, df in record().items():
        df.to_parquet(out / f"{name}.parquet", index=False)
        print(f"{name}: {len(df)} rows -> {out / name}.parquet")
