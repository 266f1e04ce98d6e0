"""Shape ops: reshape, transpose/permute, squeeze/unsqueeze, flatten, expand, concat, stack, split, pad.

They move, copy or drop values without arithmetic, so each backward moves the
gradient back the way the values came: a reshape reshapes it back, a permutation
applies the inverse permutation, a copy (expand) sums the copies, a block of the
output (concat, split, pad) hands its block of the gradient to its input.
"""

import math

from ..backend import xp
from ..tensor import Tensor, as_tensor, result
from .broadcast import unbroadcast

__all__ = [
    "reshape", "transpose", "permute", "swapaxes", "squeeze", "unsqueeze", "flatten",
    "expand", "concat", "stack", "split", "pad",
]


# ------------------------------------------------------------------ helpers
def _is_int(value):
    return isinstance(value, (int, xp.integer)) and not isinstance(value, bool)


def _axis(axis, ndim, op, name="axis"):
    """``axis`` as a non-negative int below ``ndim``; negative axes count from the end."""
    if not _is_int(axis):
        raise TypeError(f"{op}: {name} must be an int, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: {name} {axis} is out of range for a tensor with {ndim} axes")
    return int(axis) % ndim


def _as_shape(shape, op):
    """A shape argument (an int or a sequence of ints) as a tuple of ints."""
    if _is_int(shape):
        return (int(shape),)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a sequence of ints, got {type(shape).__name__}") from None
    if not all(_is_int(n) for n in shape):
        raise TypeError(f"{op}: shape must contain only ints, got {shape}")
    return tuple(int(n) for n in shape)


def _reshaped(a, shape, op):
    """``a`` with its values laid out in ``shape`` (same count), recorded as ``op``."""
    try:
        out = a.data.reshape(shape)
    except ValueError as error:
        raise ValueError(
            f"{op}: cannot reshape a tensor of shape {a.shape} ({a.data.size} elements) into shape {shape}: {error}"
        ) from None

    # reshaping only relabels positions: d out/da is the identity, so the gradient takes a's shape back
    def backward(g):
        return (g.reshape(a.shape),)

    return result(out, (a,), backward, op, backward)  # (the rule works on Tensors too)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected at least one tensor, got an empty {type(tensors).__name__}")
    return [as_tensor(t) for t in tensors]


# ------------------------------------------------------------- reshaping
def reshape(a, shape):
    """The same values in a new ``shape``; one axis may be -1 (inferred from the others)."""
    a = as_tensor(a)
    return _reshaped(a, _as_shape(shape, "reshape"), "reshape")


def flatten(a, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim`` .. ``end_dim`` (inclusive) into one; a 0-d tensor becomes shape (1,)."""
    a = as_tensor(a)
    if a.ndim == 0:
        return _reshaped(a, (1,), "flatten")
    start = _axis(start_dim, a.ndim, "flatten", "start_dim")
    end = _axis(end_dim, a.ndim, "flatten", "end_dim")
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor of shape {a.shape}"
        )
    shape = a.shape[:start] + (math.prod(a.shape[start : end + 1]),) + a.shape[end + 1 :]
    return _reshaped(a, shape, "flatten")


def squeeze(a, axis=None):
    """Remove axes of size 1: all of them (``axis=None``), or the given int / tuple of axes, which must have size 1."""
    a = as_tensor(a)
    if axis is None:
        axes = tuple(i for i, n in enumerate(a.shape) if n == 1)
    else:
        requested = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = sorted({_axis(ax, a.ndim, "squeeze") for ax in requested})
        for ax in axes:
            if a.shape[ax] != 1:
                raise ValueError(f"squeeze: axis {ax} has size {a.shape[ax]}, not 1 (tensor shape {a.shape})")
    shape = tuple(n for i, n in enumerate(a.shape) if i not in axes)
    return _reshaped(a, shape, "squeeze")


def unsqueeze(a, axis):
    """Insert an axis of size 1 at position ``axis`` (-1 appends one at the end)."""
    a = as_tensor(a)
    ax = _axis(axis, a.ndim + 1, "unsqueeze")
    return _reshaped(a, a.shape[:ax] + (1,) + a.shape[ax:], "unsqueeze")


# ------------------------------------------------------------ permutations
def transpose(a, axes=None):
    """Permute the axes; ``axes=None`` reverses them (NumPy's ``.T``), otherwise a permutation of all axes."""
    a = as_tensor(a)
    if axes is None:
        axes = tuple(range(a.ndim - 1, -1, -1))
    return _permute(a, axes, "transpose")


def permute(a, axes):
    """Reorder the axes: output axis i is input axis ``axes[i]`` (``axes`` lists every axis once)."""
    return _permute(as_tensor(a), axes, "permute")


def swapaxes(a, axis1, axis2):
    """Exchange two axes (what ``torch.transpose(x, dim0, dim1)`` does)."""
    a = as_tensor(a)
    axes = list(range(a.ndim))
    first, second = _axis(axis1, a.ndim, "swapaxes"), _axis(axis2, a.ndim, "swapaxes")
    axes[first], axes[second] = axes[second], axes[first]
    return _permute(a, axes, "swapaxes")


def _permute(a, axes, op):
    axes = (axes,) if _is_int(axes) else tuple(axes)
    if len(axes) != a.ndim or not all(_is_int(ax) and -a.ndim <= ax < a.ndim for ax in axes):
        raise ValueError(f"{op}: axes {axes} are not a permutation of the {a.ndim} axes of a tensor of shape {a.shape}")
    axes = tuple(int(ax) % a.ndim for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axes {axes} repeat an axis (tensor shape {a.shape})")
    inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
    out = a.data.transpose(axes)

    # a permutation moves each value once: the gradient moves back by the inverse permutation
    def backward(g):
        return (g.transpose(inverse),)

    def double(g):
        return (_permute(g, inverse, op),)

    return result(out, (a,), backward, op, double)


# ------------------------------------------------------------ broadcasting
def expand(a, shape):
    """Broadcast ``a`` to ``shape`` without copying: axes of size 1 repeat, new axes go in front, -1 keeps a size."""
    a = as_tensor(a)
    shape = _as_shape(shape, "expand")
    lead = len(shape) - a.ndim
    if lead < 0:
        raise ValueError(f"expand: target shape {shape} has fewer axes than the tensor's shape {a.shape}")
    target = []
    for i, n in enumerate(shape):
        old = a.shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ValueError(f"expand: -1 cannot be the size of new leading axis {i} (target shape {shape})")
            n = old
        elif n < 0:
            raise ValueError(f"expand: size {n} in target shape {shape} is negative")
        elif old is not None and old not in (1, n):
            raise ValueError(
                f"expand: cannot expand tensor of shape {a.shape} to {shape}: axis {i} has size {old}, "
                f"and only axes of size 1 can be expanded"
            )
        target.append(n)
    out = xp.broadcast_to(a.data, tuple(target))

    # each input value appears once per copy: its gradient is the sum over the copies
    def backward(g):
        return (unbroadcast(g, a.shape),)

    return result(out, (a,), backward, "expand", backward)  # (the rule works on Tensors too)


# ------------------------------------------------------ joining and splitting
def concat(tensors, axis=0):
    """Join tensors end to end along an existing ``axis``; their other axes must match."""
    tensors = _tensor_list(tensors, "concat")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("concat: 0-d tensors have no axis to join along; use stack")
    ax = _axis(axis, first.ndim, "concat")
    for t in tensors[1:]:
        if t.ndim != first.ndim or t.shape[:ax] + t.shape[ax + 1 :] != first.shape[:ax] + first.shape[ax + 1 :]:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concat: tensors must have the same shape except along axis {axis}, got shapes {shapes}")
    out = xp.concatenate([t.data for t in tensors], axis=ax)
    bounds = [0]
    for t in tensors:
        bounds.append(bounds[-1] + t.shape[ax])
    before = (slice(None),) * ax

    # each input fills its own block of the output along ``axis``: it gets that block of the gradient
    def backward(g):
        return tuple(
            g[before + (slice(start, stop),)].astype(t.dtype, copy=False) if t.requires_grad else None
            for t, start, stop in zip(tensors, bounds, bounds[1:])
        )

    return result(out, tuple(tensors), backward, "concat", backward)  # (the rule works on Tensors too)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new ``axis``."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]
    for t in tensors[1:]:
        if t.shape != first.shape:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"stack: tensors must all have the same shape, got shapes {shapes}")
    ax = _axis(axis, first.ndim + 1, "stack")
    out = xp.stack([t.data for t in tensors], axis=ax)
    before = (slice(None),) * ax

    # input i is slice i of the output along the new axis: it gets slice i of the gradient
    def backward(g):
        return tuple(
            g[before + (i,)].astype(t.dtype, copy=False) if t.requires_grad else None for i, t in enumerate(tensors)
        )

    return result(out, tuple(tensors), backward, "stack", backward)  # (the rule works on Tensors too)


def split(a, sections_or_sizes, axis=0):
    """Cut ``a`` along ``axis`` into a tuple of tensors.

    An int gives chunks of that size (the last one may be smaller, as in ``torch.split``);
    a list gives the size of each chunk, and must add up to the axis's length.
    """
    a = as_tensor(a)
    if a.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split")
    ax = _axis(axis, a.ndim, "split")
    length = a.shape[ax]
    if _is_int(sections_or_sizes):
        size = int(sections_or_sizes)
        if size <= 0:
            raise ValueError(f"split: chunk size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
    else:
        sizes = list(sections_or_sizes)
        if not all(_is_int(n) and n >= 0 for n in sizes) or sum(sizes) != length:
            raise ValueError(
                f"split: sizes {sizes} must be non-negative ints adding up to {length}, the size of axis {axis} "
                f"of a tensor of shape {a.shape}"
            )
    pieces = []
    start = 0
    for size in sizes:
        pieces.append(_block(a, (slice(None),) * ax + (slice(start, start + size),), "split"))
        start += size
    return tuple(pieces)


def _block(a, index, op):
    """The block ``a[index]`` (``index`` a tuple of slices) as a differentiable tensor."""
    out = a.data[index]

    # the block is a copy of part of a: the gradient goes back into that part, zero elsewhere
    def backward(g):
        grad = xp.zeros(a.shape, dtype=a.dtype)
        grad[index] = g
        return (grad,)

    def double(g):
        from .indexing import _scatter

        return (_scatter(g, a.shape, index, False),)

    return result(out, (a,), backward, op, double)


def pad(a, pad_width, value=0.0):
    """Pad with the constant ``value``; ``pad_width`` follows NumPy: an int, ``(before, after)``,
    or one ``(before, after)`` pair per axis (first axis first, unlike ``torch.nn.functional.pad``)."""
    a = as_tensor(a)
    pairs = _pad_pairs(pad_width, a.ndim, a.shape)
    out = xp.pad(a.data, pairs, mode="constant", constant_values=value)
    inner = tuple(slice(before, before + n) for (before, _), n in zip(pairs, a.shape))

    # the input sits unchanged inside the padding: it gets the inner block of the gradient
    def backward(g):
        return (g[inner],)

    return result(out, (a,), backward, "pad", backward)  # (the rule works on Tensors too)


def _pad_pairs(pad_width, ndim, shape):
    """NumPy's ``pad_width`` forms as one (before, after) pair of ints per axis."""
    error = ValueError(
        f"pad: pad_width {pad_width!r} does not fit a tensor of shape {shape}; expected an int, "
        f"(before, after), or {ndim} (before, after) pairs of non-negative ints"
    )
    if _is_int(pad_width):
        pairs = [(pad_width, pad_width)] * ndim
    else:
        try:
            rows = [tuple(row) if isinstance(row, (tuple, list)) else row for row in pad_width]
        except TypeError:
            raise error from None
        if all(_is_int(row) for row in rows) and len(rows) in (1, 2):
            rows = [tuple(rows)]  # (p,) or (before, after): the same for every axis
        if not all(isinstance(row, tuple) and len(row) in (1, 2) for row in rows) or len(rows) not in (1, ndim):
            raise error
        rows = [row * 2 if len(row) == 1 else row for row in rows]
        pairs = rows * ndim if len(rows) == 1 else rows
    if not all(_is_int(n) and n >= 0 for pair in pairs for n in pair):
        raise error
    return tuple((int(before), int(after)) for before, after in pairs)
