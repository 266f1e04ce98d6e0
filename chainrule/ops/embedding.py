"""Embedding lookup: rows of a weight matrix picked by integer token ids."""

import numpy

from ..backend import to_numpy, xp
from ..tensor import Tensor, as_tensor, result

__all__ = ["embedding", "renorm_rows_"]


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


def renorm_rows_(weight, ids, max_norm, norm_type=2.0):
    """In place, as PyTorch's ``embedding_renorm_``: every row of ``weight`` (an array) that ``ids`` look up
    and whose ``norm_type``-norm exceeds ``max_norm`` is scaled by max_norm / (norm + 1e-7)."""
    rows = xp.unique(ids.reshape(-1))
    if not rows.size:
        return
    picked = weight[rows]
    norms = xp.linalg.norm(picked, ord=norm_type, axis=1) if norm_type != 2 else xp.sqrt((picked * picked).sum(axis=1))
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(weight.dtype)
        weight[rows[over]] = picked[over] * scale[:, None]


def embedding(ids, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """``weight[ids]``: one row of ``weight`` (num_embeddings, dim) per id; output shape ``ids.shape + (dim,)``.

    Parameters (PyTorch's ``torch.nn.functional.embedding``)
    ----------
    padding_idx : int, optional
        The row of that id receives no gradient (it stays what it is, usually zeros).
    max_norm : float, optional
        Rows looked up whose ``norm_type``-norm exceeds it are first renormalised **in place** (a
        change to ``weight`` outside the graph, as in PyTorch).
    scale_grad_by_freq : bool
        Divide each row's gradient by how often its id occurs in ``ids``.
    sparse : bool
        Accepted for PyTorch compatibility; the gradient is always a dense array.
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must have shape (num_embeddings, dim), got {weight.shape}")
    V, D = weight.shape
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {V} embeddings")
        padding_idx %= V
    ids = check_ids(ids, V)
    if max_norm is not None:
        renorm_rows_(weight.data, ids, max_norm, norm_type)
    out = xp.take(weight.data, ids, axis=0)

    # out[k] = weight[ids[k]]  =>  dL/dweight[v] = Σ_{k: ids[k] = v} dL/dout[k]
    # (rows no id uses get zero; the padding row gets zero; with scale_grad_by_freq the sum is
    # divided by the number of k with ids[k] = v). The sum over repeated ids is a scatter-add,
    # done by sorting the ids so equal ids are adjacent and summing each run.
    def backward(g):
        flat = ids.reshape(-1)
        rows = g.reshape(-1, D)
        grad = xp.zeros((V, D), dtype=weight.dtype)
        if flat.size:
            order = xp.argsort(flat, kind="stable")
            ranked = flat[order]
            starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool), ranked[1:] != ranked[:-1])))
            sums = xp.add.reduceat(rows[order], starts, axis=0)
            if scale_grad_by_freq:
                counts = xp.diff(xp.append(starts, flat.size))
                sums /= counts.astype(weight.dtype)[:, None]
            grad[ranked[starts]] = sums
        if padding_idx is not None:
            grad[padding_idx] = 0
        return (grad,)

    return result(out, (weight,), backward, "embedding")
