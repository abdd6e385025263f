"""fastinit: a Numba-accelerated simulation engine for weight initialization."""
__version__ = "0.1.0"
from . import rng
