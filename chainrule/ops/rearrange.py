"""Ops that copy values to new places: flip, roll, repeat (tile), repeat_interleave, and the
triangle masks tril/triu, with PyTorch's arguments.

Each output element is a copy of one input element (or a zero, for tril/triu), so each backward
sends the gradient back along the same map: reversed (flip, roll) or summed over the copies
(repeat, repeat_interleave).
"""

from ..backend import xp
from ..tensor import as_tensor, result
from ._dims import is_int, normalize_dims, one_dim, resolve_dim
from .linear_maps import linear_double

__all__ = ["flip", "roll", "repeat", "repeat_interleave", "tril", "triu"]


def flip(a, dims=None, *, axis=None):
    """Reverse the order of elements along ``dims`` (an int or a tuple of dims; PyTorch requires them)."""
    a = as_tensor(a)
    dims = resolve_dim("flip", dims, axis)
    if dims is None:
        raise TypeError("flip: missing dims, the dim or tuple of dims to reverse (as in torch.flip)")
    axes = normalize_dims(dims, a.ndim, "flip", "dims")
    out = xp.flip(a.data, axis=axes)

    # flipping is its own inverse: the gradient is flipped back
    def backward(g):
        return (xp.flip(g, axis=axes),)

    # every op here is linear: its rule becomes a node whose adjoint is the op itself (linear_maps)
    return result(out, (a,), backward, "flip", linear_double(backward, lambda h: xp.flip(h, axis=axes), "flip"))


def roll(a, shifts, dims=None, *, axis=None):
    """Shift elements by ``shifts`` along ``dims``, wrapping around; without ``dims`` the tensor is
    flattened, rolled and reshaped back, as in PyTorch."""
    a = as_tensor(a)
    dims = resolve_dim("roll", dims, axis)
    many = not is_int(shifts)
    shifts = tuple(shifts) if many else (shifts,)
    if not all(is_int(s) for s in shifts):
        raise TypeError(f"roll: shifts must be an int or a tuple of ints, got {shifts!r}")
    if dims is None:
        if many and len(shifts) != 1:
            raise ValueError(f"roll: {len(shifts)} shifts need as many dims, got dims=None")
        axes = None
    else:
        dims = (dims,) if is_int(dims) else tuple(dims)
        if len(dims) != len(shifts):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        axes = tuple(one_dim(d, a.ndim, "roll", "dims") for d in dims)
    shift = shifts if axes is not None else shifts[0]
    out = xp.roll(a.data, shift, axis=axes)

    # a roll by s is undone by a roll by -s
    def backward(g):
        back = tuple(-s for s in shifts) if axes is not None else -shifts[0]
        return (xp.roll(g, back, axis=axes),)

    return result(out, (a,), backward, "roll", linear_double(backward, lambda h: xp.roll(h, shift, axis=axes), "roll"))


def repeat(a, *sizes):
    """Tile ``a``: repeat it ``sizes[i]`` times along dim i (PyTorch's ``repeat``, NumPy's ``tile``).

    ``sizes`` may have more entries than ``a`` has dims; the extra ones are new leading dims.
    ``repeat(x, (2, 3))`` and ``x.repeat(2, 3)`` both work.
    """
    a = as_tensor(a)
    if len(sizes) == 1 and not is_int(sizes[0]):
        sizes = tuple(sizes[0])
    if not all(is_int(n) and n >= 0 for n in sizes) or len(sizes) < a.ndim:
        raise ValueError(
            f"repeat: sizes {sizes} must be non-negative ints, at least one per dim of the tensor (shape {a.shape}); "
            "for NumPy's repeat of each element use repeat_interleave"
        )
    lead = len(sizes) - a.ndim
    shape = (1,) * lead + a.shape
    out = xp.tile(a.data.reshape(shape), sizes)

    # each input element appears once per tile: its gradient is the sum over the tiles. Split every
    # dim of the gradient into (copy, original) and sum the copy dims.
    def backward(g):
        split = tuple(n for pair in zip(sizes, shape) for n in pair)
        return (g.reshape(split).sum(axis=tuple(range(0, 2 * len(sizes), 2))).reshape(a.shape),)

    double = linear_double(backward, lambda h: xp.tile(h.reshape(shape), sizes), "repeat")
    return result(out, (a,), backward, "repeat", double)


def repeat_interleave(a, repeats, dim=None, *, axis=None):
    """Repeat each element ``repeats`` times along ``dim`` (NumPy's ``repeat``); ``dim=None`` flattens first.

    ``repeats`` is an int, or one count per element along ``dim`` (a list, array or tensor).
    """
    a = as_tensor(a)
    dim = resolve_dim("repeat_interleave", dim, axis)
    source = a.data.reshape(-1) if dim is None else a.data
    ax = 0 if dim is None else one_dim(dim, a.ndim, "repeat_interleave")
    counts = xp.asarray(getattr(repeats, "data", repeats))
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
        raise ValueError(
            f"repeat_interleave: repeats must be a non-negative int or a 1-d list of them, got {repeats!r}"
        )
    n = source.shape[ax]
    if counts.ndim == 1 and counts.shape[0] not in (1, n):
        raise ValueError(f"repeat_interleave: got {counts.shape[0]} repeats for {n} elements along dim {dim}")
    picks = xp.repeat(xp.arange(n), counts)
    out = xp.take(source, picks, axis=ax)

    # output element k copies input element picks[k]: each input element gets the sum over its copies
    def backward(g):
        grad = xp.zeros(source.shape, dtype=g.dtype)
        xp.add.at(grad, (slice(None),) * ax + (picks,), g)
        return (grad.reshape(a.shape),)

    double = linear_double(backward, lambda h: xp.take(h.reshape(source.shape), picks, axis=ax), "repeat_interleave")
    return result(out, (a,), backward, "repeat_interleave", double)


def tril(a, diagonal=0):
    """The lower triangle of the last two dims: elements above diagonal ``diagonal`` become 0."""
    return _triangle(a, diagonal, "tril")


def triu(a, diagonal=0):
    """The upper triangle of the last two dims: elements below diagonal ``diagonal`` become 0."""
    return _triangle(a, diagonal, "triu")


def _triangle(a, diagonal, op):
    a = as_tensor(a)
    if a.ndim < 2:
        raise ValueError(f"{op}: needs a tensor of at least 2 dims, got shape {a.shape}")
    if not is_int(diagonal):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    rows, cols = a.shape[-2:]
    if op == "tril":  # on or below the diagonal
        keep = xp.tri(rows, cols, int(diagonal), dtype=bool)
    else:  # on or above it: not strictly below
        keep = ~xp.tri(rows, cols, int(diagonal) - 1, dtype=bool)
    out = xp.where(keep, a.data, xp.zeros((), a.dtype))

    # kept elements pass the gradient through, zeroed ones get none
    def backward(g):
        return (xp.where(keep, g, xp.zeros((), g.dtype)),)

    return result(out, (a,), backward, op, lambda g: (_triangle(g, diagonal, op),))  # the rule is the op itself
