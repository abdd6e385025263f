"""Public Numba kernels, callable from Python or from a user's own ``@njit`` code.

Sampling: :func:`fill_normal`, :func:`fill_uniform`, :func:`fill_elementwise`, :func:`fill_layers`,
:func:`sparse_mask`, :func:`from_base`. Networks: :func:`network_statistics` (many networks of one
shape, in parallel) and :func:`single_network` (one network), with :data:`METRICS` and
:data:`VARIANT_COLUMNS` describing their tables and :func:`workspace_length` sizing their scratch memory.
"""
from .network import (EXPLICIT, LOSS_MSE, LOSS_PROBE, METRICS, N_METRICS, VARIANT_COLUMNS, distinct_columns,
                      network_statistics, single_network, workspace_length)
from .sampling import (CONSTANT, NORMAL, ORTHOGONAL, TRUNCATED, UNIFORM, elementwise_into, fill, fill_elementwise, fill_layers,
                       fill_normal, fill_uniform, sparse_mask, from_base)

__all__ = ["CONSTANT", "EXPLICIT", "LOSS_MSE", "LOSS_PROBE", "METRICS", "N_METRICS", "NORMAL", "ORTHOGONAL",
           "TRUNCATED", "UNIFORM", "VARIANT_COLUMNS", "distinct_columns", "elementwise_into", "fill", "fill_elementwise",
           "fill_layers", "fill_normal", "fill_uniform", "network_statistics", "single_network", "sparse_mask",
           "from_base", "workspace_length"]
