"""Plots of training and evaluation: loss/metric curves, confusion matrix, ROC and PR curves, learning curves.

Every function returns a ``matplotlib.figure.Figure`` drawn on the Agg canvas, built
without pyplot, so nothing needs a display and a notebook's or script's own matplotlib
backend is left alone. Save one with ``fig.savefig(path)`` or :func:`figure_to_png`.
matplotlib is imported when a plot is first made (it is in the ``train`` extra).
"""

import io

import numpy as np

__all__ = ["plot_history", "plot_confusion_matrix", "plot_roc", "plot_precision_recall", "plot_learning_curve",
           "figure_to_png"]


def _figure(ncols=1, width=5.0, height=4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return figure, axes


def figure_to_png(figure, dpi=100):
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def plot_history(history, metrics=None):
    """Training (and validation) loss per epoch, plus one panel per metric (default: all recorded)."""
    history = getattr(history, "history", history)
    if "loss" not in history:
        raise ValueError("plot_history: the history has no 'loss' entries")
    if metrics is None:
        metrics = [k for k in history if k not in ("loss", "lr") and not k.startswith("val_")]
    figure, axes = _figure(1 + len(metrics))
    for ax, key in zip(axes, ["loss"] + list(metrics)):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], label=f"training {key}")
        if f"val_{key}" in history and len(history[f"val_{key}"]):
            ax.plot(np.arange(1, len(history[f"val_{key}"]) + 1), history[f"val_{key}"], label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def plot_confusion_matrix(y_true, y_pred, class_names=None, normalize=None):
    """Confusion matrix as a heat map with counts (rows: true class, columns: predicted)."""
    from .classification import confusion_matrix

    labels = np.union1d(np.asarray(y_true), np.asarray(y_pred))
    matrix = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    names = [str(c) for c in (class_names if class_names is not None else labels)]
    size = max(4.0, 0.45 * len(names) + 2)
    figure, (ax,) = _figure(1, size + 1, size)
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 6 else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        text = f"{value:.2f}" if normalize else f"{int(value)}"
        ax.text(j, i, text, ha="center", va="center", color="white" if value > threshold else "black", fontsize=8)
    return figure


def _one_vs_rest(y_true, y_score):
    """Yield (name, binary truth, scores) per class for (n, C) scores, or once for binary scores."""
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score)
    if y_score.ndim == 1 or y_score.shape[1] == 1:
        yield "positive class", y_true, y_score.reshape(-1)
    elif y_score.shape[1] == 2:
        yield "positive class", (y_true == 1).astype(int), y_score[:, 1]
    else:
        for c in range(y_score.shape[1]):
            truth = (y_true == c).astype(int)
            if 0 < truth.sum() < truth.size:  # a curve needs both positives and negatives
                yield f"class {c}", truth, y_score[:, c]


def plot_roc(y_true, y_score):
    """ROC curve(s) with their AUC: binary, or one curve per class (one-vs-rest)."""
    from .classification import roc_curve
    from sklearn.metrics import auc

    figure, (ax,) = _figure()
    for name, truth, scores in _one_vs_rest(y_true, y_score):
        fpr, tpr, _ = roc_curve(truth, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve")
    ax.legend(fontsize=7)
    return figure


def plot_precision_recall(y_true, y_score):
    """Precision-recall curve(s): binary, or one per class (one-vs-rest)."""
    from .classification import precision_recall_curve

    figure, (ax,) = _figure()
    for name, truth, scores in _one_vs_rest(y_true, y_score):
        precision, recall, _ = precision_recall_curve(truth, scores)
        ax.plot(recall, precision, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall curve")
    ax.legend(fontsize=7)
    return figure


def plot_learning_curve(curve, metric="score"):
    """Training and validation score against training-set size (from ``validation.learning_curve``)."""
    figure, (ax,) = _figure()
    ax.plot(curve["train_sizes"], curve["train_scores"], marker="o", label="training")
    ax.plot(curve["train_sizes"], curve["val_scores"], marker="o", label="validation")
    ax.set_xlabel("training samples")
    ax.set_ylabel(metric)
    ax.set_title("Learning curve")
    ax.grid(alpha=0.3)
    ax.legend()
    return figure
