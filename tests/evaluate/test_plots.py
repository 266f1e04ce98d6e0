"""Every plot renders off-screen (Agg, no pyplot) to a PNG that decodes."""

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.evaluate import plots  # noqa: E402


def _decode(figure):
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(plots.figure_to_png(figure, dpi=50)), format="png")
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 50
    return figure


def test_every_plot_renders():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    proba = rng.dirichlet(np.ones(3), 90)
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "accuracy": [0.5, 0.7, 0.8], "lr": [1e-3] * 3}
    figure = _decode(plots.plot_history(history))
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]  # lr is not a panel
    _decode(plots.plot_confusion_matrix(y, proba.argmax(axis=1), class_names=["a", "b", "c"]))
    assert len(_decode(plots.plot_roc(y, proba)).axes[0].lines) == 4  # one per class + chance
    binary = (y == 0).astype(int)
    _decode(plots.plot_roc(binary, proba[:, 0]))
    _decode(plots.plot_precision_recall(binary, proba[:, 0]))
    curve = {"train_sizes": [10, 20, 40], "train_scores": [1.0, 0.95, 0.93], "val_scores": [0.7, 0.8, 0.85]}
    figure = _decode(plots.plot_learning_curve(curve, metric="accuracy"))
    assert figure.axes[0].get_ylabel() == "accuracy"


def test_plot_history_needs_a_loss():
    with pytest.raises(ValueError, match="no 'loss'"):
        plots.plot_history({"accuracy": [0.5]})


def test_roc_skips_classes_absent_from_y_true():
    # three probability columns but only classes 0 and 1 in the evaluation data: one curve per class present
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 50)
    figure = plots.plot_roc(y_true, rng.dirichlet(np.ones(3), 50))
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert len(labels) == 3  # two classes and the chance line
    assert labels[0].startswith("class 0 (AUC") and labels[1].startswith("class 1 (AUC") and labels[2] == "chance"
