"""Callbacks: hooks into the fit loop (Keras's shapes).

A callback overrides any of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)`` and
``on_batch_begin/end(batch, logs)``. ``epoch`` and ``batch`` are 0-based. During ``fit`` each
callback has ``self.trainer`` (the running ``Trainer``), ``self.model`` and ``self.optimizer``, and
``self.params`` (epochs, steps per epoch, ...). Setting ``self.trainer.stop_training = True`` is the
one way to stop: the loop finishes the current batch (and the epoch's validation and
``on_epoch_end``) and returns.

``logs`` at ``on_epoch_end`` hold ``loss``, the metrics, ``val_loss`` and ``val_<metric>`` (with
validation data) and ``lr``; at ``on_batch_end`` they hold the batch's ``loss`` and ``size``.

Callbacks run in increasing ``order`` (ties keep the order given): the ``History`` record first
(-100), the progress display (-50), learning-rate schedules (-10, so the schedule has stepped
before a checkpoint saves its state), user callbacks and loggers (0), checkpoints last (10).
"""

import csv
import inspect
import json
import math
import os
import warnings

from .._atomic import atomic_write, remove_stale_temporaries

__all__ = [
    "Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
    "CSVLogger", "JSONLogger", "LambdaCallback", "resolve_mode",
]

_HIGHER_IS_BETTER = ("acc", "accuracy", "auc", "f1", "precision", "recall", "r2")


def resolve_mode(mode, monitor):
    """``"min"`` or ``"max"``; ``"auto"`` picks ``"max"`` for accuracy-like names, else ``"min"``."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    from ..evaluate.metrics import METRICS  # the registry knows each metric's direction

    greater_is_better = getattr(METRICS.get(name), "greater_is_better", None)
    if greater_is_better is not None:
        return "max" if greater_is_better else "min"
    return "max" if name.lower() in _HIGHER_IS_BETTER or name.lower().endswith("accuracy") else "min"


class Callback:
    """Base class: override the hooks you need (each does nothing by default)."""

    order = 0
    trainer = None
    model = None
    params = None

    def __init__(self):
        self.trainer = None
        self.model = None
        self.params = {}

    def set_trainer(self, trainer):
        """Called by the fit loop before training begins."""
        self.trainer = trainer
        self.model = trainer.model
        self.params = trainer.params

    @property
    def optimizer(self):
        return None if self.trainer is None else self.trainer.optimizer

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    # Optional: state a checkpoint should carry (JSON-able); see ModelCheckpoint and fit(resume_from=...).
    def state_dict(self):
        return None

    def load_state_dict(self, state):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end")

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in self._HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; expected one of {', '.join(self._HOOKS)}")
            setattr(self, name, fn)


class CallbackList:
    """Calls every callback's hook, in ``order``."""

    def __init__(self, callbacks, trainer):
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"fit: callbacks must be chainrule.train.Callback instances, got {type(callback).__name__}"
                )
            callback.set_trainer(trainer)
        # only call the per-batch hooks of callbacks that override them (the batch loop is hot)
        self._batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_batch_end")]

    def __iter__(self):
        return iter(self.callbacks)

    def on_train_begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    @property
    def wants_batch_begin(self):
        return bool(self._batch_begin)

    @property
    def wants_batch_end(self):
        return bool(self._batch_end)

    def on_batch_begin(self, batch, logs=None):
        for callback in self._batch_begin:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        for callback in self._batch_end:
            callback.on_batch_end(batch, logs)


def _overrides(callback, hook):
    return getattr(type(callback), hook, None) is not getattr(Callback, hook) or hook in vars(callback)


def _monitored(callback, logs, epoch):
    value = (logs or {}).get(callback.monitor)
    if value is None:
        warnings.warn(
            f"{type(callback).__name__}: {callback.monitor!r} is not in the epoch logs ({', '.join(logs or {})}); "
            "pass validation data for val_* quantities, or monitor one of the logged names",
            RuntimeWarning,
            stacklevel=3,
        )
    return value


def _improved(value, best, mode, min_delta=0.0):
    if value is None or math.isnan(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving.

    Parameters
    ----------
    monitor : str
        Name in the epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    min_delta : float
        Smallest change that counts as an improvement.
    patience : int
        Epochs without improvement after which training stops.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better (``"auto"``: larger for accuracy-like names).
    restore_best_weights : bool
        At the end of training, load the weights (and buffers) of the best epoch back into the model,
        whether training stopped early or ran all its epochs.
    baseline : float, optional
        Training stops if the monitored value does not beat this within ``patience`` epochs.
    verbose : int
        Print a line when stopping.

    After training: ``stopped_epoch`` (0-based, or None), ``best``, ``best_epoch``.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False, baseline=None, verbose=0):
        super().__init__()
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.mode = resolve_mode(mode, monitor)
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.wait = 0
        self.best = self.baseline
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        if not getattr(self, "_resumed", False):
            self._reset()
        self._resumed = False

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(self, logs, epoch)
        if value is None:
            return
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best = float(value)
            self.best_epoch = int(epoch)
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = int(epoch)
            self.trainer.stop_training = True
            if self.verbose:
                print(f"Early stopping at epoch {epoch + 1}: {self.monitor} has not improved for {self.wait} "
                      f"epoch(s); best {self.best:.6g} at epoch {None if self.best_epoch is None else self.best_epoch + 1}")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of epoch {self.best_epoch + 1} ({self.monitor} = {self.best:.6g})")

    def state_dict(self):
        # best_weights are not carried (they would double the checkpoint); a resumed run restores
        # the best weights only if a new best appears after resuming.
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self._reset()
        self.wait = int(state.get("wait", 0))
        self.best = state.get("best", self.baseline)
        self.best_epoch = state.get("best_epoch")
        self._resumed = True


class ModelCheckpoint(Callback):
    """Save the model, optimizer, schedule and data-order state after epochs, with ``chainrule.io.save``.

    Parameters
    ----------
    path : str or os.PathLike
        File to write; may contain ``str.format`` fields from the epoch logs and ``epoch``
        (1-based), e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``.
    monitor, mode : see ``EarlyStopping``; used with ``save_best_only``.
    save_best_only : bool
        Save only when ``monitor`` improved (and always keep the best file at ``path``).
    every : int
        Save every ``every`` epochs (ignored with ``save_best_only``).

    The file holds what ``fit(..., resume_from=path)`` needs to continue exactly: weights and buffers,
    optimizer state, the learning-rate scheduler's state, the shuffling generator's and layers'
    (dropout) random states, the epoch, the history so far and the callbacks' states.
    ``last_path`` and ``best`` record what was saved. Each file is written atomically, so a run
    killed mid-save keeps the previous checkpoint whole; the temporary files of killed runs
    are removed when training next begins.
    """

    order = 10

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto", every=1, verbose=0):
        super().__init__()
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = resolve_mode(mode, monitor)
        self.every = int(every)
        if self.every < 1:
            raise ValueError(f"ModelCheckpoint: every must be >= 1, got {every}")
        self.verbose = verbose
        self.best = None
        self.last_path = None

    def on_train_begin(self, logs=None):
        _remove_stale_temporaries(self.path)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(self, logs, epoch)
            if not _improved(value, self.best, self.mode):
                return
            self.best = float(value)
        elif (epoch + 1) % self.every:
            return
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"ModelCheckpoint: cannot fill the path template {self.path!r} from epoch and logs "
                f"({', '.join(logs)}): {error}"
            ) from None
        self.trainer.save_checkpoint(path, epoch)
        self.last_path = path
        if self.verbose:
            print(f"Saved checkpoint {path}")

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state.get("best")


class LearningRateScheduler(Callback):
    """Change the learning rate during training, per epoch or per batch.

    Parameters
    ----------
    schedule : scheduler or callable
        A ``chainrule.optim`` scheduler built on the optimizer passed to ``fit`` (its ``step()`` is
        called after each epoch, or each batch with ``interval="batch"``; a reduce-on-plateau
        scheduler gets ``step(metric=logs[monitor])``), or a function ``epoch -> lr`` /
        ``(epoch, lr) -> lr`` evaluated at the start of each epoch (with ``interval="batch"``: of the
        global step count, starting at 0), whose value is set on every parameter group.
    interval : {"epoch", "batch"}
    monitor : str
        The metric a plateau scheduler watches.
    """

    order = -10

    def __init__(self, schedule, interval="epoch", monitor="val_loss", verbose=0):
        super().__init__()
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LearningRateScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        if not (callable(schedule) or hasattr(schedule, "step")):
            raise TypeError(
                "LearningRateScheduler: schedule must be a chainrule.optim scheduler or a function epoch -> lr, "
                f"got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.interval = interval
        self.monitor = monitor
        self.verbose = verbose
        self.is_scheduler = hasattr(schedule, "step") and hasattr(schedule, "state_dict")
        self.needs_metric = self.is_scheduler and _needs_metric(schedule)
        if not self.is_scheduler:
            self._takes_lr = _positional_count(schedule) >= 2
        self._epoch = 0

    @property
    def scheduler(self):
        """The scheduler object (None for a function schedule)."""
        return self.schedule if self.is_scheduler else None

    def on_train_begin(self, logs=None):
        bound = getattr(self.schedule, "optimizer", None)
        if self.is_scheduler and bound is not None and bound is not self.trainer.optimizer:
            raise ValueError(
                "LearningRateScheduler: the scheduler was built on a different optimizer than the one fit uses; "
                "create the optimizer yourself, build the scheduler on it, and pass fit(optimizer=that_optimizer)"
            )

    def _set(self, step):
        groups = self.trainer.optimizer.param_groups
        lr = self.schedule(step, groups[0]["lr"]) if self._takes_lr else self.schedule(step)
        lr = float(lr)
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned lr={lr} at step {step}")
        for group in groups:
            group["lr"] = lr
        if self.verbose:
            print(f"Learning rate set to {lr:.6g}")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if not self.is_scheduler and self.interval == "epoch":
            self._set(epoch)

    def on_batch_begin(self, batch, logs=None):
        if not self.is_scheduler and self.interval == "batch":
            self._set(self._epoch * self.params.get("steps", 0) + batch)

    def on_batch_end(self, batch, logs=None):
        if self.is_scheduler and self.interval == "batch":
            self.schedule.step()

    def on_epoch_end(self, epoch, logs=None):
        if not (self.is_scheduler and self.interval == "epoch"):
            return
        if self.needs_metric:
            value = _monitored(self, logs, epoch)
            if value is not None:
                self.schedule.step(value)
        else:
            self.schedule.step()


def _needs_metric(scheduler):
    return bool(getattr(scheduler, "needs_metric", False)) or "plateau" in type(scheduler).__name__.lower()


def _positional_count(fn):
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(1 for p in parameters if p.kind in kinds)


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (0-based) then the epoch logs.

    The columns are fixed by the first epoch. After every epoch the whole file is rewritten
    atomically (``chainrule._atomic.atomic_write``), so a crashed or killed run keeps whole rows
    up to its last finished epoch, never a torn row. ``append=True`` continues an existing file
    without a second header; when the run resumes at epoch ``k > 0`` (``fit(resume_from=...)``
    or ``initial_epoch``), rows of epochs ``>= k`` are dropped first: they were logged by a run
    that was interrupted after its last checkpoint, and this run logs those epochs again.
    """

    def __init__(self, path, separator=",", append=False):
        super().__init__()
        self.path = os.fspath(path)
        self.separator = separator
        self.append = bool(append)
        self.keys = None
        self._rows = []

    def on_train_begin(self, logs=None):
        _remove_stale_temporaries(self.path)
        self.keys, self._rows = None, []
        if self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle, delimiter=self.separator))
            if rows and rows[0]:
                self.keys = rows[0][1:]
                start = getattr(self.trainer, "initial_epoch", 0) if self.trainer is not None else 0
                self._rows = [row for row in rows[1:] if len(row) == len(rows[0]) and _before(row[0], start)]
        else:
            self._write()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
        self._rows.append([epoch, *(_format(logs.get(key, "")) for key in self.keys)])
        self._write()

    def _write(self):
        with atomic_write(self.path, "w", newline="") as handle:
            writer = csv.writer(handle, delimiter=self.separator)
            if self.keys is not None:
                writer.writerow(["epoch", *self.keys])
            writer.writerows(self._rows)


def _before(cell, start):
    """Whether a logged row's epoch cell is an epoch before ``start`` (0: keep every row)."""
    if not start:
        return True
    try:
        return int(cell) < start
    except ValueError:
        return False


def _format(value):
    return repr(float(value)) if isinstance(value, float) or hasattr(value, "dtype") else value


class JSONLogger(Callback):
    """Rewrite a JSON file after every epoch with the whole history so far.

    The file is ``{"epoch": [...], "history": {name: [...]}, "params": {...}}`` (``History.to_dict()``;
    NaN/inf written as null), replaced atomically, so readers never see a half-written file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = os.fspath(path)

    def on_train_begin(self, logs=None):
        _remove_stale_temporaries(self.path)

    def on_epoch_end(self, epoch, logs=None):
        history = self.trainer.history
        text = history.to_json() if history is not None else json.dumps({"epoch": [epoch], "logs": logs})
        with atomic_write(self.path, "w") as stream:
            stream.write(text + "\n")


def _remove_stale_temporaries(path):
    """Delete the temporary files that killed runs left beside ``path`` (see ``chainrule._atomic``)."""
    remove_stale_temporaries(os.path.dirname(os.path.abspath(os.fspath(path))))
