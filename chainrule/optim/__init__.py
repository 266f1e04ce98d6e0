"""Optimisation: optimizers, learning-rate schedules and gradient clipping.

Optimizers keep all parameters of a group (per dtype) in one contiguous buffer, with each
``param.data`` and ``param.grad`` a view of it, so a step is a few in-place whole-buffer
operations whatever the number of parameters (layout: ``chainrule/optim/_flat.py``).

>>> opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)          # doctest: +SKIP
>>> sched = chainrule.optim.WarmupCosine(opt, warmup_steps=100, total_steps=10_000)  # doctest: +SKIP
>>> for x, y in batches:                                               # doctest: +SKIP
...     loss = loss_fn(model(x), y); loss.backward()
...     opt.clip_grad_norm(1.0); opt.step(); opt.zero_grad(); sched.step()
"""

from . import lr_scheduler
from ._flat import FlatParams
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .clip import clip_grad_norm_, clip_grad_value_, total_norm
from .lbfgs import LBFGS
from .lr_scheduler import (
    ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LambdaLR,
    LinearLR, LRScheduler, MultiplicativeLR, MultiStepLR, OneCycleLR, PolynomialLR, ReduceLROnPlateau, SequentialLR,
    StepLR, WarmupCosine,
)
from .nadam import NAdam
from .optimizer import Optimizer, flatten_state_dict, unflatten_state_dict
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adadelta", "RMSprop", "Adagrad", "LBFGS",
    "FlatParams", "lr_scheduler",
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "WarmupCosine", "CosineAnnealingWarmRestarts",
    "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
    "clip_grad_norm_", "clip_grad_value_", "total_norm",
    "flatten_state_dict", "unflatten_state_dict",
]
