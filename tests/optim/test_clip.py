"""Gradient clipping against torch.nn.utils, on flat-buffer views (fast path) and on plain arrays."""

import numpy as np
import pytest

from chainrule.optim import SGD, Adam, clip_grad_norm_, clip_grad_value_, total_norm
from chainrule.tensor import Tensor

from ._helpers import make_arrays


def _setup(torch, dtype, scale, in_optimizer):
    values = make_arrays(seed=0, dtype=dtype)
    grads = make_arrays(seed=1, dtype=dtype, scale=scale)
    params = [Tensor(v.copy(), requires_grad=True) for v in values]
    opt = Adam(params) if in_optimizer else None
    for p, g in zip(params, grads):
        p.grad = g.copy()
    if opt is not None:
        opt.zero_grad(set_to_none=False)
        for p, g in zip(params, grads):
            p.grad[...] = g  # as backward() leaves them: views of the flat buffer
        assert all(p._grad.base is opt.buffers[0].grad for p in params)
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g)
    return params, theirs, opt


@pytest.mark.parametrize("in_optimizer", [True, False], ids=["flat", "plain"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("scale", [0.01, 10.0], ids=["below", "above"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(torch, dtype, scale, norm_type, in_optimizer):
    params, theirs, _ = _setup(torch, dtype, scale, in_optimizer)
    max_norm = 1.5
    norm = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert isinstance(norm, float)
    assert norm == pytest.approx(ref.item(), rel=rtol)
    assert (norm > max_norm) == (scale == 10.0)
    for p, t in zip(params, theirs):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=rtol, atol=1e-7)
    if scale == 10.0:
        assert total_norm(params, norm_type) == pytest.approx(max_norm, rel=1e-5)


def test_optimizer_clip_grad_norm_matches_function(torch):
    params, theirs, opt = _setup(torch, np.float32, 10.0, True)
    norm = opt.clip_grad_norm(2.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 2.0)
    assert norm == pytest.approx(ref.item(), rel=1e-5)
    for p, t in zip(params, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_optimizer_clip_grad_norm_ignores_missing_and_stale_gradients():
    values = make_arrays(seed=0)
    params = [Tensor(v.copy(), requires_grad=True) for v in values]
    opt = SGD(params, lr=0.1)
    for p in params:
        p.grad = np.full(p.shape, 100.0)
    opt.step()
    params[1].grad = None  # its region of the flat buffer still holds the old 100s
    params[3].grad = None
    for i in (0, 2):
        params[i].grad[...] = 3.0
    expected = 3.0 * np.sqrt(params[0].numel() + params[2].numel())
    assert opt.clip_grad_norm(1.0) == pytest.approx(expected, rel=1e-12)
    assert total_norm([params[0], params[2]]) == pytest.approx(1.0, rel=1e-6)
    assert params[1].grad is None


def test_subset_of_a_flat_buffer_uses_only_those_gradients():
    values = make_arrays(seed=0)
    params = [Tensor(v.copy(), requires_grad=True) for v in values]
    opt = SGD(params, lr=0.1)
    opt.zero_grad()
    for p in params:
        p.grad = np.ones(p.shape)
    opt.step()
    norm = clip_grad_norm_(params[:2], 0.5)
    assert norm == pytest.approx(np.sqrt(params[0].numel() + params[1].numel()))
    np.testing.assert_array_equal(params[2].grad, 1.0)  # not part of the call: untouched
    assert total_norm(params[:2]) == pytest.approx(0.5, rel=1e-6)


def test_clip_grad_norm_edge_cases(torch):
    t = Tensor(np.ones(3), requires_grad=True)
    assert clip_grad_norm_([t], 1.0) == 0.0  # no gradients at all
    t.grad = np.array([np.nan, 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non|nan"):
        clip_grad_norm_(t, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_(t, 1.0, norm_type=-1)
    with pytest.raises(TypeError, match="item 0"):
        clip_grad_norm_([np.ones(2)], 1.0)


@pytest.mark.parametrize("in_optimizer", [True, False], ids=["flat", "plain"])
def test_clip_grad_value_matches_torch(torch, in_optimizer):
    params, theirs, _ = _setup(torch, np.float32, 1.0, in_optimizer)
    clip_grad_value_(params, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, t in zip(params, theirs):
        assert p.grad.dtype == np.float32
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
    assert max(np.abs(p.grad).max() for p in params) == 0.5
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_(params, -1.0)




def test_fast_path_reduces_the_whole_flat_buffer_once():
    from chainrule.optim.clip import _segments

    params = [Tensor(v, requires_grad=True) for v in make_arrays(seed=0, dtype=np.float32)]
    opt = Adam(params)
    opt.zero_grad()
    for p in params:
        p.grad = np.ones(p.shape, np.float32)
    opt.step()
    (buffer,) = _segments([p._grad for p in params])
    assert buffer is opt.buffers[0].grad
    assert len(_segments([p._grad for p in params[:3]])) == 3  # a subset: gradient by gradient
    assert len(_segments([p._grad for p in params + params[:1]])) == 5  # a duplicate: as torch, counted twice
