"""Tests for chainrule/ops/norms.py: norm, chainrule.linalg.vector_norm / matrix_norm / norm against PyTorch
(float64, 1e-7). ``norm`` over several dims and p values is also in test_reduce.py's table of reductions."""

import numpy as np
import pytest
from torch64 import compare64

import chainrule as cr


def _distinct(rng, shape):
    """Values with distinct |x| (no ties for the inf norms)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 1.27).reshape(shape)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf")])
def test_norm_gradient_at_zero_matches_torch(p, torch):
    x = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, -2.0]])
    compare64(torch, lambda t: cr.linalg.vector_norm(t, p, dim=1), lambda t: torch.linalg.vector_norm(t, p, dim=1), x)


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, float("inf"), -float("inf")])
@pytest.mark.parametrize("dim", [None, (0, 1), (1, 0)], ids=str)
def test_linalg_norm_matrix(ord, dim, rng, torch):
    x = _distinct(rng, (3, 4))
    compare64(torch, lambda t: cr.linalg.norm(t, ord, dim), lambda t: torch.linalg.norm(t, ord, dim), x)
    compare64(torch, lambda t: cr.linalg.norm(t, ord, dim, keepdim=True),
              lambda t: torch.linalg.norm(t, ord, dim, keepdim=True), x)


@pytest.mark.parametrize("ord", [None, 1, 3, float("inf")])
def test_linalg_norm_vector(ord, rng, torch):
    x = _distinct(rng, (2, 5))
    compare64(torch, lambda t: cr.linalg.norm(t, ord, -1), lambda t: torch.linalg.norm(t, ord, -1), x)
    compare64(torch, lambda t: cr.linalg.norm(t[0], ord), lambda t: torch.linalg.norm(t[0], ord), x)


def test_unavailable_orders_say_so():
    with pytest.raises(ValueError, match="matrix_norm: ord 'nuc' is not available"):
        cr.linalg.norm(cr.zeros(2, 2), "nuc")
    with pytest.raises(ValueError, match="linalg.norm: with ord=1 and no dim the tensor must be 1-d or 2-d"):
        cr.linalg.norm(cr.zeros(2, 2, 2), 1)
