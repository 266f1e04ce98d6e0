"""``DataLoader``: mini-batches over NumPy arrays, with seeded, resumable shuffling."""

import json
import math
import numbers

import numpy

from ..creation import as_generator

__all__ = ["DataLoader", "is_multi_input"]


def is_multi_input(x):
    """Whether ``x`` holds several model inputs rather than one array.

    A tuple always does (``model(*x)``); a list does when every element is a NumPy array or a Tensor
    (Keras's convention for several inputs). Any other list — of numbers, or of lists (rows) — is one
    array: ``[[1, 2], [3, 4]]`` is two samples of two features. To pass rows held as arrays, stack them
    first (``numpy.stack(rows)``).
    """
    if isinstance(x, tuple):
        return True
    if not isinstance(x, list) or not x:
        return False
    from ..tensor import Tensor

    return all(isinstance(part, (numpy.ndarray, Tensor)) for part in x)


class DataLoader:
    """Iterate over aligned NumPy arrays in mini-batches.

    Parameters
    ----------
    x : array_like or tuple of array_like
        Inputs, first axis = samples. Several model inputs (see ``is_multi_input``: a tuple, or a list
        of arrays/Tensors) are batched element-wise and yielded as a tuple.
    y : array_like, optional
        Targets, first axis = samples.
    batch_size : int
        Samples per batch; the last batch is smaller unless ``drop_last``.
    shuffle : bool
        Draw a new random order at the start of every epoch (every ``iter()``).
    seed : int, numpy.random.Generator or None
        Source of the shuffling order. The same seed gives the same batches, epoch after epoch;
        ``state_dict()``/``load_state_dict()`` save and restore the generator, so a resumed run
        sees the same orders as an uninterrupted one.
    drop_last : bool
        Skip the last, incomplete batch.
    sample_weight : array_like, optional
        Per-sample weights, shape ``(n,)``, batched alongside.

    Each batch is ``x_batch`` when there are no targets and no weights, otherwise the tuple
    ``(x_batch, y_batch)`` or ``(x_batch, y_batch, weight_batch)`` (``y_batch`` is None when
    only weights were given). Arrays are NumPy; an unshuffled batch is a view (no copy).

    Examples
    --------
    >>> loader = DataLoader(x, y, batch_size=64, shuffle=True, seed=0)
    >>> for xb, yb in loader:
    ...     ...
    """

    def __init__(self, x, y=None, batch_size=32, shuffle=False, seed=None, drop_last=False, sample_weight=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self._multi_input = is_multi_input(x)
        self.x = tuple(_as_array(a, "x") for a in x) if self._multi_input else _as_array(x, "x")
        self.y = None if y is None else _as_array(y, "y")
        self.sample_weight = None
        if sample_weight is not None:
            self.sample_weight = _as_array(sample_weight, "sample_weight")
            if self.sample_weight.ndim != 1:
                raise ValueError(
                    f"DataLoader: sample_weight must be 1-D (one weight per sample), got shape {self.sample_weight.shape}"
                )
        inputs = self.x if self._multi_input else (self.x,)
        if not inputs:
            raise ValueError("DataLoader: x is an empty tuple; expected at least one array")
        self.num_samples = len(inputs[0])
        for name, array in [("x", a) for a in inputs] + [("y", self.y), ("sample_weight", self.sample_weight)]:
            if array is not None and len(array) != self.num_samples:
                raise ValueError(
                    f"DataLoader: {name} has {len(array)} samples but x has {self.num_samples}; "
                    "all arrays must have the same length along the first axis"
                )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = as_generator(seed)
        self.epoch = 0  # number of epochs begun (iterations started)

    def __len__(self):
        """Number of batches per epoch."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self):
        # The order is drawn here, once per epoch, so the generator advances exactly one
        # permutation per epoch: the state after epoch k determines every later epoch.
        order = self.rng.permutation(self.num_samples) if self.shuffle else None
        self.epoch += 1
        n_batches = len(self)
        for b in range(n_batches):
            start = b * self.batch_size
            stop = min(start + self.batch_size, self.num_samples)
            index = slice(start, stop) if order is None else order[start:stop]
            yield self._batch(index)

    def _batch(self, index):
        xb = tuple(a[index] for a in self.x) if self._multi_input else self.x[index]
        if self.y is None and self.sample_weight is None:
            return xb
        yb = None if self.y is None else self.y[index]
        if self.sample_weight is None:
            return xb, yb
        return xb, yb, self.sample_weight[index]

    # ------------------------------------------------------------ checkpointing
    def state_dict(self):
        """The shuffling state as JSON-able values: the generator's state and the epoch count.

        The generator state is stored as a JSON string because PCG64's 128-bit integers do not fit
        the JSON number range that many readers accept.
        """
        return {"rng": json.dumps(self.rng.bit_generator.state), "epoch": self.epoch}

    def load_state_dict(self, state):
        """Restore what ``state_dict()`` returned (the generator continues exactly where it was)."""
        rng_state = state["rng"]
        if isinstance(rng_state, str):
            rng_state = json.loads(rng_state)
        name = rng_state.get("bit_generator")
        if name != type(self.rng.bit_generator).__name__:
            bit_generator = getattr(numpy.random, name, None)
            if bit_generator is None:
                raise ValueError(f"DataLoader.load_state_dict: unknown bit generator {name!r}")
            self.rng = numpy.random.Generator(bit_generator())
        self.rng.bit_generator.state = rng_state
        self.epoch = int(state.get("epoch", self.epoch))

    def __repr__(self):
        return (
            f"DataLoader(num_samples={self.num_samples}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})"
        )


def _as_array(value, name):
    if hasattr(value, "numpy") and not isinstance(value, numpy.ndarray):  # a chainrule Tensor
        value = value.numpy()
    array = numpy.asarray(value)
    if array.ndim == 0:
        raise ValueError(f"DataLoader: {name} must have a first (sample) axis, got a scalar")
    return array
