"""``DataLoader``: mini-batches from a dataset or from aligned NumPy arrays, with seeded, resumable shuffling.

Two ways in, one loader:

* PyTorch's: ``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
  num_workers=0, collate_fn=None, drop_last=False, generator=None, ...)`` over a map-style dataset
  (anything with ``__getitem__`` and ``__len__``: a ``Dataset``, a ``TensorDataset``, a list of ``(x, y)``
  pairs) or an ``IterableDataset``; batches are collated into Tensors by ``default_collate``.
* chainrule's array fast path: ``DataLoader(x, y=y, batch_size=32, shuffle=True, seed=0)`` where ``x`` is a
  NumPy array, a Tensor, or a *tuple* of them (several model inputs). Batches are NumPy arrays — ``x_batch``,
  ``(x_batch, y_batch)`` or ``(x_batch, y_batch, weight_batch)`` — and an unshuffled batch is a view.

The order of an epoch comes from a sampler (``SequentialSampler``, or ``RandomSampler`` when shuffling),
drawn once at the start of each epoch from the loader's generator; ``state_dict()`` saves that generator,
so a resumed run sees the same orders as an uninterrupted one.
"""

import hashlib
import json
import math
import numbers

import numpy

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _generator

__all__ = ["DataLoader", "is_multi_input"]


def is_multi_input(x):
    """Whether ``x`` holds several model inputs rather than one array (``fit``'s and ``predict``'s rule).

    A tuple always does (``model(*x)``); a list does when every element is a NumPy array or a Tensor
    (Keras's convention for several inputs). Any other list — of numbers, or of lists (rows) — is one
    array: ``[[1, 2], [3, 4]]`` is two samples of two features. To pass rows held as arrays, stack them
    first (``numpy.stack(rows)``). (``DataLoader`` itself follows PyTorch: a list is a dataset of samples.)
    """
    if isinstance(x, tuple):
        return True
    if not isinstance(x, list) or not x:
        return False
    from ..tensor import Tensor

    return all(isinstance(part, (numpy.ndarray, Tensor)) for part in x)


class DataLoader:
    """Iterate over a dataset (or aligned arrays) in mini-batches.

    Parameters
    ----------
    dataset : Dataset, IterableDataset, sequence of samples, array_like or tuple of array_like
        A map-style dataset (``__getitem__`` + ``__len__``; a list counts), an iterable dataset, or — the
        array fast path — a NumPy array / Tensor / tuple of them, first axis = samples.
    batch_size : int or None
        Samples per batch (PyTorch's default, 1); the last batch is smaller unless ``drop_last``.
        None turns automatic batching off: each sample is yielded alone (through ``default_convert``).
    shuffle : bool
        Draw a new random order at every epoch (every ``iter()``). Not with ``sampler``/``batch_sampler``.
    sampler : Sampler or iterable of int, optional
        The order of sample indices for one epoch.
    batch_sampler : Sampler or iterable of lists of int, optional
        Yields whole batches of indices; excludes ``batch_size``, ``shuffle``, ``sampler``, ``drop_last``.
    num_workers : int
        Worker processes that load and collate batches (0: in the main process).
    collate_fn : callable, optional
        List of samples -> batch; default ``default_collate`` (Tensors).
    pin_memory : bool
        Accepted for compatibility; on the CPU there is nothing to pin.
    drop_last : bool
        Skip the last, incomplete batch.
    timeout : float
        Seconds to wait for a batch from the workers before raising (0: forever).
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(worker_id)`` in each worker after seeding.
    multiprocessing_context : str or context, optional
        ``"fork"``, ``"spawn"`` or ``"forkserver"`` (default: the platform's).
    generator : int, numpy.random.Generator or None
        Source of the shuffling order and the workers' seeds (None: chainrule's global generator).
    prefetch_factor : int, optional
        Batches in flight per worker (default 2 with workers).
    persistent_workers : bool
        Keep the worker processes between epochs.
    y : array_like, optional
        Array fast path only: targets, first axis = samples.
    sample_weight : array_like, optional
        Array fast path only: per-sample weights, shape ``(n,)``, batched alongside.
    seed : int or numpy.random.Generator, optional
        chainrule's older name for ``generator``.

    Examples
    --------
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=0)
    >>> for xb, yb in loader:          # Tensors
    ...     ...
    >>> loader = DataLoader(x, y=y, batch_size=64, shuffle=True, seed=0)
    >>> for xb, yb in loader:          # NumPy arrays
    ...     ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", y=None, sample_weight=None, seed=None):
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                                       or batch_size < 1):
            if hasattr(batch_size, "__len__"):
                raise TypeError("DataLoader: the second argument is batch_size, as in PyTorch, but an array was "
                                "given; pass targets by name: DataLoader(x, y=y, batch_size=...)")
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r} "
                             "(or None, to turn batching off)")
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be non-negative, got {timeout!r}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("DataLoader: prefetch_factor and persistent_workers need num_workers > 0")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator= or seed= (its older name), not both")
        self.dataset = dataset
        self._arrays = _is_arrays(dataset) or y is not None or sample_weight is not None
        self._iterable = isinstance(dataset, IterableDataset)
        shuffle = bool(shuffle)
        _check_sampling_options(self._iterable, shuffle, sampler, batch_sampler, batch_size, drop_last)
        if self._arrays:
            if collate_fn is not None:
                raise ValueError("DataLoader: collate_fn applies to datasets; the array fast path yields NumPy "
                                 "batches (wrap the arrays in a TensorDataset to collate them yourself)")
            self._fetcher = _ArrayFetcher(dataset, y, sample_weight)
            self.num_samples = self._fetcher.num_samples
        else:
            collate = collate_fn if collate_fn is not None else (default_collate if batch_size is not None
                                                                  else default_convert)
            self._fetcher = (_StreamFetcher(dataset, collate, batch_size, drop_last) if self._iterable
                             else _MapFetcher(dataset, collate, batch_size is not None))
            self.num_samples = None if self._iterable else len(dataset)

        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = bool(drop_last)
        self.rng = _generator(seed if seed is not None else generator)
        if self._iterable:
            self.sampler = self.batch_sampler = None
        else:
            if sampler is None:
                sampler = RandomSampler(self._source(), generator=self.rng) if shuffle else \
                    SequentialSampler(self._source())
            self.sampler = sampler
            if batch_sampler is None and self.batch_size is not None:
                batch_sampler = BatchSampler(sampler, self.batch_size, self.drop_last)
            self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self._pool = None
        self.epoch = 0  # number of epochs begun (iterations started)

    def _source(self):
        """What samplers measure: the dataset, or a stand-in of the arrays' length."""
        return self.dataset if not self._arrays else range(self.num_samples)

    @property
    def generator(self):
        return self.rng

    def __len__(self):
        """Number of batches per epoch (for an iterable dataset, from ``len(dataset)`` if it has one)."""
        if self._iterable:
            n = len(self.dataset)  # a TypeError for a stream without a length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        self.epoch += 1
        if self._iterable:
            plan = None
        elif self.batch_sampler is None:  # batch_size=None: one sample at a time
            plan = [int(i) for i in _epoch_order(self.sampler)]
        elif isinstance(self.batch_sampler, BatchSampler) and isinstance(self.batch_sampler.sampler,
                                                                         SequentialSampler):
            # in order: contiguous slices, so the array fast path yields views (no copy)
            n, b = len(self.batch_sampler.sampler), self.batch_sampler.batch_size
            plan = [slice(start, min(start + b, n)) for start in range(0, b * len(self.batch_sampler), b)]
        elif isinstance(self.batch_sampler, BatchSampler):
            # drawn here, once per epoch, so the generator advances exactly one order per epoch
            plan = self.batch_sampler.batches()
        else:
            plan = [numpy.asarray(list(batch), dtype=numpy.int64) for batch in self.batch_sampler]
        if self.num_workers == 0:
            return self._in_process(plan)
        return self._in_workers(plan)

    def _in_process(self, plan):
        if plan is None:
            yield from self._fetcher.stream()
            return
        fetch = self._fetcher.fetch
        for index in plan:
            yield fetch(index)

    def _in_workers(self, plan):
        from .workers import WorkerPool

        base_seed = self._worker_base_seed()
        pool = self._pool
        if pool is None:
            pool = WorkerPool(self._fetcher, self.dataset, self.num_workers, base_seed, self.prefetch_factor,
                              self.timeout, self.worker_init_fn, self.multiprocessing_context)
            if self.persistent_workers:
                self._pool = pool
        pool.reset(base_seed)
        try:
            yield from (pool.stream_batches() if plan is None else pool.map_batches(plan))
        except BaseException:
            self._pool = None
            pool.close()
            raise
        finally:
            if not self.persistent_workers:
                pool.close()

    def _worker_base_seed(self):
        """The workers' seed for this epoch: a hash of the generator's state and the epoch, so that it
        does not advance the generator (the shuffling orders stay those of ``num_workers=0``)."""
        text = json.dumps(self.rng.bit_generator.state, sort_keys=True, default=str) + f"/{self.epoch}"
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:7], "little")

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
            raise ValueError(f"DataLoader.load_state_dict: the saved state is of a {name!r} generator, but this "
                             f"loader draws from a {type(self.rng.bit_generator).__name__}")
        # in place: the sampler holds this same Generator object
        self.rng.bit_generator.state = rng_state
        self.epoch = int(state.get("epoch", self.epoch))

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def __repr__(self):
        size = "?" if getattr(self, "_iterable", True) else self.num_samples
        return (f"DataLoader(num_samples={size}, batch_size={getattr(self, 'batch_size', '?')}, "
                f"shuffle={getattr(self, 'shuffle', '?')}, drop_last={getattr(self, 'drop_last', '?')}, "
                f"num_workers={getattr(self, 'num_workers', '?')})")


def _epoch_order(sampler):
    return sampler.epoch_indices() if isinstance(sampler, Sampler) else list(sampler)


def _check_sampling_options(iterable, shuffle, sampler, batch_sampler, batch_size, drop_last):
    """PyTorch's rules for which sampling arguments go together, with its messages' content."""
    if iterable and (shuffle or sampler is not None or batch_sampler is not None):
        raise ValueError("DataLoader: an IterableDataset decides its own order; shuffle, sampler and "
                         "batch_sampler do not apply to it")
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the sampler decides the order)")
    if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
        raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler and "
                         "drop_last (it decides all of them)")


def _is_arrays(value):
    from ..tensor import Tensor

    if isinstance(value, (numpy.ndarray, numpy.generic, Tensor)):
        return True
    return isinstance(value, tuple) and bool(value) and all(
        isinstance(part, (numpy.ndarray, Tensor)) for part in value)


class _ArrayFetcher:
    """Batches of aligned arrays by index (a slice or an index array): the array fast path."""

    def __init__(self, x, y, sample_weight):
        self.multi_input = isinstance(x, tuple)
        self.x = tuple(_as_array(a, "x") for a in x) if self.multi_input else _as_array(x, "x")
        self.y = None if y is None else _as_array(y, "y")
        self.sample_weight = None
        if sample_weight is not None:
            self.sample_weight = _as_array(sample_weight, "sample_weight")
            if self.sample_weight.ndim != 1:
                raise ValueError(
                    f"DataLoader: sample_weight must be 1-D (one weight per sample), got shape {self.sample_weight.shape}"
                )
        inputs = self.x if self.multi_input else (self.x,)
        self.num_samples = len(inputs[0])
        for name, array in [("x", a) for a in inputs] + [("y", self.y), ("sample_weight", self.sample_weight)]:
            if array is not None and len(array) != self.num_samples:
                raise ValueError(
                    f"DataLoader: {name} has {len(array)} samples but x has {self.num_samples}; "
                    "all arrays must have the same length along the first axis"
                )

    def fetch(self, index):
        xb = tuple(a[index] for a in self.x) if self.multi_input else self.x[index]
        if self.y is None and self.sample_weight is None:
            return xb
        yb = None if self.y is None else self.y[index]
        if self.sample_weight is None:
            return xb, yb
        return xb, yb, self.sample_weight[index]


class _MapFetcher:
    """Batches of a map-style dataset: ``collate([dataset[i] for i in indices])``, or one sample."""

    def __init__(self, dataset, collate, batched):
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: a {type(dataset).__name__} is not a dataset: it needs __getitem__ and "
                            "__len__ (a map-style Dataset), or __iter__ (an IterableDataset)")
        self.dataset = dataset
        self.collate = collate
        self.batched = batched

    def fetch(self, indices):
        if not self.batched:
            return self.collate(self.dataset[indices])
        if isinstance(indices, slice):
            indices = range(indices.start, indices.stop)
        from .dataset import TensorDataset

        if self.collate is default_collate and type(self.dataset) is TensorDataset:
            # the same batch as stacking the samples one by one, in one indexing per tensor
            from ..tensor import Tensor

            index = numpy.asarray(indices, dtype=numpy.int64)
            return [Tensor(t.data[index]) for t in self.dataset.tensors]  # a list, as default_collate gives
        return self.collate([self.dataset[int(i)] for i in indices])


class _StreamFetcher:
    """Batches of an iterable dataset: ``batch_size`` samples at a time from ``iter(dataset)``."""

    def __init__(self, dataset, collate, batch_size, drop_last):
        self.dataset = dataset
        self.collate = collate
        self.batch_size = batch_size
        self.drop_last = drop_last

    def stream(self):
        samples = iter(self.dataset)
        if self.batch_size is None:
            for sample in samples:
                yield self.collate(sample)
            return
        batch = []
        for sample in samples:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate(batch)


def _as_array(value, name):
    if hasattr(value, "numpy") and not isinstance(value, numpy.ndarray):  # a chainrule Tensor
        value = value.numpy()
    array = numpy.asarray(value)
    if array.ndim == 0:
        raise ValueError(f"DataLoader: {name} must have a first (sample) axis, got a scalar")
    return array
