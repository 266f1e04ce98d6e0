"""``LRScheduler``: the base class of the learning-rate schedules (PyTorch's protocol)."""

import warnings

__all__ = ["LRScheduler"]


def _groups(optimizer, where):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(
            f"{where}: expected an optimizer with a param_groups list of dicts with 'lr', got {type(optimizer).__name__}"
        )
    return groups


def _per_group(value, n, name, where):
    """``value`` as one float per parameter group (a scalar is repeated)."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{where}: expected {n} values of {name} (one per parameter group), got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * n


class LRScheduler:
    """Base class: ``get_lr()`` gives the learning rates for the current ``last_epoch``.

    Parameters
    ----------
    optimizer : Optimizer (anything with ``param_groups``)
    last_epoch : int
        -1 for a new schedule; the index of the last epoch to resume one (then every group needs the
        ``initial_lr`` that the original schedule stored, as in PyTorch).

    Attributes
    ----------
    last_epoch : int
        Number of ``step()`` calls since construction (0 right after it, for a new schedule).
    base_lrs : list of float
        Each group's ``initial_lr`` (its ``lr`` when the first scheduler was attached).
    """

    needs_metric = False
    _is_initial = False  # True during the step the constructor takes

    def __init__(self, optimizer, last_epoch=-1):
        where = type(self).__name__
        groups = _groups(optimizer, where)
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{where}: param 'initial_lr' is not specified in param_groups[{i}] when "
                                   f"resuming a schedule at last_epoch={last_epoch}")
        self.optimizer = optimizer
        self.base_lrs = [float(group["initial_lr"]) for group in groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The constructor's step: recursive schedules keep the current lr in it (so that a schedule
        resumed with ``last_epoch`` does not apply one decay too many), as in PyTorch."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """Learning rate of each group at ``last_epoch`` (recursive schedules read the current lr)."""
        raise NotImplementedError

    def step(self, epoch=None):
        """Advance one epoch (or batch) and set each group's ``lr``.

        ``epoch`` (deprecated in PyTorch, kept for its semantics) jumps to that epoch, using the
        schedule's closed form where it has one.
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("The epoch parameter in scheduler.step() is deprecated (as in PyTorch); call step() "
                          "once per epoch instead", UserWarning, stacklevel=2)
            self.last_epoch = epoch
            values = self._closed_form_lr() if hasattr(self, "_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
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
            if key not in ("optimizer", "lr_lambdas", "_schedulers", "scale_fn") and not callable(value)
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


def _check_int(value, name, where, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}")
    return value
