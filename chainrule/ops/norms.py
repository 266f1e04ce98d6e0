"""Vector and matrix norms: ``norm`` (``torch.norm``), ``vector_norm``, ``matrix_norm`` and ``linalg_norm``
(``torch.linalg.norm``; the last three are also ``chainrule.linalg.*``).

``vector_norm`` is one op with its own backward; the matrix norms other than Frobenius (which is a
vector norm over two dims) are built from it and ``amax``/``amin``, so their gradients follow.
"""

import math

from ..backend import DEFAULT_DTYPE, xp
from ..tensor import as_tensor, piecewise_constant, result
from ._dims import is_int, reduction_dims, resolve_dim, resolve_keepdim
from .reduce import _drop, _expand_back, amax, amin

__all__ = ["norm", "vector_norm", "matrix_norm", "linalg_norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``(Σ|x|^ord)^(1/ord)`` over ``dim`` (an int, a tuple, or None for all elements).

    ``ord`` is any number, ``inf`` (largest ``|x|``), ``-inf`` (smallest) or 0 (the count of non-zeros).
    The gradient at 0 is 0 (as in PyTorch), where the formula would give 0/0.
    """
    x = as_tensor(x)
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise ValueError(f"vector_norm: ord must be a number, inf or -inf, got {ord!r}")
    axes = reduction_dims("vector_norm", dim, axis, x.ndim)
    keepdim = resolve_keepdim("vector_norm", keepdim, keepdims)
    if math.isinf(ord):
        return (amax if ord > 0 else amin)(_abs(x), axes, keepdim)
    data = x.data if x.dtype.kind == "f" else x.data.astype(DEFAULT_DTYPE)
    magnitude = xp.abs(data)
    if ord == 0:
        kept = (data != 0).sum(axis=axes, keepdims=True).astype(data.dtype)
    elif ord == 1:
        kept = magnitude.sum(axis=axes, keepdims=True)
    elif ord == 2:
        kept = xp.sqrt((data * data).sum(axis=axes, keepdims=True))
    else:
        with xp.errstate(divide="ignore"):
            kept = (magnitude**ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)

    # d‖x‖/dx_i = sign(x_i) |x_i|^(p-1) / ‖x‖^(p-1): x_i/‖x‖ for p = 2, sign(x_i) for p = 1, 0 for p = 0
    def backward(g):
        g = _expand_back(g, x.shape, axes, keepdim)
        if ord == 0:
            return (xp.zeros_like(data),)
        if ord == 1:
            return (g * xp.sign(data),)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if ord == 2:
                local = data / kept
            else:
                local = xp.sign(data) * (magnitude / kept) ** (ord - 1)
            return (xp.where((data == 0) | (kept == 0), 0, g * local).astype(data.dtype, copy=False),)

    def double(g):  # the same rule on Tensors, the norm recomputed as a graph node (signs piecewise constant)
        from .elementwise import where

        g = _expand_back(g, x.shape, axes, keepdim)
        if ord == 0:
            return (g * piecewise_constant(x, xp.zeros_like(data)),)
        sign = piecewise_constant(x, xp.sign(data))
        if ord == 1:
            return (g * sign,)
        zero = (data == 0) | (kept == 0)
        norm = where(kept == 0, 1, vector_norm(x, ord, axes, True))
        if ord == 2:
            local = x / norm
        else:
            local = sign * (where(data == 0, 1, _abs(x)) / norm) ** (ord - 1)
        return (where(zero, 0, g * local),)

    return result(_drop(kept, x.shape, axes, keepdim), (x,), backward, "vector_norm", double)


def _abs(x):
    from .elementwise import abs

    return abs(x)


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False, *, axis=None, keepdims=None):
    """A matrix norm over the two dims ``dim``: ``'fro'`` (Frobenius), or 1, -1, inf, -inf (the largest or
    smallest column / row sum of ``|x|``). The spectral and nuclear norms (2, -2, 'nuc') need an SVD and
    are not available."""
    x = as_tensor(x)
    dims = resolve_dim("matrix_norm", dim, axis)
    keepdim = resolve_keepdim("matrix_norm", keepdim, keepdims)
    if is_int(dims) or len(tuple(dims)) != 2:
        raise ValueError(f"matrix_norm: dim must be two dims, got {dims!r}")
    rows, cols = _two_dims(tuple(dims), x.ndim)
    if ord == "fro":
        return vector_norm(x, 2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        from .reduce import sum as reduce_sum

        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)  # 1: column sums; inf: row sums
        sums = reduce_sum(_abs(x), summed, keepdim=True)
        out = (amax if ord > 0 else amin)(sums, other, keepdim=True)
        return out if keepdim else _squeeze_two(out, rows, cols)
    raise ValueError(f"matrix_norm: ord {ord!r} is not available; use 'fro', 1, -1, inf or -inf "
                     "(2, -2 and 'nuc' need a singular value decomposition)")


def _two_dims(dims, ndim):
    """Two distinct dims as non-negative ints, in the order given."""
    out = []
    for d in dims:
        if not is_int(d) or not -ndim <= d < ndim:
            raise ValueError(f"matrix_norm: dim {dims!r} does not fit a tensor with {ndim} dims")
        out.append(int(d) % ndim)
    if out[0] == out[1]:
        raise ValueError(f"matrix_norm: dim {dims!r} repeats a dim")
    return out


def _squeeze_two(t, rows, cols):
    from .shape import reshape

    return reshape(t, tuple(n for i, n in enumerate(t.shape) if i not in (rows, cols)))


def linalg_norm(x, ord=None, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``torch.linalg.norm``: a vector norm over one dim (or all, for ``ord=None``), a matrix norm over two.

    With ``ord=None`` and ``dim=None`` it is the 2-norm of all elements; with ``ord`` and ``dim=None``
    the tensor must be 1-d (a vector norm) or 2-d (a matrix norm).
    """
    x = as_tensor(x)
    dim = resolve_dim("linalg.norm", dim, axis)
    keepdim = resolve_keepdim("linalg.norm", keepdim, keepdims)
    if dim is None:
        if ord is None:
            return vector_norm(x, 2, None, keepdim)
        if x.ndim not in (1, 2):
            raise ValueError(f"linalg.norm: with ord={ord!r} and no dim the tensor must be 1-d or 2-d, "
                             f"got shape {x.shape}")
        dim = 0 if x.ndim == 1 else (0, 1)
    if is_int(dim) or len(tuple(dim)) == 1:
        return vector_norm(x, 2 if ord is None else ord, dim, keepdim)
    return matrix_norm(x, "fro" if ord is None else ord, tuple(dim), keepdim)


def norm(x, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``torch.norm``: ``p`` a number, inf, -inf or ``'fro'`` (the 2-norm, over ``dim`` or all elements)."""
    dim = resolve_dim("norm", dim, axis)
    keepdim = resolve_keepdim("norm", keepdim, keepdims)
    if p == "fro" or p is None:
        return vector_norm(x, 2, dim, keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not available; use a number, inf, -inf or 'fro'")
    return vector_norm(x, p, dim, keepdim)
