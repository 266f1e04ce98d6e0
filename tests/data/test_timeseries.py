"""Time-series preparation (chainrule/data/timeseries.py) and the bundled sunspot series."""

import numpy as np
import pytest

from chainrule.data.timeseries import (
    LinearAutoregression,
    SeriesScaler,
    chronological_split,
    forecast,
    naive_forecast,
    sliding_windows,
    windows_for_split,
)
from chainrule.datasets import load_sunspots


def test_sliding_windows_horizon_and_stride():
    series = np.arange(10.0)
    x, y = sliding_windows(series, window=3, horizon=2, stride=2)
    assert x.shape == (3, 3, 1) and y.shape == (3, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [2, 3, 4], [4, 5, 6]])
    np.testing.assert_array_equal(y, [[3, 4], [5, 6], [7, 8]])


def test_sliding_windows_multivariate():
    series = np.stack([np.arange(6.0), 10 * np.arange(6.0)], axis=1)
    x, y = sliding_windows(series, window=2, horizon=1, target_column=1)
    assert x.shape == (4, 2, 2) and y.shape == (4, 1)
    np.testing.assert_array_equal(y[:, 0], [20, 30, 40, 50])
    _, y_all = sliding_windows(series, window=2)
    assert y_all.shape == (4, 1, 2)


def test_sliding_windows_errors():
    with pytest.raises(ValueError, match="length 4 is too short for window=3 plus horizon=2"):
        sliding_windows(np.arange(4.0), 3, 2)
    with pytest.raises(ValueError, match="window must be a positive int, got 0"):
        sliding_windows(np.arange(4.0), 0)
    with pytest.raises(ValueError, match="missing or infinite value at time index 2"):
        sliding_windows(np.array([1.0, 2.0, np.nan, 4.0]), 1)


def test_chronological_split_and_scaler_use_the_past_only():
    series = np.arange(100.0)
    train, val, test = chronological_split(series, 0.6, 0.2)
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert train[-1] < val[0] and val[-1] < test[0]
    scaler = SeriesScaler().fit(train)
    assert scaler.shift_ == pytest.approx(29.5)  # mean of the training part only
    z = scaler.transform(series.astype(np.float32))
    assert z.dtype == np.float32 and z[:60].mean() == pytest.approx(0, abs=1e-6) and z[60:].mean() > 1
    np.testing.assert_allclose(scaler.inverse_transform(z), series, rtol=1e-5, atol=1e-5)
    minmax = SeriesScaler("minmax").fit(train)
    assert minmax.transform(np.array([0.0, 59.0])).tolist() == [0.0, 1.0]
    assert SeriesScaler.from_dict(scaler.to_dict()).transform(np.array([29.5]))[0] == 0
    with pytest.raises(ValueError, match="do not fit a series of length 100"):
        chronological_split(series, 0.9, 0.2)
    with pytest.raises(RuntimeError, match="call fit"):
        SeriesScaler().transform(series)


def test_windows_for_split_keep_targets_inside_the_split():
    series = np.arange(50.0)
    x, y = windows_for_split(series, window=5, start=40, stop=50)
    assert y[:, 0].tolist() == list(range(40, 50))
    np.testing.assert_array_equal(x[0, :, 0], [35, 36, 37, 38, 39])  # inputs reach back into the previous split


def test_forecast_recursive_and_direct():
    # a model that predicts "previous value + 1" continues a ramp exactly when fed back its own output
    ramp = np.arange(10.0)
    out = forecast(lambda w: w[:, -1, 0] + 1, ramp, steps=4, window=3)
    np.testing.assert_allclose(out, [10, 11, 12, 13])
    direct = forecast(lambda w: w[:, -1, 0][:, None] + np.arange(1, 5), ramp, steps=4, window=3, method="direct")
    np.testing.assert_allclose(direct, [10, 11, 12, 13])
    with pytest.raises(ValueError, match="fewer than window=20"):
        forecast(lambda w: w, ramp, steps=2, window=20)


def test_baselines():
    x, y = sliding_windows(np.sin(np.arange(200) * 0.3), window=4)
    np.testing.assert_array_equal(naive_forecast(x)[:, 0], x[:, -1, 0])
    ar = LinearAutoregression().fit(x, y)
    # a sinusoid obeys x_t = 2cos(0.3)·x_{t-1} - x_{t-2} exactly: least squares finds it
    assert np.abs(ar.predict(x) - y).max() < 1e-4


def test_bundled_sunspots():
    years, values = load_sunspots()
    assert years[0] == 1700 and years[-1] == 2008 and len(values) == 309
    assert np.all(np.diff(years) == 1) and values.dtype == np.float32 and values.min() >= 0
    # spot checks of the published series: the Maunder-minimum tail, the 1957-58 maximum
    assert values[years == 1711][0] == 0 and values[years == 1957][0] == pytest.approx(190.2)
    # the ~11-year solar cycle: the autocorrelation peaks near lag 11 among lags 8..14
    centred = values - values.mean()
    acf = [np.dot(centred[:-k], centred[k:]) for k in range(8, 15)]
    assert 10 <= 8 + int(np.argmax(acf)) <= 12
