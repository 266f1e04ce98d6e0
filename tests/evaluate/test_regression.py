"""Regression metrics equal scikit-learn's; bad input raises named errors."""

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.metrics")

from chainrule.evaluate import regression as rm  # noqa: E402


@pytest.mark.parametrize("shape", [(50,), (50, 1), (50, 3)])
def test_match_sklearn(shape):
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.normal(scale=0.5, size=shape)
    flat_true = y_true[:, 0] if y_true.ndim == 2 and y_true.shape[1] == 1 else y_true
    flat_pred = y_pred[:, 0] if y_pred.ndim == 2 and y_pred.shape[1] == 1 else y_pred
    assert rm.mse(y_true, y_pred) == pytest.approx(sk.mean_squared_error(flat_true, flat_pred))
    assert rm.rmse(y_true, y_pred) == pytest.approx(sk.root_mean_squared_error(flat_true, flat_pred))
    assert rm.mae(y_true, y_pred) == pytest.approx(sk.mean_absolute_error(flat_true, flat_pred))
    assert rm.r2(y_true, y_pred) == pytest.approx(sk.r2_score(flat_true, flat_pred))


def test_sample_weight_and_constant_prediction():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, 0.0, 2.0, 1.0])
    assert rm.mse(y, y[::-1], sample_weight=w) == pytest.approx(sk.mean_squared_error(y, y[::-1], sample_weight=w))
    assert rm.r2(y, np.full(4, y.mean())) == pytest.approx(0.0)


def test_errors():
    with pytest.raises(ValueError, match=r"mse: .*y_true has 3, y_pred has 2"):
        rm.mse([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=r"r2: y_pred contains nan at index 1"):
        rm.r2([1.0, 2.0, 3.0], [1.0, np.nan, 3.0])
    with pytest.raises(ValueError, match="shape"):
        rm.mae(np.ones((4, 2)), np.ones((4, 3)))
