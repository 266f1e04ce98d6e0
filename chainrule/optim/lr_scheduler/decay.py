"""Decaying schedules: a factor per epoch, steps, milestones, warm-up ramps, polynomial and cosine decay."""

import bisect
import math

from .base import LRScheduler, _check_int, _groups, _per_group

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
           "PolynomialLR", "CosineAnnealingLR", "WarmupCosine"]


def _lambdas(optimizer, lr_lambda, where):
    n = len(_groups(optimizer, where))
    lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
    if len(lambdas) != n or not all(callable(f) for f in lambdas):
        raise ValueError(f"{where}: lr_lambda must be a function or a list of {n} functions")
    return lambdas


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``; ``lr_lambda`` is a function or one per group.
    (The functions are not part of ``state_dict()``.)"""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas(optimizer, lr_lambda, "LambdaLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(LRScheduler):
    """Multiply the current learning rate by ``lr_lambda(epoch)`` every epoch after the first."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas(optimizer, lr_lambda, "MultiplicativeLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current()
        return [lr * f(self.last_epoch) for lr, f in zip(self._current(), self.lr_lambdas)]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (``torch.optim.lr_scheduler.StepLR``)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _check_int(step_size, "step_size", "StepLR")
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``
    (a milestone listed twice applies ``gamma`` twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = sorted(int(m) for m in milestones)
        if any(m < 0 for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be >= 0, got {milestones}")
        self.milestones = milestones
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._current()
        return [lr * self.gamma**hits for lr in self._current()]

    def _closed_form_lr(self):
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """``lr = initial_lr * factor`` for the first ``total_iters`` epochs, then ``initial_lr`` (a warm-up)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0.0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR: factor must be between 0 and 1, got {factor!r}")
        self.factor = float(factor)
        self.total_iters = _check_int(total_iters, "total_iters", "ConstantLR", minimum=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current()]
        if self.last_epoch != self.total_iters:
            return self._current()
        return [lr * (1.0 / self.factor) for lr in self._current()]

    def _closed_form_lr(self):
        done = self.last_epoch >= self.total_iters
        return [base * (self.factor + done * (1 - self.factor)) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """The learning rate's factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0.0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = _check_int(total_iters, "total_iters", "LinearLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        # ratio of consecutive factors: f_t / f_{t-1}, with f_t = start + (end - start) * t / total
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return [lr * ratio for lr in self._current()]

    def _closed_form_lr(self):
        t = min(self.total_iters, self.last_epoch)
        factor = self.start_factor + (self.end_factor - self.start_factor) * t / self.total_iters
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``lr = initial_lr * (1 - t / total_iters) ** power`` for ``t <= total_iters``, computed recursively."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _check_int(total_iters, "total_iters", "PolynomialLR")
        self.power = float(power)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T = self.last_epoch, self.total_iters
        if self._is_initial or t > T:
            return self._current()
        factor = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * factor for lr in self._current()]

    def _closed_form_lr(self):
        t = min(self.total_iters, self.last_epoch)
        return [base * (1.0 - t / self.total_iters) ** self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr to ``eta_min`` over ``T_max`` epochs, then back up
    (period ``2 * T_max``), as ``torch.optim.lr_scheduler.CosineAnnealingLR``:
    ``lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``,
    computed recursively from the current lr as PyTorch does."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _check_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and t > 0:  # stepped straight after a resumed construction
            return self._closed_form_lr()
        if (t - 1 - T) % (2 * T) == 0:  # at the bottom: the ratio below would divide by zero
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, lr in zip(self.base_lrs, self._current())
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current()]

    def _closed_form_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class WarmupCosine(LRScheduler):
    r"""Linear warm-up, then cosine decay to ``min_lr``: the usual schedule for per-batch stepping.

    With ``t = last_epoch`` (the number of ``step()`` calls so far, i.e. the index of the next
    optimizer step) and ``W = warmup_steps``, ``T = total_steps``::

        lr_t = base_lr * (t + 1) / W                                          for t < W
        lr_t = min_lr + (base_lr - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2   for W <= t <= T
        lr_t = min_lr                                                         for t > T

    The first optimizer step uses ``base_lr / W`` (not 0), the peak is reached at ``t = W - 1``.
    ``min_lr`` may be one value per group. Computed in closed form from ``base_lrs``.
    (chainrule's own; PyTorch composes the same from ``LinearLR`` + ``CosineAnnealingLR`` in a ``SequentialLR``.)
    """

    def __init__(self, optimizer, warmup_steps, total_steps, min_lr=0.0, last_epoch=-1):
        _check_int(warmup_steps, "warmup_steps", "WarmupCosine", minimum=0)
        _check_int(total_steps, "total_steps", "WarmupCosine", minimum=0)
        if total_steps < warmup_steps:
            raise ValueError(
                f"WarmupCosine: total_steps ({total_steps}) must be >= warmup_steps ({warmup_steps})"
            )
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lrs = _per_group(min_lr, len(_groups(optimizer, "WarmupCosine")), "min_lr", "WarmupCosine")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, W, T = self.last_epoch, self.warmup_steps, self.total_steps
        if t < W:
            return [base * (t + 1) / W for base in self.base_lrs]
        progress = min(1.0, (t - W) / max(1, T - W))
        factor = (1 + math.cos(math.pi * progress)) / 2
        return [low + (base - low) * factor for base, low in zip(self.base_lrs, self.min_lrs)]

    _closed_form_lr = get_lr
