"""Reshaped views of C-contiguous arrays without Numba's general reshape.

Numba's ``reshape`` calls a C helper to work out strides for any layout (about 17 ns); the network
kernel takes a dozen views per layer, so the kernels use these two, which only relabel the shape of
a C-contiguous array. Neither checks sizes: the caller guarantees them.
"""
from __future__ import annotations

from numba import types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


@intrinsic
def as_vector(typingctx, a):
    """The 1-D view of a C-contiguous array (all its elements, in order)."""
    if not isinstance(a, types.Array) or a.layout != "C":
        return None
    ret = a.copy(ndim=1, layout="C")

    def codegen(context, builder, sig, args):
        ary = make_array(sig.args[0])(context, builder, args[0])
        out = make_array(sig.return_type)(context, builder)
        populate_array(out, data=ary.data, shape=[ary.nitems], strides=[ary.itemsize], itemsize=ary.itemsize,
                       meminfo=ary.meminfo, parent=ary.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, out._getvalue())

    return ret(a), codegen


@intrinsic
def as_matrix(typingctx, v, rows, cols):
    """The C-ordered ``(rows, cols)`` view of the first ``rows * cols`` elements of a C-contiguous
    1-D array (unchecked)."""
    if not (isinstance(v, types.Array) and v.ndim == 1 and v.layout == "C" and isinstance(rows, types.Integer)
            and isinstance(cols, types.Integer)):
        return None
    ret = v.copy(ndim=2, layout="C")

    def codegen(context, builder, sig, args):
        ary = make_array(sig.args[0])(context, builder, args[0])
        r = context.cast(builder, args[1], sig.args[1], types.intp)
        c = context.cast(builder, args[2], sig.args[2], types.intp)
        out = make_array(sig.return_type)(context, builder)
        populate_array(out, data=ary.data, shape=[r, c], strides=[builder.mul(c, ary.itemsize), ary.itemsize],
                       itemsize=ary.itemsize, meminfo=ary.meminfo, parent=ary.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, out._getvalue())

    return ret(v, rows, cols), codegen
