"""Public Numba kernels, callable from Python or from a user's own ``@njit`` code.

Sampling (:mod:`.sampling`): :func:`fill_normal`, :func:`fill_uniform`, :func:`fill_elementwise`,
:func:`fill_layers`, :func:`fill_layers_rows`, :func:`fill_rows`, :func:`sparse_mask`,
:func:`from_base`.

Layer primitives (:mod:`.layers`): :func:`dense_forward` (= :func:`dense_product` +
:func:`bias_activation`), :func:`weight_gradient`, :func:`dense_backward`, :func:`lsuv_scale`;
each takes the ``scratch`` of :func:`layer_scratch`.

Metric primitives (:mod:`.metrics`): :func:`forward_metrics`, :func:`backward_metrics`,
:func:`jacobian_step`, :func:`shared_weights`, :func:`distinct_units`; :data:`METRICS` names the
columns of a layer's metric row.

Networks (:mod:`.network`): :func:`network_statistics` (many networks of one shape, at several
depths, in parallel), composed of :func:`single_network` = :func:`lsuv_scales` (pre-pass) +
:func:`forward_pass` + :func:`backward_pass`; :func:`unit_classes`; :data:`NET_INT` and
:data:`NET_REAL` describe the networks tables; :func:`workspace_length` sizes the per-thread
workspace.

CPU-only (a CUDA backend replaces these): :mod:`.blas` (``gemm`` through SciPy's BLAS) and
:mod:`.activate` (the vectorised activation pass with its exp bit trick).
"""
from .layers import (
                     bias_activation,
                     dense_backward,
                     dense_forward,
                     dense_product,
                     layer_scratch,
                     lsuv_scale,
                     weight_gradient,
)
from .metrics import (
                     INTEGER_METRICS,
                     METRICS,
                     N_METRICS,
                     backward_metrics,
                     distinct_units,
                     forward_metrics,
                     jacobian_step,
                     shared_weights,
)
from .network import (
                     LOSS_MSE,
                     LOSS_PROBE,
                     NET_INT,
                     NET_REAL,
                     backward_pass,
                     forward_pass,
                     lsuv_scales,
                     network_statistics,
                     single_network,
                     unit_classes,
                     workspace_layout,
                     workspace_length,
)
from .sampling import (
                     CONSTANT,
                     EXPLICIT,
                     NORMAL,
                     ORTHOGONAL,
                     TRUNCATED,
                     UNIFORM,
                     elementwise_into,
                     fill,
                     fill_elementwise,
                     fill_layers,
                     fill_layers_rows,
                     fill_normal,
                     fill_rows,
                     fill_uniform,
                     from_base,
                     sparse_mask,
)

__all__ = [
    "CONSTANT",
    "EXPLICIT",
    "INTEGER_METRICS",
    "LOSS_MSE",
    "LOSS_PROBE",
    "METRICS",
    "NET_INT",
    "NET_REAL",
    "NORMAL",
    "N_METRICS",
    "ORTHOGONAL",
    "TRUNCATED",
    "UNIFORM",
    "backward_metrics",
    "backward_pass",
    "bias_activation",
    "dense_backward",
    "dense_forward",
    "dense_product",
    "distinct_units",
    "elementwise_into",
    "fill",
    "fill_elementwise",
    "fill_layers",
    "fill_layers_rows",
    "fill_normal",
    "fill_rows",
    "fill_uniform",
    "forward_metrics",
    "forward_pass",
    "from_base",
    "jacobian_step",
    "layer_scratch",
    "lsuv_scale",
    "lsuv_scales",
    "network_statistics",
    "shared_weights",
    "single_network",
    "sparse_mask",
    "unit_classes",
    "weight_gradient",
    "workspace_layout",
    "workspace_length",
]
