"""Guards of the fast training path (issue 7): what a float32 training step may create, and that ``fit``
really takes the bulk flat-buffer path and the engine's chain shortcut. No timings here: speed lives in
benchmarks/.

Covered elsewhere, not repeated: memory does not grow over 1,000 steps and op results / gradients stay
float32 (tests/train/test_train_resources.py); ``import chainrule`` loads only NumPy and the standard
library (tests/test_tensor.py).
"""

import os
import sys

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.function import _chain, _depth_first_order, topological_order
from chainrule.ops.activation import relu
from chainrule.ops.linalg import linear
from chainrule.optim import SGD, Adam
from chainrule.tensor import Tensor
from chainrule.train import Trainer

PACKAGE = os.path.dirname(os.path.abspath(chainrule.__file__)) + os.sep


def _mlp(seed=0):
    """A small ReLU MLP with everything a training step can meet: Linear, BatchNorm, ReLU, Dropout."""
    return nn.Sequential(
        nn.Linear(12, 32, seed=seed), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2, seed=seed + 1),
        nn.Linear(32, 16, seed=seed + 2), nn.ReLU(), nn.Dropout(0.1, seed=seed + 3),
        nn.Linear(16, 3, seed=seed + 4),
    )


def _data(n=96, seed=0):
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((n, 12))  # float64, as most users' data: fit casts it once, up front
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


def _float64_values(value, depth=0):
    """The float64 ndarrays / NumPy float64 scalars inside ``value`` (arrays, Tensors, tuples, lists, dicts)."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (np.ndarray, np.floating)):
        return [value] if value.dtype == np.float64 else []
    if depth < 2 and isinstance(value, (tuple, list)):
        return [found for item in value for found in _float64_values(item, depth + 1)]
    if depth < 2 and isinstance(value, dict):
        return [found for item in value.values() for found in _float64_values(item, depth + 1)]
    return []


class _ArrayWatch:
    """Inspects, with ``sys.setprofile``, every local variable (closure cells included) and the return value
    of every chainrule function as it returns: a float64 array anywhere in the step's named intermediates,
    the op outputs, their saved tensors, gradients, optimizer temporaries or fit-loop values is recorded."""

    def __init__(self):
        self.leaks = []  # (function, file:line, what)
        self.functions = set()
        self.float32_seen = 0

    def __call__(self, frame, event, arg):
        if event != "return" or not frame.f_code.co_filename.startswith(PACKAGE):
            return
        code = frame.f_code
        self.functions.add(code.co_name)
        for name, value in list(frame.f_locals.items()) + [("<return value>", arg)]:
            if isinstance(value, np.ndarray) and value.dtype == np.float32:
                self.float32_seen += 1
            for leak in _float64_values(value):
                where = f"{os.path.relpath(code.co_filename, PACKAGE)}:{frame.f_lineno}"
                self.leaks.append((code.co_name, where, f"{name}: {type(leak).__name__} {np.shape(leak)}"))

    def watch(self, fn, *args, **kwargs):
        sys.setprofile(self)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(None)


def _watched_trainer(trainer, watch):
    """Run every ``train_step`` of ``trainer`` under ``watch`` (the data preparation of ``fit`` is not a step)."""
    step = trainer.train_step
    trainer.train_step = lambda *args, **kwargs: watch.watch(step, *args, **kwargs)
    return trainer


@pytest.mark.parametrize("case", ["adam", "sgd+clip+weights"])
def test_float32_training_step_creates_no_float64_array(case):
    x, y = _data()
    model = _mlp()
    kwargs = {}
    if case == "adam":
        trainer = Trainer(model, loss="cross_entropy", optimizer="adam", lr=1e-3, verbose=0)
    else:
        optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4, nesterov=True)
        trainer = Trainer(model, loss="cross_entropy", optimizer=optimizer, clip_grad_norm=1.0, verbose=0)
        kwargs["sample_weight"] = np.linspace(0.5, 1.5, len(y))  # float64 weights
    watch = _ArrayWatch()
    _watched_trainer(trainer, watch).fit(x, y, epochs=2, batch_size=32, seed=0, **kwargs)

    # the watch saw the whole step: forward ops, backward rules, the optimizer's update, the loop
    assert {"train_step", "linear", "batch_norm", "dropout", "relu", "cross_entropy", "backward", "_update"} <= (
        watch.functions), sorted(watch.functions)
    assert watch.float32_seen > 100
    assert watch.leaks == [], "\n".join(" ".join(leak) for leak in watch.leaks[:20])


def test_the_watch_catches_a_float64_leak(monkeypatch):
    """The guard above can fail: a dropout that draws float64 uniforms (the classic slip) is reported."""
    import chainrule.ops.dropout as dropout_module

    real = dropout_module.as_generator

    class Float64Uniforms:
        def __init__(self, rng):
            self.rng = rng

        def random(self, shape, dtype=None):  # ignores dtype, as rng.random(shape) without it would
            return self.rng.random(shape)

    monkeypatch.setattr(dropout_module, "as_generator", lambda seed: Float64Uniforms(real(seed)))
    x, y = _data()
    watch = _ArrayWatch()
    trainer = Trainer(_mlp(), loss="cross_entropy", optimizer="adam", verbose=0)
    _watched_trainer(trainer, watch).fit(x, y, epochs=1, batch_size=32, seed=0)
    assert any(function == "dropout" and "uniforms" in what for function, _, what in watch.leaks), watch.leaks[:5]


# ------------------------------------------------------------------- the bulk optimizer path
def test_fit_steps_the_whole_flat_buffer_and_backward_writes_into_it(monkeypatch):
    x, y = _data()
    model = _mlp()
    sizes = []
    original = Adam._update

    def counting_update(self, group, step, p, g, state, s1, s2):
        sizes.append(p.size)
        return original(self, group, step, p, g, state, s1, s2)

    monkeypatch.setattr(Adam, "_update", counting_update)
    trainer = Trainer(model, loss="cross_entropy", optimizer="adam", verbose=0)
    trainer.fit(x, y, epochs=1, batch_size=32, seed=0)
    [buffer] = trainer.optimizer.buffers
    total = sum(p.data.size for p in model.parameters())
    steps = len(trainer.loader)
    assert sizes == [total] * steps  # one update over every parameter at once, each step

    grads_before = [p.grad for p in model.parameters()]
    trainer.fit(x, y, epochs=1, batch_size=32, seed=1)
    for p, before in zip(model.parameters(), grads_before):
        assert p.grad is before  # zero_grad kept the view; backward added into it in place
        assert np.shares_memory(p.grad, buffer.grad) and np.shares_memory(p.data, buffer.data)
        assert p.grad.dtype == np.float32
    assert sizes == [total] * (2 * steps)


def test_finite_probe_covers_every_gradient_and_falls_back_without_flat_buffers():
    x, y = _data()
    model = _mlp()
    trainer = Trainer(model, loss="cross_entropy", optimizer="adam", verbose=0)
    trainer.fit(x, y, epochs=1, batch_size=32, seed=0)
    expected = sum(float(np.sum(np.asarray(p.grad, np.float64) ** 2)) for p in model.parameters())
    assert trainer._gradient_probe() == pytest.approx(expected, rel=1e-5)
    assert trainer._probe is not None  # the one-dot-per-buffer probe

    class PlainSGD:  # an optimizer without flat buffers
        def __init__(self, params):
            self.params = list(params)
            self.param_groups = [{"params": self.params, "lr": 0.01}]

        def zero_grad(self):
            for p in self.params:
                p.grad = None

        def step(self):
            for p in self.params:
                p.data -= 0.01 * p.grad

    other = _mlp(seed=5)
    plain = Trainer(other, loss="cross_entropy", optimizer=PlainSGD(other.parameters()), verbose=0)
    plain.fit(x, y, epochs=1, batch_size=32, seed=0)
    assert plain._probe is None
    assert plain._gradient_probe() == pytest.approx(sum(float(p.grad.sum()) for p in other.parameters()), rel=1e-5)


# ------------------------------------------------------------------------ the chain shortcut
def _mlp_graph(x, params):
    (w1, b1), (w2, b2) = params
    return linear(relu(linear(x, w1, b1)), w2, b2).sum()


def test_chain_shortcut_orders_a_feed_forward_graph_like_the_general_search(rng):
    params = [(Tensor(rng.standard_normal((n_out, n_in)), requires_grad=True),
               Tensor(rng.standard_normal(n_out), requires_grad=True)) for n_in, n_out in ((4, 5), (5, 3))]
    x = Tensor(rng.standard_normal((6, 4)))
    loss = _mlp_graph(x, params)
    chain = _chain(loss)
    assert chain is not None and len(chain) == 4
    assert topological_order(loss) == _depth_first_order((loss,)) == chain[::-1]

    loss.backward()
    fast = [np.array(p.grad) for pair in params for p in pair]
    for pair in params:
        for p in pair:
            p.grad = None
    # the same graph with one more path (a diamond): the general search, same gradients
    h = relu(linear(x, *params[0]))
    both = (linear(h, *params[1]).sum() + (h * 0.0).sum())
    assert _chain(both) is None
    both.backward()
    for p, expected in zip([p for pair in params for p in pair], fast):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-12)


def test_chain_shortcut_still_reports_a_freed_graph(rng):
    w = Tensor(rng.standard_normal((2, 2)), requires_grad=True)
    h = relu(linear(Tensor(rng.standard_normal((3, 2))), w))
    h.sum().backward()
    with pytest.raises(RuntimeError, match="already freed"):
        (h * 2.0).sum().backward()
