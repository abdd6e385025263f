"""A whole small sweep, its peak memory, import time and JIT compile time."""
import fastinit as fi

SPEC = {"grid": {"initializer": ["glorot_uniform", "he_normal", "orthogonal", "lecun_normal"],
                 "activation": ["tanh", "relu", "sigmoid"], "depth": [2, 8, 32], "width": [64], "seed": [0, 1]},
        "settings": {"batch": 64}}


class Sweep:
    timeout = 300

    def setup(self):
        df = fi.sweep(SPEC, progress=False)
        ref = fi.simulate("he_normal", "relu", depth=8, width=64, batch=64, seed=1)
        row = df[(df.initializer == "he_normal") & (df.activation == "relu") & (df.depth == 8) & (df.seed == 1)]
        assert (row["preact_sq"].to_numpy() == ref["preact_sq"].to_numpy()).all()

    def time_sweep_72_configs(self):
        fi.sweep(SPEC, progress=False)

    def peakmem_sweep_72_configs(self):
        fi.sweep(SPEC, progress=False)


class Startup:
    timeout = 600

    def timeraw_import(self):
        return "import fastinit"

    def timeraw_simulate_cached(self):
        # the on-disk JIT cache is warm after the first repeat
        return "import fastinit as fi; fi.simulate('he_normal', 'tanh', depth=2, width=8, batch=4)"

    def timeraw_simulate_cold(self):
        return ("import os, tempfile; os.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp(); "
                "import fastinit as fi; fi.simulate('he_normal', 'tanh', depth=2, width=8, batch=4)")
