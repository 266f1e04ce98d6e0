"""Tests for chainrule/train/fit.py: learning on real data, history, validation, weights, predict/evaluate."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.optim import SGD, Adam
from chainrule.train import History, evaluate, fit, predict
from conftest import mlp


# ------------------------------------------------------------------ learning on real data
def test_breast_cancer_mlp_reaches_96_percent(breast_cancer):
    x_train, y_train, x_test, y_test = breast_cancer
    model = mlp([30, 32, 2], seed=0)
    history = fit(model, x_train, y_train, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=30,
                  batch_size=32, metrics=["accuracy"], seed=0, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    accuracy = evaluate(model, x_test, y_test, metrics=["accuracy"])["accuracy"]
    assert accuracy >= 0.96
    # predict gives logits; their argmax is the same accuracy
    assert np.mean(predict(model, x_test).argmax(axis=1) == y_test) == pytest.approx(accuracy)


def test_diabetes_mlp_reaches_r2_045():
    """Regression on scikit-learn's diabetes set. X is standardised with training statistics and so is y
    (the network fits y in units of its standard deviation; predictions are mapped back before scoring)."""
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    x, y = datasets.load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    y_mean, y_std = y_train.mean(), y_train.std()
    model = mlp([10, 32, 1], seed=0)
    # (n,) targets against the model's (n, 1) outputs are matched by fit
    history = fit(model, (x_train - mean) / std, (y_train - y_mean) / y_std, loss="mse", lr=1e-3, epochs=40,
                  metrics=["mae"], seed=0, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    predictions = predict(model, (x_test - mean) / std)[:, 0] * y_std + y_mean
    assert r2_score(y_test, predictions) >= 0.45


# ------------------------------------------------------------------ history
def test_history_contents(blobs):
    x, y = blobs
    model = mlp([4, 16, 3], seed=1)
    def top_logit(y_true, y_pred):  # a custom metric, reported under its function name
        return float(np.mean(y_pred.max(axis=1)))

    history = fit(model, x, y, epochs=4, batch_size=50, metrics=["accuracy", top_logit], validation_split=0.25,
                  lr=0.01, seed=0, verbose=0)
    assert isinstance(history, History)
    assert history.epoch == [0, 1, 2, 3]
    assert list(history.history) == ["loss", "accuracy", "top_logit", "val_loss", "val_accuracy", "val_top_logit", "lr"]
    for values in history.history.values():
        assert len(values) == 4
        assert all(isinstance(v, float) for v in values)
    assert history.history["lr"] == [pytest.approx(0.01)] * 4
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.8
    assert history.params["steps"] == 4 and history.params["samples"] == 180
    assert history.params["validation_samples"] == 60
    assert history["loss"] is history.history["loss"]
    # the last epoch's validation numbers are those of the final model
    final = evaluate(model, x[180:], y[180:], loss="cross_entropy", metrics=["accuracy"])
    assert final["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    assert final["accuracy"] == history.history["val_accuracy"][-1]
    # JSON round trip
    data = json.loads(history.to_json())
    assert data["history"] == history.history and data["epoch"] == history.epoch
    again = History.from_dict(data)
    assert again.history == history.history and again.epoch == history.epoch
    assert history.best("val_loss")[1] == min(history.history["val_loss"])
    assert history.best("val_accuracy")[1] == max(history.history["val_accuracy"])


def test_training_metric_is_epoch_average_of_batches(blobs):
    """With lr=0 the model does not change, so the training accuracy of the epoch equals evaluate's."""
    x, y = blobs
    model = mlp([4, 8, 3], seed=2)
    history = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=64, metrics=["accuracy"],
                  shuffle=True, seed=0, verbose=0)
    expected = evaluate(model, x, y, loss="cross_entropy", metrics=["accuracy"])
    assert history.history["accuracy"][0] == pytest.approx(expected["accuracy"])
    assert history.history["loss"][0] == pytest.approx(expected["loss"], rel=1e-5)


# ------------------------------------------------------------------ validation
def test_validation_split_takes_the_last_fraction_before_shuffling(blobs):
    x, y = blobs
    model = mlp([4, 8, 3], seed=3)
    seen = []

    def spy(output, target):
        seen.append(len(target))
        return cr.cross_entropy(output, target)

    fit(model, x, y, loss=spy, optimizer="sgd", lr=0.0, epochs=1, batch_size=1000, validation_split=0.2,
        seed=0, verbose=0)
    # one training batch of the first 192 samples, then the validation batch of the last 48
    assert seen == [192, 48]
    history = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, validation_split=0.2, seed=0, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(
        evaluate(model, x[192:], y[192:], loss="cross_entropy")["loss"], rel=1e-6)


def test_validation_data_and_errors(blobs):
    x, y = blobs
    model = mlp([4, 8, 3], seed=3)
    history = fit(model, x[:200], y[:200], epochs=2, validation_data=(x[200:], y[200:]), metrics=["accuracy"],
                  seed=0, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    with pytest.raises(ValueError, match="not both"):
        fit(model, x, y, validation_split=0.1, validation_data=(x, y), verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        fit(model, x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="240 samples but y has 239"):
        fit(model, x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match="unknown loss 'crossent'"):
        fit(model, x, y, loss="crossent", verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        fit(model, x, y, optimizer="adamm", verbose=0)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, x, y, metrics=["acuracy"], verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="lr="):
        fit(model, x, y, optimizer=Adam(model.parameters()), lr=0.1, verbose=0)


# ------------------------------------------------------------------ sample and class weights
def _cross_entropy_per_sample(logits, y):
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), y]


def test_sample_weight_gives_the_weighted_mean_loss(blobs):
    x, y = blobs
    weights = np.random.default_rng(5).uniform(0.0, 1.0, size=len(y)) * np.where(y == 0, 3.0, 0.2)
    model = mlp([4, 8, 3], seed=4)
    per_sample = _cross_entropy_per_sample(predict(model, x), y)
    expected = np.sum(weights * per_sample) / np.sum(weights)
    assert abs(expected - per_sample.mean()) > 0.01  # the weights make a visible difference
    for batch_size in (240, 64):  # one batch, and batches re-weighted into the epoch mean
        history = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=batch_size,
                      sample_weight=weights, seed=0, verbose=0)
        assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    result = evaluate(model, x, y, loss="cross_entropy", sample_weight=weights, batch_size=100)
    assert result["loss"] == pytest.approx(expected, rel=1e-5)
    unweighted = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=240, verbose=0)
    assert unweighted.history["loss"][0] == pytest.approx(per_sample.mean(), rel=1e-5)


def test_class_weight_equals_the_matching_sample_weight(blobs):
    x, y = blobs
    class_weight = {0: 1.0, 1: 5.0, 2: 0.5}
    model = mlp([4, 8, 3], seed=4)
    per_sample = _cross_entropy_per_sample(predict(model, x), y)
    w = np.array([class_weight[c] for c in y])
    expected = np.sum(w * per_sample) / np.sum(w)
    history = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=240, class_weight=class_weight,
                  verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    # both together multiply
    sample_weight = np.linspace(0.5, 2.0, len(y))
    both = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=240, class_weight=class_weight,
               sample_weight=sample_weight, verbose=0)
    w2 = w * sample_weight
    assert both.history["loss"][0] == pytest.approx(np.sum(w2 * per_sample) / np.sum(w2), rel=1e-5)
    # "balanced": n / (classes * count)
    counts = np.bincount(y)
    wb = (len(y) / (3 * counts))[y]
    balanced = fit(model, x, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=240, class_weight="balanced",
                   verbose=0)
    assert balanced.history["loss"][0] == pytest.approx(np.sum(wb * per_sample) / np.sum(wb), rel=1e-5)
    with pytest.raises(ValueError, match=r"no weight for class\(es\) \[2\]"):
        fit(model, x, y, class_weight={0: 1.0, 1: 2.0}, verbose=0)


def test_sample_weight_changes_the_gradient_like_torch_weighting(blobs):
    """Weighted training matches a hand-written step: w = Σ wᵢ ∇lᵢ / Σ wᵢ with SGD."""
    x, y = blobs
    x, y = x[:32], y[:32]
    weights = np.random.default_rng(1).uniform(0.1, 2.0, size=32)
    model = mlp([4, 3], seed=7)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    fit(model, x, y, optimizer="sgd", lr=0.5, epochs=1, batch_size=32, shuffle=False, sample_weight=weights,
        verbose=0)
    # hand-computed gradient of the weighted mean cross-entropy of a linear model
    W, b = before["0.weight"].astype(np.float64), before["0.bias"].astype(np.float64)
    logits = x @ W.T + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(32), y] -= 1.0
    g = p * (weights / weights.sum())[:, None]
    np.testing.assert_allclose(model.state_dict()["0.weight"], W - 0.5 * g.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.state_dict()["0.bias"], b - 0.5 * g.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_weighted_mse_and_loss_module(blobs):
    x, _ = blobs
    target = (x @ np.array([1.0, -2.0, 0.5, 0.0]))[:, None] + 0.3
    weights = np.linspace(0.0, 1.0, len(x))
    model = mlp([4, 1], seed=8)
    errors = ((predict(model, x).astype(np.float64) - target) ** 2)[:, 0]
    expected = np.sum(weights * errors) / np.sum(weights)
    for loss in ("mse", nn.MSELoss()):
        history = fit(model, x, target[:, 0], loss=loss, optimizer="sgd", lr=0.0, epochs=1, batch_size=240,
                      sample_weight=weights, verbose=0)
        assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_custom_loss_without_reduction_rejects_weights(blobs):
    x, y = blobs
    model = mlp([4, 3], seed=0)

    def my_loss(output, target):
        return cr.cross_entropy(output, target)

    fit(model, x, y, loss=my_loss, epochs=1, verbose=0)  # fine without weights
    with pytest.raises(ValueError, match="reduction='none'"):
        fit(model, x, y, loss=my_loss, epochs=1, sample_weight=np.ones(len(y)), verbose=0)


# ------------------------------------------------------------------ inputs, modes, predict
class _ModeRecorder(nn.Module):
    """Linear layer that records the training flag seen by each forward call."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3, seed=0)
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return self.fc(x)


def test_train_mode_for_epochs_eval_mode_for_validation_and_predict(blobs):
    x, y = blobs
    model = _ModeRecorder()
    fit(model, x, y, epochs=2, batch_size=120, validation_split=0.5, verbose=0)
    # per epoch: one training batch (train mode) then one validation batch (eval mode)
    assert model.modes == [True, False, True, False]
    assert model.training  # restored to the mode it had
    model.eval()
    predict(model, x)
    assert not model.training
    model.train()
    model.modes.clear()
    predict(model, x, batch_size=100)
    assert model.modes == [False, False, False] and model.training


def test_predict_matches_forward_and_is_deterministic_with_dropout(blobs):
    x, _ = blobs
    model = mlp([4, 16, 3], seed=0, dropout=0.5)
    first = predict(model, x, batch_size=7)
    assert first.dtype == np.float32 and first.shape == (240, 3)
    np.testing.assert_array_equal(first, predict(model, x, batch_size=1000))
    model.eval()
    with cr.no_grad():
        np.testing.assert_allclose(first, model(cr.tensor(x.astype(np.float32))).numpy(), rtol=1e-6)


class _TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 3, seed=0)
        self.b = nn.Linear(2, 3, seed=1)

    def forward(self, x1, x2):
        return self.a(x1) + self.b(x2)


def test_tuple_inputs_go_to_a_multi_input_model(blobs):
    x, y = blobs
    extra = np.random.default_rng(0).standard_normal((len(x), 2))
    model = _TwoInputs()
    history = fit(model, (x, extra), y, epochs=3, lr=0.05, metrics=["accuracy"], validation_split=0.25,
                  seed=0, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.8
    assert predict(model, (x, extra)).shape == (240, 3)


def test_float_class_labels_from_a_csv_work_with_cross_entropy(blobs):
    x, y = blobs
    model = mlp([4, 3], seed=0)
    history = fit(model, x, y.astype(np.float64), epochs=2, metrics=["accuracy"], verbose=0)
    assert len(history.history["accuracy"]) == 2


def test_fit_with_optimizer_instance_and_clip_grad_norm(blobs):
    x, y = blobs
    model = mlp([4, 8, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, x, y, optimizer=optimizer, epochs=3, clip_grad_norm=0.5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["lr"] == [0.1, 0.1, 0.1]


def test_clip_grad_norm_limits_the_step(blobs):
    """With SGD and lr=1 one clipped step moves the parameters by exactly max_norm (the gradient is larger)."""
    x, y = blobs
    model = mlp([4, 3], seed=0)
    before = np.concatenate([p.data.ravel().copy() for p in model.parameters()])
    fit(model, x * 100, y, optimizer="sgd", lr=1.0, epochs=1, batch_size=240, clip_grad_norm=0.25, verbose=0)
    after = np.concatenate([p.data.ravel() for p in model.parameters()])
    assert np.linalg.norm(after - before) == pytest.approx(0.25, rel=1e-4)
