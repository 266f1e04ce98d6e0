"""2-D convolution, transposed convolution and channel dropout, NCHW, with hand-written backward.

A convolution is a matrix product in disguise ("im2col"). For every kernel offset (p, q)
the input pixels that the offset sees, over all output positions, form one strided slice
of the (padded) input. Stacking those slices gives the *column matrix*

    cols[c, p, q, n, i, j] = x_pad[n, c, i·s + p·d, j·s + q·d]        shape (C·kh·kw, N·Ho·Wo)

and the convolution is one matrix product with the weight matrix W (O, C·kh·kw):

    out = W @ cols  + b                                               shape (O, N·Ho·Wo)

The backward pass is two more matrix products and the reverse of im2col ("col2im"):

    dL/dW    = g @ colsᵀ                 (g: upstream gradient as (O, N·Ho·Wo))
    dL/dcols = Wᵀ @ g,  and dL/dx_pad adds every column entry back onto the pixel it was copied from
    dL/db    = g summed over N, Ho, Wo

The column matrix is kh·kw times the size of the input, so it is not kept from the forward
pass to the backward pass: backward rebuilds it from the padded input (one copy, cheap next
to the products), and a network's training memory stays close to that of its activations.

At stride 1 the column matrix can instead span the padded width (``_im2col_wide``): each kernel
offset's slice is then one contiguous run per (channel, image), which roughly halves the cost of
im2col and col2im; conv2d uses it where that outweighs its extra costs (see the comment there).

Layout. The products above are cheapest with channels *outermost*, so internally every
array is (C, N, H, W) and the output is returned as a transposed view: logically
(N, O, Ho, Wo), physically (O, N, Ho, Wo). Element-wise ops (ReLU), pooling and the next
convolution keep or read that layout without copies; ``numpy.ascontiguousarray`` gives a
plain NCHW array when one is needed.
"""

import numbers

import numpy

from ..backend import xp
from ..tensor import as_tensor, result
from . import compiled
from .dropout import dropout
from .linear_maps import bilinear_double

__all__ = ["conv2d", "conv_transpose2d", "dropout2d"]


# ------------------------------------------------------------------ arguments
def _checked_bias(bias, out_channels, op):
    """``bias`` as a Tensor of shape (out_channels,), or None."""
    if bias is None:
        return None
    bias = as_tensor(bias)
    if bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},), got {bias.shape}")
    return bias


def _pair(value, name, op, minimum=0):
    """An int or a pair of ints as a tuple of two ints, each at least ``minimum``."""
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        pair = value  # the common case, checked cheaply (this runs several times per op call)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def _check_image(x, op, name="input"):
    if x.ndim != 4:
        raise ValueError(f"{op}: {name} must be a 4-D (N, C, H, W) tensor, got shape {x.shape}")


def _conv_padding(padding, kernel, stride, dilation, op):
    """Padding as ((top, bottom), (left, right)).

    ``"valid"`` is no padding; ``"same"`` keeps the spatial size at stride 1 and, when the
    dilated kernel's extent is even, puts the extra row/column at the bottom/right (as PyTorch).
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{op}: padding must be an int, a pair of ints, 'same' or 'valid', got {padding!r}")
    ph, pw = _pair(padding, "padding", op)
    return (ph, ph), (pw, pw)


def _spatial_out(shape_hw, pads, kernel, stride, dilation, op):
    """(Ho, Wo); a ValueError naming ``op`` when the dilated kernel is larger than the padded input."""
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + before + after for n, (before, after) in zip(shape_hw, pads))
    if padded[0] < extent[0] or padded[1] < extent[1]:
        dilated = f" (extent {extent[0]}x{extent[1]} with dilation {dilation})" if dilation != (1, 1) else ""
        symmetric = all(before == after for before, after in pads)
        padding = (pads[0][0], pads[1][0]) if symmetric else pads
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]}{dilated} is larger than the padded input "
            f"{padded[0]}x{padded[1]} (input {shape_hw[0]}x{shape_hw[1]}, padding {padding})"
        )
    return tuple((p - e) // s + 1 for p, e, s in zip(padded, extent, stride))


# --------------------------------------------------------- im2col and col2im
def _window(offset, step, count):
    """The slice of input rows (or columns) that kernel offset ``offset`` sees at ``count`` output positions."""
    return slice(offset, offset + step * (count - 1) + 1, step)


def _pad_channels_first(xc, pads, fill=0):
    """Pad the two spatial axes of a (C, N, H, W) array; returns it unchanged when there is no padding."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return xc
    C, N, H, W = xc.shape
    out = xp.empty((C, N, H + top + bottom, W + left + right), dtype=xc.dtype)
    if fill == 0:
        out[...] = 0
    else:
        out.fill(fill)
    out[:, :, top : top + H, left : left + W] = xc
    return out


def _im2col(xc, kernel, stride, dilation, out_hw):
    """Column array (C, kh, kw, N, Ho, Wo) of a padded (C, N, Hp, Wp) input.

    ``cols[c, p, q, n, i, j] = xc[c, n, i·sh + p·dh, j·sw + q·dw]``: one strided-slice copy per kernel offset.
    """
    C, N = xc.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    cols = xp.empty((C, kh, kw, N, Ho, Wo), dtype=xc.dtype)
    kernels = _kernels(xc.dtype) if sw == 1 else None  # runs along the width must be contiguous (_conv_numba)
    if kernels is not None:
        kernels.im2col(xp.ascontiguousarray(xc), sh, dh, dw, cols)
        return cols
    for p in range(kh):
        rows = _window(p * dh, sh, Ho)
        for q in range(kw):
            cols[:, p, q] = xc[:, :, rows, _window(q * dw, sw, Wo)]
    return cols


def _col2im(cols, padded_hw, stride, dilation):
    """The adjoint of :func:`_im2col`: add every column entry back onto the pixel it came from.

    ``cols`` is (C, kh, kw, N, Ho, Wo); returns the padded (C, N, Hp, Wp) sum. Where windows
    overlap (stride < kernel extent) the contributions add up, which is the chain rule's sum
    over every output position that used a pixel.
    """
    C, kh, kw, N, Ho, Wo = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    kernels = _kernels(cols.dtype) if sw == 1 else None
    if kernels is not None:
        out = xp.empty((C, N) + tuple(padded_hw), dtype=cols.dtype)
        kernels.col2im(xp.ascontiguousarray(cols), sh, dh, dw, out)
        return out
    out = xp.zeros((C, N) + tuple(padded_hw), dtype=cols.dtype)
    for p in range(kh):
        rows = _window(p * dh, sh, Ho)
        for q in range(kw):
            out[:, :, rows, _window(q * dw, sw, Wo)] += cols[:, p, q]
    return out


def _im2col_wide(xc, kernel, dilation, out_hw):
    """Stride-1 column array (C, kh, kw, N, Ho·Wp) of a padded (C, N, Hp, Wp) input, over the padded *width*.

    At stride 1, the pixels that kernel offset (p, q) sees are, in the row-major flattened plane of
    each (c, n), the one contiguous run starting at ``p·dh·Wp + q·dw``: output (i, j) reads flat index
    ``(i + p·dh)·Wp + j + q·dw``. Taking j over the whole padded width (0 <= j < Wp instead of Wo)
    makes each offset's copy one long 1-D slice per (c, n) instead of Ho short rows (measured
    2-2.5x faster than :func:`_im2col` in the benchmark CNN). The extra ``Wp - Wo`` "wrap-around" columns per output row read pixels
    of the next row; the products compute garbage there, which the caller drops (forward) or zeroes
    in the upstream gradient (backward). Only the last row's wrap-around would read past the plane:
    those entries are set to 0 instead, so every entry is finite (0 · garbage must stay 0).
    """
    C, N, Hp, Wp = xc.shape
    (kh, kw), (dh, dw), (Ho, Wo) = kernel, dilation, out_hw
    flat = xc.reshape(C, N, Hp * Wp)  # a view for the padded buffer conv2d makes
    length = Ho * Wp - (Wp - Wo)  # the run every offset can read; the rest are last-row wrap-around columns
    cols = xp.empty((C, kh, kw, N, Ho * Wp), dtype=xc.dtype)
    kernels = _kernels(xc.dtype)
    if kernels is not None:
        kernels.im2col_wide(xp.ascontiguousarray(flat), kh, kw, dh, dw, Wp, length, cols)
        return cols
    cols[..., length:] = 0
    for p in range(kh):
        for q in range(kw):
            start = p * dh * Wp + q * dw
            cols[:, p, q, :, :length] = flat[:, :, start : start + length]
    return cols


def _col2im_wide(cols, padded_hw, dilation, out_w):
    """The adjoint of :func:`_im2col_wide`: ``cols`` (C, kh, kw, N, Ho·Wp) added back onto a (C, N, Hp, Wp) plane.

    The wrap-around columns must be zero in ``cols`` (they are when the upstream gradient is zero
    there): they would otherwise add onto the pixels of the next row.
    """
    C, kh, kw, N, _ = cols.shape
    (Hp, Wp), (dh, dw) = padded_hw, dilation
    length = cols.shape[-1] - (Wp - out_w)
    kernels = _kernels(cols.dtype)
    if kernels is not None:
        out = xp.empty((C, N, Hp * Wp), dtype=cols.dtype)
        kernels.col2im_wide(xp.ascontiguousarray(cols), dh, dw, Wp, length, out)
        return out.reshape(C, N, Hp, Wp)
    out = xp.zeros((C, N, Hp * Wp), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            start = p * dh * Wp + q * dw
            out[:, :, start : start + length] += cols[:, p, q, :, :length]
    return out.reshape(C, N, Hp, Wp)


def _kernels(dtype):
    """The compiled im2col/col2im (``_conv_numba``) for arrays of ``dtype``, or None (NumPy path)."""
    return compiled.load("_conv_numba", _warm_up, dtype)


def _warm_up(module):
    """Compile the im2col and col2im kernels for float32 (other dtypes compile at their first use)."""
    flat, cols = numpy.zeros((1, 1, 4), numpy.float32), numpy.zeros((1, 2, 2, 1, 2), numpy.float32)
    module.im2col_wide(flat, 2, 2, 1, 1, 2, 1, cols)
    module.col2im_wide(cols, 1, 1, 2, 1, flat)
    image, cols = numpy.zeros((1, 1, 2, 2), numpy.float32), numpy.zeros((1, 2, 2, 1, 1, 1), numpy.float32)
    module.im2col(image, 1, 1, 1, cols)
    module.col2im(cols, 1, 1, 1, image)


def _crop(xc, pads, hw):
    (top, _), (left, _) = pads
    return xc[:, :, top : top + hw[0], left : left + hw[1]]


def _grouped_matmul(a, b, groups):
    """``a @ b`` per group: a (G, m, k), b (G, k, n) -> (G, m, n); one plain product when G == 1."""
    if groups == 1:
        return (a[0] @ b[0])[None]
    return xp.matmul(a, b)


def _matmul_transposed(a, b, groups):
    """``a @ bᵀ`` per group: a (G, m, M), b (G, n, M) -> (G, m, n), for the weight gradients' products
    over a long inner dimension M (every output position).

    When b has more rows it is computed as ``(b @ aᵀ)ᵀ``, the same sums: OpenBLAS handles these
    products better with the taller operand on the left. Benchmark CNN, one thread: 572 against
    668 us for (16, 14336) by (72, 14336)ᵀ, 280 against 352 for (8, 50176) by (9, 50176)ᵀ; two
    threads: 444 against 761 and 321 against 481 us."""
    if b.shape[1] > a.shape[1]:
        return _grouped_matmul(b, a.transpose(0, 2, 1), groups).transpose(0, 2, 1)
    return _grouped_matmul(a, b.transpose(0, 2, 1), groups)


def _channels_first(x):
    """The (C, N, H, W) view of an (N, C, H, W) array (and back: the transpose is its own inverse)."""
    return x.transpose(1, 0, 2, 3)


# --------------------------------------------------------------------- conv2d
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in every deep-learning library) of an NCHW batch.

    Parameters
    ----------
    x : Tensor (N, C_in, H, W)
    weight : Tensor (C_out, C_in / groups, kh, kw)
        PyTorch's layout, so weights copy across.
    bias : Tensor (C_out,), optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), "same" or "valid"
        Zero padding on both sides of each spatial axis.
    groups : int
        Split input and output channels into ``groups`` independent convolutions.

    Returns
    -------
    Tensor (N, C_out, Ho, Wo), ``Ho = (H + 2·ph - dh·(kh-1) - 1) // sh + 1``. The array is a
    transposed view of a channels-first buffer (see the module docstring).
    """
    op = "conv2d"
    x, weight = as_tensor(x), as_tensor(weight)
    _check_image(x, op)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels/groups, kh, kw), got shape {weight.shape}")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    if C != Cg * groups:
        raise ValueError(
            f"{op}: input has {C} channels (shape {x.shape}) but the weight {weight.shape} with groups={groups} "
            f"expects {Cg * groups}"
        )
    if O % groups:
        raise ValueError(f"{op}: out_channels {O} is not divisible by groups={groups}")
    bias = _checked_bias(bias, O, op)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    kernel = (kh, kw)
    pads = _conv_padding(padding, kernel, stride, dilation, op)
    Ho, Wo = _spatial_out((H, W), pads, kernel, stride, dilation, op)
    G, Og, M = groups, O // groups, N * Ho * Wo
    dtype = xp.result_type(x.dtype, weight.dtype)

    xc = _pad_channels_first(_channels_first(x.data).astype(dtype, copy=False), pads)

    pointwise = kernel == (1, 1) and stride == (1, 1) and xc.flags.c_contiguous
    # Stride 1 (the common case): the column matrix can span the padded width Wp (_im2col_wide), so the
    # products run over N·Ho·Wp columns, Wp - Wo per row of them wrap-around garbage. That roughly halves
    # the cost of each im2col/col2im copy (Cg·kh·kw rows) but costs one copy of the upstream gradient into
    # the wide layout (Og rows) and Wp/Wo longer products, so it pays only with many more column rows than
    # output channels. Measured (batch 64, 3x3): 8 -> 16 channels at 14x14 gains, 1 -> 8 at 28x28 loses.
    wide = stride == (1, 1) and not pointwise and Cg * kh * kw >= 2 * Og
    Wm = xc.shape[3] if wide else Wo  # the column matrix's width per output row
    Mm = N * Ho * Wm

    def column_matrix():
        if pointwise:
            return xc.reshape(G, Cg, M)  # a 1x1 convolution reads the input as it is
        if wide:
            return _im2col_wide(xc, kernel, dilation, (Ho, Wo)).reshape(G, Cg * kh * kw, Mm)
        return _im2col(xc, kernel, stride, dilation, (Ho, Wo)).reshape(G, Cg * kh * kw, M)

    w3 = weight.data.astype(dtype, copy=False).reshape(G, Og, Cg * kh * kw)
    # the column matrix is freed after this product and rebuilt in backward (module docstring)
    out = _grouped_matmul(w3, column_matrix(), G).reshape(O, N, Ho, Wm)  # fresh
    b4 = None if bias is None else bias.data.reshape(O, 1, 1, 1)
    if wide:
        # drop the wrap-around columns in the pass that adds the bias: a compact output keeps the
        # next ops (ReLU, pooling) on contiguous memory, measurably faster than a row-strided view
        wide_out, out = out[..., :Wo], xp.empty((O, N, Ho, Wo), dtype=out.dtype)
        if b4 is None:
            out[...] = wide_out
        else:
            xp.add(wide_out, b4, out=out)
    elif b4 is not None:
        out += b4
    out = _channels_first(out)
    parents = (x, weight) if bias is None else (x, weight, bias)

    # out = W @ cols + b:   dL/dW = g @ colsᵀ,   dL/dcols = Wᵀ @ g  then col2im,   dL/db = Σ g over N, Ho, Wo
    def backward(g):
        gc = _channels_first(g)  # (O, N, Ho, Wo); free when g is channels-first (it is after ReLU/pooling)
        if wide:
            # the wrap-around columns get gradient 0: their outputs were dropped, so they must
            # add nothing to dL/dW (0 · finite column entries) nor, through col2im, to dL/dx
            padded = xp.empty((O, N, Ho, Wm), dtype=g.dtype)
            padded[..., Wo:] = 0
            padded[..., :Wo] = gc
            gc = padded
        g3 = gc.reshape(G, Og, Mm)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = _matmul_transposed(g3, column_matrix(), G)
            gw = gw.reshape(weight.shape).astype(weight.dtype, copy=False)
        if x.requires_grad:
            dcols = _grouped_matmul(w3.transpose(0, 2, 1), g3, G)
            if wide:
                gxc = _col2im_wide(dcols.reshape(C, kh, kw, N, Ho * Wm), xc.shape[2:], dilation, Wo)
            else:
                gxc = _col2im(dcols.reshape(C, kh, kw, N, Ho, Wo), xc.shape[2:], stride, dilation)
            gx = _channels_first(_crop(gxc, pads, (H, W))).astype(x.dtype, copy=False)
        if bias is not None and bias.requires_grad:
            # Σ over the columns as a matrix-vector product with ones: 3x faster than g3.sum(axis=2)
            # for the benchmark CNN's (8, 50176) and (16, 14336); wrap-around entries are 0
            gb = (g3 @ xp.ones(Mm, dtype=g3.dtype)).reshape(O).astype(bias.dtype, copy=False)
        return (gx, gw) if bias is None else (gx, gw, gb)

    # differentiable rule: conv2d is bilinear in (x, W), so both gradients are bilinear too (linear_maps)
    def double(g):
        return bilinear_double(lambda a, w: conv2d(a, w, None, stride, padding, dilation, groups), x, weight, bias)(g)

    return result(out, parents, backward, op, double)


# ----------------------------------------------------------- conv_transpose2d
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution ("deconvolution"): the gradient of :func:`conv2d` with respect to its input.

    Every input pixel scatters a weighted copy of the kernel onto the output, ``stride`` apart;
    overlapping copies add up. Used to upsample (generators, decoders).

    Parameters
    ----------
    x : Tensor (N, C_in, H, W)
    weight : Tensor (C_in, C_out / groups, kh, kw)
        PyTorch's layout (note: input channels first).
    bias : Tensor (C_out,), optional
    stride, padding, output_padding, dilation : int or (int, int)
        ``padding`` removes rows/columns from each border of the full result; ``output_padding``
        (smaller than stride or dilation) adds rows/columns at the bottom/right, to pick one of the
        several input sizes a strided conv2d maps to the same output size.
    groups : int

    Returns
    -------
    Tensor (N, C_out, Ho, Wo), ``Ho = (H - 1)·sh - 2·ph + dh·(kh - 1) + oph + 1``.
    """
    op = "conv_transpose2d"
    x, weight = as_tensor(x), as_tensor(weight)
    _check_image(x, op)
    if weight.ndim != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (in_channels, out_channels/groups, kh, kw), got shape {weight.shape}"
        )
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    N, C, H, W = x.shape
    Cw, Og, kh, kw = weight.shape
    if C != Cw:
        raise ValueError(f"{op}: input has {C} channels (shape {x.shape}) but the weight {weight.shape} expects {Cw}")
    if C % groups:
        raise ValueError(f"{op}: in_channels {C} is not divisible by groups={groups}")
    G, Cg, O = groups, C // groups, Og * groups
    bias = _checked_bias(bias, O, op)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    ph, pw = _pair(padding, "padding", op)
    oph, opw = _pair(output_padding, "output_padding", op)
    for extra, s, d, axis in ((oph, stride[0], dilation[0], "height"), (opw, stride[1], dilation[1], "width")):
        if extra >= max(s, d):
            raise ValueError(
                f"{op}: output_padding ({extra} along {axis}) must be smaller than stride or dilation ({s}, {d})"
            )
    kernel = (kh, kw)
    full = tuple((n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip((H, W), stride, dilation, kernel))
    Ho, Wo = full[0] - 2 * ph + oph, full[1] - 2 * pw + opw
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"{op}: padding {(ph, pw)} removes the whole output (full size {full[0]}x{full[1]}, output {Ho}x{Wo})"
        )
    # the scatter target: the full result, grown at the bottom/right when output_padding reaches past it
    canvas = (max(full[0], ph + Ho), max(full[1], pw + Wo))
    pads = ((ph, canvas[0] - ph - Ho), (pw, canvas[1] - pw - Wo))
    dtype = xp.result_type(x.dtype, weight.dtype)
    M = N * H * W

    xc3 = _channels_first(x.data).astype(dtype, copy=False).reshape(G, Cg, M)  # copies unless channels-first
    w3 = weight.data.astype(dtype, copy=False).reshape(G, Cg, Og * kh * kw)
    cols = _grouped_matmul(w3.transpose(0, 2, 1), xc3, G).reshape(O, kh, kw, N, H, W)
    out = _crop(_col2im(cols, canvas, stride, dilation), pads, (Ho, Wo))
    if bias is not None:
        out += bias.data.reshape(O, 1, 1, 1)  # out is a view of our own canvas
    out = _channels_first(out)
    parents = (x, weight) if bias is None else (x, weight, bias)

    # out = col2im(Wᵀ @ x) + b is conv2d's input gradient, so its own gradients are conv2d's forward:
    #   cols_g = im2col(g);  dL/dx = W @ cols_g;  dL/dW = x @ cols_gᵀ;  dL/db = Σ g over N, Ho, Wo
    def backward(g):
        gc = _pad_channels_first(_channels_first(g), pads)
        cols_g = _im2col(gc, kernel, stride, dilation, (H, W)).reshape(G, Og * kh * kw, M)
        gx = gw = gb = None
        if x.requires_grad:
            gx = _grouped_matmul(w3, cols_g, G).reshape(C, N, H, W)
            gx = _channels_first(gx).astype(x.dtype, copy=False)
        if weight.requires_grad:
            gw = _matmul_transposed(xc3, cols_g, G)
            gw = gw.reshape(weight.shape).astype(weight.dtype, copy=False)
        if bias is not None and bias.requires_grad:
            gb = _channels_first(g).sum(axis=(1, 2, 3)).astype(bias.dtype, copy=False)
        return (gx, gw) if bias is None else (gx, gw, gb)

    def double(g):  # bilinear in (x, W), as conv2d (linear_maps)
        def forward(a, w):
            return conv_transpose2d(a, w, None, stride, (ph, pw), (oph, opw), groups, dilation)

        return bilinear_double(forward, x, weight, bias)(g)

    return result(out, parents, backward, op, double)


# ------------------------------------------------------------------ dropout2d
def dropout2d(x, p=0.5, training=True, seed=None):
    """Channel dropout: zero whole feature maps of an (N, C, H, W) batch with probability ``p``.

    Neighbouring pixels of a feature map are strongly correlated, so element-wise dropout
    hardly regularises a convolution; dropping whole channels does. Survivors are scaled by
    1/(1-p). The gradient is the same mask times the upstream gradient (see ``ops.dropout``).
    """
    x = as_tensor(x)
    _check_image(x, "dropout2d")
    return dropout(x, p=p, training=training, seed=seed, noise_shape=(x.shape[0], x.shape[1], 1, 1))
