"""Convolution layers and the layers that go with them in image networks.

``Conv2d``, ``ConvTranspose2d``, ``BatchNorm2d`` and ``Dropout2d``: thin state around the ops
in ``chainrule.ops.conv`` and ``chainrule.ops.normalization``. Weights have PyTorch's layout
and default initialisation, so they copy across in either direction.
"""

import numbers

import numpy

from ..backend import xp
from ..creation import as_generator
from ..ops.conv import _pair, conv2d, conv_transpose2d, dropout2d
from .init import INIT_SCHEMES, initialize_
from .module import Module, as_input, config_seed, layer_dtype
from .normalization import _BatchNorm
from .parameter import Parameter

__all__ = ["Conv2d", "ConvTranspose2d", "BatchNorm2d", "Dropout2d"]


def _positive_int(value, name, layer):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def _check_image_input(layer, x, channels):
    """The input must be (N, channels, H, W): name the layer, the expected and the actual shape."""
    if x.ndim != 4 or x.shape[1] != channels:
        hint = ""
        if x.ndim == 3 and x.shape[0] == channels:
            hint = "; for a single image add the batch axis, e.g. x[None]"
        elif x.ndim == 3 and channels == 1:
            hint = "; for a batch of grey images add the channel axis, e.g. x[:, None]"
        elif x.ndim == 2:
            hint = "; images must keep their (C, H, W) axes, e.g. x.reshape(-1, 1, 28, 28)"
        elif x.ndim == 4 and x.shape[-1] == channels:
            hint = "; the input looks channels-last (N, H, W, C): reorder it with x.permute(0, 3, 1, 2) (a NumPy array: x.transpose(0, 3, 1, 2))"
        raise ValueError(f"{layer!r}: expected input of shape (N, {channels}, H, W), got {x.shape}{hint}")


class _ConvNd(Module):
    """Shared by Conv2d and ConvTranspose2d: arguments, parameters, initialisation, config."""

    _op_name = ""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init, seed, dtype):
        super().__init__()
        name = type(self).__name__
        self.in_channels = _positive_int(in_channels, "in_channels", name)
        self.out_channels = _positive_int(out_channels, "out_channels", name)
        self.kernel_size = _pair(kernel_size, "kernel_size", name, 1)
        self.stride = _pair(stride, "stride", name, 1)
        self.dilation = _pair(dilation, "dilation", name, 1)
        self.groups = _positive_int(groups, "groups", name)
        for what, n in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if n % self.groups:
                raise ValueError(f"{name}: {what} ({n}) must be divisible by groups ({self.groups})")
        if init not in INIT_SCHEMES:
            raise ValueError(f"{name}: unknown init {init!r}; expected one of {', '.join(INIT_SCHEMES)}")
        self.init = init
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        self.weight = Parameter(xp.empty(self._weight_shape(), dtype=self.dtype))
        if bias:
            self.bias = Parameter(xp.empty(self.out_channels, dtype=self.dtype))
        else:
            self.register_parameter("bias", None)

    def _weight_shape(self):
        raise NotImplementedError

    def reset_parameters(self, seed=None):
        """Draw new weights by ``self.init`` (PyTorch's default: U(±1/√fan_in) for weight and bias),
        from ``seed`` or else the layer's own seed."""
        initialize_(self.weight, self.bias, self.init, self.seed if seed is None else seed)

    def _base_config(self):
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "dilation": list(self.dilation),
            "groups": self.groups,
            "bias": self.bias is not None,
            "init": self.init,
            "seed": config_seed(self.seed),
            "dtype": self.dtype.name,
        }

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) images: ``y = conv2d(x, W) + b``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int)
    padding : int, (int, int), "same" or "valid"
        Zero padding; "same" keeps H and W (stride 1 only).
    groups : int
        Split the channels into independent groups (``groups = in_channels`` is a depthwise convolution).
    bias : bool
    init : str
        Initialisation scheme (see ``chainrule.nn.init.initialize_``); "default" is PyTorch's,
        "kaiming_uniform" (He) often trains deep ReLU networks faster.
    seed : int or numpy.random.Generator, optional
    dtype : str or dtype

    Attributes
    ----------
    weight : Parameter (out_channels, in_channels / groups, kh, kw)
    bias : Parameter (out_channels,) or None

    Shapes: (N, C_in, H, W) -> (N, C_out, Ho, Wo), ``Ho = (H + 2·ph - dh·(kh - 1) - 1) // sh + 1``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 init="default", seed=None, dtype="float32"):
        if isinstance(padding, str):
            if padding.lower() not in ("same", "valid"):
                raise ValueError(f"Conv2d: padding must be an int, a pair of ints, 'same' or 'valid', got {padding!r}")
            self_padding = padding.lower()
        else:
            self_padding = _pair(padding, "padding", "Conv2d")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init, seed, dtype)
        if self_padding == "same" and self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {self.stride}")
        self.padding = self_padding
        self.reset_parameters()

    def _weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size

    def forward(self, x):
        x = as_input(x, self.dtype)
        _check_image_input(self, x, self.in_channels)
        try:
            return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        except ValueError as error:  # e.g. the kernel does not fit: say which layer
            raise ValueError(f"{self!r}: {error}") from None

    def get_config(self):
        return self._base_config()


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (learned upsampling), the gradient of ``Conv2d`` as a layer.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, dilation, groups, bias, init, seed, dtype
        As in :class:`Conv2d`.
    padding : int or (int, int)
        Rows/columns cut from each border of the full output.
    output_padding : int or (int, int)
        Extra rows/columns at the bottom/right (smaller than stride or dilation).

    Attributes
    ----------
    weight : Parameter (in_channels, out_channels / groups, kh, kw)   (PyTorch's layout)

    Shapes: (N, C_in, H, W) -> (N, C_out, Ho, Wo), ``Ho = (H - 1)·sh - 2·ph + dh·(kh - 1) + oph + 1``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, init="default", seed=None, dtype="float32"):
        padding = _pair(padding, "padding", "ConvTranspose2d")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init, seed, dtype)
        self.padding = padding
        self.output_padding = _pair(output_padding, "output_padding", "ConvTranspose2d")
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation):
            if extra >= max(s, d):
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller than stride {self.stride} "
                    f"or dilation {self.dilation}"
                )
        self.reset_parameters()

    def _weight_shape(self):
        return (self.in_channels, self.out_channels // self.groups) + self.kernel_size

    def forward(self, x):
        x = as_input(x, self.dtype)
        _check_image_input(self, x, self.in_channels)
        try:
            return conv_transpose2d(
                x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups, self.dilation
            )
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from None

    def get_config(self):
        config = self._base_config()
        config["output_padding"] = list(self.output_padding)
        return config


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C (statistics over N, H and W).

    Parameters
    ----------
    num_features : int
        C.
    eps, momentum, affine, track_running_stats, dtype
        As in :class:`chainrule.nn.BatchNorm1d`: training mode normalises with the batch's
        statistics and updates the running ones; evaluation mode uses the running ones.
    """

    _input_ndims = (4,)
    _input_layout = "(N, C, H, W)"


class Dropout2d(Module):
    """Channel dropout: in training mode zero whole feature maps with probability ``p`` (and scale
    the rest by 1/(1-p)); in evaluation mode return the input unchanged.

    Parameters
    ----------
    p : float in [0, 1)
    seed : int or numpy.random.Generator, optional
        Seed of the layer's generator (an int makes the masks reproducible).
    """

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.seed = seed
        self.rng = as_generator(seed)

    def reset_parameters(self, seed=None):
        """Restart the mask generator: from ``seed`` (a child generator of it), else from the layer's int seed."""
        if seed is not None:
            self.rng = numpy.random.default_rng(as_generator(seed).integers(2**63))
        elif config_seed(self.seed) is not None:
            self.rng = as_generator(self.seed)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        try:
            return dropout2d(x, self.p, training=True, seed=self.rng)
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from None

    def get_config(self):
        return {"p": self.p, "seed": config_seed(self.seed)}

    def extra_repr(self):
        return f"p={self.p}"
