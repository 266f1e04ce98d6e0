"""Resizing and rearranging feature maps: ``interpolate``, ``pixel_shuffle``/``pixel_unshuffle``, ``unfold``/``fold``.

Interpolation is separable: along each spatial axis the output is a fixed linear map of the input
(nearest: picks; linear: blends two neighbours; cubic: four), a matrix A (out, in) built from PyTorch's
index formulas, applied axis after axis. So ``out = x ×_1 A_1 ×_2 A_2 ...`` and the backward is the same
with the transposes (``ops.pooling_nd.apply_separable``): one rule for every mode and dimension.
"""

import math
import numbers

from ..backend import xp
from ..tensor import as_tensor, result
from . import conv
from .linear_maps import linear_double
from .pooling_nd import adaptive_matrix, apply_separable, check_input
from .shape import permute, reshape

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle", "unfold", "fold"]

_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2,
          "area": None}


def _source_scale(in_size, out_size, scale_factor, align_corners):
    """The step between output positions in input coordinates (PyTorch's ``area_pixel_compute_scale``)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale_factor if scale_factor is not None else in_size / out_size


def _interpolation_matrix(mode, in_size, out_size, scale_factor, align_corners, dtype):
    """The (out_size, in_size) matrix of one axis's interpolation."""
    scale = _source_scale(in_size, out_size, scale_factor, align_corners)
    dst = xp.arange(out_size, dtype=xp.float64)
    matrix = xp.zeros((out_size, in_size), dtype=xp.float64)
    rows = xp.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        src = xp.minimum(xp.floor((dst + offset) * scale).astype(xp.int64), in_size - 1)
        matrix[rows, src] = 1.0
        return matrix.astype(dtype)
    if mode == "area":  # adaptive average pooling's windows
        return adaptive_matrix(in_size, out_size, dtype)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5
    if mode == "bicubic":
        # cubic convolution (Keys, A = -0.75) on the 4 neighbours floor(src) - 1 ... floor(src) + 2,
        # indices clamped to the edge (PyTorch does not clamp src itself for bicubic)
        base = xp.floor(src)
        t = src - base
        A = -0.75
        weights = [
            ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
            ((A + 2) * t - (A + 3)) * t * t + 1,
            ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1,
            ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A,
        ]
        for k, weight in enumerate(weights):
            index = xp.clip(base.astype(xp.int64) - 1 + k, 0, in_size - 1)
            xp.add.at(matrix, (rows, index), weight)
        return matrix.astype(dtype)
    # linear: blend floor(src) and the next one; src below 0 is clamped (align_corners=False)
    src = xp.maximum(src, 0.0)
    low = xp.minimum(xp.floor(src).astype(xp.int64), in_size - 1)
    high = xp.minimum(low + 1, in_size - 1)
    lam = src - low
    xp.add.at(matrix, (rows, low), 1.0 - lam)
    xp.add.at(matrix, (rows, high), lam)
    return matrix.astype(dtype)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, *spatial) feature maps, as ``torch.nn.functional.interpolate``.

    Parameters
    ----------
    input : Tensor (N, C, L), (N, C, H, W) or (N, C, D, H, W)
    size : int or tuple of int, optional
        Output spatial size; or give ``scale_factor`` (a float or one per axis).
    mode : str
        ``"nearest"`` (PyTorch's legacy rule ``floor(i·scale)``), ``"nearest-exact"``
        (``floor((i + 0.5)·scale)``), ``"linear"`` (1-D), ``"bilinear"`` (2-D), ``"bicubic"`` (2-D),
        ``"trilinear"`` (3-D) or ``"area"`` (adaptive average pooling).
    align_corners : bool, optional
        Linear and cubic modes only: map the corner pixels' centres onto each other (True) or their
        edges (False, the default).
    recompute_scale_factor : bool, optional
        True: compute the output size from ``scale_factor``, then use in/out sizes as the scale (as if
        ``size`` had been given).
    """
    op = "interpolate"
    x = as_tensor(input)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{op}: input must be (N, C, L), (N, C, H, W) or (N, C, D, H, W), got shape {x.shape}")
    d = x.ndim - 2
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if _MODES[mode] is not None and _MODES[mode] != d:
        raise ValueError(f"{op}: mode {mode!r} needs a {_MODES[mode] + 2}-D input, got shape {x.shape}")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError(f"{op}: align_corners applies to the linear and cubic modes only, not {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported by chainrule; resize without it")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    spatial = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * d if isinstance(size, numbers.Integral) else tuple(size)
        if len(sizes) != d or any(not isinstance(n, numbers.Integral) or n < 1 for n in sizes):
            raise ValueError(f"{op}: size must be a positive int or {d} of them, got {size!r}")
        scales = (None,) * d
    else:
        scales = (scale_factor,) * d if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
        if len(scales) != d or any(not s > 0 for s in scales):
            raise ValueError(f"{op}: scale_factor must be a positive number or {d} of them, got {scale_factor!r}")
        sizes = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * d
    matrices = [_interpolation_matrix(mode, n, o, s, bool(align_corners), x.dtype)
                for n, o, s in zip(spatial, sizes, scales)]
    return apply_separable(x, matrices, op)


def pixel_shuffle(input, upscale_factor):
    """(N, C·r², H, W) -> (N, C, H·r, W·r): sub-pixel convolution's rearrangement (differentiable views)."""
    x = as_tensor(input)
    r = _factor(upscale_factor, "pixel_shuffle")
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: the channel axis ({x.shape[-3] if x.ndim >= 3 else '?'}) must be "
                         f"divisible by upscale_factor² = {r * r}; got input shape {x.shape}")
    *lead, C, H, W = x.shape
    n = len(lead)
    y = reshape(x, (*lead, C // (r * r), r, r, H, W))
    y = permute(y, (*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return reshape(y, (*lead, C // (r * r), H * r, W * r))


def pixel_unshuffle(input, downscale_factor):
    """(N, C, H·r, W·r) -> (N, C·r², H, W): the inverse of :func:`pixel_shuffle`."""
    x = as_tensor(input)
    r = _factor(downscale_factor, "pixel_unshuffle")
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: height and width must be divisible by {r}; got input shape {x.shape}")
    *lead, C, H, W = x.shape
    n = len(lead)
    y = reshape(x, (*lead, C, H // r, r, W // r, r))
    y = permute(y, (*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return reshape(y, (*lead, C * r * r, H // r, W // r))


def _factor(value, op):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{op}: the factor must be a positive int, got {value!r}")
    return int(value)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of an (N, C, H, W) batch as columns: (N, C·kh·kw, L), L = number of blocks.

    ``out[n, (c, p, q), (i, j)] = x_pad[n, c, i·sh + p·dh, j·sw + q·dw]``: the column matrix of
    ``conv2d`` (whose backward, col2im, is this op's backward).
    """
    op = "unfold"
    x = as_tensor(input)
    check_input(x, 2, op)
    kernel = conv._pair(kernel_size, "kernel_size", op, 1)
    dilation, stride = conv._pair(dilation, "dilation", op, 1), conv._pair(stride, "stride", op, 1)
    ph, pw = conv._pair(padding, "padding", op)
    pads = ((ph, ph), (pw, pw))
    N, C, H, W = x.shape
    Ho, Wo = conv._spatial_out((H, W), pads, kernel, stride, dilation, op)
    xc = conv._pad_channels_first(conv._channels_first(x.data), pads)
    cols = conv._im2col(xc, kernel, stride, dilation, (Ho, Wo))  # (C, kh, kw, N, Ho, Wo)
    out = xp.ascontiguousarray(cols.reshape(C * kernel[0] * kernel[1], N, Ho * Wo).transpose(1, 0, 2))

    def backward(g):
        gc = xp.ascontiguousarray(g.transpose(1, 0, 2)).reshape(C, kernel[0], kernel[1], N, Ho, Wo)
        gxc = conv._col2im(gc, xc.shape[2:], stride, dilation)
        return (xp.ascontiguousarray(conv._channels_first(conv._crop(gxc, pads, (H, W)))),)

    # linear in x: its differentiable rule is fold as a node whose adjoint is unfold (linear_maps)
    double = linear_double(backward, lambda h: unfold(h, kernel, dilation, (ph, pw), stride).data, op)
    return result(out, (x,), backward, op, double)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of :func:`unfold`: (N, C·kh·kw, L) columns summed back into (N, C, H, W) images
    (overlapping blocks add up)."""
    op = "fold"
    x = as_tensor(input)
    if x.ndim != 3:
        raise ValueError(f"{op}: input must be (N, C·kh·kw, L), got shape {x.shape}")
    kernel = conv._pair(kernel_size, "kernel_size", op, 1)
    H, W = conv._pair(output_size, "output_size", op, 1)
    dilation, stride = conv._pair(dilation, "dilation", op, 1), conv._pair(stride, "stride", op, 1)
    ph, pw = conv._pair(padding, "padding", op)
    pads = ((ph, ph), (pw, pw))
    Ho, Wo = conv._spatial_out((H, W), pads, kernel, stride, dilation, op)
    N, CK, L = x.shape
    K = kernel[0] * kernel[1]
    if CK % K or L != Ho * Wo:
        raise ValueError(f"{op}: input {x.shape} does not fit kernel {kernel} over output {H}x{W} "
                         f"(expected C·{K} rows and {Ho * Wo} blocks)")
    C = CK // K
    padded = (H + 2 * ph, W + 2 * pw)
    cols = xp.ascontiguousarray(x.data.transpose(1, 0, 2)).reshape(C, kernel[0], kernel[1], N, Ho, Wo)
    out = xp.ascontiguousarray(conv._channels_first(conv._crop(conv._col2im(cols, padded, stride, dilation), pads,
                                                               (H, W))))

    def backward(g):
        gc = conv._pad_channels_first(conv._channels_first(g), pads)
        gcols = conv._im2col(gc, kernel, stride, dilation, (Ho, Wo))
        return (xp.ascontiguousarray(gcols.reshape(CK, N, L).transpose(1, 0, 2)),)

    double = linear_double(backward, lambda h: fold(h, (H, W), kernel, dilation, (ph, pw), stride).data, op)
    return result(out, (x,), backward, op, double)  # linear in x (linear_maps)
