"""Embedding lookup (chainrule/ops/embedding.py)."""

import numpy as np
import pytest

from chainrule import Tensor, gradcheck
from chainrule.ops.embedding import embedding


def test_forward_picks_rows():
    weight = np.arange(12, dtype=np.float32).reshape(4, 3)
    ids = np.array([[3, 0], [1, 3]])
    out = embedding(ids, Tensor(weight))
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, weight[ids])


def test_gradcheck_with_repeated_ids():
    weight = np.random.default_rng(0).standard_normal((6, 3))
    ids = np.array([[1, 4, 1], [5, 1, 0]])
    assert gradcheck(lambda w: embedding(ids, w), [weight])


def test_gradient_only_for_rows_used_and_not_padding():
    rng = np.random.default_rng(1)
    weight = Tensor(rng.standard_normal((7, 4)).astype(np.float32), requires_grad=True)
    ids = np.array([[2, 0, 0], [5, 2, 0]])
    g = rng.standard_normal((2, 3, 4)).astype(np.float32)
    embedding(ids, weight, padding_idx=0).backward(g)
    expected = np.zeros((7, 4), np.float32)
    expected[2] = g[0, 0] + g[1, 1]
    expected[5] = g[1, 0]
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-6)
    assert weight.grad.dtype == np.float32


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((10, 5)).astype(np.float32)
    ids = rng.integers(0, 10, size=(4, 6))
    g = rng.standard_normal((4, 6, 5)).astype(np.float32)
    ours = Tensor(weight.copy(), requires_grad=True)
    embedding(ids, ours, padding_idx=3).backward(g)
    theirs = torch.tensor(weight, requires_grad=True)
    torch.nn.functional.embedding(torch.from_numpy(ids), theirs, padding_idx=3).backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_ids():
    weight = Tensor(np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match=r"token id 9 \(at position \(1, 0\)\) is out of range for a vocabulary of 5"):
        embedding(np.array([[1, 2], [9, 0]]), weight)
    with pytest.raises(ValueError, match="token id -1"):
        embedding(np.array([-1]), weight)
    with pytest.raises(TypeError, match="token ids must be integers, got dtype float64"):
        embedding(np.array([1.0]), weight)
    with pytest.raises(ValueError, match="padding_idx 5 is out of range for 5 embeddings"):
        embedding(np.array([1]), weight, padding_idx=5)


def test_embedding_bag_gradcheck_and_float32_against_torch(compare_torch, torch):
    from chainrule.ops.embedding import embedding_bag

    rng = np.random.default_rng(4)
    ids, offsets = np.array([3, 1, 1, 0, 4, 2]), np.array([0, 2, 5])
    w, psw = rng.standard_normal((5, 3)), rng.standard_normal(6)
    assert gradcheck(lambda w, s: embedding_bag(ids, w, offsets, mode="sum", per_sample_weights=s), [w, psw])
    assert gradcheck(lambda w: embedding_bag(ids, w, offsets, mode="max"), [w])
    compare_torch(
        lambda w: embedding_bag(ids, w, offsets, mode="mean"),
        lambda w: torch.nn.functional.embedding_bag(torch.tensor(ids), w, torch.tensor(offsets), mode="mean"),
        w,
    )
