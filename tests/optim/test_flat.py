"""chainrule.optim._flat: copying and pickling a model with its optimizer keeps the flat-buffer layout."""

import copy
import pickle

import numpy as np
import pytest

from chainrule import nn
from chainrule.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from chainrule.tensor import Tensor

OPTIMIZERS = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01)),
]
IDS = [cls.__name__ for cls, _ in OPTIMIZERS]

COPIERS = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
}

X = np.random.default_rng(0).standard_normal((6, 3))


def _model(dtype=np.float32):
    return nn.Sequential(nn.Linear(3, 5, seed=0, dtype=dtype), nn.Tanh(), nn.Linear(5, 2, seed=1, dtype=dtype))


def _train_step(model, optimizer, step, set_to_none=False):
    """One step on a loss whose upstream gradient differs per element and per step."""
    optimizer.zero_grad(set_to_none=set_to_none)
    out = model(Tensor(X.astype(model[0].weight.data.dtype)))
    weight = np.linspace(-1.0, 2.0, out.data.size).reshape(out.shape).astype(out.data.dtype) * (step + 1)
    (out * out * Tensor(weight)).sum().backward()
    optimizer.step()


def _assert_bound(model, optimizer):
    """Every parameter's data (and gradient, when it has one) is a view of its optimizer's flat buffers."""
    owners = {id(p): pack for pack in optimizer.buffers for p in pack.params}
    for p in model.parameters():
        pack = owners[id(p)]
        assert np.shares_memory(p.data, pack.data)
        if p.grad is not None:
            assert np.shares_memory(p.grad, pack.grad)


@pytest.mark.parametrize("how", list(COPIERS))
@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=IDS)
def test_copied_model_and_optimizer_train_exactly_like_the_original(cls, kwargs, how):
    model = _model()
    optimizer = cls(model.parameters(), **kwargs)
    for t in range(2):
        _train_step(model, optimizer, t)
    model2, optimizer2 = COPIERS[how]((model, optimizer))
    _assert_bound(model2, optimizer2)
    for t in range(2, 5):
        _train_step(model, optimizer, t)
        _train_step(model2, optimizer2, t)
        for p, q in zip(model.parameters(), model2.parameters()):
            assert not np.shares_memory(p.data, q.data)
            np.testing.assert_array_equal(q.data, p.data)
    for a, b in zip(optimizer.state_dict()["state"].values(), optimizer2.state_dict()["state"].values()):
        assert a["step"] == b["step"] == 5
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("how", list(COPIERS))
def test_copy_keeps_missing_gradients_missing_and_mixed_dtypes_apart(how):
    single, double = nn.Linear(3, 4, seed=0), nn.Linear(3, 2, seed=1, dtype=np.float64)
    spare = Tensor(np.ones(3, np.float32), requires_grad=True)  # never reached by the loss
    optimizer = Adam([*single.parameters(), *double.parameters(), spare], lr=0.01)

    def step(single, double, optimizer, spare):
        optimizer.zero_grad(set_to_none=True)
        a, b = single(Tensor(X.astype(np.float32))), double(Tensor(X))
        ((a * a).sum() + (b * b * b).sum()).backward()
        optimizer.step()
        assert spare.grad is None

    step(single, double, optimizer, spare)
    copies = COPIERS[how]((single, double, optimizer, spare))
    assert len(copies[2].buffers) == 2
    step(single, double, optimizer, spare)
    step(*copies)
    for p, q in zip([*single.parameters(), *double.parameters(), spare],
                    [*copies[0].parameters(), *copies[1].parameters(), copies[3]]):
        assert q.data.dtype == p.data.dtype
        np.testing.assert_array_equal(q.data, p.data)


@pytest.mark.parametrize("how", list(COPIERS))
def test_copying_the_model_alone_gives_parameters_of_their_own(how):
    model = _model()
    optimizer = Adam(model.parameters(), lr=0.01)
    _train_step(model, optimizer, 0)
    copied = COPIERS[how](model)
    before = [p.data.copy() for p in copied.parameters()]
    _train_step(model, optimizer, 1)  # the original trains on; the copy must not move
    for p, q, b in zip(model.parameters(), copied.parameters(), before):
        assert not np.shares_memory(p.data, q.data)
        np.testing.assert_array_equal(q.data, b)
    own = Adam(copied.parameters(), lr=0.01)  # and the copy trains with an optimizer of its own
    _train_step(copied, own, 1)
    assert not all(np.array_equal(q.data, b) for q, b in zip(copied.parameters(), before))


def test_deepcopied_optimizer_alone_owns_copies_of_the_parameters():
    # documented behaviour (as torch.optim): deepcopy copies what the optimizer holds, parameters included;
    # the model keeps training with the original optimizer, untouched by the copy's steps
    model = _model()
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train_step(model, optimizer, 0)
    clone = copy.deepcopy(optimizer)
    model_params = {id(p) for p in model.parameters()}
    assert not any(id(p) in model_params for group in clone.param_groups for p in group["params"])
    before = [p.data.copy() for p in model.parameters()]
    for p in (p for group in clone.param_groups for p in group["params"]):
        p.grad[...] = 1.0
    clone.step()
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
    moved = [p for group in clone.param_groups for p in group["params"]]
    assert not np.array_equal(moved[0].data, before[0])
    assert np.shares_memory(moved[0].data, clone.buffers[0].data)
