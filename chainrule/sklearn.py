"""scikit-learn estimators backed by chainrule networks.

``NeuralNetClassifier`` and ``NeuralNetRegressor`` follow scikit-learn's conventions:
hyper-parameters in ``__init__`` (stored unchanged), learned state in attributes ending in
``_``, parameters validated at ``fit`` with messages that quote the received value,
``predict``/``predict_proba``/``score``, and ``partial_fit`` for incremental training
(early stopping included). They work in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``. By default they build a multi-layer perceptron from
``hidden_layer_sizes``; pass ``module=`` to train any ``chainrule.nn.Module`` instead
(a Module instance, copied fresh for every ``fit``, or a function
``(n_features, n_outputs) -> Module``).

Importing this module imports scikit-learn.
"""

import copy
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu")
_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


def _mlp(n_features, n_outputs, hidden_layer_sizes, activation, dropout, seed, dtype):
    """Linear → activation (→ Dropout) per hidden layer, then a linear output layer of ``n_outputs`` logits."""
    from . import nn

    activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "elu": nn.ELU,
                   "leaky_relu": nn.LeakyReLU}
    rng = np.random.default_rng(seed)
    layers, width = [], n_features
    for units in hidden_layer_sizes:
        layers += [nn.Linear(width, units, seed=rng, dtype=dtype), activations[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout, seed=rng))
        width = units
    layers.append(nn.Linear(width, n_outputs, seed=rng, dtype=dtype))
    return nn.Sequential(*layers)


class _BaseNeuralNet(BaseEstimator):
    """What both estimators share: validation, building the network, the training loop."""

    _loss = None  # set by subclasses

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam", learning_rate=1e-3,
                 epochs=200, batch_size=32, weight_decay=0.0, dropout=0.0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, module=None, random_state=None,
                 verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.module = module
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ validation
    def _validate_params(self):
        def bad(name, expected):
            value = getattr(self, name)
            raise ValueError(f"{type(self).__name__}: parameter {name!r} must be {expected}, got {value!r}")

        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            bad("hidden_layer_sizes", "a tuple of positive integers")
        if self.activation not in _ACTIVATIONS:
            bad("activation", f"one of {_ACTIVATIONS}")
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in _OPTIMIZERS:
            bad("optimizer", f"one of {_OPTIMIZERS}")
        if not isinstance(self.learning_rate, numbers.Real) or not self.learning_rate > 0:
            bad("learning_rate", "a positive number")
        if not isinstance(self.epochs, numbers.Integral) or self.epochs < 1:
            bad("epochs", "a positive integer")
        if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1:
            bad("batch_size", "a positive integer")
        if not isinstance(self.weight_decay, numbers.Real) or self.weight_decay < 0:
            bad("weight_decay", "a non-negative number")
        if not isinstance(self.dropout, numbers.Real) or not 0 <= self.dropout < 1:
            bad("dropout", "a number in [0, 1)")
        if not 0 < self.validation_fraction < 1:
            bad("validation_fraction", "a number in (0, 1)")
        if not isinstance(self.n_iter_no_change, numbers.Integral) or self.n_iter_no_change < 1:
            bad("n_iter_no_change", "a positive integer")
        if self.module is not None and not callable(self.module) and not hasattr(self.module, "parameters"):
            bad("module", "None, a chainrule.nn.Module or a function (n_features, n_outputs) -> Module")
        return tuple(int(s) for s in sizes)

    # --------------------------------------------------------------- network
    def _build_network(self, n_features, n_outputs, rng):
        from .nn import Module

        if self.module is None:
            sizes = self._validate_params()
            return _mlp(n_features, n_outputs, sizes, self.activation, self.dropout, rng, np.float32)
        if isinstance(self.module, Module):
            return copy.deepcopy(self.module)  # a fresh copy per fit: the user's instance is never trained
        return self.module(n_features, n_outputs)

    def _make_optimizer(self, parameters):
        from . import optim

        kinds = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "rmsprop": optim.RMSprop,
                 "adagrad": optim.Adagrad}
        kind = self.optimizer.lower()
        kwargs = {"lr": float(self.learning_rate), "weight_decay": float(self.weight_decay)}
        if kind == "sgd":
            kwargs["momentum"] = 0.9
        return kinds[kind](parameters, **kwargs)

    def _initialize(self, X, n_outputs):
        self._validate_params()
        self._rng = np.random.default_rng(self.random_state)
        self.network_ = self._build_network(X.shape[1], n_outputs, self._rng)
        self.optimizer_ = self._make_optimizer(list(self.network_.parameters()))
        self.history_ = {"loss": [], "val_loss": []}
        self.n_iter_ = 0
        self.best_loss_ = np.inf
        self._best_state = None
        self._no_improvement = 0
        self.stopped_early_ = False

    # -------------------------------------------------------------- training
    def _targets(self, y):
        raise NotImplementedError

    def _sample_weight(self, y_encoded, sample_weight):
        return sample_weight

    def _split_validation(self, X, y, sample_weight):
        """Hold out ``validation_fraction`` of the samples (stratified for classifiers) for early stopping."""
        from sklearn.model_selection import train_test_split

        stratify = y if self._stratify_validation(y) else None
        index = np.arange(len(X))
        seed = int(self._rng.integers(2**31))
        train_idx, val_idx = train_test_split(index, test_size=self.validation_fraction, random_state=seed,
                                              stratify=stratify)
        weight = None if sample_weight is None else sample_weight[train_idx]
        return X[train_idx], y[train_idx], weight, X[val_idx], y[val_idx]

    def _stratify_validation(self, y):
        return False

    def _run_epochs(self, X, y, sample_weight, epochs):
        """Train ``epochs`` epochs with ``chainrule.train.fit``; track early stopping on held-out data."""
        from .train import evaluate, fit

        if self.stopped_early_:
            return
        weight = self._sample_weight(y, sample_weight)
        if self.early_stopping and len(X) >= 4:
            X, y, weight, X_val, y_val = self._split_validation(X, y, weight)
        else:
            X_val = y_val = None
        for _ in range(epochs):
            history = fit(self.network_, X, y, loss=self._loss, optimizer=self.optimizer_, epochs=1,
                          batch_size=min(self.batch_size, len(X)), shuffle=True,
                          seed=int(self._rng.integers(2**31)), verbose=self.verbose, sample_weight=weight)
            self.n_iter_ += 1
            loss = float(history.history["loss"][-1])
            self.history_["loss"].append(loss)
            monitored = loss
            if X_val is not None:
                monitored = float(evaluate(self.network_, X_val, y_val, loss=self._loss)["loss"])
                self.history_["val_loss"].append(monitored)
            if monitored < self.best_loss_ - self.tol:
                self.best_loss_ = monitored
                self._no_improvement = 0
                if self.early_stopping:
                    self._best_state = self.network_.state_dict()
            else:
                self._no_improvement += 1
            if self.early_stopping and self._no_improvement >= self.n_iter_no_change:
                if self._best_state is not None:
                    self.network_.load_state_dict(self._best_state)
                self.stopped_early_ = True
                break
        self.loss_ = self.history_["loss"][-1]

    def _forward(self, X):
        from .train import predict

        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return np.asarray(predict(self.network_, X), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """A neural-network classifier: softmax cross-entropy over the network's logits.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units per hidden layer of the default MLP (ignored when ``module`` is given).
    activation : {'relu', 'tanh', 'sigmoid', 'gelu', 'elu', 'leaky_relu'}
    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'}
    learning_rate : float
    epochs : int
        Epochs of ``fit`` (``partial_fit`` trains one epoch per call).
    batch_size : int
    weight_decay : float
        L2 penalty (decoupled for AdamW).
    dropout : float
        Dropout rate after each hidden activation.
    early_stopping : bool
        Hold out ``validation_fraction`` (stratified) and stop when its loss has not improved
        by ``tol`` for ``n_iter_no_change`` epochs, restoring the best weights.
    class_weight : None, 'balanced' or dict
        Per-class loss weights (``'balanced'``: n_samples / (n_classes · count(class))).
    module : Module or callable, optional
        Your own network: a ``chainrule.nn.Module`` (copied for each fit) or
        ``module(n_features, n_classes) -> Module``; its outputs are the class logits.
    random_state : int or None

    Attributes
    ----------
    classes_, n_features_in_, network_, optimizer_, history_, n_iter_, loss_, stopped_early_
    """

    _loss = "cross_entropy"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam", learning_rate=1e-3,
                 epochs=200, batch_size=32, weight_decay=0.0, dropout=0.0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, class_weight=None, module=None,
                 random_state=None, verbose=0):
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, activation=activation, optimizer=optimizer,
                         learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                         weight_decay=weight_decay, dropout=dropout, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change, tol=tol,
                         module=module, random_state=random_state, verbose=verbose)
        self.class_weight = class_weight

    def _stratify_validation(self, y):
        counts = np.bincount(y)
        return counts[counts > 0].min() >= 2

    def _sample_weight(self, y_encoded, sample_weight):
        from sklearn.utils.class_weight import compute_sample_weight

        if self.class_weight is None:
            return sample_weight
        if isinstance(self.class_weight, dict):
            mapping = {int(np.flatnonzero(self.classes_ == label)[0]): weight
                       for label, weight in self.class_weight.items() if label in self.classes_}
            class_weights = compute_sample_weight(mapping, y_encoded)
        elif self.class_weight == "balanced":
            class_weights = compute_sample_weight("balanced", y_encoded)
        else:
            raise ValueError(f"NeuralNetClassifier: parameter 'class_weight' must be None, 'balanced' or a dict, "
                             f"got {self.class_weight!r}")
        weights = class_weights if sample_weight is None else class_weights * sample_weight
        return weights.astype(np.float32)

    def _encode(self, y):
        check_classification_targets(y)
        lookup = np.searchsorted(self.classes_, y)
        lookup = np.clip(lookup, 0, len(self.classes_) - 1)
        unknown = self.classes_[lookup] != y
        if unknown.any():
            raise ValueError(f"NeuralNetClassifier: y contains labels {np.unique(y[unknown]).tolist()} that are not "
                             f"in classes_ {self.classes_.tolist()}")
        return lookup.astype(np.int64)

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network for ``epochs`` epochs. ``X`` (n, d), ``y`` (n,) labels of any type."""
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_ = unique_labels(y)
        sample_weight = _check_sample_weight(sample_weight, X)
        self._initialize(X, len(self.classes_))
        self._run_epochs(X, self._encode(y), sample_weight, self.epochs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights; ``classes`` is required on the first call."""
        first_call = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first_call)
        if first_call:
            if classes is None:
                raise ValueError("NeuralNetClassifier.partial_fit: classes must be given on the first call "
                                 "(all the labels that will ever appear)")
            self.classes_ = unique_labels(np.asarray(classes))
            self._initialize(X, len(self.classes_))
        sample_weight = _check_sample_weight(sample_weight, X)
        self._run_epochs(X, self._encode(y), sample_weight, 1)
        return self

    def predict_proba(self, X):
        """(n, n_classes) class probabilities (softmax of the logits), columns ordered as ``classes_``."""
        logits = self._forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X):
        """(n,) predicted labels."""
        return self.classes_[np.argmax(self._forward(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class NeuralNetRegressor(RegressorMixin, _BaseNeuralNet):
    """A neural-network regressor: mean squared error over the network's outputs.

    Targets are standardised internally (mean 0, std 1, learned at ``fit``) so the default
    learning rate suits any target scale; predictions are mapped back. ``y`` may be (n,) or
    (n, k). Parameters are those of :class:`NeuralNetClassifier` without ``class_weight``.
    """

    _loss = "mse"

    def _targets_2d(self, y):
        y = np.asarray(y, dtype=np.float32)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network. ``X`` (n, d), ``y`` (n,) or (n, k)."""
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True)
        sample_weight = _check_sample_weight(sample_weight, X)
        y2 = self._targets_2d(y)
        self._y_is_1d = np.ndim(y) == 1
        self.y_mean_ = y2.mean(axis=0)
        self.y_scale_ = np.where(y2.std(axis=0) > 0, y2.std(axis=0), 1).astype(np.float32)
        self._initialize(X, y2.shape[1])
        self._run_epochs(X, (y2 - self.y_mean_) / self.y_scale_, sample_weight, self.epochs)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights (target scaling is fixed at the first call)."""
        first_call = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True, reset=first_call)
        y2 = self._targets_2d(y)
        if first_call:
            self._y_is_1d = np.ndim(y) == 1
            self.y_mean_ = y2.mean(axis=0)
            self.y_scale_ = np.where(y2.std(axis=0) > 0, y2.std(axis=0), 1).astype(np.float32)
            self._initialize(X, y2.shape[1])
        sample_weight = _check_sample_weight(sample_weight, X)
        self._run_epochs(X, (y2 - self.y_mean_) / self.y_scale_, sample_weight, 1)
        return self

    def predict(self, X):
        """(n,) predictions, or (n, k) for multi-output targets."""
        outputs = self._forward(X) * self.y_scale_ + self.y_mean_
        return outputs[:, 0] if self._y_is_1d else outputs


def _check_sample_weight(sample_weight, X):
    from sklearn.utils.validation import _check_sample_weight as check

    if sample_weight is None:
        return None
    return check(sample_weight, X, dtype=np.float32)
