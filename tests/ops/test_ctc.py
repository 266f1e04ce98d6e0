"""Tests for chainrule/ops/ctc.py: values and gradients against torch.nn.functional.ctc_loss in float64."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.activation import log_softmax
from chainrule.ops.ctc import ctc_loss

REDUCTIONS = ["mean", "sum", "none"]


def _case(rng, T, N, C, target_lengths, input_lengths, repeat=False, blank=0, distinct=False):
    logits = rng.standard_normal((T, N, C)) * 2
    labels = [c for c in range(C) if c != blank]
    S = max(max(target_lengths), 1)
    targets = rng.choice(labels, size=(N, S))
    if distinct:
        targets = np.stack([rng.permutation(labels)[:S] for _ in range(N)])
    if repeat:
        targets[0, :2] = targets[0, 0]  # a repeated label needs a blank between its copies
    return logits, targets, np.array(input_lengths), np.array(target_lengths)


CASES = [
    ("basic", dict(T=6, N=2, C=4, target_lengths=[3, 2], input_lengths=[6, 5])),
    ("repeats", dict(T=8, N=3, C=5, target_lengths=[3, 3, 1], input_lengths=[8, 7, 4], repeat=True)),
    ("empty_target", dict(T=5, N=2, C=3, target_lengths=[0, 2], input_lengths=[5, 3])),
    ("blank_last", dict(T=7, N=2, C=4, target_lengths=[2, 3], input_lengths=[7, 6], blank=3)),
    # exactly as many frames as (distinct) labels: one alignment
    ("tight", dict(T=5, N=1, C=4, target_lengths=[3], input_lengths=[3], distinct=True)),
]


def _torch_ctc(torch, targets, input_lengths, target_lengths, **kwargs):
    def run(logits):
        return torch.nn.functional.ctc_loss(
            torch.log_softmax(logits, 2), torch.tensor(targets), torch.tensor(input_lengths),
            torch.tensor(target_lengths), **kwargs)

    return run


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_matches_torch(name, case, reduction, compare_torch64, torch, rng):
    blank = case.get("blank", 0)
    logits, targets, il, tl = _case(rng, **case)
    compare_torch64(
        lambda x: ctc_loss(log_softmax(x, axis=2), targets, il, tl, blank=blank, reduction=reduction),
        _torch_ctc(torch, targets, il, tl, blank=blank, reduction=reduction),
        logits,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_impossible_alignment_with_zero_infinity(reduction, compare_torch64, torch, rng):
    # sample 1 has 3 repeated labels (needing 5 frames) in 3 frames: its loss is inf, zeroed with its gradient
    logits = rng.standard_normal((6, 2, 3))
    targets, il, tl = np.array([[1, 2, 1], [2, 2, 2]]), np.array([6, 3]), np.array([3, 3])
    out = compare_torch64(
        lambda x: ctc_loss(log_softmax(x, axis=2), targets, il, tl, reduction=reduction, zero_infinity=True),
        _torch_ctc(torch, targets, il, tl, reduction=reduction, zero_infinity=True),
        logits,
    )
    assert np.isfinite(out.numpy()).all()
    plain = ctc_loss(log_softmax(cr.Tensor(logits), axis=2), targets, il, tl, reduction="none")
    assert np.isinf(plain.numpy()[1]) and np.isfinite(plain.numpy()[0])


def test_ctc_concatenated_targets_equal_padded_ones(rng):
    logits, targets, il, tl = _case(rng, T=7, N=3, C=5, target_lengths=[3, 1, 2], input_lengths=[7, 5, 6])
    concatenated = np.concatenate([targets[n, : tl[n]] for n in range(3)])
    lp = log_softmax(cr.Tensor(logits), axis=2)
    padded = ctc_loss(lp, targets, il, tl, reduction="none").numpy()
    np.testing.assert_array_equal(ctc_loss(lp, concatenated, il, tl, reduction="none").numpy(), padded)


def test_ctc_unbatched_matches_batched_and_torch(torch, rng):
    logits = rng.standard_normal((6, 4))
    target = np.array([1, 3, 3])
    lp = log_softmax(cr.Tensor(logits), axis=1)
    ours = ctc_loss(lp, target, 6, 3).item()
    theirs = torch.nn.functional.ctc_loss(torch.log_softmax(torch.tensor(logits), 1), torch.tensor(target),
                                          torch.tensor(6), torch.tensor(3)).item()
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_ctc_gradient_wrt_log_probs_is_torchs_minus_the_softmax(torch, rng):
    # PyTorch's gradient with respect to log_probs carries an extra exp(log_probs) on the frames used,
    # which cancels in log_softmax's backward; ours is the derivative itself
    logits, targets, il, tl = _case(rng, T=5, N=2, C=4, target_lengths=[2, 2], input_lengths=[5, 4])
    lp = torch.log_softmax(torch.tensor(logits), 2).detach().requires_grad_()
    torch_targets = [torch.tensor(a) for a in (targets, il, tl)]
    torch.nn.functional.ctc_loss(lp, *torch_targets, reduction="sum").backward()
    ours = cr.Tensor(lp.detach().numpy().copy(), requires_grad=True)
    ctc_loss(ours, targets, il, tl, reduction="sum").backward()
    used = (np.arange(5)[:, None] < il[None, :])[:, :, None]
    np.testing.assert_allclose(np.asarray(ours.grad), lp.grad.numpy() - np.exp(lp.detach().numpy()) * used,
                               rtol=1e-9, atol=1e-12)
    # each frame's occupancies sum to one: the gradient sums to -1 per used frame
    np.testing.assert_allclose(np.asarray(ours.grad).sum(axis=2), -1.0 * used[:, :, 0], atol=1e-12)


def test_ctc_gradcheck(rng):
    logits, targets, il, tl = _case(rng, T=5, N=2, C=3, target_lengths=[2, 1], input_lengths=[5, 4], repeat=True)
    assert cr.gradcheck(lambda x: ctc_loss(log_softmax(x, axis=2), targets, il, tl), [logits])


def test_ctc_float32_stays_float32(rng):
    logits, targets, il, tl = _case(rng, T=5, N=2, C=4, target_lengths=[2, 2], input_lengths=[5, 4])
    x = cr.Tensor(logits.astype(np.float32), requires_grad=True)
    out = ctc_loss(log_softmax(x, axis=2), targets, il, tl)
    out.backward()
    assert out.dtype == np.float32 and np.asarray(x.grad).dtype == np.float32


def test_ctc_errors():
    lp = cr.Tensor(np.log(np.full((4, 2, 3), 1 / 3)))
    with pytest.raises(ValueError, match="ctc_loss: target label 0 is the blank \\(0\\) or out of range"):
        ctc_loss(lp, np.array([[1, 0], [1, 2]]), [4, 4], [2, 2])
    with pytest.raises(ValueError, match="ctc_loss: input_lengths must lie in \\[0, 4\\]"):
        ctc_loss(lp, np.array([[1, 2], [1, 2]]), [5, 4], [2, 2])
    with pytest.raises(ValueError, match="concatenated targets have 3 labels but target_lengths sum to 4"):
        ctc_loss(lp, np.array([1, 2, 1]), [4, 4], [2, 2])
    with pytest.raises(ValueError, match="log_probs must have shape \\(T, N, C\\) or \\(T, C\\)"):
        ctc_loss(cr.Tensor(np.zeros(3)), np.array([1]), [1], [1])
    with pytest.raises(ValueError, match="reduction must be"):
        ctc_loss(lp, np.array([[1, 2], [1, 2]]), [4, 4], [2, 2], reduction="batchmean")
