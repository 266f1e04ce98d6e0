"""One self-contained HTML evaluation report: metrics table, plots, diagnosis, model summary.

The plots are PNGs embedded as ``data:`` URIs and there is no script or external
stylesheet, so the file opens in any browser with no network.
"""

import base64
import datetime
import html
import os

import numpy as np

from .._atomic import atomic_write
from . import plots

__all__ = ["report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table.metrics { border-collapse: collapse; } table.metrics td, table.metrics th { padding: 4px 12px;
border-bottom: 1px solid #eee; text-align: left; } td.value { font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; } img { max-width: 100%; }
.verdict { font-weight: bold; }
"""


def _image(figure, alt):
    data = base64.b64encode(plots.figure_to_png(figure)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _format(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.4f}"
    return html.escape(str(value))


def _metrics_table(metrics):
    rows = "".join(f"<tr><th>{html.escape(str(name))}</th><td class='value'>{_format(value)}</td></tr>"
                   for name, value in metrics.items())
    return f"<table class='metrics'><tr><th>metric</th><th>value</th></tr>{rows}</table>"


def _model_text(model):
    if model is None:
        return None
    count = sum(int(np.prod(p.shape)) for p in model.parameters()) if hasattr(model, "parameters") else None
    text = repr(model)
    if count is not None:
        text += f"\n\ntrainable parameters: {count:,}"
    return text


def report(path, *, metrics=None, history=None, y_true=None, y_pred=None, y_proba=None, model=None,
           task="classification", class_names=None, title="chainrule evaluation report", diagnosis=None,
           notes=None):
    """Write an HTML report to ``path`` and return the path.

    Parameters
    ----------
    metrics : dict, optional
        Name -> value, shown as a table. For classification with ``y_true``/``y_pred`` and no
        ``metrics``, accuracy, precision, recall and F1 are computed.
    history : History or dict, optional
        Adds the loss/metric curves and the over/underfitting diagnosis.
    y_true, y_pred : (n,) arrays, optional
        Adds the confusion matrix (classification).
    y_proba : (n,) or (n, C) probabilities, optional
        Adds the ROC and precision-recall curves (classification).
    model : Module, optional
        Adds the architecture and parameter count.
    """
    from .classification import classification_summary
    from .diagnosis import diagnose

    sections = []
    if metrics is None and task == "classification" and y_true is not None and y_pred is not None:
        metrics = classification_summary(y_true, y_pred, y_proba)
    if metrics:
        sections.append(("Metrics", _metrics_table(metrics)))
    if history is not None:
        hist = getattr(history, "history", history)
        if diagnosis is None and hist.get("loss"):
            diagnosis = diagnose(hist)
        sections.append(("Training curves", _image(plots.plot_history(hist), "training curves")))
    if diagnosis is not None:
        remedies = "".join(f"<li>{html.escape(r)}</li>" for r in diagnosis.remedies)
        sections.append(("Diagnosis", f"<p class='verdict'>{html.escape(diagnosis.title)}</p>"
                                      f"<p>{html.escape(diagnosis.explanation)}</p>"
                                      + (f"<ul>{remedies}</ul>" if remedies else "")))
    if task == "classification" and y_true is not None and y_pred is not None:
        sections.append(("Confusion matrix",
                         _image(plots.plot_confusion_matrix(y_true, y_pred, class_names), "confusion matrix")))
    if task == "classification" and y_true is not None and y_proba is not None:
        sections.append(("ROC and precision-recall curves",
                         _image(plots.plot_roc(y_true, y_proba), "ROC curve")
                         + _image(plots.plot_precision_recall(y_true, y_proba), "precision-recall curve")))
    model_text = _model_text(model)
    if model_text:
        sections.append(("Model", f"<pre>{html.escape(model_text)}</pre>"))
    if notes:
        sections.append(("Notes", f"<p>{html.escape(notes)}</p>"))

    created = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    body = "".join(f"<h2>{html.escape(name)}</h2>\n{content}\n" for name, content in sections)
    document = (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
                f"<p>Created {created}.</p>\n{body}</body></html>\n")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with atomic_write(path, "w") as handle:  # a crash leaves the previous report or none, never half of one
        handle.write(document)
    return path
