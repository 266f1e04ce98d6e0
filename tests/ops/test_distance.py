"""Tests for chainrule/ops/distance.py: norms, distances and the losses built on them, against torch in float64."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import distance


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("axis,keepdims", [(-1, False), (0, True)])
def test_vector_norm_matches_torch(p, axis, keepdims, compare_torch64, torch, rng):
    compare_torch64(
        lambda t: distance.vector_norm(t, p, axis=axis, keepdims=keepdims),
        lambda t: torch.linalg.vector_norm(t, p, dim=axis, keepdim=keepdims),
        rng.standard_normal((3, 4)),
    )


def test_vector_norm_of_zero_has_zero_gradient_like_torch(torch):
    x = cr.Tensor(np.zeros((2, 3)), requires_grad=True)
    distance.vector_norm(x, 2).backward(np.ones(2))
    xt = torch.zeros((2, 3), dtype=torch.float64, requires_grad=True)
    torch.linalg.vector_norm(xt, 2, dim=-1).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), xt.grad.numpy())


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_and_cosine_embedding_losses_match_torch(swap, reduction, compare_torch64, torch, rng):
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    compare_torch64(
        lambda *t: distance.triplet_margin_loss(*t, margin=2.0, swap=swap, reduction=reduction),
        lambda *t: torch.nn.functional.triplet_margin_loss(*t, margin=2.0, swap=swap, reduction=reduction),
        a, p, n,
    )
    y = np.array([1, -1, 1, -1, -1])
    compare_torch64(
        lambda *t: distance.cosine_embedding_loss(*t, y, margin=-0.3, reduction=reduction),
        lambda *t: torch.nn.functional.cosine_embedding_loss(*t, torch.tensor(y), margin=-0.3, reduction=reduction),
        a, p,
    )


def test_distances_gradcheck(rng):
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert cr.gradcheck(lambda a, b: distance.cosine_similarity(a, b), [x1, x2])
    assert cr.gradcheck(lambda a, b: distance.pairwise_distance(a, b, 3.0), [x1, x2])
    assert cr.gradcheck(lambda a: distance.normalize(a, 1.5, 0), [x1])


def test_distance_errors():
    with pytest.raises(ValueError, match="vector_norm: p must be positive"):
        distance.vector_norm(np.ones(3), 0)
    with pytest.raises(ValueError, match="cosine_embedding_loss: target must have shape \\(2,\\)"):
        distance.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="triplet_margin_loss: anchor \\(2, 3\\), positive \\(2, 3\\) and negative"):
        distance.triplet_margin_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 4)))
