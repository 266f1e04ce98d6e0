"""Input checks shared by the metrics: lengths, NaNs, classes, probabilities.

Each raises ``ValueError`` naming the metric, the argument and where the problem is,
so a bad input never turns into a silent wrong number.
"""

import numpy as np


def as_1d(name, values, metric):
    """``values`` (array, list or Tensor) as a 1-D NumPy array."""
    array = np.asarray(values.numpy() if hasattr(values, "numpy") and not isinstance(values, np.ndarray) else values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{metric}: {name} must be 1-D (one value per sample), got shape {array.shape}")
    return array


def as_array(name, values, metric):
    """``values`` as a NumPy array of any rank."""
    return np.asarray(values.numpy() if hasattr(values, "numpy") and not isinstance(values, np.ndarray) else values)


def check_same_length(metric, **arrays):
    """All arrays have the same number of samples (first axis)."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"{metric}: inputs have different numbers of samples ({described})")
    if next(iter(lengths.values()), 0) == 0:
        raise ValueError(f"{metric}: got no samples")


def check_finite(metric, name, array):
    """No NaN or infinity in a numeric array; names the first bad position."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        where = tuple(int(i) for i in bad)
        where = where[0] if len(where) == 1 else where
        raise ValueError(f"{metric}: {name} contains {array[tuple(bad)]} at index {where}; remove or impute it first")


def check_probabilities(metric, name, proba, atol=1e-3):
    """Rows of a (n, C) probability matrix lie in [0, 1] and sum to one."""
    if proba.min() < 0 or proba.max() > 1:
        row = int(np.argwhere((proba < 0) | (proba > 1))[0][0])
        raise ValueError(
            f"{metric}: {name} must hold probabilities in [0, 1], but row {row} is {proba[row].tolist()}; "
            "pass probabilities (e.g. softmax of the logits), not logits"
        )
    if proba.ndim == 2:
        sums = proba.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1) > atol)
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                f"{metric}: each row of {name} must sum to 1, but row {row} sums to {sums[row]:.6g} "
                f"({bad.size} rows off); pass probabilities (softmax of the logits), not logits"
            )


def check_two_classes(metric, y_true):
    """Binary metrics need both classes present in ``y_true``."""
    classes = np.unique(y_true)
    if classes.size < 2:
        raise ValueError(
            f"{metric}: y_true contains only one class ({classes.tolist()}); the metric is undefined "
            "without both classes — use a larger or stratified evaluation split"
        )
    return classes
