"""Validation methods: holdout, k-fold / stratified k-fold cross-validation, the bootstrap, learning curves.

Each method trains a *fresh* model per split from ``build_model`` (a function that
returns a new, untrained ``Module``; it may take a ``seed`` argument), with
``chainrule.train.fit(**fit_params)``, scores it on the held-out part with a metric of the
registry (:mod:`chainrule.evaluate.metrics`, computed from the model's outputs) or a callable
``metric(model, x, y)``, and returns a
:class:`ValidationResult` with per-split scores, their mean ± std (or a percentile
interval for the bootstrap) and the training histories. The splits come from
``sklearn.model_selection`` (imported when used).
"""

import inspect
from dataclasses import dataclass, field

import numpy as np

from .metrics import get_metric, metric_name

__all__ = ["ValidationResult", "holdout", "cross_validate", "bootstrap", "learning_curve", "score_model"]


@dataclass
class ValidationResult:
    """Scores of one validation method: ``scores`` (one per split), ``mean``/``std`` (std with ddof=1),
    ``histories`` (the ``History`` of each split's training), and for the bootstrap the percentile
    ``interval`` at ``confidence``. ``str(result)`` reads "metric mean ± std".
    """

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


def _resolve_metric(method, metric):
    """``(name, function)`` for a registered metric name, or ``(name, None)`` for a callable
    ``metric(model, x, y)``; an unknown name fails here, before any model is trained."""
    if callable(metric):
        return getattr(metric, "__name__", "score"), None
    if not isinstance(metric, str):
        raise TypeError(f"{method}: metric must be a metric name or a callable metric(model, x, y) -> float, "
                        f"got {type(metric).__name__}")
    try:
        return metric_name(metric), get_metric(metric)
    except ValueError as error:
        raise ValueError(f"{method}: {error}") from None


def score_model(model, x, y, metric="accuracy"):
    """Score a trained model on (x, y).

    ``metric`` is a name from the metric registry (:mod:`chainrule.evaluate.metrics`: ``accuracy``,
    ``f1`` (macro), ``roc_auc``, ``log_loss``, ``r2``, ``rmse``, ...), computed from the model's outputs
    (logits for classifiers), or a callable ``metric(model, x, y) -> float``.
    """
    _, function = _resolve_metric("score_model", metric)
    if function is None:
        return float(metric(model, x, y))
    from ..train import predict

    return float(function(y, predict(model, x)))


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


def _train_and_score_splits(build_model, x, y, splits, metric, fit_params, seed, name):
    """Train a fresh model on each (train rows, test rows) pair of ``splits`` (maybe wrapped in a progress
    bar) and score it on the test rows; split i trains with seed ``seed + i``. Returns (scores, histories)."""
    scores, histories = [], []
    for i, (train_idx, test_idx) in enumerate(splits):
        score, history, _ = _train_and_score(build_model, x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                                             metric, fit_params, seed + i)
        scores.append(score)
        histories.append(history)
        if hasattr(splits, "set_postfix"):  # a progress bar shows the running mean
            splits.set_postfix({name: f"{np.mean(scores):.4f}"})
    return scores, histories


def _progress(iterable, total, enabled, description):
    """``iterable`` wrapped in one tqdm progress bar when ``enabled`` (and tqdm is installed)."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=description, leave=False)


def _is_classification(metric):
    """Whether splits should be stratified by class: for classification metrics from the registry."""
    return isinstance(metric, str) and getattr(get_metric(metric), "task", None) == "classification"


def _check_xy(method, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{method}: x has {len(x)} samples but y has {len(y)}")
    if len(x) < 2:
        raise ValueError(f"{method}: needs at least 2 samples, got {len(x)}")
    return x, y


def _class_labels(y):
    """1-D class labels for stratifying: the labels, or the argmax of one-hot rows."""
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))


def _check_seed(method, seed):
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"{method}: seed must be an integer (split i uses seed + i), got {seed!r}")


def holdout(build_model, x, y, test_size=0.2, stratify=None, metric="accuracy", fit_params=None, seed=0):
    """Train on one split, score on the held-out rest (stratified by class for classification metrics).

    Parameters
    ----------
    build_model : callable
        ``build_model()`` or ``build_model(seed=...)`` -> a new, untrained Module.
    x, y : arrays
        All the data; ``test_size`` (fraction or count) of it is held out.
    stratify : bool, optional
        Keep the class proportions in both parts (default: for classification metrics).
    metric : str or callable
        A name from :mod:`chainrule.evaluate.metrics`, or ``metric(model, x, y) -> float``.
    fit_params : dict, optional
        Arguments of ``chainrule.train.fit`` (``loss``, ``epochs``, ``batch_size``, ``lr``...).
    seed : int
        Seeds the split, the model (when ``build_model`` takes ``seed``) and the training order.
    """
    from sklearn.model_selection import train_test_split

    name, _ = _resolve_metric("holdout", metric)
    _check_seed("holdout", seed)
    x, y = _check_xy("holdout", x, y)
    stratify = _is_classification(metric) if stratify is None else stratify
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=_class_labels(y) if stratify else None)
    score, history, _ = _train_and_score(build_model, x_train, y_train, x_test, y_test, metric, fit_params, seed)
    return ValidationResult("holdout", name, [score], [history])


def cross_validate(build_model, x, y, k=5, stratified=None, metric="accuracy", fit_params=None, seed=0,
                   progress=False):
    """k-fold cross-validation (stratified by class for classification metrics unless ``stratified=False``).

    Every fold trains a fresh model on k-1 parts (seed ``seed + fold``) and scores it on the remaining
    one. ``progress=True`` shows one progress bar over the folds (tqdm). Other parameters as in
    :func:`holdout`.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    name, _ = _resolve_metric("cross_validate", metric)
    _check_seed("cross_validate", seed)
    x, y = _check_xy("cross_validate", x, y)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= len(x):
        raise ValueError(f"cross_validate: k must be an integer from 2 to the number of samples ({len(x)}), got {k!r}")
    stratified = _is_classification(metric) if stratified is None else stratified
    splitter = (StratifiedKFold if stratified else KFold)(n_splits=k, shuffle=True, random_state=seed)
    folds = list(splitter.split(x, _class_labels(y)) if stratified else splitter.split(x))
    bar = _progress(folds, k, progress, "cross-validation folds")
    scores, histories = _train_and_score_splits(build_model, x, y, bar, metric, fit_params, seed, name)
    method = f"{k}-fold {'stratified ' if stratified else ''}cross-validation"
    return ValidationResult(method, name, scores, histories)


def bootstrap(build_model, x, y, n_rounds=20, confidence=0.95, metric="accuracy", fit_params=None, seed=0,
              progress=False):
    """The bootstrap: train on n samples drawn with replacement, score on the out-of-bag samples.

    Each of ``n_rounds`` rounds draws a bootstrap sample (seed ``seed``), trains a fresh model on it
    and scores it on the samples it left out (about 36.8 % of them). The ``confidence`` percentile
    interval of the out-of-bag scores estimates where the model's score on new data lies.
    Other parameters as in :func:`holdout`.
    """
    name, _ = _resolve_metric("bootstrap", metric)
    _check_seed("bootstrap", seed)
    x, y = _check_xy("bootstrap", x, y)
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap: confidence must be in (0, 1), got {confidence!r}")
    if isinstance(n_rounds, bool) or not isinstance(n_rounds, (int, np.integer)) or n_rounds < 2:
        raise ValueError(f"bootstrap: n_rounds must be an integer >= 2, got {n_rounds!r}")
    rng = np.random.default_rng(seed)
    n = len(x)
    samples = (rng.integers(0, n, size=n) for _ in range(n_rounds))
    rounds = [(sample, oob) for sample in samples if (oob := np.setdiff1d(np.arange(n), sample)).size]
    bar = _progress(rounds, len(rounds), progress, "bootstrap rounds")
    scores, histories = _train_and_score_splits(build_model, x, y, bar, metric, fit_params, seed, name)
    if len(scores) < 2:
        raise ValueError(f"bootstrap: only {len(scores)} round(s) had out-of-bag samples; use more samples")
    tail = 100 * (1 - confidence) / 2
    interval = (float(np.percentile(scores, tail)), float(np.percentile(scores, 100 - tail)))
    return ValidationResult("bootstrap (out-of-bag)", name, scores, histories, interval=interval,
                            confidence=confidence)


def learning_curve(build_model, x, y, train_sizes=(0.1, 0.25, 0.5, 0.75, 1.0), validation_fraction=0.2,
                   metric="accuracy", fit_params=None, seed=0, progress=False):
    """Scores on the training subset and on a fixed validation split as the training set grows.

    ``train_sizes`` are fractions (in (0, 1]) of the data left after holding out ``validation_fraction``
    (stratified for classification metrics). Each size trains a fresh model on the first samples of
    one fixed random order, so every subset contains the smaller ones.

    Returns ``{"train_sizes": [...], "train_scores": [...], "val_scores": [...]}`` (one entry per
    size) for :func:`chainrule.evaluate.diagnose` and :func:`chainrule.evaluate.plots.plot_learning_curve`.
    """
    from sklearn.model_selection import train_test_split

    _resolve_metric("learning_curve", metric)
    _check_seed("learning_curve", seed)
    x, y = _check_xy("learning_curve", x, y)
    fractions = np.asarray(train_sizes, dtype=np.float64).reshape(-1)
    if fractions.size == 0 or not np.all((fractions > 0) & (fractions <= 1)):
        raise ValueError(f"learning_curve: train_sizes must be fractions in (0, 1], got {list(train_sizes)!r}")
    stratify = _class_labels(y) if _is_classification(metric) else None
    x_pool, x_val, y_pool, y_val = train_test_split(x, y, test_size=validation_fraction, random_state=seed,
                                                    stratify=stratify)
    order = np.random.default_rng(seed).permutation(len(x_pool))
    sizes, train_scores, val_scores = [], [], []
    for fraction in _progress(fractions, fractions.size, progress, "learning curve"):
        size = max(2, int(round(fraction * len(x_pool))))
        idx = order[:size]
        val_score, _, model = _train_and_score(build_model, x_pool[idx], y_pool[idx], x_val, y_val, metric,
                                               fit_params, seed)
        sizes.append(size)
        val_scores.append(val_score)
        train_scores.append(score_model(model, x_pool[idx], y_pool[idx], metric))
    return {"train_sizes": sizes, "train_scores": train_scores, "val_scores": val_scores}
