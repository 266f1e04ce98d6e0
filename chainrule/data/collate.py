"""``default_collate`` and ``default_convert``: how a list of samples becomes one batch (PyTorch's rules).

A batch keeps the structure of one sample: samples that are tuples or lists give a list of batched
fields (a list even for tuples, as PyTorch's collate does; namedtuples stay namedtuples), dicts a dict, and each leaf is stacked along a new first axis into a Tensor: arrays and Tensors keep
their dtype; Python floats become float64 and Python ints int64 (as ``torch.utils.data.default_collate``
does); bools become bool; strings and other objects stay a list.
"""

import collections.abc
import numbers

import numpy

__all__ = ["default_collate", "default_convert"]


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring)."""
    from ..tensor import Tensor

    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack([sample.data for sample in batch], batch)
    if isinstance(first, numpy.ndarray) and first.dtype.kind not in "OUS":
        return _stack(batch, batch)
    if isinstance(first, numpy.generic) and first.dtype.kind not in "OUS":
        return Tensor(numpy.array(batch))
    if isinstance(first, bool):
        return Tensor(numpy.array(batch, dtype=bool))
    if isinstance(first, numbers.Integral):
        return Tensor(numpy.array(batch, dtype=numpy.int64))
    if isinstance(first, numbers.Real):
        return Tensor(numpy.array(batch, dtype=numpy.float64))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        lengths = {len(sample) for sample in batch}
        if len(lengths) != 1:
            raise RuntimeError(f"default_collate: the samples of a batch have different numbers of fields "
                               f"{sorted(lengths)}; each sample must have the same structure")
        return [default_collate(list(field)) for field in zip(*batch)]  # tuples too: PyTorch gives a list
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; samples must be "
                    "Tensors, NumPy arrays, numbers, strings, or tuples/lists/dicts of those "
                    "(or pass collate_fn=)")


def _stack(arrays, batch):
    from ..tensor import Tensor

    shapes = {numpy.shape(a) for a in arrays}
    if len(shapes) != 1:
        raise RuntimeError(f"default_collate: the samples of a batch have different shapes {sorted(shapes)}; "
                           "stack needs equal shapes (pad them, e.g. with nn.utils.rnn.pad_sequence in a collate_fn)")
    return Tensor(numpy.stack(arrays))


def default_convert(data):
    """What the loader does to each sample when automatic batching is off (``batch_size=None``):
    NumPy arrays become Tensors, containers are converted element-wise (a tuple becomes a list, as in
    PyTorch), anything else passes through."""
    from ..tensor import Tensor

    if isinstance(data, numpy.ndarray) and data.dtype.kind not in "OUS":
        return Tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(value) for value in data]
    return data
