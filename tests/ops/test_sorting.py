"""Tests for chainrule/ops/sorting.py: values, indices and gradients against PyTorch in float64."""

import numpy as np
import pytest

import chainrule as cr

from torch64 import compare64


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_matches_torch(dim, descending, rng, torch):
    x = rng.standard_normal((3, 4, 5))
    compare64(
        torch, lambda a: cr.sort(a, dim=dim, descending=descending),
        lambda a: torch.sort(a, dim=dim, descending=descending), x,
    )
    assert cr.gradcheck(lambda a: a.sort(dim, descending).values, [x])


@pytest.mark.parametrize("descending", [False, True])
def test_sort_with_ties_is_stable_like_torch(descending, torch):
    x = np.array([[1.0, 0.0, 1.0, 0.0, 2.0, 1.0], [3.0, 3.0, -1.0, 3.0, 0.0, np.nan]])
    compare64(
        torch, lambda a: a.sort(descending=descending, stable=True),
        lambda a: a.sort(descending=descending, stable=True), x,
    )
    ours = cr.argsort(cr.Tensor(x), descending=descending, stable=True)
    np.testing.assert_array_equal(ours.data, torch.argsort(torch.from_numpy(x), descending=descending, stable=True))


def test_sort_result_is_a_named_tuple():
    values, indices = cr.sort(cr.Tensor(np.array([2.0, 1.0])))
    result = cr.Tensor(np.array([2.0, 1.0])).sort()
    assert result.values.tolist() == values.tolist() == [1.0, 2.0]
    assert result.indices.dtype == np.int64 and indices.tolist() == [1, 0]


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim, k", [(1, 3), (0, 2), (-1, 5), (1, 0)])
def test_topk_matches_torch(dim, k, largest, rng, torch):
    x = rng.standard_normal((4, 5))
    compare64(torch, lambda a: a.topk(k, dim=dim, largest=largest), lambda a: a.topk(k, dim=dim, largest=largest), x)
    if k:
        assert cr.gradcheck(lambda a: cr.topk(a, k, dim, largest).values, [x])


def test_topk_ties_send_the_gradient_to_the_chosen_positions():
    # which tied positions are chosen is unspecified (PyTorch's choice depends on the length); the gradient
    # goes to the ones chosen
    x = cr.Tensor(np.array([1.0, 0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    values, indices = cr.topk(x, 2)
    assert values.tolist() == [1.0, 1.0] and len(set(indices.tolist())) == 2
    assert all(x.data[i] == 1.0 for i in indices.tolist())
    values.backward(grad=np.array([2.0, 3.0]))
    expected = np.zeros(5)
    expected[indices.data] = [2.0, 3.0]
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim, k", [(1, 1), (1, 3), (0, 2)])
def test_kthvalue_matches_torch(dim, k, keepdim, rng, torch):
    x = rng.standard_normal((3, 5))
    compare64(torch, lambda a: a.kthvalue(k, dim, keepdim), lambda a: a.kthvalue(k, dim, keepdim), x)


def test_zero_dim_tensor_sorts_to_itself(torch):
    x = np.array(1.5)
    compare64(torch, cr.sort, torch.sort, x)
    compare64(torch, lambda a: cr.topk(a, 1), lambda a: torch.topk(a, 1), x)


def test_unique_matches_torch(torch):
    x = np.array([[3, 1, 3], [2, 1, 1]])
    values, inverse, counts = cr.unique(cr.Tensor(x), return_inverse=True, return_counts=True)
    expected = torch.unique(torch.from_numpy(x), return_inverse=True, return_counts=True)
    for ours, theirs in zip((values, inverse, counts), expected):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    rows = cr.unique(cr.Tensor(np.array([[1, 2], [0, 5], [1, 2]])), dim=0)
    np.testing.assert_array_equal(rows.data, [[0, 5], [1, 2]])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize_match_torch(right, torch):
    boundaries = np.array([1.0, 3.0, 5.0, 7.0])
    values = np.array([[0.0, 1.0, 3.0], [4.0, 7.0, 9.0]])
    expected = torch.searchsorted(torch.from_numpy(boundaries), torch.from_numpy(values), right=right)
    np.testing.assert_array_equal(cr.searchsorted(boundaries, values, right=right).data, expected.numpy())
    expected = torch.bucketize(torch.from_numpy(values), torch.from_numpy(boundaries), right=right)
    np.testing.assert_array_equal(cr.bucketize(cr.Tensor(values), boundaries, right=right).data, expected.numpy())
    rows = np.array([[1.0, 3.0, 5.0], [0.0, 2.0, 4.0]])
    expected = torch.searchsorted(torch.from_numpy(rows), torch.from_numpy(values), right=right)
    np.testing.assert_array_equal(cr.searchsorted(rows, values, right=right).data, expected.numpy())


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: cr.topk(x, 6), r"k must be an int in \[0, 5\]"),
        (lambda x: cr.kthvalue(x, 0), r"k must be an int in \[1, 5\]"),
        (lambda x: cr.sort(x, dim=2), "dim must be an int in"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(cr.zeros(3, 5))
