"""Learning over long sequences: an LSTM carries a token across 50 steps, a plain tanh RNN cannot;
and the per-step gradient norms show why (they vanish toward early steps in the RNN)."""

import contextlib

import numpy as np
import pytest

from chainrule import no_grad
from chainrule.diagnostics import GradientHealth
from chainrule.nn import LSTM, RNN, Linear, Module, last_step
from chainrule.ops.loss import cross_entropy
from chainrule.optim import Adam

T, VOCAB = 50, 6


def _single_thread():
    """BLAS threads only contend on these tiny matrices (and with a parallel test run)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1)


def first_token_task(n, seed):
    """Class = the token at step 0 (0 or 1); steps 1..49 are random distractor tokens 2..5 (one-hot)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    tokens = rng.integers(2, VOCAB, (n, T))
    tokens[:, 0] = y
    return np.eye(VOCAB, dtype=np.float32)[tokens], y


class Classifier(Module):
    def __init__(self, recurrent, hidden, seed):
        super().__init__()
        self.recurrent = recurrent
        self.head = Linear(hidden, 2, seed=seed)

    def forward(self, x):
        output, _ = self.recurrent(x)
        return self.head(last_step(output, batch_first=True))


def _train(model, steps, lr=0.003, batch=32, seed=0):
    x, y = first_token_task(2000, seed=1)
    x_test, y_test = first_token_task(400, seed=2)
    optimizer = Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    with _single_thread():
        for _ in range(steps):
            index = rng.integers(0, len(x), batch)
            loss = cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with no_grad():
            return float((model(x_test).data.argmax(axis=1) == y_test).mean())


def test_lstm_learns_long_range_dependency_that_rnn_does_not():
    # Same hidden size, optimiser, data and number of updates for both. The LSTM starts with its
    # forget gates open (forget_bias=3, see LSTM's docstring) so the first token's trace and its
    # gradient survive 50 steps; the tanh RNN's gradient to step 0 is a product of 49 Jacobians.
    lstm = Classifier(LSTM(VOCAB, 32, batch_first=True, forget_bias=3.0, seed=0), 32, seed=1)
    rnn = Classifier(RNN(VOCAB, 32, batch_first=True, seed=0), 32, seed=1)
    lstm_accuracy = _train(lstm, steps=250)
    rnn_accuracy = _train(rnn, steps=250)
    assert lstm_accuracy >= 0.9, f"LSTM accuracy {lstm_accuracy:.3f}"
    assert rnn_accuracy <= 0.62, f"tanh RNN accuracy {rnn_accuracy:.3f} is not close to chance (0.5)"


def test_gradient_vanishes_toward_early_steps_in_tanh_rnn():
    model = Classifier(RNN(VOCAB, 32, batch_first=True, seed=0), 32, seed=1)
    health = GradientHealth(model)
    x, y = first_token_task(64, seed=3)
    with health.record():
        cross_entropy(model(x), y).backward()
    norms = health.step_norms("recurrent", "l0")  # one per time step, t = 0..49
    assert norms.shape == (T,)
    assert norms[0] < 1e-3 * norms[-1]  # the gradient reaching step 0 is negligible
    assert np.all(np.diff(np.log(norms[:40])) > 0)  # and it shrinks step after step going back
    layer_norms = health.layer_norms()
    assert set(layer_norms) == {"recurrent.l0", "head"} and all(v > 0 for v in layer_norms.values())


def test_gradient_persists_in_lstm_with_open_forget_gates():
    model = Classifier(LSTM(VOCAB, 32, batch_first=True, forget_bias=3.0, seed=0), 32, seed=1)
    health = GradientHealth(model)
    x, y = first_token_task(64, seed=3)
    with health.record():
        cross_entropy(model(x), y).backward()
    norms = health.step_norms("recurrent", "l0")
    assert norms[0] > 1e-2 * norms[-1]


def test_gradient_health_plot_and_fit_callback(tmp_path):
    pytest.importorskip("matplotlib")
    from chainrule.nn import GRU
    from chainrule.train import fit

    model = Classifier(GRU(VOCAB, 8, num_layers=2, batch_first=True, seed=0), 8, seed=1)
    health = GradientHealth(model)
    x, y = first_token_task(40, seed=4)
    fit(model, x[:, :12], y, epochs=1, batch_size=20, verbose=0, callbacks=[health.callback()], seed=0)
    assert len(health.history) == 2  # one collection per batch
    assert set(health.history[0]) == {"recurrent.l0", "recurrent.l1", "head"}
    assert health.step_norms("recurrent", "l1").shape == (12,)
    assert len(health.sweeps[("recurrent", "l0")]) == 2
    assert model.recurrent.gradient_recorder is None  # detached after training
    assert "recurrent.l0" in health.summary()
    figure = health.plot(tmp_path / "gradients.png")
    assert (tmp_path / "gradients.png").stat().st_size > 0 and len(figure.axes) == 2
    with pytest.raises(KeyError, match=r"no step norms for \('recurrent', 'l2'\)"):
        health.step_norms("recurrent", "l2")
