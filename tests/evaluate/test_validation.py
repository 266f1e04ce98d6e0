"""Validation methods on real data: holdout, (stratified) k-fold cross-validation, the bootstrap, learning curves."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.evaluate import bootstrap, cross_validate, holdout, learning_curve, score_model

datasets = pytest.importorskip("sklearn.datasets")

FIT = {"epochs": 20, "batch_size": 32, "lr": 3e-3}


@pytest.fixture(scope="module")
def breast_cancer():
    """Standardised breast-cancer features (float32) and 0/1 labels."""
    x, y = datasets.load_breast_cancer(return_X_y=True)
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32), y


def small_mlp(seed):
    return nn.Sequential(nn.Linear(30, 16, seed=seed), nn.ReLU(), nn.Linear(16, 2, seed=seed + 1000))


def test_stratified_5_fold_cross_validation_of_an_mlp_on_breast_cancer(breast_cancer, capsys):
    x, y = breast_cancer
    result = cross_validate(small_mlp, x, y, k=5, fit_params=FIT, seed=0)
    with capsys.disabled():
        print(f"\n5-fold stratified CV accuracy on breast cancer: {result.mean:.4f} ± {result.std:.4f}")
    assert result.method == "5-fold stratified cross-validation" and result.metric == "accuracy"
    assert len(result.scores) == 5 and len(result.histories) == 5
    assert all(len(h["loss"]) == FIT["epochs"] for h in result.histories)
    assert result.mean >= 0.95
    assert 0 < result.std < 0.05
    assert f"{result.mean:.4f} ± {result.std:.4f}" in str(result)
    assert result.to_dict()["scores"] == pytest.approx(result.scores)


def test_folds_are_stratified_and_each_trains_a_fresh_model(breast_cancer):
    from sklearn.model_selection import StratifiedKFold

    x, y = breast_cancer
    built, test_sets = [], []

    def build(seed):
        built.append(seed)
        return small_mlp(seed)

    def record(model, x_test, y_test):  # a callable metric sees each held-out fold
        test_sets.append(np.asarray(y_test))
        return 0.0

    cross_validate(build, x, y, k=3, fit_params={"epochs": 1}, metric=record, stratified=True, seed=7)
    assert built == [7, 8, 9]
    expected = [y[test] for _, test in StratifiedKFold(3, shuffle=True, random_state=7).split(x, y)]
    for got, want in zip(test_sets, expected):
        np.testing.assert_array_equal(got, want)
        assert abs(got.mean() - y.mean()) < 0.02  # class balance kept in every fold


def test_bootstrap_interval_contains_the_holdout_accuracy(breast_cancer):
    x, y = breast_cancer
    split = holdout(small_mlp, x, y, test_size=0.3, fit_params=FIT, seed=0)
    boot = bootstrap(small_mlp, x, y, n_rounds=20, confidence=0.95, fit_params=FIT, seed=0)
    low, high = boot.interval
    print(f"\nholdout accuracy {split.mean:.4f}; bootstrap out-of-bag 95% interval [{low:.4f}, {high:.4f}]")
    assert split.method == "holdout" and len(split.scores) == 1
    assert len(boot.scores) == 20 and len(boot.histories) == 20
    assert low <= boot.mean <= high and high - low < 0.1
    assert low <= split.mean <= high
    assert low > 0.9
    assert "95% interval" in str(boot)


def test_learning_curve_shapes(breast_cancer):
    x, y = breast_cancer
    curve = learning_curve(small_mlp, x, y, train_sizes=(0.1, 0.4, 1.0), validation_fraction=0.25,
                           fit_params={"epochs": 10, "batch_size": 32, "lr": 3e-3}, seed=0)
    pool = len(x) - int(np.ceil(0.25 * len(x)))
    assert set(curve) == {"train_sizes", "train_scores", "val_scores"}
    assert curve["train_sizes"] == [round(0.1 * pool), round(0.4 * pool), pool]
    assert len(curve["train_scores"]) == len(curve["val_scores"]) == 3
    assert all(0.0 <= s <= 1.0 for s in curve["train_scores"] + curve["val_scores"])
    assert curve["val_scores"][-1] >= 0.9


def test_progress_bar_over_folds(breast_cancer, capsys):
    pytest.importorskip("tqdm")
    x, y = breast_cancer
    result = cross_validate(small_mlp, x[:200], y[:200], k=3, fit_params={"epochs": 2}, seed=0, progress=True)
    assert len(result.scores) == 3
    assert "cross-validation folds" in capsys.readouterr().err


def test_regression_cross_validation_with_r2():
    x, y = datasets.load_diabetes(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    y = ((y - y.mean()) / y.std()).astype(np.float32)

    def build(seed):
        return nn.Sequential(nn.Linear(10, 16, seed=seed), nn.ReLU(), nn.Linear(16, 1, seed=seed + 1))

    result = cross_validate(build, x, y, k=3, metric="r2", fit_params={"loss": "mse", "epochs": 30, "lr": 3e-3},
                            seed=0)
    assert result.method == "3-fold cross-validation"  # not stratified: a regression metric
    assert result.mean > 0.3


def test_score_model_names_and_callables(breast_cancer):
    from sklearn import metrics

    from chainrule.train import fit, predict

    x, y = breast_cancer
    model = small_mlp(0)
    fit(model, x, y, epochs=3, verbose=0, seed=0)
    logits = predict(model, x)
    assert score_model(model, x, y, "accuracy") == pytest.approx(metrics.accuracy_score(y, logits.argmax(1)))
    assert score_model(model, x, y, "f1") == pytest.approx(metrics.f1_score(y, logits.argmax(1), average="macro"))
    assert score_model(model, x, y, lambda m, xs, ys: 0.25) == 0.25


def test_bad_arguments_fail_before_training(breast_cancer):
    x, y = breast_cancer
    built = []

    def build():
        built.append(1)
        return small_mlp(0)

    with pytest.raises(ValueError, match=r"cross_validate: unknown metric 'acuracy'"):
        cross_validate(build, x, y, metric="acuracy")
    with pytest.raises(ValueError, match=r"cross_validate: k must be .* got 1"):
        cross_validate(build, x, y, k=1)
    with pytest.raises(ValueError, match=r"holdout: x has 569 samples but y has 10"):
        holdout(build, x, y[:10])
    with pytest.raises(ValueError, match=r"bootstrap: confidence must be in \(0, 1\), got 95"):
        bootstrap(build, x, y, confidence=95)
    with pytest.raises(ValueError, match=r"learning_curve: train_sizes must be fractions in \(0, 1\], got \[50"):
        learning_curve(build, x, y, train_sizes=[50, 100])
    assert not built
