"""Tests for chainrule/ops/loss.py: gradient checks, PyTorch agreement (weights, label smoothing,
probability targets, pos_weight, every reduction), stability for large logits, and errors."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mae_loss,
    mse_loss,
)

REDUCTIONS = ["mean", "sum", "none"]


def _probabilities(rng, shape, axis=1):
    p = rng.random(shape) + 0.05
    return p / p.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------- regression losses
REGRESSION = [
    ("mse", mse_loss, "mse_loss", {}),
    ("l1", l1_loss, "l1_loss", {}),
    ("huber", huber_loss, "huber_loss", {}),
    ("huber_delta", huber_loss, "huber_loss", {"delta": 0.4}),
]


def _regression_pair(rng, shape=(4, 3)):
    pred = rng.standard_normal(shape)
    # keep |pred - target| away from 0 (l1's kink) and from the huber deltas (0.4, 1.0)
    diff = rng.choice([-1.6, -0.7, -0.25, 0.1, 0.55, 1.3], size=shape) + rng.uniform(-0.04, 0.04, shape)
    return pred, pred - diff


@pytest.mark.parametrize("name,fn,_,kwargs", REGRESSION, ids=[c[0] for c in REGRESSION])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_gradcheck_both_inputs(name, fn, _, kwargs, reduction, rng):
    pred, target = _regression_pair(rng)
    assert cr.gradcheck(lambda p, t: fn(p, t, reduction=reduction, **kwargs), [pred, target])


@pytest.mark.parametrize("name,fn,torch_name,kwargs", REGRESSION, ids=[c[0] for c in REGRESSION])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_matches_torch(name, fn, torch_name, kwargs, reduction, compare_torch, torch, rng):
    pred, target = _regression_pair(rng, (5, 3))
    theirs = getattr(torch.nn.functional, torch_name)
    compare_torch(
        lambda p, t: fn(p, t, reduction=reduction, **kwargs),
        lambda p, t: theirs(p, t, reduction=reduction, **kwargs),
        pred,
        target,
    )


def test_l1_gradient_at_zero_difference_is_zero():
    pred = cr.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    l1_loss(pred, np.array([1.0, 0.0]), reduction="sum").backward()
    np.testing.assert_array_equal(pred.grad, [0.0, 1.0])


def test_mae_is_l1():
    assert mae_loss is l1_loss


def test_regression_keeps_float32_with_other_target_dtypes():
    pred = cr.Tensor(np.array([0.5, 1.5, 2.5], np.float32), requires_grad=True)
    for target in (np.array([0.0, 1.0, 3.0]), np.array([0, 1, 3]), [0.0, 1.0, 3.0]):
        loss = mse_loss(pred, target)
        assert loss.dtype == np.float32
        pred.zero_grad()
        loss.backward()
        assert pred.grad.dtype == np.float32
        np.testing.assert_allclose(loss.item(), (0.25 + 0.25 + 0.25) / 3, rtol=1e-6)


def test_regression_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: prediction shape \(4, 1\) and target shape \(4,\) differ"):
        mse_loss(np.zeros((4, 1), np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="huber_loss"):
        huber_loss(np.zeros(3, np.float32), np.zeros(2, np.float32))


def test_bad_reduction_and_delta():
    with pytest.raises(ValueError, match=r"l1_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        l1_loss(np.zeros(2, np.float32), np.zeros(2, np.float32), reduction="avg")
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0.0"):
        huber_loss(np.zeros(2, np.float32), np.zeros(2, np.float32), delta=0)


# ------------------------------------------------- cross-entropy, index targets
CE_INDEX_CASES = [
    ("plain", {}),
    ("weight", {"weight": True}),
    ("smoothing", {"label_smoothing": 0.2}),
    ("weight_smoothing", {"weight": True, "label_smoothing": 0.3}),
    ("ignore", {"ignore_index": 2}),
    ("weight_smoothing_ignore", {"weight": True, "label_smoothing": 0.1, "ignore_index": 0}),
]


def _ce_kwargs(case, n_classes, as_torch=None):
    kwargs = dict(case)
    if kwargs.pop("weight", False):
        weight = np.linspace(0.5, 2.0, n_classes).astype(np.float32)
        kwargs["weight"] = as_torch(weight) if as_torch else weight
    return kwargs


@pytest.mark.parametrize("name,case", CE_INDEX_CASES, ids=[c[0] for c in CE_INDEX_CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_index_gradcheck(name, case, reduction, rng):
    logits = rng.standard_normal((6, 4)) * 2
    target = np.array([0, 2, 3, 1, 2, 0])
    kwargs = _ce_kwargs(case, 4)
    assert cr.gradcheck(lambda z: cross_entropy(z, target, reduction=reduction, **kwargs), [logits])


@pytest.mark.parametrize("name,case", CE_INDEX_CASES, ids=[c[0] for c in CE_INDEX_CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_index_matches_torch(name, case, reduction, compare_torch, torch, rng):
    logits = rng.standard_normal((7, 5)) * 3
    target = np.array([0, 2, 4, 1, 2, 0, 3])
    ours = _ce_kwargs(case, 5)
    theirs = _ce_kwargs(case, 5, as_torch=torch.from_numpy)
    t_target = torch.from_numpy(target)
    compare_torch(
        lambda z: cross_entropy(z, target, reduction=reduction, **ours),
        lambda z: torch.nn.functional.cross_entropy(z, t_target, reduction=reduction, **theirs),
        logits,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_spatial_matches_torch(reduction, smoothing, compare_torch, torch, rng):
    logits = rng.standard_normal((2, 4, 3, 2)) * 2  # (N, C, d1, d2), as for segmentation
    target = rng.integers(0, 4, size=(2, 3, 2))
    weight = np.array([1.0, 0.5, 2.0, 1.5], np.float32)
    compare_torch(
        lambda z: cross_entropy(z, target, weight=weight, label_smoothing=smoothing, reduction=reduction),
        lambda z: torch.nn.functional.cross_entropy(
            z, torch.from_numpy(target), weight=torch.from_numpy(weight), label_smoothing=smoothing, reduction=reduction
        ),
        logits,
    )
    assert cr.gradcheck(
        lambda z: cross_entropy(z, target, weight=weight, label_smoothing=smoothing, reduction=reduction), [logits]
    )


def test_cross_entropy_unbatched_matches_torch(compare_torch, torch, rng):
    logits = rng.standard_normal(5)
    compare_torch(
        lambda z: cross_entropy(z, np.array(3), label_smoothing=0.1),
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(3), label_smoothing=0.1),
        logits,
    )


def test_cross_entropy_accepts_an_integer_tensor_target(rng):
    logits = rng.standard_normal((3, 4)).astype(np.float32)
    a = cross_entropy(logits, cr.Tensor(np.array([1, 0, 3])))
    b = cross_entropy(logits, np.array([1, 0, 3], np.int32))
    np.testing.assert_allclose(a.item(), b.item())
    expected = np.mean([np.log(np.exp(row).sum()) - row[k] for row, k in zip(logits.astype(np.float64), [1, 0, 3])])
    np.testing.assert_allclose(a.item(), expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_cross_entropy_accepts_any_integer_label_dtype(dtype, rng):
    logits = rng.standard_normal((3, 4)).astype(np.float32)
    z = cr.Tensor(logits, requires_grad=True)
    loss = cross_entropy(z, np.array([3, 0, 2], dtype=dtype), label_smoothing=0.1)
    loss.backward()
    reference = cross_entropy(logits, np.array([3, 0, 2]), label_smoothing=0.1)
    assert loss.dtype == z.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), reference.item())


def test_cross_entropy_all_ignored_is_nan_like_torch(torch):
    logits = np.zeros((2, 3), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours_logits = cr.Tensor(logits, requires_grad=True)
        ours = cross_entropy(ours_logits, np.array([1, 1]), ignore_index=1)
        ours.backward()
    t_logits = torch.from_numpy(logits).requires_grad_()
    theirs = torch.nn.functional.cross_entropy(t_logits, torch.tensor([1, 1]), ignore_index=1)
    theirs.backward()
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    np.testing.assert_array_equal(ours_logits.grad, t_logits.grad.numpy())  # no sample gets a gradient


def test_cross_entropy_gradient_is_softmax_minus_onehot(rng):
    logits = rng.standard_normal((4, 3))
    target = np.array([2, 0, 1, 1])
    z = cr.Tensor(logits, requires_grad=True)
    cross_entropy(z, target, reduction="sum").backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad, softmax - np.eye(3)[target], rtol=1e-12)


def test_cross_entropy_ignored_samples_get_no_gradient(rng):
    z = cr.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    loss = cross_entropy(z, np.array([1, -1, 2]), ignore_index=-1)
    loss.backward()
    np.testing.assert_array_equal(z.grad[1], 0.0)
    assert np.abs(z.grad[[0, 2]]).sum() > 0


# ------------------------------------------- cross-entropy, probability targets
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets_match_torch(reduction, weighted, smoothing, compare_torch, torch, rng):
    logits = rng.standard_normal((6, 4)) * 2
    target = _probabilities(rng, (6, 4))
    weight = np.array([0.5, 1.0, 2.0, 1.5], np.float32) if weighted else None
    t_weight = torch.from_numpy(weight) if weighted else None
    # both logits and the probability target are differentiated
    compare_torch(
        lambda z, t: cross_entropy(z, t, weight=weight, label_smoothing=smoothing, reduction=reduction),
        lambda z, t: torch.nn.functional.cross_entropy(
            z, t, weight=t_weight, label_smoothing=smoothing, reduction=reduction
        ),
        logits,
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_gradcheck(reduction, rng):
    logits = rng.standard_normal((2, 3, 4))  # spatial (N, C, d)
    target = _probabilities(rng, (2, 3, 4))
    weight = np.array([0.5, 1.0, 2.0])
    assert cr.gradcheck(
        lambda z, t: cross_entropy(z, t, weight=weight, label_smoothing=0.1, reduction=reduction), [logits, target]
    )


def test_cross_entropy_onehot_probabilities_equal_index_targets(rng):
    logits = rng.standard_normal((5, 3))
    target = np.array([0, 2, 1, 1, 0])
    a = cross_entropy(logits, target, label_smoothing=0.3)
    b = cross_entropy(logits, np.eye(3)[target], label_smoothing=0.3)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


def test_cross_entropy_float32_logits_with_float64_probabilities_stay_float32(rng):
    z = cr.Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    loss = cross_entropy(z, _probabilities(rng, (3, 4)), weight=np.ones(4))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


# ------------------------------------------------------------------ large logits
def test_cross_entropy_large_logits_are_finite_and_match_torch(compare_torch, torch):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [100.0, -100.0, 100.0]])
    target = np.array([1, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (out,) = compare_torch(
            lambda z: cross_entropy(z, target, reduction="none", label_smoothing=0.1),
            lambda z: torch.nn.functional.cross_entropy(
                z, torch.from_numpy(target), reduction="none", label_smoothing=0.1
            ),
            logits,
            rtol=1e-5,
            atol=1e-3,
        )
    assert np.isfinite(out.numpy()).all()
    probs = np.array([[0.0, 1.0, 0.0], [0.3, 0.3, 0.4], [0.5, 0.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_torch(
            lambda z: cross_entropy(z, probs),
            lambda z: torch.nn.functional.cross_entropy(z, torch.from_numpy(probs).float()),
            logits,
            atol=1e-3,
        )


# ------------------------------------------------------- binary cross-entropy
def _bce_inputs(rng, shape=(4, 3)):
    return rng.standard_normal(shape) * 3, rng.random(shape)


BCE_CASES = [
    ("plain", False, False),
    ("weight", True, False),
    ("pos_weight", False, True),
    ("both", True, True),
]


def _bce_weights(weighted, pos, shape, as_torch=None):
    kwargs = {}
    if weighted:
        kwargs["weight"] = np.linspace(0.2, 2.0, shape[0] * shape[1]).reshape(shape).astype(np.float32)
    if pos:
        kwargs["pos_weight"] = np.linspace(0.5, 3.0, shape[1]).astype(np.float32)  # one per class, broadcast
    if as_torch:
        kwargs = {k: as_torch(v) for k, v in kwargs.items()}
    return kwargs


@pytest.mark.parametrize("name,weighted,pos", BCE_CASES, ids=[c[0] for c in BCE_CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_gradcheck_logits_and_target(name, weighted, pos, reduction, rng):
    logits, target = _bce_inputs(rng)
    kwargs = _bce_weights(weighted, pos, logits.shape)
    assert cr.gradcheck(
        lambda x, t: binary_cross_entropy_with_logits(x, t, reduction=reduction, **kwargs), [logits, target]
    )


@pytest.mark.parametrize("name,weighted,pos", BCE_CASES, ids=[c[0] for c in BCE_CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(name, weighted, pos, reduction, compare_torch, torch, rng):
    logits, target = _bce_inputs(rng, (5, 3))
    ours = _bce_weights(weighted, pos, logits.shape)
    theirs = _bce_weights(weighted, pos, logits.shape, as_torch=torch.from_numpy)
    compare_torch(
        lambda x, t: binary_cross_entropy_with_logits(x, t, reduction=reduction, **ours),
        lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction, **theirs),
        logits,
        target,
    )


def test_bce_large_logits_are_finite_and_match_torch(compare_torch, torch):
    logits = np.array([[-1000.0, -100.0, 0.0, 100.0, 1000.0]])
    target = np.array([[1.0, 0.0, 0.5, 1.0, 0.0]])
    pos_weight = np.array([2.0, 0.5, 1.0, 3.0, 1.5], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (out,) = compare_torch(
            lambda x, t: binary_cross_entropy_with_logits(x, t, pos_weight=pos_weight, reduction="none"),
            lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(
                x, t, pos_weight=torch.from_numpy(pos_weight), reduction="none"
            ),
            logits,
            target,
        )
    np.testing.assert_allclose(out.numpy()[0, [0, 4]], [2000.0, 1000.0])


def test_bce_accepts_integer_targets_and_stays_float32():
    x = cr.Tensor(np.array([0.3, -2.0, 4.0], np.float32), requires_grad=True)
    loss = binary_cross_entropy_with_logits(x, np.array([1, 0, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


# ------------------------------------------------------------------------ errors
def test_cross_entropy_target_out_of_range_names_value_and_classes():
    logits = np.zeros((3, 4), np.float32)
    message = r"cross_entropy: target class 4 is out of range for 4 classes \(valid: 0 to 3\)"
    with pytest.raises(ValueError, match=message):
        cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="target class -1 is out of range for 4 classes"):
        cross_entropy(logits, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match="target class -100 is out of range"):  # PyTorch's ignore default is not ours
        cross_entropy(logits, np.array([0, -100, 1]))
    cross_entropy(logits, np.array([0, -100, 1]), ignore_index=-100)  # fine when asked for


def test_cross_entropy_float_targets_of_index_shape_are_rejected():
    with pytest.raises(ValueError, match=r"class-index targets must be integers.*logits' shape \(3, 4\)"):
        cross_entropy(np.zeros((3, 4), np.float32), np.array([0.0, 1.0, 2.0]))


def test_cross_entropy_shape_errors():
    logits = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"cross_entropy: class-index target must have shape \(3,\) .* got \(2,\)"):
        cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match="looks one-hot"):
        cross_entropy(logits, np.eye(4, dtype=np.int64)[[0, 1, 2]])
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\).*got \(3,\)"):
        cross_entropy(logits, np.array([0, 1, 2]), weight=np.ones(3))
    with pytest.raises(ValueError, match="ignore_index is only supported for class-index targets"):
        cross_entropy(logits, np.full((3, 4), 0.25), ignore_index=0)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        cross_entropy(logits, np.array([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="cross_entropy: logits must be a floating tensor"):
        cross_entropy(np.zeros((3, 4), np.int64), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices or float probabilities"):
        cross_entropy(logits, np.array([True, False, True]))


def test_bce_shape_errors():
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy_with_logits: logits shape \(4, 1\) and target shape \(4,\) must match"
    ):
        binary_cross_entropy_with_logits(np.zeros((4, 1), np.float32), np.zeros(4, np.float32))
    message = r"pos_weight of shape \(2,\) cannot be broadcast to the logits' shape \(4, 3\)"
    with pytest.raises(ValueError, match=message):
        binary_cross_entropy_with_logits(np.zeros((4, 3), np.float32), np.zeros((4, 3)), pos_weight=np.ones(2))
    with pytest.raises(ValueError, match="reduction must be"):
        binary_cross_entropy_with_logits(np.zeros(2, np.float32), np.zeros(2), reduction=None)


# ------------------------------------------------------------- negative log-likelihood
from chainrule.ops import loss as loss_ops  # noqa: E402


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape,ignore", [((5, 4), None), ((2, 4, 3), -100), ((4,), None)])
def test_nll_loss_matches_torch(shape, ignore, weighted, reduction, compare_torch64, torch, rng):
    x = rng.standard_normal(shape)
    batch_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = rng.integers(0, 4, batch_shape)
    if ignore is not None:
        target.reshape(-1)[1] = ignore
    weight = rng.random(4) + 0.5 if weighted else None
    kwargs = {} if ignore is None else {"ignore_index": ignore}
    compare_torch64(
        lambda t: loss_ops.nll_loss(t, target, weight=weight, reduction=reduction, **kwargs),
        lambda t: torch.nn.functional.nll_loss(
            t, torch.tensor(target), weight=None if weight is None else torch.tensor(weight), reduction=reduction),
        x,
    )


def test_nll_loss_gradcheck_and_float32(rng):
    target = np.array([0, 2, 1])
    assert cr.gradcheck(lambda t: loss_ops.nll_loss(t, target, weight=[0.5, 1.0, 2.0]), [rng.standard_normal((3, 3))])
    x = cr.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    out = loss_ops.nll_loss(x, target, weight=np.array([1.0, 2.0, 3.0]))
    out.backward()
    assert out.dtype == np.float32 and np.asarray(x.grad).dtype == np.float32


def test_nll_loss_errors():
    with pytest.raises(ValueError, match="nll_loss: target class 3 is out of range for 3 classes"):
        loss_ops.nll_loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices"):
        loss_ops.nll_loss(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="nll_loss: target must have shape \\(2,\\)"):
        loss_ops.nll_loss(np.zeros((2, 3)), np.array([0, 1, 1]))


# -------------------------------------------------------- binary cross-entropy on probabilities
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(weighted, reduction, compare_torch64, torch, rng):
    p = rng.uniform(0.02, 0.98, (4, 3))
    t = rng.random((4, 3))
    weight = rng.random(3) + 0.5 if weighted else None
    compare_torch64(
        lambda a, b: loss_ops.binary_cross_entropy(a, b, weight=weight, reduction=reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy(
            a, b, weight=None if weight is None else torch.tensor(weight), reduction=reduction),
        p, t,
    )


def test_binary_cross_entropy_clamps_its_logs_at_minus_100_like_torch(compare_torch64, torch):
    # p = 0 and p = 1: log clamped at -100 (a loss of 100, not inf); the gradient's denominator at 1e-12
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-60, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    compare_torch64(
        lambda a: loss_ops.binary_cross_entropy(a, t, reduction="none"),
        lambda a: torch.nn.functional.binary_cross_entropy(a, torch.tensor(t), reduction="none"),
        p,
    )


def test_binary_cross_entropy_gradcheck(rng):
    p, t = rng.uniform(0.1, 0.9, (3, 2)), rng.random((3, 2))
    assert cr.gradcheck(lambda a, b: loss_ops.binary_cross_entropy(a, b, weight=[0.5, 2.0]), [p, t])


def test_binary_cross_entropy_rejects_values_outside_the_unit_interval():
    # issue 14: a target of 2 was accepted silently
    with pytest.raises(ValueError, match="binary_cross_entropy: target must lie in \\[0, 1\\], got a value of 2.0"):
        loss_ops.binary_cross_entropy(np.array([0.5, 0.5]), np.array([1, 2]))
    with pytest.raises(ValueError, match="input \\(probabilities\\) must lie in \\[0, 1\\], got a value of 1.5.*"
                                         "binary_cross_entropy_with_logits"):
        loss_ops.binary_cross_entropy(np.array([0.5, 1.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="got a value of -0.25"):
        loss_ops.binary_cross_entropy(np.array([0.5, 0.5]), np.array([-0.25, 0.0]))


# ---------------------------------------------------------------- smooth L1 and KL
@pytest.mark.parametrize("beta", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1_loss_matches_torch(beta, reduction, compare_torch64, torch, rng):
    pred, target = _regression_pair(rng)
    compare_torch64(
        lambda a, b: loss_ops.smooth_l1_loss(a, b, beta=beta, reduction=reduction),
        lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, beta=beta, reduction=reduction),
        pred, target,
    )


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # torch's advice to use batchmean
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target, compare_torch64, torch, rng):
    x = np.log(_probabilities(rng, (4, 5)))
    target = _probabilities(rng, (4, 5))
    target = np.log(target) if log_target else target
    compare_torch64(
        lambda a, b: loss_ops.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
        x, target,
    )


def test_kl_div_zero_target_terms_are_zero(torch):
    x, t = np.log(np.array([[0.2, 0.8]])), np.array([[0.0, 1.0]])
    ours = loss_ops.kl_div(x, t, reduction="sum").item()
    assert ours == pytest.approx(torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t), reduction="sum").item())
    with pytest.raises(ValueError, match="kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none'"):
        loss_ops.kl_div(x, t, reduction="avg")


# ---------------------------------------------- margin and likelihood losses, in float32 and by gradcheck
def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


OTHER = [
    ("soft_margin", lambda rng: ([rng.standard_normal((4, 3)) * 3], [_signs(rng, (4, 3))]),
     loss_ops.soft_margin_loss, "soft_margin_loss", {}),
    ("hinge_embedding", lambda rng: ([rng.uniform(0.1, 2, (6,))], [_signs(rng, (6,))]),
     loss_ops.hinge_embedding_loss, "hinge_embedding_loss", {"margin": 1.3}),
    ("margin_ranking", lambda rng: ([rng.standard_normal(6), rng.standard_normal(6)], [_signs(rng, (6,))]),
     loss_ops.margin_ranking_loss, "margin_ranking_loss", {"margin": 0.2}),
    ("multilabel_soft_margin", lambda rng: ([rng.standard_normal((4, 3)) * 3], [(rng.random((4, 3)) > 0.5) * 1.0]),
     loss_ops.multilabel_soft_margin_loss, "multilabel_soft_margin_loss", {}),
    ("poisson_nll", lambda rng: ([rng.standard_normal((4, 3)), rng.poisson(3.0, (4, 3)) + 1.5], []),
     loss_ops.poisson_nll_loss, "poisson_nll_loss", {"full": True}),
    ("poisson_nll_rates", lambda rng: ([rng.uniform(0.5, 3, (4, 3)), rng.poisson(2.0, (4, 3)) * 1.0], []),
     loss_ops.poisson_nll_loss, "poisson_nll_loss", {"log_input": False}),
    ("gaussian_nll", lambda rng: ([rng.standard_normal((4, 3)), rng.standard_normal((4, 3)),
                                   rng.uniform(0.3, 2, (4, 1))], []),
     loss_ops.gaussian_nll_loss, "gaussian_nll_loss", {"full": True}),
]


@pytest.mark.parametrize("name,make,fn,torch_name,kwargs", OTHER, ids=[c[0] for c in OTHER])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_other_losses_match_torch_in_float32(name, make, fn, torch_name, kwargs, reduction, compare_torch, torch, rng):
    inputs, constants = make(rng)
    theirs = getattr(torch.nn.functional, torch_name)
    compare_torch(
        lambda *t: fn(*t, *constants, reduction=reduction, **kwargs),
        lambda *t: theirs(*t, *[torch.tensor(c, dtype=torch.float32) for c in constants], reduction=reduction,
                          **kwargs),
        *inputs,
    )


@pytest.mark.parametrize("name,make,fn,torch_name,kwargs", OTHER, ids=[c[0] for c in OTHER])
def test_other_losses_gradcheck(name, make, fn, torch_name, kwargs, rng):
    inputs, constants = make(rng)
    assert cr.gradcheck(lambda *t: fn(*t, *constants, reduction="sum", **kwargs), inputs)


def test_other_loss_errors():
    with pytest.raises(ValueError, match="soft_margin_loss: input shape \\(2,\\) and target shape \\(3,\\) must match"):
        loss_ops.soft_margin_loss(np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entries"):
        loss_ops.gaussian_nll_loss(np.zeros(2), np.zeros(2), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var of shape \\(3,\\) does not fit"):
        loss_ops.gaussian_nll_loss(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(3))


def test_cross_entropy_ignore_index_that_matches_nothing_changes_nothing(rng):
    # the fast path: an ignore_index no target equals gives the same loss and gradient as none
    logits, target = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    a, b = cr.Tensor(logits, requires_grad=True), cr.Tensor(logits, requires_grad=True)
    cross_entropy(a, target).backward()
    cross_entropy(b, target, ignore_index=-100).backward()
    np.testing.assert_array_equal(np.asarray(a.grad), np.asarray(b.grad))
