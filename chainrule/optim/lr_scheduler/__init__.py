"""Learning-rate schedules (``cr.optim.lr_scheduler``, as ``torch.optim.lr_scheduler``): they set
``group["lr"]`` of an optimizer's parameter groups.

Call ``scheduler.step()`` once per epoch (or per batch, for per-step schedules such as ``OneCycleLR``,
``CyclicLR`` and ``WarmupCosine``) *after* ``optimizer.step()``. Construction applies the schedule's first
value. ``ReduceLROnPlateau.step(metric)`` takes the monitored value (``scheduler.needs_metric`` tells
which schedulers do).

The decays that PyTorch computes recursively from the current ``group["lr"]`` (``StepLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``LinearLR``, ...) are computed the same way here, so they give the same sequences as
PyTorch and compose with manual changes (and with each other, in ``ChainedScheduler``) the same way.
Any object with a ``param_groups`` list of dicts works as the optimizer.

| module | schedules |
|---|---|
| ``base`` | ``LRScheduler`` |
| ``decay`` | ``LambdaLR``, ``MultiplicativeLR``, ``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``, ``PolynomialLR``, ``CosineAnnealingLR``, ``WarmupCosine`` |
| ``cyclic`` | ``CosineAnnealingWarmRestarts``, ``CyclicLR``, ``OneCycleLR`` |
| ``composite`` | ``SequentialLR``, ``ChainedScheduler`` |
| ``plateau`` | ``ReduceLROnPlateau`` |
"""

from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (
    ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR, PolynomialLR,
    StepLR, WarmupCosine,
)
from .plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "WarmupCosine", "CosineAnnealingWarmRestarts",
    "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
]
