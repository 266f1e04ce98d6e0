"""Loss functions, each one fused op with its backward written out.

Classification losses take **logits** (unnormalised scores), never probabilities:
``cross_entropy`` applies log-softmax itself and ``binary_cross_entropy_with_logits``
applies the sigmoid itself, which is both faster and stable for large scores.

Every loss takes ``reduction``: ``"mean"`` (the default), ``"sum"``, or ``"none"`` (one
loss per element / per sample, unreduced). Semantics follow PyTorch's functions of the
same names, including class weights and label smoothing.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, constant, result

__all__ = [
    "mse_loss",
    "l1_loss",
    "mae_loss",
    "huber_loss",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
]

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ shared helpers
def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _floating(x, what, op):
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating tensor, got dtype {x.data.dtype}")
    return x


def _divide(value, count):
    # an empty batch (or all targets ignored) gives NaN, as in PyTorch, without a warning
    return value / count if count else value * float("nan")


def _reduce(loss, reduction, count):
    """Apply ``reduction`` to the per-element loss array; "mean" divides by ``count``."""
    if reduction == "none":
        return loss
    total = loss.sum()
    return xp.asarray(total if reduction == "sum" else _divide(total, count))


def _upstream(g, reduction, count):
    """The gradient reaching each element of the unreduced loss: g itself ("none", "sum"), or g/count ("mean").

    With nothing to average over (every target ignored) the loss is NaN but, as in PyTorch, no
    element receives a gradient (0 rather than NaN)."""
    if reduction != "mean":
        return g
    return g / count if count else g * 0


def _constant_array(value, dtype, what, op):
    """A non-differentiated argument (class weights, pos_weight) as an array of ``dtype``."""
    array = value.data if isinstance(value, Tensor) else xp.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{op}: {what} must be numeric, got dtype {array.dtype}")
    return array.astype(dtype, copy=False)


# -------------------------------------------------------------- regression losses
def _regression_inputs(pred, target, op):
    """Prediction and target tensors of the same shape, and the target's values in the prediction's dtype."""
    pred = _floating(pred, "the prediction", op)
    target = as_tensor(target)
    if pred.shape != target.shape:
        raise ValueError(
            f"{op}: prediction shape {pred.shape} and target shape {target.shape} differ; they must match "
            "exactly (no broadcasting, which would silently turn (N, 1) against (N,) into (N, N))"
        )
    if target.data.dtype.kind not in "fiub":
        raise TypeError(f"{op}: target must be numeric, got dtype {target.data.dtype}")
    return pred, target, target.data.astype(pred.data.dtype, copy=False)


def _regression_grads(gp, pred, target):
    """(d/dpred, d/dtarget) when the loss depends on pred - target only: d/dtarget = -d/dpred."""
    return (
        gp if pred.requires_grad else None,
        (-gp).astype(target.data.dtype, copy=False) if target.requires_grad else None,
    )


def mse_loss(pred, target, reduction="mean"):
    """Mean squared error ``(pred - target)²``, reduced by ``reduction``. Shapes must match."""
    _check_reduction(reduction, "mse_loss")
    pred, target, t = _regression_inputs(pred, target, "mse_loss")
    diff = pred.data - t
    out = _reduce(diff * diff, reduction, diff.size)

    # d(p - t)²/dp = 2(p - t);  d/dt = -2(p - t)
    def backward(g):
        return _regression_grads(2 * diff * _upstream(g, reduction, diff.size), pred, target)

    def double(g):  # the same rule on Tensors
        from .elementwise import cast

        gp = 2 * (pred - cast(target, pred.dtype)) * _upstream(g, reduction, diff.size)
        return gp if pred.requires_grad else None, cast(-gp, target.dtype) if target.requires_grad else None

    return result(out, (pred, target), backward, "mse_loss", double)


def l1_loss(pred, target, reduction="mean"):
    """Mean absolute error ``|pred - target|``; the gradient at pred == target is 0 (as PyTorch)."""
    _check_reduction(reduction, "l1_loss")
    pred, target, t = _regression_inputs(pred, target, "l1_loss")
    diff = pred.data - t
    out = _reduce(xp.abs(diff), reduction, diff.size)

    # d|p - t|/dp = sign(p - t);  d/dt = -sign(p - t)
    def backward(g):
        return _regression_grads(xp.sign(diff) * _upstream(g, reduction, diff.size), pred, target)

    return result(out, (pred, target), backward, "l1_loss")


mae_loss = l1_loss


def huber_loss(pred, target, delta=1.0, reduction="mean"):
    """Huber loss: ``½d²`` where ``|d| < delta``, else ``delta·(|d| - ½delta)``, with ``d = pred - target``."""
    _check_reduction(reduction, "huber_loss")
    delta = float(delta)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    pred, target, t = _regression_inputs(pred, target, "huber_loss")
    diff = pred.data - t
    size = xp.abs(diff)
    loss = xp.where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    out = _reduce(loss, reduction, diff.size)

    # d huber/dp = d inside [-delta, delta], ±delta outside: clip(d, -delta, delta);  d/dt = -that
    def backward(g):
        return _regression_grads(xp.clip(diff, -delta, delta) * _upstream(g, reduction, diff.size), pred, target)

    return result(out, (pred, target), backward, "huber_loss")


# ---------------------------------------------------------------- cross-entropy
def cross_entropy(logits, target, weight=None, label_smoothing=0.0, reduction="mean", ignore_index=None):
    """Softmax cross-entropy of **logits** against class indices or class probabilities (fused log-softmax + NLL).

    Parameters
    ----------
    logits : Tensor, shape (N, C), (N, C, d1, ...) or (C,)
        Unnormalised scores; the class axis is axis 1 (axis 0 for a single unbatched sample).
    target : int array/Tensor of shape (N,) / (N, d1, ...) / (), or float array/Tensor shaped like ``logits``
        Class indices in ``[0, C)``, or a probability distribution over the classes per sample
        (probability targets may require a gradient).
    weight : array of shape (C,), optional
        Per-class weights (not differentiated).
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution: ``(1 - ε)·target + ε/C``.
    reduction : "mean", "sum" or "none"
        With class-index targets, "mean" divides by the summed weight of the targets
        (the number of non-ignored samples without ``weight``), as PyTorch does; with
        probability targets it divides by the number of samples.
    ignore_index : int, optional
        Class-index targets equal to it contribute no loss and no gradient. (PyTorch's default
        is -100; here the default is None, so a stray -100 is reported as out of range.)
    """
    op = "cross_entropy"
    _check_reduction(reduction, op)
    logits = _floating(logits, "logits", op)
    label_smoothing = float(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if logits.ndim == 0:
        raise ValueError(f"{op}: logits must have a class axis, got a scalar")
    dtype = logits.data.dtype
    unbatched = logits.ndim == 1
    z = logits.data[None] if unbatched else logits.data
    n_classes = z.shape[1]
    batch_shape = z.shape[:1] + z.shape[2:]
    spatial = z.ndim > 2
    # classes on the last axis, one row per sample: (M, C)
    z2 = xp.moveaxis(z, 1, -1).reshape(-1, n_classes) if spatial else z
    m = z2.shape[0]

    w = None
    if weight is not None:
        w = _constant_array(weight, dtype, "weight", op)
        if w.shape != (n_classes,):
            raise ValueError(f"{op}: weight must have shape ({n_classes},) (one per class), got {w.shape}")

    target_tensor = target if isinstance(target, Tensor) else None
    tdata = target.data if isinstance(target, Tensor) else xp.asarray(target)
    index_mode = tdata.dtype.kind in "iu"
    if index_mode:
        expected = () if unbatched else batch_shape
        if tdata.shape != expected:
            hint = ""
            if tdata.shape == logits.shape:
                hint = " (it looks one-hot: pass its argmax, or convert it to float probabilities)"
            raise ValueError(
                f"{op}: class-index target must have shape {expected} for logits of shape {logits.shape}, "
                f"got {tdata.shape}{hint}"
            )
    elif tdata.dtype.kind == "f":
        if tdata.shape != logits.shape:
            raise ValueError(
                f"{op}: target has float dtype {tdata.dtype} and shape {tdata.shape}; class-index targets must be "
                f"integers (e.g. target.astype('int64')) and probability targets must have the logits' shape "
                f"{logits.shape}"
            )
        if ignore_index is not None:
            raise ValueError(f"{op}: ignore_index is only supported for class-index targets, not probability targets")
    else:
        raise TypeError(f"{op}: target must hold integer class indices or float probabilities, got dtype {tdata.dtype}")

    # log-softmax by log-sum-exp with the row maximum subtracted: every exp is of a number <= 0
    shifted = z2 - z2.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    lse = xp.log(s)
    eps_c = label_smoothing / n_classes

    if index_mode:
        y = tdata.reshape(-1).astype(xp.intp, copy=False)  # uint8 or int32 labels: index arithmetic in intp
        keep = None
        if ignore_index is not None:
            keep = y != ignore_index
            y = xp.where(keep, y, 0)
        _check_class_range(y, keep, n_classes, op)
        picked = xp.arange(m) * n_classes + y  # flat positions of the target logits (faster than [rows, y])
        per = lse[:, 0] - shifted.take(picked)  # -log p(y)
        w_y = None
        if w is not None:
            w_y = w[y]
            per = per * w_y
        if label_smoothing:
            # smoothing term Σ_c w_c·(-log p_c) = (Σ_c w_c)·lse - Σ_c w_c·shifted_c
            if w is None:
                smooth = n_classes * lse[:, 0] - shifted.sum(axis=1)
            else:
                smooth = w.sum() * lse[:, 0] - shifted @ w
            per = (1 - label_smoothing) * per + eps_c * smooth
        if keep is not None:
            per = per * keep
        if w_y is not None:
            denominator = (w_y * keep).sum() if keep is not None else w_y.sum()
        else:
            denominator = int(keep.sum()) if keep is not None else m
    else:
        q = xp.moveaxis(tdata, 1, -1).reshape(-1, n_classes) if spatial else tdata.reshape(m, n_classes)
        q = q.astype(dtype, copy=False)
        # the effective target distribution, weighted: Q_ic = w_c·((1 - ε)·q_ic + ε/C)
        big_q = q * (1 - label_smoothing) + eps_c if label_smoothing else q
        if w is not None:
            big_q = big_q * w
        log_p = shifted - lse
        per = -(big_q * log_p).sum(axis=1)
        denominator = m

    out_shape = () if unbatched else batch_shape
    out = _reduce(per.reshape(out_shape) if reduction == "none" else per, reduction, denominator)

    # With log p = log_softmax(z):  d(-Σ_c Q_c log p_c)/dz = (Σ_c Q_c)·softmax(z) - Q.
    # Class indices: Q = w_y·onehot(y) (mixed with ε/C·w under smoothing), which gives softmax - onehot unweighted.
    def backward(g):
        gi = _upstream(g, reduction, denominator)
        g_target = None
        if index_mode:
            # r: the upstream gradient of each sample's loss (0 for ignored samples); the per-row factors
            # are folded together first so the (M, C) array is touched as few times as possible
            r = gi.reshape(-1) if reduction == "none" else gi
            if keep is not None:
                r = r * keep
            if w is None:
                coef_y = 1 - label_smoothing  # Σ_c Q_c = 1
                total = r
            else:
                coef_y = (1 - label_smoothing) * w_y  # Σ_c Q_c = (1 - ε)·w_y + ε/C·Σ_c w_c
                total = (coef_y + eps_c * w.sum()) * r
            grad = e * (xp.reshape(total, (-1, 1)) / s)  # (Σ_c Q_c)·softmax·r
            if label_smoothing:
                grad -= (eps_c * w if w is not None else eps_c) * xp.reshape(r, (-1, 1))
            grad.reshape(-1)[picked] -= coef_y * r  # grad is a fresh array, so in place is safe
        else:
            r = gi.reshape(-1, 1) if reduction == "none" else gi
            grad = (e / s * big_q.sum(axis=1, keepdims=True) - big_q) * r
            if target_tensor is not None and target_tensor.requires_grad:
                # d(-Σ_c w_c((1-ε)q_c + ε/C) log p_c)/dq_c = -(1-ε)·w_c·log p_c
                gt = log_p * (-(1 - label_smoothing))
                if w is not None:
                    gt = gt * w
                gt = gt * r
                g_target = _restore_layout(gt.astype(tdata.dtype, copy=False), z.shape, spatial, unbatched)
        grad = _restore_layout(grad, z.shape, spatial, unbatched)
        return (grad, g_target) if target_tensor is not None else (grad,)

    # The same rule on Tensors, d/dz = ((Σ_c Q_c)·softmax(z) - Q)·r, with Q (the weighted, smoothed target with
    # ignored rows zeroed) a constant: softmax is recomputed as a graph node so its derivative is followed.
    def double(g):
        from .activation import softmax
        from .shape import permute

        if target_tensor is not None and not index_mode and target_tensor.requires_grad:
            raise RuntimeError(
                "double backward is not implemented for 'cross_entropy' with a probability target that requires grad"
            )
        if index_mode:
            q = xp.zeros((m, n_classes), dtype=dtype)
            q.reshape(-1)[picked] = (1 - label_smoothing) * (1 if w is None else w_y)
            if label_smoothing:
                q += eps_c * (1 if w is None else w)
            if keep is not None:
                q *= keep[:, None]
        else:
            q = big_q
        gi = _upstream(g, reduction, denominator)
        r = gi.reshape(-1, 1) if reduction == "none" else gi
        if unbatched:
            z2t = logits.reshape(1, n_classes)
        elif spatial:
            z2t = permute(logits, (0, *range(2, logits.ndim), 1)).reshape(-1, n_classes)
        else:
            z2t = logits
        grad = (softmax(z2t, 1) * constant(q.sum(axis=1, keepdims=True)) - constant(q)) * r
        if unbatched:
            return (grad.reshape(n_classes),)
        if spatial:
            n, c, *rest = z.shape
            last = len(z.shape) - 1
            return (permute(grad.reshape(n, *rest, c), (0, last, *range(1, last))),)
        return (grad,)

    parents = (logits,) if index_mode or target_tensor is None else (logits, target_tensor)
    return result(out, parents, backward, op, double)


def _restore_layout(grad, shape, spatial, unbatched):
    """Undo the (M, C) flattening: back to ``shape`` (N, C, d1, ...), or to (C,) for one unbatched sample."""
    if spatial:
        n, c, *rest = shape
        grad = xp.moveaxis(grad.reshape(n, *rest, c), -1, 1)
    return grad[0] if unbatched else grad


def _check_class_range(y, keep, n_classes, op):
    if y.size == 0:
        return
    if y.min() >= 0 and y.max() < n_classes:
        return
    bad = (y < 0) | (y >= n_classes)
    if keep is not None:
        bad &= keep
    if bad.any():
        value = int(y[bad][0])
        raise ValueError(
            f"{op}: target class {value} is out of range for {n_classes} classes (valid: 0 to {n_classes - 1})"
        )


# ---------------------------------------------------------- binary cross-entropy
def binary_cross_entropy_with_logits(logits, target, weight=None, pos_weight=None, reduction="mean"):
    """Binary cross-entropy of **logits** (the sigmoid is applied inside, stably) against targets in [0, 1].

    ``loss = -w·[pw·t·log σ(x) + (1 - t)·log(1 - σ(x))]``, computed as
    ``w·[(1 - t)·x + (1 + (pw - 1)·t)·softplus(-x)]`` so that no exp overflows.

    Parameters
    ----------
    logits, target : same shape
        Target may be a Tensor that requires a gradient.
    weight : array broadcastable to the logits' shape, optional
        Rescales each element's loss (not differentiated).
    pos_weight : array broadcastable to the logits' shape, optional
        Weight of the positive term, usually one per class (last axis), as in PyTorch.
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    logits = _floating(logits, "logits", op)
    target = as_tensor(target)
    if logits.shape != target.shape:
        raise ValueError(f"{op}: logits shape {logits.shape} and target shape {target.shape} must match")
    if target.data.dtype.kind not in "fiub":
        raise TypeError(f"{op}: target must be numeric, got dtype {target.data.dtype}")
    dtype = logits.data.dtype
    x = logits.data
    t = target.data.astype(dtype, copy=False)
    w = pw = None
    for name, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is None:
            continue
        array = _constant_array(value, dtype, name, op)
        try:
            shape = xp.broadcast_shapes(array.shape, x.shape)
        except ValueError:
            shape = None
        if shape != x.shape:
            raise ValueError(f"{op}: {name} of shape {array.shape} cannot be broadcast to the logits' shape {x.shape}")
        if name == "weight":
            w = array
        else:
            pw = array

    # softplus(-x) = -log σ(x) = max(-x, 0) + log(1 + e^-|x|)
    softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
    if pw is None:
        loss = (1 - t) * x + softplus_neg
    else:
        log_weight = 1 + (pw - 1) * t
        loss = (1 - t) * x + log_weight * softplus_neg
    if w is not None:
        loss = loss * w
    out = _reduce(loss, reduction, x.size)

    # d/dx = (1 - t) - (1 + (pw - 1)t)·σ(-x)   (= σ(x) - t without pos_weight)
    # d/dt = -x + (pw - 1)·softplus(-x)        (= -x without pos_weight)
    def backward(g):
        gi = _upstream(g, reduction, x.size)
        if w is not None:
            gi = gi * w
        gx = gt = None
        if logits.requires_grad:
            e = xp.exp(-xp.abs(x))
            inv = 1 / (1 + e)
            if pw is None:
                gx = (xp.where(x >= 0, inv, e * inv) - t) * gi  # σ(x) - t, σ computed stably
            else:
                sig_neg = xp.where(x >= 0, e * inv, inv)  # σ(-x)
                gx = ((1 - t) - log_weight * sig_neg) * gi
        if target.requires_grad:
            local = -x if pw is None else (pw - 1) * softplus_neg - x
            gt = (local * gi).astype(target.data.dtype, copy=False)
        return gx, gt

    return result(out, (logits, target), backward, op)
