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

from ._flat import FlatParams
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_, total_norm
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
    WarmupCosine,
)
from .optimizer import Optimizer, flatten_state_dict, unflatten_state_dict
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "FlatParams",
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
    "WarmupCosine", "ReduceLROnPlateau",
    "clip_grad_norm_", "clip_grad_value_", "total_norm",
    "flatten_state_dict", "unflatten_state_dict",
]
