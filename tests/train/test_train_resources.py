"""Tests of what a training step of chainrule/train/fit.py allocates: no float64 in a float32 model,
and no memory growth over many steps (each step's graph is freed)."""

import gc
import importlib
import pkgutil
import tracemalloc

import numpy as np

from chainrule.tensor import Tensor
from chainrule.train import Callback, fit
from conftest import mlp


def _op_modules():
    """chainrule.tensor and every chainrule.ops / chainrule.nn module: where op results are made."""
    modules = [importlib.import_module("chainrule.tensor")]
    for package_name in ("chainrule.ops", "chainrule.nn"):
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            modules.append(importlib.import_module(f"{package_name}.{info.name}"))
    return modules


def test_float32_training_creates_no_float64_arrays(blobs, monkeypatch):
    x, y = blobs  # float64 features: fit casts them once, up front
    dtypes = set()
    tensor_module = importlib.import_module("chainrule.tensor")  # (chainrule.tensor is also a function)
    original = tensor_module.result

    def recording_result(data, parents, backward, op, *double):
        dtypes.add(np.asarray(data).dtype)

        def recording_backward(g):
            grads = backward(g)
            dtypes.update(np.asarray(grad).dtype for grad in grads if grad is not None)
            return grads

        return original(data, parents, recording_backward, op)

    for module in _op_modules():
        if getattr(module, "result", None) is original:
            monkeypatch.setattr(module, "result", recording_result)

    model = mlp([4, 16, 3], seed=0, dropout=0.2, batchnorm=True)
    weights = np.linspace(0.5, 1.5, len(y))  # float64 weights too
    history = fit(model, x, y, epochs=2, batch_size=32, metrics=["accuracy"], validation_split=0.25,
                  sample_weight=weights, clip_grad_norm=1.0, verbose=0)
    assert len(history.epoch) == 2
    assert np.dtype(np.float32) in dtypes
    assert np.dtype(np.float64) not in dtypes, dtypes

    for name, param in model.named_parameters():
        assert param.data.dtype == np.float32, name
        assert param.grad is not None and param.grad.dtype == np.float32, name
    for name, buffer in model.named_buffers():
        assert buffer.dtype in (np.float32, np.int64), name


def test_optimizer_state_stays_float32(blobs):
    x, y = blobs
    holder = {}

    class Grab(Callback):
        def on_train_end(self, logs=None):
            holder["state"] = self.optimizer.state_dict()["state"]

    fit(mlp([4, 8, 3], seed=0), x, y, epochs=1, optimizer="adamw", callbacks=[Grab()], verbose=0)
    arrays = [value for entry in holder["state"].values() for value in entry.values() if hasattr(value, "dtype")
              and np.ndim(value) > 0]
    assert arrays and all(array.dtype == np.float32 for array in arrays)


def _live_objects():
    """(live Tensors, all objects the garbage collector tracks) after a full collection."""
    gc.collect()
    objects = gc.get_objects()
    # type(), not isinstance(): isinstance reads obj.__class__, which on some of torch's deprecated objects
    # (when another test imported torch) emits a FutureWarning
    return sum(1 for obj in objects if issubclass(type(obj), Tensor)), len(objects)


def test_memory_does_not_grow_over_1000_steps():
    """Live Tensors and tracked objects are the same after 100 and after 1,000 steps (each step's graph is
    freed), and traced allocations do not grow between steps 200 and 400."""
    gen = np.random.default_rng(0)
    x = gen.standard_normal((500, 8)).astype(np.float32)
    y = gen.integers(0, 3, size=500)
    counts, memory = {}, {}

    class Probe(Callback):
        step = 0

        def on_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step in (100, 1000):
                counts[self.step] = _live_objects()
            if self.step == 100:
                tracemalloc.start()
            elif self.step in (200, 400):
                gc.collect()
                memory[self.step] = tracemalloc.get_traced_memory()[0]
                if self.step == 400:
                    tracemalloc.stop()

    model = mlp([8, 32, 3], seed=0, dropout=0.1, batchnorm=True)
    try:
        fit(model, x, y, epochs=20, batch_size=10, metrics=["accuracy"], callbacks=[Probe()], verbose=0)
    finally:
        tracemalloc.stop()
    assert counts[1000][0] == counts[100][0]  # live Tensors: parameters only, no leftover graph
    assert counts[1000][1] - counts[100][1] < 50, counts  # a few per epoch (history) at most
    assert memory[400] - memory[200] < 20_000, memory  # bytes
