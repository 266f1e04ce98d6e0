"""Loss modules: thin layers over ``chainrule.ops.loss``, called as ``loss_fn(prediction, target)``.

Classification losses take logits, not probabilities (no Softmax/Sigmoid layer before them).
"""

import numbers

from ..backend import xp
from ..ops import loss as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "BCEWithLogitsLoss"]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def get_config(self):
        return {"reduction": self.reduction}

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"

    def _optional_buffer(self, name, values):
        """Register a constant array argument (class weights) as a buffer, so ``to(dtype)`` converts it."""
        array = None if values is None else xp.asarray(getattr(values, "data", values), dtype=xp.float32)
        self.register_buffer(name, array)

    @staticmethod
    def _listed(array):
        return None if array is None else array.tolist()


class MSELoss(_Loss):
    """Mean squared error (prediction - target)²."""

    def forward(self, prediction, target):
        return F.mse_loss(prediction, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |prediction - target|."""

    def forward(self, prediction, target):
        return F.l1_loss(prediction, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error below ``delta``, linear above it (robust to outliers)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not isinstance(delta, numbers.Real) or delta <= 0:
            raise ValueError(f"HuberLoss: delta must be a positive number, got {delta!r}")
        self.delta = float(delta)

    def forward(self, prediction, target):
        return F.huber_loss(prediction, target, delta=self.delta, reduction=self.reduction)

    def get_config(self):
        return {"reduction": self.reduction, "delta": self.delta}

    def extra_repr(self):
        return ", ".join(filter(None, [super().extra_repr(), f"delta={self.delta}"]))


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,) or class probabilities (N, C).

    ``weight`` (C,) weighs the classes; ``label_smoothing`` mixes the target with the uniform
    distribution; targets equal to ``ignore_index`` are skipped.
    """

    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=None):
        super().__init__(reduction)
        self._optional_buffer("weight", weight)
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = ignore_index

    def forward(self, logits, target):
        return F.cross_entropy(
            logits, target, weight=self.weight, label_smoothing=self.label_smoothing,
            reduction=self.reduction, ignore_index=self.ignore_index,
        )

    def get_config(self):
        return {
            "weight": self._listed(self.weight),
            "reduction": self.reduction,
            "label_smoothing": self.label_smoothing,
            "ignore_index": self.ignore_index,
        }

    def extra_repr(self):
        parts = [super().extra_repr()]
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        if self.ignore_index is not None:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(filter(None, parts))


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits against targets in [0, 1] (the sigmoid is applied inside).

    ``weight`` rescales each element; ``pos_weight`` (one per class, last axis) weighs positives.
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self._optional_buffer("weight", weight)
        self._optional_buffer("pos_weight", pos_weight)

    def forward(self, logits, target):
        return F.binary_cross_entropy_with_logits(
            logits, target, weight=self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )

    def get_config(self):
        return {
            "weight": self._listed(self.weight),
            "reduction": self.reduction,
            "pos_weight": self._listed(self.pos_weight),
        }
