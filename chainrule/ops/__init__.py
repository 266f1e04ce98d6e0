"""Differentiable operations, one module per family; each op keeps its forward and backward together."""

from . import activation, dropout, elementwise, indexing, linalg, loss, normalization, reduce, shape
from . import methods as _methods

_methods.install()
