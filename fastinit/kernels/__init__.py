"""Public Numba kernels, callable from Python or from a user's own ``@njit`` code.

Sampling: :func:`fill_normal`, :func:`fill_uniform`, :func:`fill_elementwise`, :func:`fill_layers`,
:func:`fill_layers_rows`, :func:`fill_rows`, :func:`sparse_mask`, :func:`from_base`. Networks:
:func:`network_statistics` (many networks of one shape, at several depths, in parallel) and
:func:`single_network` (one network), with :func:`unit_classes` (which units of a weights table
share their weights, an input of both), :data:`METRICS` and :data:`VARIANT_COLUMNS` describing
their tables, and :func:`workspace_length` and :func:`workspace_layout` sizing and laying out
their scratch memory. Products go through :func:`fastinit.kernels.blas.gemm`.
"""
from .network import (LOSS_MSE, LOSS_PROBE, METRICS, N_METRICS, VARIANT_COLUMNS, distinct_units, network_statistics,
                      shared_weights, single_network, unit_classes, workspace_layout, workspace_length)
from .sampling import (CONSTANT, EXPLICIT, NORMAL, ORTHOGONAL, TRUNCATED, UNIFORM, elementwise_into, fill,
                       fill_elementwise, fill_layers, fill_layers_rows, fill_normal, fill_rows, fill_uniform, from_base,
                       sparse_mask)

__all__ = ["CONSTANT", "EXPLICIT", "LOSS_MSE", "LOSS_PROBE", "METRICS", "N_METRICS", "NORMAL", "ORTHOGONAL",
           "TRUNCATED", "UNIFORM", "VARIANT_COLUMNS", "distinct_units", "elementwise_into", "fill",
           "fill_elementwise", "fill_layers", "fill_layers_rows", "fill_normal", "fill_rows", "fill_uniform",
           "from_base", "network_statistics", "shared_weights", "single_network", "sparse_mask", "unit_classes",
           "workspace_layout", "workspace_length"]
