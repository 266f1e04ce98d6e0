"""The HTML report is self-contained: its images decode and it holds the metrics table."""

import base64
import io
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.evaluate.report import report  # noqa: E402


def _images(document):
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', document)]


def test_report_renders_metrics_plots_and_diagnosis(tmp_path):
    from matplotlib.image import imread

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 120)
    y_pred = np.where(rng.random(120) < 0.8, y_true, rng.integers(0, 3, 120))
    proba = rng.dirichlet(np.ones(3), 120)
    history = {"loss": list(np.linspace(1.0, 0.2, 10)), "val_loss": list(np.linspace(1.1, 0.3, 10)),
               "accuracy": list(np.linspace(0.5, 0.9, 10)), "val_accuracy": list(np.linspace(0.5, 0.85, 10))}
    path = report(tmp_path / "report.html", history=history, y_true=y_true, y_pred=y_pred, y_proba=proba,
                  class_names=["cat", "dog", "bird"])
    document = open(path, encoding="utf-8").read()
    assert "<table class='metrics'>" in document
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert f"<th>{name}</th>" in document
    assert "Diagnosis" in document and "Not converged" in document
    images = _images(document)
    assert len(images) == 4  # curves, confusion matrix, ROC, PR
    for png in images:
        pixels = imread(io.BytesIO(png), format="png")
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert "http://" not in document and "https://" not in document  # opens with no network


def test_report_regression_metrics_only(tmp_path):
    path = report(tmp_path / "r.html", metrics={"r2": 0.5, "rmse": 1.25}, task="regression")
    document = open(path, encoding="utf-8").read()
    assert "<th>r2</th><td class='value'>0.5000</td>" in document
    assert not _images(document)
