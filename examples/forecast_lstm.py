"""Forecasting yearly sunspot numbers with an LSTM, against the two baselines any forecaster must beat.

Pipeline: chronological split (train 1700-1915, validation, test 1962-2008 — never shuffled) ->
scaling fitted on the training years only -> sliding windows of the previous ``window`` years
-> LSTM -> last step -> Linear -> next year's value, trained with ``chainrule.train.fit``.
On the same test years it reports the root-mean-square error of

* the naive forecast (next year = this year),
* a linear autoregression on the same windows (least squares),
* the LSTM,

and, for illustration, a recursive multi-step forecast of the whole test period from the
end of the validation years.

Run it with ``python examples/forecast_lstm.py [--epochs 150]``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import chainrule as cr
except ImportError:  # run from a source checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import chainrule as cr

from chainrule import nn
from chainrule.data.timeseries import (
    LinearAutoregression,
    SeriesScaler,
    chronological_split,
    forecast,
    naive_forecast,
    windows_for_split,
)
from chainrule.datasets import load_sunspots
from chainrule.train import fit


class Forecaster(nn.Module):
    """Windows (B, window, 1) -> next value (B, 1)."""

    def __init__(self, hidden_size=32, seed=0):
        super().__init__()
        self.hidden_size, self.seed = hidden_size, seed
        self.lstm = nn.LSTM(1, hidden_size, batch_first=True, seed=seed)
        self.head = nn.Linear(hidden_size, 1, seed=seed + 1)

    def forward(self, x):
        output, _ = self.lstm(x)
        return self.head(nn.last_step(output, batch_first=True))

    def get_config(self):
        return {"hidden_size": self.hidden_size, "seed": self.seed}


def rmse(prediction, target):
    return float(np.sqrt(np.mean((np.asarray(prediction, np.float64) - np.asarray(target, np.float64)) ** 2)))


def main(epochs=150, window=12, hidden_size=32, seed=0, verbose=True):
    """Train and evaluate; returns a dict of test RMSEs (sunspot-number units) and the split years."""
    years, values = load_sunspots()
    train, val, test = chronological_split(values, 0.7, 0.15)
    n_train, n_val = len(train), len(val)
    scaler = SeriesScaler().fit(train)  # statistics of the training years only
    scaled = scaler.transform(values)

    x_train, y_train = windows_for_split(scaled, window, window, n_train)
    x_val, y_val = windows_for_split(scaled, window, n_train, n_train + n_val)
    x_test, y_test = windows_for_split(scaled, window, n_train + n_val, len(values))
    truth = scaler.inverse_transform(y_test)[:, 0]

    model = Forecaster(hidden_size, seed)
    fit(model, x_train, y_train, loss="mse", optimizer="adam", lr=0.005, epochs=epochs, batch_size=16,
        validation_data=(x_val, y_val), seed=seed, verbose=0)
    model.eval()

    def predict(windows):
        with cr.no_grad():
            return model(windows).numpy()

    lstm_prediction = scaler.inverse_transform(predict(x_test))[:, 0]
    naive_prediction = scaler.inverse_transform(naive_forecast(x_test))[:, 0]
    ar = LinearAutoregression().fit(x_train, y_train)
    ar_prediction = scaler.inverse_transform(ar.predict(x_test))[:, 0]
    # Multi-step: from the end of the validation years, forecast every test year feeding predictions back.
    recursive = scaler.inverse_transform(forecast(predict, scaled[: n_train + n_val], len(test), window))

    results = {
        "naive_rmse": rmse(naive_prediction, truth),
        "linear_ar_rmse": rmse(ar_prediction, truth),
        "lstm_rmse": rmse(lstm_prediction, truth),
        "lstm_recursive_rmse": rmse(recursive, test),
        "test_years": (int(years[n_train + n_val]), int(years[-1])),
        "train_years": (int(years[0]), int(years[n_train - 1])),
    }
    if verbose:
        print(f"training years {results['train_years'][0]}-{results['train_years'][1]}, "
              f"test years {results['test_years'][0]}-{results['test_years'][1]}, window {window} years")
        print("one-year-ahead RMSE on the test years (sunspot number):")
        print(f"  naive (next = this year)      {results['naive_rmse']:7.2f}")
        print(f"  linear autoregression AR({window})  {results['linear_ar_rmse']:7.2f}")
        print(f"  LSTM                          {results['lstm_rmse']:7.2f}")
        print(f"recursive {len(test)}-year forecast from {results['test_years'][0] - 1}, LSTM: "
              f"RMSE {results['lstm_recursive_rmse']:.2f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(epochs=args.epochs, seed=args.seed)
