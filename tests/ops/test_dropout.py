"""Tests for chainrule/ops/dropout.py: inverted dropout's statistics, mask-based backward, seeding."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.dropout import dropout


def test_gradcheck_with_fixed_mask(rng):
    x = rng.standard_normal((4, 5))
    mask = rng.random((4, 5)) > 0.3
    assert cr.gradcheck(lambda x: dropout(x, 0.3, mask=mask), [x])


def test_backward_is_mask_over_keep_probability(rng):
    x = cr.Tensor(rng.standard_normal((50, 40)).astype(np.float32), requires_grad=True)
    out = dropout(x, 0.25, seed=3)
    g = rng.standard_normal((50, 40)).astype(np.float32)
    out.backward(g)
    kept = out.numpy() != 0
    np.testing.assert_allclose(x.grad, np.where(kept, g / 0.75, 0), rtol=1e-6)
    np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / 0.75, rtol=1e-6)
    assert x.grad.dtype == np.float32 and out.dtype == np.float32


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_drop_rate_and_mean_are_preserved(p):
    x = cr.Tensor(np.ones((400, 500), np.float32))
    out = dropout(x, p, seed=0).numpy()
    assert abs((out == 0).mean() - p) < 0.01
    assert abs(out.mean() - 1.0) < 0.02  # inverted scaling keeps the expectation
    assert set(np.unique(out)) <= {0.0, np.float32(1 / (1 - p))}


def test_identity_when_not_training_or_p_zero(rng):
    x = cr.Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x


def test_p_one_drops_everything(rng):
    x = cr.Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    out = dropout(x, 1.0, seed=0)
    assert not np.isnan(out.numpy()).any() and (out.numpy() == 0).all()


def test_same_seed_same_mask_and_generator_advances(rng):
    x = cr.Tensor(np.ones((20, 20), np.float32))
    np.testing.assert_array_equal(dropout(x, 0.5, seed=7).numpy(), dropout(x, 0.5, seed=7).numpy())
    gen = np.random.default_rng(7)
    assert not np.array_equal(dropout(x, 0.5, seed=gen).numpy(), dropout(x, 0.5, seed=gen).numpy())


def test_noise_shape_drops_whole_channels():
    x = cr.Tensor(np.ones((8, 6, 5, 5), np.float32), requires_grad=True)
    out = dropout(x, 0.5, seed=1, noise_shape=(8, 6, 1, 1)).numpy()
    per_channel = out.reshape(8, 6, -1)
    assert ((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2)).all()
    assert (per_channel == 0).any()


def test_errors():
    x = cr.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        dropout(x, 1.5)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\) does not broadcast"):
        dropout(x, 0.5, mask=np.ones((3, 3), bool))
