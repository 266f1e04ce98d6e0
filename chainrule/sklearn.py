"""scikit-learn estimators backed by chainrule networks.

``NeuralNetClassifier`` and ``NeuralNetRegressor`` follow scikit-learn's conventions:
hyper-parameters in ``__init__`` (stored unchanged), learned state in attributes ending in
``_``, parameters validated at ``fit`` with messages that quote the received value,
``predict``/``predict_proba``/``score``, and ``partial_fit`` for incremental training
(early stopping included). They work in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score`` and pass ``sklearn.utils.estimator_checks`` (see ``tests/test_sklearn.py``).

By default they build a multi-layer perceptron from ``hidden_layer_sizes``; pass ``module=``
to train any ``chainrule.nn.Module`` instead: a Module instance (copied fresh for every
``fit``, so the instance you passed is never trained) or a function
``module(n_features, n_outputs)`` (or ``module(n_features, n_outputs, seed=...)``) that
returns a new Module. Its outputs are the class logits (classifier) or the standardised
targets (regressor).

Training is ``chainrule.train.fit``: minibatches of ``batch_size``, per-sample weights as the
weighted mean loss ``Σ wᵢ·lᵢ / Σ wᵢ`` of each batch (scikit-learn's MLP does the same), so with
one batch per epoch (``batch_size >= n_samples``) an integer weight is exactly a repeated sample.

A sample's prediction does not depend on the other rows predicted with it (bitwise: the layers
run inside ``chainrule.ops.linalg.batch_invariant``). A fitted estimator can be pickled (joblib,
``GridSearchCV(n_jobs=...)``, multiprocessing) or deep-copied, and the copy continues training
(``partial_fit``) exactly as the original would.

Importing this module imports scikit-learn.
"""

import copy
import inspect
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .ops.linalg import batch_invariant
from .optim.optimizer import MAX_LR
from .train import Callback
from .train import fit as train_fit
from .train import predict as train_predict

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu")
_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


def _mlp(n_features, n_outputs, hidden_layer_sizes, activation, dropout, rng, dtype):
    """Linear → activation (→ Dropout) per hidden layer, then a linear output layer of ``n_outputs``."""
    from . import nn

    activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "elu": nn.ELU,
                   "leaky_relu": nn.LeakyReLU}
    layers, width = [], n_features
    for units in hidden_layer_sizes:
        layers += [nn.Linear(width, units, seed=rng, dtype=dtype), activations[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout, seed=int(rng.integers(2**31))))
        width = units
    layers.append(nn.Linear(width, n_outputs, seed=rng, dtype=dtype))
    return nn.Sequential(*layers)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _Monitor(Callback):
    """Per-epoch bookkeeping of an estimator during ``chainrule.train.fit``: its loss curves, and
    stopping — on the validation loss with ``early_stopping``, else (in ``fit`` only) when the
    training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs."""

    def __init__(self, estimator, monitor, can_stop):
        super().__init__()
        self.estimator = estimator
        self.monitor = monitor
        self.can_stop = can_stop

    def on_epoch_end(self, epoch, logs=None):
        est = self.estimator
        est.n_iter_ += 1
        for key in ("loss", "val_loss"):
            if key in logs:
                est.history_.setdefault(key, []).append(float(logs[key]))
        value = float(logs[self.monitor])
        if value < est.best_loss_ - est.tol:
            est.best_loss_ = value
            est._no_improvement = 0
            if est.early_stopping:
                est._best_state = self.model.state_dict()
        else:
            est._no_improvement += 1
        if self.can_stop and est._no_improvement >= est.n_iter_no_change:
            if est.early_stopping:
                est.stopped_early_ = True
            self.trainer.stop_training = True


class _BaseNeuralNet(BaseEstimator):
    """What both estimators share: validation, building the network, the training loop."""

    _loss = None  # set by subclasses

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam", learning_rate=1e-3,
                 epochs=200, batch_size=32, weight_decay=0.0, dropout=0.0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, module=None, dtype="float32",
                 random_state=None, verbose=0):
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
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ validation
    def _bad(self, name, expected):
        value = getattr(self, name)
        raise ValueError(f"{type(self).__name__}: parameter {name!r} must be {expected}, got {value!r}")

    def _validate_params(self):
        """Check every hyper-parameter (raising ValueError that quotes the value); returns the hidden sizes."""
        from .nn import Module

        sizes = self.hidden_layer_sizes
        if _is_int(sizes):
            sizes = (sizes,)
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            self._bad("hidden_layer_sizes", "a tuple of positive integers")
        sizes = tuple(sizes)
        if not all(_is_int(s) and s > 0 for s in sizes):
            self._bad("hidden_layer_sizes", "a tuple of positive integers")
        if self.activation not in _ACTIVATIONS:
            self._bad("activation", f"one of {_ACTIVATIONS}")
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in _OPTIMIZERS:
            self._bad("optimizer", f"one of {_OPTIMIZERS}")
        if (not _is_real(self.learning_rate) or not 0 < self.learning_rate <= MAX_LR
                or not np.isfinite(self.learning_rate)):
            self._bad("learning_rate", f"a positive number at most {MAX_LR:g}")
        if not _is_int(self.epochs) or self.epochs < 1:
            self._bad("epochs", "a positive integer")
        if not _is_int(self.batch_size) or self.batch_size < 1:
            self._bad("batch_size", "a positive integer")
        if not _is_real(self.weight_decay) or not self.weight_decay >= 0 or not np.isfinite(self.weight_decay):
            self._bad("weight_decay", "a non-negative number")
        if not _is_real(self.dropout) or not 0 <= self.dropout < 1:
            self._bad("dropout", "a number in [0, 1)")
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            self._bad("early_stopping", "True or False")
        if not _is_real(self.validation_fraction) or not 0 < self.validation_fraction < 1:
            self._bad("validation_fraction", "a number in (0, 1)")
        if not _is_int(self.n_iter_no_change) or self.n_iter_no_change < 1:
            self._bad("n_iter_no_change", "a positive integer")
        if not _is_real(self.tol) or not self.tol >= 0:
            self._bad("tol", "a non-negative number")
        if not (_is_int(self.verbose) or isinstance(self.verbose, bool)) or self.verbose < 0:
            self._bad("verbose", "0, 1 or 2")
        if self.module is not None and not isinstance(self.module, Module) and not callable(self.module):
            self._bad("module", "None, a chainrule.nn.Module or a function (n_features, n_outputs) -> Module")
        try:
            dtype_ok = self.dtype is not None and np.dtype(self.dtype) in (np.float32, np.float64)
        except TypeError:
            dtype_ok = False
        if not dtype_ok:
            self._bad("dtype", "'float32' or 'float64'")
        if not (self.random_state is None or _is_int(self.random_state)
                or isinstance(self.random_state, (np.random.Generator, np.random.RandomState))):
            self._bad("random_state", "None, an integer, a numpy.random.Generator or a RandomState")
        return sizes

    @property
    def _dtype(self):
        """The floating dtype of the inputs and of the default MLP (float32 unless ``dtype`` says float64)."""
        try:
            return np.float64 if np.dtype(self.dtype) == np.float64 else np.float32
        except TypeError:
            return np.float32

    def _generator(self):
        """The estimator's source of randomness (weights, data order, validation split), from ``random_state``."""
        state = self.random_state
        if isinstance(state, np.random.RandomState):
            return np.random.default_rng(int(state.randint(2**31 - 1)))
        return np.random.default_rng(state)

    # --------------------------------------------------------------- network
    def _build_network(self, n_features, n_outputs, sizes, rng):
        from .nn import Module

        if self.module is None:
            return _mlp(n_features, n_outputs, sizes, self.activation, self.dropout, rng, self._dtype)
        if isinstance(self.module, Module):
            network = copy.deepcopy(self.module)  # a fresh copy per fit: the user's instance is never trained
        else:
            try:
                takes_seed = "seed" in inspect.signature(self.module).parameters
            except (TypeError, ValueError):
                takes_seed = False
            kwargs = {"seed": int(rng.integers(2**31))} if takes_seed else {}
            network = self.module(n_features, n_outputs, **kwargs)
            if not isinstance(network, Module):
                raise ValueError(f"{type(self).__name__}: module({n_features}, {n_outputs}) must return a "
                                 f"chainrule.nn.Module, got {type(network).__name__}")
        if not any(True for _ in network.parameters()):
            raise ValueError(f"{type(self).__name__}: the module has no trainable parameters")
        return network

    def _make_optimizer(self, parameters):
        from . import optim

        kinds = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "rmsprop": optim.RMSprop,
                 "adagrad": optim.Adagrad}
        kind = self.optimizer.lower()
        kwargs = {"lr": float(self.learning_rate), "weight_decay": float(self.weight_decay)}
        if kind == "sgd":
            kwargs["momentum"] = 0.9
        return kinds[kind](parameters, **kwargs)

    def _initialize(self, n_features, n_outputs):
        """Fresh network, optimizer and training state (``fit``, or the first ``partial_fit``)."""
        sizes = self._validate_params()
        self._rng = self._generator()
        self.network_ = self._build_network(n_features, n_outputs, sizes, self._rng)
        self.optimizer_ = self._make_optimizer(list(self.network_.parameters()))
        self._split_seed = int(self._rng.integers(2**31))
        self.history_ = {"loss": []}
        self.n_iter_ = 0
        self.best_loss_ = np.inf
        self._best_state = None
        self._no_improvement = 0
        self.stopped_early_ = False

    # -------------------------------------------------------------- training
    def _stratify(self, y):
        return None

    def _split_validation(self, X, y, weight):
        """Hold out ``validation_fraction`` of the samples (stratified for classifiers) for early stopping.

        The split is seeded once per fit, so ``partial_fit`` called again on the same data holds out the
        same samples and never trains on them."""
        from sklearn.model_selection import train_test_split

        index = np.arange(len(X))
        try:
            train_idx, val_idx = train_test_split(index, test_size=self.validation_fraction,
                                                  random_state=self._split_seed, stratify=self._stratify(y))
        except ValueError:  # too few samples of some class to stratify
            train_idx, val_idx = train_test_split(index, test_size=self.validation_fraction,
                                                  random_state=self._split_seed)
        w_train = None if weight is None else weight[train_idx]
        w_val = None if weight is None else weight[val_idx]
        return (X[train_idx], y[train_idx], w_train), (X[val_idx], y[val_idx], w_val)

    def _train(self, X, y, weight, epochs, incremental):
        """Train ``epochs`` epochs of ``chainrule.train.fit``, with early stopping on held-out data."""
        if incremental and self.stopped_early_:
            warnings.warn(f"{type(self).__name__}.partial_fit: early stopping has already ended training (after "
                          f"{self.n_iter_} epochs, best weights restored); this call does not train. Call fit() "
                          "to start again.", UserWarning, stacklevel=3)
            return
        validation = None
        if self.early_stopping and len(X) >= 4:
            (X, y, weight), validation = self._split_validation(X, y, weight)
        monitor = _Monitor(self, "val_loss" if validation is not None else "loss",
                           can_stop=self.early_stopping or not incremental)
        train_fit(self.network_, X, y, loss=self._loss, optimizer=self.optimizer_, epochs=epochs,
                  batch_size=min(self.batch_size, len(X)), validation_data=validation, shuffle=True,
                  seed=self._rng, verbose=self.verbose, sample_weight=weight, callbacks=[monitor])
        # early stopping keeps the best weights: at the end of fit (as scikit-learn's MLP does), and
        # when it ends incremental training
        if self.early_stopping and self._best_state is not None and (not incremental or self.stopped_early_):
            self.network_.load_state_dict(self._best_state)
        self.loss_ = self.history_["loss"][-1]

    def _outputs(self, X):
        """The network's outputs for ``X`` (float64 NumPy array) after the fitted-state and input checks."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=self._dtype)
        with batch_invariant():  # a sample's prediction must not depend on the rows predicted with it
            return np.asarray(train_predict(self.network_, X), dtype=np.float64)

    def _check_weights(self, sample_weight, X):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=self._dtype, ensure_non_negative=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # with an int random_state, fit is reproducible bit for bit
        return tags

    def _expected_failed_checks(self):
        """scikit-learn estimator checks this configuration cannot pass, with the reason (name -> reason).

        Pass it to ``parametrize_with_checks(..., expected_failed_checks=lambda est:
        est._expected_failed_checks())`` or ``check_estimator(est, expected_failed_checks=...)``.
        """
        failures = {}
        if self._dtype == np.float32:
            failures["check_sample_weight_equivalence_on_dense_data"] = (
                "float32 training: a weighted fit and a fit on repeated samples are the same computation summed "
                "in a different order, so they agree to float32 rounding (about 1e-6 relative), not to the "
                "check's rtol=1e-7; with dtype='float64' the check passes (tests/test_sklearn.py)")
        return failures


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units per hidden layer of the default MLP (``()``: no hidden layer; ignored when ``module`` is given).
    activation : {'relu', 'tanh', 'sigmoid', 'gelu', 'elu', 'leaky_relu'}
    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'}
        SGD uses momentum 0.9.
    learning_rate : float
        In (0, 1000] (``chainrule.optim.optimizer.MAX_LR``: larger rates diverge at once).
    epochs : int
        Maximum number of epochs of ``fit`` (``partial_fit`` trains one epoch per call).
    batch_size : int
        Minibatch size (capped at the number of samples).
    weight_decay : float
        L2 penalty (decoupled for AdamW).
    dropout : float
        Dropout rate after each hidden activation of the default MLP.
    dtype : {'float32', 'float64'}
        Floating type of the inputs and of the default MLP's weights (float64 for exact comparisons).
    early_stopping : bool
        Hold out ``validation_fraction`` of the training data{STRATIFIED} and stop when its loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs; the weights of the best epoch are kept. Also
        with ``partial_fit``: each call holds out the same fraction of its data, and once stopped, later
        calls do not train (with a warning).
    validation_fraction : float
    n_iter_no_change : int
    tol : float
        Without early stopping, ``fit`` stops when the training loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs (convergence, as scikit-learn's MLP does).{CLASS_WEIGHT}
    module : Module or callable, optional
        Your own network: a ``chainrule.nn.Module`` instance (copied for each fit) or a function
        ``module(n_features, n_outputs[, seed=...]) -> Module``; its outputs are {OUTPUTS}.
    random_state : int, numpy.random.Generator, RandomState or None
        Seeds the initial weights, the data order, dropout and the validation split.
    verbose : int
        ``chainrule.train.fit``'s progress display (0: silent).

    Attributes
    ----------
    n_features_in_ : int
    network_ : chainrule.nn.Module
        The trained network.
    optimizer_ : chainrule.optim.Optimizer
    history_ : dict
        ``"loss"`` per epoch, and ``"val_loss"`` with early stopping.
    n_iter_ : int
        Epochs trained.
    loss_ : float
        Training loss of the last epoch.
    best_loss_ : float
        Best monitored loss (validation loss with early stopping, else training loss).
    stopped_early_ : bool
"""


def _parameters_doc(stratified, class_weight, outputs):
    return (_PARAMETERS_DOC.replace("{STRATIFIED}", stratified).replace("{CLASS_WEIGHT}", class_weight)
            .replace("{OUTPUTS}", outputs))


class NeuralNetClassifier(ClassifierMixin, _BaseNeuralNet):
    """A neural-network classifier: softmax cross-entropy over the network's logits."""

    __doc__ += _parameters_doc(
        stratified=" (stratified by class)",
        class_weight="""
    class_weight : None, 'balanced' or dict {label: weight}
        Per-class loss weights, multiplied with ``sample_weight``. ``'balanced'``:
        ``n_samples / (n_classes * count(class))`` over the classes present (in ``partial_fit``: in
        the data of that call).""",
        outputs="the class logits (one column per class of ``classes_``)",
    ) + """    classes_ : ndarray
        The class labels, sorted.
"""

    _loss = "cross_entropy"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam", learning_rate=1e-3,
                 epochs=200, batch_size=32, weight_decay=0.0, dropout=0.0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, class_weight=None, module=None,
                 dtype="float32", random_state=None, verbose=0):
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, activation=activation, optimizer=optimizer,
                         learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                         weight_decay=weight_decay, dropout=dropout, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change, tol=tol,
                         module=module, dtype=dtype, random_state=random_state, verbose=verbose)
        self.class_weight = class_weight

    def _validate_params(self):
        sizes = super()._validate_params()
        weights = self.class_weight
        if not (weights is None or (isinstance(weights, str) and weights == "balanced") or isinstance(weights, dict)):
            self._bad("class_weight", "None, 'balanced' or a dict {label: weight}")
        if isinstance(weights, dict) and not all(_is_real(w) and np.isfinite(w) and w >= 0 for w in weights.values()):
            self._bad("class_weight", "a dict of finite, non-negative weights")
        return sizes

    def _stratify(self, y):
        counts = np.bincount(y)
        return y if counts[counts > 0].min() >= 2 else None

    def _weights(self, y_encoded, sample_weight):
        """Per-sample weights: ``sample_weight`` times the class weight of each sample's class (or None)."""
        if self.class_weight is None:
            return sample_weight
        n_classes = len(self.classes_)
        if isinstance(self.class_weight, dict):
            known = set(self.classes_.tolist())
            unknown = [label for label in self.class_weight if label not in known]
            if unknown:
                raise ValueError(f"{type(self).__name__}: class_weight has labels {unknown} that are not classes "
                                 f"of the data (classes_ = {self.classes_.tolist()})")
            per_class = np.array([self.class_weight.get(label, 1.0) for label in self.classes_.tolist()],
                                 dtype=np.float64)
        else:  # balanced
            counts = np.bincount(y_encoded, minlength=n_classes).astype(np.float64)
            present = counts > 0
            per_class = np.ones(n_classes)
            per_class[present] = len(y_encoded) / (present.sum() * counts[present])
        weights = per_class[y_encoded]
        if sample_weight is not None:
            weights = weights * sample_weight
        return weights.astype(self._dtype)

    def _encode(self, y):
        """Labels -> indices into ``classes_`` (ValueError naming any label that is not a class)."""
        lookup = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
        unknown = self.classes_[lookup] != y
        if unknown.any():
            raise ValueError(f"{type(self).__name__}: y contains labels {np.unique(y[unknown]).tolist()} that are "
                             f"not in classes_ {self.classes_.tolist()}")
        return lookup.astype(np.int64)

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network. ``X`` (n, d); ``y`` (n,) labels of any type; ``sample_weight`` (n,)."""
        X, y = validate_data(self, X, y, dtype=self._dtype)
        check_classification_targets(y)
        self.classes_ = unique_labels(y)
        sample_weight = self._check_weights(sample_weight, X)
        self._initialize(X.shape[1], len(self.classes_))
        y_encoded = self._encode(y)
        self._train(X, y_encoded, self._weights(y_encoded, sample_weight), self.epochs, incremental=False)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights and optimizer state.

        ``classes`` (all labels that will ever appear) is required on the first call."""
        first_call = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=self._dtype, reset=first_call)
        check_classification_targets(y)
        if first_call:
            if classes is None:
                raise ValueError(f"{type(self).__name__}.partial_fit: classes must be given on the first call "
                                 "(all the labels that will ever appear)")
            self.classes_ = unique_labels(np.asarray(classes))
            self._initialize(X.shape[1], len(self.classes_))
        elif classes is not None and not np.array_equal(unique_labels(np.asarray(classes)), self.classes_):
            raise ValueError(f"{type(self).__name__}.partial_fit: classes={list(classes)!r} differs from the "
                             f"classes of the first call, {self.classes_.tolist()}")
        sample_weight = self._check_weights(sample_weight, X)
        y_encoded = self._encode(y)
        self._train(X, y_encoded, self._weights(y_encoded, sample_weight), 1, incremental=True)
        return self

    def predict_proba(self, X):
        """(n, n_classes) class probabilities (softmax of the logits), columns ordered as ``classes_``."""
        logits = self._outputs(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """(n, n_classes) log-probabilities (log-softmax of the logits)."""
        logits = self._outputs(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X):
        """(n,) predicted labels."""
        index = np.argmax(self._outputs(X), axis=1)
        return self.classes_[index]


class NeuralNetRegressor(RegressorMixin, _BaseNeuralNet):
    """A neural-network regressor: mean squared error over the network's outputs.

    Targets are standardised internally (mean 0, std 1 per output, sample-weighted, learned at ``fit``
    or the first ``partial_fit``) so the default learning rate suits any target scale; predictions are
    mapped back. ``y`` may be (n,) or (n, k); predictions have the same number of dimensions.
    """

    __doc__ += _parameters_doc(stratified="", class_weight="",
                               outputs="the standardised targets (one column per target)")
    __doc__ += """    y_mean_, y_scale_ : ndarray (k,)
        The target standardisation.
"""

    _loss = "mse"

    def _set_target_scaling(self, y2, sample_weight):
        weights = None if sample_weight is None or not sample_weight.sum() > 0 else sample_weight.astype(np.float64)
        mean = np.average(y2, axis=0, weights=weights)
        std = np.sqrt(np.average((y2 - mean) ** 2, axis=0, weights=weights))
        self.y_mean_ = mean.astype(self._dtype)
        self.y_scale_ = np.where(std > 0, std, 1.0).astype(self._dtype)

    def _start(self, X, y, sample_weight, first_call):
        y2 = np.asarray(y, dtype=self._dtype)
        y2 = y2.reshape(-1, 1) if y2.ndim == 1 else y2
        if first_call:
            self._y_is_1d = np.ndim(y) == 1
            self._set_target_scaling(y2, sample_weight)
            self._initialize(X.shape[1], y2.shape[1])
        elif y2.shape[1] != len(self.y_mean_):
            raise ValueError(f"{type(self).__name__}.partial_fit: y has {y2.shape[1]} targets per sample, "
                             f"the first call had {len(self.y_mean_)}")
        return (y2 - self.y_mean_) / self.y_scale_

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network. ``X`` (n, d), ``y`` (n,) or (n, k), ``sample_weight`` (n,)."""
        X, y = validate_data(self, X, y, dtype=self._dtype, multi_output=True, y_numeric=True)
        sample_weight = self._check_weights(sample_weight, X)
        targets = self._start(X, y, sample_weight, first_call=True)
        self._train(X, targets, sample_weight, self.epochs, incremental=False)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y), continuing from the current weights (target scaling is fixed at the first call)."""
        first_call = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=self._dtype, multi_output=True, y_numeric=True, reset=first_call)
        sample_weight = self._check_weights(sample_weight, X)
        targets = self._start(X, y, sample_weight, first_call)
        self._train(X, targets, sample_weight, 1, incremental=True)
        return self

    def predict(self, X):
        """(n,) predictions, or (n, k) for (n, k) targets."""
        outputs = self._outputs(X) * self.y_scale_ + self.y_mean_
        return outputs[:, 0] if self._y_is_1d else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
