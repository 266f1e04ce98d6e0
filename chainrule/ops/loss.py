"""Loss functions, each one fused op with its backward written out.

Classification losses take **logits** (unnormalised scores), never probabilities:
``cross_entropy`` applies log-softmax itself and ``binary_cross_entropy_with_logits``
applies the sigmoid itself, which is both faster and stable for large scores.

Every loss takes ``reduction``: ``"mean"`` (the default), ``"sum"``, or ``"none"`` (one
loss per element / per sample, unreduced). Semantics follow PyTorch's functions of the
same names, including class weights and label smoothing.
"""

import math
import warnings

from ..backend import xp
from ..tensor import Tensor, as_tensor, constant, piecewise_constant, result
from .activation import _sigmoid_pair
from .broadcast import unbroadcast
from .linear_maps import linear_double
from .shape import reshape

__all__ = [
    "mse_loss",
    "l1_loss",
    "mae_loss",
    "huber_loss",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
    "nll_loss",
    "binary_cross_entropy",
    "smooth_l1_loss",
    "kl_div",
    "soft_margin_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ shared helpers
def legacy_reduction(size_average, reduce, reduction, op):
    """``reduction``, or what PyTorch's deprecated ``size_average``/``reduce`` pair asks for when either is set."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        f"{op}: size_average and reduce are deprecated (as in PyTorch); use reduction='mean', 'sum' or 'none'",
        DeprecationWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


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


def _broadcast_constant(value, shape, dtype, name, whose, op):
    """``_constant_array`` that must broadcast to ``shape`` (a weight per element, per class, ...)."""
    array = _constant_array(value, dtype, name, op)
    try:
        fits = xp.broadcast_shapes(array.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {array.shape} cannot be broadcast to the {whose} shape {shape}")
    return array


def _target_like(input, target, names, op):
    """``target`` as a numeric Tensor of ``input``'s shape, and its values in ``input``'s dtype."""
    target = as_tensor(target)
    _same_shape(input, target, names, op)
    if target.data.dtype.kind not in "fiub":
        raise TypeError(f"{op}: target must be numeric, got dtype {target.data.dtype}")
    return target, target.data.astype(input.data.dtype, copy=False)


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


def _regression_double(gp, pred, target):
    """``_regression_grads`` on Tensors, for the differentiable rules."""
    from .elementwise import cast

    return gp if pred.requires_grad else None, cast(-gp, target.dtype) if target.requires_grad else None


def _as_floating(target, dtype):
    """The target Tensor in the prediction's dtype, differentiably (for the differentiable rules)."""
    from .elementwise import cast

    return cast(target, dtype)


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

    def double(g):  # the sign is piecewise constant
        return _regression_double(piecewise_constant(pred, xp.sign(diff)) * _upstream(g, reduction, diff.size),
                                  pred, target)

    return result(out, (pred, target), backward, "l1_loss", double)


mae_loss = l1_loss


def huber_loss(pred, target, delta=1.0, reduction="mean"):
    """Huber loss: ``½d²`` where ``|d| < delta``, else ``delta·(|d| - ½delta)``, with ``d = pred - target``."""
    return _huber(pred, target, delta, reduction, "huber_loss", "delta")


def smooth_l1_loss(pred, target, beta=1.0, reduction="mean"):
    """Smooth L1 loss: ``½d²/beta`` where ``|d| < beta``, else ``|d| - ½beta``: the Huber loss divided by ``beta``.

    ``beta=0`` gives the L1 loss, as in PyTorch.
    """
    beta = float(beta)
    if beta == 0:
        return l1_loss(pred, target, reduction=reduction)
    return _huber(pred, target, beta, reduction, "smooth_l1_loss", "beta")


def _huber(pred, target, delta, reduction, op, name):
    """Huber loss with threshold ``delta``; divided by ``delta`` for smooth_l1_loss."""
    _check_reduction(reduction, op)
    delta = float(delta)
    if not delta > 0:
        raise ValueError(f"{op}: {name} must be positive, got {delta}")
    scale = 1 / delta if op == "smooth_l1_loss" else 1.0
    pred, target, t = _regression_inputs(pred, target, op)
    diff = pred.data - t
    size = xp.abs(diff)
    loss = xp.where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    if scale != 1.0:
        loss = loss * scale
    out = _reduce(loss, reduction, diff.size)

    # d huber/dp = d inside [-delta, delta], ±delta outside: clip(d, -delta, delta);  d/dt = -that
    def backward(g):
        gp = xp.clip(diff, -delta, delta) * _upstream(g, reduction, diff.size)
        return _regression_grads(gp * scale if scale != 1.0 else gp, pred, target)

    def double(g):  # the same rule on Tensors (clip is differentiable: 1 inside, 0 outside)
        from .elementwise import clip

        d = pred - _as_floating(target, pred.dtype)
        gp = clip(d, -delta, delta) * _upstream(g, reduction, diff.size)
        return _regression_double(gp * scale if scale != 1.0 else gp, pred, target)

    return result(out, (pred, target), backward, op, double)


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
        y, keep = _class_targets(y, ignore_index, n_classes, op)
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
        from .activation import log_softmax, softmax
        from .elementwise import cast
        from .reduce import sum as reduce_sum
        from .shape import permute

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
        if not index_mode and target_tensor is not None and target_tensor.requires_grad:
            # Q depends on the target: built from it with Tensor ops, laid out as the logits (M, C)
            qt = cast(target_tensor, dtype)
            if unbatched:
                qt = qt.reshape(1, n_classes)
            elif spatial:
                qt = permute(qt, (0, *range(2, qt.ndim), 1)).reshape(-1, n_classes)
            qt = qt * (1 - label_smoothing) + eps_c if label_smoothing else qt
            q_t = qt * w if w is not None else qt
            q_sum = reduce_sum(q_t, 1, True)
        else:
            q_t, q_sum = constant(q), constant(q.sum(axis=1, keepdims=True))
        grad = (softmax(z2t, 1) * q_sum - q_t) * r

        def restored(t):  # (M, C) back to the logits' layout, as _restore_layout
            if unbatched:
                return t.reshape(n_classes)
            if spatial:
                n, c, *rest = z.shape
                last = len(z.shape) - 1
                return permute(t.reshape(n, *rest, c), (0, last, *range(1, last)))
            return t

        if target_tensor is None or index_mode:
            return (restored(grad),)
        g_target = None
        if target_tensor.requires_grad:  # d/dq_c = -(1-ε)·w_c·log p_c, as in the array rule
            gt = log_softmax(z2t, 1) * (-(1 - label_smoothing))
            g_target = cast(restored((gt * w if w is not None else gt) * r), target_tensor.dtype)
        return restored(grad), g_target

    parents = (logits,) if index_mode or target_tensor is None else (logits, target_tensor)
    return result(out, parents, backward, op, double)


def _restore_layout(grad, shape, spatial, unbatched):
    """Undo the (M, C) flattening: back to ``shape`` (N, C, d1, ...), or to (C,) for one unbatched sample."""
    if spatial:
        n, c, *rest = shape
        grad = xp.moveaxis(grad.reshape(n, *rest, c), -1, 1)
    return grad[0] if unbatched else grad


def _class_targets(y, ignore_index, n_classes, op):
    """``(y, keep)`` for class-index targets ``y``, checked to lie in ``[0, n_classes)`` unless ignored.

    ``keep`` masks the targets that are not ``ignore_index``, or is None when none is ignored; ignored
    targets in ``y`` are replaced by class 0 so that indexing with them is safe. The common case (every
    target a valid class, none equal to ``ignore_index``) costs one min and one max.
    """
    if y.size == 0:
        return y, None
    low, high = y.min(), y.max()
    if low >= 0 and high < n_classes and (ignore_index is None or not low <= ignore_index <= high):
        return y, None
    keep = None
    if ignore_index is not None:
        keep = y != ignore_index
        y = xp.where(keep, y, 0)
    bad = (y < 0) | (y >= n_classes)
    if keep is not None:
        bad &= keep
    if bad.any():
        value = int(y[bad][0])
        raise ValueError(
            f"{op}: target class {value} is out of range for {n_classes} classes (valid: 0 to {n_classes - 1})"
        )
    return y, keep


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
    target, t = _target_like(logits, target, ("logits", "target"), op)
    dtype = logits.data.dtype
    x = logits.data
    w = None if weight is None else _broadcast_constant(weight, x.shape, dtype, "weight", "logits'", op)
    pw = None if pos_weight is None else _broadcast_constant(pos_weight, x.shape, dtype, "pos_weight", "logits'", op)

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

    def double(g):  # the same rule on Tensors
        from .activation import sigmoid, softplus
        from .elementwise import cast

        gi = _upstream(g, reduction, x.size)
        if w is not None:
            gi = gi * w
        tt = _as_floating(target, dtype)
        gx = gt = None
        if logits.requires_grad:
            if pw is None:
                gx = (sigmoid(logits) - tt) * gi
            else:
                gx = ((1 - tt) - (1 + (pw - 1) * tt) * sigmoid(-logits)) * gi
        if target.requires_grad:
            local = -logits if pw is None else (pw - 1) * softplus(-logits) - logits
            gt = cast(local * gi, target.dtype)
        return gx, gt

    return result(out, (logits, target), backward, op, double)


# ------------------------------------------------------------- negative log-likelihood
def nll_loss(log_probs, target, weight=None, ignore_index=None, reduction="mean"):
    """Negative log-likelihood of class indices under **log-probabilities** (e.g. the output of ``log_softmax``).

    ``loss_i = -w[y_i]·log_probs[i, y_i]``; "mean" divides by the summed weight of the
    non-ignored targets, as PyTorch does. ``cross_entropy`` is this after ``log_softmax``, fused.

    Parameters
    ----------
    log_probs : Tensor, shape (N, C), (N, C, d1, ...) or (C,)
    target : int array/Tensor of shape (N,), (N, d1, ...) or ()
    weight : array of shape (C,), optional
    ignore_index : int, optional
        Targets equal to it contribute no loss and no gradient.
    """
    op = "nll_loss"
    _check_reduction(reduction, op)
    x = _floating(log_probs, "log_probs", op)
    if x.ndim == 0:
        raise ValueError(f"{op}: log_probs must have a class axis, got a scalar")
    dtype = x.data.dtype
    unbatched = x.ndim == 1
    z = x.data[None] if unbatched else x.data
    n_classes = z.shape[1]
    batch_shape = z.shape[:1] + z.shape[2:]
    tdata = target.data if isinstance(target, Tensor) else xp.asarray(target)
    if tdata.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {tdata.dtype}")
    expected = () if unbatched else batch_shape
    if tdata.shape != expected:
        raise ValueError(f"{op}: target must have shape {expected} for log_probs of shape {x.shape}, got {tdata.shape}")
    w = None
    if weight is not None:
        w = _constant_array(weight, dtype, "weight", op)
        if w.shape != (n_classes,):
            raise ValueError(f"{op}: weight must have shape ({n_classes},) (one per class), got {w.shape}")

    # y indexes the class axis (axis 1); the other axes are taken in order, with open index grids
    y = tdata.astype(xp.intp, copy=False)
    y, keep = _class_targets(y[None] if unbatched else y, ignore_index, n_classes, op)
    grids = xp.ogrid[tuple(slice(0, n) for n in y.shape)]
    index = (grids[0], y, *grids[1:])
    coef = xp.ones(y.shape, dtype) if w is None else w[y]  # the weight of each target
    if keep is not None:
        coef = coef * keep
    denominator = coef.sum() if (w is not None or keep is not None) else y.size

    def evaluate(z):
        per = -coef * z[index]
        if reduction == "none":
            return per[0] if unbatched else per
        return _reduce(per, reduction, denominator)

    out = evaluate(z)

    # d(-w_y·x[y])/dx = -w_y at the target's class, 0 elsewhere
    def backward(g):
        gi = _upstream(g, reduction, denominator)
        if reduction == "none" and unbatched:
            gi = gi[None]
        grad = xp.zeros(z.shape, dtype)
        grad[index] = -coef * gi
        return (grad[0] if unbatched else grad,)

    # linear in x: the rule as a node whose adjoint is the loss itself (linear_maps)
    double = linear_double(backward, lambda h: evaluate(h[None] if unbatched else h), op)
    return result(out, (x,), backward, op, double)


# -------------------------------------------------------- binary cross-entropy on probabilities
def _check_unit_interval(values, what, op, hint=""):
    """A ValueError naming the first value of ``values`` outside [0, 1]."""
    if values.size and (values.min() < 0 or values.max() > 1):
        bad = values[(values < 0) | (values > 1)].reshape(-1)[0]
        raise ValueError(f"{op}: {what} must lie in [0, 1], got a value of {bad.item()!r}{hint}")


def binary_cross_entropy(probs, target, weight=None, reduction="mean"):
    """Binary cross-entropy of **probabilities** in [0, 1] (e.g. a sigmoid's output) against targets in [0, 1].

    ``loss = -w·[t·log p + (1 - t)·log(1 - p)]``, each log clamped at -100 as in PyTorch so that
    p = 0 or 1 gives a finite loss. Prefer ``binary_cross_entropy_with_logits`` on logits: it is
    stable where this one saturates.
    """
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    probs = _floating(probs, "input", op)
    target, t = _target_like(probs, target, ("input", "target"), op)
    dtype = probs.data.dtype
    p = probs.data
    _check_unit_interval(p, "input (probabilities)", op, "; for logits use binary_cross_entropy_with_logits")
    _check_unit_interval(t, "target", op)
    w = None if weight is None else _broadcast_constant(weight, p.shape, dtype, "weight", "input's", op)
    with xp.errstate(divide="ignore"):
        log_p = xp.maximum(xp.log(p), -100)
        log_q = xp.maximum(xp.log1p(-p), -100)
    loss = -(t * log_p + (1 - t) * log_q)
    if w is not None:
        loss = loss * w
    out = _reduce(loss, reduction, p.size)

    # d/dp = (p - t) / (p(1 - p)), the denominator kept >= 1e-12 (as PyTorch);  d/dt = -(log p - log(1 - p))
    def backward(g):
        gi = _upstream(g, reduction, p.size)
        if w is not None:
            gi = gi * w
        gp = (p - t) / xp.maximum(p * (1 - p), 1e-12) * gi if probs.requires_grad else None
        gt = ((log_q - log_p) * gi).astype(target.data.dtype, copy=False) if target.requires_grad else None
        return gp, gt

    def double(g):  # the same rule on Tensors (logs clamped at -100, the denominator at 1e-12, as above)
        from .elementwise import cast, clip, log

        gi = _upstream(g, reduction, p.size)
        if w is not None:
            gi = gi * w
        tt = _as_floating(target, dtype)
        gp = gt = None
        if probs.requires_grad:
            gp = (probs - tt) / clip(probs * (1 - probs), min=1e-12) * gi
        if target.requires_grad:
            with xp.errstate(divide="ignore"):
                gt = cast((clip(log(1 - probs), min=-100.0) - clip(log(probs), min=-100.0)) * gi, target.dtype)
        return gp, gt

    return result(out, (probs, target), backward, op, double)


# ------------------------------------------------------------------ Kullback-Leibler
def kl_div(log_probs, target, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``Σ t·(log t - x)`` of the target from the input's **log-probabilities** ``x``.

    The target holds probabilities (``log_target=False``; where t = 0 the term is 0) or
    log-probabilities (``log_target=True``). ``reduction="batchmean"`` divides the sum by the
    batch size (the mathematically correct KL); "mean" divides by the number of elements, as PyTorch.
    """
    op = "kl_div"
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{op}: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    x = _floating(log_probs, "input", op)
    target = as_tensor(target)
    _same_shape(x, target, ("input", "target"), op)
    t = target.data.astype(x.data.dtype, copy=False)
    if log_target:
        p_t = xp.exp(t)
        loss = p_t * (t - x.data)
    else:
        positive = t > 0
        log_t = xp.log(xp.where(positive, t, 1))
        loss = xp.where(positive, t * log_t, 0) - t * x.data
    count = (x.shape[0] if x.ndim else 1) if reduction == "batchmean" else x.data.size
    out = _reduce(loss, "mean" if reduction == "batchmean" else reduction, count)

    # d/dx = -t (or -e^t);  d/dt = log t + 1 - x (or e^t·(t - x + 1))
    def backward(g):
        gi = _upstream(g, "mean" if reduction == "batchmean" else reduction, count)
        if log_target:
            gx, gt = -p_t * gi, (loss + p_t) * gi
        else:
            gx = -t * gi
            with xp.errstate(divide="ignore"):
                gt = (xp.log(t) + 1 - x.data) * gi if target.requires_grad else None
        return gx, (gt.astype(target.data.dtype, copy=False) if target.requires_grad else None)

    def double(g):  # the same rule on Tensors
        from .elementwise import cast, exp, log, where

        gi = _upstream(g, "mean" if reduction == "batchmean" else reduction, count)
        tt = _as_floating(target, x.dtype)
        gx = gt = None
        if log_target:
            gx = -exp(tt) * gi
            gt = exp(tt) * (tt - x + 1) * gi if target.requires_grad else None
        else:
            gx = -tt * gi
            if target.requires_grad:
                positive = t > 0
                log_t = where(positive, log(where(positive, tt, 1)), -xp.inf)
                gt = (log_t + 1 - x) * gi
        return gx if x.requires_grad else None, (cast(gt, target.dtype) if gt is not None else None)

    return result(out, (x, target), backward, op, double)


# ------------------------------------------------------ elementwise margin and likelihood losses
def _elementwise_loss(inputs, loss, local_grads, reduction, op, count=None, differentiable=None):
    """Record a loss computed elementwise from ``inputs``: ``loss`` is the unreduced array and
    ``local_grads()`` gives d loss/d input for each input (None for one that takes no gradient),
    each broadcastable to ``loss``; the reduction and the summing back to each input's shape follow.

    ``differentiable()`` gives the same local gradients as Tensors computed from ``inputs`` (for
    ``create_graph=True``); ``"piecewise"`` says that they are piecewise constant (masks)."""
    count = loss.size if count is None else count
    out = _reduce(loss, reduction, count)

    def backward(g):
        gi = _upstream(g, reduction, count)
        grads = []
        for tensor, local in zip(inputs, local_grads()):
            if local is None or not tensor.requires_grad:
                grads.append(None)
                continue
            grad = unbroadcast(xp.broadcast_to(local * gi, loss.shape), tensor.shape)
            grads.append(grad.astype(tensor.data.dtype, copy=False))
        return tuple(grads)

    def double(g):  # the same rule on Tensors
        from .elementwise import cast
        from .shape import expand

        gi = _upstream(g, reduction, count)
        if differentiable == "piecewise":
            locals_ = [None if local is None else piecewise_constant(inputs[0], xp.asarray(local, dtype=loss.dtype))
                       for local in local_grads()]
        else:
            locals_ = differentiable()
        grads = []
        for tensor, local in zip(inputs, locals_):
            if local is None or not tensor.requires_grad:
                grads.append(None)
                continue
            grad = local * gi
            if grad.shape != loss.shape:
                grad = expand(grad, loss.shape)
            grads.append(cast(unbroadcast(grad, tensor.shape), tensor.dtype))
        return tuple(grads)

    return result(out, tuple(inputs), backward, op, double if differentiable is not None else None)


def _same_shape(a, b, names, op):
    if a.shape != b.shape:
        raise ValueError(f"{op}: {names[0]} shape {a.shape} and {names[1]} shape {b.shape} must match")


def soft_margin_loss(input, target, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-y·x))`` of scores ``x`` (logits) and labels ``y`` in {-1, 1}."""
    op = "soft_margin_loss"
    _check_reduction(reduction, op)
    x = _floating(input, "input", op)
    y = as_tensor(target)
    _same_shape(x, y, ("input", "target"), op)
    yd = y.data.astype(x.data.dtype, copy=False)
    margin = -yd * x.data
    loss = xp.maximum(margin, 0) + xp.log1p(xp.exp(-xp.abs(margin)))  # softplus(-y·x)

    # d/dx = -y·σ(-y·x);  d/dy = -x·σ(-y·x)
    def local():
        sig = _sigmoid_pair(margin)[0]
        return -yd * sig, -x.data * sig

    def differentiable():
        from .activation import sigmoid

        yt = _as_floating(y, x.dtype)
        sig = sigmoid(-yt * x)
        return -yt * sig, -x * sig

    return _elementwise_loss((x, y), loss, local, reduction, op, differentiable=differentiable)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1`` (``x`` usually a distance)."""
    op = "hinge_embedding_loss"
    _check_reduction(reduction, op)
    x = _floating(input, "input", op)
    yd = target.data if isinstance(target, Tensor) else xp.asarray(target)
    _same_shape(x, yd, ("input", "target"), op)
    margin = float(margin)
    # as PyTorch: the x-term applies where y != -1, the margin term where y != 1
    not_neg, not_pos = yd != -1, yd != 1
    gap = margin - x.data
    loss = xp.where(not_neg, x.data, 0) + xp.where(not_pos, xp.maximum(gap, 0), 0)

    # d/dx = [y != -1] - [y != 1]·[margin - x > 0]
    def local():
        return (not_neg.astype(x.dtype) - (not_pos & (gap > 0)).astype(x.dtype),)

    return _elementwise_loss((x,), loss.astype(x.dtype, copy=False), local, reduction, op, differentiable="piecewise")


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``max(0, -y·(x1 - x2) + margin)``: ``y = 1`` asks for ``x1`` to rank above ``x2``, ``y = -1`` below."""
    op = "margin_ranking_loss"
    _check_reduction(reduction, op)
    x1 = _floating(input1, "input1", op)
    x2 = _floating(input2, "input2", op)
    yd = target.data if isinstance(target, Tensor) else xp.asarray(target)
    _same_shape(x1, x2, ("input1", "input2"), op)
    _same_shape(x1, yd, ("input1", "target"), op)
    yd = yd.astype(x1.data.dtype, copy=False)
    z = -yd * (x1.data - x2.data) + float(margin)
    loss = xp.maximum(z, 0)

    # d/dx1 = -y where z > 0, d/dx2 = y there; at z = 0 the gradient flows (PyTorch's clamp_min keeps z >= 0)
    def local():
        active = (z >= 0).astype(z.dtype)
        return -yd * active, yd * active

    return _elementwise_loss((x1, x2), loss, local, reduction, op, differentiable="piecewise")


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """Multi-label logistic loss of **logits** (N, C) against 0/1 targets (N, C), averaged over the classes.

    ``loss_n = -1/C·Σ_c w_c·[t log σ(x) + (1 - t) log σ(-x)]``.
    """
    op = "multilabel_soft_margin_loss"
    _check_reduction(reduction, op)
    x = _floating(input, "input", op)
    tdata = target.data if isinstance(target, Tensor) else xp.asarray(target)
    _same_shape(x, tdata, ("input", "target"), op)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis, got a scalar")
    t = tdata.astype(x.data.dtype, copy=False)
    n_classes = x.shape[-1]
    w = None if weight is None else _constant_array(weight, x.data.dtype, "weight", op)
    # t·softplus(-x) + (1 - t)·softplus(x) = softplus(-x) + (1 - t)·x
    sp_neg = xp.maximum(-x.data, 0) + xp.log1p(xp.exp(-xp.abs(x.data)))
    elementwise = sp_neg + (1 - t) * x.data
    if w is not None:
        elementwise = elementwise * w
    loss = elementwise.sum(axis=-1) / n_classes
    count = loss.size
    out = _reduce(loss, reduction, count)

    # d/dx = w·(σ(x) - t)/C
    def backward(g):
        gi = _upstream(g, reduction, count)
        gi = xp.asarray(gi)[..., None] if reduction == "none" else gi
        grad = (_sigmoid_pair(x.data)[0] - t) * (gi / n_classes)
        return (grad * w if w is not None else grad,)

    def double(g):  # the same rule on Tensors
        from .activation import sigmoid

        gi = _upstream(g, reduction, count)
        gi = reshape(gi, gi.shape + (1,)) if reduction == "none" else gi
        grad = (sigmoid(x) - t) * (gi / n_classes)
        return (grad * w if w is not None else grad,)

    return result(out, (x,), backward, op, double)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """Poisson negative log-likelihood: ``exp(x) - t·x`` (``log_input``) or ``x - t·log(x + eps)``.

    ``full=True`` adds Stirling's approximation of ``log(t!)``, ``t·log t - t + ½log(2πt)``, where t > 1.
    """
    op = "poisson_nll_loss"
    _check_reduction(reduction, op)
    x = _floating(input, "input", op)
    target = as_tensor(target)
    _same_shape(x, target, ("input", "target"), op)
    t = target.data.astype(x.data.dtype, copy=False)
    if log_input:
        e = xp.exp(x.data)
        loss = e - t * x.data
    else:
        log_x = xp.log(x.data + eps)
        loss = x.data - t * log_x
    if full:
        big = t > 1
        safe = xp.where(big, t, 1)
        loss = loss + xp.where(big, safe * xp.log(safe) - safe + 0.5 * xp.log(2 * xp.pi * safe), 0)

    # d/dx = e^x - t (or 1 - t/(x + eps));  d/dt = -x (or -log(x + eps)), plus log t + 1/(2t) where full and t > 1
    def local():
        gx = e - t if log_input else 1 - t / (x.data + eps)
        gt = -x.data if log_input else -log_x
        if full:
            gt = gt + xp.where(big, xp.log(safe) + 0.5 / safe, 0)
        return gx, gt

    def differentiable():
        from .elementwise import exp, log, where

        tt = _as_floating(target, x.dtype)
        gx = exp(x) - tt if log_input else 1 - tt / (x + eps)
        gt = -x if log_input else -log(x + eps)
        if full:
            safe_t = where(big, tt, 1)
            gt = gt + where(big, log(safe_t) + 0.5 / safe_t, 0)
        return gx, gt

    return _elementwise_loss((x, target), loss, local, reduction, op, differentiable=differentiable)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``½(log v + (x - t)²/v)`` of targets under mean ``input``, variance ``var``.

    ``var`` has the input's shape, or one fewer trailing axis of size 1 (one variance per sample),
    or is a number; it is clamped at ``eps`` (the gradient passes through the clamp, as in PyTorch).
    ``full=True`` adds ``½log(2π)``.
    """
    op = "gaussian_nll_loss"
    _check_reduction(reduction, op)
    x = _floating(input, "input", op)
    target = as_tensor(target)
    _same_shape(x, target, ("input", "target"), op)
    var = var if isinstance(var, Tensor) else Tensor(xp.asarray(var, dtype=x.data.dtype))
    if var.shape != x.shape and x.ndim and var.shape == x.shape[:-1]:
        var = reshape(var, var.shape + (1,))  # one variance per sample: PyTorch adds the trailing axis
    ok = var.shape == x.shape or var.data.size == 1
    ok = ok or (var.ndim == x.ndim and var.shape[:-1] == x.shape[:-1] and var.shape[-1] == 1)
    if not ok:
        raise ValueError(f"{op}: var of shape {var.shape} does not fit the input's shape {x.shape}")
    v = var.data.astype(x.data.dtype, copy=False)
    if (v < 0).any():
        raise ValueError(f"{op}: var has negative entries")
    v = xp.maximum(v, eps)
    diff = x.data - target.data.astype(x.data.dtype, copy=False)
    loss = 0.5 * (xp.log(v) + diff * diff / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)  # a Python float: a NumPy float64 would promote float32
    loss = xp.broadcast_to(loss, xp.broadcast_shapes(loss.shape, x.shape))

    # d/dx = (x - t)/v;  d/dt = -(x - t)/v;  d/dv = ½(1/v - (x - t)²/v²)
    def local():
        return diff / v, -diff / v, 0.5 * (1 / v - diff * diff / (v * v))

    def differentiable():
        # v = max(var, eps) with the gradient passed straight through the clamp: var plus a constant
        v_t = _as_floating(var, x.dtype) + constant(v - var.data.astype(x.data.dtype, copy=False))
        d = x - _as_floating(target, x.dtype)
        return d / v_t, -d / v_t, 0.5 * (1 / v_t - d * d / (v_t * v_t))

    return _elementwise_loss((x, target, var), loss, local, reduction, op, differentiable=differentiable)
