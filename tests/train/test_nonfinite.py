"""Tests for the non-finite check of chainrule/train/fit.py (NonFiniteError in chainrule/train/errors.py)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import Callback, NonFiniteError, fit
from conftest import mlp

pytestmark = pytest.mark.filterwarnings("ignore:overflow|invalid value|divide by zero:RuntimeWarning")


class Snapshots(Callback):
    """Keeps the model's state (weights and buffers) and optimizer state from before every batch."""

    def on_batch_begin(self, batch, logs=None):
        self.model_state = self.model.state_dict()
        self.optimizer_state = _optimizer_arrays(self.optimizer)
        self.where = (self.trainer.epoch, batch)


def _optimizer_arrays(optimizer):
    state = optimizer.state_dict()["state"]
    return {(i, k): np.array(v, copy=True) for i, entry in state.items() for k, v in entry.items()}


def _assert_unchanged(model, optimizer, snapshots):
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots.model_state[key], err_msg=key)
        assert np.all(np.isfinite(value))
    after = _optimizer_arrays(optimizer)
    assert after.keys() == snapshots.optimizer_state.keys()
    for key, value in after.items():
        np.testing.assert_array_equal(value, snapshots.optimizer_state[key])


def test_huge_learning_rate_raises_with_epoch_batch_and_causes():
    gen = np.random.default_rng(0)
    x = gen.standard_normal((256, 5)) * 1000.0  # unscaled inputs
    y = x @ gen.standard_normal(5)
    model = mlp([5, 16, 1], seed=0)
    snapshots = Snapshots()
    with pytest.raises(NonFiniteError) as caught:
        fit(model, x, y, loss="mse", optimizer="sgd", lr=1e3, epochs=5, batch_size=32, verbose=0,
            callbacks=[snapshots])
    error = caught.value
    assert isinstance(error, FloatingPointError)
    assert (error.epoch, error.batch) == snapshots.where
    message = str(error)
    assert f"epoch {error.epoch + 1}/5, batch {error.batch + 1}/8" in message
    assert "learning rate is too high" in message and "not scaled" in message
    assert error.quantity in ("loss", "gradient") and error.quantity in message
    _assert_unchanged(model, snapshots.trainer.optimizer, snapshots)


def test_inf_in_the_data_is_caught_at_its_batch_and_named():
    gen = np.random.default_rng(1)
    x = gen.standard_normal((100, 4))
    y = gen.integers(0, 3, size=100)
    x[57, 2] = np.inf
    model = mlp([4, 8, 3], seed=0, batchnorm=True)
    snapshots = Snapshots()
    with pytest.raises(NonFiniteError) as caught:
        fit(model, x, y, epochs=2, batch_size=10, shuffle=False, verbose=0, callbacks=[snapshots])
    error = caught.value
    assert (error.epoch, error.batch) == (0, 5)  # sample 57 is in the sixth batch of 10
    assert "epoch 1/2, batch 6/10" in str(error)
    assert "inputs contain NaN or inf" in str(error)
    # BatchNorm's running statistics, updated during the bad forward pass, are rolled back too
    _assert_unchanged(model, snapshots.trainer.optimizer, snapshots)


def test_nan_gradient_with_a_finite_loss_is_caught_before_the_step(blobs):
    x, y = blobs

    def sqrt_loss(output, target):
        # value sqrt(0) = 0 is finite, its gradient 1 / (2 sqrt(0)) * 0 is NaN
        zero = cr.mean((output - output.detach()) ** 2)
        return cr.cross_entropy(output, target) + cr.sqrt(zero)

    model = mlp([4, 3], seed=0)
    snapshots = Snapshots()
    with pytest.raises(NonFiniteError, match=r"non-finite gradient .* epoch 1/1, batch 1/8") as caught:
        fit(model, x, y, loss=sqrt_loss, epochs=1, verbose=0, callbacks=[snapshots])
    assert caught.value.quantity == "gradient"
    assert "0.weight" in str(caught.value)  # names the parameters whose gradient is not finite
    _assert_unchanged(model, snapshots.trainer.optimizer, snapshots)


def test_the_check_can_be_switched_off(blobs):
    x, y = blobs
    x = x.copy()
    x[3, 0] = np.nan
    history = fit(mlp([4, 3]), x, y, epochs=1, batch_size=240, check_finite=False, verbose=0)
    assert np.isnan(history.history["loss"][0])


def test_huge_but_finite_gradients_are_not_a_false_alarm(blobs):
    """The cheap check sums the gradients; an overflowing sum of finite values is re-checked exactly."""
    x, y = blobs
    model = mlp([4, 3], seed=0)

    def huge(output, target):
        return cr.sum(output) * 6e35

    # each bias gradient is 240 * 6e35 = 1.44e38 (finite float32); their sum, 4.3e38, is not
    history = fit(model, x * 0.01, y, loss=huge, optimizer="sgd", lr=0.0, epochs=1, batch_size=240, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(np.isfinite(p.grad).all() for p in model.parameters())
    assert np.isinf(np.float32(model[0].bias.grad.sum()))
