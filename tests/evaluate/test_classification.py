"""Classification metrics equal scikit-learn's, and bad input raises errors that say where."""

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.metrics")

from chainrule.evaluate import classification as cm  # noqa: E402


def _labels(seed, n=200, classes=3):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, classes, n))
    proba = rng.dirichlet(np.ones(classes), n)
    return y_true, y_pred, proba


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_multiclass_prf_match_sklearn(seed, average):
    y_true, y_pred, _ = _labels(seed)
    assert cm.precision(y_true, y_pred, average=average) == pytest.approx(
        sk.precision_score(y_true, y_pred, average=average))
    assert cm.recall(y_true, y_pred, average=average) == pytest.approx(sk.recall_score(y_true, y_pred, average=average))
    assert cm.f1(y_true, y_pred, average=average) == pytest.approx(sk.f1_score(y_true, y_pred, average=average))


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 300)
    scores = np.clip(y_true * 0.3 + rng.random(300) * 0.7, 0, 1)
    y_pred = (scores > 0.5).astype(int)
    assert cm.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert cm.precision(y_true, y_pred) == pytest.approx(sk.precision_score(y_true, y_pred))
    assert cm.recall(y_true, y_pred) == pytest.approx(sk.recall_score(y_true, y_pred))
    assert cm.f1(y_true, y_pred) == pytest.approx(sk.f1_score(y_true, y_pred))
    assert cm.roc_auc(y_true, scores) == pytest.approx(sk.roc_auc_score(y_true, scores))
    # (n, 2) probabilities use the positive column
    two_col = np.stack([1 - scores, scores], axis=1)
    assert cm.roc_auc(y_true, two_col) == pytest.approx(sk.roc_auc_score(y_true, scores))
    assert cm.log_loss(y_true, scores) == pytest.approx(sk.log_loss(y_true, scores))
    fpr, tpr, thr = cm.roc_curve(y_true, scores)
    ref = sk.roc_curve(y_true, scores)
    np.testing.assert_allclose(fpr, ref[0])
    np.testing.assert_allclose(tpr, ref[1])
    p, r, _ = cm.precision_recall_curve(y_true, scores)
    ref = sk.precision_recall_curve(y_true, scores)
    np.testing.assert_allclose(p, ref[0])
    np.testing.assert_allclose(r, ref[1])


def test_multiclass_scores_match_sklearn():
    y_true, y_pred, proba = _labels(3, classes=4)
    assert cm.roc_auc(y_true, proba) == pytest.approx(sk.roc_auc_score(y_true, proba, multi_class="ovr"))
    assert cm.roc_auc(y_true, proba, average="weighted") == pytest.approx(
        sk.roc_auc_score(y_true, proba, multi_class="ovr", average="weighted"))
    assert cm.log_loss(y_true, proba) == pytest.approx(sk.log_loss(y_true, proba))
    for k in (1, 2, 3):
        assert cm.top_k_accuracy(y_true, proba, k=k) == pytest.approx(sk.top_k_accuracy_score(y_true, proba, k=k))
    np.testing.assert_array_equal(cm.confusion_matrix(y_true, y_pred), sk.confusion_matrix(y_true, y_pred))


def test_edge_cases_match_sklearn():
    # a class never predicted: precision for it is 0 (zero_division=0), as in sklearn with zero_division=0
    y_true = np.array([0, 1, 2, 2])
    y_pred = np.array([0, 0, 2, 2])
    assert cm.precision(y_true, y_pred, average="macro") == pytest.approx(
        sk.precision_score(y_true, y_pred, average="macro", zero_division=0))
    # string labels, binary with default positive label chosen from the two present
    assert cm.accuracy(["a", "b", "b"], ["a", "b", "a"]) == pytest.approx(2 / 3)
    assert cm.f1(["neg", "pos", "pos"], ["neg", "pos", "neg"]) == pytest.approx(
        sk.f1_score(["neg", "pos", "pos"], ["neg", "pos", "neg"], pos_label="pos"))
    # perfect predictions
    assert cm.f1([0, 1, 1], [0, 1, 1]) == 1.0


def test_accepts_tensors():
    import chainrule as cr

    y_true, y_pred, _ = _labels(4)
    assert cm.accuracy(cr.tensor(y_true), cr.tensor(y_pred)) == pytest.approx(sk.accuracy_score(y_true, y_pred))


def test_mismatched_lengths_named():
    with pytest.raises(ValueError, match=r"accuracy: .*y_true has 3, y_pred has 2"):
        cm.accuracy([0, 1, 1], [0, 1])


def test_single_class_for_auc():
    with pytest.raises(ValueError, match="only one class"):
        cm.roc_auc([1, 1, 1], [0.2, 0.5, 0.9])


def test_probabilities_must_sum_to_one():
    with pytest.raises(ValueError, match=r"row 1 sums to 1\.5"):
        cm.log_loss([0, 1], [[0.5, 0.5], [0.7, 0.8]])
    with pytest.raises(ValueError, match="not logits"):
        cm.roc_auc([0, 1, 2], [[2.0, -1.0, 0.0], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])


def test_nan_named_with_index():
    with pytest.raises(ValueError, match=r"y_score contains nan at index 2"):
        cm.roc_auc([0, 1, 1], [0.1, 0.7, np.nan])


def test_binary_average_with_three_classes_refused():
    with pytest.raises(ValueError, match="average='binary' needs two classes"):
        cm.f1([0, 1, 2], [0, 1, 2], average="binary")
