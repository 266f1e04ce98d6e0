"""Tests for chainrule/nn/utils: parameters as one vector, clipping under torch.nn.utils's names."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.utils import (
    clip_grad_norm_, clip_grad_value_, get_total_norm, parameters_to_vector, vector_to_parameters,
)
from chainrule.optim import SGD
from chainrule.tensor import Tensor


def _params():
    gen = np.random.default_rng(0)
    return [Tensor(gen.standard_normal(s), requires_grad=True) for s in [(3, 2), (4,), (1, 1)]]


def test_parameters_to_vector_matches_torch_and_is_differentiable(torch):
    params = _params()
    theirs = torch.nn.utils.parameters_to_vector([torch.tensor(p.numpy()) for p in params])
    vec = parameters_to_vector(params)
    np.testing.assert_array_equal(vec.numpy(), theirs.numpy())
    weights = np.arange(vec.shape[0], dtype=np.float64)
    (vec * Tensor(weights)).sum().backward()
    np.testing.assert_array_equal(np.concatenate([np.asarray(p.grad).ravel() for p in params]), weights)


def test_vector_to_parameters_writes_in_place_through_the_optimizer_views():
    params = _params()
    opt = SGD(params, lr=0.1)
    views = [p.data for p in params]
    vector_to_parameters(Tensor(np.arange(11, dtype=np.float64)), params)
    assert all(p.data is v for p, v in zip(params, views))  # still the optimizer's flat buffer
    np.testing.assert_array_equal(opt.buffers[0].data, np.arange(11))
    with pytest.raises(ValueError, match="11 values"):
        vector_to_parameters(np.zeros(10), params)


def test_clipping_under_torch_names(torch):
    params = _params()
    for p in params:
        p.grad = np.full(p.shape, 2.0)
    assert get_total_norm([np.asarray(p.grad) for p in params]) == pytest.approx(np.sqrt(11 * 4.0))
    clip_grad_value_(params, 1.5)
    assert all(np.asarray(p.grad).max() == 1.5 for p in params)
    before = clip_grad_norm_(params, 1.0)
    assert float(before) == pytest.approx(np.sqrt(11 * 1.5**2))
    assert cr.optim.total_norm(params) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_returns_a_0d_tensor_as_torch(torch, dtype):
    grads = [np.random.default_rng(1).standard_normal(s).astype(dtype) for s in [(3, 2), (4,)]]
    ours = [Tensor(np.zeros(g.shape, dtype), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad = g.copy()
        q.grad = torch.tensor(g)
    norm, ref = clip_grad_norm_(ours, 0.5), torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert isinstance(norm, Tensor) and norm.shape == () and norm.dtype == np.dtype(dtype)
    assert norm.item() == pytest.approx(ref.item(), rel=1e-6)
    total = get_total_norm([p.grad for p in ours])
    assert isinstance(total, Tensor) and total.item() == pytest.approx(0.5, rel=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), rtol=1e-6)
