"""Pooling over 1, 2 or 3 spatial axes with every PyTorch option: (N, C, *spatial) batches.

``max_pool(x, d, ...)`` and ``avg_pool(x, d, ...)`` take ``ceil_mode``, dilation (max),
``count_include_pad`` and ``divisor_override`` (avg) and ``return_indices`` (max); ``max_unpool`` inverts
a max pool given its indices; ``adaptive_max_pool`` and ``adaptive_avg_pool`` pool to a fixed output size.
The public ``max_pool1d`` ... ``adaptive_avg_pool3d`` in ``chainrule.ops.pooling`` call these (the 2-D
ops keep their fast paths for the common cases).

As in ``chainrule.ops.pooling``, a window op is a loop over kernel *offsets*: for offset ``k`` the input
elements it sees, over all output positions, are one strided slice of the padded input; the backward adds
each offset's share of the upstream gradient back onto that slice. Indices (``return_indices``) are flat
positions within each (n, c) input plane, as PyTorch returns them (``h·W + w`` in 2-D).
"""

import itertools
import math
import numbers

from ..backend import xp
from ..tensor import as_tensor, constant, result
from .linear_maps import gather_double, linear_double

__all__ = ["max_pool", "avg_pool", "max_unpool", "adaptive_max_pool", "adaptive_avg_pool"]

LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
"""The input layout of an op over 1, 2 or 3 spatial axes, for error messages."""


# ------------------------------------------------------------------ arguments
def tuple_of(value, d, name, op, minimum=0):
    """An int or a sequence of ``d`` ints as a d-tuple of ints, each at least ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * d
    elif isinstance(value, (tuple, list)) and len(value) == d and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return values


def check_input(x, d, op):
    """``x`` must be (N, C, *spatial) with ``d`` spatial axes; an unbatched (C, *spatial) input is refused by name."""
    if x.ndim != d + 2:
        raise ValueError(f"{op}: input must be a {d + 2}-D {LAYOUTS[d]} tensor, got shape {x.shape}")


def _geometry(spatial, kernel, stride, padding, dilation, ceil_mode, op):
    """Output sizes and the extra right padding that ``ceil_mode`` windows need (PyTorch's rule).

    Output size: ``floor_or_ceil((L + 2p - d(k - 1) - 1) / s) + 1``; with ``ceil_mode`` a last window
    that would start in the right padding is dropped.
    """
    out, extra = [], []
    for L, k, s, p, dil in zip(spatial, kernel, stride, padding, dilation):
        if p > k // 2:
            raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
        span = L + 2 * p - dil * (k - 1) - 1
        if span < 0:
            raise ValueError(f"{op}: the kernel {kernel} (dilation {dilation}) is larger than the padded input "
                             f"{tuple(n + 2 * q for n, q in zip(spatial, padding))}")
        n = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (n - 1) * s >= L + p:
            n -= 1
        out.append(n)
        extra.append(max(0, (n - 1) * s + dil * (k - 1) + 1 - (L + 2 * p)))
    return tuple(out), tuple(extra)


def _padded(data, padding, extra, fill):
    """``data`` (N, C, *spatial) with ``padding`` on both sides of each spatial axis (plus ``extra`` on the right)."""
    if not any(padding) and not any(extra):
        return data
    shape = data.shape[:2] + tuple(n + 2 * p + e for n, p, e in zip(data.shape[2:], padding, extra))
    out = xp.empty(shape, dtype=data.dtype)
    out.fill(fill)
    out[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(padding, data.shape[2:]))] = data
    return out


def _crop(data, padding, spatial):
    return data[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(padding, spatial))]


def _windows(kernel, stride, dilation, out):
    """For each kernel offset (row-major), its index tuple into the padded input, and the offset itself."""
    windows = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        index = tuple(slice(o * dil, o * dil + s * (n - 1) + 1, s) for o, dil, s, n in zip(offset, dilation, stride, out))
        windows.append(((slice(None), slice(None)) + index, offset))
    return windows


# ------------------------------------------------------------------- max pool
def max_pool(x, d, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False,
             op="max_pool"):
    """Maximum over windows of ``d`` spatial axes; ``(values, indices)`` with ``return_indices``.

    The gradient goes to each window's maximum (the first in row-major order on ties; a NaN wins, as
    PyTorch).
    """
    x = as_tensor(x)
    check_input(x, d, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    kernel = tuple_of(kernel_size, d, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] or stride == () else tuple_of(stride, d, "stride", op, 1)
    padding = tuple_of(padding, d, "padding", op)
    dilation = tuple_of(dilation, d, "dilation", op, 1)
    spatial = x.shape[2:]
    out_shape, extra = _geometry(spatial, kernel, stride, padding, dilation, ceil_mode, op)
    xpad = _padded(x.data, padding, extra, -xp.inf)
    windows = _windows(kernel, stride, dilation, out_shape)
    out = xp.array(xpad[windows[0][0]], copy=True)
    argmax = xp.zeros(out.shape, dtype=xp.int64)
    for k, (window, _) in enumerate(windows[1:], start=1):
        values = xpad[window]
        better = (values > out) | (xp.isnan(values) & ~xp.isnan(out))
        xp.copyto(out, values, where=better)
        argmax[better] = k

    def flat_indices():
        """argmax (an offset number) as the flat position in each (n, c) input plane."""
        offsets = xp.asarray([offset for _, offset in windows], dtype=xp.int64)  # (K, d)
        flat = xp.zeros(out.shape, dtype=xp.int64)
        for axis in range(d):
            grid_shape = [1] * (d + 2)
            grid_shape[2 + axis] = out_shape[axis]
            start = (xp.arange(out_shape[axis]) * stride[axis] - padding[axis]).reshape(grid_shape)
            position = start + offsets[argmax, axis] * dilation[axis]
            flat = flat * spatial[axis] + position
        return flat

    # d max/dx = 1 at the window's maximum, 0 elsewhere: each offset's slice gets g where it won
    def backward(g):
        gpad = xp.zeros(xpad.shape, dtype=g.dtype)
        for k, (window, _) in enumerate(windows):
            gpad[window] += g * (argmax == k)
        return (_crop(gpad, padding, spatial),)

    def double(g):  # the routing is a scatter to the argmax, linear in g (its adjoint gathers there)
        return gather_double(flat_indices().reshape(x.shape[0] * x.shape[1], -1), x.shape, op)(g)

    values = result(out, (x,), backward, op, double)
    if return_indices:
        return values, constant(flat_indices())
    return values


# ------------------------------------------------------------------- avg pool
def avg_pool(x, d, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None, op="avg_pool"):
    """Mean over windows of ``d`` spatial axes, with PyTorch's divisor rules.

    The divisor of a window is ``divisor_override`` if given; else the window's size clipped to the
    padded input (``count_include_pad=True``) or to the real input (False). Windows that ``ceil_mode``
    adds past the padding count only what they cover.
    """
    x = as_tensor(x)
    check_input(x, d, op)
    kernel = tuple_of(kernel_size, d, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] or stride == () else tuple_of(stride, d, "stride", op, 1)
    padding = tuple_of(padding, d, "padding", op)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(
            divisor_override, numbers.Integral) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    spatial = x.shape[2:]
    ones = (1,) * d
    out_shape, extra = _geometry(spatial, kernel, stride, padding, ones, ceil_mode, op)
    xpad = _padded(x.data, padding, extra, 0)
    windows = _windows(kernel, stride, ones, out_shape)
    out = xp.array(xpad[windows[0][0]], copy=True)
    for window, _ in windows[1:]:
        out += xpad[window]
    if divisor_override is not None:
        divisor = xp.asarray(float(divisor_override), dtype=out.dtype)
    else:
        divisor = xp.ones((), dtype=out.dtype)
        for axis in range(d):
            start = xp.arange(out_shape[axis]) * stride[axis] - padding[axis]
            stop = xp.minimum(start + kernel[axis], spatial[axis] + padding[axis])
            if not count_include_pad:
                start, stop = xp.maximum(start, 0), xp.minimum(stop, spatial[axis])
            grid_shape = [1] * d
            grid_shape[axis] = out_shape[axis]
            divisor = divisor * (stop - start).reshape(grid_shape).astype(out.dtype)
    out /= divisor

    # d mean/dx = 1/divisor for each element of the window
    def backward(g):
        share = g / divisor
        gpad = xp.zeros(xpad.shape, dtype=g.dtype)
        for window, _ in windows:
            gpad[window] += share
        return (_crop(gpad, padding, spatial),)

    def forward(h):
        return avg_pool(h, d, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, op).data

    return result(out, (x,), backward, op, linear_double(backward, forward, op))  # linear in x (linear_maps)


# ----------------------------------------------------------------- max unpool
def max_unpool(x, indices, d, kernel_size, stride=None, padding=0, output_size=None, op="max_unpool"):
    """The partial inverse of a max pool: each value goes back to the flat position ``indices`` gives, zeros elsewhere.

    ``output_size`` (the pooled input's spatial size, with or without N and C) resolves the ambiguity of
    strided sizes; by default ``(L_out - 1)·s - 2p + k``.
    """
    x = as_tensor(x)
    check_input(x, d, op)
    index = xp.asarray(indices.data if hasattr(indices, "data") else indices)
    if index.shape != x.shape:
        raise ValueError(f"{op}: indices must have the input's shape {x.shape}, got {index.shape}")
    kernel = tuple_of(kernel_size, d, "kernel_size", op, 1)
    stride = kernel if stride is None else tuple_of(stride, d, "stride", op, 1)
    padding = tuple_of(padding, d, "padding", op)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], stride, padding, kernel))
    if output_size is None:
        size = default
    else:
        size = tuple(int(n) for n in output_size)[-d:]
        if len(size) != d:
            raise ValueError(f"{op}: output_size must give the {d} spatial sizes, got {output_size!r}")
        for n, lo, s in zip(size, default, stride):
            if not lo - s < n < lo + s:
                raise ValueError(f"{op}: output_size {size} must be within one stride of the default size {default}")
    plane = math.prod(size)
    N, C = x.shape[:2]
    flat_index = index.reshape(N * C, -1)
    if flat_index.size and (flat_index.min() < 0 or flat_index.max() >= plane):
        raise ValueError(f"{op}: an index lies outside the output plane of {plane} elements (size {size})")
    rows = xp.arange(N * C)[:, None]
    out = xp.zeros((N * C, plane), dtype=x.dtype)
    out[rows, flat_index] = x.data.reshape(N * C, -1)

    # out[plane position indices[i]] = x[i]: dL/dx[i] = g at that position
    def backward(g):
        return (g.reshape(N * C, plane)[rows, flat_index].reshape(x.shape),)

    def forward(h):
        placed = xp.zeros((N * C, plane), dtype=h.dtype)
        placed[rows, flat_index] = h.reshape(N * C, -1)
        return placed.reshape((N, C) + size)

    return result(out.reshape((N, C) + size), (x,), backward, op, linear_double(backward, forward, op))  # linear in x


# ------------------------------------------------------------------- adaptive
def _adaptive_bounds(size, out_size):
    """PyTorch's adaptive windows: output i covers input ``floor(i·L/O)`` to ``ceil((i+1)·L/O)``."""
    i = xp.arange(out_size)
    return (i * size) // out_size, -((-(i + 1) * size) // out_size)


def _output_size(output_size, spatial, d, op):
    if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
        output_size = (output_size,) * d
    if not isinstance(output_size, (tuple, list)) or len(output_size) != d:
        raise TypeError(f"{op}: output_size must be an int or {d} ints (None keeps a size), got {output_size!r}")
    sizes = tuple(n if o is None else o for o, n in zip(output_size, spatial))
    return tuple_of(sizes, d, "output_size", op, 1)


def adaptive_avg_pool(x, d, output_size, op="adaptive_avg_pool"):
    """Average pooling of ``d`` spatial axes to a fixed output size, whatever the input size.

    Separable: along each axis the op is a small averaging matrix A (O, L), applied in turn, so
    ``out = x ×_1 A_1 ×_2 A_2 ...`` and ``dL/dx = g ×_1 A_1ᵀ ×_2 A_2ᵀ ...``.
    """
    x = as_tensor(x)
    check_input(x, d, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    spatial = x.shape[2:]
    sizes = _output_size(output_size, spatial, d, op)
    return apply_separable(x, [adaptive_matrix(L, O, x.dtype) for L, O in zip(spatial, sizes)], op)


def adaptive_matrix(size, out_size, dtype):
    """(out_size, size) averaging matrix of PyTorch's adaptive windows: row i averages
    input[floor(i·size/out) : ceil((i+1)·size/out)]."""
    start, stop = _adaptive_bounds(size, out_size)
    position = xp.arange(size)
    inside = (position[None, :] >= start[:, None]) & (position[None, :] < stop[:, None])
    return (inside / (stop - start)[:, None]).astype(dtype)


def apply_separable(x, matrices, op):
    """``out = x ×_1 A_1 ... ×_d A_d`` over the spatial axes of (N, C, *spatial) ``x``; A_i is (O_i, L_i).

    The backward multiplies by the transposes: ``dL/dx = g ×_1 A_1ᵀ ... ×_d A_d ᵀ``.
    """
    def contract(data, mats):
        for axis, matrix in enumerate(mats):
            data = xp.moveaxis(xp.tensordot(data, matrix, axes=([2 + axis], [1])), -1, 2 + axis)
        return data

    out = xp.ascontiguousarray(contract(x.data, matrices))

    def backward(g):
        return (xp.ascontiguousarray(contract(g, [m.T for m in matrices])),)

    # linear in x: the transposed contraction as a node whose adjoint is the contraction (linear_maps)
    double = linear_double(backward, lambda h: xp.ascontiguousarray(contract(h, matrices)), op)
    return result(out, (x,), backward, op, double)


def adaptive_max_pool(x, d, output_size, return_indices=False, op="adaptive_max_pool"):
    """Max pooling of ``d`` spatial axes to a fixed output size (PyTorch's windows); ``(values, indices)``
    with ``return_indices``. Windows may differ in size by one: shorter ones repeat their last element,
    which leaves the maximum unchanged."""
    x = as_tensor(x)
    check_input(x, d, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    spatial = x.shape[2:]
    sizes = _output_size(output_size, spatial, d, op)
    per_axis = []  # for each axis: (O, K) input positions of each output's window
    for L, O in zip(spatial, sizes):
        start, stop = _adaptive_bounds(L, O)
        width = int((stop - start).max())
        per_axis.append(xp.minimum(start[:, None] + xp.arange(width)[None, :], (stop - 1)[:, None]))
    out = argmax_flat = None
    for offset in itertools.product(*(range(p.shape[1]) for p in per_axis)):
        positions = [p[:, o] for p, o in zip(per_axis, offset)]
        grids = xp.ix_(*positions)
        values = x.data[(slice(None), slice(None)) + grids]
        flat = xp.zeros((), dtype=xp.int64)
        for axis, grid in enumerate(grids):
            flat = flat * spatial[axis] + grid
        if out is None:
            out = xp.array(values, copy=True)
            argmax_flat = xp.broadcast_to(flat, out.shape).copy()
            continue
        better = (values > out) | (xp.isnan(values) & ~xp.isnan(out))
        xp.copyto(out, values, where=better)
        xp.copyto(argmax_flat, xp.broadcast_to(flat, out.shape), where=better)
    N, C = x.shape[:2]
    plane = math.prod(spatial)
    rows = xp.arange(N * C)[:, None]
    flat_index = argmax_flat.reshape(N * C, -1)

    # the gradient of each output goes to the input element that was its maximum (added up where shared)
    def backward(g):
        gx = xp.zeros((N * C, plane), dtype=g.dtype)
        xp.add.at(gx, (xp.broadcast_to(rows, flat_index.shape), flat_index), g.reshape(N * C, -1))
        return (gx.reshape(x.shape),)

    values = result(out, (x,), backward, op, gather_double(flat_index, x.shape, op))  # a scatter to the argmax
    if return_indices:
        return values, constant(argmax_flat)
    return values
