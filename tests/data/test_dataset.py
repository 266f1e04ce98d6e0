"""Tests for chainrule/data/dataset.py, sampler.py and collate.py: PyTorch's dataset API, checked against torch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
    random_split,
)


class Squares(Dataset):
    """A map-style dataset: sample i is (i as a float vector, i squared as an int label)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32), i * i


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_map_style_dataset_of_pairs_batches_like_torch():
    torch = pytest.importorskip("torch")
    pairs = [(np.arange(4, dtype=np.float32) + i, i % 3) for i in range(10)]   # a plain list of (x, y)
    ours = list(DataLoader(pairs, batch_size=4))
    theirs = list(torch.utils.data.DataLoader(pairs, batch_size=4))
    assert len(ours) == len(theirs) == 3
    for (xb, yb), (tx, ty) in zip(ours, theirs):
        assert isinstance(xb, cr.Tensor) and isinstance(yb, cr.Tensor)
        np.testing.assert_array_equal(xb.numpy(), tx.numpy())
        np.testing.assert_array_equal(yb.numpy(), ty.numpy())
        assert str(xb.dtype) == str(tx.dtype).replace("torch.", "")
        assert str(yb.dtype) == str(ty.dtype).replace("torch.", "")


@pytest.mark.parametrize("sample", [
    1, 2.5, True, np.float32(1.5), np.arange(3), "word",
    (np.ones(2, dtype=np.float32), 3), {"a": np.zeros((2, 2)), "b": 1.0}, [1.0, 2],
    {"pair": (np.zeros(2), 1)}, __import__("collections").namedtuple("Point", "x y")(np.ones(2), 2),
])
def test_default_collate_matches_torch(sample):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    batch = [sample, sample]
    ours, theirs = default_collate(batch), torch_collate(batch)

    def compare(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, cr.Tensor)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert str(a.dtype) == str(b.dtype).replace("torch.", "")
        elif isinstance(b, dict):
            assert a.keys() == b.keys()
            for key in b:
                compare(a[key], b[key])
        elif isinstance(b, (list, tuple)):
            assert type(a).__name__ == type(b).__name__  # a tuple sample gives a list batch, as torch's
            assert len(a) == len(b) and all(compare(x, y) is None for x, y in zip(a, b))
        else:
            assert a == b

    compare(ours, theirs)


def test_default_collate_names_unequal_shapes():
    with pytest.raises(RuntimeError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_tensor_dataset_fast_path_equals_stacking_samples():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    ds = TensorDataset(cr.tensor(x), y)
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), x[3])
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=5)
    slow = DataLoader(ds, batch_size=4, shuffle=True, generator=5, collate_fn=lambda b: default_collate(b))
    for (xb, yb), (xs, ys) in zip(loader, slow):
        np.testing.assert_array_equal(xb.numpy(), xs.numpy())
        np.testing.assert_array_equal(yb.numpy(), ys.numpy())
        np.testing.assert_array_equal(xb.numpy()[:, 0] / 2, yb.numpy())
    with pytest.raises(ValueError, match="different numbers of samples"):
        TensorDataset(x, y[:3])


def test_subset_concat_chain_and_add():
    a, b = Squares(3), Squares(4)
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert both[3][1] == 0 and both[6][1] == 9 and both[-1][1] == 9
    with pytest.raises(IndexError):
        both[7]
    sub = Subset(b, [3, 1])
    assert len(sub) == 2 and sub[0][1] == 9
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5]])
def test_random_split_sizes_match_torch_and_partition(lengths):
    torch = pytest.importorskip("torch")
    data = list(range(10))
    ours = random_split(data, lengths, generator=0)
    theirs = torch.utils.data.random_split(data, lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == data
    again = random_split(data, lengths, generator=0)
    assert [list(s) for s in again] == [list(s) for s in ours]
    with pytest.raises(ValueError, match="sum to"):
        random_split(data, [3, 3])


def test_samplers():
    torch = pytest.importorskip("torch")
    data = range(10)
    assert list(SequentialSampler(data)) == list(torch.utils.data.SequentialSampler(data))
    order = list(RandomSampler(data, generator=1))
    assert sorted(order) == list(data) and order != list(data)
    more = list(RandomSampler(data, num_samples=25, generator=1))
    assert len(more) == 25 and sorted(more[:10]) == list(data) and sorted(more[10:20]) == list(data)
    drawn = list(RandomSampler(data, replacement=True, num_samples=1000, generator=1))
    assert len(drawn) == 1000 and set(drawn) == set(data)
    subset = list(SubsetRandomSampler([7, 3, 5], generator=2))
    assert sorted(subset) == [3, 5, 7]
    batches = list(BatchSampler(SequentialSampler(data), 4, drop_last=False))
    assert batches == list(torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(data), 4, False))
    assert len(BatchSampler(SequentialSampler(data), 4, drop_last=True)) == 2


def test_weighted_random_sampler_follows_weights():
    weights = [0.0, 1.0, 3.0]
    counts = np.bincount(list(WeightedRandomSampler(weights, 4000, generator=0)), minlength=3)
    assert counts[0] == 0
    assert abs(counts[2] / counts[1] - 3.0) < 0.3
    without = list(WeightedRandomSampler(weights, 2, replacement=False, generator=0))
    assert sorted(without) == [1, 2]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(weights, 3, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    # a loader with a weighted sampler balances classes
    y = np.array([0] * 90 + [1] * 10)
    class_weight = 1.0 / np.bincount(y)
    loader = DataLoader(TensorDataset(y), batch_size=50,
                        sampler=WeightedRandomSampler(class_weight[y], 2000, generator=1))
    labels = np.concatenate([yb.numpy() for (yb,) in loader])
    assert 0.4 < labels.mean() < 0.6


def test_loader_options_and_their_errors():
    ds = Squares(10)
    assert len(DataLoader(ds)) == 10                      # PyTorch's default batch_size=1
    one = next(iter(DataLoader(ds, batch_size=None)))     # no automatic batching
    assert isinstance(one[0], cr.Tensor) and one[0].shape == (3,) and one[1] == 0
    assert [len(yb) for _, yb in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    custom = DataLoader(ds, batch_sampler=[[0, 1], [9]])
    assert [yb.tolist() for _, yb in custom] == [[0, 1], [81]]
    assert list(DataLoader(ds, batch_size=3, collate_fn=lambda b: len(b))) == [3, 3, 3, 1]
    streamed = [b.tolist() for b in DataLoader(Count(7), batch_size=3)]
    assert streamed == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Count(3), shuffle=True)
    with pytest.raises(TypeError, match="y=y"):
        DataLoader(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="not a dataset"):
        list(DataLoader(object(), batch_size=2))


def test_shuffled_dataset_loader_is_seeded():
    ds = Squares(20)
    first = [yb.tolist() for _, yb in DataLoader(ds, batch_size=5, shuffle=True, generator=3)]
    again = [yb.tolist() for _, yb in DataLoader(ds, batch_size=5, shuffle=True, generator=3)]
    assert first == again and sorted(sum(first, [])) == sorted(i * i for i in range(20))


def test_default_convert_turns_tuples_into_lists_as_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    from chainrule.data import default_convert

    sample = (np.ones(2), {"a": (np.zeros(1), "s")}, [3])
    ours, theirs = default_convert(sample), torch_convert(sample)
    assert type(ours) is type(theirs) is list and type(ours[1]["a"]) is type(theirs[1]["a"]) is list
    assert isinstance(ours[0], cr.Tensor) and ours[1]["a"][1] == "s" and ours[2] == [3]
    assert [type(b).__name__ for b in DataLoader(TensorDataset(cr.ones(4, 2), cr.ones(4)), batch_size=2)] == ["list"] * 2
