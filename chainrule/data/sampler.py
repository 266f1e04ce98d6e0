"""Samplers in PyTorch's shape: which sample indices an epoch visits, and in what order.

``SequentialSampler`` (0, 1, 2, ...), ``RandomSampler`` (a permutation, or draws with replacement),
``SubsetRandomSampler`` (a permutation of given indices), ``WeightedRandomSampler`` (draws in proportion
to weights) and ``BatchSampler`` (groups another sampler's indices into batches).

Every random sampler draws from a ``numpy.random.Generator`` (the ``generator`` argument: an int seed, a
Generator, or None for chainrule's global generator, which ``cr.manual_seed`` seeds). Each sampler
draws the whole epoch's order at once (``epoch_indices``), one draw per ``iter()``, so the generator's state
after epoch k fixes every later epoch (what makes a resumed run see the same orders).
"""

import numbers

import numpy

from ..creation import as_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


def _generator(generator):
    """A ``numpy.random.Generator`` from ``generator``: an int seed, a NumPy or chainrule Generator, or None for
    chainrule's global generator (``cr.manual_seed``)."""
    return as_generator(generator)


def _check_count(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Sampler:
    """Base class: ``iter(sampler)`` yields sample indices; ``len(sampler)`` counts them.

    Subclasses define ``epoch_indices()``, returning one epoch's indices as a 1-D int64 array (drawn anew
    at every call), or ``__iter__`` for a custom sampler.
    """

    def epoch_indices(self):
        return numpy.fromiter(iter(self), dtype=numpy.int64)

    def __iter__(self):
        return iter(self.epoch_indices().tolist())


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def epoch_indices(self):
        return numpy.arange(len(self.data_source), dtype=numpy.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the samples: a fresh permutation per epoch, or draws with replacement.

    Parameters
    ----------
    data_source : sized
        The dataset (only its length is used).
    replacement : bool
        Draw ``num_samples`` indices independently (with repetition) instead of a permutation.
    num_samples : int, optional
        Indices per epoch; default ``len(data_source)``. Without replacement, more than the length
        concatenates permutations (as PyTorch does).
    generator : int, numpy.random.Generator or None
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = None if num_samples is None else _check_count(num_samples, "num_samples",
                                                                           "RandomSampler")
        self.generator = _generator(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def epoch_indices(self):
        n, count = len(self.data_source), self.num_samples
        if self.replacement:
            return self.generator.integers(0, n, size=count, dtype=numpy.int64)
        rounds = -(-count // n) if n else 0
        return numpy.concatenate([self.generator.permutation(n) for _ in range(rounds)] or
                                 [numpy.empty(0, dtype=numpy.int64)])[:count].astype(numpy.int64, copy=False)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order every epoch (e.g. a validation fold)."""

    def __init__(self, indices, generator=None):
        self.indices = numpy.asarray(list(indices), dtype=numpy.int64)
        self.generator = _generator(generator)

    def epoch_indices(self):
        return self.indices[self.generator.permutation(len(self.indices))]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (e.g. to balance classes).

    Parameters
    ----------
    weights : sequence of float, shape (n,)
        Non-negative, finite, not all zero; they need not sum to 1.
    num_samples : int
    replacement : bool
        Without replacement, ``num_samples`` must not exceed the number of non-zero weights.
    generator : int, numpy.random.Generator or None
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = numpy.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, dtype=numpy.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights must be 1-D, got shape {weights.shape}")
        if not numpy.all(numpy.isfinite(weights)) or numpy.any(weights < 0) or not weights.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        self.weights = weights
        self.num_samples = _check_count(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = bool(replacement)
        if not self.replacement and self.num_samples > numpy.count_nonzero(weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement "
                             f"from {numpy.count_nonzero(weights)} non-zero weights")
        self.generator = _generator(generator)

    def epoch_indices(self):
        p = self.weights / self.weights.sum()
        return self.generator.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).astype(
            numpy.int64)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _check_count(batch_size, "batch_size", "BatchSampler")
        self.drop_last = bool(drop_last)

    def batches(self):
        """One epoch's batches as int64 arrays (one draw of the inner sampler)."""
        order = self.sampler.epoch_indices() if hasattr(self.sampler, "epoch_indices") else numpy.fromiter(
            iter(self.sampler), dtype=numpy.int64)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        return [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]

    def __iter__(self):
        return (batch.tolist() for batch in self.batches())

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
