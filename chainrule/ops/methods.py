"""Operators and methods on ``Tensor`` (``a + b``, ``x.sum()``, ``x.reshape(...)``).

They are installed here, after every op module exists, so that ``tensor.py`` stays
free of op code. Each one only forwards to the op function of the same name.
"""

from ..backend import xp
from ..tensor import Tensor, constant
from . import activation, elementwise, indexing, linalg, reduce, shape


def _reflected(op):
    return lambda self, other: op(other, self)


def _shape_args(args):
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def install():
    T = Tensor
    T.__add__ = elementwise.add
    T.__radd__ = _reflected(elementwise.add)
    T.__sub__ = elementwise.sub
    T.__rsub__ = _reflected(elementwise.sub)
    T.__mul__ = elementwise.mul
    T.__rmul__ = _reflected(elementwise.mul)
    T.__truediv__ = elementwise.div
    T.__rtruediv__ = _reflected(elementwise.div)
    T.__pow__ = elementwise.pow
    T.__rpow__ = _reflected(elementwise.pow)
    T.__neg__ = elementwise.neg
    T.__matmul__ = linalg.matmul
    T.__rmatmul__ = _reflected(linalg.matmul)
    T.__eq__ = elementwise.equal
    T.__ne__ = elementwise.not_equal
    T.__lt__ = elementwise.less
    T.__le__ = elementwise.less_equal
    T.__gt__ = elementwise.greater
    T.__ge__ = elementwise.greater_equal
    T.__getitem__ = lambda self, index: indexing.getitem(self, index)

    T.exp = elementwise.exp
    T.log = elementwise.log
    T.sqrt = elementwise.sqrt
    T.abs = elementwise.abs
    T.__abs__ = elementwise.abs
    T.clip = elementwise.clip

    T.sum = reduce.sum
    T.mean = reduce.mean
    T.var = lambda self, axis=None, keepdims=False, ddof=0: reduce.var(self, axis, keepdims, ddof)
    T.max = lambda self, axis=None, keepdims=False: reduce.max(self, axis, keepdims)
    T.min = lambda self, axis=None, keepdims=False: reduce.min(self, axis, keepdims)
    T.argmax = lambda self, axis=None: constant(xp.argmax(self.data, axis=axis))
    T.argmin = lambda self, axis=None: constant(xp.argmin(self.data, axis=axis))

    T.reshape = lambda self, *new_shape: shape.reshape(self, _shape_args(new_shape))
    T.view = T.reshape
    T.transpose = lambda self, *axes: shape.transpose(self, _shape_args(axes) or None)
    T.permute = lambda self, *axes: shape.permute(self, _shape_args(axes))
    T.swapaxes = lambda self, axis1, axis2: shape.swapaxes(self, axis1, axis2)
    T.T = property(lambda self: shape.transpose(self))
    T.squeeze = lambda self, axis=None: shape.squeeze(self, axis)
    T.unsqueeze = lambda self, axis: shape.unsqueeze(self, axis)
    T.flatten = lambda self, start_dim=0, end_dim=-1: shape.flatten(self, start_dim, end_dim)
    T.expand = lambda self, *new_shape: shape.expand(self, _shape_args(new_shape))

    T.relu = lambda self: activation.relu(self)
    T.sigmoid = lambda self: activation.sigmoid(self)
    T.tanh = lambda self: activation.tanh(self)
    T.softmax = lambda self, axis=-1: activation.softmax(self, axis)
    T.log_softmax = lambda self, axis=-1: activation.log_softmax(self, axis)
    from . import more_methods  # (math, gather, sorting, einsum and matrix methods: their own module)
    more_methods.install()
