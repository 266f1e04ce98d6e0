"""Normalisation layers, as ``torch.nn``: ``BatchNorm1d``/``BatchNorm3d`` (``BatchNorm2d`` lives with the
convolutions), ``InstanceNorm1d/2d/3d``, ``LayerNorm``, ``RMSNorm``, ``GroupNorm`` and ``LocalResponseNorm``: thin state
around the fused ops in ``chainrule.ops.normalization``."""

import numbers

from ..backend import xp
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, rms_norm
from .module import Module, as_input, layer_dtype
from .parameter import Parameter

__all__ = [
    "BatchNorm1d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LocalResponseNorm", "RMSNorm",
]


def _affine_parameters(layer, channels, affine, bias):
    """Register γ (``weight``, ones) and β (``bias``, zeros; only with ``bias``) of ``channels``, or None."""
    dtype = layer.dtype
    layer.register_parameter("weight", Parameter(xp.ones(channels, dtype=dtype)) if affine else None)
    layer.register_parameter("bias", Parameter(xp.zeros(channels, dtype=dtype)) if affine and bias else None)


def _reset_affine(layer):
    if layer.weight is not None:
        layer.weight.data[...] = 1
    if layer.bias is not None:
        layer.bias.data[...] = 0


class _BatchNorm(Module):
    """Shared by BatchNorm1d (and BatchNorm2d elsewhere): subclasses set ``_input_ndims``.

    Training mode normalises each channel with the batch's mean and (biased) variance and
    updates the running statistics, ``r = (1 - momentum)·r + momentum·batch_stat`` with the
    unbiased variance (PyTorch's convention; ``momentum=None`` gives a cumulative average).
    Evaluation mode normalises with the running statistics. γ (``weight``) starts at 1,
    β (``bias``) at 0.
    """

    _input_ndims = ()
    _input_layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype="float32",
                 *, bias=True):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, numbers.Integral) or isinstance(num_features, bool) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps <= 0:
            raise ValueError(f"{name}: eps must be a positive number, got {eps!r}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.dtype = layer_dtype(dtype)
        _affine_parameters(self, self.num_features, self.affine, bias)
        if self.track_running_stats:
            self.register_buffer("running_mean", xp.zeros(self.num_features, dtype=self.dtype))
            self.register_buffer("running_var", xp.ones(self.num_features, dtype=self.dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype=xp.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen (in place)."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self, seed=None):
        """γ = 1, β = 0 and fresh running statistics (no randomness: ``seed`` is unused)."""
        self.reset_running_stats()
        _reset_affine(self)

    def forward(self, x):
        x = as_input(x, self.dtype)
        if x.ndim not in self._input_ndims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input of shape "
                f"{self._input_layout} with C = {self.num_features}, got {x.shape}"
            )
        use_batch_stats = self.training or not self.track_running_stats
        momentum = self.momentum
        updating = self.training and self.track_running_stats
        if updating and momentum is None:
            momentum = 1.0 / (int(self.num_batches_tracked) + 1)  # cumulative moving average
        out = batch_norm(
            x, self.weight, self.bias,
            self.running_mean if self.track_running_stats else None,
            self.running_var if self.track_running_stats else None,
            training=use_batch_stats, momentum=momentum if updating else 0.0, eps=self.eps, axis=1,
        )
        if updating:
            self.num_batches_tracked += 1
        return out

    def get_config(self):
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "dtype": self.dtype.name,
            **({"bias": False} if self.affine and self.bias is None else {}),
        }

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    Parameters
    ----------
    num_features : int
        C.
    eps : float
        Added to the variance.
    momentum : float or None
        Weight of each new batch in the running statistics (None: cumulative average).
    affine : bool
        Learn a per-channel scale γ and shift β.
    track_running_stats : bool
        Keep running statistics for evaluation mode (False: always use batch statistics).
    dtype : str or dtype
    """

    _input_ndims = (2, 3)
    _input_layout = "(N, C) or (N, C, L)"


class LayerNorm(Module):
    """Normalise each sample over its last axes (``normalized_shape``), then scale and shift element-wise.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape normalised over, e.g. the feature count.
    eps : float
    elementwise_affine : bool
        Learn γ (``weight``, starting at 1) and β (``bias``, starting at 0) of ``normalized_shape``.
    bias : bool
        With ``elementwise_affine``, whether to learn β.
    dtype : str or dtype
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype="float32"):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        if not shape or any(not isinstance(n, numbers.Integral) or n < 1 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}")
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.dtype = layer_dtype(dtype)
        if self.elementwise_affine:
            self.weight = Parameter(xp.ones(self.normalized_shape, dtype=self.dtype))
            if bias:
                self.bias = Parameter(xp.zeros(self.normalized_shape, dtype=self.dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self, seed=None):
        """γ = 1, β = 0 (no randomness)."""
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, x):
        x = as_input(x, self.dtype)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape or x.ndim < k:
            raise ValueError(f"{self!r}: expected input of shape (..., {', '.join(map(str, self.normalized_shape))}), got {x.shape}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self):
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self.bias is not None or not self.elementwise_affine,
            "dtype": self.dtype.name,
        }

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) volumes, per channel C (arguments as :class:`BatchNorm1d`)."""

    _input_ndims = (5,)
    _input_layout = "(N, C, D, H, W)"


class _InstanceNorm(_BatchNorm):
    """Shared by InstanceNorm1d/2d/3d: subclasses set ``_spatial`` (the number of position axes).

    Each channel of each sample is normalised over its positions. With ``track_running_stats``
    training mode also updates running statistics (the instances' statistics averaged over the
    batch) and evaluation mode normalises with them; without it (the default) both modes use the
    input's own statistics. An input without the batch axis, (C, *positions), is accepted.
    """

    _spatial = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, dtype="float32",
                 *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias=bias)

    def forward(self, x):
        x = as_input(x, self.dtype)
        k = self._spatial
        if x.ndim not in (k + 1, k + 2) or x.shape[x.ndim - k - 1] != self.num_features:
            positions = ("L",) if k == 1 else ("H", "W") if k == 2 else ("D", "H", "W")
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input of shape (N, C, {', '.join(positions)}) "
                f"or (C, {', '.join(positions)}) with C = {self.num_features}, got {x.shape}"
            )
        unbatched = x.ndim == k + 1
        if unbatched:
            x = x.reshape((1,) + x.shape)
        use_input_stats = self.training or not self.track_running_stats
        updating = self.training and self.track_running_stats
        out = instance_norm(
            x,
            self.running_mean if updating or not use_input_stats else None,
            self.running_var if updating or not use_input_stats else None,
            self.weight, self.bias, use_input_stats=use_input_stats,
            momentum=(0.0 if self.momentum is None else self.momentum), eps=self.eps,
        )
        return out.reshape(out.shape[1:]) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs (see ``_InstanceNorm``; PyTorch's arguments:
    ``num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False``)."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs (arguments as :class:`InstanceNorm1d`)."""

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs (arguments as :class:`InstanceNorm1d`)."""

    _spatial = 3


class GroupNorm(Module):
    """Group normalisation: the channels of each sample split into ``num_groups`` groups, each
    normalised over its channels and positions, then a per-channel scale γ and shift β.

    Parameters
    ----------
    num_groups : int
        Must divide ``num_channels``.
    num_channels : int
    eps : float
    affine : bool
        Learn γ (``weight``, starting at 1) and β (``bias``, starting at 0), one per channel.
    dtype : str or dtype

    Shapes: (N, C, *) -> the same.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype="float32", *, bias=True):
        super().__init__()
        for name, value in (("num_groups", num_groups), ("num_channels", num_channels)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"GroupNorm: {name} must be a positive int, got {value!r}")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = float(eps)
        self.affine = bool(affine)
        self.dtype = layer_dtype(dtype)
        _affine_parameters(self, self.num_channels, self.affine, bias)

    def reset_parameters(self, seed=None):
        """γ = 1, β = 0 (no randomness)."""
        _reset_affine(self)

    def forward(self, x):
        x = as_input(x, self.dtype)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_channels}, *), got {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def get_config(self):
        return {
            "num_groups": self.num_groups, "num_channels": self.num_channels, "eps": self.eps,
            "affine": self.affine, "dtype": self.dtype.name,
            **({"bias": False} if self.affine and self.bias is None else {}),
        }

    def extra_repr(self):
        bias = self.bias is not None
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={bias}"


class LocalResponseNorm(Module):
    """Local response normalisation across channels: y_c = x_c / (k + α/size·Σ_window x²)^β (PyTorch's).

    Parameters
    ----------
    size : int
        Channels in the window (from c - size//2 to c + (size-1)//2).
    alpha, beta, k : float

    Shapes: (N, C, *) -> the same.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        self.size = int(size)
        self.alpha, self.beta, self.k = float(alpha), float(beta), float(k)

    def forward(self, x):
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def get_config(self):
        return {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes, then an element-wise scale γ.

    Parameters
    ----------
    normalized_shape : int or tuple of int
    eps : float, optional
        Added to the mean square; None: the dtype's machine epsilon (PyTorch's default).
    elementwise_affine : bool
        Learn γ (``weight``, starting at 1) of ``normalized_shape``.
    dtype : str or dtype
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype="float32"):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        if not shape or any(not isinstance(n, numbers.Integral) or n < 1 for n in shape):
            raise ValueError(f"RMSNorm: normalized_shape must be positive ints, got {normalized_shape!r}")
        if eps is not None and (not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps <= 0):
            raise ValueError(f"RMSNorm: eps must be a positive number or None, got {eps!r}")
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = None if eps is None else float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.dtype = layer_dtype(dtype)
        weight = Parameter(xp.ones(self.normalized_shape, dtype=self.dtype)) if self.elementwise_affine else None
        self.register_parameter("weight", weight)

    def reset_parameters(self, seed=None):
        """γ = 1 (no randomness)."""
        if self.weight is not None:
            self.weight.data[...] = 1

    def forward(self, x):
        return rms_norm(as_input(x, self.dtype), self.normalized_shape, self.weight, self.eps)

    def get_config(self):
        return {
            "normalized_shape": list(self.normalized_shape), "eps": self.eps,
            "elementwise_affine": self.elementwise_affine, "dtype": self.dtype.name,
        }

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
