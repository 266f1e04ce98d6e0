"""Tests for ``chainrule.ops.linalg.linear``: y = x @ Wᵀ + b with W shaped (out_features, in_features)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.linalg import linear

SHAPES = [(4, 3), (3,), (2, 5, 3), (2, 2, 2, 3)]  # x shapes; in_features = 3


@pytest.mark.parametrize("x_shape", SHAPES, ids=str)
@pytest.mark.parametrize("with_bias", [True, False])
def test_gradcheck(x_shape, with_bias, rng):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((5, 3))
    if with_bias:
        assert cr.gradcheck(linear, [x, w, rng.standard_normal(5)])
    else:
        assert cr.gradcheck(linear, [x, w])


@pytest.mark.parametrize("x_shape", SHAPES, ids=str)
@pytest.mark.parametrize("with_bias", [True, False])
def test_matches_torch(x_shape, with_bias, compare_torch, torch, rng):
    arrays = [rng.standard_normal(x_shape), rng.standard_normal((4, 3))]
    if with_bias:
        arrays.append(rng.standard_normal(4))
    compare_torch(linear, torch.nn.functional.linear, *arrays)


def test_forward_is_x_times_w_transposed_plus_b(rng):
    x, w, b = rng.standard_normal((6, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    np.testing.assert_allclose(linear(x, w, b).numpy(), x @ w.T + b, rtol=1e-12)


def test_first_layer_input_gets_no_gradient(rng):
    # x without requires_grad (the data): only the parameters get gradients, and backward skips dx
    x = cr.Tensor(rng.standard_normal((8, 3)).astype(np.float32))
    w = cr.Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = cr.Tensor(np.zeros(2, np.float32), requires_grad=True)
    out = linear(x, w, b)
    grads = out._backward(np.ones((8, 2), np.float32))
    assert grads[0] is None
    out.backward(np.ones((8, 2), np.float32))
    assert x.grad is None
    np.testing.assert_allclose(w.grad, np.ones((2, 8)) @ x.data, rtol=1e-5)
    np.testing.assert_allclose(b.grad, [8.0, 8.0])


def test_float32_stays_float32(rng):
    x = cr.Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    w = cr.Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = cr.Tensor(np.zeros(2, np.float32), requires_grad=True)
    out = linear(x, w, b)
    out.sum().backward()
    assert out.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_input_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 5\) does not fit weight of shape \(2, 3\)"):
        linear(np.zeros((4, 5), np.float32), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"linear: input of shape \(\) does not fit"):
        linear(np.float32(1.0), np.zeros((2, 3), np.float32))


def test_weight_and_bias_shape_errors():
    with pytest.raises(ValueError, match=r"linear: weight must be 2-D \(out_features, in_features\), got shape \(3,\)"):
        linear(np.zeros((4, 3), np.float32), np.zeros(3, np.float32))
    message = r"linear: bias must have shape \(2,\) for weight of shape \(2, 3\), got \(3,\)"
    with pytest.raises(ValueError, match=message):
        linear(np.zeros((4, 3), np.float32), np.zeros((2, 3), np.float32), np.zeros(3, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_invariant_gives_each_row_the_result_it_gets_alone(dtype):
    from chainrule.ops.linalg import batch_invariant

    gen = np.random.default_rng(0)
    x = gen.standard_normal((50, 64)).astype(dtype)
    w, b = gen.standard_normal((40, 64)).astype(dtype), gen.standard_normal(40).astype(dtype)
    with batch_invariant():
        full = linear(cr.Tensor(x), cr.Tensor(w), cr.Tensor(b)).data
        alone = np.concatenate([linear(cr.Tensor(x[i:i + 1]), cr.Tensor(w), cr.Tensor(b)).data for i in range(50)])
        order = gen.permutation(50)
        shuffled = linear(cr.Tensor(x[order]), cr.Tensor(w), cr.Tensor(b)).data
        leading = linear(cr.Tensor(x.reshape(5, 10, 64)), cr.Tensor(w), cr.Tensor(b)).data
    assert full.dtype == dtype
    np.testing.assert_array_equal(alone, full)
    np.testing.assert_array_equal(shuffled, full[order])
    np.testing.assert_array_equal(leading.reshape(50, 40), full)
    np.testing.assert_allclose(full, x.astype(np.float64) @ w.T.astype(np.float64) + b, rtol=1e-4, atol=1e-4)
    plain = linear(cr.Tensor(x), cr.Tensor(w)).data  # outside the context: the one-product path again
    np.testing.assert_allclose(plain, x @ w.T, rtol=0, atol=0)
