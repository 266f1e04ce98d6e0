"""Evaluation: metrics (and, later, validation methods, learning-curve diagnosis, plots and reports)."""

from .metrics import get_metric, metric_name, register_metric

__all__ = ["get_metric", "metric_name", "register_metric"]
