"""Loading batches in worker processes (``DataLoader(num_workers=N)``), as PyTorch does.

Each worker is a process with its own copy of the dataset. For a map-style dataset the main process
hands out batches of indices (round robin, at most ``prefetch_factor`` outstanding per worker); a worker
fetches the samples, collates them, and sends the batch back; the main process yields batches in the
sampler's order whatever order they arrive in. For an iterable dataset each worker runs its own iterator
and the main process takes one batch from each worker in turn (use ``get_worker_info()`` in the
dataset's ``__iter__`` to split the stream, or every worker yields all of it).

Each worker seeds Python's ``random``, NumPy's legacy global generator and chainrule's global generator
with ``base_seed + worker_id``, where ``base_seed`` is drawn from the loader's generator once per epoch, so
random augmentation differs between workers and epochs and repeats with the loader's seed.
"""

import collections
import queue
import random
import traceback
from collections import namedtuple

import numpy

__all__ = ["WorkerInfo", "get_worker_info"]

WorkerInfo = namedtuple("WorkerInfo", ["id", "num_workers", "seed", "dataset"])
WorkerInfo.__doc__ = "What ``get_worker_info()`` returns inside a worker: its id, the worker count, its seed, its dataset copy."

_worker_info = None

# how long the main process waits on the result queue before it checks that the workers are alive
_POLL_SECONDS = 0.1


def get_worker_info():
    """In a DataLoader worker process, its ``WorkerInfo``; in the main process, None."""
    return _worker_info


def _seed_worker(seed):
    random.seed(seed)
    numpy.random.seed(seed % 2**32)
    from ..creation import manual_seed

    manual_seed(seed)


def _worker_loop(worker_id, num_workers, dataset, fetcher, tasks, results, seed, worker_init_fn):
    """The body of one worker process: take commands from ``tasks``, put ``(batch_id, ok, payload)`` on ``results``.

    Commands: ``("fetch", batch_id, indices)`` for a map-style dataset, ``("next", batch_id)`` for an
    iterable one, ``("reset", seed)`` at a new epoch of persistent workers, and ``None`` to stop.
    """
    global _worker_info
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    _seed_worker(seed)
    stream = None
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except Exception as error:  # reported with the first command, so the main process sees it
        init_error = error
    else:
        init_error = None
    while True:
        command = tasks.get()
        if command is None:
            return
        kind, batch_id = command[0], command[1]
        if kind == "reset":
            _worker_info = WorkerInfo(worker_id, num_workers, batch_id, dataset)
            _seed_worker(batch_id)
            stream = None
            continue
        try:
            if init_error is not None:
                raise init_error
            if kind == "fetch":
                payload = fetcher.fetch(command[2])
            else:
                if stream is None:
                    stream = fetcher.stream()
                payload = next(stream, _EXHAUSTED)
            results.put((batch_id, True, payload))
        except Exception as error:
            results.put((batch_id, False, (type(error), f"Caught {type(error).__name__} in DataLoader worker "
                                           f"process {worker_id}.\nOriginal {traceback.format_exc()}")))


class _Exhausted:
    """Sent by a worker whose iterable dataset has no more batches."""

    def __reduce__(self):
        return (_exhausted, ())


def _exhausted():
    return _EXHAUSTED


_EXHAUSTED = _Exhausted()


class WorkerPool:
    """``num_workers`` processes that fetch batches; ``batches(plan)`` yields them in order.

    Parameters
    ----------
    fetcher : object with ``fetch(indices)`` (map-style) and ``stream()`` (iterable), picklable for spawn
    dataset : the dataset (given to ``WorkerInfo``)
    num_workers, prefetch_factor, timeout, worker_init_fn, multiprocessing_context : as on DataLoader
    """

    def __init__(self, fetcher, dataset, num_workers, base_seed, prefetch_factor=2, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None):
        import multiprocessing

        context = multiprocessing_context
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.num_workers = num_workers
        self.prefetch = max(1, prefetch_factor) * num_workers
        self.timeout = timeout
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(num_workers)]
        self.workers = []
        for worker_id in range(num_workers):
            process = context.Process(
                target=_worker_loop,
                args=(worker_id, num_workers, dataset, fetcher, self.tasks[worker_id], self.results,
                      base_seed + worker_id, worker_init_fn),
                daemon=True,
            )
            process.start()
            self.workers.append(process)
        self.fresh = True
        self.closed = False

    def reset(self, base_seed):
        """Start a new epoch on persistent workers (new seeds; iterable datasets restart)."""
        if not self.fresh:
            for worker_id, tasks in enumerate(self.tasks):
                tasks.put(("reset", base_seed + worker_id))
        self.fresh = False

    def map_batches(self, batch_indices):
        """Yield the batch of every entry of ``batch_indices`` (index arrays), in that order."""
        plan = iter(enumerate(batch_indices))
        pending, ready, next_id, worker = 0, {}, 0, 0
        exhausted_plan = False
        while True:
            while not exhausted_plan and pending < self.prefetch:
                item = next(plan, None)
                if item is None:
                    exhausted_plan = True
                    break
                batch_id, indices = item
                self.tasks[worker].put(("fetch", batch_id, indices))
                worker = (worker + 1) % self.num_workers
                pending += 1
            if pending == 0:
                return
            while next_id not in ready:
                batch_id, payload = self._receive()
                ready[batch_id] = payload
            pending -= 1
            yield ready.pop(next_id)
            next_id += 1

    def stream_batches(self):
        """Yield batches from the workers' own iterators, one worker after the other, until all are exhausted."""
        rotation = collections.deque(range(self.num_workers))  # active workers, next to ask first
        in_flight = collections.deque()  # (batch_id, worker) in the order their batches are yielded
        ready, batch_id = {}, 0
        while rotation or in_flight:
            while rotation and len(in_flight) < self.prefetch:
                worker = rotation[0]
                rotation.rotate(-1)
                self.tasks[worker].put(("next", batch_id))
                in_flight.append((batch_id, worker))
                batch_id += 1
            current, worker = in_flight.popleft()
            while current not in ready:
                received, payload = self._receive()
                ready[received] = payload
            payload = ready.pop(current)
            if payload is _EXHAUSTED:
                if worker in rotation:
                    rotation.remove(worker)
                continue
            yield payload

    def _receive(self):
        waited = 0.0
        while True:
            try:
                batch_id, ok, payload = self.results.get(timeout=_POLL_SECONDS)
                break
            except queue.Empty:
                waited += _POLL_SECONDS
                for process in self.workers:
                    if not process.is_alive():
                        self.close()
                        raise RuntimeError(f"DataLoader worker (pid {process.pid}) exited unexpectedly with exit "
                                           f"code {process.exitcode}") from None
                if self.timeout and waited >= self.timeout:
                    self.close()
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting for a batch "
                                       "from its workers") from None
        if not ok:
            self.close()
            error_type, message = payload
            try:
                error = error_type(message)
            except Exception:
                error = RuntimeError(message)
            raise error
        return batch_id, payload

    def close(self):
        """Stop the workers (politely, then by force) and release the queues."""
        if self.closed:
            return
        self.closed = True
        for tasks, process in zip(self.tasks, self.workers):
            if process.is_alive():
                try:
                    tasks.put(None)
                except (OSError, ValueError):
                    pass
        for process in self.workers:
            process.join(timeout=1.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
        for q in [*self.tasks, self.results]:
            q.cancel_join_thread()
            q.close()
        self.workers = []

    def __del__(self):
        if getattr(self, "workers", None):
            try:
                self.close()
            except Exception:
                pass
