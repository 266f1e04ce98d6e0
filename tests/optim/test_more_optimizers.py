"""NAdam, RAdam, Adamax, Adadelta, LBFGS and ``maximize`` against PyTorch (float64, 20 steps)."""

import numpy as np
import pytest

from chainrule.optim import (
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, LBFGS, NAdam, RAdam, RMSprop,
)
from chainrule.tensor import Tensor

from ._helpers import continue_identically, run_both


@pytest.fixture
def torch64(torch):
    """PyTorch with float64 as its default dtype, so its scalar optimizer state (NAdam's mu_product,
    step counts) is float64 like ours."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


CASES = [
    (NAdam, "NAdam", dict(lr=0.01)),
    (NAdam, "NAdam", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.01)),
    (NAdam, "NAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    (RAdam, "RAdam", dict(lr=0.01)),
    (RAdam, "RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),  # rho_t > 5 from step 6 on
    (RAdam, "RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
    (Adamax, "Adamax", dict(lr=0.01)),
    (Adamax, "Adamax", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.2)),
    (Adadelta, "Adadelta", dict()),
    (Adadelta, "Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
]


def _ids(case):
    return case[1] + "-" + ",".join(f"{a}={b}" for a, b in case[2].items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch_over_20_steps(torch64, case):
    cls, name, kwargs = case
    run_both(torch64, cls, name, kwargs, steps=20)


@pytest.mark.parametrize("case", CASES[::3], ids=[_ids(c) for c in CASES[::3]])
def test_missing_gradients_and_groups_match_torch(torch64, case):
    cls, name, kwargs = case
    groups = [([0, 2], {"lr": 0.005}), ([1, 3], {})]
    run_both(torch64, cls, name, kwargs, steps=8, missing={(0, 3), (1, 3), (4, 0)}, groups=groups,
             lr_changes={3: [0.002, 0.01]})


@pytest.mark.parametrize("cls,name,kwargs", [
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    (Adam, "Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (AdamW, "AdamW", dict(lr=0.01)),
    (RMSprop, "RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    (Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.01)),
    (NAdam, "NAdam", dict(lr=0.01)),
    (RAdam, "RAdam", dict(lr=0.01)),
    (Adamax, "Adamax", dict(lr=0.01)),
    (Adadelta, "Adadelta", dict(weight_decay=0.1)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_maximize_matches_torch(torch64, cls, name, kwargs):
    run_both(torch64, cls, name, dict(kwargs, maximize=True), steps=10, missing={(2, 1)})


@pytest.mark.parametrize("make", [
    lambda ps: NAdam(ps, lr=0.01, weight_decay=0.1),
    lambda ps: RAdam(ps, lr=0.01),
    lambda ps: Adamax(ps, lr=0.01),
    lambda ps: Adadelta(ps, weight_decay=0.1),
], ids=["NAdam", "RAdam", "Adamax", "Adadelta"])
def test_state_dict_resumes_identically(make):
    continue_identically(make, steps_before=7, steps_after=4)


def test_float32_state_stays_float32():
    for cls in (NAdam, RAdam, Adamax, Adadelta):
        p = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
        opt = cls([p], weight_decay=0.1)
        for _ in range(7):
            p.grad = np.full((3, 2), 0.5, dtype=np.float32)
            opt.step()
        assert p.data.dtype == np.float32
        assert all(v.dtype == np.float32 for k, v in opt.state_dict()["state"][0].items() if k != "step")


def _rosenbrock_problem():
    """Data and start of a least-squares + Rosenbrock problem with curvature: x (2,), w (3, 2)."""
    gen = np.random.default_rng(0)
    a, b = gen.standard_normal((6, 2)), gen.standard_normal(6)
    return a, b, np.array([-1.2, 1.0]), gen.standard_normal((3, 2))


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_matches_torch(torch64, line_search_fn, history_size):
    torch = torch64
    a, b, x0, w0 = _rosenbrock_problem()
    x, w = Tensor(x0.copy(), requires_grad=True), Tensor(w0.copy(), requires_grad=True)
    tx, tw = torch.tensor(x0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    ta, tb = torch.tensor(a), torch.tensor(b)
    kwargs = dict(lr=0.5 if line_search_fn is None else 1.0, max_iter=7, history_size=history_size,
                  line_search_fn=line_search_fn)
    opt, topt = LBFGS([x, w], **kwargs), torch.optim.LBFGS([tx, tw], **kwargs)

    def closure():
        opt.zero_grad()
        loss = _loss_cr(a, b, x, w)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = _loss_torch(ta, tb, tx, tw)
        loss.backward()
        return loss

    for _ in range(4):
        ours, theirs = opt.step(closure), topt.step(tclosure)
        np.testing.assert_allclose(float(ours.item()), float(theirs.item()), rtol=1e-9)
        np.testing.assert_allclose(x.data, tx.detach().numpy(), rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-7, atol=1e-10)
    state = topt.state[topt._params[0]]
    assert opt._lbfgs["func_evals"] == state["func_evals"] and opt._lbfgs["n_iter"] == state["n_iter"]


def _loss_cr(a, b, x, w):
    r = Tensor(a) @ x - Tensor(b)
    x0, x1 = x[0], x[1]
    return (r * r).sum() + (1 - x0) ** 2 + 10 * (x1 - x0 * x0) ** 2 + (w * w * w * w).sum() * 0.1


def _loss_torch(a, b, x, w):
    r = a @ x - b
    return (r * r).sum() + (1 - x[0]) ** 2 + 10 * (x[1] - x[0] * x[0]) ** 2 + (w * w * w * w).sum() * 0.1


def test_lbfgs_state_dict_resumes_identically():
    a, b, x0, w0 = _rosenbrock_problem()

    def make():
        x, w = Tensor(x0.copy(), requires_grad=True), Tensor(w0.copy(), requires_grad=True)
        opt = LBFGS([x, w], max_iter=3, history_size=4, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = _loss_cr(a, b, x, w)
            loss.backward()
            return loss

        return opt, closure, (x, w)

    opt, closure, params = make()
    for _ in range(3):
        opt.step(closure)
    saved = opt.state_dict()
    opt2, closure2, params2 = make()
    for p, q in zip(params, params2):
        q.data[...] = p.data
    opt2.load_state_dict(saved)
    for _ in range(2):
        opt.step(closure)
        opt2.step(closure2)
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.data, q.data)


def test_lbfgs_arguments():
    p = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [p]}, {"params": [Tensor(np.ones(1), requires_grad=True)]}])
    with pytest.raises(TypeError, match="closure"):
        LBFGS([p]).step()


def test_argument_errors_name_the_value():
    p = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="betas"):
        NAdam([p], betas=(1.5, 0.9))
    with pytest.raises(ValueError, match="rho"):
        Adadelta([p], rho=2.0)
    with pytest.raises(ValueError, match="lr"):
        RAdam([p], lr=-1)
