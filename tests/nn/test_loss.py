"""Tests for chainrule/nn/loss.py: the loss modules against torch.nn's."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _compare(torch, ours, theirs, pred, target, rng):
    p = cr.Tensor(pred.astype(np.float32), requires_grad=True)
    pr = torch.tensor(pred.astype(np.float32), requires_grad=True)
    out = ours(p, target)
    ref = theirs(pr, torch.from_numpy(target))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(p.grad, pr.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32 and p.grad.dtype == np.float32


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(torch, rng, reduction):
    pred, target = rng.standard_normal((6, 3)) * 2, rng.standard_normal((6, 3)).astype(np.float32)
    _compare(torch, nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), pred, target, rng)
    _compare(torch, nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), pred, target, rng)
    _compare(torch, nn.HuberLoss(reduction, delta=0.7), torch.nn.HuberLoss(reduction=reduction, delta=0.7), pred, target, rng)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_loss_matches_torch(torch, rng, reduction):
    logits, target = rng.standard_normal((8, 4)) * 2, rng.integers(0, 4, 8)
    weight = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    _compare(
        torch, nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=0.1),
        torch.nn.CrossEntropyLoss(weight=torch.from_numpy(weight), reduction=reduction, label_smoothing=0.1),
        logits, target, rng,
    )


def test_bce_with_logits_loss_matches_torch(torch, rng):
    logits, target = rng.standard_normal((6, 3)) * 3, (rng.random((6, 3)) > 0.5).astype(np.float32)
    pos_weight = np.array([1.0, 3.0, 0.5], np.float32)
    _compare(
        torch, nn.BCEWithLogitsLoss(pos_weight=pos_weight),
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(pos_weight)), logits, target, rng,
    )


def test_loss_weights_follow_the_model_dtype(rng):
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0])
    assert loss.weight.dtype == np.float32
    loss.to("float64")
    out = loss(cr.Tensor(rng.standard_normal((3, 2))), np.array([0, 1, 1]))
    assert out.dtype == np.float64


def test_loss_errors_and_repr():
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError, match="pass the reduction by keyword"):
        nn.MSELoss("sum")  # PyTorch's first positional argument is the deprecated size_average
    with pytest.raises(ValueError, match="HuberLoss: delta must be a positive number"):
        nn.HuberLoss(delta=0)
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss(label_smoothing=0.1)"
    assert repr(nn.MSELoss()) == "MSELoss()"
