"""Tensor constructors, named and typed as PyTorch's.

Random ones take ``generator=`` (a ``chainrule.Generator``) or ``seed=`` (an int or a
``numpy.random.Generator``); with neither they draw from the global generator that ``manual_seed``
seeds (as do dropout and the initialisers of ``chainrule.nn.init``).
"""

import numpy

from . import backend
from .backend import xp
from .dtypes import as_dtype
from .tensor import Tensor, _as_array, _check_device

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "logspace",
    "randn", "rand", "randint", "randperm", "normal", "manual_seed", "seed", "initial_seed", "Generator",
    "default_generator", "zeros_like", "ones_like", "empty_like", "full_like", "randn_like", "rand_like",
    "as_generator", "multinomial", "bernoulli",
]


class Generator:
    """A random-number generator object as ``torch.Generator``: ``Generator().manual_seed(0)``.

    Wraps a ``numpy.random.Generator`` (``.rng``); random functions take it as ``generator=``.
    """

    def __init__(self, device="cpu"):
        _check_device(device)
        self._rng = None  # made on first use: numpy.random is not imported by ``import chainrule``
        self._seed = None

    @property
    def rng(self):
        """The ``numpy.random.Generator`` drawn from."""
        if self._rng is None:
            self._rng = numpy.random.default_rng()
        return self._rng

    def manual_seed(self, seed):
        """Reseed in place (objects holding this generator see the new stream); returns ``self``."""
        seed = int(seed)
        # in place, so that layers that keep a reference to ``rng`` follow the reseeding; PCG64(seed) is
        # what numpy.random.default_rng(seed) builds, so manual_seed(s) draws what seed=s draws
        self.rng.bit_generator.state = numpy.random.PCG64(seed).state
        self._seed = seed
        return self

    def seed(self):
        """Reseed from fresh entropy; returns the new seed."""
        value = int(numpy.random.SeedSequence().entropy % 2**63)
        self.manual_seed(value)
        return value

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state


default_generator = Generator()
"""The global generator: random functions, dropout and initialisers use it when given no seed or generator."""


def manual_seed(seed):
    """Seed the global generator (what every draw without ``seed=``/``generator=`` uses); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the global generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed last given to ``manual_seed`` (None if it was never called)."""
    return default_generator.initial_seed()


def as_generator(seed=None):
    """A ``numpy.random.Generator`` from an int seed, a Generator (returned as is), a chainrule ``Generator``,
    or None: the global generator (see ``manual_seed``)."""
    if isinstance(seed, numpy.random.Generator):
        return seed
    if seed is None:
        return default_generator.rng
    if isinstance(seed, Generator):
        return seed.rng
    if isinstance(seed, (int, numpy.integer)) and not isinstance(seed, bool):
        return numpy.random.default_rng(seed)
    raise TypeError(
        f"seed must be an int, a numpy.random.Generator, a chainrule.Generator or None, got {type(seed).__name__}"
    )


def _source(seed, generator, where):
    if seed is not None and generator is not None:
        raise ValueError(f"{where}: pass seed= or generator=, not both")
    return as_generator(generator if generator is not None else seed)


def _dtype(dtype):
    return backend.DEFAULT_DTYPE if dtype is None else as_dtype(dtype)


def _shape(shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    for n in shape:
        if not isinstance(n, (int, numpy.integer)) or isinstance(n, bool) or n < 0:
            raise TypeError(f"size must be non-negative ints, got {shape!r}")
    return shape


def _size(shape, size, where):
    """The shape given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=`` (``zeros(size=(2, 3))``)."""
    if size is None:
        return shape
    if shape:
        raise TypeError(f"{where}: give the shape positionally or as size=, not both")
    return (size,) if isinstance(size, (int, numpy.integer)) else (tuple(size),)


def _new(array, requires_grad, device):
    if device is not None:
        _check_device(device)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data``, as ``torch.tensor``.

    Python ints become int64, Python floats float32 (the default dtype), bools bool; NumPy arrays keep
    their dtype (a float64 array stays float64).
    """
    if isinstance(data, Tensor):
        data = data.data
    array = _as_array(data, None if dtype is None else as_dtype(dtype))
    if array is data or (hasattr(data, "dtype") and numpy.shares_memory(array, data)):
        array = array.copy()
    return _new(array, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a Tensor, sharing memory with a NumPy array (or returning a Tensor) when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == as_dtype(dtype) else data.to(dtype)
    return _new(_as_array(data, None if dtype is None else as_dtype(dtype)), False, device)


def from_numpy(array):
    """A Tensor sharing memory with the NumPy ``array`` (changes to one show in the other)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(xp.asarray(array))


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    size = _size(shape, size, "zeros")
    return _new(xp.zeros(_shape(size), dtype=_dtype(dtype)), requires_grad, device)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    size = _size(shape, size, "ones")
    return _new(xp.ones(_shape(size), dtype=_dtype(dtype)), requires_grad, device)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor (its values are whatever the memory held)."""
    size = _size(shape, size, "empty")
    return _new(xp.empty(_shape(size), dtype=_dtype(dtype)), requires_grad, device)


def _fill_dtype(fill_value):
    """``full``'s dtype from its fill value, as PyTorch: bool -> bool, int -> int64, float -> the default."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if isinstance(fill_value, (bool, numpy.bool_)):
        return xp.bool_
    if isinstance(fill_value, (int, numpy.integer)):
        return xp.int64
    return backend.DEFAULT_DTYPE


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (``full((2,), 7)`` is int64)."""
    size = (size,) if isinstance(size, (int, numpy.integer)) else tuple(size)
    dtype = _fill_dtype(fill_value) if dtype is None else as_dtype(dtype)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _new(xp.full(_shape(size), value, dtype=dtype), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix, ``n`` x ``m`` (``m`` defaults to ``n``)."""
    return _new(xp.eye(n, n if m is None else m, dtype=_dtype(dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, stop=None):
    """Evenly spaced values in ``[start, end)``: int64 when all arguments are ints, else the default float dtype."""
    if stop is not None:  # NumPy's name
        end = stop
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, numpy.integer)) and not isinstance(v, bool) for v in (start, end, step))
        dtype = xp.int64 if ints else backend.DEFAULT_DTYPE
    # computed in float64 (or int64), then cast: float32 steps would drift from PyTorch's values
    values = xp.arange(start, end, step)
    return _new(values.astype(as_dtype(dtype), copy=False), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (default dtype float32)."""
    values = xp.linspace(float(start), float(end), int(steps))
    return _new(values.astype(_dtype(dtype)), requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    values = xp.logspace(float(start), float(end), int(steps), base=float(base))
    return _new(values.astype(_dtype(dtype)), requires_grad, device)


def randn(*shape, size=None, generator=None, seed=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples from ``generator``/``seed`` (int or Generator), else the global generator."""
    size = _size(shape, size, "randn")
    values = _source(seed, generator, "randn").standard_normal(_shape(size), dtype=numpy.float64)
    return _new(xp.asarray(values, dtype=_dtype(dtype)), requires_grad, device)


def rand(*shape, size=None, generator=None, seed=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) from ``generator``/``seed``, else the global generator."""
    size = _size(shape, size, "rand")
    values = _source(seed, generator, "rand").random(_shape(size))
    return _new(xp.asarray(values, dtype=_dtype(dtype)), requires_grad, device)


def randint(low, high=None, size=None, generator=None, seed=None, dtype=None, device=None, requires_grad=False):
    """Random integers in ``[low, high)`` (int64): ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(10, (3,))")
    size = (size,) if isinstance(size, (int, numpy.integer)) else tuple(size)
    values = _source(seed, generator, "randint").integers(low, high, _shape(size))
    return _new(xp.asarray(values, dtype=xp.int64 if dtype is None else as_dtype(dtype)), requires_grad, device)


def randperm(n, generator=None, seed=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1`` (int64)."""
    values = _source(seed, generator, "randperm").permutation(int(n))
    return _new(xp.asarray(values, dtype=xp.int64 if dtype is None else as_dtype(dtype)), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, generator=None, seed=None, dtype=None, device=None, requires_grad=False):
    """Normal samples: ``normal(mean, std, size)`` with numbers, or elementwise means/stds from tensors."""
    rng = _source(seed, generator, "normal")
    mean_a = mean.data if isinstance(mean, Tensor) else mean
    std_a = std.data if isinstance(std, Tensor) else std
    if size is None:
        size = xp.broadcast_shapes(xp.shape(mean_a), xp.shape(std_a))
    if dtype is None:
        tensors = [t.dtype for t in (mean, std) if isinstance(t, Tensor)]
        dtype = tensors[0] if tensors else backend.DEFAULT_DTYPE
    values = mean_a + std_a * rng.standard_normal(_shape((size,) if isinstance(size, int) else tuple(size)))
    return _new(xp.asarray(values, dtype=as_dtype(dtype)), requires_grad, device)


def _like(other, dtype):
    other = other if isinstance(other, Tensor) else Tensor(other)
    return other.shape, (other.dtype if dtype is None else dtype)


def empty_like(other, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return empty(shape, dtype=dtype, requires_grad=requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(other, fill_value, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def randn_like(other, seed=None, dtype=None, requires_grad=False, generator=None):
    shape, dtype = _like(other, dtype)
    return randn(shape, seed=seed, generator=generator, dtype=dtype, requires_grad=requires_grad)


def rand_like(other, seed=None, dtype=None, requires_grad=False, generator=None):
    shape, dtype = _like(other, dtype)
    return rand(shape, seed=seed, generator=generator, dtype=dtype, requires_grad=requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None, seed=None):
    """Indices drawn with probabilities proportional to the rows of ``input`` (int64, as ``torch.multinomial``).

    ``input`` is 1-D (one distribution) or 2-D (one per row) of non-negative weights, not necessarily
    normalised; the result has ``num_samples`` indices per row, drawn without replacement unless
    ``replacement=True``. The draws come from ``generator``/``seed``, else the global generator.
    """
    weights = input.data if isinstance(input, Tensor) else xp.asarray(input)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D weights, got shape {tuple(weights.shape)}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, numpy.integer)) or num_samples < 1:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    rows = numpy.atleast_2d(backend.to_numpy(weights)).astype(numpy.float64)
    if not numpy.all(numpy.isfinite(rows)) or numpy.any(rows < 0):
        raise ValueError("multinomial: weights must be finite and non-negative")
    rng = _source(seed, generator, "multinomial")
    out = numpy.empty((rows.shape[0], num_samples), dtype=numpy.int64)
    for i, row in enumerate(rows):
        total, available = row.sum(), numpy.count_nonzero(row)
        if total <= 0:
            raise ValueError(f"multinomial: row {i} of the weights sums to 0; it must hold a positive weight")
        if not replacement and num_samples > available:
            raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from row {i}, "
                             f"which has {available} non-zero weight(s)")
        out[i] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    return Tensor(xp.asarray(out[0] if weights.ndim == 1 else out))


def bernoulli(input, p=None, *, generator=None, seed=None):
    """0/1 draws, 1 with probability ``input`` (or ``p``, a number), in ``input``'s dtype (``torch.bernoulli``)."""
    probabilities = input.data if isinstance(input, Tensor) else xp.asarray(input, dtype=backend.DEFAULT_DTYPE)
    chance = probabilities if p is None else xp.full(probabilities.shape, p, dtype=numpy.float64)
    chance = backend.to_numpy(chance)
    if numpy.any((chance < 0) | (chance > 1)) or not numpy.all(numpy.isfinite(chance)):
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    draws = _source(seed, generator, "bernoulli").random(chance.shape) < chance
    return Tensor(xp.asarray(draws, dtype=probabilities.dtype))
