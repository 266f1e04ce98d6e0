"""Learning-rate schedules: they set ``group["lr"]`` of an optimizer's parameter groups.

Call ``scheduler.step()`` once per epoch (or per batch, for per-step schedules such as
``WarmupCosine``) *after* ``optimizer.step()``. Construction applies the schedule's first value.
``ReduceLROnPlateau.step(metric)`` takes the monitored value; the others accept and ignore one, so
a training loop can call every scheduler the same way (``scheduler.needs_metric`` tells which).

The decays that PyTorch computes recursively (``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``CosineAnnealingLR``) are computed the same way here, from the current ``group["lr"]``, so they
give the same sequences as ``torch.optim.lr_scheduler`` and compose with manual changes the same way.
Any object with a ``param_groups`` list of dicts works as the optimizer.
"""

import math

__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
    "CosineAnnealingLR", "WarmupCosine", "ReduceLROnPlateau",
]


def _groups(optimizer, where):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(
            f"{where}: expected an optimizer with a param_groups list of dicts with 'lr', got {type(optimizer).__name__}"
        )
    return groups


def _per_group(value, n, name, where):
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{where}: expected {n} values of {name} (one per parameter group), got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * n


class LRScheduler:
    """Base class: ``get_lr()`` gives the learning rates for the current ``last_epoch``.

    Attributes
    ----------
    last_epoch : int
        Number of ``step()`` calls since construction (0 right after it).
    base_lrs : list of float
        Each group's ``initial_lr`` (its ``lr`` when the first scheduler was attached).
    """

    needs_metric = False

    def __init__(self, optimizer):
        where = type(self).__name__
        for group in _groups(optimizer, where):
            group.setdefault("initial_lr", group["lr"])
        self.optimizer = optimizer
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = -1
        self._initial = True  # the constructor's step: recursive schedules keep the current lr
        self.step()
        self._initial = False

    def get_lr(self):
        """Learning rate of each group at ``last_epoch``."""
        raise NotImplementedError

    def step(self, metric=None):
        """Advance one epoch (or batch) and set each group's ``lr``. ``metric`` is ignored here."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates set by the latest ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self):
        """The scheduler's state as plain data (numbers, lists, strings; no functions, no optimizer)."""
        return {
            key: (list(value) if isinstance(value, list) else value)
            for key, value in self.__dict__.items()
            if key != "optimizer" and not callable(value) and key != "lr_lambdas"
        }

    def load_state_dict(self, state_dict):
        """Restore ``state_dict()``'s state and re-apply the learning rates it last set, so that a
        freshly built scheduler resumes exactly where the saved one stopped."""
        self.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()})
        if "_last_lr" in state_dict:
            for group, lr in zip(self.optimizer.param_groups, self._last_lr):
                group["lr"] = lr

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={getattr(self, '_last_lr', None)})"


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``; ``lr_lambda`` is a function or one per group.
    (The functions are not part of ``state_dict()``.)"""

    def __init__(self, optimizer, lr_lambda):
        n = len(_groups(optimizer, "LambdaLR"))
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n or not all(callable(f) for f in lambdas):
            raise ValueError(f"LambdaLR: lr_lambda must be a function or a list of {n} functions")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def get_lr(self):
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (``torch.optim.lr_scheduler.StepLR``)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if not isinstance(step_size, int) or isinstance(step_size, bool) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1, got {step_size!r}")
        self.step_size = step_size
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``
    (a milestone listed twice applies ``gamma`` twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1):
        milestones = sorted(int(m) for m in milestones)
        if any(m < 0 for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be >= 0, got {milestones}")
        self.milestones = milestones
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._current()
        return [lr * self.gamma**hits for lr in self._current()]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma):
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def get_lr(self):
        if self._initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr to ``eta_min`` over ``T_max`` epochs, then back up
    (period ``2 * T_max``), as ``torch.optim.lr_scheduler.CosineAnnealingLR``:
    ``lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``,
    computed recursively from the current lr as PyTorch does."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if not isinstance(T_max, int) or isinstance(T_max, bool) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be an int >= 1, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = float(eta_min)
        super().__init__(optimizer)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._current()
        if (t - 1 - T) % (2 * T) == 0:  # at the bottom: the ratio below would divide by zero
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, lr in zip(self.base_lrs, self._current())
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current()]


class WarmupCosine(LRScheduler):
    r"""Linear warm-up, then cosine decay to ``min_lr``: the usual schedule for per-batch stepping.

    With ``t = last_epoch`` (the number of ``step()`` calls so far, i.e. the index of the next
    optimizer step) and ``W = warmup_steps``, ``T = total_steps``::

        lr_t = base_lr * (t + 1) / W                                          for t < W
        lr_t = min_lr + (base_lr - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2   for W <= t <= T
        lr_t = min_lr                                                         for t > T

    The first optimizer step uses ``base_lr / W`` (not 0), the peak is reached at ``t = W - 1``.
    ``min_lr`` may be one value per group. Computed in closed form from ``base_lrs``.
    """

    def __init__(self, optimizer, warmup_steps, total_steps, min_lr=0.0):
        for name, value in (("warmup_steps", warmup_steps), ("total_steps", total_steps)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"WarmupCosine: {name} must be an int >= 0, got {value!r}")
        if total_steps < warmup_steps:
            raise ValueError(
                f"WarmupCosine: total_steps ({total_steps}) must be >= warmup_steps ({warmup_steps})"
            )
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lrs = _per_group(min_lr, len(_groups(optimizer, "WarmupCosine")), "min_lr", "WarmupCosine")
        super().__init__(optimizer)

    def get_lr(self):
        t, W, T = self.last_epoch, self.warmup_steps, self.total_steps
        if t < W:
            return [base * (t + 1) / W for base in self.base_lrs]
        progress = min(1.0, (t - W) / max(1, T - W))
        factor = (1 + math.cos(math.pi * progress)) / 2
        return [low + (base - low) * factor for base, low in zip(self.base_lrs, self.min_lrs)]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a monitored metric stops improving
    (``torch.optim.lr_scheduler.ReduceLROnPlateau``).

    ``step(metric)`` once per epoch with e.g. the validation loss. After more than ``patience``
    epochs without improvement, ``lr = max(lr * factor, min_lr)`` (changes smaller than ``eps`` are
    skipped), then ``cooldown`` epochs pass before bad epochs count again.

    Parameters
    ----------
    mode : "min" or "max"
        Whether the metric should go down (a loss) or up (an accuracy).
    factor : float
        < 1.
    patience, cooldown : int
    threshold : float
        Improvement needed to count: relative (``best * (1 -/+ threshold)``, ``threshold_mode="rel"``)
        or absolute (``best -/+ threshold``, ``"abs"``).
    min_lr : float or list of float (one per group)
    eps : float
    """

    needs_metric = True

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        groups = _groups(optimizer, "ReduceLROnPlateau")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor!r}")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = float(factor)
        self.patience = int(patience)
        self.threshold = float(threshold)
        self.threshold_mode = threshold_mode
        self.cooldown = int(cooldown)
        self.min_lrs = _per_group(min_lr, len(groups), "min_lr", "ReduceLROnPlateau")
        self.eps = float(eps)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in groups]

    def _is_better(self, value):
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return value < (best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold)
        return value > (best * (threshold + 1.0) if self.threshold_mode == "rel" else best + threshold)

    def step(self, metric=None):
        """Record this epoch's ``metric`` and reduce the learning rates if it has plateaued."""
        if metric is None:
            raise TypeError("ReduceLROnPlateau.step(metric) needs the monitored value, e.g. the validation loss")
        value = float(metric)
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0
