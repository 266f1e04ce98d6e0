"""Embedding lookup: rows of a weight matrix picked by integer token ids."""

import numpy

from ..backend import to_numpy, xp
from ..tensor import Tensor, as_tensor, result
from .linear_maps import linear_double

__all__ = ["embedding", "embedding_bag", "renorm_rows_"]


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

    # backward is linear in g: for create_graph, its adjoint (what maps a weight-shaped array a to an
    # output-shaped one) is the lookup itself, with the padding row zeroed and the frequency scaling applied
    def adjoint(a):
        if scale_grad_by_freq or padding_idx is not None:
            a = a.copy()
            if scale_grad_by_freq:
                counts = xp.bincount(ids.reshape(-1), minlength=V)
                a /= xp.maximum(counts, 1).astype(a.dtype)[:, None]
            if padding_idx is not None:
                a[padding_idx] = 0
        return xp.take(a, ids, axis=0)

    return result(out, (weight,), backward, "embedding", linear_double(backward, adjoint, "embedding"))


def _bags(ids, offsets, include_last_offset, op):
    """Flat ids and, per id, its bag number; and the number of bags.

    2-D ``ids`` (B, N): each row is a bag. 1-D ids with ``offsets`` (the start of each bag; with
    ``include_last_offset`` the last entry is the end of the last bag).
    """
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None when the input is 2-D (each row is a bag)")
        B, N = ids.shape
        return ids.reshape(-1), numpy.repeat(numpy.arange(B), N), B
    if ids.ndim != 1:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D, got shape {ids.shape}")
    if offsets is None:
        raise ValueError(f"{op}: a 1-D input needs offsets (the start of each bag)")
    offsets = numpy.asarray(to_numpy(offsets.data if isinstance(offsets, Tensor) else offsets), dtype=numpy.int64)
    valid = offsets.ndim == 1 and offsets.size and offsets[0] == 0
    if not valid or (numpy.diff(offsets) < 0).any() or offsets[-1] > ids.size:
        raise ValueError(
            f"{op}: offsets must be a non-decreasing 1-D sequence starting at 0 and not beyond the {ids.size} ids, "
            f"got {offsets.tolist()[:8]}"
        )
    if include_last_offset:
        ends = offsets[1:]
        starts = offsets[:-1]
    else:
        starts = offsets
        ends = numpy.append(offsets[1:], ids.size)
    sizes = ends - starts
    bag = numpy.repeat(numpy.arange(len(starts)), sizes)
    return ids[: int(ends[-1]) if len(ends) else 0], bag, len(starts)


def embedding_bag(ids, weight, offsets=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings (PyTorch's ``embedding_bag``), without the (bag, N, dim)
    intermediate: output (bags, dim). Ids equal to ``padding_idx`` are left out (and not counted in a
    mean); an empty bag gives zeros. ``per_sample_weights`` (mode "sum" only) weighs each id.
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight must have shape (num_embeddings, dim), got {weight.shape}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    V, D = weight.shape
    ids = check_ids(ids, V, "embedding_bag")
    shape = ids.shape
    flat, bag, B = _bags(ids, offsets, include_last_offset, "embedding_bag")
    psw = None
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"embedding_bag: per_sample_weights needs mode='sum', got mode={mode!r}")
        psw = as_tensor(per_sample_weights)
        if psw.shape != shape:
            raise ValueError(f"embedding_bag: per_sample_weights must have the input's shape {shape}, got {psw.shape}")
    if max_norm is not None:
        renorm_rows_(weight.data, flat, max_norm, norm_type)
    keep = numpy.ones(flat.size, dtype=bool) if padding_idx is None else flat != padding_idx % V
    flat_k, bag_k = flat[keep], bag[keep]
    rows = weight.data[flat_k]
    counts = numpy.bincount(bag_k, minlength=B)
    out = xp.zeros((B, D), dtype=weight.dtype)
    if mode == "max":
        out.fill(-xp.inf)
        xp.maximum.at(out, bag_k, rows)
        out[counts == 0] = 0
        # the id each (bag, feature) maximum came from: the first position holding it
        hit = rows == out[bag_k]
        winner = xp.zeros((B, D), dtype=numpy.int64)
        position = xp.where(hit, numpy.arange(len(flat_k))[:, None], len(flat_k))
        first = xp.full((B, D), len(flat_k), dtype=numpy.int64)
        xp.minimum.at(first, bag_k, position)
        winner[counts > 0] = flat_k[first[counts > 0]]
    else:
        scale = None
        if psw is not None:
            scale = psw.data.reshape(-1)[: flat.size][keep]
        elif mode == "mean":
            scale = (1.0 / numpy.maximum(counts, 1))[bag_k].astype(weight.dtype)
        xp.add.at(out, bag_k, rows if scale is None else rows * scale[:, None])
    parents = (weight,) if psw is None else (weight, psw)

    # sum:  out[b] = Σ_{k in b} s_k·W[id_k]  =>  dW[id_k] += s_k·g[b],  ds_k = g[b]·W[id_k]
    #       (s_k = per-sample weight, 1/count for a mean, 1 for a sum; /frequency of id_k with scale_grad_by_freq)
    # max:  out[b, d] = W[winner[b, d], d]  =>  dW[winner[b, d], d] += g[b, d]
    def backward(g):
        grad = xp.zeros((V, D), dtype=weight.dtype)
        if mode == "max":
            live = counts > 0
            xp.add.at(grad, (winner[live], numpy.broadcast_to(numpy.arange(D), (int(live.sum()), D))), g[live])
        else:
            contrib = g[bag_k] if scale is None else g[bag_k] * scale[:, None]
            if scale_grad_by_freq:
                freq = numpy.bincount(flat_k, minlength=V)
                contrib = contrib / freq[flat_k][:, None].astype(weight.dtype)
            xp.add.at(grad, flat_k, contrib)
        grads = [grad if weight.requires_grad else None]
        if psw is not None:
            g_psw = xp.zeros(flat.size, dtype=psw.dtype)
            g_psw[keep] = (g[bag_k] * rows).sum(axis=1)
            full = xp.zeros(int(numpy.prod(shape)), dtype=psw.dtype)
            full[: flat.size] = g_psw
            grads.append(full.reshape(shape) if psw.requires_grad else None)
        return tuple(grads)

    return result(out, parents, backward, "embedding_bag")
