"""Variable-length sequences, as ``torch.nn.utils.rnn``: padding, packing and ``PackedSequence``.

A batch of sequences of different lengths is either *padded* to one array ``(T, B, *)``
(``(B, T, *)`` with ``batch_first``) plus the lengths, or *packed*: the real steps only, time
step by time step, the sequences of each step sorted by decreasing length,

    data        (sum(lengths), *)   steps t = 0, 1, ...; at each the batch_sizes[t] sequences still running
    batch_sizes (T,)                how many sequences have a step t
    sorted_indices                  batch position of the k-th longest sequence (None when given sorted)
    unsorted_indices                its inverse

All conversions are one gather (``x[index]``, differentiable: gradients flow back to the
padded or packed tensor they came from). ``RNN``, ``LSTM`` and ``GRU`` accept a
``PackedSequence`` and return one; internally they run on the padded batch with
per-sequence lengths, which the recurrent ops support natively.
"""

import numpy

from ...backend import xp
from ...ops.indexing import getitem
from ...ops.shape import concat
from ...tensor import Tensor, as_tensor

__all__ = [
    "PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
    "unpack_sequence", "unpad_sequence", "invert_permutation",
]


class PackedSequence:
    """Packed steps of variable-length sequences: ``(data, batch_sizes, sorted_indices, unsorted_indices)``.

    Unpacks like PyTorch's named tuple. Made by ``pack_padded_sequence`` / ``pack_sequence``;
    ``data`` is a Tensor (gradients flow through it), the others int64 NumPy arrays (or None).
    """

    __slots__ = ("data", "batch_sizes", "sorted_indices", "unsorted_indices")

    def __init__(self, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        self.data = as_tensor(data)
        self.batch_sizes = numpy.asarray(batch_sizes, dtype=numpy.int64)
        if sorted_indices is not None:
            sorted_indices = numpy.asarray(sorted_indices, dtype=numpy.int64)
            if unsorted_indices is None:
                unsorted_indices = invert_permutation(sorted_indices)
        self.sorted_indices = sorted_indices
        self.unsorted_indices = None if unsorted_indices is None else numpy.asarray(unsorted_indices, numpy.int64)
        if self.data.ndim == 0 or self.data.shape[0] != int(self.batch_sizes.sum()):
            raise ValueError(
                f"PackedSequence: data must have sum(batch_sizes) = {int(self.batch_sizes.sum())} rows, "
                f"got shape {self.data.shape}"
            )

    def __iter__(self):
        return iter((self.data, self.batch_sizes, self.sorted_indices, self.unsorted_indices))

    def __getitem__(self, index):
        return tuple(self)[index]

    def __len__(self):
        return 4

    @property
    def lengths(self):
        """Each sequence's length, in the original batch order."""
        lengths = (self.batch_sizes[None, :] > numpy.arange(self.batch_sizes[0])[:, None]).sum(axis=1)
        return lengths if self.unsorted_indices is None else lengths[self.unsorted_indices]

    def __repr__(self):
        return (
            f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes.tolist()}, "
            f"sorted_indices={None if self.sorted_indices is None else self.sorted_indices.tolist()}, "
            f"unsorted_indices={None if self.unsorted_indices is None else self.unsorted_indices.tolist()})"
        )


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    inverse = numpy.empty_like(permutation)
    inverse[permutation] = numpy.arange(len(permutation))
    return inverse


def _lengths(lengths, op):
    if isinstance(lengths, Tensor):
        lengths = lengths.data
    array = numpy.asarray(lengths)  # also reads torch tensors
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise TypeError(f"{op}: lengths must be a 1-D sequence of ints, got {array!r:.80}")
    if array.size and array.min() < 1:
        raise ValueError(f"{op}: every length must be at least 1, got {array.tolist()}")
    return array.astype(numpy.int64)


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = how many of the (decreasing) lengths exceed t."""
    steps = numpy.arange(int(sorted_lengths[0]))
    return (sorted_lengths[None, :] > steps[:, None]).sum(axis=1)


def _packed_index(batch_sizes, sorted_indices):
    """(time, batch) positions of the packed rows in the padded batch, in packed order."""
    steps = numpy.repeat(numpy.arange(len(batch_sizes)), batch_sizes)
    ranks = numpy.concatenate([numpy.arange(n) for n in batch_sizes])
    rows = ranks if sorted_indices is None else sorted_indices[ranks]
    return steps, rows


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of ``lengths``.

    ``enforce_sorted``: the lengths must be decreasing (else a ValueError); with False any order
    is accepted and the order is kept in ``sorted_indices``.
    """
    input = as_tensor(input)
    lengths = _lengths(lengths, "pack_padded_sequence")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must have a time and a batch axis, got shape {input.shape}")
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if len(lengths) != B:
        raise ValueError(f"pack_padded_sequence: {len(lengths)} lengths for a batch of {B} sequences")
    if B == 0:
        raise ValueError("pack_padded_sequence: the batch is empty")
    if lengths.max() > T:
        raise ValueError(f"pack_padded_sequence: lengths {lengths.tolist()} exceed the {T} time steps of the input")
    if enforce_sorted:
        if (numpy.diff(lengths) > 0).any():
            raise ValueError(
                f"pack_padded_sequence: lengths {lengths.tolist()} are not sorted in decreasing order; sort the "
                "batch or pass enforce_sorted=False"
            )
        sorted_indices = None
    else:
        sorted_indices = numpy.argsort(-lengths, kind="stable")
    ranked = lengths if sorted_indices is None else lengths[sorted_indices]
    batch_sizes = _batch_sizes(ranked)
    steps, rows = _packed_index(batch_sizes, sorted_indices)
    data = getitem(input, (rows, steps) if batch_first else (steps, rows))
    return PackedSequence(data, batch_sizes, sorted_indices)


def _repack(padded, like):
    """``padded`` (T, B, *) time-major in the original batch order, packed with the layout of ``like``."""
    steps, rows = _packed_index(like.batch_sizes, like.sorted_indices)
    return PackedSequence(getitem(padded, (steps, rows)), like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: ``(padded, lengths)``, padded ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``), both in the original batch order; ``T = total_length`` if given."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data, batch_sizes = sequence.data, sequence.batch_sizes
    T, B = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                f"pad_packed_sequence: total_length {total_length} is less than the longest sequence ({T})"
            )
        T = int(total_length)
    # index[t, b]: the packed row of step t of sequence b, or the appended padding row
    offsets = numpy.concatenate(([0], numpy.cumsum(batch_sizes)[:-1]))
    ranks = numpy.arange(B) if sequence.unsorted_indices is None else sequence.unsorted_indices
    index = numpy.full((T, B), data.shape[0], dtype=numpy.int64)
    n = len(batch_sizes)
    real = ranks[None, :] < batch_sizes[:, None]  # (n, B)
    index[:n][real] = (offsets[:, None] + ranks[None, :])[real]
    pad_row = Tensor(xp.full((1,) + data.shape[1:], padding_value, dtype=data.dtype))
    padded = getitem(concat([data, pad_row], axis=0), index.T if batch_first else index)
    return padded, sequence.lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``),
    padded with ``padding_value`` on the ``padding_side`` ("right" or "left") to the longest."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = [as_tensor(s) for s in sequences]
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for k, s in enumerate(sequences):
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise ValueError(
                f"pad_sequence: every sequence must have shape (L, {', '.join(map(str, trailing))}); "
                f"sequence {k} has shape {s.shape}"
            )
    lengths = numpy.array([s.shape[0] for s in sequences])
    T = int(lengths.max())
    starts = numpy.concatenate(([0], numpy.cumsum(lengths)[:-1]))
    total = int(lengths.sum())
    t = numpy.arange(T)[:, None]
    shift = (T - lengths)[None, :] if padding_side == "left" else 0
    position = t - shift  # the step of sequence b shown at row t
    real = (position >= 0) & (position < lengths[None, :])
    index = numpy.where(real, starts[None, :] + position, total)
    dtype = sequences[0].dtype
    pad_row = Tensor(xp.full((1,) + trailing, padding_value, dtype=dtype))
    joined = concat(sequences + [pad_row], axis=0)
    return getitem(joined, index.T if batch_first else index)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    sequences = list(sequences)
    lengths = [as_tensor(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of ``(L_i, *)`` tensors of a padded batch (inverse of ``pad_sequence``)."""
    padded_sequences = as_tensor(padded_sequences)
    lengths = _lengths(lengths, "unpad_sequence")
    if batch_first:
        return [padded_sequences[b, : int(n)] for b, n in enumerate(lengths)]
    return [padded_sequences[: int(n), b] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of ``(L_i, *)`` tensors of a ``PackedSequence`` (inverse of ``pack_sequence``)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def is_packed(value):
    """Whether ``value`` is a PackedSequence."""
    return isinstance(value, PackedSequence)
