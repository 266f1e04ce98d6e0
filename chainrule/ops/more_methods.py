"""Tensor methods and operators for the ops of ``math``, ``gather``, ``sorting``, ``einsum`` and
``matrices`` (``x // y``, ``x % y``, ``x.sin()``, ``x.gather(1, idx)``, ``x.topk(3)``, ``x.clamp_(0, 1)``).

Called from :func:`chainrule.ops.methods.install`. Each method forwards to the op of the same name;
the in-place ``*_`` variants go through :func:`_in_place`.
"""

from ..function import is_grad_enabled
from ..tensor import Tensor
from . import elementwise, gather, math, matrices, sorting


def _reflected(op):
    return lambda self, other: op(other, self)


def _in_place(op, name):
    """``x.op_(...)``: ``x`` takes the result of ``op(x, ...)``.

    Without a gradient to track, the values are written into ``x``'s own array (views of it see the
    change). A tensor inside a graph becomes the result's graph node and keeps the old node as its
    input. A leaf that requires a gradient cannot be changed in place (as in PyTorch).
    """

    def method(self, *args, **kwargs):
        tracked = self.requires_grad and is_grad_enabled()
        if tracked and self.is_leaf:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad cannot be modified in place; "
                f"use the out-of-place {name[:-1]}() or modify it inside chainrule.no_grad()"
            )
        if not tracked:
            out = op(self, *args, **kwargs)
            if out.shape != self.shape:
                raise ValueError(f"{name}: the result's shape {out.shape} differs from the tensor's {self.shape}")
            self._writable_data()[...] = out.data
            return self
        # a tensor of the graph: the op reads a stand-in holding this node's graph, and this tensor becomes the result
        old = Tensor.__new__(Tensor)
        for slot in _SLOTS:
            value = getattr(self, slot, _UNSET)  # some slots are set only when used (hooks, a double rule)
            if value is not _UNSET:
                setattr(old, slot, value)
        out = op(old, *args, **kwargs)
        for slot in _GRAPH_SLOTS:
            value = getattr(out, slot, _UNSET)
            if value is not _UNSET:
                setattr(self, slot, value)
            elif hasattr(self, slot):
                delattr(self, slot)
        return self

    method.__name__ = name
    return method


_UNSET = object()
_SLOTS = [slot for slot in Tensor.__slots__ if slot != "__weakref__"]
_GRAPH_SLOTS = ("data", "requires_grad", "_parents", "_backward", "_op", "_double")


def install():
    T = Tensor
    T.__floordiv__ = math.floor_divide
    T.__rfloordiv__ = _reflected(math.floor_divide)
    T.__mod__ = math.remainder
    T.__rmod__ = _reflected(math.remainder)
    for name in math.__all__:
        setattr(T, name, getattr(math, name))
    T.where = lambda self, condition, other: elementwise.where(condition, self, other)
    T.maximum = elementwise.maximum
    T.minimum = elementwise.minimum
    T.clamp = elementwise.clip
    T.clamp_min = lambda self, min: elementwise.clip(self, min=min)
    T.clamp_max = lambda self, max: elementwise.clip(self, max=max)
    T.clamp_ = T.clip_ = _in_place(elementwise.clip, "clamp_")

    T.gather = gather.gather
    T.scatter = gather.scatter
    T.scatter_ = _in_place(gather.scatter, "scatter_")
    T.scatter_add = gather.scatter_add
    T.scatter_add_ = _in_place(gather.scatter_add, "scatter_add_")
    T.scatter_reduce = gather.scatter_reduce
    T.scatter_reduce_ = _in_place(gather.scatter_reduce, "scatter_reduce_")
    T.index_select = gather.index_select
    T.index_add = gather.index_add
    T.index_add_ = _in_place(gather.index_add, "index_add_")
    T.masked_fill = gather.masked_fill
    T.masked_fill_ = _in_place(gather.masked_fill, "masked_fill_")
    T.masked_select = gather.masked_select
    T.take_along_dim = gather.take_along_dim
    T.nonzero = gather.nonzero

    T.sort = sorting.sort
    T.argsort = sorting.argsort
    T.topk = sorting.topk
    T.kthvalue = sorting.kthvalue
    T.unique = sorting.unique

    for name in matrices.__all__:
        setattr(T, name, getattr(matrices, name))
