"""Spatial pooling of NCHW batches: max, average, adaptive average and global average.

Pooling with a kh x kw kernel visits kh·kw *kernel offsets*; for offset (p, q) the input
pixels it sees, over all output positions, are one strided slice of the (padded) input
(the same slices ``ops.conv`` stacks into its column matrix). So a pooling op is a short
loop over kernel offsets of whole-array operations, and its backward adds each offset's
share of the upstream gradient back onto that slice. Slices keep the input's memory
layout, so the channels-first arrays that ``conv2d`` returns stay that way.
"""

import numpy

from ..backend import xp
from ..function import is_grad_enabled
from ..tensor import as_tensor, result
from . import compiled
from . import pooling_nd
from .conv import _check_image, _pair, _window
from .linear_maps import gather_double, linear_double

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "global_avg_pool2d",
]


def _pool_args(x, kernel_size, stride, padding, op):
    """Kernel, stride, padding and output size, checked: padding at most half the kernel (as PyTorch)."""
    _check_image(x, op)
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op, 1)
    padding = _pair(padding, "padding", op)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    H, W = x.shape[2:]
    padded = (H + 2 * padding[0], W + 2 * padding[1])
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]} is larger than the padded input {padded[0]}x{padded[1]} "
            f"(input shape {x.shape}, padding {padding})"
        )
    out_hw = tuple((n - k) // s + 1 for n, k, s in zip(padded, kernel, stride))
    return kernel, stride, padding, out_hw


def _padded(data, padding, fill):
    """``data`` with ``padding`` rows/columns of ``fill`` around H and W, in ``data``'s memory layout."""
    ph, pw = padding
    if not (ph or pw):
        return data
    N, C, H, W = data.shape
    out = xp.empty_like(data, shape=(N, C, H + 2 * ph, W + 2 * pw))
    out.fill(fill)
    out[:, :, ph : ph + H, pw : pw + W] = data
    return out


def _offsets(kernel, stride, out_hw):
    """For every kernel offset (p, q), in row-major order: the slice of the padded input it sees."""
    (kh, kw), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    return [
        (slice(None), slice(None), _window(p, sh, Ho), _window(q, sw, Wo)) for p in range(kh) for q in range(kw)
    ]


def _tiles_exactly(shape_hw, kernel, stride, padding, out_hw):
    """True when the windows neither overlap nor leave pixels out: every pixel is in exactly one window."""
    return (
        stride == kernel
        and padding == (0, 0)
        and shape_hw == (out_hw[0] * kernel[0], out_hw[1] * kernel[1])
    )


# ----------------------------------------------------------------- max_pool2d
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over kh x kw windows of an (N, C, H, W) batch.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Default: the kernel size (non-overlapping windows).
    padding : int or (int, int)
        Implicit -inf padding on both sides, at most half the kernel.
    dilation : int or (int, int)
        Spacing between the window's elements.
    ceil_mode : bool
        Round the output size up: a last, partial window is kept if it starts inside the input or
        the left padding.
    return_indices : bool
        Also return each maximum's flat position ``h·W + w`` in its input plane (for ``max_unpool2d``).

    Returns
    -------
    Tensor (N, C, Ho, Wo), ``Ho = (H + 2·ph - dh·(kh - 1) - 1) // sh + 1`` (with ``ceil_mode=False``);
    and the indices (int64, same shape) with ``return_indices``.
    """
    op = "max_pool2d"
    if dilation != 1 and dilation != (1, 1) or ceil_mode or return_indices:
        return pooling_nd.max_pool(x, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op)
    x = as_tensor(x)
    kernel, stride, padding, out_hw = _pool_args(x, kernel_size, stride, padding, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    xpad = _padded(x.data, padding, -xp.inf)
    out_shape = x.shape[:2] + out_hw
    windows = _offsets(kernel, stride, out_hw)
    kernels = None
    if kernel == (2, 2) and stride == (2, 2):
        kernels = compiled.load("_pool_numba", _warm_up, x.dtype)
    if kernels is not None:
        out, argmax = _max_pool_2x2_compiled(kernels, xpad, out_shape)
    else:
        out, argmax = _max_and_argmax(xpad, windows, out_shape, x.requires_grad and is_grad_enabled())

    # d max/dx = 1 for the window element that is the maximum (the first one, in row-major
    # order, when several tie, as PyTorch), 0 for the others: the gradient is routed to the argmax
    def backward(g):
        if kernels is not None:
            gpad = _max_pool_2x2_backward_compiled(kernels, _in_layout_of(g, argmax), argmax, xpad.shape)
            return (_crop(gpad, padding, x.shape[2:]),)
        exact = _tiles_exactly(x.shape[2:], kernel, stride, padding, out_hw)
        # every pixel is written exactly once when the windows tile the input; otherwise accumulate
        gpad = xp.empty_like(xpad) if exact else xp.zeros_like(xpad)
        g = _in_layout_of(g, argmax)
        for k, window in enumerate(windows):
            if exact:
                xp.multiply(g, argmax == k, out=gpad[window])
            else:
                gpad[window] += g * (argmax == k)
        return (_crop(gpad, padding, x.shape[2:]),)

    def double(g):  # the routing is a scatter to the argmax, linear in g (its adjoint gathers there)
        _, index = pooling_nd.max_pool(x.data, 2, kernel, stride, padding, return_indices=True)
        return gather_double(index.data.reshape(x.shape[0] * x.shape[1], -1), x.shape, op)(g)

    return result(out, (x,), backward, op, double)


def _max_and_argmax(xpad, windows, out_shape, with_argmax):
    """The window maxima and, ``with_argmax``, the offset of each window's first maximum, with NumPy."""
    # Gather each offset's strided slice into a contiguous array once; the maxima and the
    # argmax below then run over contiguous memory (several times faster than strided slices).
    # ``empty_like`` keeps the input's memory layout (channels-first after conv2d).
    stacked = [xp.empty_like(xpad, shape=out_shape) for _ in windows]
    for part, window in zip(stacked, windows):
        part[...] = xpad[window]
    out = stacked[0].copy() if len(stacked) == 1 else xp.maximum(stacked[0], stacked[1])
    for part in stacked[2:]:
        xp.maximum(out, part, out=out)
    argmax = None
    if with_argmax:
        # index of the first offset (row-major) holding the maximum, as PyTorch picks on ties:
        # the number of leading offsets that are *not* the maximum (counted with contiguous
        # comparisons; masked writes such as copyto(where=...) are several times slower)
        argmax = xp.zeros_like(out, dtype=xp.uint8 if len(windows) < 256 else xp.int32)
        not_yet = None
        for part in stacked[:-1]:
            below = part != out
            not_yet = below if not_yet is None else xp.logical_and(not_yet, below, out=not_yet)
            argmax += not_yet
    return out, argmax


def _max_pool_2x2_compiled(kernels, xpad, out_shape):
    """The maxima and argmax of 2x2, stride-2 windows in one compiled pass (``_pool_numba``) instead
    of the NumPy path's dozen. The kernel walks memory in order, so a channels-first batch (conv2d's
    output) is handed over with its batch and channel axes swapped; the results keep xpad's layout.
    The argmax is a float array of xpad's dtype (why: ``_pool_numba``'s docstring)."""
    swap = _channels_first_memory(xpad)
    N, C, Ho, Wo = out_shape
    lead = (C, N) if swap else (N, C)
    out = xp.empty(lead + (Ho, Wo), dtype=xpad.dtype)
    argmax = xp.empty(lead + (Ho, Wo), dtype=xpad.dtype)
    kernels.max_pool_2x2_forward(xp.ascontiguousarray(_swapped(xpad, swap)), out, argmax)
    return _swapped(out, swap), _swapped(argmax, swap)


def _max_pool_2x2_backward_compiled(kernels, g, argmax, padded_shape):
    """The compiled backward of :func:`_max_pool_2x2_compiled`: the (N, C, Hp, Wp) gradient of the
    padded input, in argmax's layout (``g`` must be in that layout too)."""
    swap = _channels_first_memory(argmax)
    N, C, Hp, Wp = padded_shape
    Ho, Wo = argmax.shape[2:]
    # rows and columns outside every window (odd sizes) get no gradient: start from zeros there
    blank = xp.empty if (Hp, Wp) == (2 * Ho, 2 * Wo) else xp.zeros
    gpad = blank(((C, N) if swap else (N, C)) + (Hp, Wp), dtype=g.dtype)
    kernels.max_pool_2x2_backward(xp.ascontiguousarray(_swapped(g, swap)), _swapped(argmax, swap), gpad)
    return _swapped(gpad, swap)


def _channels_first_memory(array):
    """True when an (N, C, H, W) array is laid out channels-first in memory (as conv2d returns)."""
    return array.strides[1] > array.strides[0]


def _swapped(array, swap):
    """``array`` with its two leading axes swapped when ``swap`` (a view; its own inverse)."""
    return array.transpose(1, 0, 2, 3) if swap else array


def _warm_up(module):
    """Compile the 2x2 max-pool kernels for float32 (other float dtypes compile at their first use)."""
    x = numpy.zeros((1, 1, 2, 2), numpy.float32)
    out, argmax = numpy.empty((1, 1, 1, 1), numpy.float32), numpy.empty((1, 1, 1, 1), numpy.float32)
    module.max_pool_2x2_forward(x, out, argmax)
    module.max_pool_2x2_backward(out, argmax, x)


def _in_layout_of(array, like):
    """``array`` with the memory layout (axis order) of ``like``: one copy when they differ.

    Ufuncs over operands of different layouts cannot stream through memory; one up-front
    copy is cheaper than several such mixed-layout passes.
    """
    order = [sorted(range(a.ndim), key=lambda axis: -a.strides[axis]) for a in (array, like)]
    if order[0] == order[1] or array.ndim != like.ndim:
        return array
    copy = xp.empty_like(like, dtype=array.dtype)
    copy[...] = array
    return copy


def _crop(array, padding, hw):
    ph, pw = padding
    if not (ph or pw):
        return array
    return array[:, :, ph : ph + hw[0], pw : pw + hw[1]]


# ----------------------------------------------------------------- avg_pool2d
def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kh x kw windows of an (N, C, H, W) batch (PyTorch's argument order).

    Parameters
    ----------
    kernel_size, stride, padding, ceil_mode
        As in :func:`max_pool2d`; padding is with zeros.
    count_include_pad : bool
        True (PyTorch's default): every window divides by kh·kw. False: by the number of
        real (non-padding) pixels in the window.
    divisor_override : int, optional
        Divide every window's sum by this instead.
    """
    op = "avg_pool2d"
    if ceil_mode or divisor_override is not None:
        return pooling_nd.avg_pool(x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                   divisor_override, op)
    x = as_tensor(x)
    kernel, stride, padding, out_hw = _pool_args(x, kernel_size, stride, padding, op)
    xpad = _padded(x.data, padding, 0)
    windows = _offsets(kernel, stride, out_hw)
    out = xp.array(xpad[windows[0]], copy=True)
    for window in windows[1:]:
        out += xpad[window]
    if count_include_pad or padding == (0, 0):
        divisor = kernel[0] * kernel[1]
        out *= x.dtype.type(1.0 / divisor) if x.dtype.kind == "f" else 1.0 / divisor
    else:
        divisor = _window_counts(x.shape[2:], kernel, stride, padding, out_hw).astype(out.dtype)
        out /= divisor

    # d mean/dx = 1/divisor for every pixel of the window: each offset's slice receives g/divisor
    def backward(g):
        share = g / divisor
        if _tiles_exactly(x.shape[2:], kernel, stride, padding, out_hw):
            gpad = xp.empty_like(xpad)
            for window in windows:
                gpad[window] = share
        else:
            gpad = xp.zeros_like(xpad)
            for window in windows:
                gpad[window] += share
        return (_crop(gpad, padding, x.shape[2:]),)

    # linear in x: the differentiable rule is the array rule as a node whose adjoint is this op (linear_maps)
    def forward(h):
        return avg_pool2d(h, kernel, stride, padding, False, count_include_pad).data

    return result(out, (x,), backward, op, linear_double(backward, forward, op))


def _window_counts(shape_hw, kernel, stride, padding, out_hw):
    """(Ho, Wo) number of real pixels in every window of the padded input."""
    counts = []
    for n, k, s, p, m in zip(shape_hw, kernel, stride, padding, out_hw):
        start = xp.arange(m) * s - p
        counts.append(xp.minimum(start + k, n) - xp.maximum(start, 0))
    return xp.outer(counts[0], counts[1])


# -------------------------------------------------------- adaptive_avg_pool2d
def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed (Ho, Wo), whatever the input size (PyTorch's window rule).

    Output row i averages input rows ``floor(i·H/Ho)`` to ``ceil((i+1)·H/Ho)``, and likewise
    for columns; so the op is two small matrix products, ``out = A_h @ x @ A_wᵀ``.
    ``output_size`` is an int, a pair, or a pair with None entries (keep that size).
    """
    op = "adaptive_avg_pool2d"
    x = as_tensor(x)
    _check_image(x, op)
    H, W = x.shape[2:]
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = tuple(n if s is None else s for s, n in zip(output_size, (H, W)))
    Ho, Wo = _pair(output_size, "output_size", op, 1)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    a_h = pooling_nd.adaptive_matrix(H, Ho, x.dtype)
    a_w = pooling_nd.adaptive_matrix(W, Wo, x.dtype)
    out = a_h @ (x.data @ a_w.T)

    # out = A_h x A_wᵀ  =>  dL/dx = A_hᵀ g A_w
    def backward(g):
        return (a_h.T @ (g @ a_w),)

    return result(out, (x,), backward, op, linear_double(backward, lambda h: a_h @ (h @ a_w.T), op))  # linear in x


def global_avg_pool2d(x, keepdims=False):
    """Mean of every feature map: (N, C, H, W) -> (N, C) (or (N, C, 1, 1) with ``keepdims``)."""
    op = "global_avg_pool2d"
    x = as_tensor(x)
    _check_image(x, op)
    H, W = x.shape[2:]
    out = x.data.mean(axis=(2, 3), keepdims=keepdims)

    # d mean/dx = 1/(H·W) for every pixel of the map
    def backward(g):
        share = g.reshape(g.shape[0], g.shape[1], 1, 1) / (H * W)
        return (xp.broadcast_to(share, x.shape),)

    double = linear_double(backward, lambda h: h.mean(axis=(2, 3), keepdims=keepdims), op)  # linear (linear_maps)
    return result(out, (x,), backward, op, double)


# --------------------------------------------------------- 1-D, 3-D, unpool, adaptive max
def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over windows of an (N, C, L) batch; arguments as :func:`max_pool2d`, one int each."""
    return pooling_nd.max_pool(x, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool3d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over windows of an (N, C, D, H, W) batch; arguments as :func:`max_pool2d`, three ints each."""
    return pooling_nd.max_pool(x, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of an (N, C, L) batch; arguments as :func:`avg_pool2d`."""
    return pooling_nd.avg_pool(x, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool3d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over windows of an (N, C, D, H, W) batch; arguments as :func:`avg_pool2d`."""
    return pooling_nd.avg_pool(x, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                               "avg_pool3d")


def max_unpool1d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put (N, C, L) values back where :func:`max_pool1d`'s indices say, zeros elsewhere."""
    return pooling_nd.max_unpool(x, indices, 1, kernel_size, stride, padding, output_size, "max_unpool1d")


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put (N, C, H, W) values back where :func:`max_pool2d`'s indices say, zeros elsewhere."""
    return pooling_nd.max_unpool(x, indices, 2, kernel_size, stride, padding, output_size, "max_unpool2d")


def max_unpool3d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put (N, C, D, H, W) values back where :func:`max_pool3d`'s indices say, zeros elsewhere."""
    return pooling_nd.max_unpool(x, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")


def adaptive_max_pool1d(x, output_size, return_indices=False):
    """Max pooling of (N, C, L) to ``output_size`` positions (PyTorch's windows)."""
    return pooling_nd.adaptive_max_pool(x, 1, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) to ``output_size`` (an int, a pair, None keeps a size)."""
    return pooling_nd.adaptive_max_pool(x, 2, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(x, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) to ``output_size``."""
    return pooling_nd.adaptive_max_pool(x, 3, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_avg_pool1d(x, output_size):
    """Average pooling of (N, C, L) to ``output_size`` positions (PyTorch's windows)."""
    return pooling_nd.adaptive_avg_pool(x, 1, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool3d(x, output_size):
    """Average pooling of (N, C, D, H, W) to ``output_size``."""
    return pooling_nd.adaptive_avg_pool(x, 3, output_size, "adaptive_avg_pool3d")
