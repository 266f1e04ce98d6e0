"""Activation layers: thin modules over the ops in ``chainrule.ops.activation``.

Constructors take PyTorch's arguments. ``inplace=`` is accepted (so code written for
``torch.nn`` runs unchanged) but chainrule always returns a new tensor: the input is never
overwritten, which the graph needs for the backward pass anyway.
"""

from ..backend import xp
from ..ops import activation as F
from .module import Module, layer_dtype
from .parameter import Parameter

__all__ = [
    "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "ReLU6", "Hardtanh", "Hardswish", "Hardsigmoid", "SELU", "CELU", "SiLU", "Mish", "Softsign", "LogSigmoid",
    "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "PReLU", "GLU", "Softmin",
]


class _Activation(Module):
    """An activation with no learned state: ``_op(x, *args)``, the args being the attributes named in ``_args``.

    ``get_config``, ``extra_repr`` and ``forward`` all follow from ``_args`` (the constructor's
    argument names, in order) and ``_op``; ``inplace``, where a subclass takes it, is stored and shown
    in the config and repr but changes nothing.
    """

    _args = ()
    _op = None
    _op_args = ()  # _args without inplace: what forward passes on (worked out once per class)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._op_args = tuple(name for name in cls._args if name != "inplace")

    def forward(self, x):
        names = self._op_args
        if not names:  # ReLU, Sigmoid, Tanh, ...: no per-call argument gathering
            return type(self)._op(x)
        return type(self)._op(x, *[getattr(self, name) for name in names])

    def get_config(self):
        # inplace only where set, so that configs of the common case stay as they were ({} for ReLU)
        return {name: getattr(self, name) for name in self._args if name != "inplace" or self.inplace}

    def extra_repr(self):
        shown = [f"{name}={getattr(self, name)!r}" for name in self._args if name != "inplace"]
        if getattr(self, "inplace", False):
            shown.append("inplace=True")
        return ", ".join(shown)


def _inplace(value):
    return bool(value)


class ReLU(_Activation):
    """max(0, x)."""

    _args = ("inplace",)
    _op = F.relu

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _inplace(inplace)


class Sigmoid(_Activation):
    """1 / (1 + e^-x)."""

    _op = F.sigmoid


class Tanh(_Activation):
    """tanh(x)."""

    _op = F.tanh


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope·x otherwise."""

    _args = ("negative_slope", "inplace")
    _op = F.leaky_relu

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.inplace = _inplace(inplace)


class ELU(_Activation):
    """x for x > 0, alpha·(e^x - 1) otherwise."""

    _args = ("alpha", "inplace")
    _op = F.elu

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = float(alpha)
        self.inplace = _inplace(inplace)


class CELU(ELU):
    """max(0, x) + min(0, alpha·(e^(x/alpha) - 1))."""

    _op = F.celu

    def __init__(self, alpha=1.0, inplace=False):
        if float(alpha) == 0:
            raise ValueError("CELU: alpha must be non-zero, got 0")
        super().__init__(alpha, inplace)


class GELU(_Activation):
    """x·Φ(x) (``approximate="none"``) or its tanh approximation (``approximate="tanh"``)."""

    _args = ("approximate",)
    _op = F.gelu

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate


class Softplus(_Activation):
    """log(1 + e^(beta·x)) / beta, linear above ``threshold`` (in units of beta·x) for stability."""

    _args = ("beta", "threshold")
    _op = F.softplus

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        if float(beta) == 0:
            raise ValueError("Softplus: beta must be non-zero, got 0")
        self.beta = float(beta)
        self.threshold = float(threshold)


class Softmax(_Activation):
    """e^x / Σ e^x along ``dim``. For training a classifier, feed logits to ``CrossEntropyLoss`` instead.

    ``dim`` defaults to -1 (the last axis); ``dim=None`` is PyTorch's deprecated implicit choice
    (axis 0 for 0-, 1- and 3-D inputs, else axis 1), with its warning.
    """

    _args = ("dim",)
    _op = F.softmax

    def __init__(self, dim=-1):
        super().__init__()
        if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
            raise TypeError(f"{type(self).__name__}: dim must be an int or None, got {dim!r}")
        self.dim = dim

    def forward(self, x):
        if self.dim is None:
            from . import functional

            return getattr(functional, type(self)._op.__name__)(x)
        return type(self)._op(x, self.dim)


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably."""

    _op = F.log_softmax


class Softmin(Softmax):
    """softmax(-x) along ``dim``."""

    _op = F.softmin


class ReLU6(ReLU):
    """min(max(0, x), 6)."""

    _op = F.relu6


class Hardswish(ReLU):
    """x·relu6(x + 3)/6."""

    _op = F.hardswish


class Hardsigmoid(ReLU):
    """relu6(x + 3)/6."""

    _op = F.hardsigmoid


class SELU(ReLU):
    """scale·elu(x, alpha) with the self-normalising constants."""

    _op = F.selu


class SiLU(ReLU):
    """x·σ(x) (swish)."""

    _op = F.silu


class Mish(ReLU):
    """x·tanh(softplus(x))."""

    _op = F.mish


class Softsign(_Activation):
    """x / (1 + |x|)."""

    _op = F.softsign


class LogSigmoid(_Activation):
    """log σ(x)."""

    _op = F.logsigmoid


class Tanhshrink(_Activation):
    """x - tanh(x)."""

    _op = F.tanhshrink


class Hardtanh(_Activation):
    """x clipped to [min_val, max_val]."""

    _args = ("min_val", "max_val", "inplace")
    _op = F.hardtanh

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if float(min_val) > float(max_val):
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val = float(min_val)
        self.max_val = float(max_val)
        self.inplace = _inplace(inplace)


class Softshrink(_Activation):
    """x ∓ lambd outside [-lambd, lambd], 0 inside."""

    _args = ("lambd",)
    _op = F.softshrink

    def __init__(self, lambd=0.5):
        super().__init__()
        if float(lambd) < 0:
            raise ValueError(f"{type(self).__name__}: lambd must be non-negative, got {lambd!r}")
        self.lambd = float(lambd)


class Hardshrink(Softshrink):
    """x outside [-lambd, lambd], 0 inside."""

    _op = F.hardshrink


class Threshold(_Activation):
    """x where x > threshold, else value."""

    _args = ("threshold", "value", "inplace")
    _op = F.threshold

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = float(threshold)
        self.value = float(value)
        self.inplace = _inplace(inplace)


class GLU(_Activation):
    """a·σ(b), with a and b the two halves of the input along ``dim``."""

    _args = ("dim",)
    _op = F.glu

    def __init__(self, dim=-1):
        super().__init__()
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(f"GLU: dim must be an int, got {dim!r}")
        self.dim = dim


class PReLU(Module):
    """x for x > 0, a·x otherwise, with the slope ``a`` learned: one for all channels, or one per channel (axis 1).

    Parameters
    ----------
    num_parameters : int
        1, or the number of channels.
    init : float
        Initial slope (PyTorch's default 0.25).
    dtype : str or dtype
        float32 (default) or float64.
    """

    def __init__(self, num_parameters=1, init=0.25, dtype="float32"):
        super().__init__()
        if not isinstance(num_parameters, int) or isinstance(num_parameters, bool) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = float(init)
        self.dtype = layer_dtype(dtype)
        self.weight = Parameter(xp.empty(num_parameters, dtype=self.dtype))
        self.reset_parameters()

    def reset_parameters(self, seed=None):
        """Set every slope back to ``init``."""
        self.weight.data[...] = self.init

    def forward(self, x):
        return F.prelu(x, self.weight)

    def get_config(self):
        return {"num_parameters": self.num_parameters, "init": self.init, "dtype": self.dtype.name}

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
