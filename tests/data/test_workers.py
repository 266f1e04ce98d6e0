"""Tests for chainrule/data/workers.py: DataLoader(num_workers=N) really loads in worker processes."""

import os

import numpy as np
import pytest

from chainrule.data import DataLoader, Dataset, IterableDataset, get_worker_info


class PidDataset(Dataset):
    """Sample i is (i, the pid of the process that loaded it, a draw from NumPy's global generator)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return i, os.getpid(), np.random.random()


class Failing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("sample 2 is missing")
        return i


class Sharded(IterableDataset):
    """Splits range(10) between the workers by their id, as PyTorch's docs show."""

    def __iter__(self):
        info = get_worker_info()
        worker, count = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(worker, 10, count))


def test_workers_load_in_other_processes_in_sampler_order():
    ds = PidDataset()
    batches = list(DataLoader(ds, batch_size=3, shuffle=True, generator=0, num_workers=2))
    in_process = list(DataLoader(ds, batch_size=3, shuffle=True, generator=0))
    # the same samples in the same order as num_workers=0
    assert [b[0].tolist() for b in batches] == [b[0].tolist() for b in in_process]
    pids = {pid for b in batches for pid in b[1].tolist()}
    assert os.getpid() not in pids and len(pids) == 2
    # each worker's NumPy generator is seeded differently
    draws = np.concatenate([b[2].numpy() for b in batches])
    assert len(np.unique(draws)) == len(draws)
    assert get_worker_info() is None


def test_persistent_workers_and_worker_init_fn_keep_order_over_epochs():
    ds = PidDataset()
    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True, prefetch_factor=1,
                        worker_init_fn=lambda worker_id: None)
    first = [b[0].tolist() for b in loader]
    pids_first = {pid for b in loader for pid in b[1].tolist()}
    pids_second = {pid for b in loader for pid in b[1].tolist()}
    assert first == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert pids_first == pids_second  # the same processes served both epochs
    loader._pool.close()


def test_iterable_dataset_is_interleaved_over_workers():
    batches = [b.tolist() for b in DataLoader(Sharded(), batch_size=2, num_workers=2)]
    # worker 0 yields 0, 2, 4, ...; worker 1 yields 1, 3, 5, ...; batches alternate between them
    assert batches == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]


def test_worker_errors_reach_the_main_process_with_their_traceback():
    with pytest.raises(KeyError, match="worker process") as info:
        list(DataLoader(Failing(), batch_size=1, num_workers=2))
    assert "sample 2 is missing" in str(info.value)


def test_array_fast_path_with_workers_equals_in_process():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20)
    ours = list(DataLoader(x, y=y, batch_size=6, shuffle=True, seed=4, num_workers=2))
    plain = list(DataLoader(x, y=y, batch_size=6, shuffle=True, seed=4))
    for (xa, ya), (xb, yb) in zip(ours, plain):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
