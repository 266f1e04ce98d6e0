"""Schedules made of schedules: one after another (``SequentialLR``) or all at once (``ChainedScheduler``)."""

import bisect

from .base import LRScheduler, _groups

__all__ = ["SequentialLR", "ChainedScheduler"]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its epoch 0), ...

    E.g. a linear warm-up then cosine decay:
    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, T_max=95)], milestones=[5])``.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        groups = _groups(optimizer, "SequentialLR")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("SequentialLR expects at least one scheduler")
        for i, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} belongs to another optimizer than the one given")
            if getattr(scheduler, "needs_metric", False):
                raise ValueError(f"SequentialLR does not support ReduceLROnPlateau (scheduler {i})")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = [int(m) for m in milestones]
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # undo the steps the schedulers took when they were built; only the first one starts now
        for group in groups:
            group["lr"] = group["initial_lr"]
        _undo_initial_steps(self)
        first = schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self, epoch=None):
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            _restart(scheduler)  # the next schedule begins at its own epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        super().load_state_dict(state)
        for scheduler, saved in zip(self._schedulers, inner):
            scheduler.load_state_dict(saved)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


def _undo_initial_steps(scheduler):
    """Take back the step every (nested) scheduler took when it was built."""
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_initial_steps(inner)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


def _restart(scheduler):
    """Jump to epoch 0, by the closed form where there is one (PyTorch's ``_update_lr(0)``)."""
    scheduler.last_epoch = 0
    values = scheduler._closed_form_lr() if hasattr(scheduler, "_closed_form_lr") else scheduler.get_lr()
    for group, lr in zip(scheduler.optimizer.param_groups, values):
        group["lr"] = lr
    scheduler._last_lr = [group["lr"] for group in scheduler.optimizer.param_groups]


class ChainedScheduler(LRScheduler):
    """Step every scheduler of the list at each ``step()``: their (recursive) effects multiply."""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler: scheduler {i} belongs to another optimizer")
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self, epoch=None):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict
