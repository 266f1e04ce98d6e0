"""Operators and methods on ``Tensor`` (``a + b``, ``x.sum()``, ``x.reshape(...)``).

They are installed here, after every op module exists, so that ``tensor.py`` stays
free of op code. Each one only forwards to the op function of the same name.
"""

from .. import _torch_names
from ..tensor import Tensor
from . import activation, elementwise, indexing, linalg, norms, rearrange, reduce, scan, shape


def _reflected(op):
    return lambda self, other: op(other, self)


def _shape_args(args):
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _flip(self, *dims, **kwargs):
    """``x.flip(0, 1)``, ``x.flip((0, 1))`` and ``x.flip(dims=(0, 1))``."""
    return rearrange.flip(self, _shape_args(dims), **kwargs) if dims else rearrange.flip(self, **kwargs)


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
    T.__setitem__ = lambda self, index, value: indexing.setitem(self, index, value)

    T.exp = elementwise.exp
    T.log = elementwise.log
    T.sqrt = elementwise.sqrt
    T.abs = elementwise.abs
    T.__abs__ = elementwise.abs
    T.clip = elementwise.clip

    T.sum = reduce.sum
    T.mean = reduce.mean
    T.var = reduce.var
    T.max = reduce.max
    T.min = reduce.min
    T.argmax = reduce.argmax
    T.argmin = reduce.argmin
    T.std = reduce.std
    T.prod = reduce.prod
    T.logsumexp = reduce.logsumexp
    T.amax = reduce.amax
    T.amin = reduce.amin
    T.any = reduce.any
    T.all = reduce.all
    T.count_nonzero = reduce.count_nonzero
    T.norm = norms.norm
    T.cumsum = scan.cumsum
    T.cumprod = scan.cumprod
    T.median = reduce.median

    T.reshape = lambda self, *new_shape: shape.reshape(self, _shape_args(new_shape))
    T.view = T.reshape
    T.transpose = shape.transpose
    T.permute = shape.permute
    T.swapaxes = shape.swapaxes
    T.T = property(shape.reverse_dims)
    T.squeeze = shape.squeeze
    T.unsqueeze = shape.unsqueeze
    T.flatten = shape.flatten
    T.expand = lambda self, *new_shape: shape.expand(self, _shape_args(new_shape))
    T.swapdims = shape.swapdims
    T.t = shape.t
    T.mT = property(lambda self: shape.transpose(self, -2, -1))
    T.movedim = shape.movedim
    T.split = shape.split
    T.chunk = shape.chunk
    T.unbind = shape.unbind
    T.narrow = shape.narrow
    T.expand_as = lambda self, other: shape.expand(self, other.shape)
    T.view_as = lambda self, other: shape.reshape(self, other.shape)
    T.reshape_as = lambda self, other: shape.reshape(self, other.shape)
    T.flip = _flip
    T.roll = rearrange.roll
    T.repeat = rearrange.repeat
    T.repeat_interleave = rearrange.repeat_interleave
    T.tril = rearrange.tril
    T.triu = rearrange.triu

    T.relu = lambda self: activation.relu(self)
    T.sigmoid = lambda self: activation.sigmoid(self)
    T.tanh = lambda self: activation.tanh(self)
    T.softmax = activation.softmax
    T.log_softmax = activation.log_softmax
    T.__getattr__ = _torch_names.tensor_getattr
    from . import more_methods  # (math, gather, sorting, einsum and matrix methods: their own module)
    more_methods.install()
    from . import torch_aliases  # (x.add(y, alpha=), x.eq(y), x.isnan(), ...: PyTorch's method spellings)
    torch_aliases.install()
    for name in _NUMPY_DISPATCHED:
        setattr(T, name, _accepting_numpy_keywords(getattr(T, name)))


# NumPy's functions (np.sum, np.all, np.max, ...) call the method of the same name on a non-array object
# with NumPy-only keywords (out=None, dtype=None); these methods accept them, so np.all(x.grad == 0) works.
_NUMPY_DISPATCHED = ("sum", "mean", "prod", "all", "any", "max", "min", "std", "var", "argmax", "argmin",
                     "cumsum", "cumprod")


def _accepting_numpy_keywords(method):
    """``method`` also taking NumPy's ``out`` (only None) and ``dtype`` (the result is cast to it)."""

    def wrapper(self, *args, out=None, dtype=None, **kwargs):
        if out is not None:
            raise TypeError(f"Tensor.{method.__name__}: out= is not supported (chainrule returns a new tensor)")
        value = method(self, *args, **kwargs)
        return value if dtype is None else value.astype(dtype)

    wrapper.__name__ = getattr(method, "__name__", "method")
    wrapper.__doc__ = method.__doc__
    wrapper.__wrapped__ = method
    return wrapper
