"""Adagrad against PyTorch's update rule, and by hand."""

import math

import numpy as np
import pytest

from chainrule.optim import Adagrad
from chainrule.tensor import Tensor

from ._helpers import continue_identically, run_both

CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
    dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-6),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CONFIGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_matches_torch(torch, kwargs, dtype):
    run_both(torch, Adagrad, "Adagrad", kwargs, dtype=dtype, steps=8)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_missing_gradients_and_groups_match_torch(torch, set_to_none):
    # lr_decay depends on each parameter's own step count, which lags where gradients were missing
    missing = {(0, 0), (1, 0), (2, 3), (3, 1)}
    groups = [([0, 3], {"lr": 0.05}), ([1, 2], {"lr_decay": 0.1})]
    run_both(torch, Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.02, weight_decay=0.05), groups=groups,
             missing=missing, set_to_none=set_to_none)


def test_two_steps_by_hand():
    p = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = Adagrad([p], lr=0.1, lr_decay=0.5, initial_accumulator_value=16.0, eps=0.0)
    p.grad = np.array([3.0, 0.0])
    opt.step()
    # sum = 16 + 9 = 25: p -= 0.1 * 3 / 5; a zero gradient does not move p
    np.testing.assert_allclose(p.data, [0.94, 2.0], rtol=1e-12)
    opt.step()
    # sum = 34, lr / (1 + 1 * 0.5)
    np.testing.assert_allclose(p.data, [0.94 - 0.1 / 1.5 * 3 / math.sqrt(34.0), 2.0], rtol=1e-12)


def test_initial_accumulator_fills_state():
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = Adagrad([p], initial_accumulator_value=0.25)
    np.testing.assert_array_equal(opt.state[p]["sum"], np.full(3, 0.25, np.float32))


def test_state_dict_resumes_exactly():
    continue_identically(lambda ps: Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1))
