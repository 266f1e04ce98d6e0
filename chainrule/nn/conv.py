"""Convolution layers and the layers that go with them in image networks.

``Conv1d``/``Conv2d``/``Conv3d``, ``ConvTranspose1d``/``2d``/``3d``, ``BatchNorm2d`` and ``Dropout2d``: thin state
around the ops in ``chainrule.ops.conv``, ``chainrule.ops.conv_nd`` and ``chainrule.ops.normalization``. Weights
have PyTorch's layout, names and default initialisation, so they copy across in either direction.
``padding_mode`` other than ``"zeros"`` pads explicitly (``F.pad``'s reflect, replicate or circular) and then
convolves without padding, as PyTorch does.
"""

import numbers

import numpy

from ..backend import xp
from ..creation import as_generator
from ..ops.conv import conv2d, conv_transpose2d, dropout2d
from ..ops.conv_nd import conv1d, conv3d, conv_transpose1d, conv_transpose3d
from ..ops.pooling_nd import LAYOUTS, tuple_of
from .init import INIT_SCHEMES, initialize_
from .module import Module, as_input, config_seed, layer_dtype
from .normalization import _BatchNorm
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "BatchNorm2d",
           "Dropout2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive_int(value, name, layer):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def _check_image_input(layer, x, channels, d=2):
    """The input must be (N, channels, *spatial) with ``d`` spatial axes: name the layer, the expected and
    the actual shape, and the likely fix."""
    if x.ndim != d + 2 or x.shape[1] != channels:
        hint = ""
        if x.ndim == d + 1 and channels == 1:
            hint = "; for a batch of one-channel inputs add the channel axis, e.g. x[:, None]"
        elif d == 2 and x.ndim == 2:
            hint = "; images must keep their (C, H, W) axes, e.g. x.reshape(-1, 1, 28, 28)"
        elif d == 2 and x.ndim == 4 and x.shape[-1] == channels:
            hint = "; the input looks channels-last (N, H, W, C): reorder it with x.permute(0, 3, 1, 2)"
        expected = LAYOUTS[d].replace("C", str(channels), 1)
        raise ValueError(f"{layer!r}: expected input of shape {expected}, got {x.shape}{hint}")


class _ConvNd(Module):
    """Shared by the convolution layers: arguments, parameters, initialisation, config.

    Subclasses set ``_d`` (spatial axes), ``_op`` (the op) and ``_transposed``.
    """

    _d = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 init, seed, dtype, device=None):
        super().__init__()
        name = type(self).__name__
        d = self._d
        self.in_channels = _positive_int(in_channels, "in_channels", name)
        self.out_channels = _positive_int(out_channels, "out_channels", name)
        self.kernel_size = tuple_of(kernel_size, d, "kernel_size", name, 1)
        self.stride = tuple_of(stride, d, "stride", name, 1)
        self.dilation = tuple_of(dilation, d, "dilation", name, 1)
        self.groups = _positive_int(groups, "groups", name)
        for what, n in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if n % self.groups:
                raise ValueError(f"{name}: {what} ({n}) must be divisible by groups ({self.groups})")
        if isinstance(padding, str):
            if self._transposed or padding.lower() not in ("same", "valid"):
                allowed = {1: "an int", 2: "an int, a pair of ints", 3: "an int, 3 ints"}[d]
                allowed += "" if self._transposed else ", 'same' or 'valid'"
                raise ValueError(f"{name}: padding must be {allowed}, got {padding!r}")
            padding = padding.lower()
            if padding == "same" and self.stride != (1,) * d:
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
        else:
            padding = tuple_of(padding, d, "padding", name)
        self.padding = padding
        if padding_mode not in _PADDING_MODES or (self._transposed and padding_mode != "zeros"):
            allowed = "'zeros'" if self._transposed else ", ".join(map(repr, _PADDING_MODES))
            raise ValueError(f"{name}: padding_mode must be {allowed}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        if device not in (None, "cpu"):
            raise ValueError(f"{name}: device={device!r}; chainrule's layers live on the CPU (NumPy arrays)")
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
        if self._transposed:
            return (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size

    def reset_parameters(self, seed=None):
        """Draw new weights by ``self.init`` (PyTorch's default: U(±1/√fan_in) for weight and bias),
        from ``seed`` or else the layer's own seed."""
        initialize_(self.weight, self.bias, self.init, self.seed if seed is None else seed)

    def _explicit_padding(self):
        """``F.pad``'s widths (last axis first) for a padding_mode other than zeros."""
        if self.padding == "valid":
            return None
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return [w for pair in reversed(pairs) for w in pair]

    def forward(self, x):
        x = as_input(x, self.dtype)
        unbatched = x.ndim == self._d + 1 and x.shape[0] == self.in_channels  # (C, *spatial), as PyTorch allows
        if unbatched:
            x = x.unsqueeze(0)
        _check_image_input(self, x, self.in_channels, self._d)
        try:
            out = self._forward(x)
        except ValueError as error:  # e.g. the kernel does not fit: say which layer
            raise ValueError(f"{self!r}: {error}") from None
        return out.squeeze(0) if unbatched else out

    def _forward(self, x):
        padding = self.padding
        if self.padding_mode != "zeros":
            widths = self._explicit_padding()
            if widths is not None:
                from ..ops.padding import pad_last

                x = pad_last(x, widths, self.padding_mode)
            padding = 0
        return type(self)._op(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def get_config(self):
        config = {
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
        if self.padding_mode != "zeros":
            config["padding_mode"] = self.padding_mode
        return config

    def extra_repr(self):
        ones, zeros = (1,) * self._d, (0,) * self._d
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != zeros:
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", zeros) != zeros:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) images: ``y = conv2d(x, W) + b``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int)
    padding : int, (int, int), "same" or "valid"
        "same" keeps H and W (stride 1 only).
    groups : int
        Split the channels into independent groups (``groups = in_channels`` is a depthwise convolution).
    bias : bool
    padding_mode : "zeros", "reflect", "replicate" or "circular"
        What the padding holds.
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

    _op = staticmethod(conv2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", init="default", seed=None, dtype="float32", device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         init, seed, dtype, device)
        self.reset_parameters()


class Conv1d(Conv2d):
    """1-D convolution over (N, C_in, L) sequences (signals, text embeddings); arguments as :class:`Conv2d`,
    one int each. Weight (out_channels, in_channels / groups, k)."""

    _d = 1
    _op = staticmethod(conv1d)


class Conv3d(Conv2d):
    """3-D convolution over (N, C_in, D, H, W) volumes (video, scans); arguments as :class:`Conv2d`, three ints
    each. Weight (out_channels, in_channels / groups, kd, kh, kw)."""

    _d = 3
    _op = staticmethod(conv3d)


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
    padding_mode : "zeros"
        The only mode PyTorch allows here.

    Attributes
    ----------
    weight : Parameter (in_channels, out_channels / groups, kh, kw)   (PyTorch's layout)

    Shapes: (N, C_in, H, W) -> (N, C_out, Ho, Wo), ``Ho = (H - 1)·sh - 2·ph + dh·(kh - 1) + oph + 1``.
    """

    _transposed = True
    _op = staticmethod(conv_transpose2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", init="default", seed=None, dtype="float32", device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         init, seed, dtype, device)
        name = type(self).__name__
        self.output_padding = tuple_of(output_padding, self._d, "output_padding", name)
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation):
            if extra >= max(s, d):
                raise ValueError(
                    f"{name}: output_padding {self.output_padding} must be smaller than stride {self.stride} "
                    f"or dilation {self.dilation}"
                )
        self.reset_parameters()

    def _forward(self, x):
        return type(self)._op(x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups,
                              self.dilation)

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = list(self.output_padding)
        return config


class ConvTranspose1d(ConvTranspose2d):
    """Transposed 1-D convolution over (N, C_in, L); arguments as :class:`ConvTranspose2d`, one int each."""

    _d = 1
    _op = staticmethod(conv_transpose1d)


class ConvTranspose3d(ConvTranspose2d):
    """Transposed 3-D convolution over (N, C_in, D, H, W); arguments as :class:`ConvTranspose2d`, three ints each."""

    _d = 3
    _op = staticmethod(conv_transpose3d)


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
    inplace : bool
        PyTorch's argument, accepted; the input is never overwritten.
    seed : int or numpy.random.Generator, optional
        Seed of the layer's generator (an int makes the masks reproducible).
    """

    def __init__(self, p=0.5, inplace=False, seed=None):
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1), got {p!r}")
        if not isinstance(inplace, bool):
            raise TypeError(f"Dropout2d: inplace must be a bool, got {inplace!r} (pass the seed as seed=)")
        self.p = float(p)
        self.inplace = inplace  # PyTorch's argument: accepted, but the input is never overwritten
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
        inplace = {"inplace": True} if self.inplace else {}  # only where set: older configs stay as they were
        return {"p": self.p, **inplace, "seed": config_seed(self.seed)}

    def extra_repr(self):
        return f"p={self.p}"
