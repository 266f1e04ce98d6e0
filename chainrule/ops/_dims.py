"""The one place that reads PyTorch's ``dim=``/``keepdim=`` and NumPy's ``axis=``/``keepdims=``.

Every op that takes a dimension accepts both spellings, with the same meaning for the
dimension itself; giving both spellings of one argument is a ``TypeError`` (never a
silent choice between them).
"""

import builtins

from ..backend import xp


def is_int(value):
    """True for Python and NumPy integers (not bools)."""
    return isinstance(value, (int, xp.integer)) and not isinstance(value, bool)


def resolve_dim(op, dim=None, axis=None, default=None):
    """``dim`` or its NumPy name ``axis`` (whichever was given), else ``default``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; they are the same argument, give one")
        return axis
    return default if dim is None else dim


def resolve_keepdim(op, keepdim=False, keepdims=None):
    """``keepdim`` or its NumPy name ``keepdims`` (whichever was given)."""
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}: got both keepdim={keepdim!r} and keepdims={keepdims!r}; they are the same argument")
        return bool(keepdims)
    return bool(keepdim)


def reduction_dims(op, dim, axis, ndim, empty_means_all=True):
    """The dims a reduction runs over, as ``normalize_dims`` gives them, from ``dim`` or ``axis``.

    An empty ``dim=()`` means every dim, as in PyTorch (``torch.sum(x, dim=())`` is a full sum; ``any`` and
    ``all`` pass ``empty_means_all=False``, as torch's reduce nothing); an empty ``axis=()`` keeps NumPy's
    meaning, no dim.
    """
    if empty_means_all and axis is None and isinstance(dim, (tuple, list)) and not dim:
        dim = None
    return normalize_dims(resolve_dim(op, dim, axis), ndim, op)


def normalize_dims(dim, ndim, op, name="dim"):
    """``dim`` (an int, a sequence of ints, or None for all) as a sorted tuple of non-negative dims.

    A 0-d tensor accepts dim 0 or -1 (as in PyTorch) and reduces over nothing; an empty tuple means no dims.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if is_int(dim) else dim
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {type(dim).__name__} {dim!r}") from None
    bound = builtins.max(ndim, 1)
    normalized = []
    for d in dims:
        if not is_int(d):
            raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {dim!r}")
        if not -bound <= d < bound:
            raise ValueError(f"{op}: {name} {d} is out of range for a tensor with {ndim} dims")
        if ndim:
            normalized.append(int(d) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: {name} {dim} repeats a dim")
    return tuple(sorted(normalized))


def one_dim(dim, ndim, op, name="dim"):
    """``dim`` as a single non-negative int below ``ndim``; negative dims count from the end."""
    if not is_int(dim):
        raise TypeError(f"{op}: {name} must be an int, got {type(dim).__name__} {dim!r}")
    if not -ndim <= dim < ndim:
        raise ValueError(f"{op}: {name} {dim} is out of range for a tensor with {ndim} dims")
    return int(dim) % ndim
