"""Tests for chainrule/train/losses.py: the new loss names and the unreduced copy of a weighted loss Module."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train.losses import resolve_loss


def test_nll_name_takes_class_labels_and_log_probabilities(rng):
    batch_loss = resolve_loss("nll")
    assert batch_loss.class_targets and not batch_loss.align_targets
    log_probs = cr.log_softmax(cr.Tensor(rng.standard_normal((4, 3))), axis=1)
    target = np.array([0, 2, 1, 1])
    expected = -log_probs.numpy()[np.arange(4), target]
    assert batch_loss(log_probs, target).item() == pytest.approx(expected.mean())
    weight = np.array([1.0, 0.0, 3.0, 1.0])
    assert batch_loss(log_probs, target, weight).item() == pytest.approx((expected * weight).sum() / weight.sum())


def test_smooth_l1_name_aligns_targets(rng):
    output = cr.Tensor(rng.standard_normal((5, 1)))
    target = rng.standard_normal(5)
    expected = cr.smooth_l1_loss(output, target.reshape(5, 1)).item()
    assert resolve_loss("smooth_l1")(output, target).item() == pytest.approx(expected)


def test_weighted_loss_module_keeps_its_float64_class_weights_per_sample(torch, rng):
    # the per-sample (unreduced) copy used with sample weights gets the module's own weight array,
    # not the float32 list of its config
    class_weight = np.array([0.1, 0.7, 0.3])
    batch_loss = resolve_loss(nn.CrossEntropyLoss(weight=class_weight))
    logits, target, sample_weight = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1]), np.array([1.0, 2, 1, 3])
    ours = batch_loss(cr.Tensor(logits), target, sample_weight).item()
    per_sample = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target),
                                                   weight=torch.tensor(class_weight), reduction="none").numpy()
    assert ours == pytest.approx((per_sample * sample_weight).sum() / sample_weight.sum(), rel=1e-13)
