"""dtype objects named as in PyTorch: ``chainrule.float32``, ``chainrule.int64``, ``chainrule.bool`` ...

They *are* NumPy dtypes (``chainrule.float32 is numpy.dtype("float32")``), so they pass straight
to NumPy and compare equal to a tensor's ``.dtype`` and to NumPy's scalar types
(``x.dtype == chainrule.float32``, ``x.dtype == numpy.float32``).
"""

import builtins

import numpy

__all__ = [
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "half", "float", "double", "short", "int", "long", "get_default_dtype", "as_dtype",
]

float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int8 = numpy.dtype("int8")
int16 = numpy.dtype("int16")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
uint8 = numpy.dtype("uint8")
bool = numpy.dtype("bool")  # noqa: A001 - PyTorch's name

# PyTorch's aliases
half = float16
float = float32  # noqa: A001
double = float64
short = int16
int = int32  # noqa: A001
long = int64

def get_default_dtype():
    """The floating dtype of tensors made from Python floats (``float32``)."""
    from .backend import DEFAULT_DTYPE

    return numpy.dtype(DEFAULT_DTYPE)


def as_dtype(dtype, where="dtype"):
    """``dtype`` (a chainrule/NumPy dtype, a NumPy scalar type or a name such as ``"float32"``) as a NumPy dtype.

    Python's ``float``, ``int`` and ``bool`` mean PyTorch's defaults (float32, int64, bool).
    """
    if dtype is builtins.float:
        return get_default_dtype()
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype such as chainrule.float32, got {dtype!r}") from None
