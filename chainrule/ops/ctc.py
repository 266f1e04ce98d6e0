"""Connectionist temporal classification loss (Graves et al., 2006), forward and backward in log space.

For one sequence, the target ``l`` (length S) is extended with blanks, ``l' = (b, l1, b, l2, ..., lS, b)``
(length 2S + 1). ``alpha_t(s)`` is the log-probability of all alignments of the first t + 1 frames that end
in ``l'_s``; ``beta_t(s)`` that of the frames from t on that start in ``l'_s`` (both include frame t):

    alpha_t(s) = lp_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), [skip] alpha_{t-1}(s-2))
    beta_t(s)  = lp_t(l'_s) + logsumexp(beta_{t+1}(s),  beta_{t+1}(s+1),  [skip] beta_{t+1}(s+2))

where the skip from s-2 to s is allowed when ``l'_s`` is a label different from ``l'_{s-2}``
(a blank between two equal labels cannot be skipped). The loss is ``-log p``, with
``log p = logsumexp(alpha_{T-1}(2S), alpha_{T-1}(2S-1))``, and its gradient with respect to the
log-probabilities is minus the posterior occupancy of each class at each frame:

    d(-log p)/d lp_t(c) = -Σ_{s: l'_s = c} exp(alpha_t(s) + beta_t(s) - lp_t(c) - log p)

Every recursion step runs on the whole batch at once, (N, 2S + 1) arrays, with sequences of
different lengths masked by -inf.

PyTorch's ``ctc_loss`` returns, for its gradient with respect to ``log_probs``, this gradient plus
``exp(log_probs)``: the two agree once they pass back through the ``log_softmax`` that produced the
log-probabilities (the extra term sums to zero over the classes of each frame, and
``log_softmax``'s backward removes exactly such terms), which is how the loss is meant to be used.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, result

__all__ = ["ctc_loss"]

_NEG_INF = -float("inf")


def _ints(value, name, op):
    array = value.data if isinstance(value, Tensor) else xp.asarray(value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers, got dtype {array.dtype}")
    return array.astype(xp.intp, copy=False)


def _logsumexp3(a, b, c):
    """Elementwise log(e^a + e^b + e^c), with -inf entries allowed (all three -inf gives -inf)."""
    m = xp.maximum(xp.maximum(a, b), c)
    finite = xp.where(xp.isfinite(m), m, 0)
    with xp.errstate(divide="ignore"):
        return finite + xp.log(xp.exp(a - finite) + xp.exp(b - finite) + xp.exp(c - finite))


def _shift(array, by):
    """``array`` shifted right by ``by`` along the last axis, filled with -inf (by < 0: shifted left)."""
    out = xp.full_like(array, _NEG_INF)
    if by > 0:
        out[..., by:] = array[..., :-by]
    else:
        out[..., :by] = array[..., -by:]
    return out


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """CTC loss of **log-probabilities** (the output of ``log_softmax`` over the classes) against label sequences.

    Parameters
    ----------
    log_probs : Tensor, shape (T, N, C), or (T, C) for one unbatched sequence
        Per-frame log-probabilities of the C classes (blank included).
    targets : int array, shape (N, S) padded, or (sum(target_lengths),) concatenated; (S,) unbatched
        Label sequences; they must not contain ``blank``.
    input_lengths, target_lengths : int arrays of shape (N,) (or ints, unbatched)
        Frames used of each input (<= T) and labels of each target.
    blank : int
        The blank class.
    reduction : "mean", "sum" or "none"
        "mean" divides each loss by its target length (at least 1) and averages over the batch,
        as PyTorch does.
    zero_infinity : bool
        Replace infinite losses (no alignment possible: the input is too short for the target)
        by 0. Without it such a loss stays infinite; its sequence gets a zero gradient either way
        (PyTorch's is NaN without zero_infinity).
    """
    op = "ctc_loss"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    x = as_tensor(log_probs)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: log_probs must be a floating tensor, got dtype {x.data.dtype}")
    unbatched = x.ndim == 2
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: log_probs must have shape (T, N, C) or (T, C), got {x.shape}")
    lp = x.data[:, None] if unbatched else x.data
    n_frames, batch, n_classes = lp.shape
    dtype = lp.dtype
    if not 0 <= blank < n_classes:
        raise ValueError(f"{op}: blank {blank} is out of range for {n_classes} classes")
    tg = _ints(targets, "targets", op)
    in_len = _ints(input_lengths, "input_lengths", op).reshape(-1)
    tg_len = _ints(target_lengths, "target_lengths", op).reshape(-1)
    if unbatched:
        tg = tg.reshape(1, -1)
    for name, lengths in (("input_lengths", in_len), ("target_lengths", tg_len)):
        if lengths.shape != (batch,):
            raise ValueError(f"{op}: {name} must have one length per sequence ({batch}), got shape {lengths.shape}")
    if (in_len < 0).any() or (in_len > n_frames).any():
        raise ValueError(
            f"{op}: input_lengths must lie in [0, {n_frames}] (the frames of log_probs), got {in_len.tolist()}"
        )
    if (tg_len < 0).any():
        raise ValueError(f"{op}: target_lengths must be non-negative, got {tg_len.tolist()}")
    max_s = int(tg_len.max()) if batch else 0
    if tg.ndim == 1:  # concatenated targets: cut them into a padded (N, S) array
        if tg.size != tg_len.sum():
            raise ValueError(
                f"{op}: concatenated targets have {tg.size} labels but target_lengths sum to {tg_len.sum()}"
            )
        padded = xp.full((batch, max_s), blank, dtype=xp.intp)
        starts = xp.concatenate([[0], xp.cumsum(tg_len)[:-1]]).astype(xp.intp)
        for n in range(batch):
            padded[n, : tg_len[n]] = tg[starts[n] : starts[n] + tg_len[n]]
        tg = padded
    elif tg.ndim != 2 or tg.shape[0] != batch or tg.shape[1] < max_s:
        raise ValueError(
            f"{op}: targets must be (N, S) padded with S >= max(target_lengths) = {max_s}, or 1-D concatenated; "
            f"got shape {tg.shape}"
        )
    tg = tg[:, :max_s]
    s_range = xp.arange(max_s)
    valid_label = s_range[None, :] < tg_len[:, None]
    used = tg[valid_label]
    if used.size and ((used < 0).any() or (used >= n_classes).any() or (used == blank).any()):
        bad = used[(used < 0) | (used >= n_classes) | (used == blank)][0]
        raise ValueError(
            f"{op}: target label {int(bad)} is the blank ({blank}) or out of range for {n_classes} classes"
        )

    # extended labels l' (N, L): blanks at even positions, the labels at odd ones
    n_ext = 2 * max_s + 1
    ext = xp.full((batch, n_ext), blank, dtype=xp.intp)
    ext[:, 1::2] = xp.where(valid_label, tg, blank)
    ext_len = 2 * tg_len + 1
    inside = xp.arange(n_ext)[None, :] < ext_len[:, None]
    # the skip s-2 -> s: l'_s is a label (odd s) that differs from l'_{s-2}
    skip = xp.zeros((batch, n_ext), dtype=bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    rows = xp.arange(batch)[:, None]
    # log-probabilities of the extended labels at each frame: (T, N, L), -inf past each target's end
    lp_ext = xp.where(inside, lp[:, rows, ext], _NEG_INF)

    alpha = xp.full((n_frames, batch, n_ext), _NEG_INF, dtype=dtype)
    if n_frames:
        alpha[0, :, :2] = lp_ext[0, :, :2]
    for t in range(1, n_frames):
        prev = alpha[t - 1]
        alpha[t] = lp_ext[t] + _logsumexp3(prev, _shift(prev, 1), xp.where(skip, _shift(prev, 2), _NEG_INF))

    # log p from the last frame of each input, ending in the last label or the final blank
    last = xp.clip(in_len - 1, 0, None)
    end = alpha[last, xp.arange(batch)]  # (N, L)
    batch_index = xp.arange(batch)
    tail = end[batch_index, ext_len - 1]
    before = xp.where(tg_len > 0, end[batch_index, xp.maximum(ext_len - 2, 0)], _NEG_INF)
    log_p = xp.logaddexp(tail, before)
    # no frames: only the empty target is possible (the inner where of two Python floats is float64: cast back)
    log_p = xp.where(in_len > 0, log_p, xp.where(tg_len == 0, 0.0, _NEG_INF)).astype(dtype, copy=False)
    nll = -log_p
    infinite = ~xp.isfinite(nll)
    if zero_infinity:
        nll = xp.where(infinite, 0.0, nll)
    nll = nll.astype(dtype, copy=False)
    divisor = xp.maximum(tg_len, 1).astype(dtype)
    if reduction == "none":
        out = nll[0] if unbatched else nll
    elif reduction == "sum":
        out = xp.asarray(nll.sum())
    else:
        out = xp.asarray((nll / divisor).mean())

    def backward(g):
        # beta, started at each input's last frame (the frames after it are -inf)
        beta = xp.full((n_frames, batch, n_ext), _NEG_INF, dtype=dtype)
        frame_mask = xp.arange(n_frames)[:, None] < in_len[None, :]  # (T, N)
        start = xp.full((batch, n_ext), _NEG_INF, dtype=dtype)
        start[batch_index, ext_len - 1] = 0.0
        start[batch_index, xp.maximum(ext_len - 2, 0)] = xp.where(tg_len > 0, 0, start[batch_index, 0])
        skip_from = _shift_bool(skip)  # the skip s -> s+2 is allowed when the skip into s+2 is
        following = xp.full((batch, n_ext), _NEG_INF, dtype=dtype)
        for t in range(n_frames - 1, -1, -1):
            at_end = (last == t)[:, None]
            onward = _logsumexp3(following, _shift(following, -1), xp.where(skip_from, _shift(following, -2), _NEG_INF))
            beta[t] = xp.where(frame_mask[t][:, None], lp_ext[t] + xp.where(at_end, start, onward), _NEG_INF)
            following = beta[t]
        # occupancy of each extended position: exp(alpha + beta - lp - log p), in [0, 1]
        with xp.errstate(invalid="ignore"):
            log_occupancy = alpha + beta - xp.where(xp.isfinite(lp_ext), lp_ext, 0) - log_p[None, :, None]
        reachable = xp.isfinite(log_occupancy)
        occupancy = xp.where(reachable, xp.exp(xp.where(reachable, log_occupancy, 0)), 0)
        # the upstream gradient of each sequence's loss
        if reduction == "none":
            per = xp.asarray(g).reshape(-1)
        elif reduction == "sum":
            per = xp.full(batch, g, dtype=dtype)
        else:
            per = g / (divisor * batch)
        per = xp.where(infinite, 0.0, per) if zero_infinity else per
        grad = xp.zeros((n_frames, batch, n_classes), dtype=dtype)
        # Σ over the extended positions that carry class c: scatter-add along the class axis
        weighted = -occupancy * per[None, :, None]
        frames = xp.arange(n_frames)[:, None, None]
        xp.add.at(grad, (frames, rows[None], ext[None]), weighted)
        grad = grad.astype(dtype, copy=False)
        return (grad[:, 0] if unbatched else grad,)

    return result(out, (x,), backward, op)


def _shift_bool(mask):
    """``mask`` shifted left by 2 along the last axis (position s gets s+2's value), False-filled."""
    out = xp.zeros_like(mask)
    out[..., :-2] = mask[..., 2:]
    return out
