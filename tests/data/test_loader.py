"""Tests for chainrule/data/loader.py: batching, shuffling determinism, resumable state, errors."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader


def _data(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    return x, y


def test_batches_in_order_without_shuffle():
    x, y = _data(10)
    loader = DataLoader(x, y=y, batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), x)
    assert np.shares_memory(batches[0][0], x)  # unshuffled batches are views, no copy
    # a second pass gives the same batches
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in loader]), y)


def test_drop_last_and_len():
    x, y = _data(10)
    loader = DataLoader(x, y=y, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(yb) for _, yb in loader] == [4, 4]
    assert len(DataLoader(x, y=y, batch_size=5)) == 2
    assert len(DataLoader(x, y=y, batch_size=64)) == 1
    assert len(DataLoader(x, y=y, batch_size=64, drop_last=True)) == 0


def test_x_only_tuple_inputs_and_sample_weight():
    x, y = _data(7)
    only = list(DataLoader(x, batch_size=3))
    assert isinstance(only[0], np.ndarray) and only[0].shape == (3, 2)
    x2 = np.arange(7) * 10
    multi = list(DataLoader((x, x2), y=y, batch_size=3))
    (xa, xb), yb = multi[-1]
    np.testing.assert_array_equal(xa, x[6:])
    np.testing.assert_array_equal(xb, x2[6:])
    weights = np.linspace(0, 1, 7)
    xb, yb, wb = next(iter(DataLoader(x, y=y, batch_size=3, shuffle=True, seed=0, sample_weight=weights)))
    np.testing.assert_array_equal(wb, weights[yb])  # weights follow their samples through the shuffle
    np.testing.assert_array_equal(xb, x[yb])
    # Tensors are accepted as inputs
    tb = next(iter(DataLoader(cr.tensor(x), batch_size=2)))
    np.testing.assert_array_equal(tb, x[:2])


def test_shuffle_is_a_seeded_permutation_that_changes_every_epoch():
    x, y = _data(50)
    loader = DataLoader(x, y=y, batch_size=8, shuffle=True, seed=3)
    epoch1 = np.concatenate([yb for _, yb in loader])
    epoch2 = np.concatenate([yb for _, yb in loader])
    assert sorted(epoch1) == list(range(50)) and sorted(epoch2) == list(range(50))
    assert not np.array_equal(epoch1, y) and not np.array_equal(epoch1, epoch2)
    again = DataLoader(x, y=y, batch_size=8, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in again]), epoch1)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in again]), epoch2)
    other = DataLoader(x, y=y, batch_size=8, shuffle=True, seed=4)
    assert not np.array_equal(np.concatenate([yb for _, yb in other]), epoch1)
    # a Generator works as the seed, and the permutation is the Generator's
    gen_loader = DataLoader(x, y=y, batch_size=50, shuffle=True, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(next(iter(gen_loader))[1], np.random.default_rng(3).permutation(50))


def test_state_dict_resumes_the_same_orders_through_json():
    x, y = _data(30)
    loader = DataLoader(x, y=y, batch_size=7, shuffle=True, seed=11)
    list(loader)
    list(loader)
    state = json.loads(json.dumps(loader.state_dict()))  # survives a JSON file
    expected = [np.concatenate([yb for _, yb in loader]) for _ in range(3)]
    resumed = DataLoader(x, y=y, batch_size=7, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    assert resumed.epoch == 2
    for orders in expected:
        np.testing.assert_array_equal(np.concatenate([yb for _, yb in resumed]), orders)


def test_each_iteration_draws_exactly_one_permutation():
    """The generator advances once per epoch even when an epoch is cut short (early stop)."""
    x, y = _data(20)
    a = DataLoader(x, y=y, batch_size=5, shuffle=True, seed=1)
    b = DataLoader(x, y=y, batch_size=5, shuffle=True, seed=1)
    next(iter(a))  # partial epoch
    list(b)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in a]), np.concatenate([yb for _, yb in b]))


def test_errors_name_the_problem():
    x, y = _data(10)
    with pytest.raises(ValueError, match="y has 9 samples but x has 10"):
        DataLoader(x, y=y[:9])
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(x, y=y, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(x, y=y, batch_size=2.5)
    with pytest.raises(ValueError, match="sample_weight must be 1-D"):
        DataLoader(x, y=y, sample_weight=np.ones((10, 1)))
    with pytest.raises(ValueError, match="sample_weight has 3 samples"):
        DataLoader(x, y=y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="scalar"):
        DataLoader(np.float32(1.0))
    with pytest.raises(TypeError, match="seed"):
        DataLoader(x, y=y, seed="abc")
