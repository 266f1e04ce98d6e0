"""Time series for sequence models: chronological splits, scaling fitted on the past only,
sliding windows, multi-step forecasting and the two baselines every forecaster must beat.

>>> train, val, test = chronological_split(series, 0.7, 0.15)      # no shuffling: the future stays unseen
>>> scaler = SeriesScaler().fit(train)                             # statistics of the training part only
>>> x, y = sliding_windows(scaler.transform(train), window=20, horizon=1)   # (N, 20, 1), (N, 1)

Windows for a later split may start in an earlier one (the model sees the recent past, as
it would when deployed); ``windows_for_split`` does that while keeping every *target* inside
its own split.
"""

import numbers

import numpy

__all__ = [
    "sliding_windows", "chronological_split", "windows_for_split", "SeriesScaler", "forecast",
    "naive_forecast", "LinearAutoregression",
]


def _positive_int(value, name, where):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


def _as_series(series, where):
    array = numpy.asarray(series)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{where}: series must be numeric, got dtype {array.dtype}")
    if array.ndim not in (1, 2):
        raise ValueError(f"{where}: series must be 1-D (time,) or 2-D (time, features), got shape {array.shape}")
    if not numpy.all(numpy.isfinite(array)):
        bad = int(numpy.flatnonzero(~numpy.isfinite(array.reshape(len(array), -1)).any(axis=1))[0])
        raise ValueError(f"{where}: series has a missing or infinite value at time index {bad}")
    return array


def sliding_windows(series, window, horizon=1, stride=1, target_column=None, dtype="float32"):
    """Frame a series as supervised pairs: ``inputs[i] = series[s : s + window]``,
    ``targets[i] = series[s + window : s + window + horizon]`` with ``s = i·stride``.

    Returns ``inputs`` ``(N, window, features)`` (features = 1 for a 1-D series) and ``targets``
    ``(N, horizon)`` for a 1-D series or for ``target_column`` of a 2-D one, else ``(N, horizon, features)``.
    """
    series = _as_series(series, "sliding_windows")
    window = _positive_int(window, "window", "sliding_windows")
    horizon = _positive_int(horizon, "horizon", "sliding_windows")
    stride = _positive_int(stride, "stride", "sliding_windows")
    data = series[:, None] if series.ndim == 1 else series
    T, F = data.shape
    if T < window + horizon:
        raise ValueError(
            f"sliding_windows: a series of length {T} is too short for window={window} plus horizon={horizon}"
        )
    if target_column is not None and not (series.ndim == 2 and -F <= target_column < F):
        raise ValueError(f"sliding_windows: target_column {target_column!r} does not name one of the {F} features")
    starts = numpy.arange(0, T - window - horizon + 1, stride)
    steps = starts[:, None] + numpy.arange(window)[None, :]
    inputs = data[steps].astype(dtype)
    later = starts[:, None] + window + numpy.arange(horizon)[None, :]
    if series.ndim == 1:
        targets = series[later]
    elif target_column is not None:
        targets = data[later, target_column]
    else:
        targets = data[later]
    return inputs, targets.astype(dtype)


def _split_sizes(T, train, val, where):
    def size(fraction, name):
        if isinstance(fraction, numbers.Integral) and not isinstance(fraction, bool):
            n = int(fraction)
        elif isinstance(fraction, numbers.Real) and 0 <= fraction <= 1:
            n = int(round(fraction * T))
        else:
            raise ValueError(f"{where}: {name} must be a fraction in [0, 1] or a number of steps, got {fraction!r}")
        return n

    n_train, n_val = size(train, "train"), size(val, "val")
    if n_train < 1 or n_val < 0 or n_train + n_val > T:
        raise ValueError(f"{where}: train={train!r} and val={val!r} do not fit a series of length {T}")
    return n_train, n_val


def chronological_split(series, train=0.7, val=0.15):
    """Cut a series into consecutive ``(train, val, test)`` parts (fractions of its length or step counts):
    the model is fitted on the past and judged on the future, never shuffled."""
    series = _as_series(series, "chronological_split")
    n_train, n_val = _split_sizes(len(series), train, val, "chronological_split")
    return series[:n_train], series[n_train:n_train + n_val], series[n_train + n_val:]


def windows_for_split(series, window, start, stop, horizon=1, target_column=None, dtype="float32"):
    """Windows of the whole ``series`` whose targets all lie in ``series[start:stop]`` (the inputs may reach
    back before ``start``). With ``chronological_split``'s boundaries this gives train/val/test pairs
    without a target ever leaking into the wrong split."""
    series = _as_series(series, "windows_for_split")
    if not 0 <= start < stop <= len(series):
        raise ValueError(f"windows_for_split: need 0 <= start < stop <= {len(series)}, got start={start}, stop={stop}")
    first = max(start - window, 0)
    part = series[first:stop]
    if len(part) < window + horizon:
        raise ValueError(
            f"windows_for_split: steps {start}..{stop} of the series hold no full window of {window} + horizon {horizon}"
        )
    inputs, targets = sliding_windows(part, window, horizon, 1, target_column, dtype)
    return inputs, targets


class SeriesScaler:
    """Standardise (``method="standard"``: (x - mean) / std) or rescale to [0, 1] (``"minmax"``) per feature,
    with statistics of the series given to ``fit`` — the training part only, so nothing about the future leaks.
    """

    def __init__(self, method="standard"):
        if method not in ("standard", "minmax"):
            raise ValueError(f"SeriesScaler: method must be 'standard' or 'minmax', got {method!r}")
        self.method = method
        self.shift_ = self.scale_ = None

    def fit(self, series):
        data = _as_series(series, "SeriesScaler.fit").astype(numpy.float64)
        if self.method == "standard":
            shift, scale = data.mean(axis=0), data.std(axis=0)
        else:
            shift, scale = data.min(axis=0), data.max(axis=0) - data.min(axis=0)
        self.shift_ = shift
        self.scale_ = numpy.where(scale > 0, scale, 1.0)
        return self

    def _check(self, where):
        if self.shift_ is None:
            raise RuntimeError(f"SeriesScaler.{where}: call fit(training_part) first")

    def transform(self, values):
        """Scale ``values`` (any shape ending in the features, or a 1-D series); keeps float32 inputs float32."""
        self._check("transform")
        values = numpy.asarray(values)
        dtype = values.dtype if values.dtype.kind == "f" else numpy.float32
        return ((values - self.shift_) / self.scale_).astype(dtype)

    def inverse_transform(self, values):
        """Undo ``transform`` (e.g. on predictions)."""
        self._check("inverse_transform")
        values = numpy.asarray(values)
        dtype = values.dtype if values.dtype.kind == "f" else numpy.float32
        return (values * self.scale_ + self.shift_).astype(dtype)

    def fit_transform(self, series):
        return self.fit(series).transform(series)

    def to_dict(self):
        """JSON-able state (saved with the model)."""
        self._check("to_dict")
        return {"method": self.method, "shift": numpy.atleast_1d(self.shift_).tolist(),
                "scale": numpy.atleast_1d(self.scale_).tolist(), "ndim": int(numpy.ndim(self.shift_))}

    @classmethod
    def from_dict(cls, state):
        scaler = cls(state["method"])
        shift, scale = numpy.asarray(state["shift"]), numpy.asarray(state["scale"])
        if state.get("ndim", 1) == 0:
            shift, scale = shift[0], scale[0]
        scaler.shift_, scaler.scale_ = shift, scale
        return scaler


def forecast(predict, history, steps, window, method="recursive"):
    """Forecast ``steps`` values after ``history`` (a 1-D series).

    ``method="recursive"``: ``predict`` maps windows ``(N, window, 1)`` to next values ``(N, 1)`` (or
    ``(N,)``); each prediction is appended to the window and fed back, one step at a time.
    ``method="direct"``: ``predict`` returns all ``steps`` future values at once, ``(N, steps)``
    (a model trained with ``horizon=steps``).
    Returns an array of ``steps`` values.
    """
    history = _as_series(history, "forecast")
    steps = _positive_int(steps, "steps", "forecast")
    window = _positive_int(window, "window", "forecast")
    if history.ndim != 1:
        raise ValueError(f"forecast: history must be a 1-D series, got shape {history.shape}")
    if len(history) < window:
        raise ValueError(f"forecast: history has {len(history)} values, fewer than window={window}")
    if method == "direct":
        out = numpy.asarray(predict(history[-window:].astype(numpy.float32)[None, :, None])).reshape(-1)
        if out.size != steps:
            raise ValueError(f"forecast: method='direct' needs predict to return {steps} values, got {out.size}")
        return out
    if method != "recursive":
        raise ValueError(f"forecast: method must be 'recursive' or 'direct', got {method!r}")
    buffer = list(history[-window:].astype(numpy.float32))
    out = []
    for _ in range(steps):
        value = numpy.asarray(predict(numpy.asarray(buffer[-window:], dtype=numpy.float32)[None, :, None]))
        value = float(value.reshape(-1)[0])
        out.append(value)
        buffer.append(value)
    return numpy.asarray(out, dtype=numpy.float32)


def naive_forecast(inputs, horizon=1):
    """The last observed value repeated: from windows ``(N, window, 1)`` (or ``(N, window)``) -> ``(N, horizon)``."""
    inputs = numpy.asarray(inputs)
    last = inputs[:, -1, 0] if inputs.ndim == 3 else inputs[:, -1]
    return numpy.repeat(last[:, None], horizon, axis=1)


class LinearAutoregression:
    """AR(p) by least squares: next value = b + Σ_k w_k · x_{t-k}, fitted on windows of the training part.

    ``fit(inputs, targets)`` with windows ``(N, p, 1)`` and targets ``(N, horizon)``; ``predict(inputs)``.
    """

    def __init__(self):
        self.coef_ = None

    @staticmethod
    def _design(inputs):
        inputs = numpy.asarray(inputs, dtype=numpy.float64)
        flat = inputs.reshape(len(inputs), -1)
        return numpy.hstack([flat, numpy.ones((len(flat), 1))])

    def fit(self, inputs, targets):
        X = self._design(inputs)
        y = numpy.asarray(targets, dtype=numpy.float64).reshape(len(X), -1)
        if len(X) < X.shape[1]:
            raise ValueError(f"LinearAutoregression.fit: {len(X)} windows are too few for {X.shape[1]} coefficients")
        self.coef_, *_ = numpy.linalg.lstsq(X, y, rcond=None)
        return self

    def predict(self, inputs):
        if self.coef_ is None:
            raise RuntimeError("LinearAutoregression.predict: call fit first")
        return (self._design(inputs) @ self.coef_).astype(numpy.float32)
