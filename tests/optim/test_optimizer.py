"""The Optimizer base: flat-buffer layout, gradient handling, groups, state dicts, dtypes, errors."""

import json
import re
import tracemalloc

import numpy as np
import pytest

from chainrule.optim import (
    SGD, Adagrad, Adam, AdamW, FlatParams, RMSprop, flatten_state_dict, unflatten_state_dict,
)
from chainrule.tensor import Tensor

from ._helpers import SHAPES, backward_ours, make_arrays, make_params

ALL = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.01, weight_decay=0.01, amsgrad=True)),
    (AdamW, dict(lr=0.01, amsgrad=True)),
    (RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]
ALL_IDS = [cls.__name__ for cls, _ in ALL]


def _grads(params, seed=1):
    gen = np.random.default_rng(seed)
    return [gen.standard_normal(p.shape).astype(p.dtype) for p in params]


# ------------------------------------------------------------------ layout
def test_params_become_views_of_one_buffer():
    arrays = make_arrays(dtype=np.float32)
    params = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = Adam(params)
    (pack,) = opt.buffers
    assert isinstance(pack, FlatParams)
    assert pack.data.ndim == 1 and pack.data.size == sum(a.size for a in arrays)
    assert pack.data.flags.c_contiguous
    offset = 0
    for p, a in zip(params, arrays):
        assert p.data.base is pack.data
        assert p.shape == a.shape and p.dtype == np.float32
        np.testing.assert_array_equal(p.data, a)  # values copied in
        np.testing.assert_array_equal(pack.data[offset:offset + a.size], a.ravel())
        offset += a.size
    pack.data[:] = 7.0  # a write to the buffer is a write to every parameter
    assert all((p.data == 7.0).all() for p in params)
    assert set(pack.state) == {"exp_avg", "exp_avg_sq"}
    assert all(buf.shape == pack.data.shape for buf in pack.state.values())


def test_updates_are_visible_through_the_parameters_and_grads_become_views():
    params = make_params(dtype=np.float32)
    opt = SGD(params, lr=0.5)
    assert all(p.grad is None for p in params)  # no gradient invented before backward
    grads = _grads(params)
    backward_ours(params, grads, range(len(params)))  # the engine allocates the first gradients
    before = [p.data.copy() for p in params]
    opt.step()
    (pack,) = opt.buffers
    for p, b, g in zip(params, before, grads):
        assert p._grad.base is pack.grad  # moved into the flat gradient buffer
        np.testing.assert_allclose(p.data, b - 0.5 * g, rtol=1e-6)
        assert p.data.base is pack.data


def test_backward_accumulates_into_the_flat_buffer():
    params = make_params()
    opt = SGD(params, lr=0.1)
    grads = _grads(params)
    backward_ours(params, grads, range(len(params)))
    opt.step()
    opt.zero_grad(set_to_none=False)
    (pack,) = opt.buffers
    views = [p._grad for p in params]
    assert not pack.grad.any()
    backward_ours(params, grads, range(len(params)))
    backward_ours(params, grads, [0])  # a second backward adds in place
    for p, view, g in zip(params, views, grads):
        assert p._grad is view
    np.testing.assert_allclose(params[0].grad, 2 * grads[0])
    np.testing.assert_allclose(pack.grad[: grads[0].size], 2 * grads[0].ravel())


def test_zero_grad_keeps_views_or_sets_none():
    params = make_params()
    opt = Adam(params)
    for p, g in zip(params, _grads(params)):
        p.grad = g
    opt.step()
    views = [p._grad for p in params]
    opt.zero_grad(set_to_none=False)
    assert all(p._grad is v for p, v in zip(params, views))
    assert all(not v.any() for v in views)
    opt.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in params)


def test_zero_grad_leaves_missing_gradients_missing_and_rebinds_foreign_ones():
    params = make_params()
    opt = SGD(params, lr=0.1)
    params[0].grad = np.ones(params[0].shape)
    opt.zero_grad(set_to_none=False)
    assert params[0]._grad.base is opt.buffers[0].grad and not params[0]._grad.any()
    assert params[1].grad is None


def test_user_assigned_gradient_is_copied_into_the_view():
    params = make_params(dtype=np.float32)
    opt = SGD(params, lr=1.0)
    for p, g in zip(params, _grads(params)):
        p.grad = g
    opt.step()
    before = params[1].data.copy()
    mine = np.full(params[1].shape, 2.0, dtype=np.float64)  # another dtype, not a view
    params[1].grad = mine
    opt.step()
    assert params[1]._grad.base is opt.buffers[0].grad and params[1].grad.dtype == np.float32
    np.testing.assert_allclose(params[1].data, before - 2.0)


def test_wrong_gradient_shape_is_an_error():
    params = make_params()
    opt = SGD(params, lr=0.1)
    with pytest.raises(ValueError, match=r"grad: the assigned gradient has shape \(7,\)"):
        params[0].grad = np.ones(7)  # as PyTorch: refused at assignment


def test_rebinding_data_is_adopted_and_keeps_state():
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9)
    for p, g in zip(params, _grads(params)):
        p.grad = g
    opt.step()
    momentum = opt.state[params[0]]["momentum_buffer"].copy()
    new = np.full(params[0].shape, 3.0)
    params[0].data = new  # e.g. re-initialising a layer
    opt.step()
    (pack,) = opt.buffers
    assert params[0].data.base is pack.data
    np.testing.assert_allclose(params[0].data, 3.0 - 0.1 * (0.9 * momentum + params[0].grad))


def test_in_place_load_keeps_views():
    params = make_params(dtype=np.float32)
    opt = Adam(params)
    views = [p.data for p in params]
    for p in params:  # what Module.load_state_dict does
        p.data[...] = 1.5
    for p in params:
        p.grad = np.zeros(p.shape, np.float32)
    opt.step()
    assert all(p.data is v for p, v in zip(params, views))


@pytest.mark.parametrize("new", [np.zeros((4, 3)), np.zeros((3, 4), np.float32)], ids=["shape", "dtype"])
def test_rebinding_data_to_another_shape_or_dtype_is_an_error(new):
    params = make_params()
    opt = SGD(params, lr=0.1)
    params[0].grad = np.zeros((3, 4))
    params[0].data = new
    with pytest.raises(ValueError, match="parameter 0 was rebound"):
        opt.step()


# --------------------------------------------------------- gradient None
@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_parameter_without_gradient_is_not_touched(cls, kwargs):
    params = make_params()
    opt = cls(params, **kwargs)
    grads = _grads(params)
    for step in range(3):
        opt.zero_grad(set_to_none=True)
        backward_ours(params, grads, [0, 2, 3])
        frozen = params[1].data.copy()
        opt.step()
        np.testing.assert_array_equal(params[1].data, frozen)
    entry = opt.state[params[1]]
    assert entry["step"] == 0 and opt.state[params[0]]["step"] == 3
    assert all(not v.any() for k, v in entry.items() if k not in ("step", "sum"))


def test_frozen_parameter_in_the_middle_keeps_the_others_bulk_correct():
    # params 1 is frozen (requires_grad=False): never gets a gradient, weight decay must not shrink it
    params = make_params()
    params[1].requires_grad = False
    opt = AdamW(params, lr=0.1, weight_decay=0.5)
    ref = [Tensor(p.data.copy(), requires_grad=True) for p in params if p.requires_grad]
    ref_opt = AdamW(ref, lr=0.1, weight_decay=0.5)
    frozen = params[1].data.copy()
    gen = np.random.default_rng(3)
    for _ in range(4):
        grads = [gen.standard_normal(s) for s in SHAPES]
        opt.zero_grad()
        ref_opt.zero_grad()
        backward_ours(params, grads, [0, 2, 3])
        backward_ours(ref, [grads[0], grads[2], grads[3]], [0, 1, 2])
        opt.step()
        ref_opt.step()
    np.testing.assert_array_equal(params[1].data, frozen)
    for p, r in zip([params[0], params[2], params[3]], ref):
        np.testing.assert_allclose(p.data, r.data, rtol=1e-13)


@pytest.mark.parametrize("cls,calls_after_skip", [(SGD, 1), (RMSprop, 1), (Adam, 3), (Adagrad, 3)],
                         ids=["SGD", "RMSprop", "Adam", "Adagrad"])
def test_one_bulk_update_per_buffer_in_the_common_case(monkeypatch, cls, calls_after_skip):
    params = make_params()
    opt = cls(params, lr=0.1, **({"momentum": 0.9} if cls is SGD else {}))
    calls = []
    original = opt._update
    monkeypatch.setattr(opt, "_update", lambda *args: calls.append(args[2].size) or original(*args))
    total = opt.buffers[0].size
    for p in params:
        p.grad = np.ones(p.shape)
    opt.step()
    opt.step()
    assert calls == [total, total]  # whole buffer, once per step
    calls.clear()
    params[1].grad = None  # skipped: parameters 0 and 2-3 are updated as two stretches
    opt.step()
    assert calls == [params[0].numel(), params[2].numel() + params[3].numel()]
    calls.clear()
    params[1].grad = np.ones(params[1].shape)
    opt.step()
    # SGD (past its first step) and RMSprop do not depend on the step count: bulk again;
    # Adam's and Adagrad's bias correction / lr decay differ for parameter 1 from now on
    assert len(calls) == calls_after_skip and sum(calls) == total


# ------------------------------------------------------------------ dtype
@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_float32_stays_float32(cls, kwargs):
    params = make_params(dtype=np.float32)
    opt = cls(params, **kwargs)
    for step in range(3):
        opt.zero_grad()
        backward_ours(params, _grads(params, step), range(len(params)))
        opt.step()
    for pack in opt.buffers:
        for array in (pack.data, pack.grad, *pack.scratch, *pack.state.values()):
            assert array.dtype == np.float32
    for p in params:
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    for entry in opt.state_dict()["state"].values():
        for name, value in entry.items():
            assert name == "step" or value.dtype == np.float32


@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_step_allocates_no_arrays(cls, kwargs):
    # 400 KB of float32 parameters; one temporary of any dtype would show up as >= 400 KB
    gen = np.random.default_rng(0)
    params = [Tensor(gen.standard_normal((100, 999), dtype=np.float32), requires_grad=True),
              Tensor(gen.standard_normal(100, dtype=np.float32), requires_grad=True)]
    for p in params:
        p.grad = np.ones(p.shape, np.float32)
    opt = cls(params, **kwargs)
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        opt.zero_grad()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
        control = params[0].data * 2.0  # noqa: F841  (the measurement does see array temporaries)
        _, control_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert control_peak >= params[0].data.nbytes
    assert peak < 16_000, f"{cls.__name__}.step allocated {peak} bytes"


def test_mixed_dtypes_get_one_buffer_each():
    p32 = Tensor(np.ones(3, np.float32), requires_grad=True)
    p64 = Tensor(np.ones(2, np.float64), requires_grad=True)
    q32 = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    opt = Adam([p32, p64, q32], lr=0.1)
    assert [pack.dtype for pack in opt.buffers] == [np.float32, np.float64]
    assert p32.data.base is q32.data.base is opt.buffers[0].data
    for p in (p32, p64, q32):
        p.grad = np.ones(p.shape, p.dtype)
    opt.step()
    assert p32.dtype == q32.dtype == np.float32 and p64.dtype == np.float64
    np.testing.assert_allclose(p64.data, 0.9)
    np.testing.assert_allclose(q32.data, 0.9, rtol=1e-6)
    assert [e["step"] for e in opt.state_dict()["state"].values()] == [1, 1, 1]


# ----------------------------------------------------------------- groups
def test_param_groups_fill_defaults_and_lr_changes_take_effect():
    a, b = make_params(shapes=[(2,), (3,)])
    opt = SGD([{"params": [a], "lr": 0.5}, {"params": [b], "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.9
    start_a = a.data.copy()
    a.grad = np.ones(2)
    b.grad = np.ones(3)
    opt.param_groups[0]["lr"] = 0.25
    opt.step()
    np.testing.assert_allclose(a.data, start_a - 0.25)


def test_add_param_group():
    a, b = make_params(shapes=[(2,), (3,)])
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert b.data.base is opt.buffers[1].data
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    b.grad = np.ones(3)
    before = b.data.copy()
    opt.step()
    np.testing.assert_allclose(b.data, before - 0.01, rtol=1e-6)


def test_closure_returns_loss():
    (p,) = make_params(shapes=[(2,)])
    opt = SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        p.grad = np.ones(2)
        return 42.0

    assert opt.step(closure) == 42.0


def test_repr_and_state_view():
    (p,) = make_params(shapes=[(2,)])
    opt = Adam([p], lr=0.1)
    text = repr(opt)
    assert text.startswith("Adam (") and "lr: 0.1" in text and "betas: (0.9, 0.999)" in text
    opt.state[p]["exp_avg"][...] = 5.0  # views: writes reach the optimizer state
    assert (opt.buffers[0].state["exp_avg"] == 5.0).all()


# ------------------------------------------------------------- state dict
@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_state_dict_round_trip_through_json_and_flat_arrays(cls, kwargs):
    params = make_params(dtype=np.float32)
    opt = cls([{"params": params[:2], "lr": 0.003}, {"params": params[2:]}], **kwargs)
    gen = np.random.default_rng(5)
    for _ in range(3):
        for p in params:
            p.grad = gen.standard_normal(p.shape).astype(np.float32)
        opt.step()
    params[0].grad = None  # parameter 0 lags one step behind
    params[1].grad = gen.standard_normal(params[1].shape).astype(np.float32)
    opt.step()

    arrays, meta = flatten_state_dict(opt.state_dict())
    meta = json.loads(json.dumps(meta))  # JSON-safe: no objects, tuples or NumPy scalars
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    restored = unflatten_state_dict(arrays, meta)

    clones = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    opt2 = cls([{"params": clones[:2]}, {"params": clones[2:]}], **{**kwargs, "lr": 123.0})
    opt2.load_state_dict(restored)
    assert opt2.param_groups[0]["lr"] == 0.003 and opt2.param_groups[1]["lr"] == kwargs["lr"]
    assert [e["step"] for e in opt2.state_dict()["state"].values()] == [3, 4, 4, 4]
    for _ in range(3):
        for p, q in zip(params, clones):
            p.grad = gen.standard_normal(p.shape).astype(np.float32)
            q.grad = p.grad.clone()
        opt.step()
        opt2.step()
        for p, q in zip(params, clones):
            np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_copy():
    params = make_params()
    opt = Adam(params)
    for p in params:
        p.grad = np.ones(p.shape)
    opt.step()
    saved = opt.state_dict()
    opt.step()
    assert saved["state"][0]["step"] == 1
    assert not np.shares_memory(saved["state"][0]["exp_avg"], opt.buffers[0].state["exp_avg"])
    assert saved["param_groups"][0]["betas"] == [0.9, 0.999] and saved["param_groups"][0]["params"] == [0, 1, 2, 3]


def test_state_dict_accepts_string_keys_and_missing_entries():
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9)
    for p in params:
        p.grad = np.ones(p.shape)
    opt.step()
    saved = opt.state_dict()
    saved["state"] = {str(k): v for k, v in saved["state"].items() if k != 2}
    opt.load_state_dict(saved)
    assert opt.state[params[2]]["step"] == 0 and not opt.state[params[2]]["momentum_buffer"].any()
    assert opt.state[params[0]]["step"] == 1


def test_load_state_dict_mismatch_errors():
    params = make_params()
    saved = SGD(params, lr=0.1).state_dict()
    with pytest.raises(ValueError, match="1 parameter groups"):
        SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="4 parameters"):
        SGD(make_params()[:3], lr=0.1).load_state_dict(saved)
    opt = Adam(params)
    bad = opt.state_dict()
    bad["state"][0]["exp_avg"] = np.zeros(5)
    with pytest.raises(ValueError, match="exp_avg.*shape"):
        opt.load_state_dict(bad)


# ----------------------------------------------------------------- errors
def test_bad_params_errors():
    t = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="iterable"):
        SGD(t, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors.*ndarray"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        SGD([t, t], lr=0.1)
    with pytest.raises(TypeError, match="dtype int64"):
        SGD([Tensor(np.arange(3))], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([t * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        SGD([{"params": {t}}], lr=0.1)
    with pytest.raises(TypeError, match="mixes"):
        SGD([t, {"params": [Tensor(np.ones(2))]}], lr=0.1)


@pytest.mark.parametrize("cls,key,value", [
    (SGD, "lr", -0.1), (SGD, "momentum", -1), (Adam, "eps", -1e-8), (Adam, "weight_decay", -1),
    (RMSprop, "alpha", -0.5), (Adagrad, "lr_decay", -1), (AdamW, "lr", "fast"),
    (SGD, "lr", float("nan")), (Adam, "lr", float("inf")), (RMSprop, "momentum", float("nan")),
    (Adagrad, "eps", float("inf")), (AdamW, "weight_decay", float("nan")), (Adam, "lr", True),
])
def test_bad_hyper_parameters(cls, key, value):
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}: {key} must be a finite number >= 0, "
                                                   f"got {value!r}")):
        cls([Tensor(np.ones(2), requires_grad=True)], **{key: value})


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_absurd_learning_rate_is_refused_and_the_limit_is_accepted(cls):
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}: lr must be in [0, 1000], got 1000000.0")):
        cls([Tensor(np.ones(2), requires_grad=True)], lr=1e6)
    cls([Tensor(np.ones(2), requires_grad=True)], lr=1e3)
    cls([Tensor(np.ones(2), requires_grad=True)], lr=0.0)  # as PyTorch: a schedule may start at 0


@pytest.mark.parametrize("betas", [(0.9, float("nan")), (0.9, 1.0), (0.9,), 0.9, ("a", "b")])
def test_bad_betas(betas):
    with pytest.raises(ValueError, match="Adam: betas must be two numbers in"):
        Adam([Tensor(np.ones(2), requires_grad=True)], betas=betas)


def test_parameters_sharing_memory_are_refused():
    shared = np.ones((4, 4))
    a, b = Tensor(shared, requires_grad=True), Tensor(shared.T, requires_grad=True)
    with pytest.raises(ValueError, match="share memory"):
        Adam([a, b])


def test_state_dict_through_a_safetensors_file(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    params = make_params(dtype=np.float32)
    opt = Adam(params, lr=0.01, amsgrad=True)
    for p in params:
        p.grad = np.ones(p.shape, np.float32)
    opt.step()
    arrays, meta = flatten_state_dict(opt.state_dict())
    path = tmp_path / "optimizer.safetensors"
    st.save_file(arrays, str(path), metadata={"optimizer": json.dumps(meta)})
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta_back = json.loads(f.metadata()["optimizer"])
    restored = unflatten_state_dict(st.load_file(str(path)), meta_back)
    opt2 = Adam([Tensor(p.data.copy(), requires_grad=True) for p in params])
    opt2.load_state_dict(restored)
    assert opt2.param_groups[0]["amsgrad"] is True and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for a, b in zip(opt.state_dict()["state"].values(), opt2.state_dict()["state"].values()):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
