"""scikit-learn's bundled handwritten digits: 1,797 images of 8x8 pixels (values 0..16), 10 classes.

The data ships inside scikit-learn (no download); scikit-learn is imported only when called.
Pixels are named like scikit-learn's ``feature_names`` (``pixel_0_0`` .. ``pixel_7_7``, row then
column), so a model trained on digits can also read them from a CSV file with those columns.
"""

import numpy as np

__all__ = ["load_digits", "digits_table", "shifted_copies", "DIGITS_FEATURES", "DIGITS_TARGET"]

DIGITS_FEATURES = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
"""Names of the 64 pixel columns, row-major."""

DIGITS_TARGET = "digit"
"""Name of the label column when the digits are written as a table."""

_MAX_PIXEL = 16.0


def _sklearn_digits():
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:  # pragma: no cover - scikit-learn is in the 'train' extra
        raise ImportError("the digits data ship with scikit-learn: pip install 'chainrule[train]' "
                          "(or pip install scikit-learn)") from error
    return sklearn_load_digits()


def load_digits(images=False, scale=True, dtype=np.float32):
    """The digits as ``(x, y)``.

    Parameters
    ----------
    images : bool
        False: ``x`` has shape ``(1797, 64)``; True: ``(1797, 1, 8, 8)`` (channels first, for CNNs).
    scale : bool
        Divide the pixels by 16 so they lie in [0, 1] (False: the raw values 0..16).
    dtype : dtype
        Of ``x``; ``y`` is int64 class indices 0..9.
    """
    bunch = _sklearn_digits()
    x = bunch.data.astype(np.float64)
    if scale:
        x = x / _MAX_PIXEL
    x = x.astype(dtype)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    return x, bunch.target.astype(np.int64)


def digits_table(pixels, labels=None):
    """Pixel rows ``(n, 64)`` (and labels) as a :class:`~chainrule.data.tabular.Table` with columns
    ``pixel_0_0 .. pixel_7_7`` (and ``digit``), the form in which a preprocessing is fitted and saved."""
    from .tabular import Table

    pixels = np.asarray(pixels, dtype=np.float64).reshape(len(pixels), -1)
    cells = {name: [repr(float(v)) for v in pixels[:, j]] for j, name in enumerate(DIGITS_FEATURES)}
    columns = list(DIGITS_FEATURES)
    if labels is not None:
        cells[DIGITS_TARGET] = [str(int(v)) for v in labels]
        columns.append(DIGITS_TARGET)
    return Table("digits", columns, cells, range(2, len(pixels) + 2))


def shifted_copies(x, y):
    """Augment 8x8 images with their four one-pixel shifts (up, down, left, right; zeros move in).

    ``x`` has shape ``(n, 64)`` or ``(n, 1, 8, 8)``; returns ``(5n, ...)`` images of the same layout
    (the originals first) and the labels repeated. Small shifts do not change a digit, and showing
    them makes a network less sensitive to where the digit sits (a classic, cheap augmentation).
    """
    shape = np.shape(x)[1:]
    images = np.asarray(x).reshape(-1, 8, 8)
    copies = [images]
    for axis, step in ((1, 1), (1, -1), (2, 1), (2, -1)):
        moved = np.zeros_like(images)
        source = [slice(None)] * 3
        target = [slice(None)] * 3
        source[axis] = slice(0, 7) if step == 1 else slice(1, 8)
        target[axis] = slice(1, 8) if step == 1 else slice(0, 7)
        moved[tuple(target)] = images[tuple(source)]
        copies.append(moved)
    return np.concatenate(copies).reshape(-1, *shape), np.tile(np.asarray(y), len(copies))
