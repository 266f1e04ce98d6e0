"""Pooling layers for (N, C, H, W) images: thin wrappers over ``chainrule.ops.pooling``.

They hold no parameters; each checks its input and names itself in errors.
"""

from ..ops.conv import _pair
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, global_avg_pool2d, max_pool2d
from ..tensor import as_tensor
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "GlobalAvgPool2d"]


def _check_rank(layer, x):
    if x.ndim != 4:
        raise ValueError(f"{layer!r}: expected input of shape (N, C, H, W), got {x.shape}")


class _Pool2d(Module):
    """Shared by MaxPool2d and AvgPool2d: kernel, stride (default: the kernel) and padding."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", name, 1)
        self.padding = _pair(padding, "padding", name)
        if self.padding[0] > self.kernel_size[0] // 2 or self.padding[1] > self.kernel_size[1] // 2:
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel size {self.kernel_size}")

    def _pool(self, x):
        raise NotImplementedError

    def forward(self, x):
        x = as_tensor(x)
        _check_rank(self, x)
        try:
            return self._pool(x)
        except ValueError as error:  # e.g. the kernel is larger than the (padded) input
            raise ValueError(f"{self!r}: {error}") from None

    def get_config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding)}

    def extra_repr(self):
        text = f"kernel_size={self.kernel_size}, stride={self.stride}"
        return text + (f", padding={self.padding}" if self.padding != (0, 0) else "")


class MaxPool2d(_Pool2d):
    """Maximum over kh x kw windows (``stride`` defaults to the kernel: non-overlapping windows).

    The gradient goes to each window's maximum (the first one on ties, as PyTorch).
    Shapes: (N, C, H, W) -> (N, C, (H + 2·ph - kh) // sh + 1, (W + 2·pw - kw) // sw + 1).
    """

    def _pool(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over kh x kw windows; ``count_include_pad=False`` divides by the real pixels only."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def _pool(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def get_config(self):
        return {**super().get_config(), "count_include_pad": self.count_include_pad}


class AdaptiveAvgPool2d(Module):
    """Average-pool any input size to a fixed ``output_size`` (int, pair, or pair with None = keep)."""

    def __init__(self, output_size):
        super().__init__()
        if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
            for n in output_size:
                if n is not None:
                    _pair(n, "output_size", "AdaptiveAvgPool2d", 1)
            self.output_size = tuple(output_size)
        else:
            self.output_size = _pair(output_size, "output_size", "AdaptiveAvgPool2d", 1)

    def forward(self, x):
        x = as_tensor(x)
        _check_rank(self, x)
        return adaptive_avg_pool2d(x, self.output_size)

    def get_config(self):
        return {"output_size": list(self.output_size)}

    def extra_repr(self):
        return f"output_size={self.output_size}"


class GlobalAvgPool2d(Module):
    """Mean of every feature map: (N, C, H, W) -> (N, C) (Keras's GlobalAveragePooling2D);
    ``keepdims=True`` gives (N, C, 1, 1) like ``AdaptiveAvgPool2d(1)``."""

    def __init__(self, keepdims=False):
        super().__init__()
        self.keepdims = bool(keepdims)

    def forward(self, x):
        x = as_tensor(x)
        _check_rank(self, x)
        return global_avg_pool2d(x, self.keepdims)

    def get_config(self):
        return {"keepdims": self.keepdims}

    def extra_repr(self):
        return "keepdims=True" if self.keepdims else ""
