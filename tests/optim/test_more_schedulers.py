"""The schedules added for PyTorch parity, against torch.optim.lr_scheduler over 100 steps."""

import json

import numpy as np
import pytest

from chainrule.optim import SGD, Adam, lr_scheduler
from chainrule.tensor import Tensor

LRS = (0.1, 0.03)


def _pair(torch, optimizer="SGD", **kwargs):
    ours_cls = {"SGD": SGD, "Adam": Adam}[optimizer]
    ours = ours_cls([{"params": [Tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in LRS], **kwargs)
    theirs = getattr(torch.optim, optimizer)(
        [{"params": [torch.ones(2, requires_grad=True)], "lr": lr} for lr in LRS], **kwargs)
    return ours, theirs


def _run(scheduler, optimizer, steps, momentum_key=None):
    lrs, momenta = [scheduler.get_last_lr()], []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in optimizer.param_groups]
        if momentum_key == "betas":
            momenta.append([g["betas"][0] for g in optimizer.param_groups])
        elif momentum_key:
            momenta.append([g[momentum_key] for g in optimizer.param_groups])
    return np.array(lrs), np.array(momenta)


CASES = [
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97), "SGD", {}),
    ("ConstantLR", dict(factor=0.5, total_iters=4), "SGD", {}),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=10), "SGD", {}),
    ("LinearLR", dict(), "SGD", {}),
    ("PolynomialLR", dict(total_iters=30, power=2.0), "SGD", {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=7, eta_min=0.001), "SGD", {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2), "SGD", {}),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6), "SGD", {"momentum": 0.9}),
    ("CyclicLR", dict(base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=4, step_size_down=9, mode="triangular2"),
     "SGD", {"momentum": 0.9}),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.98,
                      cycle_momentum=False), "SGD", {}),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=5, base_momentum=0.85, max_momentum=0.95), "Adam", {}),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=100), "SGD", {"momentum": 0.9}),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
                        three_phase=True), "SGD", {"momentum": 0.9}),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=100, div_factor=10, final_div_factor=100), "Adam", {}),
]


@pytest.mark.parametrize("name,kwargs,optimizer,opt_kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_over_100_steps(torch, name, kwargs, optimizer, opt_kwargs):
    ours_opt, their_opt = _pair(torch, optimizer, **opt_kwargs)
    steps = 100 if name != "OneCycleLR" else 99
    momentum = ("betas" if optimizer == "Adam" else "momentum") if name in ("CyclicLR", "OneCycleLR") and \
        kwargs.get("cycle_momentum", True) else None
    ours = _run(getattr(lr_scheduler, name)(ours_opt, **kwargs), ours_opt, steps, momentum)
    theirs = _run(getattr(torch.optim.lr_scheduler, name)(their_opt, **kwargs), their_opt, steps, momentum)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)
    if momentum:
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def _composite(lib, opt, kind):
    s = lib.optim.lr_scheduler if hasattr(lib, "optim") else lib
    if kind == "sequential-linear-cosine":
        return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=5),
                                    s.CosineAnnealingLR(opt, T_max=20)], milestones=[5])
    if kind == "sequential-three":
        return s.SequentialLR(opt, [s.ConstantLR(opt, factor=0.5, total_iters=3), s.ExponentialLR(opt, gamma=0.9),
                                    s.StepLR(opt, step_size=4, gamma=0.5)], milestones=[6, 20])
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.2, total_iters=4), s.ExponentialLR(opt, gamma=0.95)])


@pytest.mark.parametrize("kind", ["sequential-linear-cosine", "sequential-three", "chained"])
def test_composites_match_torch(torch, kind):
    import chainrule

    ours_opt, their_opt = _pair(torch)
    ours = _run(_composite(chainrule, ours_opt, kind), ours_opt, 100)
    theirs = _run(_composite(torch, their_opt, kind), their_opt, 100)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    ("LinearLR", dict(start_factor=0.2, total_iters=8)),
])
def test_last_epoch_resumes_like_torch(torch, name, kwargs):
    """Building a schedule with last_epoch=k on an optimizer that already has initial_lr, as PyTorch allows."""
    ours_opt, their_opt = _pair(torch)
    for opt in (ours_opt, their_opt):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
    ours = _run(getattr(lr_scheduler, name)(ours_opt, last_epoch=4, **kwargs), ours_opt, 20)
    theirs = _run(getattr(torch.optim.lr_scheduler, name)(their_opt, last_epoch=4, **kwargs), their_opt, 20)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    fresh, _ = _pair(torch)
    with pytest.raises(KeyError, match="initial_lr"):
        getattr(lr_scheduler, name)(fresh, last_epoch=4, **kwargs)


def test_fractional_epochs_of_warm_restarts_match_torch(torch):
    ours_opt, their_opt = _pair(torch)
    ours = lr_scheduler.CosineAnnealingWarmRestarts(ours_opt, T_0=4, T_mult=2)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(their_opt, T_0=4, T_mult=2)
    for epoch in np.arange(0, 30, 0.37):
        ours.step(float(epoch))
        theirs.step(float(epoch))
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.3, total_steps=40),
    lambda o: lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
    lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, total_iters=3),
                                            lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[3]),
    lambda o: lr_scheduler.PolynomialLR(o, total_iters=12, power=0.5),
], ids=["OneCycleLR", "CyclicLR", "WarmRestarts", "SequentialLR", "PolynomialLR"])
def test_state_dict_round_trip_through_json_resumes(make):
    def fresh():
        return SGD([{"params": [Tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in LRS], momentum=0.9)

    opt = fresh()
    sched = make(opt)
    for _ in range(7):
        sched.step()
    saved_opt, saved = opt.state_dict(), json.loads(json.dumps(sched.state_dict()))
    expected = []
    for _ in range(10):
        sched.step()
        expected.append(sched.get_last_lr() + [g["momentum"] for g in opt.param_groups])
    opt2 = fresh()
    sched2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    resumed = []
    for _ in range(10):
        sched2.step()
        resumed.append(sched2.get_last_lr() + [g["momentum"] for g in opt2.param_groups])
    np.testing.assert_allclose(resumed, expected, rtol=1e-14)


def test_argument_errors():
    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.CyclicLR(_no_momentum(), base_lr=0.01, max_lr=0.1)
    with pytest.raises(ValueError, match="start_factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="milestones"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ConstantLR(opt)], milestones=[3])
    sched = lr_scheduler.OneCycleLR(SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1, momentum=0.9),
                                    max_lr=0.1, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="total_steps=2"):
        sched.step()


def _no_momentum():
    from chainrule.optim import Adagrad

    return Adagrad([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
