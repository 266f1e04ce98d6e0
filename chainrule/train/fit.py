"""The fit loop: ``fit``, ``evaluate``, ``predict`` and the ``Trainer`` that runs them.

One training step (``Trainer.train_step``) is the whole algorithm:

    zero the gradients -> forward -> loss -> (finite?) -> backward -> [clip] -> (finite?) -> optimizer step

Everything else here is bookkeeping around it: batching (``DataLoader``), validation, metrics,
callbacks, progress display and checkpoints.
"""

import json
import math
import numbers

import numpy

from ..backend import to_numpy, xp
from ..creation import as_generator
from ..data.loader import DataLoader, is_multi_input
from ..evaluate.metrics import get_metric, metric_name
from ..function import no_grad
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .callbacks import CallbackList, LearningRateScheduler
from .errors import NonFiniteError
from .history import History
from .losses import resolve_loss
from .progress import ProgressLogger

__all__ = ["Trainer", "fit", "evaluate", "predict"]

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
_DEFAULT_LR = {"sgd": 0.01}  # Keras's default; PyTorch's SGD has none

_CAUSES = (
    "Likely causes: the learning rate is too high (try 10x smaller, or clip_grad_norm=1.0); the inputs are "
    "not scaled (standardise features to mean 0 / std 1); NaN or inf in the inputs or targets; or log of zero / "
    "division by zero in a custom loss (losses here take logits: do not apply softmax or sigmoid first)."
)


class Trainer:
    """Trains ``model`` on NumPy arrays; ``fit``/``evaluate``/``predict`` are thin wrappers around it.

    Parameters are those of :func:`fit` that describe *how* to train (the data and the schedule of
    epochs go to :meth:`Trainer.fit`). During training it holds ``optimizer``, ``loader`` (the
    training ``DataLoader``), ``history``, ``params`` and the ``stop_training`` flag that callbacks set.
    """

    def __init__(self, model, loss="cross_entropy", optimizer="adam", lr=None, metrics=None, callbacks=None,
                 verbose=1, clip_grad_norm=None, check_finite=True):
        self.model = model
        self.loss = None if loss is None else resolve_loss(loss)
        self.metrics = _resolve_metrics(metrics)
        self.callbacks = list(callbacks or [])
        self.verbose = verbose
        if clip_grad_norm is not None and not (isinstance(clip_grad_norm, numbers.Real) and clip_grad_norm > 0):
            raise ValueError(f"fit: clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}")
        self.clip_grad_norm = clip_grad_norm
        self.check_finite = bool(check_finite)
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.dtype = _model_dtype(model)
        self._optimizer_spec = (optimizer, lr)
        self.optimizer = None
        self.loader = None
        self.history = None
        self.params = {}
        self.stop_training = False
        self.epoch = None
        self._buffer_slots = None
        self._probe_owner = self._probe = None  # see _gradient_probe

    # ------------------------------------------------------------------ set-up
    @property
    def scheduler(self):
        """The learning-rate scheduler object of the first ``LearningRateScheduler`` callback, if any."""
        for callback in self.callbacks:
            if isinstance(callback, LearningRateScheduler) and callback.scheduler is not None:
                return callback.scheduler
        return None

    def _build_optimizer(self):
        optimizer, lr = self._optimizer_spec
        if isinstance(optimizer, str):
            key = optimizer.lower()
            if key not in _OPTIMIZERS:
                raise ValueError(f"fit: unknown optimizer {optimizer!r}; known: {', '.join(_OPTIMIZERS)} "
                                 "or a chainrule.optim optimizer instance")
            if not self.parameters:
                raise ValueError("fit: the model has no trainable parameters")
            from .. import optim

            lr = _DEFAULT_LR.get(key) if lr is None else lr
            kwargs = {} if lr is None else {"lr": lr}
            return getattr(optim, _OPTIMIZERS[key])(self.parameters, **kwargs)
        if optimizer is None or not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
            raise TypeError(f"fit: optimizer must be a name ({', '.join(_OPTIMIZERS)}) or an optimizer instance, "
                            f"got {type(optimizer).__name__}")
        if lr is not None:
            raise ValueError("fit: lr= applies to an optimizer given by name; set the learning rate on the "
                             "optimizer instance you passed instead")
        return optimizer

    def _cast_inputs(self, x, where="fit", name="x"):
        """Inputs as NumPy arrays of the model's dtype (integer token ids stay integers for embedding models).

        Several inputs (``is_multi_input``) become a tuple of arrays with the same number of samples. Raises
        ValueError, naming ``where`` and ``name``, for inputs without a sample axis or without samples.
        """
        if is_multi_input(x):
            if not x:
                raise ValueError(f"{where}: {name} is an empty {type(x).__name__}; expected an array, or one array "
                                 "per model input")
            parts = tuple(self._cast_inputs(part, where, f"{name}[{i}]") for i, part in enumerate(x))
            lengths = [len(part) for part in parts]
            if len(set(lengths)) > 1:
                raise ValueError(f"{where}: the inputs in {name} have different numbers of samples {lengths}; "
                                 "each input's first axis must be the samples")
            return parts
        array = numpy.asarray(x.numpy() if isinstance(x, Tensor) else x)
        if array.ndim == 0:
            raise ValueError(f"{where}: {name} must be an array with samples along its first axis, got a 0-d "
                             f"value {array.item()!r}")
        if len(array) == 0:
            raise ValueError(f"{where}: {name} has no samples (shape {array.shape})")
        if array.dtype.kind in "fb" or (array.dtype.kind in "iu" and not _takes_integer_inputs(self.model)):
            array = array.astype(self.dtype, copy=False)
        return array

    def _cast_targets(self, y, where="fit", name="y"):
        """Targets: floating (and bool) ones in the model's dtype; integer class labels stay integers.

        For cross-entropy, 1-D floating targets holding whole numbers (labels read from a CSV) become int64.
        """
        if y is None:
            return None
        array = numpy.asarray(y.numpy() if isinstance(y, Tensor) else y)
        if array.ndim == 0:
            raise ValueError(f"{where}: {name} must be an array with samples along its first axis, got a 0-d "
                             f"value {array.item()!r}")
        if array.dtype.kind in "fb":
            is_labels = (self.loss is not None and self.loss.class_targets and array.ndim == 1
                         and array.dtype.kind == "f" and numpy.all(numpy.isfinite(array))
                         and numpy.array_equal(array, numpy.round(array)))
            array = array.astype(numpy.int64) if is_labels else array.astype(self.dtype, copy=False)
        return array

    # ---------------------------------------------------------------- one step
    def train_step(self, x_batch, y_batch, w_batch=None, epoch=0, batch=0):
        """One optimisation step on one batch; returns ``(loss value, output array)``.

        Raises ``NonFiniteError`` (before touching the weights) if the loss or the gradient is not finite.
        """
        check = self.check_finite
        if check and self._buffer_slots:
            for module, name, backup in self._buffer_slots:  # BatchNorm running stats change in forward
                xp.copyto(backup, getattr(module, name))
        # in place (not set_to_none): every gradient stays a view of the flat buffer, nothing is reallocated
        if isinstance(self.optimizer, Optimizer):
            self.optimizer.zero_grad(set_to_none=False)
        else:
            self.optimizer.zero_grad()
        output = self.model(*_as_tensors(x_batch))
        loss = self.loss(output, y_batch, w_batch)
        value = loss.item()
        if check and not math.isfinite(value):
            self._restore_buffers()
            raise self._non_finite("loss", value, epoch, batch, x_batch, y_batch)
        loss.backward()
        del loss
        if self.clip_grad_norm is not None:
            grad_check = self._clip(self.clip_grad_norm)
        elif check:
            grad_check = self._gradient_probe()
        if check and not math.isfinite(grad_check) and not _gradients_finite(self.parameters):
            self._restore_buffers()
            raise self._non_finite("gradient", grad_check, epoch, batch, x_batch, y_batch)
        self.optimizer.step()
        return value, output.data if isinstance(output, Tensor) else output

    def _gradient_probe(self):
        """A number that is finite when every gradient is (barring overflow, which the exact check rules out).

        When the optimizer keeps all the trainable parameters' gradients in flat buffers, that is one BLAS
        dot product per buffer (``grad_square_sum``); otherwise a sum per parameter.
        """
        optimizer = self.optimizer
        if self._probe_owner is not optimizer:  # decided once per optimizer
            self._probe_owner = optimizer
            probe = getattr(optimizer, "grad_square_sum", None)
            covered = {id(p) for group in getattr(optimizer, "param_groups", ()) for p in group["params"]}
            self._probe = probe if probe is not None and all(id(p) in covered for p in self.parameters) else None
        if self._probe is not None:
            return self._probe()
        return _gradient_sum(self.parameters)

    def _clip(self, max_norm):
        """Clip the global gradient norm to ``max_norm``; returns the norm before clipping."""
        clip = getattr(self.optimizer, "clip_grad_norm", None)  # one reduction over the flat buffers
        if clip is None:
            from ..optim.clip import clip_grad_norm_

            return float(clip_grad_norm_(self.parameters, max_norm))
        return float(clip(max_norm))

    def _restore_buffers(self):
        for module, name, backup in self._buffer_slots or ():
            xp.copyto(getattr(module, name), backup)  # in place: whatever holds the buffer sees the rollback

    def _non_finite(self, quantity, value, epoch, batch, x_batch, y_batch):
        steps = self.params.get("steps", "?")
        epochs = self.params.get("epochs", "?")
        lr = _first_lr(self.optimizer)
        notes = []
        bad_inputs = [name for name, array in (("inputs", x_batch), ("targets", y_batch)) if _has_non_finite(array)]
        if bad_inputs:
            notes.append(f"this batch's {' and '.join(bad_inputs)} contain NaN or inf values")
        if quantity == "gradient":
            bad = [name for name, p in _named_params(self.model) if p._grad is not None
                   and not numpy.all(numpy.isfinite(p._grad))]
            notes.append(f"non-finite gradient in {', '.join(bad[:5]) or 'a parameter'}")
        message = (
            f"non-finite {quantity} ({value}) at epoch {epoch + 1}/{epochs}, batch {batch + 1}/{steps} "
            f"(lr={lr}). Training stopped; the model keeps its weights from before this batch."
            + (" Note: " + "; ".join(notes) + "." if notes else "")
            + " " + _CAUSES
            + " Pass check_finite=False to skip this check."
        )
        return NonFiniteError(message, epoch=epoch, batch=batch, quantity=quantity, value=value)

    # -------------------------------------------------------------------- fit
    def fit(self, x, y, epochs=10, batch_size=32, validation_split=0.0, validation_data=None, shuffle=True,
            seed=None, sample_weight=None, class_weight=None, initial_epoch=0, resume_from=None):
        """Train; returns a ``History``. See :func:`fit` for the parameters."""
        if self.loss is None:
            raise ValueError("fit: a loss is required")
        if y is None:
            raise ValueError("fit: targets y are required")
        _check_positive_int(epochs, "epochs")
        _check_positive_int(batch_size, "batch_size")
        x, y = self._cast_inputs(x), self._cast_targets(y)
        n = _num_samples(x)
        if y is not None and len(y) != n:
            raise ValueError(f"fit: x has {n} samples but y has {len(y)}")
        weights = _sample_weights(sample_weight, class_weight, y, n, self.dtype)

        if validation_data is not None and validation_split:
            raise ValueError("fit: give validation_split or validation_data, not both")
        validation = None
        if validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split!r}")
            # Keras's convention: the LAST fraction of the samples, before any shuffling
            split = int(n * (1.0 - validation_split))
            if split <= 0 or split >= n:
                raise ValueError(f"fit: validation_split={validation_split} of {n} samples leaves an empty split")
            validation = (_take(x, slice(split, None)), y[split:], None if weights is None else weights[split:])
            x, y = _take(x, slice(0, split)), y[:split]
            weights = None if weights is None else weights[:split]
        elif validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight_val)")
            x_val = self._cast_inputs(validation_data[0], "fit", "validation_data x")
            y_val = self._cast_targets(validation_data[1], "fit", "validation_data y")
            if len(y_val) != _num_samples(x_val):
                raise ValueError(f"fit: validation_data x has {_num_samples(x_val)} samples but y has {len(y_val)}")
            w_val = None
            if len(validation_data) == 3 and validation_data[2] is not None:
                w_val = _sample_weights(validation_data[2], None, y_val, _num_samples(x_val), self.dtype)
            validation = (x_val, y_val, w_val)

        self.loader = DataLoader(x, y=y, batch_size=batch_size, shuffle=shuffle, seed=as_generator(seed),
                                 sample_weight=weights)
        if self.optimizer is None:
            self.optimizer = self._build_optimizer()
        self._buffer_slots = _buffer_slots(self.model) if self.check_finite else []
        self.history = History()
        self.params = {"epochs": int(epochs), "steps": len(self.loader), "batch_size": int(batch_size),
                       "samples": _num_samples(x), "validation_samples": 0 if validation is None
                       else _num_samples(validation[0]), "verbose": self.verbose}
        self.history.params = dict(self.params)
        progress = ProgressLogger(self.verbose)
        callbacks = CallbackList([self.history, progress, *self.callbacks], self)

        if resume_from is not None:
            initial_epoch = self.load_checkpoint(resume_from)
        _check_non_negative_int(initial_epoch, "initial_epoch")
        self.initial_epoch = int(initial_epoch)  # the first epoch this run trains (CSVLogger drops later rows)
        was_training = getattr(self.model, "training", True)
        self.stop_training = False
        logs = {}
        callbacks.on_train_begin(logs)
        try:
            for epoch in range(initial_epoch, epochs):
                self.epoch = epoch
                callbacks.on_epoch_begin(epoch, {})
                logs = self._train_epoch(epoch, callbacks)
                if validation is not None:
                    val = self.evaluate(*validation[:2], batch_size=max(batch_size, 256), sample_weight=validation[2])
                    logs.update({"val_" + key: value for key, value in val.items()})
                logs["lr"] = _first_lr(self.optimizer)
                callbacks.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            callbacks.on_train_end(logs)
        finally:
            progress.on_train_end()
            self.model.train(was_training)
        return self.history

    def _train_epoch(self, epoch, callbacks):
        self.model.train()
        loss_sum = 0.0
        weight_sum = 0.0
        metric_sums = [0.0] * len(self.metrics)
        # metrics that are not means over samples (F1, ROC-AUC, R²: ``batchwise = False``) are computed
        # once per epoch over all of its outputs and targets, which are kept for them
        batchwise = [getattr(metric, "batchwise", True) for _, metric in self.metrics]
        keep_outputs = not all(batchwise)
        epoch_targets, epoch_outputs = [], []
        count = 0
        step = self.train_step
        batch_begin, batch_end = callbacks.wants_batch_begin, callbacks.wants_batch_end
        for batch, (x_batch, y_batch, *rest) in enumerate(self.loader):
            w_batch = rest[0] if rest else None
            if batch_begin:
                callbacks.on_batch_begin(batch, {})
            value, output = step(x_batch, y_batch, w_batch, epoch, batch)
            size = len(y_batch)
            # the epoch loss is the (weighted) mean over samples: batch means re-weighted by batch weight
            batch_weight = float(w_batch.sum()) if w_batch is not None else size
            loss_sum += value * batch_weight
            weight_sum += batch_weight
            if self.metrics:
                host = _host(output)
                for i, (_, metric) in enumerate(self.metrics):
                    if batchwise[i]:
                        metric_sums[i] += metric(y_batch, host) * size
                if keep_outputs:
                    epoch_targets.append(numpy.array(y_batch, copy=True))
                    epoch_outputs.append(_copy(host))
            count += size
            del output
            if batch_end:
                callbacks.on_batch_end(batch, {"loss": value, "size": size})
            if self.stop_training:
                break
        logs = {"loss": loss_sum / weight_sum if weight_sum else float("nan")}
        all_targets = all_outputs = None
        if keep_outputs and epoch_outputs:
            all_targets, all_outputs = numpy.concatenate(epoch_targets), _concatenate(epoch_outputs)
        for i, ((name, metric), total) in enumerate(zip(self.metrics, metric_sums)):
            if batchwise[i]:
                logs[name] = total / count if count else float("nan")
            else:
                logs[name] = float(metric(all_targets, all_outputs)) if all_outputs is not None else float("nan")
        return logs

    # ------------------------------------------------------------- evaluation
    def predict(self, x, batch_size=256):
        """Model outputs for ``x`` in evaluation mode, without a graph, batched; a NumPy array."""
        _check_positive_int(batch_size, "batch_size", "predict")
        x = self._cast_inputs(x, "predict")
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for x_batch in DataLoader(x, batch_size=batch_size):
                    outputs.append(_host(self.model(*_as_tensors(x_batch))))
        finally:
            self.model.train(was_training)
        if not outputs:
            raise ValueError("predict: x has no samples")
        if isinstance(outputs[0], tuple):
            return tuple(numpy.concatenate(parts) for parts in zip(*outputs))
        return numpy.concatenate(outputs)

    def evaluate(self, x, y, batch_size=256, sample_weight=None):
        """``{"loss": ..., metric: ...}`` over all of (x, y), in evaluation mode; metrics on all outputs at once."""
        if self.loss is None and not self.metrics:
            raise ValueError("evaluate: give a loss, metrics, or both")
        _check_positive_int(batch_size, "batch_size", "evaluate")
        if y is None:
            raise ValueError("evaluate: targets y are required")
        x, y = self._cast_inputs(x, "evaluate"), self._cast_targets(y, "evaluate")
        n = _num_samples(x)
        if len(y) != n:
            raise ValueError(f"evaluate: x has {n} samples but y has {len(y)}")
        weights = None if sample_weight is None else _sample_weights(sample_weight, None, y, n, self.dtype,
                                                                     "evaluate")
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        loss_sum = weight_sum = 0.0
        outputs = []
        try:
            with no_grad():
                for x_batch, y_batch, *rest in DataLoader(x, y=y, batch_size=batch_size, sample_weight=weights):
                    w_batch = rest[0] if rest else None
                    output = self.model(*_as_tensors(x_batch))
                    if self.loss is not None:
                        batch_weight = float(w_batch.sum()) if w_batch is not None else len(y_batch)
                        loss_sum += self.loss(output, y_batch, w_batch).item() * batch_weight
                        weight_sum += batch_weight
                    if self.metrics:
                        outputs.append(_host(output))
        finally:
            self.model.train(was_training)
        results = {}
        if self.loss is not None:
            results["loss"] = loss_sum / weight_sum if weight_sum else float("nan")
        if self.metrics:
            all_outputs = numpy.concatenate(outputs)
            for name, metric in self.metrics:
                results[name] = float(metric(y, all_outputs))
        return results

    # ------------------------------------------------------------ checkpoints
    def checkpoint_state(self, epoch):
        """What a checkpoint after ``epoch`` (0-based, completed) carries besides weights, optimizer and
        scheduler: JSON-able, passed as ``extra`` to ``chainrule.io.save``."""
        callback_states = {}
        for index, callback in enumerate(self.callbacks):
            state = callback.state_dict()
            if state is not None:
                callback_states[f"{index}:{type(callback).__name__}"] = state
        return {
            "chainrule.train": 1,
            "epoch": int(epoch),
            "loader": None if self.loader is None else self.loader.state_dict(),
            "module_rngs": {key: json.dumps(rng.bit_generator.state) for key, rng in _module_generators(self.model)},
            "history": None if self.history is None else self.history.to_dict(),
            "callbacks": callback_states,
        }

    def save_checkpoint(self, path, epoch):
        """Save model, optimizer, scheduler and ``checkpoint_state(epoch)`` to ``path`` (``chainrule.io.save``)."""
        from .. import io

        io.save(self.model, path, optimizer=self.optimizer, scheduler=self.scheduler,
                extra=self.checkpoint_state(epoch))

    def load_checkpoint(self, path):
        """Restore a checkpoint written by ``save_checkpoint`` in place; returns the epoch to continue from."""
        import os

        from .. import io

        # check before restoring anything, so a wrong file leaves the model untouched
        extra = io.read_metadata(path)["extra"]
        if not isinstance(extra, dict) or "chainrule.train" not in extra:
            raise ValueError(f"fit(resume_from={os.fspath(path)!r}): the file has no training state (epoch, data "
                             "order); it was not written by ModelCheckpoint / Trainer.save_checkpoint")
        extra = io.load_checkpoint(path, self.model, optimizer=self.optimizer, scheduler=self.scheduler)
        if extra.get("loader") is not None and self.loader is not None:
            self.loader.load_state_dict(extra["loader"])
        generators = dict(_module_generators(self.model))
        for key, state in (extra.get("module_rngs") or {}).items():
            if key in generators:
                generators[key].bit_generator.state = json.loads(state) if isinstance(state, str) else state
        if extra.get("history") and self.history is not None:
            self.history.load_dict(extra["history"])
            self.history.params.update(self.params)
        for index, callback in enumerate(self.callbacks):
            state = (extra.get("callbacks") or {}).get(f"{index}:{type(callback).__name__}")
            if state is not None:
                callback.load_state_dict(state)
        return int(extra["epoch"]) + 1


# ----------------------------------------------------------------- public API
def fit(model, x, y, loss="cross_entropy", optimizer="adam", lr=None, epochs=10, batch_size=32,
        validation_split=0.0, validation_data=None, metrics=None, callbacks=None, shuffle=True, seed=None,
        verbose=1, sample_weight=None, class_weight=None, clip_grad_norm=None, check_finite=True,
        initial_epoch=0, resume_from=None):
    """Train ``model`` on NumPy arrays, Keras-style; returns a ``History``.

    Parameters
    ----------
    model : chainrule.nn.Module
        Called as ``model(x_batch)`` (``model(*x_batch)`` when ``x`` holds several inputs).
    x : array_like, or tuple/list of array_like
        Inputs, first axis = samples (at least one sample). Several model inputs are a tuple, or a list
        whose elements are all NumPy arrays or Tensors (each with the same number of samples); any other
        list (of numbers, or of lists: rows) is one array, so ``[[0, 1], [1, 0]]`` is two samples.
        Cast once, up front, to the dtype of the model's parameters (float32 by default); integer
        inputs stay integers only for models with an Embedding layer.
    y : array_like
        Targets: integer class labels ``(n,)`` (or one-hot rows) for classification, values for regression
        (``(n,)`` targets are matched to ``(n, 1)`` outputs). Floating targets are cast to the model's dtype.
    loss : str, loss Module or callable
        ``"cross_entropy"`` (logits and class labels), ``"binary_cross_entropy"`` (one logit per sample),
        ``"mse"``, ``"mae"``, ``"huber"``, a ``chainrule.nn`` loss module, or ``loss(output, target)``
        returning a scalar Tensor. Classification losses take logits.
    optimizer : str or Optimizer
        ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"`` (built on the model's parameters,
        with ``lr`` if given), or a ``chainrule.optim`` optimizer instance.
    epochs : int
        Index of the last epoch: training runs epochs ``initial_epoch .. epochs - 1``.
    batch_size : int
    validation_split : float
        Hold out the LAST ``validation_split`` fraction of the samples (before shuffling, as Keras does;
        shuffle or stratify beforehand if the data are ordered) and report ``val_*`` each epoch.
    validation_data : tuple
        ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``; instead of ``validation_split``.
    metrics : list of str or callable
        Names registered in ``chainrule.evaluate.metrics`` (``"accuracy"``, ``"top_k_accuracy"``,
        ``"log_loss"``, ``"precision"``, ``"recall"``, ``"f1"``, ``"roc_auc"``, ``"mse"``, ``"rmse"``,
        ``"mae"``, ``"r2"``, ...) or functions ``metric(y_true, outputs) -> float``. Means over samples
        are averaged over the epoch's batches; metrics marked ``batchwise = False`` (F1, ROC-AUC, R²...)
        are computed once per epoch on all its outputs.
    callbacks : list of Callback
    shuffle : bool
        Reshuffle the training samples every epoch.
    seed : int or numpy.random.Generator
        Seeds the shuffling (the model's own initialisation and dropout have their own seeds).
    verbose : {0, 1, 2}
        0 silent; 1 a progress bar per epoch on a terminal, one line per epoch otherwise; 2 lines.
    sample_weight : array_like (n,), optional
        Finite and non-negative, not all zero.
    class_weight : dict {class: weight}, sequence, or "balanced", optional
        Per-sample loss weights (multiplied together when both are given). Each batch's loss becomes
        ``Σ wᵢ·lᵢ / Σ wᵢ``. Validation losses use ``validation_data``'s third element, not ``class_weight``.
    clip_grad_norm : float, optional
        Rescale the gradients so that their global L2 norm is at most this, before each step.
    check_finite : bool
        Check every step's loss and gradient; a NaN/inf raises ``NonFiniteError`` naming the epoch and batch,
        before the optimizer step, so the model keeps its last good weights.
    initial_epoch : int
        Epoch to start at (for resuming by hand).
    resume_from : str or os.PathLike, optional
        A checkpoint written by ``ModelCheckpoint``: restores the model, optimizer, learning-rate schedule,
        data-order and dropout random states, history and callback states, and continues after its epoch;
        the final weights equal those of an uninterrupted run with the same arguments.

    Returns
    -------
    History
        ``history.history["loss"]``, ``["val_loss"]``, metric names, ``["lr"]``: one value per epoch.

    Examples
    --------
    >>> history = fit(model, x_train, y_train, loss="cross_entropy", metrics=["accuracy"], epochs=20,
    ...               validation_split=0.1, seed=0)
    """
    trainer = Trainer(model, loss=loss, optimizer=optimizer, lr=lr, metrics=metrics, callbacks=callbacks,
                      verbose=verbose, clip_grad_norm=clip_grad_norm, check_finite=check_finite)
    return trainer.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                       validation_data=validation_data, shuffle=shuffle, seed=seed, sample_weight=sample_weight,
                       class_weight=class_weight, initial_epoch=initial_epoch, resume_from=resume_from)


def evaluate(model, x, y, loss=None, metrics=None, batch_size=256, sample_weight=None):
    """Loss and metrics of ``model`` on (x, y), in evaluation mode without a graph.

    Returns ``{"loss": ..., "<metric>": ...}``; the loss is the (sample-weighted) mean over all samples,
    each metric is computed once over all outputs. ``loss``/``metrics`` as in :func:`fit`.
    """
    trainer = Trainer(model, loss=loss, optimizer=None, metrics=metrics, verbose=0)
    return trainer.evaluate(x, y, batch_size=batch_size, sample_weight=sample_weight)


def predict(model, x, batch_size=256):
    """The model's outputs for ``x`` as a NumPy array (evaluation mode, no graph, in batches).

    For classifiers these are logits: ``outputs.argmax(axis=1)`` gives the classes.
    """
    return Trainer(model, loss=None, optimizer=None, verbose=0).predict(x, batch_size=batch_size)


# ------------------------------------------------------------------- helpers
def _resolve_metrics(metrics):
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved = [(metric_name(m), get_metric(m)) for m in metrics]
    names = [name for name, _ in resolved]
    for name in names:
        if names.count(name) > 1 or name in ("loss", "lr"):
            raise ValueError(f"fit: metric name {name!r} is repeated or reserved (loss, lr)")
    return resolved


def _model_dtype(model):
    for param in model.parameters():
        return param.data.dtype
    return numpy.dtype(numpy.float32)


def _takes_integer_inputs(model):
    modules = model.modules() if hasattr(model, "modules") else ()
    return any("embedding" in type(module).__name__.lower() for module in modules)


def _as_tensors(x_batch):
    if isinstance(x_batch, tuple):
        return tuple(Tensor(xp.asarray(part)) for part in x_batch)
    return (Tensor(xp.asarray(x_batch)),)


def _host(output):
    if isinstance(output, tuple):
        return tuple(_host(part) for part in output)
    return to_numpy(output.data if isinstance(output, Tensor) else output)


def _copy(output):
    return tuple(_copy(part) for part in output) if isinstance(output, tuple) else numpy.array(output, copy=True)


def _concatenate(outputs):
    """Join per-batch outputs (arrays, or tuples of arrays for several outputs) along the sample axis."""
    if isinstance(outputs[0], tuple):
        return tuple(numpy.concatenate(parts) for parts in zip(*outputs))
    return numpy.concatenate(outputs)


def _num_samples(x):
    return len(x[0]) if isinstance(x, tuple) else len(x)


def _take(x, index):
    return tuple(part[index] for part in x) if isinstance(x, tuple) else x[index]


def _check_positive_int(value, name, where="fit"):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")


def _check_non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"fit: {name} must be a non-negative integer, got {value!r}")


def _class_labels(y):
    if y is None:
        raise ValueError("fit: class_weight needs targets y")
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    labels = y.reshape(len(y))
    if labels.dtype.kind == "f":
        if not numpy.array_equal(labels, numpy.round(labels)):
            raise ValueError("fit: class_weight needs class labels, but y holds non-integer values")
        labels = labels.astype(numpy.int64)
    return labels


def _sample_weights(sample_weight, class_weight, y, n, dtype, where="fit"):
    """Per-sample weights (n,) in ``dtype`` from sample_weight and/or class_weight, or None.

    Raises ValueError for weights that are not finite, negative, or all zero (the weighted mean loss
    ``Σ wᵢ·lᵢ / Σ wᵢ`` would be 0/0)."""
    if sample_weight is None and class_weight is None:
        return None
    weights = numpy.ones(n, dtype=dtype)
    if sample_weight is not None:
        sample_weight = numpy.asarray(sample_weight)
        if sample_weight.shape != (n,):
            raise ValueError(f"{where}: sample_weight must have shape ({n},) (one weight per sample), "
                             f"got {sample_weight.shape}")
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(f"{where}: sample_weight must hold numbers, got dtype {sample_weight.dtype}")
        weights *= sample_weight.astype(dtype, copy=False)
    if class_weight is not None:
        labels = _class_labels(y)
        classes, counts = numpy.unique(labels, return_counts=True)
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"fit: class_weight must be a dict, a sequence or 'balanced', got {class_weight!r}")
            # scikit-learn's "balanced": n / (classes * count of the class)
            table = {c: len(labels) / (len(classes) * k) for c, k in zip(classes.tolist(), counts.tolist())}
        elif isinstance(class_weight, dict):
            table = {int(k): float(v) for k, v in class_weight.items()}
        else:
            table = dict(enumerate(float(v) for v in class_weight))
        missing = [c for c in classes.tolist() if c not in table]
        if missing:
            raise ValueError(f"fit: class_weight has no weight for class(es) {missing}")
        lookup = numpy.zeros(int(classes.max()) + 1 if len(classes) else 1, dtype=dtype)
        for c, w in table.items():
            if 0 <= c < len(lookup):
                lookup[c] = w
        if classes.min() < 0:
            raise ValueError("fit: class_weight needs non-negative integer class labels")
        weights *= lookup[labels]
    bad = ~numpy.isfinite(weights) | (weights < 0)
    if bad.any():
        first = int(numpy.argmax(bad))
        raise ValueError(f"{where}: sample weights must be finite and non-negative, got {weights[first].item()!r} for "
                         f"sample {first}")
    if not weights.any():
        raise ValueError(f"{where}: the sample weights are all zero; at least one "
                         "sample needs a positive weight, else the weighted mean loss is 0/0")
    return weights


def _gradient_sum(params):
    """Sum of every gradient element: finite iff all are (barring overflow, which the exact check below
    rules out). One pass, no allocation beyond scalars."""
    total = 0.0
    with numpy.errstate(over="ignore", invalid="ignore"):
        for param in params:
            grad = param._grad
            if grad is not None:
                total += float(grad.sum())
    return total


def _gradients_finite(params):
    return all(param._grad is None or bool(numpy.isfinite(param._grad).all()) for param in params)


def _has_non_finite(array):
    if array is None:
        return False
    if isinstance(array, tuple):
        return any(_has_non_finite(part) for part in array)
    array = numpy.asarray(array)
    return array.dtype.kind == "f" and not bool(numpy.isfinite(array).all())


def _named_params(model):
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    return [(str(i), p) for i, p in enumerate(model.parameters())]


def _first_lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return float(groups[0]["lr"])
    lr = getattr(optimizer, "lr", None)
    return None if lr is None else float(lr)


def _buffer_slots(model):
    """(module, attribute, backup array) for every buffer, so a rejected step can undo forward-time updates."""
    if not hasattr(model, "named_buffers"):
        return []
    slots = []
    for name, buffer in model.named_buffers():
        owner_name, _, attribute = name.rpartition(".")
        owner = model.get_submodule(owner_name) if owner_name else model
        slots.append((owner, attribute, xp.empty_like(buffer)))
    return slots


def _module_generators(model):
    """(key, Generator) for every ``numpy.random.Generator`` attribute of every sub-module (dropout)."""
    if not hasattr(model, "named_modules"):
        return
    for module_name, module in model.named_modules():
        for attribute, value in vars(module).items():
            if isinstance(value, numpy.random.Generator):
                yield f"{module_name}:{attribute}", value
