"""Norms, distances and similarities between vectors, and the losses built on them.

``vector_norm`` is one fused op (its backward written out); the rest are short compositions
of differentiable ops whose gradients follow by the chain rule. Semantics (where eps enters,
which axis is reduced) follow the PyTorch functions of the same names.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, piecewise_constant, result
from .elementwise import clip, minimum, sqrt, where
from .reduce import mean as _mean
from .reduce import sum as _sum

__all__ = [
    "vector_norm", "pairwise_distance", "cosine_similarity", "normalize", "cosine_embedding_loss",
    "triplet_margin_loss",
]


def _floating(x, op):
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating tensor, got dtype {x.data.dtype}")
    return x


def vector_norm(x, p=2.0, axis=-1, keepdims=False):
    """The p-norm ``(Σ|x|^p)^(1/p)`` along ``axis`` (p > 0, or ``inf`` for the largest ``|x|``)."""
    x = _floating(x, "vector_norm")
    p = float(p)
    if not p > 0:
        raise ValueError(f"vector_norm: p must be positive (or inf), got {p}")
    size = xp.abs(x.data)
    if p == float("inf"):
        norm = size.max(axis=axis, keepdims=True)
    elif p == 2.0:
        norm = xp.sqrt((x.data * x.data).sum(axis=axis, keepdims=True))
    else:
        norm = (size**p).sum(axis=axis, keepdims=True) ** (1 / p)
    out = norm if keepdims else xp.squeeze(norm, axis=axis)

    # d‖x‖_p/dx = sign(x)·|x|^(p-1) / ‖x‖_p^(p-1)   (x/‖x‖ for p = 2; 0 where the norm is 0, as PyTorch;
    # for p = inf, the gradient goes to the largest |x|, shared among ties)
    def backward(g):
        g = g if keepdims else xp.expand_dims(g, axis)
        zero = norm == 0
        safe = xp.where(zero, 1, norm)
        if p == float("inf"):
            top = (size == norm).astype(x.dtype)
            local = xp.sign(x.data) * top / top.sum(axis=axis, keepdims=True)
        elif p == 2.0:
            local = x.data / safe
        else:
            local = xp.sign(x.data) * size ** (p - 1) / safe ** (p - 1)
        return (xp.where(zero, 0, local * g).astype(x.dtype, copy=False),)

    def double(g):  # the same rule on Tensors, the norm recomputed as a graph node (signs, ties piecewise constant)
        from .elementwise import abs as absolute
        from .shape import unsqueeze

        g = g if keepdims else unsqueeze(g, axis)
        zero = norm == 0
        sign = piecewise_constant(x, xp.sign(x.data))
        if p == float("inf"):
            top = (size == norm).astype(x.dtype)
            return (g * sign * piecewise_constant(x, top / top.sum(axis=axis, keepdims=True)),)
        safe = where(zero, 1, vector_norm(x, p, axis, True))
        if p == 2.0:
            local = x / safe
        else:
            local = sign * (where(x.data == 0, 1, absolute(x)) / safe) ** (p - 1)
        return (where(zero, 0, local * g),)

    return result(out, (x,), backward, "vector_norm", double)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``‖x1 - x2 + eps‖_p`` along the last axis (the eps keeps the gradient finite for equal vectors)."""
    x1, x2 = _floating(x1, "pairwise_distance"), _floating(x2, "pairwise_distance")
    return vector_norm(x1 - x2 + eps, p, axis=-1, keepdims=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1·x2 / (‖x1‖·‖x2‖)`` along ``dim``, each norm kept >= ``eps``."""
    x1, x2 = _floating(x1, "cosine_similarity"), _floating(x2, "cosine_similarity")
    n1 = clip(vector_norm(x1, 2, axis=dim, keepdims=True), min=eps)
    n2 = clip(vector_norm(x2, 2, axis=dim, keepdims=True), min=eps)
    return _sum((x1 / n1) * (x2 / n2), axis=dim)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    """``x / max(‖x‖_p, eps)`` along ``dim``: unit vectors."""
    x = _floating(x, "normalize")
    return x / clip(vector_norm(x, p, axis=dim, keepdims=True), min=eps)


def _reduced(loss, reduction, op):
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) - margin)`` where ``y = -1``.

    Inputs (N, D) or (D,), target (N,) or () in {1, -1}; cos uses squared norms + 1e-12, as PyTorch.
    """
    op = "cosine_embedding_loss"
    x1, x2 = _floating(input1, op), _floating(input2, op)
    if x1.shape != x2.shape or x1.ndim not in (1, 2):
        raise ValueError(f"{op}: input1 {x1.shape} and input2 {x2.shape} must both be (N, D) or (D,)")
    y = target.data if isinstance(target, Tensor) else xp.asarray(target)
    if y.shape != x1.shape[:-1]:
        raise ValueError(f"{op}: target must have shape {x1.shape[:-1]}, got {y.shape}")
    axis = x1.ndim - 1
    products = _sum(x1 * x2, axis=axis)
    cos = products / sqrt((_sum(x1 * x1, axis=axis) + 1e-12) * (_sum(x2 * x2, axis=axis) + 1e-12))
    zero = cos * 0
    loss = where(y == 1, 1 - cos, zero) + where(y == -1, clip(cos - float(margin), min=0.0), zero)
    return _reduced(loss, reduction, op)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the pairwise p-distance; ``swap`` uses
    ``min(d(a, n), d(p, n))`` as the negative distance (Balntas et al., 2016)."""
    op = "triplet_margin_loss"
    a, pos, neg = (_floating(t, op) for t in (anchor, positive, negative))
    if not a.shape == pos.shape == neg.shape:
        raise ValueError(f"{op}: anchor {a.shape}, positive {pos.shape} and negative {neg.shape} must have one shape")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduced(clip(d_pos - d_neg + float(margin), min=0.0), reduction, op)
