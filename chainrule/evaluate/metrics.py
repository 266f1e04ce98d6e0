"""Metrics computed in NumPy from model outputs and targets, and a registry of them by name.

A metric is a function ``metric(y_true, y_pred) -> float`` where

- ``y_true`` are the targets as given to ``fit``/``evaluate``: integer class labels ``(n,)``,
  one-hot or probability rows ``(n, classes)``, 0/1 labels for binary tasks, or real values;
- ``y_pred`` is the model's raw output: **logits** for classification (``(n, classes)``, or
  ``(n,)``/``(n, 1)`` for one binary logit), values for regression.

``fit`` reports training metrics as the sample-count-weighted mean of per-batch values (exact for
the means registered here: accuracy, mse, mae); validation and ``evaluate`` compute each metric
once over all outputs. Sample weights are not applied to metrics.

The registry is a plain dict from name to function: ``get_metric("accuracy")`` looks a name up,
``register_metric("name", fn)`` adds one (also usable as a decorator). A callable passed where a
metric is expected is used as is and reported under its ``__name__``.
"""

import numpy

__all__ = ["get_metric", "metric_name", "register_metric", "accuracy", "mse", "mae", "METRICS"]

METRICS = {}
"""Registered metrics: name -> ``fn(y_true, y_pred) -> float``."""


def register_metric(name, fn=None):
    """Register ``fn`` under ``name`` (returns ``fn``; without ``fn``, returns a decorator)."""
    if fn is None:
        return lambda f: register_metric(name, f)
    if not callable(fn):
        raise TypeError(f"register_metric: {name!r} must be registered with a callable, got {type(fn).__name__}")
    METRICS[name] = fn
    return fn


def get_metric(name_or_callable):
    """The metric function for a registered name, or a callable returned unchanged."""
    if callable(name_or_callable):
        return name_or_callable
    if isinstance(name_or_callable, str):
        key = name_or_callable.lower()
        if key in METRICS:
            return METRICS[key]
        raise ValueError(f"unknown metric {name_or_callable!r}; known metrics: {', '.join(sorted(METRICS))}")
    raise TypeError(f"a metric must be a name or a callable, got {type(name_or_callable).__name__}")


def metric_name(name_or_callable):
    """The name a metric is reported under: the registered name or the function's ``__name__``."""
    if isinstance(name_or_callable, str):
        return name_or_callable.lower()
    return getattr(name_or_callable, "__name__", type(name_or_callable).__name__)


def _host(array):
    if hasattr(array, "numpy") and not isinstance(array, numpy.ndarray):  # a chainrule Tensor
        array = array.numpy()
    return numpy.asarray(array)


def _check_rows(y_true, y_pred, name):
    if len(y_true) != len(y_pred):
        raise ValueError(f"{name}: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}")


@register_metric("accuracy")
def accuracy(y_true, y_pred):
    """Fraction of correctly classified samples, from logits.

    ``y_pred`` of shape ``(n, classes)`` with ``classes > 1`` predicts ``argmax``; ``(n,)`` or
    ``(n, 1)`` is one binary logit per sample, predicting class 1 where the logit is > 0.
    ``y_true`` holds class indices, or rows (one-hot or probabilities) compared by ``argmax``.
    """
    y_true, y_pred = _host(y_true), _host(y_pred)
    _check_rows(y_true, y_pred, "accuracy")
    if len(y_true) == 0:
        return float("nan")
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        predicted = y_pred.argmax(axis=1)
        labels = y_true.argmax(axis=1) if y_true.ndim == 2 and y_true.shape[1] > 1 else y_true.reshape(len(y_true))
    elif y_pred.ndim == 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        predicted = y_pred.reshape(len(y_pred)) > 0
        labels = y_true.reshape(len(y_true)) > 0.5
    else:
        raise ValueError(
            f"accuracy: expected logits of shape (n, classes) or (n,)/(n, 1), got y_pred of shape {y_pred.shape}"
        )
    return float(numpy.count_nonzero(predicted == labels)) / len(labels)


def _aligned(y_true, y_pred, name):
    y_true, y_pred = _host(y_true), _host(y_pred)
    _check_rows(y_true, y_pred, name)
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ValueError(f"{name}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
        y_true = y_true.reshape(y_pred.shape)  # (n,) targets against (n, 1) outputs
    return y_true, y_pred


@register_metric("mse")
def mse(y_true, y_pred):
    """Mean squared error over all elements."""
    y_true, y_pred = _aligned(y_true, y_pred, "mse")
    diff = y_pred - y_true.astype(y_pred.dtype, copy=False)
    return float(numpy.mean(diff * diff))


@register_metric("mae")
def mae(y_true, y_pred):
    """Mean absolute error over all elements."""
    y_true, y_pred = _aligned(y_true, y_pred, "mae")
    return float(numpy.mean(numpy.abs(y_pred - y_true.astype(y_pred.dtype, copy=False))))


register_metric("acc", accuracy)
register_metric("mean_squared_error", mse)
register_metric("mean_absolute_error", mae)
