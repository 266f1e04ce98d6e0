"""chainrule.sklearn: scikit-learn's estimator checks, and the estimators at work in the ecosystem."""

import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import datasets  # noqa: E402
from sklearn.metrics import accuracy_score, recall_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from chainrule import nn  # noqa: E402
from chainrule.evaluate import diagnose  # noqa: E402
from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402
from chainrule.train import evaluate  # noqa: E402

# small and fast: scikit-learn's checks fit these dozens of times
CHECKED = {"hidden_layer_sizes": (16,), "epochs": 30, "learning_rate": 1e-2, "batch_size": 32, "random_state": 0}


def two_layer(n_features, n_outputs, seed=0):
    """A user-built network, for the ``module=`` tests."""
    return nn.Sequential(nn.Linear(n_features, 12, seed=seed), nn.Tanh(), nn.Linear(12, n_outputs, seed=seed + 1))


class TwoLayer:
    """``two_layer`` as an object with a stable repr (test ids must not hold memory addresses, for xdist)."""

    def __call__(self, n_features, n_outputs, seed=0):
        return two_layer(n_features, n_outputs, seed)

    def __repr__(self):
        return "TwoLayer()"


@parametrize_with_checks(
    [NeuralNetClassifier(**CHECKED), NeuralNetRegressor(**CHECKED), NeuralNetClassifier(module=TwoLayer(), **CHECKED)],
    expected_failed_checks=lambda estimator: estimator._expected_failed_checks(),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def iris():
    x, y = datasets.load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def breast_cancer():
    x, y = datasets.load_breast_cancer(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def noisy():
    """A small, noisy binary problem that a big network overfits within a few epochs."""
    x, y = datasets.make_classification(n_samples=300, n_features=20, n_informative=4, flip_y=0.2, class_sep=0.8,
                                        random_state=0)
    return x, y


# ------------------------------------------------------ sample weights
@pytest.mark.parametrize("estimator", [NeuralNetClassifier, NeuralNetRegressor])
def test_sample_weight_equivalence_is_exact_in_float64(estimator):
    # the check that float32 training can only meet to rounding error (see _expected_failed_checks)
    instance = estimator(dtype="float64", **CHECKED)
    assert instance._expected_failed_checks() == {}
    check_sample_weight_equivalence_on_dense_data(estimator.__name__, instance)


@pytest.mark.parametrize("estimator", [NeuralNetClassifier, NeuralNetRegressor])
def test_sample_weight_equivalence_to_float32_rounding(estimator):
    rng = np.random.default_rng(1)
    x = rng.random((20, 6))
    y = rng.integers(0, 3, 20)
    weights = rng.integers(0, 4, 20)
    params = dict(CHECKED, batch_size=100)  # one batch per epoch in both fits (see the module docstring)
    weighted = estimator(**params).fit(x, y, sample_weight=weights)
    repeated = estimator(**params).fit(x.repeat(weights, axis=0), y.repeat(weights))
    method = "predict_proba" if estimator is NeuralNetClassifier else "predict"
    np.testing.assert_allclose(getattr(weighted, method)(x), getattr(repeated, method)(x), rtol=2e-5, atol=1e-6)
    assert "check_sample_weight_equivalence_on_dense_data" in weighted._expected_failed_checks()


def test_sample_weight_shifts_the_decision(noisy):
    x, y = noisy
    plain = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=30, random_state=0).fit(x, y)
    heavy = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=30, random_state=0).fit(
        x, y, sample_weight=np.where(y == 0, 10.0, 1.0))
    assert np.mean(heavy.predict(x) == 0) > np.mean(plain.predict(x) == 0) + 0.1


def test_class_weight_dict_equals_the_same_sample_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = np.where(rng.random(40) < 0.5, "cat", "dog")
    params = dict(CHECKED, dtype="float64")
    by_class = NeuralNetClassifier(class_weight={"cat": 3.0}, **params).fit(x, y)
    by_sample = NeuralNetClassifier(**params).fit(x, y, sample_weight=np.where(y == "cat", 3.0, 1.0))
    np.testing.assert_allclose(by_class.predict_proba(x), by_sample.predict_proba(x), rtol=1e-10)
    both = NeuralNetClassifier(class_weight={"cat": 3.0}, **params).fit(x, y, sample_weight=np.full(40, 2.0))
    np.testing.assert_allclose(both.predict_proba(x), by_class.predict_proba(x), rtol=1e-10)  # scale-free


def test_class_weight_balanced_raises_minority_recall():
    x, y = datasets.make_classification(n_samples=600, n_features=8, n_informative=3, weights=[0.92, 0.08],
                                        class_sep=0.6, flip_y=0.02, random_state=3)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, random_state=0, stratify=y)
    params = dict(hidden_layer_sizes=(16,), epochs=40, learning_rate=3e-3, random_state=0)
    plain = make_pipeline(StandardScaler(), NeuralNetClassifier(**params)).fit(x_train, y_train)
    balanced = make_pipeline(StandardScaler(), NeuralNetClassifier(class_weight="balanced", **params)).fit(
        x_train, y_train)
    recall_plain = recall_score(y_test, plain.predict(x_test))
    recall_balanced = recall_score(y_test, balanced.predict(x_test))
    print(f"\nminority recall: plain {recall_plain:.3f}, class_weight='balanced' {recall_balanced:.3f}")
    assert recall_balanced > recall_plain + 0.15


# ------------------------------------------------------- in the ecosystem
def test_pipeline_with_standard_scaler(breast_cancer):
    x_train, x_test, y_train, y_test = breast_cancer
    model = make_pipeline(StandardScaler(),
                          NeuralNetClassifier(hidden_layer_sizes=(32,), epochs=30, learning_rate=3e-3, random_state=0))
    model.fit(x_train, y_train)
    assert model.score(x_test, y_test) >= 0.95
    proba = model.predict_proba(x_test)
    assert proba.shape == (len(x_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(x_test), model.classes_[proba.argmax(axis=1)])


def test_regressor_in_a_pipeline_and_cross_val_score():
    x, y = datasets.load_diabetes(return_X_y=True)  # targets 25..346: the regressor standardises them
    model = make_pipeline(StandardScaler(),
                          NeuralNetRegressor(hidden_layer_sizes=(16,), epochs=40, learning_rate=3e-3, random_state=0))
    scores = cross_val_score(model, x, y, cv=3)
    print(f"\ndiabetes R² (3-fold): {scores.mean():.3f} ± {scores.std():.3f}")
    assert scores.mean() > 0.35


def test_cross_val_score_classifier(iris):
    x, y = iris
    scores = cross_val_score(NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=40, learning_rate=1e-2,
                                                 random_state=0), x, y, cv=5)
    assert len(scores) == 5 and scores.mean() >= 0.9


def test_grid_search_over_learning_rate_and_hidden_sizes(iris):
    x, y = iris
    grid = {"learning_rate": [1e-4, 1e-2], "hidden_layer_sizes": [(2,), (16,)]}
    search = GridSearchCV(NeuralNetClassifier(epochs=20, random_state=0), grid, cv=3)
    search.fit(x, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_ == {"hidden_layer_sizes": (16,), "learning_rate": 1e-2}
    assert search.best_score_ > 0.85
    means = dict(zip(map(str, search.cv_results_["params"]), search.cv_results_["mean_test_score"]))
    assert means[str({"hidden_layer_sizes": (16,), "learning_rate": 1e-4})] < search.best_score_  # lr matters
    assert search.best_estimator_.n_iter_ == 20 and search.score(x, y) > 0.85


# ------------------------------------------------------ early stopping
def _held_out(estimator, x, y):
    """The validation split an estimator with early_stopping holds out of (x, y)."""
    x = np.asarray(x, dtype=np.float32)
    _, (x_val, y_val, _) = estimator._split_validation(x, estimator._encode(y), None)
    return x_val, y_val


def test_fit_with_early_stopping_stops_and_keeps_the_best_weights(noisy):
    x, y = noisy
    model = NeuralNetClassifier(hidden_layer_sizes=(64, 64), epochs=200, learning_rate=1e-2, early_stopping=True,
                                validation_fraction=0.3, n_iter_no_change=5, random_state=0).fit(x, y)
    assert model.stopped_early_ and model.n_iter_ < 60
    val_loss = model.history_["val_loss"]
    assert len(val_loss) == len(model.history_["loss"]) == model.n_iter_
    assert model.best_loss_ == pytest.approx(min(val_loss))
    assert val_loss[-1] > model.best_loss_  # it was stopped because the validation loss got worse ...
    x_val, y_val = _held_out(model, x, y)  # ... and the weights are those of the best epoch
    assert evaluate(model.network_, x_val, y_val, loss="cross_entropy")["loss"] == pytest.approx(model.best_loss_,
                                                                                                rel=1e-5)
    assert diagnose(model.history_).verdict == "overfitting"


def test_partial_fit_with_early_stopping_stops_and_restores_best_weights(noisy):
    x, y = noisy
    model = NeuralNetClassifier(hidden_layer_sizes=(64, 64), learning_rate=1e-2, early_stopping=True,
                                validation_fraction=0.3, n_iter_no_change=5, random_state=0)
    calls = 0
    while not getattr(model, "stopped_early_", False) and calls < 100:
        model.partial_fit(x, y, classes=[0, 1])
        calls += 1
    assert model.stopped_early_ and calls < 60 and model.n_iter_ == calls
    val_loss = model.history_["val_loss"]
    best = int(np.argmin(val_loss))
    assert best == calls - 1 - model.n_iter_no_change  # stopped n_iter_no_change calls after the best one
    x_val, y_val = _held_out(model, x, y)  # the same samples were held out at every call
    assert evaluate(model.network_, x_val, y_val, loss="cross_entropy")["loss"] == pytest.approx(val_loss[best],
                                                                                                rel=1e-5)
    weights = model.network_.state_dict()
    with pytest.warns(UserWarning, match="early stopping has already ended training"):
        model.partial_fit(x, y)
    for name, value in model.network_.state_dict().items():
        np.testing.assert_array_equal(value, weights[name])
    model.fit(x, y)  # fit starts again
    assert model.n_iter_ < 60 and len(model.history_["loss"]) == model.n_iter_


def test_partial_fit_learns_incrementally(iris):
    x, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = NeuralNetClassifier(hidden_layer_sizes=(16,), learning_rate=1e-2, random_state=0)
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        model.partial_fit(x, labels)
    order = np.random.default_rng(0).permutation(len(x))
    for epoch in range(15):
        for chunk in np.array_split(order, 3):
            model.partial_fit(x[chunk], labels[chunk], classes=np.unique(labels))
    assert model.n_iter_ == 45 and list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert accuracy_score(labels, model.predict(x)) > 0.9
    with pytest.raises(ValueError, match=r"labels \['rose'\] that are not in classes_"):
        model.partial_fit(x[:3], ["rose", "setosa", "setosa"])
    with pytest.raises(ValueError, match="differs from the classes of the first call"):
        model.partial_fit(x[:3], labels[:3], classes=["setosa", "versicolor"])
    with pytest.raises(ValueError, match="X has 3 features, but NeuralNetClassifier is expecting 4"):
        model.partial_fit(x[:3, :3], labels[:3])


def test_fit_without_early_stopping_stops_when_converged():
    x = np.linspace(-1, 1, 64)[:, None]
    model = NeuralNetRegressor(hidden_layer_sizes=(8,), epochs=500, learning_rate=1e-2, tol=1e-3,
                               n_iter_no_change=5, random_state=0).fit(x, 2 * x[:, 0])
    assert model.n_iter_ < 500 and not model.stopped_early_
    assert model.score(x, 2 * x[:, 0]) > 0.99


# ------------------------------------------------------- wrapping modules
def test_wrapping_a_module_instance_trains_a_copy(iris):
    x, y = iris
    network = two_layer(4, 3, seed=5)
    before = network.state_dict()
    first = NeuralNetClassifier(module=network, epochs=30, learning_rate=1e-2, random_state=0).fit(x, y)
    second = NeuralNetClassifier(module=network, epochs=30, learning_rate=1e-2, random_state=0).fit(x, y)
    for name, value in network.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # the user's instance is untouched
    assert first.network_ is not network and type(first.network_) is type(network)
    np.testing.assert_array_equal(first.predict_proba(x), second.predict_proba(x))
    assert first.score(x, y) > 0.9


def test_wrapping_a_module_factory(iris):
    x, y = iris
    calls = []

    def factory(n_features, n_outputs):
        calls.append((n_features, n_outputs))
        return two_layer(n_features, n_outputs)

    model = NeuralNetClassifier(module=factory, epochs=30, learning_rate=1e-2, random_state=0).fit(x, y)
    assert calls == [(4, 3)] and model.score(x, y) > 0.9
    # a factory that takes ``seed`` gets one from random_state: same state, same network
    a = NeuralNetRegressor(module=two_layer, epochs=5, random_state=1).fit(x, x[:, 0])
    b = NeuralNetRegressor(module=two_layer, epochs=5, random_state=1).fit(x, x[:, 0])
    c = NeuralNetRegressor(module=two_layer, epochs=5, random_state=2).fit(x, x[:, 0])
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    assert not np.allclose(a.predict(x), c.predict(x))
    with pytest.raises(ValueError, match=r"module\(4, 3\) must return a chainrule.nn.Module, got str"):
        NeuralNetClassifier(module=lambda n_in, n_out: "mlp").fit(x, y)


# ---------------------------------------------------- conventions, errors
def test_reproducible_with_random_state_and_probabilities_sum_to_one(iris):
    x, y = iris
    params = dict(hidden_layer_sizes=(8, 8), epochs=10, dropout=0.2, random_state=3)
    a = NeuralNetClassifier(**params).fit(x, y)
    b = NeuralNetClassifier(**params).fit(x, y)
    c = NeuralNetClassifier(**dict(params, random_state=4)).fit(x, y)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    assert not np.allclose(a.predict_proba(x), c.predict_proba(x))
    np.testing.assert_allclose(a.predict_proba(x).sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(a.predict_log_proba(x)), a.predict_proba(x))
    assert a.n_features_in_ == 4 and list(a.classes_) == [0, 1, 2]
    assert a.history_["loss"][-1] == a.loss_ and a.n_iter_ == 10


def test_regressor_multi_output_and_target_scaling():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    y = np.stack([5000 + 1000 * (x @ [1.0, -1.0, 0.5]), -3 * x[:, 0]], axis=1)
    model = NeuralNetRegressor(hidden_layer_sizes=(16,), epochs=60, learning_rate=1e-2, random_state=0).fit(x, y)
    assert model.predict(x).shape == (200, 2) and model.score(x, y) > 0.95
    single = NeuralNetRegressor(hidden_layer_sizes=(16,), epochs=60, learning_rate=1e-2, random_state=0).fit(x, y[:, 0])
    assert single.predict(x).shape == (200,) and single.score(x, y[:, 0]) > 0.95
    np.testing.assert_allclose(single.y_mean_, [y[:, 0].mean()], rtol=1e-5)


@pytest.mark.parametrize("name, value", [
    ("hidden_layer_sizes", (16, 0)), ("hidden_layer_sizes", "wide"), ("hidden_layer_sizes", (16, 2.5)),
    ("activation", "relux"), ("optimizer", "adamax"), ("learning_rate", 0.0), ("learning_rate", -0.01),
    ("learning_rate", 1e6), ("learning_rate", float("nan")), ("learning_rate", float("inf")),
    ("learning_rate", "0.01"), ("epochs", 0), ("epochs", 2.5), ("batch_size", 0), ("weight_decay", -0.1),
    ("dropout", 1.0), ("early_stopping", "yes"), ("validation_fraction", 1.5), ("n_iter_no_change", 0),
    ("tol", -1.0), ("class_weight", "auto"), ("class_weight", {0: -1.0}), ("dtype", "int32"),
    ("random_state", "seed"), ("module", 42), ("verbose", -1),
])
def test_bad_hyper_parameters_raise_value_error_quoting_the_value(iris, name, value):
    x, y = iris
    model = NeuralNetClassifier(**{"epochs": 1, name: value})
    expected = rf"NeuralNetClassifier: parameter '{name}' must be .*, got {re.escape(repr(value))}"
    with pytest.raises(ValueError, match=expected):
        model.fit(x, y)


def test_unknown_class_weight_label_named(iris):
    x, y = iris
    with pytest.raises(ValueError, match=r"class_weight has labels \[7\] that are not classes"):
        NeuralNetClassifier(epochs=1, class_weight={7: 2.0}).fit(x, y)


def test_not_fitted_and_bad_input():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NeuralNetClassifier().predict_proba(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        NeuralNetRegressor(epochs=1).fit(np.array([[0.0], [np.nan]]), [1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NeuralNetRegressor(epochs=1).fit(np.zeros((4, 2)), np.arange(4.0))  # no warnings on plain use


# ------------------------------------------------ batches, copies and processes
@pytest.mark.parametrize("estimator", [NeuralNetClassifier, NeuralNetRegressor])
def test_a_prediction_does_not_depend_on_the_other_rows_of_its_batch(estimator):
    # BLAS rounds one row differently in matrices of different heights (float32: ~1e-7); predictions must not
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 20))
    y = rng.integers(0, 3, 60)
    model = estimator(hidden_layer_sizes=(32,), epochs=2, random_state=0).fit(x, y)
    method = getattr(model, "predict_proba" if estimator is NeuralNetClassifier else "predict")
    full = method(x)
    np.testing.assert_array_equal(np.concatenate([method(row[None]) for row in x]), full)
    np.testing.assert_array_equal(np.concatenate([method(x[i:i + 7]) for i in range(0, 60, 7)]), full)
    order = rng.permutation(60)
    np.testing.assert_array_equal(method(x[order]), full[order])


def _pickled(obj):
    import pickle

    return pickle.loads(pickle.dumps(obj))


def _joblib_round_trip(obj):
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _deepcopied(obj):
    import copy

    return copy.deepcopy(obj)


@pytest.mark.parametrize("copier", [_pickled, _joblib_round_trip, _deepcopied])
@pytest.mark.parametrize("estimator", [NeuralNetClassifier, NeuralNetRegressor])
def test_a_copied_fitted_estimator_trains_on_exactly_like_the_original(estimator, copier):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5))
    y = rng.integers(0, 3, 40)
    model = estimator(hidden_layer_sizes=(8,), epochs=3, batch_size=8, random_state=0).fit(x, y)
    copied = copier(model)
    method = "predict_proba" if estimator is NeuralNetClassifier else "predict"
    np.testing.assert_array_equal(getattr(copied, method)(x), getattr(model, method)(x))
    for _ in range(2):
        model.partial_fit(x, y)
        copied.partial_fit(x, y)
    np.testing.assert_array_equal(getattr(copied, method)(x), getattr(model, method)(x))
    for p, q in zip(model.network_.parameters(), copied.network_.parameters()):
        assert not np.shares_memory(p.data, q.data)


def test_clone_of_a_fitted_estimator_is_unfitted_and_fits_the_same():
    from sklearn.base import clone

    x, y = datasets.load_digits(return_X_y=True)
    x, y = x[:200] / 16.0, y[:200]
    model = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0).fit(x, y)
    fresh = clone(model)
    assert not hasattr(fresh, "network_")
    np.testing.assert_array_equal(fresh.fit(x, y).predict_proba(x), model.predict_proba(x))


def test_grid_search_in_two_processes_matches_one_process():
    from joblib import parallel_config

    x, y = datasets.load_digits(return_X_y=True)
    x, y = x[:300] / 16.0, y[:300]
    grid = {"learning_rate": [1e-3, 1e-2]}
    base = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0)
    one = GridSearchCV(base, grid, cv=2, n_jobs=1).fit(x, y)
    # worker processes get the estimators pickled; "multiprocessing" forks them (under a second here),
    # where the default "loky" starts fresh interpreters that import everything again (~15 s on a busy machine)
    with parallel_config(backend="multiprocessing"):
        two = GridSearchCV(base, grid, cv=2, n_jobs=2).fit(x, y)
    assert two.best_params_ == one.best_params_
    np.testing.assert_array_equal(two.cv_results_["mean_test_score"], one.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(two.predict_proba(x), one.predict_proba(x))


@pytest.mark.parametrize("estimator", [NeuralNetClassifier, NeuralNetRegressor])
@pytest.mark.parametrize("x,y,sample_weight,message", [
    (np.zeros((0, 3)), np.zeros(0), None, "0 sample"),
    ([], [], None, "Expected 2D array"),
    (np.array(1.0), np.array([1.0]), None, "Expected 2D array, got scalar"),
    (np.ones((4, 2)), [0, 1, 0, 1], np.zeros(4), "at least one non-zero"),
])
def test_bad_data_is_refused_with_scikit_learns_messages(estimator, x, y, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        estimator(epochs=1).fit(x, y, sample_weight=sample_weight)
