"""Differentiable operations, one module per family; each op keeps its forward and backward together."""

from . import activation, elementwise, indexing, linalg, loss, reduce, shape
from . import methods as _methods

_methods.install()
