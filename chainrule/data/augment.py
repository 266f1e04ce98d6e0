"""Image augmentation applied per batch, seeded: random crops with padding, horizontal flips, small shifts.

A network sees each training image many times; showing it slightly moved or mirrored each
time (label unchanged) teaches it that these changes do not matter, which reduces
overfitting on small datasets. Every function takes a batch (N, C, H, W) and a ``seed``
(int or ``numpy.random.Generator``) and returns a new batch; :class:`ImageAugmenter` holds
one generator, so calling it on successive batches gives different but reproducible draws.
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..creation import as_generator

__all__ = ["random_crop", "random_shift", "random_flip", "ImageAugmenter"]


def _check_batch(x, op):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a batch of images (N, C, H, W), got shape {x.shape}")
    return x


def _check_amount(value, name, op):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{op}: {name} must be a non-negative int, got {value!r}")
    return int(value)


def random_crop(x, padding, seed=None, mode="constant"):
    """Pad each image by ``padding`` pixels on every side, then cut out an H x W window at a
    random position (independently per image): the classic CIFAR augmentation.

    Parameters
    ----------
    x : array (N, C, H, W)
    padding : int
    seed : int or numpy.random.Generator, optional
    mode : str
        ``numpy.pad`` mode of the border: "constant" (zeros), "reflect", "edge".
    """
    x = _check_batch(x, "random_crop")
    padding = _check_amount(padding, "padding", "random_crop")
    if padding == 0:
        return x.copy()
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode=mode)
    rng = as_generator(seed)
    top = rng.integers(0, 2 * padding + 1, size=n)
    left = rng.integers(0, 2 * padding + 1, size=n)
    # windows[i, c, a, b] is the H x W window of image i whose corner is at (a, b): a view, no copy
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))
    return windows[np.arange(n), :, top, left]


def random_shift(x, max_shift, seed=None):
    """Move each image by a random whole number of pixels in [-max_shift, max_shift] along each
    axis; zeros fill the uncovered border. (A random crop of the zero-padded image.)"""
    return random_crop(x, _check_amount(max_shift, "max_shift", "random_shift"), seed, mode="constant")


def random_flip(x, p=0.5, seed=None):
    """Mirror each image left-right with probability ``p`` (for photos, not for digits or text)."""
    x = _check_batch(x, "random_flip")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"random_flip: p must be a probability in [0, 1], got {p!r}")
    flip = as_generator(seed).random(len(x)) < p
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


class ImageAugmenter:
    """A per-batch augmentation pipeline with its own generator: shift (or crop), then flip.

    Parameters
    ----------
    crop_padding : int
        Random crop after padding by this many pixels (0: none).
    max_shift : int
        Random shift by up to this many pixels, zero fill (0: none). Use one of crop/shift.
    flip : bool
        Random horizontal flips (probability 1/2).
    pad_mode : str
        Border of the random crop ("constant", "reflect", "edge").
    seed : int or numpy.random.Generator, optional

    Examples
    --------
    >>> augment = ImageAugmenter(crop_padding=4, flip=True, seed=0)
    >>> for xb, yb in loader:
    ...     loss = cross_entropy(model(augment(xb)), yb)
    """

    def __init__(self, crop_padding=0, max_shift=0, flip=False, pad_mode="constant", seed=None):
        self.crop_padding = _check_amount(crop_padding, "crop_padding", "ImageAugmenter")
        self.max_shift = _check_amount(max_shift, "max_shift", "ImageAugmenter")
        if self.crop_padding and self.max_shift:
            raise ValueError("ImageAugmenter: give crop_padding or max_shift, not both (a shift is a zero-padded crop)")
        self.flip = bool(flip)
        self.pad_mode = pad_mode
        self.rng = as_generator(seed)

    def __call__(self, x):
        x = _check_batch(x, "ImageAugmenter")
        if self.crop_padding:
            x = random_crop(x, self.crop_padding, self.rng, self.pad_mode)
        elif self.max_shift:
            x = random_shift(x, self.max_shift, self.rng)
        if self.flip:
            x = random_flip(x, 0.5, self.rng)
        return x

    def __repr__(self):
        return (f"ImageAugmenter(crop_padding={self.crop_padding}, max_shift={self.max_shift}, "
                f"flip={self.flip}, pad_mode={self.pad_mode!r})")
