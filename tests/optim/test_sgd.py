"""SGD against PyTorch's update rule, and by hand."""

import numpy as np
import pytest

from chainrule.optim import SGD
from chainrule.tensor import Tensor

from ._helpers import continue_identically, run_both

CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, weight_decay=0.05),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CONFIGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_matches_torch(torch, kwargs, dtype):
    run_both(torch, SGD, "SGD", kwargs, dtype=dtype)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_missing_gradients_match_torch(torch, set_to_none):
    # parameter 1 has no gradient in steps 0 and 2, parameters 0 and 2 none in step 3, none at all in step 4
    missing = {(0, 1), (2, 1), (3, 0), (3, 2), (4, 0), (4, 1), (4, 2), (4, 3)}
    kwargs = dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1)
    run_both(torch, SGD, "SGD", kwargs, missing=missing, set_to_none=set_to_none, steps=7)


def test_param_groups_and_lr_changes_match_torch(torch):
    groups = [([0, 1], {"lr": 0.01}), ([2, 3], {"lr": 0.2, "momentum": 0.5, "nesterov": True})]
    run_both(torch, SGD, "SGD", dict(lr=0.1, momentum=0.9), groups=groups, lr_changes={3: [0.001, 0.05]})


def test_two_steps_by_hand():
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    p.grad = np.array([0.5, 0.25])
    opt.step()
    # d = g + 0.1 p = [0.6, 0.05]; buffer = d; p -= 0.1 d
    np.testing.assert_allclose(p.data, [0.94, -2.005], rtol=1e-12)
    p.grad = np.array([0.5, 0.25])
    opt.step()
    # d = [0.594, 0.0495]; buffer = 0.9 [0.6, 0.05] + d = [1.134, 0.0945]; p -= 0.1 buffer
    np.testing.assert_allclose(p.data, [0.8266, -2.01445], rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.134, 0.0945], rtol=1e-12)


def test_plain_step_by_hand_float32():
    p = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    SGD([p], lr=0.5).step()  # no gradient yet: nothing moves
    np.testing.assert_array_equal(p.data, [1.0, 2.0])
    opt = SGD([p], lr=0.5)
    p.grad = np.array([1.0, -4.0], dtype=np.float32)
    opt.step()
    assert p.data.dtype == np.float32
    np.testing.assert_array_equal(p.data, np.array([0.5, 4.0], dtype=np.float32))


def test_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


def test_state_dict_resumes_exactly():
    continue_identically(lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3))
