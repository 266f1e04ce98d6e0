"""The metric registry (chainrule/evaluate/metrics.py): logit-based metrics equal scikit-learn's, and
``fit(metrics=[...])`` reports every one of them in the History."""

import warnings

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.metrics")

from chainrule import nn  # noqa: E402
from chainrule.evaluate import classification  # noqa: E402
from chainrule.evaluate import metrics as registry  # noqa: E402
from chainrule.evaluate.metrics import get_metric, metric_name  # noqa: E402
from chainrule.train import fit, predict  # noqa: E402


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _problem(seed, n=300, classes=4, dtype=np.float32):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    logits = (rng.standard_normal((n, classes)) * 2 + 1.5 * np.eye(classes)[y]).astype(dtype)
    return y, logits


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_from_logits_match_sklearn(seed):
    y, logits = _problem(seed)
    labels = logits.argmax(axis=1)
    proba = _softmax(logits.astype(np.float64))
    assert get_metric("accuracy")(y, logits) == pytest.approx(sk.accuracy_score(y, labels))
    for average in ("macro", "micro", "weighted"):
        for name, reference in (("precision", sk.precision_score), ("recall", sk.recall_score),
                                ("f1", sk.f1_score)):
            expected = reference(y, labels, average=average, zero_division=0)
            assert get_metric(f"{name}_{average}")(y, logits) == pytest.approx(expected)
            if average == "macro":
                assert get_metric(name)(y, logits) == pytest.approx(expected)
    assert get_metric("roc_auc")(y, logits) == pytest.approx(sk.roc_auc_score(y, proba, multi_class="ovr"))
    assert get_metric("log_loss")(y, logits) == pytest.approx(sk.log_loss(y, proba), rel=1e-6)
    for k in (1, 2, 3):
        assert get_metric(f"top_{k}_accuracy")(y, logits) == pytest.approx(sk.top_k_accuracy_score(y, logits, k=k))
    assert get_metric("top_k_accuracy")(y, logits) == 1.0  # k=5 >= 4 classes


def test_one_hot_targets_give_the_same_values():
    y, logits = _problem(3)
    one_hot = np.eye(4, dtype=np.float32)[y]
    for name in ("accuracy", "top_2_accuracy", "log_loss", "f1", "roc_auc"):
        assert get_metric(name)(one_hot, logits) == pytest.approx(get_metric(name)(y, logits)), name


def test_soft_targets_log_loss_is_the_cross_entropy():
    rng = np.random.default_rng(0)
    targets = rng.dirichlet(np.ones(3), 50)
    logits = rng.standard_normal((50, 3))
    expected = -np.mean((targets * np.log(_softmax(logits))).sum(axis=1))
    assert get_metric("log_loss")(targets, logits) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_one_logit_and_two_column_logits_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 200)
    z = (rng.standard_normal(200) + 1.2 * (2 * y - 1)).astype(np.float32)
    p = 1 / (1 + np.exp(-z.astype(np.float64)))
    labels = (z > 0).astype(int)
    for logits in (z, z[:, None]):  # (n,) and (n, 1): one binary logit
        assert get_metric("accuracy")(y, logits) == pytest.approx(sk.accuracy_score(y, labels))
        assert get_metric("roc_auc")(y, logits) == pytest.approx(sk.roc_auc_score(y, p))
        assert get_metric("log_loss")(y, logits) == pytest.approx(sk.log_loss(y, p), rel=1e-6)
        assert get_metric("f1")(y, logits) == pytest.approx(sk.f1_score(y, labels, average="macro"))
        assert get_metric("recall")(y.astype(np.float32)[:, None], logits) == pytest.approx(
            sk.recall_score(y, labels, average="macro"))
    two = np.stack([np.zeros_like(z), z], axis=1)  # softmax([0, z])[1] = sigmoid(z)
    assert get_metric("roc_auc")(y, two) == pytest.approx(sk.roc_auc_score(y, p))
    assert get_metric("log_loss")(y, two) == pytest.approx(sk.log_loss(y, p), rel=1e-6)


def test_auc_ranks_saturated_logits_without_ties():
    # sigmoid(z) == 1.0 in float32 for all these logits; ranking by the logit keeps them apart
    y = np.array([0, 1, 0, 1])
    z = np.array([30.0, 50.0, 55.0, 60.0], dtype=np.float32)
    assert sk.roc_auc_score(y, 1 / (1 + np.exp(-z))) == 0.5  # what saturated probabilities would give
    assert get_metric("roc_auc")(y, z) == pytest.approx(sk.roc_auc_score(y, z))
    assert get_metric("roc_auc")(y, z) == pytest.approx(0.75)


def test_top_k_ties_broken_like_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 100)
    logits = rng.integers(0, 3, (100, 5)).astype(np.float32)  # many ties
    for k in (1, 2, 3, 4):
        assert get_metric(f"top_{k}_accuracy")(y, logits) == pytest.approx(sk.top_k_accuracy_score(y, logits, k=k))
    assert registry.top_k_accuracy(y, logits, k=2) == pytest.approx(sk.top_k_accuracy_score(y, logits, k=2))


def test_multiclass_auc_with_an_absent_class_averages_the_present_ones():
    y, logits = _problem(4)
    keep = y != 2
    y, logits = y[keep], logits[keep]
    proba = _softmax(logits.astype(np.float64))
    expected = np.mean([sk.roc_auc_score(y == c, proba[:, c]) for c in (0, 1, 3)])
    assert get_metric("roc_auc")(y, logits) == pytest.approx(expected)


@pytest.mark.parametrize("shape", [(60,), (60, 1), (60, 3)])
def test_regression_metrics_match_sklearn(shape):
    rng = np.random.default_rng(0)
    y = rng.standard_normal(shape)
    out = (y + 0.4 * rng.standard_normal(shape)).astype(np.float32)
    if len(shape) == 1:
        out = out[:, None]  # (n,) targets against a model's (n, 1) outputs
    flat = out.reshape(y.shape).astype(np.float64)
    assert get_metric("mse")(y, out) == pytest.approx(sk.mean_squared_error(y, flat), rel=1e-5)
    assert get_metric("mae")(y, out) == pytest.approx(sk.mean_absolute_error(y, flat), rel=1e-5)
    assert get_metric("rmse")(y, out) == pytest.approx(sk.root_mean_squared_error(y, flat), rel=1e-5)
    assert get_metric("r2")(y, out) == pytest.approx(sk.r2_score(y, flat), rel=1e-5)


def test_metric_attributes_names_and_label_function_mapping():
    for name in ("accuracy", "top_k_accuracy", "log_loss", "mse", "mae"):
        assert get_metric(name).batchwise is True, name
    for name in ("precision", "recall", "f1", "roc_auc", "rmse", "r2"):
        assert get_metric(name).batchwise is False, name
    assert get_metric("roc_auc").greater_is_better and not get_metric("log_loss").greater_is_better
    assert get_metric("f1").task == "classification" and get_metric("r2").task == "regression"
    # the label-based functions of chainrule.evaluate work as training metrics, under their names
    assert get_metric(classification.f1) is get_metric("f1")
    assert metric_name(classification.roc_auc) == "roc_auc"
    assert metric_name("top_3_accuracy") == "top_3_accuracy"
    assert get_metric("top_3_accuracy").__name__ == "top_3_accuracy"
    with pytest.raises(ValueError, match="unknown metric 'top_0_accuracy'"):
        get_metric("top_0_accuracy")


def test_bad_inputs_say_what_and_where():
    y, logits = _problem(0, n=10)
    bad = logits.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"f1: y_pred \(the model's outputs\) contains nan at index \(3, 1\)"):
        get_metric("f1")(y, bad)
    with pytest.raises(ValueError, match="log_loss: y_true has 9 samples but y_pred has 10"):
        get_metric("log_loss")(y[:9], logits)
    with pytest.raises(ValueError, match=r"roc_auc: expected logits of shape .* got y_pred of shape \(10, 4, 1\)"):
        get_metric("roc_auc")(y, logits[:, :, None])
    with pytest.raises(ValueError, match=r"log_loss: class labels must lie in \[0, 3\]"):
        get_metric("log_loss")(y + 4, logits)
    with pytest.raises(ValueError, match="top_k_accuracy: needs logits of shape"):
        get_metric("top_k_accuracy")(y, logits[:, 0])
    with pytest.raises(ValueError, match=r"r2: y_true of shape \(10,\) does not match y_pred of shape \(10, 4\)"):
        get_metric("r2")(y, logits)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.isnan(get_metric("roc_auc")(np.zeros(10, int), logits))
    assert any("one class only" in str(w.message) for w in caught)


# ----------------------------------------------------------------- in fit
def _mlp(n_in, n_out, seed=0):
    return nn.Sequential(nn.Linear(n_in, 16, seed=seed), nn.ReLU(), nn.Linear(16, n_out, seed=seed + 1))


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 5)) * 2
    y = rng.integers(0, 3, 300)
    return (centres[y] + rng.standard_normal((300, 5))).astype(np.float32), y


CLASSIFICATION = ["accuracy", "top_2_accuracy", "log_loss", "precision", "recall", "f1", "roc_auc"]


def test_fit_reports_every_classification_metric(blobs):
    x, y = blobs
    model = _mlp(5, 3)
    history = fit(model, x[:200], y[:200], validation_data=(x[200:], y[200:]), metrics=CLASSIFICATION,
                  lr=1e-2, epochs=4, batch_size=32, verbose=0, seed=0)
    for name in CLASSIFICATION:
        assert len(history[name]) == 4 and len(history["val_" + name]) == 4, name
        assert all(np.isfinite(history[name])), name
    # validation metrics are computed once on all outputs of the final weights
    logits = predict(model, x[200:])
    labels = logits.argmax(axis=1)
    assert history["val_f1"][-1] == pytest.approx(sk.f1_score(y[200:], labels, average="macro"))
    assert history["val_roc_auc"][-1] == pytest.approx(
        sk.roc_auc_score(y[200:], _softmax(logits.astype(np.float64)), multi_class="ovr"))
    assert history["val_log_loss"][-1] == pytest.approx(sk.log_loss(y[200:], _softmax(logits.astype(np.float64))),
                                                        rel=1e-5)
    assert history["val_top_2_accuracy"][-1] == pytest.approx(sk.top_k_accuracy_score(y[200:], logits, k=2))
    assert history["accuracy"][-1] > 0.8


def test_per_epoch_metrics_use_all_the_epochs_outputs(blobs):
    # one batch per epoch: the epoch's outputs are the model's outputs before its single step
    x, y = blobs
    model = _mlp(5, 3, seed=4)
    before = predict(model, x)
    history = fit(model, x, y, metrics=["f1", "roc_auc", "accuracy"], epochs=1, batch_size=len(x), shuffle=False,
                  verbose=0)
    assert history["f1"][0] == pytest.approx(sk.f1_score(y, before.argmax(1), average="macro"))
    assert history["roc_auc"][0] == pytest.approx(
        sk.roc_auc_score(y, _softmax(before.astype(np.float64)), multi_class="ovr"))
    assert history["accuracy"][0] == pytest.approx(sk.accuracy_score(y, before.argmax(1)))


def test_per_epoch_metric_differs_from_a_mean_of_batch_values(blobs):
    # macro F1 is not a mean over samples: the epoch value is F1 over the whole epoch, which is what
    # scikit-learn gives on the concatenated outputs — here checked with a recording batchwise twin
    x, y = blobs
    seen = []

    def record(y_true, outputs):
        seen.append((np.array(y_true), np.array(outputs)))
        return 0.0

    model = _mlp(5, 3, seed=5)
    history = fit(model, x, y, metrics=["f1", record], epochs=1, batch_size=64, shuffle=True, seed=3, verbose=0)
    targets = np.concatenate([t for t, _ in seen])
    outputs = np.concatenate([o for _, o in seen])
    assert len(seen) == 5
    assert history["f1"][0] == pytest.approx(sk.f1_score(targets, outputs.argmax(1), average="macro"))


def test_fit_reports_binary_metrics_with_one_logit(blobs):
    x, y = blobs
    y2 = (y == 0).astype(np.float32)
    model = _mlp(5, 1)
    history = fit(model, x, y2, loss="binary_cross_entropy", validation_split=0.25,
                  metrics=["accuracy", "roc_auc", "f1", "log_loss"], epochs=3, verbose=0, seed=0)
    z = predict(model, x[225:])[:, 0]
    p = 1 / (1 + np.exp(-z.astype(np.float64)))
    assert history["val_roc_auc"][-1] == pytest.approx(sk.roc_auc_score(y2[225:], z))
    assert history["val_log_loss"][-1] == pytest.approx(sk.log_loss(y2[225:], p), rel=1e-5)
    assert history["val_loss"][-1] == pytest.approx(history["val_log_loss"][-1], rel=1e-4)


def test_fit_reports_every_regression_metric():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((240, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.standard_normal(240)).astype(np.float32)
    model = _mlp(4, 1)
    names = ["mse", "rmse", "mae", "r2"]
    history = fit(model, x[:180], y[:180], loss="mse", validation_data=(x[180:], y[180:]), metrics=names,
                  epochs=5, lr=1e-2, verbose=0, seed=0)
    out = predict(model, x[180:])[:, 0].astype(np.float64)
    assert history["val_mse"][-1] == pytest.approx(sk.mean_squared_error(y[180:], out), rel=1e-5)
    assert history["val_rmse"][-1] == pytest.approx(sk.root_mean_squared_error(y[180:], out), rel=1e-5)
    assert history["val_mae"][-1] == pytest.approx(sk.mean_absolute_error(y[180:], out), rel=1e-5)
    assert history["val_r2"][-1] == pytest.approx(sk.r2_score(y[180:], out), rel=1e-5)
    assert history["val_loss"][-1] == pytest.approx(history["val_mse"][-1], rel=1e-5)
    assert all(len(history[name]) == 5 for name in names)
    assert history["r2"][-1] > history["r2"][0]


def test_fit_accepts_the_label_functions_of_chainrule_evaluate(blobs):
    import chainrule.evaluate as ev

    x, y = blobs
    model = _mlp(5, 3)
    history = fit(model, x, y, metrics=[ev.accuracy, ev.f1, ev.roc_auc], validation_split=0.2, epochs=2,
                  verbose=0, seed=0)
    logits = predict(model, x[240:])
    assert history["val_f1"][-1] == pytest.approx(sk.f1_score(y[240:], logits.argmax(1), average="macro"))
    assert history["val_accuracy"][-1] == pytest.approx(sk.accuracy_score(y[240:], logits.argmax(1)))
    assert "roc_auc" in history
