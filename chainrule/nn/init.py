"""Weight initialisers, as in ``torch.nn.init``: each fills a tensor's data in place and returns it.

Random ones take ``seed`` (an int or a ``numpy.random.Generator``). Values are drawn in
float64 on the host and then written into the tensor, so a float32 and a float64 model
built with the same seed hold the same weights (up to rounding).

Scales (fan_in = inputs per output unit, fan_out = outputs per input unit; for a
weight of shape (out, in, *kernel) they are in·k and out·k with k = the kernel size):

- ``xavier_uniform_`` / ``xavier_normal_`` (Glorot & Bengio 2010):
  std = gain·√(2 / (fan_in + fan_out)); keeps activations' variance for tanh/linear units.
- ``kaiming_uniform_`` / ``kaiming_normal_`` (He et al. 2015):
  std = gain / √fan, gain = calculate_gain(nonlinearity, a); keeps variance for ReLU units.
- A uniform(-b, b) has std b/√3, so the uniform versions use b = √3·std.
"""

import math
import numbers

import numpy

from ..backend import xp
from ..creation import as_generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "zeros_", "ones_", "constant_", "normal_", "uniform_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "compute_fans", "initialize_",
    "INIT_SCHEMES", "trunc_normal_", "eye_", "dirac_", "sparse_",
]

_LINEAR_LIKE = (
    "linear", "identity", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)


def calculate_gain(nonlinearity, param=None):
    """The recommended scale factor for weights feeding ``nonlinearity`` (PyTorch's values).

    linear, identity, conv*, sigmoid: 1;  tanh: 5/3;  relu: √2;
    leaky_relu: √(2 / (1 + slope²)) with slope ``param`` (default 0.01);  selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
        f"{', '.join(_LINEAR_LIKE + ('tanh', 'relu', 'leaky_relu', 'selu'))}"
    )


def _array(tensor, op):
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, xp.ndarray):
        return tensor
    raise TypeError(f"{op}: expected a Tensor or Parameter to fill in place, got {type(tensor).__name__}")


def _source(seed, generator, op):
    """``generator=`` (PyTorch's keyword, a ``chainrule.Generator``) or ``seed=``; neither: the global generator."""
    if generator is not None:
        if seed is not None:
            raise ValueError(f"{op}: pass seed= or generator=, not both")
        return generator
    return seed


def _fill(tensor, values):
    """Write host ``values`` into the tensor's existing array (never rebinding ``.data``)."""
    array = _array(tensor, "init")
    array[...] = xp.asarray(values, dtype=array.dtype)
    return tensor


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel), as PyTorch computes them."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 axes, got shape {shape}")
    receptive = 1
    for n in shape[2:]:
        receptive *= n
    return shape[1] * receptive, shape[0] * receptive


def constant_(tensor, val):
    """Fill with ``val``."""
    _array(tensor, "constant_")[...] = val
    return tensor


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1)


def normal_(tensor, mean=0.0, std=1.0, seed=None, generator=None):
    """Fill with samples of N(mean, std²)."""
    seed = _source(seed, generator, "normal_")
    array = _array(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, mean + std * as_generator(seed).standard_normal(array.shape))


def uniform_(tensor, a=0.0, b=1.0, seed=None, generator=None):
    """Fill with samples of U(a, b)."""
    seed = _source(seed, generator, "uniform_")
    array = _array(tensor, "uniform_")
    if b < a:
        raise ValueError(f"uniform_: the bounds must satisfy a <= b, got a={a}, b={b}")
    return _fill(tensor, as_generator(seed).uniform(a, b, array.shape))


def xavier_uniform_(tensor, gain=1.0, seed=None, generator=None):
    """Glorot uniform: U(-b, b), b = gain·√(6 / (fan_in + fan_out))."""
    seed = _source(seed, generator, "xavier_uniform_")
    fan_in, fan_out = compute_fans(_array(tensor, "xavier_uniform_").shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, seed)


def xavier_normal_(tensor, gain=1.0, seed=None, generator=None):
    """Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out))."""
    seed = _source(seed, generator, "xavier_normal_")
    fan_in, fan_out = compute_fans(_array(tensor, "xavier_normal_").shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), seed)


def _kaiming_std(tensor, a, mode, nonlinearity, op):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = compute_fans(_array(tensor, op).shape)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"{op}: cannot initialise a weight with a zero-sized axis (shape {tensor.shape})")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", seed=None, generator=None):
    """He uniform: U(-b, b), b = √3·gain/√fan (gain from ``nonlinearity`` with negative slope ``a``).

    The defaults (a=0, leaky_relu) give gain √2, i.e. He initialisation for ReLU networks.
    """
    seed = _source(seed, generator, "kaiming_uniform_")
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(tensor, -bound, bound, seed)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", seed=None, generator=None):
    """He normal: N(0, std²), std = gain/√fan."""
    seed = _source(seed, generator, "kaiming_normal_")
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_"), seed)


def orthogonal_(tensor, gain=1.0, seed=None, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014); used for recurrent weights.

    The tensor is viewed as (shape[0], rest); its rows (or columns, whichever are fewer)
    come out orthonormal.
    """
    seed = _source(seed, generator, "orthogonal_")
    array = _array(tensor, "orthogonal_")
    if array.ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor with at least 2 axes, got shape {array.shape}")
    rows = array.shape[0]
    cols = array.size // rows
    flat = as_generator(seed).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = numpy.linalg.qr(flat)
    q *= numpy.sign(numpy.diag(r))  # makes the decomposition unique, so q is uniformly distributed
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(array.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, seed=None, generator=None):
    """Fill with N(mean, std²) samples restricted to [a, b] (absolute bounds, as PyTorch): values
    outside are drawn again until every one lies inside."""
    array = _array(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: the bounds must satisfy a < b, got a={a}, b={b}")
    if std < 0:
        raise ValueError(f"trunc_normal_: std must be >= 0, got {std}")
    rng = as_generator(_source(seed, generator, "trunc_normal_"))
    values = mean + std * rng.standard_normal(array.size)
    for _ in range(1000):
        outside = (values < a) | (values > b)
        if not outside.any():
            break
        values[outside] = mean + std * rng.standard_normal(int(outside.sum()))
    else:
        raise ValueError(f"trunc_normal_: N({mean}, {std}²) almost never falls in [{a}, {b}]; check the bounds")
    return _fill(tensor, values.reshape(array.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, as many as fit)."""
    array = _array(tensor, "eye_")
    if array.ndim != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got shape {array.shape}")
    return _fill(tensor, numpy.eye(*array.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *kernel) with the Dirac delta: each of the first
    ``in`` output channels of every group copies one input channel through the kernel's centre."""
    array = _array(tensor, "dirac_")
    if array.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: needs a 3-, 4- or 5-D tensor, got shape {array.shape}")
    if not isinstance(groups, int) or groups < 1 or array.shape[0] % groups:
        raise ValueError(f"dirac_: groups must divide the {array.shape[0]} output channels, got {groups!r}")
    per_group = array.shape[0] // groups
    values = numpy.zeros(array.shape)
    centre = tuple(n // 2 for n in array.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, array.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def sparse_(tensor, sparsity, std=0.01, seed=None, generator=None):
    """Fill a 2-D tensor with N(0, std²) samples, then zero ceil(sparsity·rows) random rows of every
    column (Martens 2010)."""
    array = _array(tensor, "sparse_")
    if array.ndim != 2:
        raise ValueError(f"sparse_: needs a 2-D tensor, got shape {array.shape}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    rng = as_generator(_source(seed, generator, "sparse_"))
    rows, cols = array.shape
    values = std * rng.standard_normal((rows, cols))
    zeros = int(math.ceil(sparsity * rows))
    for c in range(cols):
        values[rng.permutation(rows)[:zeros], c] = 0
    return _fill(tensor, values)


# ------------------------------------------------------------- layer schemes
INIT_SCHEMES = (
    "default", "kaiming_uniform", "kaiming_normal", "he_uniform", "he_normal",
    "xavier_uniform", "xavier_normal", "glorot_uniform", "glorot_normal",
)


def initialize_(weight, bias=None, scheme="default", seed=None):
    """Initialise a layer's weight (shaped (out, in, *kernel)) and bias by a named scheme.

    - ``"default"``: PyTorch's default for Linear and Conv layers,
      ``kaiming_uniform_(weight, a=√5)``, which works out to U(±1/√fan_in), and a bias
      drawn from U(±1/√fan_in). Neither too large nor tuned to a nonlinearity.
    - ``"kaiming_uniform"`` / ``"he_uniform"``, ``"kaiming_normal"`` / ``"he_normal"``:
      He initialisation for ReLU networks (gain √2, fan_in); bias 0.
    - ``"xavier_uniform"`` / ``"glorot_uniform"``, ``"xavier_normal"`` / ``"glorot_normal"``:
      Glorot initialisation for tanh/sigmoid/linear units (Keras's default); bias 0.

    The weight is drawn first, then the bias, from one generator made from ``seed``.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; expected one of {', '.join(INIT_SCHEMES)}")
    rng = as_generator(seed)
    fan_in, _ = compute_fans(_array(weight, "initialize_").shape)
    if scheme == "default":
        kaiming_uniform_(weight, a=math.sqrt(5.0), seed=rng)
        if bias is not None:
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            uniform_(bias, -bound, bound, seed=rng)
        return weight
    if scheme in ("kaiming_uniform", "he_uniform"):
        kaiming_uniform_(weight, nonlinearity="relu", seed=rng)
    elif scheme in ("kaiming_normal", "he_normal"):
        kaiming_normal_(weight, nonlinearity="relu", seed=rng)
    elif scheme in ("xavier_uniform", "glorot_uniform"):
        xavier_uniform_(weight, seed=rng)
    else:
        xavier_normal_(weight, seed=rng)
    if bias is not None:
        zeros_(bias)
    return weight
