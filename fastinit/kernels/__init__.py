"""Public Numba kernels, callable from Python or from a user's own ``@njit`` code."""
from .sampling import (CONSTANT, NORMAL, ORTHOGONAL, TRUNCATED, UNIFORM, fill_elementwise, fill_layers,
                       fill_normal, fill_uniform, sparse_mask, transform)
