"""Tensor constructors. Random ones take ``seed`` (an int or a ``numpy.random.Generator``)."""

import numpy

from . import backend
from .backend import xp
from .tensor import Tensor

__all__ = [
    "tensor", "zeros", "ones", "full", "arange", "randn", "rand",
    "zeros_like", "ones_like", "full_like", "randn_like", "rand_like", "as_generator",
]


def as_generator(seed=None):
    """A ``numpy.random.Generator`` from an int seed, a Generator (returned as is) or None (fresh entropy)."""
    if isinstance(seed, numpy.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, numpy.integer)):
        return numpy.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}")


def _dtype(dtype):
    return backend.DEFAULT_DTYPE if dtype is None else dtype


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor from ``data`` (Python floats become float32; arrays keep their dtype)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(xp.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones."""
    return Tensor(xp.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(xp.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in ``[start, stop)``; integer dtype when all arguments are ints."""
    if stop is None:
        start, stop = 0, start
    if dtype is None and all(isinstance(v, int) for v in (start, stop, step)):
        dtype = xp.int64
    return Tensor(xp.arange(start, stop, step, dtype=_dtype(dtype)), requires_grad=requires_grad)


def randn(*shape, seed=None, dtype=None, requires_grad=False):
    """Standard normal samples, drawn from ``seed`` (int or Generator)."""
    values = as_generator(seed).standard_normal(_shape(shape), dtype=numpy.float64)
    return Tensor(xp.asarray(values, dtype=_dtype(dtype)), requires_grad=requires_grad)


def rand(*shape, seed=None, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1), drawn from ``seed`` (int or Generator)."""
    values = as_generator(seed).random(_shape(shape))
    return Tensor(xp.asarray(values, dtype=_dtype(dtype)), requires_grad=requires_grad)


def _like(other, dtype):
    other = other if isinstance(other, Tensor) else Tensor(other)
    return other.shape, (other.dtype if dtype is None else dtype)


def zeros_like(other, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(other, fill_value, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def randn_like(other, seed=None, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return randn(shape, seed=seed, dtype=dtype, requires_grad=requires_grad)


def rand_like(other, seed=None, dtype=None, requires_grad=False):
    shape, dtype = _like(other, dtype)
    return rand(shape, seed=seed, dtype=dtype, requires_grad=requires_grad)
