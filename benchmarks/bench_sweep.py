"""A whole small sweep, its peak memory, import time and JIT compile time."""
import fastinit as fi

SPEC = {"grid": {"initializer": ["glorot_uniform", "he_normal", "orthogonal", "lecun_normal"],
                 "activation": ["tanh", "relu", "sigmoid"], "depth": [2, 8, 32], "width": [64],
                 "seed": [0, 1]},
        "settings": {"batch": 64}}


def shifted(spec, k):
    """``spec`` with every seed moved by ``1000 k``: the same 72 configurations on seeds no other
    ``k`` uses, so orthogonal matrices and fill parameters cannot come from an earlier call."""
    return {**spec, "grid": {**spec["grid"], "seed": [s + 1000 * k for s in spec["grid"]["seed"]]}}


def _check():
    df = fi.sweep(SPEC, progress=False)
    ref = fi.simulate("he_normal", "relu", depth=8, width=64, batch=64, seed=1)
    row = df[(df.initializer == "he_normal") & (df.activation == "relu") & (df.depth == 8) & (df.seed == 1)]
    assert (row["preact_sq"].to_numpy() == ref["preact_sq"].to_numpy()).all()


class Sweep:
    """A fresh sweep, what a user's sweep meets: new seeds on every call (a counter in the
    instance) and the engine's caches cleared inside the timing (clearing costs microseconds)."""
    timeout = 300

    def setup(self):
        _check()   # also compiles every kernel the sweep needs
        self.k = 0

    def _fresh(self):
        self.k += 1
        fi.clear_caches()
        fi.sweep(shifted(SPEC, self.k), progress=False)

    def time_sweep_72_configs(self):
        self._fresh()

    def peakmem_sweep_72_configs(self):
        self._fresh()


class SweepRepeat:
    """The same sweep run again, caches hot (orthogonal matrices, fill parameters, resolved names):
    a repeat, not what a user's sweep meets; kept to track the cached path."""
    timeout = 300

    def setup(self):
        _check()
        fi.sweep(SPEC, progress=False)

    def time_sweep_72_configs_repeat(self):
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
