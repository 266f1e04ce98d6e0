"""Differentiable operations, one module per family; each op keeps its forward and backward together."""

from . import (
    activation, conv, dropout, elementwise, embedding, indexing, linalg, loss, normalization, pooling, recurrent,
    reduce, shape,
)
from . import ctc, distance, padding
from . import methods as _methods

_methods.install()
