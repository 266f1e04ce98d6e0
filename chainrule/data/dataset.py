"""Datasets in PyTorch's shape: ``Dataset`` (map-style), ``IterableDataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``ChainDataset`` and ``random_split``.

A *map-style* dataset answers ``len(dataset)`` and ``dataset[i]`` (one sample, any structure: a tuple
``(x, y)``, a dict, an array). An *iterable* dataset yields samples from ``iter(dataset)``, for streams whose
length is unknown. ``DataLoader`` batches either kind; any object with ``__getitem__`` and ``__len__`` (a
list of ``(x, y)`` pairs, say) serves as a map-style dataset too.
"""

import bisect
import math
import numbers

import numpy

from ..creation import as_generator

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
           "random_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(index)`` and ``__len__()``.

    ``dataset_a + dataset_b`` concatenates (a ``ConcatDataset``).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) (one sample)")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of iterable datasets: subclasses define ``__iter__()`` yielding samples.

    With ``num_workers > 0`` every worker process iterates its own copy of the dataset; split the work
    with ``chainrule.data.get_worker_info()`` inside ``__iter__`` (as in PyTorch), or every worker yields
    every sample.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__() (yielding samples)")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples from aligned arrays or Tensors: ``dataset[i] == (a[i], b[i], ...)``.

    Parameters
    ----------
    *tensors : Tensor or array_like
        All with the same length along the first axis (the samples).
    """

    def __init__(self, *tensors):
        from ..tensor import Tensor

        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(numpy.asarray(t)) for t in tensors)
        for position, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {position} is a scalar; every tensor needs a sample axis")
        n = len(self.tensors[0])
        lengths = [len(t) for t in self.tensors]
        if any(length != n for length in lengths):
            raise ValueError(f"TensorDataset: the tensors have different numbers of samples {lengths}; "
                             "they must all have the same length along the first axis")

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Map-style datasets one after the other: index ``len(a)`` is the first sample of ``b``."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for position, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {position} is an IterableDataset; use ChainDataset")
        self.cumulative_sizes = list(numpy.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (the remainder after
    flooring is handed out one by one from the first split, as PyTorch does). ``generator`` is an int seed,
    a ``numpy.random.Generator`` or None.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(v, numbers.Real) and 0 <= v <= 1 for v in lengths) and math.isclose(
            sum(lengths), 1.0) and sum(lengths) != n:
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(v, numbers.Integral) or v < 0 for v in lengths):
        raise ValueError(f"random_split: lengths must be non-negative counts or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
    order = as_generator(generator).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets
