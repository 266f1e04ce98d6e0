"""Pooling and resampling layers: thin wrappers over ``chainrule.ops.pooling`` and ``chainrule.ops.resample``.

Max and average pooling over 1, 2 or 3 spatial axes (with ``ceil_mode``, dilation, ``return_indices``,
``count_include_pad``, ``divisor_override`` as PyTorch), max unpooling, adaptive max and average pooling,
global average pooling, ``Upsample`` and the pixel shuffles, ``Unfold``/``Fold``. They hold no parameters;
each checks its input and names itself in errors.
"""

import inspect

from ..ops import pooling as P
from ..ops import resample as R
from ..ops.pooling_nd import LAYOUTS, tuple_of
from ..tensor import as_tensor
from .module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxUnpool1d", "MaxUnpool2d",
    "MaxUnpool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "GlobalAvgPool2d", "Upsample", "UpsamplingNearest2d",
    "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "Unfold", "Fold",
]


def _frozen(value):
    """A sequence argument as a tuple (so a layer rebuilt from JSON lists equals the original)."""
    return tuple(value) if isinstance(value, list) else value


def _plain(value):
    """A config value: tuples as lists (JSON), everything else as it is."""
    return list(value) if isinstance(value, tuple) else value


class _Spatial(Module):
    """A parameter-free layer on (N, C, *spatial) inputs with ``_d`` spatial axes; ``_call`` does the work."""

    _d = 2
    _config = ()  # the constructor arguments, for get_config and extra_repr

    def forward(self, x, *extra):
        x = as_tensor(x)
        unbatched = x.ndim == self._d + 1 and not extra  # (C, *spatial), as PyTorch allows
        if unbatched:
            x = x.unsqueeze(0)
        if x.ndim != self._d + 2:
            raise ValueError(f"{self!r}: expected input of shape {LAYOUTS[self._d]}, got {x.shape}")
        try:
            out = self._call(x, *extra)
        except ValueError as error:  # e.g. the kernel is larger than the (padded) input: say which layer
            raise ValueError(f"{self!r}: {error}") from None
        if not unbatched:
            return out
        return tuple(part.squeeze(0) for part in out) if isinstance(out, tuple) else out.squeeze(0)

    def get_config(self):
        return {name: _plain(getattr(self, name)) for name in self._config}

    def extra_repr(self):
        """The arguments that are required or differ from their defaults (``stride`` always, as PyTorch)."""
        defaults = {name: p.default for name, p in inspect.signature(type(self)).parameters.items()}
        shown = [name for name in self._config
                 if name == "stride" or defaults.get(name, inspect.Parameter.empty) is inspect.Parameter.empty
                 or getattr(self, name) != _expand(defaults[name], getattr(self, name))]
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)


def _expand(default, value):
    """A default as the layer stores it: an int default of a tuple-valued argument repeated to its length."""
    if isinstance(value, tuple) and isinstance(default, int) and not isinstance(default, bool):
        return (default,) * len(value)
    return default


class _MaxPool(_Spatial):
    _config = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        name, d = type(self).__name__, self._d
        self.kernel_size = tuple_of(kernel_size, d, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else tuple_of(stride, d, "stride", name, 1)
        self.padding = tuple_of(padding, d, "padding", name)
        self.dilation = tuple_of(dilation, d, "dilation", name, 1)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel size {self.kernel_size}")
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)

    def _call(self, x):
        return type(self)._op(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                              self.return_indices)


class MaxPool1d(_MaxPool):
    """Maximum over windows of (N, C, L) sequences; ``return_indices`` also returns where each maximum was."""

    _d = 1
    _op = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPool):
    """Maximum over kh x kw windows (``stride`` defaults to the kernel: non-overlapping windows).

    The gradient goes to each window's maximum (the first one on ties, as PyTorch).
    Shapes: (N, C, H, W) -> (N, C, Ho, Wo), ``Ho = (H + 2·ph - dh·(kh - 1) - 1) // sh + 1`` (rounded up with
    ``ceil_mode``).
    """

    _op = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPool):
    """Maximum over windows of (N, C, D, H, W) volumes."""

    _d = 3
    _op = staticmethod(P.max_pool3d)


class _AvgPool(_Spatial):
    _config = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        name, d = type(self).__name__, self._d
        self.kernel_size = tuple_of(kernel_size, d, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else tuple_of(stride, d, "stride", name, 1)
        self.padding = tuple_of(padding, d, "padding", name)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel size {self.kernel_size}")
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def _call(self, x):
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class AvgPool1d(_AvgPool):
    """Mean over windows of (N, C, L) sequences; ``count_include_pad=False`` divides by the real elements only."""

    _d = 1
    _config = _AvgPool._config[:-1]

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def _call(self, x):
        return P.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPool):
    """Mean over kh x kw windows; ``count_include_pad=False`` divides by the real pixels only."""


class AvgPool3d(_AvgPool):
    """Mean over windows of (N, C, D, H, W) volumes."""

    _d = 3

    def _call(self, x):
        return P.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class _MaxUnpool(_Spatial):
    _config = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, d = type(self).__name__, self._d
        self.kernel_size = tuple_of(kernel_size, d, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else tuple_of(stride, d, "stride", name, 1)
        self.padding = tuple_of(padding, d, "padding", name)

    def forward(self, x, indices, output_size=None):
        return super().forward(x, indices, output_size)

    def _call(self, x, indices, output_size):
        return type(self)._op(x, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpool):
    """Put (N, C, L) values back where ``MaxPool1d(return_indices=True)`` found them; zeros elsewhere."""

    _d = 1
    _op = staticmethod(P.max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """Put (N, C, H, W) values back where ``MaxPool2d(return_indices=True)`` found them; zeros elsewhere.
    ``forward(x, indices, output_size=None)``: give ``output_size`` when the pooled size was ambiguous."""

    _op = staticmethod(P.max_unpool2d)


class MaxUnpool3d(_MaxUnpool):
    """Put (N, C, D, H, W) values back where ``MaxPool3d(return_indices=True)`` found them; zeros elsewhere."""

    _d = 3
    _op = staticmethod(P.max_unpool3d)


def _output_size(value, d, name):
    """An adaptive pool's output size: an int, or ``d`` entries that are ints or None (keep that size)."""
    if isinstance(value, (tuple, list)) and len(value) == d:
        for n in value:
            if n is not None:
                tuple_of(n, 1, "output_size", name, 1)
        return tuple(value)
    return tuple_of(value, d, "output_size", name, 1)


class _AdaptiveMax(_Spatial):
    _config = ("output_size", "return_indices")

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = _output_size(output_size, self._d, type(self).__name__)
        self.return_indices = bool(return_indices)

    def _call(self, x):
        return type(self)._op(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMax):
    """Max-pool any length to a fixed ``output_size``."""

    _d = 1
    _op = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMax):
    """Max-pool any image size to a fixed ``output_size`` (int, pair, or pair with None = keep)."""

    _op = staticmethod(P.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMax):
    """Max-pool any volume to a fixed ``output_size``."""

    _d = 3
    _op = staticmethod(P.adaptive_max_pool3d)


class _AdaptiveAvg(_Spatial):
    _config = ("output_size",)

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _output_size(output_size, self._d, type(self).__name__)

    def _call(self, x):
        return type(self)._op(x, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvg):
    """Average-pool any length to a fixed ``output_size``."""

    _d = 1
    _op = staticmethod(P.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvg):
    """Average-pool any input size to a fixed ``output_size`` (int, pair, or pair with None = keep)."""

    _op = staticmethod(P.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvg):
    """Average-pool any volume to a fixed ``output_size``."""

    _d = 3
    _op = staticmethod(P.adaptive_avg_pool3d)


class GlobalAvgPool2d(_Spatial):
    """Mean of every feature map: (N, C, H, W) -> (N, C) (Keras's GlobalAveragePooling2D);
    ``keepdims=True`` gives (N, C, 1, 1) like ``AdaptiveAvgPool2d(1)``."""

    _config = ("keepdims",)

    def __init__(self, keepdims=False):
        super().__init__()
        self.keepdims = bool(keepdims)

    def _call(self, x):
        return P.global_avg_pool2d(x, self.keepdims)

    def extra_repr(self):
        return "keepdims=True" if self.keepdims else ""


class Upsample(Module):
    """Resize (N, C, *spatial) inputs by ``size`` or ``scale_factor``: ``F.interpolate`` as a layer.

    ``mode``: "nearest" (default), "nearest-exact", "linear", "bilinear", "bicubic", "trilinear" or "area".
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of size and scale_factor")
        self.size = _frozen(size)
        self.scale_factor = _frozen(scale_factor)
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        try:
            return R.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                                 self.recompute_scale_factor)
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from None

    def get_config(self):
        return {"size": _plain(self.size), "scale_factor": _plain(self.scale_factor), "mode": self.mode,
                "align_corners": self.align_corners, "recompute_scale_factor": self.recompute_scale_factor}

    def extra_repr(self):
        what = f"size={self.size!r}" if self.size is not None else f"scale_factor={self.scale_factor!r}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode="nearest")`` on (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")

    def get_config(self):
        return {"size": _plain(self.size), "scale_factor": _plain(self.scale_factor)}


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode="bilinear", align_corners=True)`` on (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)

    get_config = UpsamplingNearest2d.get_config


class PixelShuffle(Module):
    """(N, C·r², H, W) -> (N, C, H·r, W·r): the rearrangement of sub-pixel convolution (super-resolution)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = tuple_of(upscale_factor, 1, "upscale_factor", "PixelShuffle", 1)[0]

    def forward(self, x):
        return R.pixel_shuffle(x, self.upscale_factor)

    def get_config(self):
        return {"upscale_factor": self.upscale_factor}

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H·r, W·r) -> (N, C·r², H, W): the inverse of :class:`PixelShuffle`."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = tuple_of(downscale_factor, 1, "downscale_factor", "PixelUnshuffle", 1)[0]

    def forward(self, x):
        return R.pixel_unshuffle(x, self.downscale_factor)

    def get_config(self):
        return {"downscale_factor": self.downscale_factor}

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Unfold(Module):
    """Sliding blocks of (N, C, H, W) images as columns (N, C·kh·kw, L): ``F.unfold`` as a layer."""

    _config = ("kernel_size", "dilation", "padding", "stride")

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = _frozen(kernel_size), _frozen(dilation)
        self.padding, self.stride = _frozen(padding), _frozen(stride)

    def forward(self, x):
        return R.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    get_config = _Spatial.get_config
    extra_repr = _Spatial.extra_repr


class Fold(Module):
    """Columns (N, C·kh·kw, L) summed back into (N, C, H, W) images: ``F.fold`` as a layer."""

    _config = ("output_size", "kernel_size", "dilation", "padding", "stride")

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = _frozen(output_size), _frozen(kernel_size)
        self.dilation, self.padding, self.stride = _frozen(dilation), _frozen(padding), _frozen(stride)

    def forward(self, x):
        return R.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    get_config = _Spatial.get_config
    extra_repr = _Spatial.extra_repr
