"""1-D and 3-D convolutions and transposed convolutions, with hand-written backward.

``conv1d`` and ``conv_transpose1d`` are the 2-D ops of ``chainrule.ops.conv`` on images one pixel high
(an (N, C, L) batch is an (N, C, 1, L) batch; the reshapes are views), so they share the 2-D ops' fast
paths. ``conv3d`` and ``conv_transpose3d`` use the same column-matrix method over three spatial axes
(see ``chainrule.ops.conv``'s docstring for the derivation): for every kernel offset (a, p, q) the input
voxels it sees form one strided slice of the padded input, and

    out = W @ cols + b,   dL/dW = g @ colsᵀ,   dL/dcols = Wᵀ @ g  then col2im,   dL/db = Σ g.
"""

import itertools
import math

from ..backend import xp
from ..tensor import as_tensor, result
from .conv import _checked_bias, _grouped_matmul, _matmul_transposed, conv2d, conv_transpose2d
from .linear_maps import bilinear_double
from .pooling_nd import LAYOUTS, tuple_of
from .shape import reshape

__all__ = ["conv1d", "conv3d", "conv_transpose1d", "conv_transpose3d"]


def _check(x, weight, d, op, weight_layout):
    if x.ndim != d + 2:
        raise ValueError(f"{op}: input must be a {d + 2}-D {LAYOUTS[d]} tensor, got shape {x.shape}")
    if weight.ndim != d + 2:
        raise ValueError(f"{op}: weight must be {d + 2}-D {weight_layout}, got shape {weight.shape}")


# ---------------------------------------------------------------------- 1-D
def _padding_1d(padding, op):
    if isinstance(padding, str):
        return padding
    (p,) = tuple_of(padding, 1, "padding", op)
    return (0, p)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of an (N, C_in, L) batch with a (C_out, C_in / groups, k) weight.

    ``padding``: an int, ``"same"`` (stride 1) or ``"valid"``. Returns (N, C_out, L_out),
    ``L_out = (L + 2p - d(k - 1) - 1) // s + 1``.
    """
    op = "conv1d"
    x, weight = as_tensor(x), as_tensor(weight)
    _check(x, weight, 1, op, "(out_channels, in_channels/groups, k)")
    (s,), (d,) = tuple_of(stride, 1, "stride", op, 1), tuple_of(dilation, 1, "dilation", op, 1)
    N, C, L = x.shape
    out = conv2d(reshape(x, (N, C, 1, L)), reshape(weight, weight.shape[:2] + (1, weight.shape[2])), bias,
                 (1, s), _padding_1d(padding, op), (1, d), groups)
    return reshape(out, (N, out.shape[1], out.shape[3]))


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of an (N, C_in, L) batch with a (C_in, C_out / groups, k) weight.

    Returns (N, C_out, L_out), ``L_out = (L - 1)s - 2p + d(k - 1) + output_padding + 1``.
    """
    op = "conv_transpose1d"
    x, weight = as_tensor(x), as_tensor(weight)
    _check(x, weight, 1, op, "(in_channels, out_channels/groups, k)")
    (s,), (d,) = tuple_of(stride, 1, "stride", op, 1), tuple_of(dilation, 1, "dilation", op, 1)
    (p,), (extra,) = tuple_of(padding, 1, "padding", op), tuple_of(output_padding, 1, "output_padding", op)
    N, C, L = x.shape
    out = conv_transpose2d(reshape(x, (N, C, 1, L)), reshape(weight, weight.shape[:2] + (1, weight.shape[2])), bias,
                           (1, s), (0, p), (0, extra), groups, (1, d))
    return reshape(out, (N, out.shape[1], out.shape[3]))


# ---------------------------------------------------------------------- 3-D
def _same_padding(kernel, dilation):
    """'same' padding per axis: the dilated extent minus one, the odd unit at the end (as PyTorch)."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))


def _padding_3d(padding, kernel, stride, dilation, op):
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * 3
        if mode == "same":
            if stride != (1, 1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            return _same_padding(kernel, dilation)
        raise ValueError(f"{op}: padding must be an int, 3 ints, 'same' or 'valid', got {padding!r}")
    return tuple((p, p) for p in tuple_of(padding, 3, "padding", op))


def _channels_first(array):
    """(N, C, ...) <-> (C, N, ...): the layout the column products want (see ops.conv)."""
    return array.swapaxes(0, 1)


def _pad(xc, pads):
    if not any(before or after for before, after in pads):
        return xc
    shape = xc.shape[:2] + tuple(n + a + b for n, (a, b) in zip(xc.shape[2:], pads))
    out = xp.zeros(shape, dtype=xc.dtype)
    out[(slice(None), slice(None)) + tuple(slice(a, a + n) for n, (a, _) in zip(xc.shape[2:], pads))] = xc
    return out


def _crop(xc, pads, size):
    return xc[(slice(None), slice(None)) + tuple(slice(a, a + n) for n, (a, _) in zip(size, pads))]


def _offset_windows(kernel, stride, dilation, out):
    """(offset, index) for every kernel offset: the strided slice of the padded input it sees."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield offset, tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                            for o, d, s, n in zip(offset, dilation, stride, out))


def _im2col(xc, kernel, stride, dilation, out):
    """Column array (C, *kernel, N, *out) of a padded channels-first (C, N, *spatial) input."""
    C, N = xc.shape[:2]
    cols = xp.empty((C,) + tuple(kernel) + (N,) + tuple(out), dtype=xc.dtype)
    for offset, index in _offset_windows(kernel, stride, dilation, out):
        cols[(slice(None),) + offset] = xc[(slice(None), slice(None)) + index]
    return cols


def _col2im(cols, padded, kernel, stride, dilation, out):
    """The adjoint of :func:`_im2col`: every column entry added back onto the voxel it came from."""
    C, N = cols.shape[0], cols.shape[1 + len(kernel)]
    image = xp.zeros((C, N) + tuple(padded), dtype=cols.dtype)
    for offset, index in _offset_windows(kernel, stride, dilation, out):
        image[(slice(None), slice(None)) + index] += cols[(slice(None),) + offset]
    return image


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of an (N, C_in, D, H, W) batch with a (C_out, C_in / groups, kd, kh, kw) weight.

    ``stride``, ``padding``, ``dilation``: an int or 3 ints (``padding`` also ``"same"``/``"valid"``).
    Returns (N, C_out, Do, Ho, Wo), each ``(n + 2p - d(k - 1) - 1) // s + 1``.
    """
    op = "conv3d"
    x, weight = as_tensor(x), as_tensor(weight)
    _check(x, weight, 3, op, "(out_channels, in_channels/groups, kd, kh, kw)")
    N, C = x.shape[:2]
    O, Cg = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or C != Cg * groups or O % groups:
        raise ValueError(f"{op}: input has {C} channels (shape {x.shape}) but the weight {weight.shape} with "
                         f"groups={groups} expects {Cg * groups} (and out_channels divisible by groups)")
    bias = _checked_bias(bias, O, op)
    stride = tuple_of(stride, 3, "stride", op, 1)
    dilation = tuple_of(dilation, 3, "dilation", op, 1)
    pads = _padding_3d(padding, kernel, stride, dilation, op)
    spatial = x.shape[2:]
    padded = tuple(n + a + b for n, (a, b) in zip(spatial, pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, extent)):
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input {padded}")
    out = tuple((p - e) // s + 1 for p, e, s in zip(padded, extent, stride))
    G, Og, K, M = groups, O // groups, math.prod(kernel), N * math.prod(out)
    dtype = xp.result_type(x.dtype, weight.dtype)
    xc = _pad(_channels_first(x.data).astype(dtype, copy=False), pads)
    w3 = weight.data.astype(dtype, copy=False).reshape(G, Og, Cg * K)

    def column_matrix():
        return _im2col(xc, kernel, stride, dilation, out).reshape(G, Cg * K, M)

    y = _grouped_matmul(w3, column_matrix(), G).reshape((O, N) + out)
    if bias is not None:
        y += bias.data.reshape((O, 1, 1, 1, 1))
    parents = (x, weight) if bias is None else (x, weight, bias)

    # y = W @ cols + b:  dL/dW = g @ colsᵀ,  dL/dcols = Wᵀ @ g then col2im,  dL/db = Σ g
    def backward(g):
        g3 = xp.ascontiguousarray(_channels_first(g)).reshape(G, Og, M)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = _matmul_transposed(g3, column_matrix(), G).reshape(weight.shape).astype(weight.dtype, copy=False)
        if x.requires_grad:
            dcols = _grouped_matmul(w3.transpose(0, 2, 1), g3, G).reshape((C,) + tuple(kernel) + (N,) + out)
            gx = _channels_first(_crop(_col2im(dcols, padded, kernel, stride, dilation, out), pads, spatial))
            gx = gx.astype(x.dtype, copy=False)
        if bias is not None and bias.requires_grad:
            gb = g3.sum(axis=2).reshape(O).astype(bias.dtype, copy=False)
        return (gx, gw) if bias is None else (gx, gw, gb)

    def double(g):  # bilinear in (x, W) (linear_maps)
        return bilinear_double(lambda a, w: conv3d(a, w, None, stride, padding, dilation, groups), x, weight, bias)(g)

    return result(_channels_first(y), parents, backward, op, double)


def conv_transpose3d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution of an (N, C_in, D, H, W) batch with a (C_in, C_out / groups, kd, kh, kw) weight.

    Returns (N, C_out, Do, Ho, Wo), each ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``: the gradient
    of :func:`conv3d` with respect to its input, as a layer.
    """
    op = "conv_transpose3d"
    x, weight = as_tensor(x), as_tensor(weight)
    _check(x, weight, 3, op, "(in_channels, out_channels/groups, kd, kh, kw)")
    N, C = x.shape[:2]
    Cw, Og = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or C != Cw or C % groups:
        raise ValueError(f"{op}: input has {C} channels (shape {x.shape}) but the weight {weight.shape} with "
                         f"groups={groups} expects {Cw} (divisible by groups)")
    G, Cg, O = groups, C // groups, Og * groups
    bias = _checked_bias(bias, O, op)
    stride = tuple_of(stride, 3, "stride", op, 1)
    dilation = tuple_of(dilation, 3, "dilation", op, 1)
    padding = tuple_of(padding, 3, "padding", op)
    extra = tuple_of(output_padding, 3, "output_padding", op)
    for e, s, d in zip(extra, stride, dilation):
        if e >= max(s, d):
            raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {stride} or dilation {dilation}")
    spatial = x.shape[2:]
    full = tuple((n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(spatial, stride, dilation, kernel))
    out = tuple(f - 2 * p + e for f, p, e in zip(full, padding, extra))
    if min(out) < 1:
        raise ValueError(f"{op}: padding {padding} removes the whole output (full size {full})")
    canvas = tuple(max(f, p + o) for f, p, o in zip(full, padding, out))
    pads = tuple((p, c - p - o) for p, c, o in zip(padding, canvas, out))
    dtype = xp.result_type(x.dtype, weight.dtype)
    M, K = N * math.prod(spatial), math.prod(kernel)
    xc3 = xp.ascontiguousarray(_channels_first(x.data).astype(dtype, copy=False)).reshape(G, Cg, M)
    w3 = weight.data.astype(dtype, copy=False).reshape(G, Cg, Og * K)
    cols = _grouped_matmul(w3.transpose(0, 2, 1), xc3, G).reshape((O,) + tuple(kernel) + (N,) + spatial)
    y = xp.ascontiguousarray(_crop(_col2im(cols, canvas, kernel, stride, dilation, spatial), pads, out))
    if bias is not None:
        y += bias.data.reshape((O, 1, 1, 1, 1))
    parents = (x, weight) if bias is None else (x, weight, bias)

    # y = col2im(Wᵀ @ x) + b is conv3d's input gradient, so its gradients are conv3d's forward:
    #   cols_g = im2col(g);  dL/dx = W @ cols_g;  dL/dW = x @ cols_gᵀ;  dL/db = Σ g
    def backward(g):
        gc = _pad(_channels_first(g), pads)
        cols_g = _im2col(gc, kernel, stride, dilation, spatial).reshape(G, Og * K, M)
        gx = gw = gb = None
        if x.requires_grad:
            gx = _grouped_matmul(w3, cols_g, G).reshape((C, N) + spatial)
            gx = _channels_first(gx).astype(x.dtype, copy=False)
        if weight.requires_grad:
            gw = _matmul_transposed(xc3, cols_g, G).reshape(weight.shape).astype(weight.dtype, copy=False)
        if bias is not None and bias.requires_grad:
            gb = g.sum(axis=(0, 2, 3, 4)).astype(bias.dtype, copy=False)
        return (gx, gw) if bias is None else (gx, gw, gb)

    def double(g):  # bilinear in (x, W) (linear_maps)
        def forward(a, w):
            return conv_transpose3d(a, w, None, stride, padding, extra, groups, dilation)

        return bilinear_double(forward, x, weight, bias)(g)

    return result(_channels_first(y), parents, backward, op, double)
