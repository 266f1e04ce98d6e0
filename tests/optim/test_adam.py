"""Adam and AdamW against PyTorch's update rules, and by hand."""

import numpy as np
import pytest

from chainrule.optim import Adam, AdamW
from chainrule.tensor import Tensor

from ._helpers import continue_identically, run_both

CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.05, amsgrad=True),
]


def _ids(kwargs):
    return ",".join(f"{a}={b}" for a, b in kwargs.items())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CONFIGS, ids=_ids)
def test_adam_matches_torch(torch, kwargs, dtype):
    run_both(torch, Adam, "Adam", kwargs, dtype=dtype, steps=8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3, amsgrad=True)], ids=_ids)
def test_adamw_matches_torch(torch, kwargs, dtype):
    run_both(torch, AdamW, "AdamW", kwargs, dtype=dtype, steps=8)


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name,cls", [("Adam", Adam), ("AdamW", AdamW)])
def test_missing_gradients_match_torch(torch, name, cls, set_to_none):
    # parameter 3 first gets a gradient at step 2: its step count (bias correction) lags the others
    missing = {(0, 3), (1, 3), (2, 1), (4, 0), (4, 2)}
    kwargs = dict(lr=0.01, weight_decay=0.1, amsgrad=True)
    run_both(torch, cls, name, kwargs, missing=missing, set_to_none=set_to_none, steps=7)


def test_param_groups_match_torch(torch):
    groups = [([0, 2], {"lr": 0.001, "betas": (0.8, 0.9)}), ([1], {"weight_decay": 0.2}), ([3], {"amsgrad": True})]
    run_both(torch, AdamW, "AdamW", dict(lr=0.03), groups=groups, lr_changes={2: [0.01, 0.02, 0.0]})


def test_first_step_by_hand():
    # step 1: m_hat = g, v_hat = g^2, so each coordinate moves by lr * sign(g) (eps aside)
    g = np.array([0.5, -3.0, 0.0])
    for cls, kwargs, expected in [
        (Adam, {}, [0.9, -0.9, 2.0]),
        (Adam, {"weight_decay": 0.5}, [0.9, -0.9, 1.9]),  # g + 0.5 p = [1.0, -3.5, 1.0]
        (AdamW, {"weight_decay": 0.5}, [0.85, -0.85, 1.9]),  # p *= 1 - 0.1 * 0.5 first
        (Adam, {"amsgrad": True}, [0.9, -0.9, 2.0]),
    ]:
        p = Tensor(np.array([1.0, -1.0, 2.0]), requires_grad=True)
        opt = cls([p], lr=0.1, **kwargs)
        p.grad = g.copy()
        opt.step()
        np.testing.assert_allclose(p.data, expected, atol=1e-7, err_msg=f"{cls.__name__} {kwargs}")
        np.testing.assert_array_equal(p.grad, g)  # the gradient itself is not modified by weight decay


def test_second_step_by_hand():
    p = Tensor(np.array([1.0]), requires_grad=True)
    opt = Adam([p], lr=0.1, betas=(0.5, 0.75), eps=0.0)
    p.grad = np.array([1.0])
    opt.step()  # p = 0.9
    p.grad = np.array([3.0])
    opt.step()
    m, v = 0.5 * 0.5 + 0.5 * 3.0, 0.75 * 0.25 + 0.25 * 9.0  # m = 1.75, v = 2.4375
    expected = 0.9 - 0.1 * (m / (1 - 0.5**2)) / np.sqrt(v / (1 - 0.75**2))
    np.testing.assert_allclose(p.data, [expected], rtol=1e-12)
    assert opt.state[p]["step"] == 2


def test_adamw_default_weight_decay():
    p = Tensor(np.ones(2), requires_grad=True)
    assert AdamW([p]).param_groups[0]["weight_decay"] == 0.01
    assert Adam([Tensor(np.ones(2), requires_grad=True)]).param_groups[0]["weight_decay"] == 0


@pytest.mark.parametrize("betas", [(1.0, 0.9), (0.9, -0.1), (0.9,)])
def test_bad_betas(betas):
    with pytest.raises(ValueError, match="betas"):
        Adam([Tensor(np.ones(2), requires_grad=True)], betas=betas)


@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_state_dict_resumes_exactly(cls):
    continue_identically(lambda ps: cls(ps, lr=0.01, weight_decay=0.01, amsgrad=True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,kwargs", [(Adam, CONFIGS[1]), (Adam, CONFIGS[4]), (AdamW, dict(lr=0.01, amsgrad=True))])
def test_compiled_update_agrees_with_numpy_path(monkeypatch, cls, kwargs, dtype):
    """The compiled Adam update (numba) and the NumPy path agree to rounding over 20 steps."""
    pytest.importorskip("numba")
    from chainrule.ops import compiled

    rng = np.random.default_rng(5)
    init = [rng.standard_normal(s).astype(dtype) for s in [(40, 30), (30,), (7,)]]
    grads = [[rng.standard_normal(a.shape).astype(dtype) for a in init] for _ in range(20)]
    finals = []
    for enabled in (True, False):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        params = [Tensor(a.copy(), requires_grad=True) for a in init]
        opt = cls(params, **kwargs)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = g.copy()
            opt.step()
        finals.append([p.data for p in params] + [opt.state[p]["exp_avg_sq"] for p in params])
    for a, b in zip(*finals):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=1e-12 if dtype == np.float64 else 2e-6, atol=1e-14 if dtype == np.float64 else 1e-7)
