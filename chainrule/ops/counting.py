"""Counting and lookup ops with PyTorch's names: ``bincount``, ``isin``, ``argwhere``, and the two small
array builders notebooks reach for, ``meshgrid`` and ``diff``.

``bincount``, ``isin`` and ``argwhere`` answer questions about values (no gradient); ``meshgrid`` and
``diff`` are built from differentiable ops (reshape/expand, slicing and subtraction), so their
gradients come from those ops' rules.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, constant
from . import elementwise, shape
from ._dims import one_dim

__all__ = ["bincount", "isin", "argwhere", "meshgrid", "diff"]


def bincount(input, weights=None, minlength=0):
    """How often each value ``0 .. max`` occurs in the 1-D non-negative integer ``input`` (int64; with
    ``weights``, their sums in ``weights``' dtype), at least ``minlength`` bins."""
    values = as_tensor(input).data
    if values.ndim != 1 or values.dtype.kind not in "iub":
        raise ValueError(f"bincount: input must be a 1-D integer tensor, got shape {values.shape} and dtype {values.dtype}")
    if values.size and values.min() < 0:
        raise ValueError(f"bincount: input must be non-negative, got the value {int(values.min())}")
    w = None if weights is None else as_tensor(weights).data
    counts = xp.bincount(values, weights=w, minlength=int(minlength))
    return constant(counts.astype(xp.int64 if w is None else w.dtype, copy=False))


def isin(elements, test_elements, *, invert=False):
    """Boolean tensor: whether each element of ``elements`` occurs in ``test_elements`` (no gradient)."""
    a = as_tensor(elements).data
    b = test_elements.data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return constant(xp.isin(a, b, invert=invert))


def argwhere(input):
    """The indices of the non-zero elements, one row per element (``(n, ndim)``, int64), as ``torch.argwhere``."""
    return constant(xp.argwhere(as_tensor(input).data).astype(xp.int64, copy=False))


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: ``xs, ys = meshgrid(x, y, indexing="xy")`` (``"ij"``, matrix order,
    is the default, as PyTorch's; ``"xy"`` swaps the first two grid axes, as NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [as_tensor(t) for t in tensors]
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: tensor {i} must be 0-D or 1-D, got shape {t.shape}")
    sizes = [max(t.data.size, 1) if t.ndim == 0 else t.shape[0] for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    full = tuple(sizes[k] for k in order)
    grids = []
    for i, t in enumerate(tensors):
        position = order.index(i)
        view = [1] * len(tensors)
        view[position] = sizes[i]
        grids.append(shape.expand(shape.reshape(t, tuple(view)), full))  # differentiable: expand sums back
    return tuple(grids)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """``n``-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]`` (``prepend``/``append`` are
    joined to ``x`` first), as ``torch.diff``."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise ValueError("diff: input must have at least one dim")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    axis = one_dim(dim, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = shape.cat([as_tensor(p) for p in parts], dim=axis)
    for _ in range(n):
        length = x.shape[axis]
        if length == 0:
            break
        x = elementwise.sub(shape.narrow(x, axis, 1, length - 1), shape.narrow(x, axis, 0, length - 1))
    return x
