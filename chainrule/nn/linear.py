"""Fully connected layers ``Linear`` and ``Bilinear``, plus the shape helpers ``Identity``, ``Flatten``
and ``Unflatten``."""

import math
import numbers

from ..backend import xp
from ..creation import as_generator
from ..ops.bilinear import bilinear
from ..ops.linalg import linear
from ..tensor import as_tensor
from .config import register_module
from .init import INIT_SCHEMES, initialize_
from .module import Module, as_input, config_seed, layer_dtype
from .parameter import Parameter

__all__ = ["Linear", "Dense", "Identity", "Flatten", "Unflatten", "Bilinear"]


def _positive_int(value, name, layer):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


class Linear(Module):
    """``y = x Wᵀ + b``: weight W of shape (out_features, in_features), as in PyTorch.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Learn an additive bias b of shape (out_features,).
    init : str
        Initialisation scheme (see ``chainrule.nn.init.initialize_``). ``"default"`` is
        PyTorch's: W ~ U(±1/√in_features) (``kaiming_uniform_`` with a=√5) and
        b ~ U(±1/√in_features). For deep ReLU networks ``"kaiming_uniform"`` (He: bound
        √(6/in_features), b = 0) keeps activations from shrinking layer by layer;
        ``"xavier_uniform"`` (Glorot, Keras's default) suits tanh/sigmoid.
    seed : int or numpy.random.Generator, optional
        Seed of the initial weights (an int makes them reproducible, also after
        ``reset_parameters()``).
    dtype : str or dtype
        float32 (default) or float64.

    Shapes: input (*, in_features) -> output (*, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, init="default", seed=None, dtype="float32"):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        if init not in INIT_SCHEMES:
            raise ValueError(f"Linear: unknown init {init!r}; expected one of {', '.join(INIT_SCHEMES)}")
        self.init = init
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        self.weight = Parameter(xp.empty((self.out_features, self.in_features), dtype=self.dtype))
        if bias:
            self.bias = Parameter(xp.empty(self.out_features, dtype=self.dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, seed=None):
        """Draw new weights by ``self.init``, from ``seed`` or else the layer's own seed."""
        initialize_(self.weight, self.bias, self.init, self.seed if seed is None else seed)

    def forward(self, x):
        x = as_input(x, self.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: expected input of shape (..., {self.in_features}), got {x.shape}"
            )
        return linear(x, self.weight, self.bias)

    def get_config(self):
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
            "init": self.init,
            "seed": config_seed(self.seed),
            "dtype": self.dtype.name,
        }

    def extra_repr(self):
        text = f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")


Dense = Linear  # the Keras name
register_module(Linear, "Dense")


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer). Arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x

    def get_config(self):
        return {}


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x):
        x = as_tensor(x)
        ndim = x.ndim
        start, end = self.start_dim % max(ndim, 1), self.end_dim % max(ndim, 1)
        if not (-ndim <= self.start_dim < ndim and -ndim <= self.end_dim < ndim) or start > end:
            raise ValueError(
                f"{self!r}: cannot flatten axes {self.start_dim}..{self.end_dim} of an input of shape {x.shape}"
            )
        shape = x.shape
        merged = 1
        for n in shape[start : end + 1]:
            merged *= n
        return x.reshape(shape[:start] + (merged,) + shape[end + 1 :])

    def get_config(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: ``Unflatten(1, (2, 5))`` maps (N, 10) to (N, 2, 5).

    One entry of ``unflattened_size`` may be -1 (inferred).
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        def valid(n):
            return isinstance(n, numbers.Integral) and not isinstance(n, bool) and (n >= 1 or n == -1)

        if isinstance(unflattened_size, numbers.Integral) or not len(unflattened_size) or not all(
            valid(n) for n in unflattened_size
        ) or list(unflattened_size).count(-1) > 1:
            raise ValueError(
                f"Unflatten: unflattened_size must be a tuple or list of positive ints (one may be -1), "
                f"got {unflattened_size!r}"
            )
        self.dim = int(dim)
        self.unflattened_size = tuple(int(n) for n in unflattened_size)

    def forward(self, x):
        x = as_tensor(x)
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"{self!r}: dim {self.dim} is out of range for an input of shape {x.shape}")
        dim = self.dim % x.ndim
        known = math.prod(n for n in self.unflattened_size if n != -1)
        size = x.shape[dim]
        if (-1 in self.unflattened_size and size % known) or (-1 not in self.unflattened_size and size != known):
            raise ValueError(
                f"{self!r}: cannot split axis {self.dim} of size {size} (input shape {x.shape}) into "
                f"{self.unflattened_size}"
            )
        sizes = tuple(size // known if n == -1 else n for n in self.unflattened_size)
        return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1 :])

    def get_config(self):
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Bilinear(Module):
    """``y = x1ᵀ A x2 + b``: weight A of shape (out_features, in1_features, in2_features), as in PyTorch.

    Parameters
    ----------
    in1_features, in2_features, out_features : int
    bias : bool
    seed : int or numpy.random.Generator, optional
        Weights and bias ~ U(±1/√in1_features) (PyTorch's initialisation).
    dtype : str or dtype

    ``forward(input1, input2)``: (*, in1_features) and (*, in2_features) -> (*, out_features).
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, seed=None, dtype="float32"):
        super().__init__()
        self.in1_features = _positive_int(in1_features, "in1_features", "Bilinear")
        self.in2_features = _positive_int(in2_features, "in2_features", "Bilinear")
        self.out_features = _positive_int(out_features, "out_features", "Bilinear")
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.weight = Parameter(xp.empty(shape, dtype=self.dtype))
        if bias:
            self.bias = Parameter(xp.empty(self.out_features, dtype=self.dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, seed=None):
        """Weight and bias ~ U(±1/√in1_features), from ``seed`` or the layer's seed."""
        rng = as_generator(self.seed if seed is None else seed)
        bound = 1.0 / math.sqrt(self.in1_features)
        for param in (self.weight, self.bias):
            if param is not None:
                param.data[...] = xp.asarray(rng.uniform(-bound, bound, param.shape), dtype=self.dtype)

    def forward(self, input1, input2):
        return bilinear(as_input(input1, self.dtype), as_input(input2, self.dtype), self.weight, self.bias)

    def get_config(self):
        return {
            "in1_features": self.in1_features, "in2_features": self.in2_features, "out_features": self.out_features,
            "bias": self.bias is not None, "seed": config_seed(self.seed), "dtype": self.dtype.name,
        }

    def extra_repr(self):
        text = (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")
