"""Learning-rate schedules against torch.optim.lr_scheduler, and WarmupCosine by its formula."""

import json
import math
import warnings

import numpy as np
import pytest

from chainrule.optim import (
    SGD, Adam, CosineAnnealingLR, ExponentialLR, LambdaLR, MultiStepLR, ReduceLROnPlateau, StepLR, WarmupCosine,
)
from chainrule.tensor import Tensor

LRS = (0.1, 0.03)


def _ours(lrs=LRS):
    params = [Tensor(np.ones(2), requires_grad=True) for _ in lrs]
    return SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=1.0)


def _theirs(torch, lrs=LRS):
    params = [torch.ones(2, requires_grad=True) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=1.0)


def _sequence(scheduler, optimizer, steps, metrics=None):
    lrs = [scheduler.get_last_lr()]
    for t in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[t])
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in optimizer.param_groups]
    return lrs


CASES = [
    ("StepLR", StepLR, dict(step_size=3, gamma=0.5)),
    ("StepLR", StepLR, dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", MultiStepLR, dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", ExponentialLR, dict(gamma=0.8)),
    ("CosineAnnealingLR", CosineAnnealingLR, dict(T_max=7)),
    ("CosineAnnealingLR", CosineAnnealingLR, dict(T_max=4, eta_min=0.01)),  # past T_max: it rises again
]


@pytest.mark.parametrize("name,cls,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(torch, name, cls, kwargs):
    opt, topt = _ours(), _theirs(torch)
    ours = _sequence(cls(opt, **kwargs), opt, 20)
    theirs = _sequence(getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), topt, 20)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)


def test_lambda_lr_matches_torch(torch):
    fns = [lambda e: 0.95**e, lambda e: 1.0 / (1 + e)]
    opt, topt = _ours(), _theirs(torch)
    ours = _sequence(LambdaLR(opt, fns), opt, 10)
    theirs = _sequence(torch.optim.lr_scheduler.LambdaLR(topt, fns), topt, 10)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=1),
    dict(patience=2, threshold=0.1, threshold_mode="abs", cooldown=2, min_lr=[0.02, 0.001]),
    dict(mode="max", factor=0.2, patience=0, threshold=0.05, threshold_mode="rel", cooldown=1, min_lr=0.005),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "defaults")
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    gen = np.random.default_rng(0)
    metrics = list(np.round(1.0 + 0.05 * gen.standard_normal(40), 3))
    metrics[5:12] = [0.5, 0.49, 0.495, 0.499, 0.4, 0.41, 0.42]
    opt, topt = _ours(), _theirs(torch)
    ours = _sequence(ReduceLROnPlateau(opt, **kwargs), opt, 40, metrics)
    theirs = _sequence(torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs), topt, 40, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[-1] != ours[0]  # the sequence did reduce


def test_reduce_on_plateau_needs_a_metric_and_checks_arguments():
    opt = _ours()
    sched = ReduceLROnPlateau(opt)
    assert sched.needs_metric and not StepLR(_ours(), 2).needs_metric
    with pytest.raises(TypeError, match="monitored value"):
        sched.step()
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="2 values of min_lr"):
        ReduceLROnPlateau(opt, min_lr=[0.1])


def test_warmup_cosine_by_formula():
    opt = _ours()
    sched = WarmupCosine(opt, warmup_steps=4, total_steps=12, min_lr=[0.0, 0.003])
    lrs = _sequence(sched, opt, 15)
    for t, (a, b) in enumerate(lrs):
        if t < 4:
            expected = [0.1 * (t + 1) / 4, 0.03 * (t + 1) / 4]
        else:
            factor = (1 + math.cos(math.pi * min(1.0, (t - 4) / 8))) / 2
            expected = [0.1 * factor, 0.003 + (0.03 - 0.003) * factor]
        assert [a, b] == pytest.approx(expected, rel=1e-12, abs=1e-15), f"t={t}"
    assert lrs[0] == pytest.approx([0.025, 0.0075])  # the first step is not wasted at lr = 0
    assert lrs[3] == lrs[4] == pytest.approx(list(LRS))
    assert lrs[12] == lrs[14] == pytest.approx([0.0, 0.003])


def test_warmup_cosine_arguments():
    with pytest.raises(ValueError, match="total_steps"):
        WarmupCosine(_ours(), warmup_steps=10, total_steps=5)
    lrs = _sequence(WarmupCosine(_ours(), warmup_steps=0, total_steps=2), _ours(), 0)
    assert lrs[0] == pytest.approx(list(LRS))


@pytest.mark.parametrize("make", [
    lambda o: StepLR(o, step_size=2, gamma=0.5),
    lambda o: MultiStepLR(o, milestones=[1, 4], gamma=0.1),
    lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.001),
    lambda o: WarmupCosine(o, warmup_steps=3, total_steps=9),
    lambda o: ReduceLROnPlateau(o, patience=1, cooldown=1),
], ids=["StepLR", "MultiStepLR", "CosineAnnealingLR", "WarmupCosine", "ReduceLROnPlateau"])
def test_state_dict_resumes_the_same_sequence(make):
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.9, 0.91, 0.92, 0.93]
    opt = _ours()
    sched = make(opt)
    def advance(scheduler, t):  # a metric only for the schedule that monitors one
        scheduler.step(metrics[t]) if scheduler.needs_metric else scheduler.step()

    for t in range(5):
        advance(sched, t)
    saved_opt = opt.state_dict()
    saved = json.loads(json.dumps(sched.state_dict()))  # plain data
    expected = [sched.get_last_lr()]
    for t in range(5, 12):
        advance(sched, t)
        expected.append(sched.get_last_lr())

    opt2 = _ours()
    opt2.load_state_dict(saved_opt)
    sched2 = make(opt2)
    sched2.load_state_dict(saved)
    resumed = [sched2.get_last_lr()]
    assert [g["lr"] for g in opt2.param_groups] == resumed[0]
    for t in range(5, 12):
        advance(sched2, t)
        resumed.append(sched2.get_last_lr())
    assert resumed == expected


def test_scheduler_drives_the_optimizer_step():
    p = Tensor(np.zeros(1), requires_grad=True)
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = np.ones(1)
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, [-(1.0 + 0.5 + 0.25)])


def test_works_on_a_torch_optimizer_too(torch):
    topt = _theirs(torch)
    sched = ExponentialLR(topt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    assert sched.get_last_lr() == [0.05, 0.015]


def test_rejects_non_optimizers():
    with pytest.raises(TypeError, match="param_groups"):
        StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(_ours(), step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(Adam([Tensor(np.ones(1), requires_grad=True)]), T_max=0)
