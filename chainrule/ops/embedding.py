"""Embedding lookup: rows of a weight matrix picked by integer token ids."""

import numpy

from ..backend import to_numpy, xp
from ..tensor import Tensor, as_tensor, result

__all__ = ["embedding"]


def check_ids(ids, num_embeddings, op="embedding"):
    """``ids`` as an integer array, every value in ``[0, num_embeddings)`` (a ValueError naming the bad id)."""
    array = ids.data if isinstance(ids, Tensor) else xp.asarray(ids)
    if array.dtype == bool or array.dtype.kind not in "iu":
        raise TypeError(f"{op}: token ids must be integers, got dtype {array.dtype}")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= num_embeddings:
            bad = high if high >= num_embeddings else low
            position = tuple(int(i) for i in numpy.argwhere(to_numpy(array) == bad)[0])
            raise ValueError(
                f"{op}: token id {bad} (at position {position}) is out of range for a vocabulary of "
                f"{num_embeddings} embeddings; valid ids are 0..{num_embeddings - 1}"
            )
    return array


def embedding(ids, weight, padding_idx=None):
    """``weight[ids]``: one row of ``weight`` (num_embeddings, dim) per id; output shape ``ids.shape + (dim,)``.

    ``padding_idx``: the row of that id receives no gradient (it stays what it is, usually zeros).
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must have shape (num_embeddings, dim), got {weight.shape}")
    V, D = weight.shape
    if padding_idx is not None and not -V <= padding_idx < V:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {V} embeddings")
    ids = check_ids(ids, V)
    out = xp.take(weight.data, ids, axis=0)

    # out[k] = weight[ids[k]]  =>  dL/dweight[v] = Σ_{k: ids[k] = v} dL/dout[k]
    # (rows no id uses get zero; the padding row gets zero). The sum over repeated ids is a
    # scatter-add, done by sorting the ids so equal ids are adjacent and summing each run.
    def backward(g):
        flat = ids.reshape(-1)
        rows = g.reshape(-1, D)
        grad = xp.zeros((V, D), dtype=weight.dtype)
        if flat.size:
            order = xp.argsort(flat, kind="stable")
            ranked = flat[order]
            starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool), ranked[1:] != ranked[:-1])))
            grad[ranked[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
        if padding_idx is not None:
            grad[padding_idx] = 0
        return (grad,)

    return result(out, (weight,), backward, "embedding")
