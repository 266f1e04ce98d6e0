"""Helpers shared by the optimizer tests: run a chainrule optimizer and PyTorch's side by side."""

import numpy as np

from chainrule.ops.elementwise import add, mul
from chainrule.ops.reduce import sum as cr_sum
from chainrule.tensor import Tensor

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]
STATE_NAMES = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg", "grad_avg", "sum")


def tolerances(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)


def make_arrays(shapes=SHAPES, seed=0, dtype=np.float64, scale=1.0):
    gen = np.random.default_rng(seed)
    return [(scale * gen.standard_normal(s)).astype(dtype) for s in shapes]


def make_params(shapes=SHAPES, seed=0, dtype=np.float64):
    return [Tensor(a, requires_grad=True) for a in make_arrays(shapes, seed, dtype)]


def backward_ours(params, grads, used):
    """Backpropagate loss = sum_i sum(p_i * G_i) through the engine, so d loss / d p_i = G_i."""
    loss = None
    for i in used:
        term = cr_sum(mul(params[i], Tensor(grads[i])))
        loss = term if loss is None else add(loss, term)
    if loss is not None:
        loss.backward()


def backward_torch(torch, params, grads, used):
    if used:
        sum((params[i] * torch.from_numpy(grads[i])).sum() for i in used).backward()


def _spec(params, groups):
    if groups is None:
        return params
    return [{"params": [params[i] for i in idx], **overrides} for idx, overrides in groups]


def run_both(torch, ours_cls, torch_name, kwargs, *, dtype=np.float64, steps=6, groups=None, missing=(),
             set_to_none=True, seed=0, shapes=SHAPES, lr_changes=None):
    """Train both optimizers ``steps`` steps on the same parameters and gradients; check the
    parameters after every step and the state at the end.

    ``missing``: (step, param index) pairs whose gradient the loss does not produce.
    ``lr_changes``: {step: [lr per group]} set into param_groups before that step.
    """
    init = make_arrays(shapes, seed, dtype)
    ours = [Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = ours_cls(_spec(ours, groups), **kwargs)
    topt = getattr(torch.optim, torch_name)(_spec(theirs, groups), **kwargs)
    gen = np.random.default_rng(seed + 100)
    tol = tolerances(dtype)
    for t in range(steps):
        grads = [gen.standard_normal(s).astype(dtype) * (1 + i) for i, s in enumerate(shapes)]
        used = [i for i in range(len(shapes)) if (t, i) not in missing]
        if lr_changes and t in lr_changes:
            for g, tg, lr in zip(opt.param_groups, topt.param_groups, lr_changes[t]):
                g["lr"] = tg["lr"] = lr
        opt.zero_grad(set_to_none=set_to_none)
        topt.zero_grad(set_to_none=set_to_none)
        backward_ours(ours, grads, used)
        backward_torch(torch, theirs, grads, used)
        opt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            assert p.data.dtype == dtype
            np.testing.assert_allclose(p.data, tp.detach().numpy(), **tol, err_msg=f"step {t}, parameter {i}")
    compare_state(opt, topt, dtype)
    return opt, topt, ours, theirs


def compare_state(opt, topt, dtype):
    ours, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
    tol = tolerances(dtype)
    for index, entry in theirs.items():
        assert ours[index]["step"] == int(entry.get("step", ours[index]["step"])), f"step of parameter {index}"
        for name in STATE_NAMES:
            if name in entry and entry[name] is not None:
                np.testing.assert_allclose(ours[index][name], entry[name].numpy(), **tol,
                                           err_msg=f"state {name} of parameter {index}")
    for entry in ours.values():
        for name, value in entry.items():
            if name != "step":
                assert value.dtype == dtype, f"state {name} has dtype {value.dtype}"


def continue_identically(make_opt, steps_before=3, steps_after=4, dtype=np.float32, seed=0):
    """Train, save the state dict, rebuild on copied parameters, load it, and check that both
    continue along bitwise-identical trajectories."""
    params = make_params(seed=seed, dtype=dtype)
    opt = make_opt(params)
    gen = np.random.default_rng(seed + 7)
    all_grads = [[gen.standard_normal(p.shape).astype(dtype) for p in params] for _ in range(steps_before + steps_after)]
    for grads in all_grads[:steps_before]:
        for p, g in zip(params, grads):
            p.grad = g.copy()
        opt.step()
    saved = opt.state_dict()
    clones = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    opt2 = make_opt(clones)
    opt2.load_state_dict(saved)
    for grads in all_grads[steps_before:]:
        for p, q, g in zip(params, clones, grads):
            p.grad = g.copy()
            q.grad = g.copy()
        opt.step()
        opt2.step()
        for p, q in zip(params, clones):
            np.testing.assert_array_equal(p.data, q.data)
    return opt, opt2
