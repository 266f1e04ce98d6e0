"""RMSprop against PyTorch's update rule, and by hand."""

import math

import numpy as np
import pytest

from chainrule.optim import RMSprop
from chainrule.tensor import Tensor

from ._helpers import continue_identically, run_both

CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True),
    dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.05),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CONFIGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_matches_torch(torch, kwargs, dtype):
    run_both(torch, RMSprop, "RMSprop", kwargs, dtype=dtype, steps=8)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_missing_gradients_and_groups_match_torch(torch, set_to_none):
    missing = {(0, 0), (1, 2), (3, 0), (3, 1)}
    groups = [([0, 1], {"lr": 0.02, "centered": True}), ([2, 3], {"momentum": 0.9})]
    run_both(torch, RMSprop, "RMSprop", dict(lr=0.01, weight_decay=0.1), groups=groups, missing=missing,
             set_to_none=set_to_none, steps=6)


def test_first_step_by_hand():
    p = Tensor(np.array([1.0]), requires_grad=True)
    opt = RMSprop([p], lr=0.01, alpha=0.99, eps=0.0)
    p.grad = np.array([2.0])
    opt.step()
    # square_avg = 0.01 * 4 = 0.04; p -= 0.01 * 2 / sqrt(0.04) = 0.1
    np.testing.assert_allclose(p.data, [0.9], rtol=1e-12)

    q = Tensor(np.array([1.0]), requires_grad=True)
    opt = RMSprop([q], lr=0.01, alpha=0.99, eps=0.0, centered=True)
    q.grad = np.array([2.0])
    opt.step()
    # grad_avg = 0.02; denominator sqrt(0.04 - 0.02^2)
    np.testing.assert_allclose(q.data, [1.0 - 0.01 * 2.0 / math.sqrt(0.0396)], rtol=1e-12)


def test_state_dict_resumes_exactly():
    continue_identically(lambda ps: RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01))
