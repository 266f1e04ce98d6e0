"""Gradient clipping: by total norm (``clip_grad_norm_``) and by value (``clip_grad_value_``).

When the gradients passed in are exactly the views of an optimizer's flat gradient buffer (see
``chainrule/optim/_flat.py``), the norm is one reduction over that buffer and the scaling one
in-place multiply; otherwise both work gradient by gradient. Results match
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.
"""

import math

from ..backend import xp
from ..tensor import Tensor
from ._flat import _GRAD_BUFFERS

__all__ = ["clip_grad_norm_", "clip_grad_value_", "total_norm"]


def _grads(parameters, where):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: expected Tensors, but item {i} is a {type(p).__name__}")
        if p._grad is not None:
            grads.append(p._grad)  # the arrays: a flat buffer's views are recognised by identity
    return grads


def _segments(grads):
    """The arrays to reduce/scale: a whole flat buffer for each set of grads that tiles one exactly
    (fast path), the individual grads otherwise."""
    groups, singles = {}, []
    for g in grads:
        base = g.base
        pack = _GRAD_BUFFERS.get(id(base)) if base is not None else None
        if pack is not None and pack.grad is base:
            groups.setdefault(id(base), (pack, []))[1].append(g)
        else:
            singles.append(g)
    segments = []
    for pack, members in groups.values():
        ids = {id(g) for g in members}
        if len(ids) == len(members) and len(members) == len(pack.grad_views) and ids == {
            id(v) for v in pack.grad_views
        }:
            segments.append(pack.grad)
        else:
            singles.extend(members)
    return segments + singles


def _sum_pow(array, norm_type):
    """sum(|x|^p) of one array as a Python float (max |x| for p = inf)."""
    if array.size == 0:
        return 0.0
    if norm_type == 2.0:
        flat = array.reshape(-1)
        return float(xp.dot(flat, flat))  # BLAS dot: no temporary array
    if math.isinf(norm_type):
        return float(xp.max(xp.abs(array)))
    if norm_type == 1.0:
        return float(xp.sum(xp.abs(array)))
    return float(xp.sum(xp.abs(array) ** norm_type))


def _total(segments, norm_type):
    if math.isinf(norm_type):
        return max((_sum_pow(s, norm_type) for s in segments), default=0.0)
    total = sum(_sum_pow(s, norm_type) for s in segments)
    return total ** (1.0 / norm_type)


def _check_norm_type(norm_type, where):
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"{where}: norm_type must be a positive number or inf, got {norm_type!r}")
    return norm_type


def total_norm(parameters, norm_type=2.0):
    """The norm of all gradients of ``parameters`` taken together as one vector (a Python float)."""
    norm_type = _check_norm_type(norm_type, "total_norm")
    return _total(_segments(_grads(parameters, "total_norm")), norm_type)


def clip_segments_(segments, max_norm, norm_type=2.0, error_if_nonfinite=False, where="clip_grad_norm_"):
    """Clip a list of gradient arrays in place by their total norm (shared by ``Optimizer.clip_grad_norm``)."""
    norm_type = _check_norm_type(norm_type, where)
    max_norm = float(max_norm)
    if not segments:
        return 0.0
    norm = _total(segments, norm_type)
    if error_if_nonfinite and not math.isfinite(norm):
        raise RuntimeError(
            f"{where}: the total norm of order {norm_type} of the gradients is {norm}, so they cannot be clipped; "
            "set error_if_nonfinite=False to scale them by it anyway"
        )
    coef = max_norm / (norm + 1e-6)
    if not coef >= 1.0:  # as PyTorch: clamp the coefficient at 1 (a NaN norm propagates into the gradients)
        for s in segments:
            s *= coef  # Python float: float32 gradients stay float32
    return norm


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of ``parameters`` in place so their total norm is at most ``max_norm``.

    The norm is taken over all gradients concatenated into one vector; every gradient is multiplied
    by ``max_norm / (total_norm + 1e-6)`` when that is below 1. Parameters without a gradient are
    ignored. Returns the total norm *before* clipping (a Python float).

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    max_norm : float
    norm_type : float
        Order of the norm: 2 (default), 1, any p > 0, or ``float("inf")`` (largest absolute value).
    error_if_nonfinite : bool
        Raise RuntimeError when the total norm is NaN or infinite.
    """
    grads = _grads(parameters, "clip_grad_norm_")
    return clip_segments_(_segments(grads), max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element of ``parameters`` into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    for s in _segments(_grads(parameters, "clip_grad_value_")):
        xp.clip(s, -clip_value, clip_value, out=s)
