"""Evaluation: metrics, validation methods, over/underfitting diagnosis, plots and reports.

- Metrics on NumPy arrays of labels, probabilities or values (scikit-learn's numbers, with input
  checks that say what is wrong): ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``,
  ``roc_curve``, ``precision_recall_curve``, ``confusion_matrix``, ``log_loss``, ``top_k_accuracy``;
  ``mse``, ``rmse``, ``mae``, ``r2``.
- Training metrics for ``fit(metrics=[...])``, computed from the model's *logits*: the registry in
  :mod:`chainrule.evaluate.metrics` (``get_metric``, ``register_metric``).
- Validation methods that train a fresh model per split: ``holdout``, ``cross_validate``,
  ``bootstrap``, ``learning_curve`` (:mod:`chainrule.evaluate.validation`).
- ``diagnose(history)``: good fit, overfitting, underfitting or not converged, with remedies.
- ``report(path, ...)``: one self-contained HTML file; plots in :mod:`chainrule.evaluate.plots`.

scikit-learn and matplotlib are imported when a function that needs them is first called.
"""

from . import plots
from .classification import (
    accuracy,
    classification_summary,
    confusion_matrix,
    f1,
    log_loss,
    precision,
    precision_recall_curve,
    recall,
    roc_auc,
    roc_curve,
    top_k_accuracy,
)
from .diagnosis import Diagnosis, diagnose
from .metrics import METRICS, get_metric, metric_name, register_metric
from .regression import mae, mse, r2, regression_summary, rmse
from .report import report
from .validation import ValidationResult, bootstrap, cross_validate, holdout, learning_curve, score_model

__all__ = [
    "accuracy", "precision", "recall", "f1", "roc_auc", "roc_curve", "precision_recall_curve",
    "confusion_matrix", "log_loss", "top_k_accuracy", "classification_summary",
    "mse", "rmse", "mae", "r2", "regression_summary",
    "METRICS", "get_metric", "metric_name", "register_metric",
    "ValidationResult", "holdout", "cross_validate", "bootstrap", "learning_curve", "score_model",
    "Diagnosis", "diagnose", "report", "plots",
]
