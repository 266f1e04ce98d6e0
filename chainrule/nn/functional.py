"""``torch.nn.functional`` for chainrule: the same names, the same signatures, on chainrule Tensors.

``import chainrule.nn.functional as F`` and call ``F.cross_entropy(logits, target)``,
``F.relu(x)``, ``F.pad(x, (1, 1))`` as in PyTorch. Each function is a thin wrapper over an op in
``chainrule.ops`` (where the forward and backward live); the wrappers translate PyTorch's
argument conventions:

- ``dim=`` for the axis; losses take ``reduction`` and, for old code, the deprecated
  ``size_average``/``reduce`` pair, mapped to a reduction as PyTorch does;
- ``inplace=`` is accepted but nothing is overwritten: a new tensor is returned;
- ``ignore_index=-100`` is PyTorch's default for class-index targets;
- ``pad`` takes PyTorch's widths, last axis first (``chainrule.pad`` is NumPy's ``np.pad``).

Arguments PyTorch has but chainrule does not implement (``ceil_mode``, ``max_norm``, ...) raise a
``ValueError`` when given a non-default value rather than being ignored.
"""

import warnings

from ..backend import xp
from ..ops import activation as _act
from ..ops import conv as _conv
from ..ops import conv_nd as _conv_nd
from ..ops import ctc as _ctc
from ..ops import distance as _distance
from ..ops import loss as _loss
from ..ops import padding as _padding
from ..ops.loss import legacy_reduction as _legacy_reduction
from ..ops import pooling as _pooling
from ..ops import resample as _resample
from ..ops.dropout import dropout as _dropout
from ..ops.elementwise import cast as _cast
from ..ops.elementwise import mul as _mul
from ..ops.linalg import linear as _linear
from ..ops.reduce import mean as _mean
from ..ops.reduce import sum as _sum
from ..tensor import Tensor, as_tensor
from .functional_norm import (  # noqa: F401  (re-exported: torch.nn.functional's names)
    batch_norm, bilinear, embedding, embedding_bag, group_norm, instance_norm, layer_norm, local_response_norm,
    rms_norm,
)

__all__ = [
    # activations
    "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "leaky_relu", "prelu", "hardtanh",
    "hardswish", "hardsigmoid", "softplus", "softsign", "logsigmoid", "tanhshrink", "softshrink", "hardshrink",
    "threshold", "glu", "sigmoid", "tanh", "softmax", "log_softmax", "softmin",
    # losses
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
    "triplet_margin_loss", "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss",
    # layers
    "linear", "dropout", "dropout2d", "embedding", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    # normalization, bilinear and embeddings (chainrule/nn/functional_norm.py)
    "batch_norm", "instance_norm", "layer_norm", "rms_norm", "group_norm", "local_response_norm", "bilinear",
    "embedding_bag",
    # resampling
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
    "unfold", "fold",
    # tensors and distances
    "pad", "normalize", "cosine_similarity", "pairwise_distance", "one_hot",
]


def _unsupported(op, **given):
    """Reject a PyTorch argument chainrule does not implement, when it is not at its default."""
    for name, (value, default) in given.items():
        if value != default:
            raise ValueError(f"{op}: {name}={value!r} is not supported by chainrule (only {name}={default!r})")


# ------------------------------------------------------------------------- activations
def relu(input, inplace=False):
    """max(0, x)."""
    return _act.relu(input)


def relu6(input, inplace=False):
    """min(max(0, x), 6)."""
    return _act.relu6(input)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha·(e^x - 1) otherwise."""
    return _act.elu(input, alpha)


def selu(input, inplace=False):
    """scale·elu(x, alpha), the self-normalising constants."""
    return _act.selu(input)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha·(e^(x/alpha) - 1))."""
    return _act.celu(input, alpha)


def gelu(input, approximate="none"):
    """x·Φ(x), or its tanh approximation."""
    return _act.gelu(input, approximate)


def silu(input, inplace=False):
    """x·σ(x)."""
    return _act.silu(input)


def mish(input, inplace=False):
    """x·tanh(softplus(x))."""
    return _act.mish(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope·x otherwise."""
    return _act.leaky_relu(input, negative_slope)


def prelu(input, weight):
    """x for x > 0, weight·x otherwise; weight has one slope or one per channel (axis 1)."""
    return _act.prelu(input, weight)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]."""
    return _act.hardtanh(input, min_val, max_val)


def hardswish(input, inplace=False):
    """x·relu6(x + 3)/6."""
    return _act.hardswish(input)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3)/6."""
    return _act.hardsigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta·x))/beta, linear where beta·x > threshold."""
    return _act.softplus(input, beta, threshold)


def softsign(input):
    """x / (1 + |x|)."""
    return _act.softsign(input)


def logsigmoid(input):
    """log σ(x)."""
    return _act.logsigmoid(input)


def tanhshrink(input):
    """x - tanh(x)."""
    return _act.tanhshrink(input)


def softshrink(input, lambd=0.5):
    """x ∓ lambd outside [-lambd, lambd], 0 inside."""
    return _act.softshrink(input, lambd)


def hardshrink(input, lambd=0.5):
    """x outside [-lambd, lambd], 0 inside."""
    return _act.hardshrink(input, lambd)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _act.threshold(input, threshold, value)


def glu(input, dim=-1):
    """a·σ(b) for the halves a, b of the input along ``dim``."""
    return _act.glu(input, dim)


def sigmoid(input):
    """1 / (1 + e^-x)."""
    return _act.sigmoid(input)


def tanh(input):
    """tanh(x)."""
    return _act.tanh(input)


def _softmax_family(fn, input, dim, dtype, op):
    x = as_tensor(input)
    if dtype is not None:
        x = _cast(x, dtype)
    if dim is None:
        # PyTorch's deprecated implicit choice, kept so that ported code computes the same thing
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(f"{op}: implicit dimension choice is deprecated (as in PyTorch); pass dim=", UserWarning,
                      stacklevel=3)
    if x.ndim == 0:
        from ..ops.shape import reshape

        return reshape(fn(reshape(x, (1,)), 0), ())
    return fn(x, dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^x / Σ e^x along ``dim``; ``dtype`` casts the input first."""
    return _softmax_family(_act.softmax, input, dim, dtype, "softmax")


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    return _softmax_family(_act.log_softmax, input, dim, dtype, "log_softmax")


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    return _softmax_family(_act.softmin, input, dim, dtype, "softmin")


# ------------------------------------------------------------------------------ losses
def _is_index_target(target):
    data = target.data if isinstance(target, Tensor) else xp.asarray(target)
    return data.dtype.kind in "iu"


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of **logits** (N, C, ...) against class indices (N, ...) or probabilities (N, C, ...)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    if not _is_index_target(target):
        ignore_index = None  # PyTorch ignores it for probability targets
    return _loss.cross_entropy(input, target, weight=weight, label_smoothing=label_smoothing, reduction=reduction,
                               ignore_index=ignore_index)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class indices under **log-probabilities** (N, C, ...)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "nll_loss")
    return _loss.nll_loss(input, target, weight=weight, ignore_index=ignore_index, reduction=reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of **probabilities** in [0, 1] (prefer ``binary_cross_entropy_with_logits``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    return _loss.binary_cross_entropy(input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of **logits** (the sigmoid is applied inside, stably)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    return _loss.binary_cross_entropy_with_logits(input, target, weight=weight, pos_weight=pos_weight,
                                                  reduction=reduction)


def _weighted(fn, input, target, weight, reduction, op, weighted_mean=True, **kwargs):
    """An elementwise loss with per-element weights (input-shaped): the unreduced loss times ``weight``, then
    summed, or for "mean" divided by the total weight (``weighted_mean``, PyTorch's mse/l1) or by the number
    of elements (PyTorch's huber_loss)."""
    if weight is None:
        return fn(input, target, reduction=reduction, **kwargs)
    x = as_tensor(input)
    w = weight.data if isinstance(weight, Tensor) else xp.asarray(weight)
    if w.shape != x.shape:
        raise ValueError(f"{op}: weight must have the input's shape {x.shape}, got {w.shape}")
    w = w.astype(x.data.dtype, copy=False)
    loss = _mul(fn(x, target, reduction="none", **kwargs), Tensor(w))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _sum(loss)
    return _sum(loss) / Tensor(w.sum()) if weighted_mean else _mean(loss)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error; ``weight`` rescales each element's loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "mse_loss")
    return _weighted(_loss.mse_loss, input, target, weight, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error; ``weight`` rescales each element's loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "l1_loss")
    return _weighted(_loss.l1_loss, input, target, weight, reduction, "l1_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """½d²/beta where |d| < beta, else |d| - ½beta."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    return _loss.smooth_l1_loss(input, target, beta=beta, reduction=reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """½d² where |d| < delta, else delta·(|d| - ½delta); ``weight`` rescales each element's loss."""
    return _weighted(_loss.huber_loss, input, target, weight, reduction, "huber_loss", weighted_mean=False,
                     delta=delta)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence of the target from the input's **log-probabilities** (use reduction='batchmean')."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "kl_div")
    return _loss.kl_div(input, target, reduction=reduction, log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    return _distance.cosine_embedding_loss(input1, input2, target, margin=margin, reduction=reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y·(x1 - x2) + margin)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    return _loss.margin_ranking_loss(input1, input2, target, margin=margin, reduction=reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n))."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    return _distance.triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                                         reduction=reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x for y = 1, max(0, margin - x) for y = -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    return _loss.hinge_embedding_loss(input, target, margin=margin, reduction=reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y·x)) of logits x and labels y in {-1, 1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "soft_margin_loss")
    return _loss.soft_margin_loss(input, target, reduction=reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label logistic loss of logits (N, C), averaged over the classes."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    return _loss.multilabel_soft_margin_loss(input, target, weight=weight, reduction=reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    return _loss.poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps, reduction=reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood with predicted variance ``var``."""
    return _loss.gaussian_nll_loss(input, target, var, full=full, eps=eps, reduction=reduction)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """CTC loss of **log-probabilities** (T, N, C) against label sequences (see ``chainrule.ops.ctc``)."""
    return _ctc.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank, reduction=reduction,
                         zero_infinity=zero_infinity)


# ------------------------------------------------------------------------------ layers
def linear(input, weight, bias=None):
    """x Wᵀ + b, W of shape (out_features, in_features)."""
    return _linear(input, weight, bias)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1 - p), when ``training``."""
    return _dropout(input, p, training)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input with probability p, when ``training``."""
    return _conv.dropout2d(input, p, training)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of an (N, C, L) batch with weight (C_out, C_in/groups, k)."""
    return _conv_nd.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of an (N, C, H, W) batch with weight (C_out, C_in/groups, kh, kw)."""
    return _conv.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of an (N, C, D, H, W) batch with weight (C_out, C_in/groups, kd, kh, kw)."""
    return _conv_nd.conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution, weight (C_in, C_out/groups, k)."""
    return _conv_nd.conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, weight (C_in, C_out/groups, kh, kw)."""
    return _conv.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution, weight (C_in, C_out/groups, kd, kh, kw)."""
    return _conv_nd.conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over windows of an (N, C, L) batch; ``(values, indices)`` with ``return_indices``."""
    return _pooling.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over kernel_size windows of an (N, C, H, W) batch; ``(values, indices)`` with ``return_indices``."""
    return _pooling.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over windows of an (N, C, D, H, W) batch; ``(values, indices)`` with ``return_indices``."""
    return _pooling.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of an (N, C, L) batch."""
    return _pooling.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel_size windows of an (N, C, H, W) batch."""
    return _pooling.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over windows of an (N, C, D, H, W) batch."""
    return _pooling.avg_pool3d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The values of a max_pool1d back at the positions its indices name, zeros elsewhere."""
    return _pooling.max_unpool1d(input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The values of a max_pool2d back at the positions its indices name, zeros elsewhere."""
    return _pooling.max_unpool2d(input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The values of a max_pool3d back at the positions its indices name, zeros elsewhere."""
    return _pooling.max_unpool3d(input, indices, kernel_size, stride, padding, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of an (N, C, L) batch to a fixed output_size."""
    return _pooling.adaptive_max_pool1d(input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of an (N, C, H, W) batch to a fixed output_size."""
    return _pooling.adaptive_max_pool2d(input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of an (N, C, D, H, W) batch to a fixed output_size."""
    return _pooling.adaptive_max_pool3d(input, output_size, return_indices)


def adaptive_avg_pool1d(input, output_size):
    """Mean pooling of an (N, C, L) batch to a fixed output_size."""
    return _pooling.adaptive_avg_pool1d(input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean pooling of an (N, C, H, W) batch to a fixed output_size."""
    return _pooling.adaptive_avg_pool2d(input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Mean pooling of an (N, C, D, H, W) batch to a fixed output_size."""
    return _pooling.adaptive_avg_pool3d(input, output_size)


# ------------------------------------------------------------------ resampling
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize (N, C, *spatial) maps: nearest, nearest-exact, linear, bilinear, bicubic, trilinear or area."""
    return _resample.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's deprecated name for :func:`interpolate`."""
    return _resample.interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """PyTorch's deprecated ``interpolate(mode="nearest")``."""
    return _resample.interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """PyTorch's deprecated ``interpolate(mode="bilinear", align_corners=True)``."""
    return _resample.interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def pixel_shuffle(input, upscale_factor):
    """(N, C·r², H, W) -> (N, C, H·r, W·r)."""
    return _resample.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """(N, C, H·r, W·r) -> (N, C·r², H, W)."""
    return _resample.pixel_unshuffle(input, downscale_factor)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an (N, C, H, W) batch as columns (N, C·kh·kw, L)."""
    return _resample.unfold(input, kernel_size, dilation, padding, stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C·kh·kw, L) summed back into (N, C, H, W) images (the adjoint of unfold)."""
    return _resample.fold(input, output_size, kernel_size, dilation, padding, stride)


# ------------------------------------------------------------------ tensors and distances
def pad(input, pad, mode="constant", value=None):
    """Pad with PyTorch's widths, last axis first: ``(left, right, top, bottom, ...)``; modes
    "constant" (``value``, default 0), "reflect", "replicate", "circular"."""
    return _padding.pad_last(input, pad, mode, value)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖_p, eps) along ``dim``."""
    _unsupported("normalize", out=(out, None))
    return _distance.normalize(input, p, dim, eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim``."""
    return _distance.cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 - x2 + eps‖_p along the last axis."""
    return _distance.pairwise_distance(x1, x2, p, eps, keepdim)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of integer class ids: shape ``tensor.shape + (num_classes,)`` (-1: max + 1)."""
    from ..ops.gather import one_hot as _one_hot

    return _one_hot(tensor, num_classes)
