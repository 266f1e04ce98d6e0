"""Shape ops: reshape, transpose/permute, squeeze/unsqueeze, flatten, expand, cat, stack, split, pad, ...

Dimensions follow PyTorch: ``transpose(x, dim0, dim1)`` swaps two dims, ``squeeze(x, dim)`` leaves a dim
whose size is not 1 alone, ``split`` takes a chunk size or a list of sizes. Every ``dim=`` may also be
spelled ``axis=`` (NumPy's name).

They move, copy or drop values without arithmetic, so each backward moves the
gradient back the way the values came: a reshape reshapes it back, a permutation
applies the inverse permutation, a copy (expand) sums the copies, a block of the
output (concat, split, pad) hands its block of the gradient to its input.
"""

import math

from ..backend import xp
from ..tensor import Tensor, as_tensor, result
from ._dims import is_int as _is_int
from ._dims import one_dim as _axis
from ._dims import resolve_dim
from .broadcast import unbroadcast

__all__ = [
    "reshape", "transpose", "permute", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze", "flatten",
    "expand", "cat", "concat", "concatenate", "stack", "split", "chunk", "unbind", "narrow", "movedim", "pad",
]


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


def squeeze(a, dim=None, *, axis=None):
    """Remove dims of size 1: all of them (``dim=None``), or those among the given int / tuple of dims.

    As in PyTorch, a named dim whose size is not 1 is left as it is (NumPy would raise).
    """
    a = as_tensor(a)
    dim = resolve_dim("squeeze", dim, axis)
    if dim is None:
        axes = tuple(i for i, n in enumerate(a.shape) if n == 1)
    else:
        requested = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {_axis(ax, max(a.ndim, 1), "squeeze") for ax in requested} if a.ndim else set()
        axes = tuple(ax for ax in sorted(axes) if a.shape[ax] == 1)
    shape = tuple(n for i, n in enumerate(a.shape) if i not in axes)
    return _reshaped(a, shape, "squeeze")


def unsqueeze(a, dim=None, *, axis=None):
    """Insert a dim of size 1 at position ``dim`` (-1 appends one at the end)."""
    a = as_tensor(a)
    dim = resolve_dim("unsqueeze", dim, axis)
    if dim is None:
        raise TypeError("unsqueeze: missing the dim at which to insert the new dim of size 1")
    ax = _axis(dim, a.ndim + 1, "unsqueeze")
    return _reshaped(a, a.shape[:ax] + (1,) + a.shape[ax:], "unsqueeze")


# ------------------------------------------------------------ permutations
def transpose(a, dim0=None, dim1=None):
    """Swap dims ``dim0`` and ``dim1``, as ``torch.transpose`` (NumPy's ``transpose`` is ``permute`` here;
    NumPy's ``.T``, all dims reversed, is ``x.T``)."""
    return _swap(a, dim0, dim1, "transpose")


def swapaxes(a, axis0=None, axis1=None):
    """Swap two dims (the same as ``transpose``)."""
    return _swap(a, axis0, axis1, "swapaxes")


def swapdims(a, dim0=None, dim1=None):
    """Swap two dims (the same as ``transpose``)."""
    return _swap(a, dim0, dim1, "swapdims")


def t(a):
    """Transpose a tensor of at most 2 dims (``torch.t``): a matrix's rows become its columns."""
    a = as_tensor(a)
    if a.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {a.shape}; use transpose(dim0, dim1)")
    return _permute(a, tuple(range(a.ndim - 1, -1, -1)), "t")


def permute(a, *dims):
    """Reorder the dims: output dim i is input dim ``dims[i]`` (every dim once); ``permute(x, (2, 0, 1))``
    and ``x.permute(2, 0, 1)`` both work."""
    if len(dims) == 1 and not _is_int(dims[0]):
        dims = dims[0]
    return _permute(as_tensor(a), dims, "permute")


def reverse_dims(a):
    """All dims in reverse order (NumPy's and PyTorch's ``x.T``)."""
    a = as_tensor(a)
    return _permute(a, tuple(range(a.ndim - 1, -1, -1)), "T")


def movedim(a, source, destination):
    """Move dim(s) ``source`` to position(s) ``destination``; the other dims keep their order."""
    a = as_tensor(a)
    source = (source,) if _is_int(source) else tuple(source)
    destination = (destination,) if _is_int(destination) else tuple(destination)
    if len(source) != len(destination):
        raise ValueError(f"movedim: source {source} and destination {destination} must have the same length")
    source = [_axis(d, a.ndim, "movedim", "source") for d in source]
    destination = [_axis(d, a.ndim, "movedim", "destination") for d in destination]
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise ValueError(f"movedim: source {source} and destination {destination} must not repeat a dim")
    order = [None] * a.ndim
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(a.ndim) if d not in source)
    return _permute(a, tuple(next(rest) if o is None else o for o in order), "movedim")


def _swap(a, dim0, dim1, op):
    a = as_tensor(a)
    for name, d in (("dim0", dim0), ("dim1", dim1)):
        if not _is_int(d):
            raise TypeError(
                f"{op}: {name} must be an int, got {d!r}; {op}(x, dim0, dim1) swaps two dims as in PyTorch "
                "(for NumPy's transpose with a permutation, use permute(x, dims); to reverse all dims, x.T)"
            )
    axes = list(range(a.ndim))
    if a.ndim == 0:  # PyTorch allows transpose(0, 0)-like calls on a 0-d tensor
        _axis(dim0, 1, op, "dim0")
        _axis(dim1, 1, op, "dim1")
        return _permute(a, (), op)
    first, second = _axis(dim0, a.ndim, op, "dim0"), _axis(dim1, a.ndim, op, "dim1")
    axes[first], axes[second] = axes[second], axes[first]
    return _permute(a, axes, op)


def _permute(a, axes, op):
    axes = (axes,) if _is_int(axes) else tuple(axes)
    if len(axes) != a.ndim or not all(_is_int(ax) and -a.ndim <= ax < a.ndim for ax in axes):
        raise ValueError(f"{op}: dims {axes} are not a permutation of the {a.ndim} dims of a tensor of shape {a.shape}")
    axes = tuple(int(ax) % a.ndim for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dims {axes} repeat a dim (tensor shape {a.shape})")
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
def cat(tensors, dim=None, *, axis=None):
    """Join tensors end to end along an existing ``dim`` (default 0); their other dims must match (``concat``,
    ``concatenate`` are the same function)."""
    return _cat(tensors, resolve_dim("cat", dim, axis, default=0), "cat")


def concat(tensors, dim=None, *, axis=None):
    """Join tensors along an existing ``dim`` (the same as ``cat``)."""
    return _cat(tensors, resolve_dim("concat", dim, axis, default=0), "concat")


def concatenate(tensors, dim=None, *, axis=None):
    """Join tensors along an existing ``dim`` (the same as ``cat``)."""
    return _cat(tensors, resolve_dim("concatenate", dim, axis, default=0), "concatenate")


def _cat(tensors, axis, op):
    tensors = _tensor_list(tensors, op)
    dtype = _common_dtype(tensors)
    if len(tensors) > 1 and any(t.shape != (0,) for t in tensors):
        # PyTorch's legacy rule: empty 1-D tensors are skipped (out = torch.tensor([]); out = torch.cat([out, batch])),
        # though they still count for the dtype
        kept = [t for t in tensors if t.shape != (0,)]
        if len(kept) < len(tensors):
            joined = _cat(kept, axis, op)
            return joined if dtype is None or joined.data.dtype == dtype else joined.astype(dtype)
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError(f"{op}: 0-d tensors have no dim to join along; use stack")
    ax = _axis(axis, first.ndim, op)
    for t in tensors[1:]:
        if t.ndim != first.ndim or t.shape[:ax] + t.shape[ax + 1 :] != first.shape[:ax] + first.shape[ax + 1 :]:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{op}: tensors must have the same shape except along dim {axis}, got shapes {shapes}")
    out = xp.concatenate([t.data for t in tensors], axis=ax, dtype=dtype)
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

    return result(out, tuple(tensors), backward, op, backward)  # (the rule works on Tensors too)


def _common_dtype(tensors):
    """The dtype of joined tensors by PyTorch's promotion (int64 with float32 is float32); None if all agree."""
    first = tensors[0].data.dtype
    if all(t.data.dtype == first for t in tensors):
        return None
    from .elementwise import _CATEGORY  # (tensors of one ndim: only the categories matter, as in result_dtype)

    dtype = first
    for t in tensors[1:]:
        other = t.data.dtype
        rank, other_rank = _CATEGORY.get(dtype.kind, 3), _CATEGORY.get(other.kind, 3)
        dtype = xp.promote_types(dtype, other) if rank == other_rank else (dtype if rank > other_rank else other)
    return dtype


def stack(tensors, dim=None, *, axis=None):
    """Join same-shaped tensors along a new ``dim`` (default 0)."""
    axis = resolve_dim("stack", dim, axis, default=0)
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]
    for t in tensors[1:]:
        if t.shape != first.shape:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"stack: tensors must all have the same shape, got shapes {shapes}")
    ax = _axis(axis, first.ndim + 1, "stack")
    out = xp.stack([t.data for t in tensors], axis=ax, dtype=_common_dtype(tensors))
    before = (slice(None),) * ax

    # input i is slice i of the output along the new axis: it gets slice i of the gradient
    def backward(g):
        return tuple(
            g[before + (i,)].astype(t.dtype, copy=False) if t.requires_grad else None for i, t in enumerate(tensors)
        )

    return result(out, tuple(tensors), backward, "stack", backward)  # (the rule works on Tensors too)


def split(a, split_size_or_sections, dim=None, *, axis=None):
    """Cut ``a`` along ``dim`` (default 0) into a tuple of tensors, as ``torch.split``.

    An int gives chunks of that size (the last one may be smaller; NumPy's ``split`` would take it
    as the number of chunks); a list gives the size of each chunk, and must add up to the dim's length.
    """
    a = as_tensor(a)
    axis = resolve_dim("split", dim, axis, default=0)
    if a.ndim == 0:
        raise ValueError("split: a 0-d tensor has no dim to split")
    ax = _axis(axis, a.ndim, "split")
    length = a.shape[ax]
    if _is_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: chunk size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if not all(_is_int(n) and n >= 0 for n in sizes) or sum(sizes) != length:
            raise ValueError(
                f"split: sizes {sizes} must be non-negative ints adding up to {length}, the size of dim {axis} "
                f"of a tensor of shape {a.shape}"
            )
    return _pieces(a, ax, sizes, "split")


def chunk(a, chunks, dim=None, *, axis=None):
    """Cut ``a`` along ``dim`` (default 0) into ``chunks`` pieces of ``ceil(n / chunks)`` (the last may be smaller, and
    there may be fewer pieces than asked, as in ``torch.chunk``)."""
    a = as_tensor(a)
    axis = resolve_dim("chunk", dim, axis, default=0)
    if not _is_int(chunks) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if a.ndim == 0:
        raise ValueError("chunk: a 0-d tensor has no dim to split")
    ax = _axis(axis, a.ndim, "chunk")
    length = a.shape[ax]
    size = -(-length // int(chunks)) if length else 0
    sizes = [min(size, length - start) for start in range(0, length, size)] if size else [0] * int(chunks)
    return _pieces(a, ax, sizes, "chunk")


def unbind(a, dim=None, *, axis=None):
    """The slices of ``a`` along ``dim`` (default 0), as a tuple (that dim removed from each)."""
    a = as_tensor(a)
    axis = resolve_dim("unbind", dim, axis, default=0)
    if a.ndim == 0:
        raise ValueError("unbind: a 0-d tensor has no dim to unbind")
    ax = _axis(axis, a.ndim, "unbind")
    return tuple(_block(a, (slice(None),) * ax + (i,), "unbind") for i in range(a.shape[ax]))


def narrow(a, dim, start, length):
    """The ``length`` elements of ``a`` from ``start`` along ``dim`` (a negative ``start`` counts from the end)."""
    a = as_tensor(a)
    if a.ndim == 0:
        raise ValueError("narrow: a 0-d tensor has no dim to narrow")
    ax = _axis(dim, a.ndim, "narrow")
    n = a.shape[ax]
    if not (_is_int(start) and _is_int(length)):
        raise TypeError(f"narrow: start and length must be ints, got {start!r} and {length!r}")
    begin = start + n if -n <= start < 0 else start
    if not (0 <= begin <= n and 0 <= length and begin + length <= n):
        raise ValueError(f"narrow: start {start} and length {length} do not fit dim {dim} of size {n} "
                         f"(tensor shape {a.shape})")
    return _block(a, (slice(None),) * ax + (slice(begin, begin + length),), "narrow")


def _pieces(a, ax, sizes, op):
    """``a`` cut along dim ``ax`` into consecutive blocks of ``sizes``."""
    pieces = []
    start = 0
    for size in sizes:
        pieces.append(_block(a, (slice(None),) * ax + (slice(start, start + size),), op))
        start += size
    return tuple(pieces)


def _block(a, index, op):
    """The block ``a[index]`` (``index`` a tuple of slices and ints) as a differentiable tensor."""
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
