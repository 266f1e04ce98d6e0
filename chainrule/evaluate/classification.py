"""Classification metrics on NumPy arrays (or Tensors).

The numbers come from ``sklearn.metrics`` (imported when a metric is first called), so
they are the ones the ecosystem knows; this module adds the input checks that name
what is wrong, accepts class probabilities *or* predicted labels where that is
unambiguous, and documents shapes:

* ``y_true``: (n,) class labels.
* ``y_pred``: (n,) predicted labels.
* ``y_score``: (n,) scores/probabilities of the positive class for binary problems,
  or (n, C) class probabilities (rows summing to one) for multi-class problems.
"""

import numpy as np

from .checks import as_1d, as_array, check_finite, check_probabilities, check_same_length, check_two_classes

__all__ = [
    "accuracy", "precision", "recall", "f1", "confusion_matrix", "roc_auc", "roc_curve",
    "precision_recall_curve", "log_loss", "top_k_accuracy", "classification_summary",
]

_AVERAGES = ("binary", "macro", "micro", "weighted")


def _labels_pair(metric, y_true, y_pred):
    y_true = as_1d("y_true", y_true, metric)
    y_pred = as_1d("y_pred", y_pred, metric)
    check_same_length(metric, y_true=y_true, y_pred=y_pred)
    check_finite(metric, "y_true", y_true)
    check_finite(metric, "y_pred", y_pred)
    return y_true, y_pred


def _check_average(metric, average):
    if average not in _AVERAGES:
        raise ValueError(f"{metric}: average must be one of {_AVERAGES}, got {average!r}")


def _default_average(y_true, y_pred, average):
    """'binary' for two classes, else 'macro' — when the caller did not choose."""
    if average is not None:
        return average
    return "binary" if np.union1d(y_true, y_pred).size <= 2 else "macro"


def accuracy(y_true, y_pred, sample_weight=None):
    """Fraction of samples whose predicted label equals the true label."""
    from sklearn import metrics

    y_true, y_pred = _labels_pair("accuracy", y_true, y_pred)
    return float(metrics.accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def _prf(metric, fn_name, y_true, y_pred, average, pos_label, sample_weight):
    from sklearn import metrics

    y_true, y_pred = _labels_pair(metric, y_true, y_pred)
    average = _default_average(y_true, y_pred, average)
    _check_average(metric, average)
    if average == "binary" and np.union1d(y_true, y_pred).size > 2:
        raise ValueError(
            f"{metric}: average='binary' needs two classes, but the labels include "
            f"{np.union1d(y_true, y_pred).tolist()}; use average='macro', 'micro' or 'weighted'"
        )
    if average == "binary" and pos_label not in np.union1d(y_true, y_pred):
        present = np.union1d(y_true, y_pred).tolist()
        if len(present) == 2:
            pos_label = present[1]
    function = getattr(metrics, fn_name)
    return float(function(y_true, y_pred, average=average, pos_label=pos_label, sample_weight=sample_weight,
                          zero_division=0))


def precision(y_true, y_pred, average=None, pos_label=1, sample_weight=None):
    """Of the samples predicted as a class, the fraction that truly are (``average``: binary, macro, micro, weighted;
    default binary for two classes, else macro)."""
    return _prf("precision", "precision_score", y_true, y_pred, average, pos_label, sample_weight)


def recall(y_true, y_pred, average=None, pos_label=1, sample_weight=None):
    """Of the samples of a class, the fraction predicted as it (averages as in :func:`precision`)."""
    return _prf("recall", "recall_score", y_true, y_pred, average, pos_label, sample_weight)


def f1(y_true, y_pred, average=None, pos_label=1, sample_weight=None):
    """Harmonic mean of precision and recall (averages as in :func:`precision`)."""
    return _prf("f1", "f1_score", y_true, y_pred, average, pos_label, sample_weight)


def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """(C, C) counts: row = true class, column = predicted class (``normalize``: None, 'true', 'pred', 'all')."""
    from sklearn import metrics

    y_true, y_pred = _labels_pair("confusion_matrix", y_true, y_pred)
    return metrics.confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)


def _scores(metric, y_true, y_score, need_proba, name="y_score"):
    y_true = as_1d("y_true", y_true, metric)
    y_score = as_array(name, y_score, metric)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    if y_score.ndim not in (1, 2):
        raise ValueError(f"{metric}: {name} must have shape (n,) or (n, n_classes), got {y_score.shape}")
    check_same_length(metric, **{"y_true": y_true, name: y_score})
    check_finite(metric, "y_true", y_true)
    check_finite(metric, name, y_score)
    if need_proba or y_score.ndim == 2:
        check_probabilities(metric, name, y_score)
    return y_true, y_score


def _binary_scores(metric, y_true, y_score):
    """Binary problems accept (n,) positive-class scores or (n, 2) probabilities (column 1 used)."""
    if y_score.ndim == 2:
        if y_score.shape[1] != 2:
            raise ValueError(f"{metric}: binary y_true but y_score has {y_score.shape[1]} columns; expected 1 or 2")
        y_score = y_score[:, 1]
    return y_score


def roc_auc(y_true, y_score, multi_class="ovr", average="macro"):
    """Area under the ROC curve: binary (scores of the positive class) or one-vs-rest multi-class
    ((n, C) probabilities, ``average`` 'macro' or 'weighted')."""
    from sklearn import metrics

    y_true, y_score = _scores("roc_auc", y_true, y_score, need_proba=False)
    classes = check_two_classes("roc_auc", y_true)
    if y_score.ndim == 1 or (classes.size == 2 and y_score.shape[1] == 2):
        return float(metrics.roc_auc_score(y_true, _binary_scores("roc_auc", y_true, y_score)))
    if y_score.shape[1] != classes.size:
        raise ValueError(
            f"roc_auc: y_score has {y_score.shape[1]} columns but y_true has {classes.size} classes "
            f"({classes.tolist()}); every class needs at least one sample in y_true"
        )
    return float(metrics.roc_auc_score(y_true, y_score, multi_class=multi_class, average=average))


def roc_curve(y_true, y_score, pos_label=None):
    """(false positive rates, true positive rates, thresholds) of a binary problem."""
    from sklearn import metrics

    y_true, y_score = _scores("roc_curve", y_true, y_score, need_proba=False)
    check_two_classes("roc_curve", y_true)
    fpr, tpr, thresholds = metrics.roc_curve(y_true, _binary_scores("roc_curve", y_true, y_score), pos_label=pos_label)
    return fpr, tpr, thresholds


def precision_recall_curve(y_true, y_score, pos_label=None):
    """(precision, recall, thresholds) of a binary problem."""
    from sklearn import metrics

    y_true, y_score = _scores("precision_recall_curve", y_true, y_score, need_proba=False)
    check_two_classes("precision_recall_curve", y_true)
    scores = _binary_scores("precision_recall_curve", y_true, y_score)
    return metrics.precision_recall_curve(y_true, scores, pos_label=pos_label)


def log_loss(y_true, y_proba, labels=None, sample_weight=None):
    """Mean negative log-likelihood of the true class under predicted probabilities
    ((n,) positive-class probabilities or (n, C) rows summing to one)."""
    from sklearn import metrics

    y_true, y_proba = _scores("log_loss", y_true, y_proba, need_proba=True, name="y_proba")
    return float(metrics.log_loss(y_true, y_proba, labels=labels, sample_weight=sample_weight))


def top_k_accuracy(y_true, y_score, k=5, labels=None):
    """Fraction of samples whose true class is among the ``k`` highest scores ((n, C) scores)."""
    from sklearn import metrics

    y_true = as_1d("y_true", y_true, "top_k_accuracy")
    y_score = as_array("y_score", y_score, "top_k_accuracy")
    check_same_length("top_k_accuracy", y_true=y_true, y_score=y_score)
    check_finite("top_k_accuracy", "y_score", y_score)
    if y_score.ndim != 2:
        raise ValueError(f"top_k_accuracy: y_score must have shape (n, n_classes), got {y_score.shape}")
    if labels is None:
        labels = np.arange(y_score.shape[1])
    return float(metrics.top_k_accuracy_score(y_true, y_score, k=k, labels=labels))


def classification_summary(y_true, y_pred, y_proba=None, average="macro"):
    """The standard table of a classifier: accuracy, precision, recall, F1 (and, given probabilities,
    ROC-AUC and log loss)."""
    summary = {
        "accuracy": accuracy(y_true, y_pred),
        "precision": precision(y_true, y_pred, average=average),
        "recall": recall(y_true, y_pred, average=average),
        "f1": f1(y_true, y_pred, average=average),
    }
    if y_proba is not None:
        y_proba = np.asarray(y_proba)
        classes = np.unique(np.asarray(y_true))
        if classes.size >= 2 and (y_proba.ndim == 1 or y_proba.shape[1] == classes.size):
            summary["roc_auc"] = roc_auc(y_true, y_proba)
            labels = None if y_proba.ndim == 1 else np.arange(y_proba.shape[1])
            summary["log_loss"] = log_loss(y_true, y_proba, labels=labels)
    return summary
