"""Validation methods: holdout, k-fold / stratified k-fold cross-validation, the bootstrap, learning curves.

Each method trains a *fresh* model per split from ``build_model`` (a function that
returns a new, untrained ``Module``; it may take a ``seed`` argument), with
``chainrule.train.fit(**fit_params)``, scores it on the held-out part, and returns a
:class:`ValidationResult` with per-split scores, their mean ± std (or a percentile
interval for the bootstrap) and the training histories. The splits come from
``sklearn.model_selection`` (imported when used).
"""

import inspect
from dataclasses import dataclass, field

import numpy as np

from . import classification, regression

__all__ = ["ValidationResult", "holdout", "cross_validate", "bootstrap", "learning_curve", "score_model"]

_CLASSIFICATION = {"accuracy": classification.accuracy, "f1": classification.f1,
                   "precision": classification.precision, "recall": classification.recall}
_REGRESSION = {"r2": regression.r2, "mse": regression.mse, "rmse": regression.rmse, "mae": regression.mae}


@dataclass
class ValidationResult:
    """Scores of one validation method; ``interval`` is set by the bootstrap."""

    method: str
    metric: str
    scores: list
    histories: list = field(default_factory=list)
    interval: tuple = None
    confidence: float = None

    @property
    def mean(self):
        return float(np.mean(self.scores))

    @property
    def std(self):
        return float(np.std(self.scores, ddof=1)) if len(self.scores) > 1 else 0.0

    def __str__(self):
        text = f"{self.method}: {self.metric} {self.mean:.4f} ± {self.std:.4f} over {len(self.scores)} splits"
        if self.interval is not None:
            text += f"; {100 * self.confidence:.0f}% interval [{self.interval[0]:.4f}, {self.interval[1]:.4f}]"
        return text

    def to_dict(self):
        return {"method": self.method, "metric": self.metric, "scores": [float(s) for s in self.scores],
                "mean": self.mean, "std": self.std,
                "interval": None if self.interval is None else [float(v) for v in self.interval],
                "confidence": self.confidence}


def _outputs_to_labels(outputs):
    """Class labels from logits: argmax over classes, or logit > 0 for one output column."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(len(outputs)) > 0).astype(np.int64)


def score_model(model, x, y, metric="accuracy"):
    """Score a trained model on (x, y): a metric name (accuracy, f1, precision, recall, r2, mse, rmse, mae)
    or a callable ``metric(model, x, y) -> float``."""
    if callable(metric):
        return float(metric(model, x, y))
    from ..train import predict

    outputs = predict(model, x)
    if metric in _CLASSIFICATION:
        return _CLASSIFICATION[metric](y, _outputs_to_labels(outputs))
    if metric in _REGRESSION:
        return _REGRESSION[metric](y, np.asarray(outputs).reshape(np.shape(y)))
    raise ValueError(f"score_model: unknown metric {metric!r}; expected one of "
                     f"{sorted(_CLASSIFICATION) + sorted(_REGRESSION)} or a callable")


def _build(build_model, seed):
    """Call ``build_model(seed=...)`` when it accepts a seed, else ``build_model()``."""
    try:
        takes_seed = "seed" in inspect.signature(build_model).parameters
    except (TypeError, ValueError):
        takes_seed = False
    return build_model(seed=seed) if takes_seed else build_model()


def _train_and_score(build_model, x_train, y_train, x_test, y_test, metric, fit_params, seed):
    from ..train import fit

    model = _build(build_model, seed)
    params = {"verbose": 0, "seed": seed}
    params.update(fit_params or {})
    history = fit(model, x_train, y_train, **params)
    return score_model(model, x_test, y_test, metric), history, model


def _progress(iterable, total, enabled, description):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=description, leave=False)


def _is_classification(metric):
    return metric in _CLASSIFICATION


def _check_xy(method, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{method}: x has {len(x)} samples but y has {len(y)}")
    return x, y


def holdout(build_model, x, y, test_size=0.2, stratify=None, metric="accuracy", fit_params=None, seed=0):
    """Train on one split, score on the held-out rest (stratified by class for classification metrics)."""
    from sklearn.model_selection import train_test_split

    x, y = _check_xy("holdout", x, y)
    stratify = _is_classification(metric) if stratify is None else stratify
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y if stratify else None)
    score, history, _ = _train_and_score(build_model, x_train, y_train, x_test, y_test, metric, fit_params, seed)
    return ValidationResult("holdout", metric if isinstance(metric, str) else "score", [score], [history])


def cross_validate(build_model, x, y, k=5, stratified=None, metric="accuracy", fit_params=None, seed=0,
                   progress=False):
    """k-fold cross-validation (stratified by class for classification metrics unless ``stratified=False``).

    Every fold trains a fresh model on k-1 parts and scores it on the remaining one.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    x, y = _check_xy("cross_validate", x, y)
    if k < 2:
        raise ValueError(f"cross_validate: k must be at least 2, got {k}")
    stratified = _is_classification(metric) if stratified is None else stratified
    splitter = (StratifiedKFold if stratified else KFold)(n_splits=k, shuffle=True, random_state=seed)
    scores, histories = [], []
    folds = splitter.split(x, y) if stratified else splitter.split(x)
    for fold, (train_idx, test_idx) in enumerate(_progress(folds, k, progress, "folds")):
        score, history, _ = _train_and_score(build_model, x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                                          metric, fit_params, seed + fold)
        scores.append(score)
        histories.append(history)
    name = f"{k}-fold {'stratified ' if stratified else ''}cross-validation"
    return ValidationResult(name, metric if isinstance(metric, str) else "score", scores, histories)


def bootstrap(build_model, x, y, n_rounds=20, confidence=0.95, metric="accuracy", fit_params=None, seed=0,
              progress=False):
    """The bootstrap: train on n samples drawn with replacement, score on the out-of-bag samples.

    The ``confidence`` percentile interval of the out-of-bag scores estimates where the
    model's score on new data lies.
    """
    x, y = _check_xy("bootstrap", x, y)
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap: confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    scores, histories = [], []
    n = len(x)
    for round_ in _progress(range(n_rounds), n_rounds, progress, "bootstrap"):
        sample = rng.integers(0, n, size=n)
        out_of_bag = np.setdiff1d(np.arange(n), sample)
        if out_of_bag.size == 0:
            continue
        score, history, _ = _train_and_score(build_model, x[sample], y[sample], x[out_of_bag], y[out_of_bag],
                                          metric, fit_params, seed + round_)
        scores.append(score)
        histories.append(history)
    tail = 100 * (1 - confidence) / 2
    interval = (float(np.percentile(scores, tail)), float(np.percentile(scores, 100 - tail)))
    return ValidationResult("bootstrap (out-of-bag)", metric if isinstance(metric, str) else "score", scores,
                            histories, interval=interval, confidence=confidence)


def learning_curve(build_model, x, y, train_sizes=(0.1, 0.25, 0.5, 0.75, 1.0), validation_fraction=0.2,
                   metric="accuracy", fit_params=None, seed=0):
    """Scores on the training subset and on a fixed validation split as the training set grows.

    Returns ``{"train_sizes", "train_scores", "val_scores"}`` for :func:`chainrule.evaluate.diagnose`
    and :func:`chainrule.evaluate.plots.plot_learning_curve`.
    """
    from sklearn.model_selection import train_test_split

    x, y = _check_xy("learning_curve", x, y)
    stratify = y if _is_classification(metric) else None
    x_pool, x_val, y_pool, y_val = train_test_split(x, y, test_size=validation_fraction, random_state=seed,
                                                    stratify=stratify)
    order = np.random.default_rng(seed).permutation(len(x_pool))
    sizes, train_scores, val_scores = [], [], []
    for fraction in train_sizes:
        size = max(2, int(round(fraction * len(x_pool))))
        idx = order[:size]
        val_score, _, model = _train_and_score(build_model, x_pool[idx], y_pool[idx], x_val, y_val, metric,
                                               fit_params, seed)
        sizes.append(size)
        val_scores.append(val_score)
        train_scores.append(score_model(model, x_pool[idx], y_pool[idx], metric))
    return {"train_sizes": sizes, "train_scores": train_scores, "val_scores": val_scores}
