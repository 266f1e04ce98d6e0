"""Sorting and selection along an axis, as in ``torch``: sort, argsort, topk, kthvalue, plus the
index-only ``unique``, ``searchsorted`` and ``bucketize``.

The values these return are read from the input at the indices the sort found, with
:func:`~chainrule.ops.gather.gather` (told that no position is read twice), so their gradient is gather's: each value's gradient goes
back to the position it came from. Indices are int64 tensors without gradient.
"""

from collections import namedtuple

from ..backend import xp
from ..tensor import Tensor, as_tensor, constant
from .gather import _dim, _gather

__all__ = ["sort", "argsort", "topk", "kthvalue", "unique", "searchsorted", "bucketize"]

SortResult = namedtuple("SortResult", ["values", "indices"])
TopkResult = namedtuple("TopkResult", ["values", "indices"])
KthvalueResult = namedtuple("KthvalueResult", ["values", "indices"])


def _order(data, dim, descending, stable):
    """Sorting order of ``data`` along ``dim``; NaN sorts as the largest value (as in PyTorch).

    ``stable`` keeps equal values in their original order (NumPy's stable sort, several times slower
    than its default). Descending: sort the reversed axis ascending, reverse the order back and map the
    positions, which keeps the stable order of ties in that direction too.
    """
    kind = "stable" if stable else None
    if not descending:
        return xp.argsort(data, axis=dim, kind=kind)
    n = data.shape[dim]
    reversed_order = xp.argsort(xp.flip(data, axis=dim), axis=dim, kind=kind)
    return (n - 1) - xp.flip(reversed_order, axis=dim)


def _sorted_along(a, dim, descending, op, stable=False):
    a = as_tensor(a)
    dim = _dim(dim, a.ndim, op)
    data = a.data if a.ndim else a.data.reshape(1)
    return a, dim, _order(data, dim, descending, stable).astype(xp.int64)


def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values along ``dim`` and the indices they came from: ``(values, indices)``.

    With ``stable=True`` equal values keep their order (PyTorch's stable order); otherwise the order
    among ties is unspecified. The gradient of ``values`` goes back to the sorted positions.
    """
    a, dim, order = _sorted_along(input, dim, descending, "sort", stable)
    order = order.reshape(a.shape)
    return SortResult(_gather(a, dim, order, distinct=True), constant(order))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64; ties in their original order with ``stable=True``)."""
    a, dim, order = _sorted_along(input, dim, descending, "argsort", stable)
    return constant(order.reshape(a.shape))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first: ``(values, indices)``.

    Which of tied values are chosen is unspecified (as in PyTorch). The results are always sorted.
    """
    a, dim, order = _sorted_along(input, dim, largest, "topk")
    n = order.shape[dim]
    if not isinstance(k, (int, xp.integer)) or isinstance(k, bool) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the size of axis {dim}), got {k!r}")
    chosen = xp.take(order, xp.arange(k), axis=dim)
    if not a.ndim:
        chosen = chosen.reshape(())
    return TopkResult(_gather(a, dim, chosen, distinct=True), constant(chosen))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value along ``dim`` (``k`` counts from 1) and its index: ``(values, indices)``."""
    a, dim, order = _sorted_along(input, dim, False, "kthvalue")
    n = order.shape[dim]
    if not isinstance(k, (int, xp.integer)) or isinstance(k, bool) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k must be an int in [1, {n}] (the size of axis {dim}), got {k!r}")
    chosen = xp.take(order, [k - 1], axis=dim)
    if not a.ndim:
        chosen = chosen.reshape(())
    values = _gather(a, dim, chosen, distinct=True)
    if not keepdim and a.ndim:
        values, chosen = values.reshape(values.shape[:dim] + values.shape[dim + 1 :]), xp.squeeze(chosen, dim)
    return KthvalueResult(values, constant(chosen))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse indices and the counts; no gradient."""
    data = as_tensor(input).data
    if dim is not None:
        dim = _dim(dim, data.ndim, "unique")
    values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=dim)
    if dim is None:
        inverse = inverse.reshape(data.shape)
    outputs = [constant(values)]
    if return_inverse:
        outputs.append(constant(inverse.astype(xp.int64)))
    if return_counts:
        outputs.append(constant(counts.astype(xp.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def searchsorted(sorted_sequence, values, right=False, side=None):
    """For each value, the position in ``sorted_sequence`` (sorted along its last axis) where it would be
    inserted to keep the order: before equal entries, or after them with ``right=True`` / ``side="right"``.

    An N-D ``sorted_sequence`` is searched row by row: its leading axes must equal those of ``values``.
    """
    sequence = as_tensor(sorted_sequence).data
    values = values.data if isinstance(values, Tensor) else xp.asarray(values)
    if side is None:
        side = "right" if right else "left"
    elif side not in ("left", "right") or (right and side == "left"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right' (and agree with right={right}), got {side!r}")
    if sequence.ndim <= 1:
        return constant(xp.searchsorted(sequence.reshape(-1), values, side=side).astype(xp.int64))
    if sequence.shape[:-1] != values.shape[:-1]:
        raise ValueError(
            f"searchsorted: the leading axes of sorted_sequence {sequence.shape} and values {values.shape} must match"
        )
    rows = sequence.reshape(-1, sequence.shape[-1])
    queries = values.reshape(len(rows), -1)
    out = xp.stack([xp.searchsorted(row, query, side=side) for row, query in zip(rows, queries)])
    return constant(out.reshape(values.shape).astype(xp.int64))


def bucketize(input, boundaries, right=False):
    """Index of the bucket of each element given the sorted 1-D ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]`` (or ``<= x <`` with ``right=True``), as ``torch.bucketize``."""
    boundaries = as_tensor(boundaries).data
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, right=right)
