"""``ReduceLROnPlateau``: reduce the learning rate when a monitored metric stops improving."""

import math

from .base import LRScheduler, _groups, _per_group

__all__ = ["ReduceLROnPlateau"]


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
