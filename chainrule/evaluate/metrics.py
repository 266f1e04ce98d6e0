"""Metrics computed from model outputs and targets, and a registry of them by name.

A registered metric is a function ``metric(y_true, y_pred) -> float`` where

- ``y_true`` are the targets as given to ``fit``/``evaluate``: integer class labels ``(n,)``,
  one-hot or probability rows ``(n, classes)``, 0/1 labels for binary tasks, or real values;
- ``y_pred`` is the model's raw output: **logits** for classification (``(n, classes)``, or
  ``(n,)``/``(n, 1)`` for one binary logit), values for regression.

Classification metrics turn logits into labels (``argmax``, or ``logit > 0`` for one binary
logit) and probabilities (softmax, or sigmoid) themselves.

=====================  ==========================================================  ==========
name                   what                                                        per batch
=====================  ==========================================================  ==========
``accuracy``           fraction of correct labels                                  yes
``top_k_accuracy``     true class among the ``k`` largest logits (``top_3_accuracy``  yes
                       etc. choose ``k``; default 5)
``log_loss``           mean negative log-likelihood of the true class              yes
``precision``          macro-averaged precision (``precision_micro``, ``_weighted``)  no
``recall``             macro-averaged recall (likewise)                            no
``f1``                 macro-averaged F1 (likewise)                                no
``roc_auc``            ROC-AUC: binary, or one-vs-rest macro average               no
``mse`` / ``mae``      mean squared / absolute error over all elements              yes
``rmse``               root mean squared error (averaged over outputs)             no
``r2``                 coefficient of determination (averaged over outputs)        no
=====================  ==========================================================  ==========

**Per batch or per epoch.** A metric whose epoch value is the sample-weighted mean of its
batch values (a mean over samples: accuracy, log loss, mse...) has ``batchwise = True``:
``fit`` computes it on every batch and averages. The others (F1, ROC-AUC, R², RMSE) are not
means over samples; they carry ``batchwise = False`` and ``fit`` computes them once per epoch
over all of the epoch's outputs and targets, as Keras's stateful metrics do. (Training-set
values therefore mix outputs of the weights as they were at each batch; validation values and
``evaluate`` use one set of weights.) A callable you pass is treated as batchwise unless it
sets ``fn.batchwise = False``. Sample weights are not applied to metrics.

Each metric also says ``task`` (``"classification"``/``"regression"``) and
``greater_is_better``. The numbers equal scikit-learn's (``tests/evaluate/test_metrics_registry.py``);
the per-epoch ones call ``sklearn.metrics`` through :mod:`chainrule.evaluate.classification`
and :mod:`chainrule.evaluate.regression`, the per-batch ones are NumPy (they run in the
training loop).

The registry is a plain dict from name to function: ``get_metric("accuracy")`` looks a name up,
``register_metric("name", fn)`` adds one (also usable as a decorator). A callable passed where a
metric is expected is used as is and reported under its ``__name__`` — except the label-based
functions of :mod:`chainrule.evaluate` (``chainrule.evaluate.f1`` ...), which are swapped for
their logit-based counterparts here.
"""

import re
import warnings

import numpy

from . import classification, regression

__all__ = [
    "get_metric", "metric_name", "register_metric", "METRICS",
    "accuracy", "top_k_accuracy", "log_loss", "precision", "recall", "f1", "roc_auc",
    "mse", "rmse", "mae", "r2", "logits_to_labels", "logits_to_probabilities",
]

METRICS = {}
"""Registered metrics: name -> ``fn(y_true, y_pred) -> float``."""


def register_metric(name, fn=None, *, batchwise=None, task=None, greater_is_better=None):
    """Register ``fn`` under ``name`` (returns ``fn``; without ``fn``, returns a decorator).

    ``batchwise``, ``task`` and ``greater_is_better``, when given, are set as attributes of ``fn``
    (see the module docstring).
    """
    if fn is None:
        return lambda f: register_metric(name, f, batchwise=batchwise, task=task, greater_is_better=greater_is_better)
    if not callable(fn):
        raise TypeError(f"register_metric: {name!r} must be registered with a callable, got {type(fn).__name__}")
    for attribute, value in (("batchwise", batchwise), ("task", task), ("greater_is_better", greater_is_better)):
        if value is not None:
            setattr(fn, attribute, value)
    METRICS[name.lower()] = fn
    return fn


_TOP_K = re.compile(r"top_(\d+)_accuracy$")


def get_metric(name_or_callable):
    """The metric function for a registered name, or a callable returned unchanged.

    ``"top_<k>_accuracy"`` names build a top-k accuracy for that ``k``; the label-based functions of
    ``chainrule.evaluate`` (``classification.f1`` ...) map to their logit-based versions here.
    """
    if callable(name_or_callable):
        return _FROM_LABEL_FUNCTIONS.get(name_or_callable, name_or_callable)
    if isinstance(name_or_callable, str):
        key = name_or_callable.lower()
        if key in METRICS:
            return METRICS[key]
        match = _TOP_K.match(key)
        if match and int(match.group(1)) >= 1:
            return _top_k_metric(int(match.group(1)))
        raise ValueError(f"unknown metric {name_or_callable!r}; known metrics: {', '.join(sorted(METRICS))} "
                         "(and top_<k>_accuracy)")
    raise TypeError(f"a metric must be a name or a callable, got {type(name_or_callable).__name__}")


def metric_name(name_or_callable):
    """The name a metric is reported under: the registered name or the function's ``__name__``."""
    if isinstance(name_or_callable, str):
        return name_or_callable.lower()
    if name_or_callable in _FROM_LABEL_FUNCTIONS:
        return _FROM_LABEL_FUNCTIONS[name_or_callable].__name__
    return getattr(name_or_callable, "__name__", type(name_or_callable).__name__)


# --------------------------------------------------------------- conversions
def _host(array):
    if hasattr(array, "numpy") and not isinstance(array, numpy.ndarray):  # a chainrule Tensor
        array = array.numpy()
    return numpy.asarray(array)


def _check_rows(y_true, y_pred, name):
    if len(y_true) != len(y_pred):
        raise ValueError(f"{name}: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}")


def _check_finite_outputs(y_pred, name):
    if y_pred.dtype.kind in "fc" and not numpy.isfinite(y_pred).all():
        where = tuple(int(i) for i in numpy.argwhere(~numpy.isfinite(y_pred))[0])
        raise ValueError(f"{name}: y_pred (the model's outputs) contains {y_pred[where]} at index "
                         f"{where[0] if len(where) == 1 else where}")


def _one_logit(y_pred):
    return y_pred.ndim == 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1)


def _prepare(y_true, y_pred, name):
    """Host arrays, same number of rows, finite outputs, logits of a known shape."""
    y_true, y_pred = _host(y_true), _host(y_pred)
    _check_rows(y_true, y_pred, name)
    if y_pred.ndim not in (1, 2):
        raise ValueError(
            f"{name}: expected logits of shape (n, classes) or (n,)/(n, 1), got y_pred of shape {y_pred.shape}")
    _check_finite_outputs(y_pred, name)
    return y_true, y_pred


def _true_labels(y_true, y_pred):
    """Class indices from labels, one-hot/probability rows (argmax), or 0/1 targets of one binary logit."""
    if _one_logit(y_pred):
        return (y_true.reshape(len(y_true)) > 0.5).astype(numpy.int64)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        return y_true.argmax(axis=1)
    return y_true.reshape(len(y_true))


def logits_to_labels(y_pred):
    """Predicted class indices: ``argmax`` over classes, or ``logit > 0`` for one binary logit."""
    y_pred = _host(y_pred)
    if _one_logit(y_pred):
        return (y_pred.reshape(len(y_pred)) > 0).astype(numpy.int64)
    return y_pred.argmax(axis=1)


def logits_to_probabilities(y_pred):
    """Class probabilities in float64: softmax rows ``(n, classes)``, or sigmoid ``(n,)`` for one binary logit."""
    y_pred = _host(y_pred).astype(numpy.float64)
    if _one_logit(y_pred):
        z = y_pred.reshape(len(y_pred))
        # σ(z) = 1 / (1 + e^-z), written to never exponentiate a large positive number
        e = numpy.exp(-numpy.abs(z))
        return numpy.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    shifted = y_pred - y_pred.max(axis=1, keepdims=True)
    exp = numpy.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _log_probabilities(y_pred):
    """log softmax (n, classes), or (log σ(z), log(1-σ(z))) columns for one binary logit, in float64."""
    y_pred = _host(y_pred).astype(numpy.float64)
    if _one_logit(y_pred):
        z = y_pred.reshape(len(y_pred))
        # log σ(z) = -softplus(-z), log(1 - σ(z)) = -softplus(z)
        return numpy.stack([-numpy.logaddexp(0.0, z), -numpy.logaddexp(0.0, -z)], axis=1)
    shifted = y_pred - y_pred.max(axis=1, keepdims=True)
    return shifted - numpy.log(numpy.exp(shifted).sum(axis=1, keepdims=True))


# ------------------------------------------------------ classification (logits)
@register_metric("accuracy", batchwise=True, task="classification", greater_is_better=True)
def accuracy(y_true, y_pred):
    """Fraction of correctly classified samples, from logits.

    ``y_pred`` of shape ``(n, classes)`` with ``classes > 1`` predicts ``argmax``; ``(n,)`` or
    ``(n, 1)`` is one binary logit per sample, predicting class 1 where the logit is > 0.
    ``y_true`` holds class indices, or rows (one-hot or probabilities) compared by ``argmax``.
    """
    y_true, y_pred = _prepare(y_true, y_pred, "accuracy")
    if len(y_true) == 0:
        return float("nan")
    labels = _true_labels(y_true, y_pred)
    return float(numpy.count_nonzero(logits_to_labels(y_pred) == labels)) / len(labels)


def _top_k(y_true, y_pred, k, name):
    y_true, y_pred = _prepare(y_true, y_pred, name)
    if _one_logit(y_pred):
        raise ValueError(f"{name}: needs logits of shape (n, classes) with classes > 1, got {y_pred.shape}")
    if len(y_true) == 0:
        return float("nan")
    labels = _true_labels(y_true, y_pred)
    if k >= y_pred.shape[1]:
        return 1.0
    # ties broken as scikit-learn's top_k_accuracy_score does: stable ascending sort, reversed
    top = numpy.argsort(y_pred, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float(numpy.count_nonzero((top == labels[:, None]).any(axis=1))) / len(labels)


def _top_k_metric(k):
    def metric(y_true, y_pred):
        return _top_k(y_true, y_pred, k, f"top_{k}_accuracy")

    metric.__name__ = f"top_{k}_accuracy"
    metric.__doc__ = f"Fraction of samples whose true class is among the {k} largest logits."
    metric.batchwise, metric.task, metric.greater_is_better = True, "classification", True
    return metric


@register_metric("top_k_accuracy", batchwise=True, task="classification", greater_is_better=True)
def top_k_accuracy(y_true, y_pred, k=5):
    """Fraction of samples whose true class is among the ``k`` largest logits (default 5;
    ``get_metric("top_3_accuracy")`` for another ``k``)."""
    return _top_k(y_true, y_pred, k, "top_k_accuracy")


@register_metric("log_loss", batchwise=True, task="classification", greater_is_better=False)
def log_loss(y_true, y_pred):
    """Mean negative log-likelihood of the true class, ``-mean(log softmax(logits)[y])``
    (sigmoid for one binary logit). Soft targets (probability rows) give the cross-entropy
    ``-mean(Σ_c t_c log p_c)``. Computed from the logits, so no probability is clipped."""
    y_true, y_pred = _prepare(y_true, y_pred, "log_loss")
    if len(y_true) == 0:
        return float("nan")
    log_p = _log_probabilities(y_pred)
    if _one_logit(y_pred):
        t = y_true.reshape(len(y_true)).astype(numpy.float64)
        return float(-numpy.mean((1.0 - t) * log_p[:, 0] + t * log_p[:, 1]))
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        if y_true.shape != y_pred.shape:
            raise ValueError(f"log_loss: target rows of shape {y_true.shape} do not match logits {y_pred.shape}")
        return float(-numpy.mean((y_true.astype(numpy.float64) * log_p).sum(axis=1)))
    labels = y_true.reshape(len(y_true)).astype(numpy.int64)
    if labels.min() < 0 or labels.max() >= y_pred.shape[1]:
        raise ValueError(f"log_loss: class labels must lie in [0, {y_pred.shape[1] - 1}] for "
                         f"{y_pred.shape[1]} logits, got labels from {labels.min()} to {labels.max()}")
    return float(-numpy.mean(log_p[numpy.arange(len(labels)), labels]))


def _label_metric(function, average, name):
    def metric(y_true, y_pred):
        y_true, y_pred = _prepare(y_true, y_pred, name)
        return function(_true_labels(y_true, y_pred), logits_to_labels(y_pred), average=average)

    metric.__name__ = name
    metric.__doc__ = (f"{average.capitalize()}-averaged {function.__name__} of the predicted labels "
                      f"(argmax of the logits); see chainrule.evaluate.classification.{function.__name__}.")
    return metric


precision = register_metric("precision", _label_metric(classification.precision, "macro", "precision"),
                            batchwise=False, task="classification", greater_is_better=True)
recall = register_metric("recall", _label_metric(classification.recall, "macro", "recall"),
                         batchwise=False, task="classification", greater_is_better=True)
f1 = register_metric("f1", _label_metric(classification.f1, "macro", "f1"),
                     batchwise=False, task="classification", greater_is_better=True)
for _function in (classification.precision, classification.recall, classification.f1):
    for _average in ("macro", "micro", "weighted"):
        _name = f"{_function.__name__}_{_average}"
        register_metric(_name, _label_metric(_function, _average, _name),
                        batchwise=False, task="classification", greater_is_better=True)
del _function, _average, _name


@register_metric("roc_auc", batchwise=False, task="classification", greater_is_better=True)
def roc_auc(y_true, y_pred):
    """Area under the ROC curve from logits.

    Binary (one logit, or two columns): ranked by the logit (``z₁ - z₀`` for two columns — the
    same order as the probability, without float saturation ties). More classes: one-vs-rest,
    macro-averaged over the classes present in ``y_true`` (scikit-learn's ``multi_class="ovr"``
    when every class is present). NaN, with a warning, when ``y_true`` holds a single class.
    """
    from sklearn import metrics

    y_true, y_pred = _prepare(y_true, y_pred, "roc_auc")
    labels = _true_labels(y_true, y_pred)
    present = numpy.unique(labels)
    if present.size < 2:
        warnings.warn(f"roc_auc: the targets hold one class only ({present.tolist()}); ROC-AUC is undefined "
                      "and reported as NaN", RuntimeWarning, stacklevel=2)
        return float("nan")
    if _one_logit(y_pred):
        return float(metrics.roc_auc_score(labels, y_pred.reshape(len(y_pred))))
    if y_pred.shape[1] == 2:
        scores = y_pred[:, 1].astype(numpy.float64) - y_pred[:, 0]
        return float(metrics.roc_auc_score(labels == 1, scores))
    proba = logits_to_probabilities(y_pred)
    if present.size == y_pred.shape[1]:
        return float(metrics.roc_auc_score(labels, proba, multi_class="ovr", average="macro"))
    return float(numpy.mean([metrics.roc_auc_score(labels == c, proba[:, c]) for c in present]))


# ------------------------------------------------------------------ regression
def _aligned(y_true, y_pred, name):
    y_true, y_pred = _host(y_true), _host(y_pred)
    _check_rows(y_true, y_pred, name)
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ValueError(f"{name}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
        y_true = y_true.reshape(y_pred.shape)  # (n,) targets against (n, 1) outputs
    _check_finite_outputs(y_pred, name)
    return y_true, y_pred


@register_metric("mse", batchwise=True, task="regression", greater_is_better=False)
def mse(y_true, y_pred):
    """Mean squared error over all elements."""
    y_true, y_pred = _aligned(y_true, y_pred, "mse")
    diff = y_pred - y_true.astype(y_pred.dtype, copy=False)
    return float(numpy.mean(diff * diff))


@register_metric("mae", batchwise=True, task="regression", greater_is_better=False)
def mae(y_true, y_pred):
    """Mean absolute error over all elements."""
    y_true, y_pred = _aligned(y_true, y_pred, "mae")
    return float(numpy.mean(numpy.abs(y_pred - y_true.astype(y_pred.dtype, copy=False))))


@register_metric("rmse", batchwise=False, task="regression", greater_is_better=False)
def rmse(y_true, y_pred):
    """Root mean squared error (per output, then averaged over outputs, as scikit-learn does)."""
    return regression.rmse(*_aligned(y_true, y_pred, "rmse"))


@register_metric("r2", batchwise=False, task="regression", greater_is_better=True)
def r2(y_true, y_pred):
    """Coefficient of determination R² (per output, then averaged over outputs)."""
    return regression.r2(*_aligned(y_true, y_pred, "r2"))


register_metric("acc", accuracy)
register_metric("mean_squared_error", mse)
register_metric("mean_absolute_error", mae)
register_metric("root_mean_squared_error", rmse)
register_metric("auc", roc_auc)
register_metric("cross_entropy", log_loss)

# the label/probability functions of chainrule.evaluate, used where a training metric is expected
_FROM_LABEL_FUNCTIONS = {
    classification.accuracy: accuracy, classification.precision: precision, classification.recall: recall,
    classification.f1: f1, classification.roc_auc: roc_auc, classification.log_loss: log_loss,
    classification.top_k_accuracy: top_k_accuracy, regression.mse: mse, regression.mae: mae,
    regression.rmse: rmse, regression.r2: r2,
}
