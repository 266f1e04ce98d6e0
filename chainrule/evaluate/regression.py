"""Regression metrics on NumPy arrays (or Tensors): ``y_true`` and ``y_pred`` of shape (n,) or (n, k).

Multi-output targets are averaged uniformly over outputs (scikit-learn's default).
"""

import numpy as np

from .checks import as_array, check_finite, check_same_length

__all__ = ["mse", "rmse", "mae", "r2", "regression_summary"]


def _pair(metric, y_true, y_pred):
    y_true = as_array("y_true", y_true, metric).astype(np.float64)
    y_pred = as_array("y_pred", y_pred, metric).astype(np.float64)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_pred = y_pred[:, 0]
    check_same_length(metric, y_true=y_true, y_pred=y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{metric}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    check_finite(metric, "y_true", y_true)
    check_finite(metric, "y_pred", y_pred)
    return y_true, y_pred


def mse(y_true, y_pred, sample_weight=None):
    """Mean squared error."""
    from sklearn import metrics

    return float(metrics.mean_squared_error(*_pair("mse", y_true, y_pred), sample_weight=sample_weight))


def rmse(y_true, y_pred, sample_weight=None):
    """Root mean squared error (in the target's units)."""
    from sklearn import metrics

    return float(metrics.root_mean_squared_error(*_pair("rmse", y_true, y_pred), sample_weight=sample_weight))


def mae(y_true, y_pred, sample_weight=None):
    """Mean absolute error."""
    from sklearn import metrics

    return float(metrics.mean_absolute_error(*_pair("mae", y_true, y_pred), sample_weight=sample_weight))


def r2(y_true, y_pred, sample_weight=None):
    """Coefficient of determination: 1 - SSE/SST (1 is perfect, 0 is the mean's score)."""
    from sklearn import metrics

    y_true, y_pred = _pair("r2", y_true, y_pred)
    if len(y_true) < 2:
        raise ValueError("r2: needs at least two samples")
    return float(metrics.r2_score(y_true, y_pred, sample_weight=sample_weight))


def regression_summary(y_true, y_pred):
    """MSE, RMSE, MAE and R² in one dict."""
    return {"mse": mse(y_true, y_pred), "rmse": rmse(y_true, y_pred), "mae": mae(y_true, y_pred),
            "r2": r2(y_true, y_pred)}
