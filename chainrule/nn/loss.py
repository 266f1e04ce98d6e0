"""Loss modules: thin layers over ``chainrule.nn.functional``, called as ``loss_fn(prediction, target)``.

Constructors take PyTorch's arguments (the deprecated ``size_average``/``reduce`` included, mapped to
``reduction``). ``CrossEntropyLoss``, ``BCEWithLogitsLoss``, ``SoftMarginLoss`` and
``MultiLabelSoftMarginLoss`` take **logits** (no Softmax/Sigmoid layer before them), as PyTorch's do;
``NLLLoss``, ``KLDivLoss`` and ``CTCLoss`` take log-probabilities and ``BCELoss`` probabilities.

Class weights (``weight``, ``pos_weight``) are buffers: ``to(dtype)`` converts them, a floating array
keeps its dtype (float64 weights stay exact), a list becomes float32, and each call casts them to the
input's dtype.
"""

import inspect
import numbers

from ..backend import xp
from ..ops.loss import legacy_reduction
from . import functional as F
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "KLDivLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "HingeEmbeddingLoss",
    "SoftMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """A loss module: ``_fn`` (a function of ``chainrule.nn.functional``) called with the inputs and the
    attributes named in ``_args``; config and repr follow from ``_args`` and the constructor's defaults."""

    _args = ("reduction",)
    _buffers_args = ()  # the _args held as buffers (class weights)
    _reductions = _REDUCTIONS
    _fn = None

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        name = type(self).__name__
        if isinstance(size_average, str):
            raise TypeError(
                f"{name}: got {size_average!r} as size_average, PyTorch's deprecated argument; "
                "pass the reduction by keyword: reduction='mean', 'sum' or 'none'"
            )
        reduction = legacy_reduction(size_average, reduce, reduction, name)
        if reduction not in self._reductions:
            expected = ", ".join(map(repr, self._reductions))
            raise ValueError(f"{name}: reduction must be one of {expected}, got {reduction!r}")
        self.reduction = reduction

    def _optional_buffer(self, name, values):
        """Register a constant array argument (class weights) as a buffer, so ``to(dtype)`` converts it."""
        array = None
        if values is not None:
            given_dtype = getattr(values, "dtype", None)  # an array's or Tensor's; lists have none
            array = xp.asarray(values.data if hasattr(values, "requires_grad") else values)
            if given_dtype is None or array.dtype.kind != "f":
                array = array.astype(xp.float32)
        self.register_buffer(name, array)

    def _settings(self):
        return {name: getattr(self, name) for name in self._args}

    def forward(self, *inputs):
        return type(self)._fn(*inputs, **self._settings())

    def get_config(self):
        config = self._settings()
        for name in self._buffers_args:
            config[name] = None if config[name] is None else config[name].tolist()
        return config

    def extra_repr(self):
        defaults = inspect.signature(type(self).__init__).parameters
        shown = []
        for name in self._args:
            if name in self._buffers_args:
                continue
            value = getattr(self, name)
            if name in defaults and value != defaults[name].default:
                shown.append(f"{name}={value!r}")
        return ", ".join(shown)


def _number(value, name, layer, positive=False):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or (positive and value <= 0):
        raise ValueError(f"{layer}: {name} must be a {'positive ' if positive else ''}number, got {value!r}")
    return float(value)


class MSELoss(_Loss):
    """Mean squared error (prediction - target)²."""

    _fn = F.mse_loss


class L1Loss(_Loss):
    """Mean absolute error |prediction - target|."""

    _fn = F.l1_loss


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y·x)) of logits x and labels y in {-1, 1}."""

    _fn = F.soft_margin_loss


class HuberLoss(_Loss):
    """Squared error below ``delta``, linear above it (robust to outliers)."""

    _args = ("reduction", "delta")
    _fn = F.huber_loss

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = _number(delta, "delta", "HuberLoss", positive=True)


class SmoothL1Loss(_Loss):
    """Huber loss divided by ``beta``: ½d²/beta below beta, |d| - ½beta above (L1 for beta = 0)."""

    _args = ("reduction", "beta")
    _fn = F.smooth_l1_loss

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = _number(beta, "beta", "SmoothL1Loss")
        if self.beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta!r}")


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of **logits** (N, C, ...) against class indices (N, ...) or probabilities (N, C, ...).

    ``weight`` (C,) weighs the classes; ``label_smoothing`` mixes the target with the uniform
    distribution; class-index targets equal to ``ignore_index`` are skipped.
    """

    _args = ("weight", "ignore_index", "reduction", "label_smoothing")
    _buffers_args = ("weight",)
    _fn = F.cross_entropy

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction)
        self._optional_buffer("weight", weight)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.label_smoothing = _number(label_smoothing, "label_smoothing", "CrossEntropyLoss")
        if not 0 <= self.label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under **log-probabilities** (N, C, ...)."""

    _args = ("weight", "ignore_index", "reduction")
    _buffers_args = ("weight",)
    _fn = F.nll_loss

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self._optional_buffer("weight", weight)
        self.ignore_index = None if ignore_index is None else int(ignore_index)


class BCELoss(_Loss):
    """Binary cross-entropy of **probabilities** in [0, 1] (prefer ``BCEWithLogitsLoss`` on logits)."""

    _args = ("weight", "reduction")
    _buffers_args = ("weight",)
    _fn = F.binary_cross_entropy

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self._optional_buffer("weight", weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of **logits** against targets in [0, 1] (the sigmoid is applied inside).

    ``weight`` rescales each element; ``pos_weight`` (one per class, last axis) weighs positives.
    """

    _args = ("weight", "reduction", "pos_weight")
    _buffers_args = ("weight", "pos_weight")
    _fn = F.binary_cross_entropy_with_logits

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self._optional_buffer("weight", weight)
        self._optional_buffer("pos_weight", pos_weight)


class MultiLabelSoftMarginLoss(BCELoss):
    """Multi-label logistic loss of **logits** (N, C) against 0/1 targets, averaged over the classes."""

    _fn = F.multilabel_soft_margin_loss


class KLDivLoss(_Loss):
    """KL divergence of the target from the input's **log-probabilities**; ``reduction="batchmean"`` is the true KL."""

    _args = ("reduction", "log_target")
    _reductions = _REDUCTIONS + ("batchmean",)
    _fn = F.kl_div

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = bool(log_target)


class _MarginLoss(_Loss):
    _args = ("margin", "reduction")

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _number(margin, "margin", type(self).__name__)


class CosineEmbeddingLoss(_MarginLoss):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1; called as ``loss(x1, x2, y)``."""

    _fn = F.cosine_embedding_loss


class MarginRankingLoss(_MarginLoss):
    """max(0, -y·(x1 - x2) + margin); called as ``loss(x1, x2, y)``."""

    _fn = F.margin_ranking_loss


class HingeEmbeddingLoss(_MarginLoss):
    """x for y = 1, max(0, margin - x) for y = -1."""

    _fn = F.hinge_embedding_loss

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)


class TripletMarginLoss(_Loss):
    """max(0, margin + d(a, p) - d(a, n)), d the p-norm distance; called as ``loss(anchor, positive, negative)``."""

    _args = ("margin", "p", "eps", "swap", "reduction")
    _fn = F.triplet_margin_loss

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _number(margin, "margin", "TripletMarginLoss")
        self.p = _number(p, "p", "TripletMarginLoss", positive=True)
        self.eps = _number(eps, "eps", "TripletMarginLoss")
        self.swap = bool(swap)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of log-rates (``log_input=True``) or rates."""

    _args = ("log_input", "full", "eps", "reduction")
    _fn = F.poisson_nll_loss

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = bool(log_input)
        self.full = bool(full)
        self.eps = _number(eps, "eps", "PoissonNLLLoss")


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood; called as ``loss(mean, target, var)``."""

    _args = ("full", "eps", "reduction")
    _fn = F.gaussian_nll_loss

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full = bool(full)
        self.eps = _number(eps, "eps", "GaussianNLLLoss", positive=True)


class CTCLoss(_Loss):
    """CTC loss; called as ``loss(log_probs (T, N, C), targets, input_lengths, target_lengths)``."""

    _args = ("blank", "reduction", "zero_infinity")
    _fn = F.ctc_loss

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        if not isinstance(blank, numbers.Integral) or isinstance(blank, bool) or blank < 0:
            raise ValueError(f"CTCLoss: blank must be a non-negative int, got {blank!r}")
        self.blank = int(blank)
        self.zero_infinity = bool(zero_infinity)
