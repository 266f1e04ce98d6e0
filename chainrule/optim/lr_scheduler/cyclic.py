"""Cyclic schedules: cosine annealing with warm restarts, cyclical learning rates and the one-cycle policy.

``CyclicLR`` and ``OneCycleLR`` are stepped once per *batch*, and by default cycle the momentum (or Adam's
``beta1``) inversely to the learning rate, as PyTorch does.
"""

import math

from .base import LRScheduler, _check_int, _groups, _per_group

__all__ = ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR (Loshchilov & Hutter, 2017): cosine annealing restarted every ``T_i`` epochs, ``T_i`` growing by ``T_mult``.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where ``T_cur`` counts epochs
    since the last restart. ``step(epoch)`` takes fractional epochs (e.g. ``epoch + batch / n_batches``)
    for per-batch annealing, as in PyTorch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _check_int(T_0, "T_0", "CosineAnnealingWarmRestarts")
        self.T_mult = _check_int(T_mult, "T_mult", "CosineAnnealingWarmRestarts")
        self.T_i = T_0
        self.eta_min = float(eta_min)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to ``epoch`` (may be fractional) and place it within its cycle."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur = self.T_cur - self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be non-negative, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # cycles completed: T_0 (1 + m + ... + m^(n-1)) <= epoch
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _momentum_key(optimizer, where):
    """Which hyper-parameter holds the momentum to cycle: ``"betas"`` (Adam's beta1) or ``"momentum"``."""
    defaults = getattr(optimizer, "defaults", None) or optimizer.param_groups[0]
    if "betas" in defaults:
        return "betas"
    if "momentum" in defaults:
        return "momentum"
    raise ValueError(f"{where}: optimizer must support momentum or beta1 with cycle_momentum enabled")


def _set_momentum(group, key, momentum):
    if key == "betas":
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith, 2017): the lr goes from ``base_lr`` up to ``max_lr`` in
    ``step_size_up`` steps and back down in ``step_size_down``; stepped once per batch.

    ``mode``: ``"triangular"`` (constant amplitude), ``"triangular2"`` (amplitude halved every cycle) or
    ``"exp_range"`` (amplitude times ``gamma**iteration``); or a custom ``scale_fn(x)`` with ``scale_mode``
    ``"cycle"`` (x = cycle number) or ``"iterations"``. With ``cycle_momentum`` the momentum (or Adam's
    beta1) moves between ``max_momentum`` and ``base_momentum`` inversely to the lr.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        where = "CyclicLR"
        groups = _groups(optimizer, where)
        n = len(groups)
        base_lrs = _per_group(base_lr, n, "base_lr", where)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group(max_lr, n, "max_lr", where)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        if up <= 0 or down <= 0:
            raise ValueError(f"{where}: step_size_up and step_size_down must be positive, got {up}, {down}")
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"{where}: mode must be 'triangular', 'triangular2' or 'exp_range' (or give scale_fn), "
                             f"got {mode!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"{where}: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode = mode
        self.gamma = float(gamma)
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self._momentum = _momentum_key(optimizer, where)
            self.base_momentums = _per_group(base_momentum, n, "base_momentum", where)
            self.max_momentums = _per_group(max_momentum, n, "max_momentum", where)
            if last_epoch == -1:
                for momentum, group in zip(self.max_momentums, groups):
                    _set_momentum(group, self._momentum, momentum)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _scale(self, x):
        if self.scale_fn is not None:
            return self.scale_fn(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position within the cycle, in [0, 1)
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (peak - base) * scale_factor * scale for base, peak in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self._momentum, high - (high - low) * scale_factor * scale)
        return lrs


class OneCycleLR(LRScheduler):
    r"""The one-cycle policy (Smith & Topin, 2018), stepped once per batch for ``total_steps`` steps.

    The lr rises from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of the steps, then
    anneals to ``initial_lr / final_div_factor`` (``three_phase``: back down to the initial lr first, then
    to the minimum), by cosine or linear ``anneal_strategy``; momentum (or Adam's beta1) cycles inversely
    between ``max_momentum`` and ``base_momentum``. Give ``total_steps``, or ``epochs`` and ``steps_per_epoch``.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        where = "OneCycleLR"
        groups = _groups(optimizer, where)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{where}: give total_steps, or both epochs and steps_per_epoch")
            total_steps = _check_int(epochs, "epochs", where) * _check_int(steps_per_epoch, "steps_per_epoch", where)
        self.total_steps = _check_int(total_steps, "total_steps", where)
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"{where}: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{where}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        up_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._phases = [
                (up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        n = len(groups)
        max_lrs = _per_group(max_lr, n, "max_lr", where)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, groups):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self._momentum = _momentum_key(optimizer, where)
            if last_epoch == -1:
                for high, low, group in zip(_per_group(max_momentum, n, "max_momentum", where),
                                            _per_group(base_momentum, n, "base_momentum", where), groups):
                    _set_momentum(group, self._momentum, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the schedule has total_steps="
                             f"{self.total_steps} (step once per batch, and check epochs * steps_per_epoch)")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr_from, lr_to, m_from, m_to) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self._momentum, self._anneal(group[m_from], group[m_to], pct))
                    break
                start_step = end_step
        return lrs
