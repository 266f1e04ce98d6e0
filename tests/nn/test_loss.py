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


# ------------------------------------------------------------- every loss module against torch.nn
_gen = np.random.default_rng(7)
_C = 4


def _probs(*shape):
    p = _gen.random(shape) + 0.05
    return p / p.sum(axis=-1, keepdims=True)


# (ours, torch.nn class name, its kwargs, differentiable float inputs, constant inputs (after them))
MODULES = [
    (nn.MSELoss(reduction="sum"), "MSELoss", {"reduction": "sum"}, [_gen.standard_normal((3, 2)) for _ in "ab"], []),
    (nn.SmoothL1Loss(beta=0.5), "SmoothL1Loss", {"beta": 0.5},
     [_gen.standard_normal((3, 2)) * 2, _gen.standard_normal((3, 2))], []),
    (nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1), "CrossEntropyLoss",
     {"ignore_index": 1, "label_smoothing": 0.1}, [_gen.standard_normal((5, _C))], [np.array([0, 1, 3, 2, 1])]),
    (nn.NLLLoss(weight=np.array([0.5, 1.0, 2.0, 1.5])), "NLLLoss", {"weight": np.array([0.5, 1.0, 2.0, 1.5])},
     [np.log(_probs(5, _C))], [np.array([0, 1, 3, 2, 1])]),
    (nn.BCELoss(reduction="none"), "BCELoss", {"reduction": "none"},
     [_gen.uniform(0.05, 0.95, (3, 2)), _gen.random((3, 2))], []),
    (nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 0.5])), "BCEWithLogitsLoss", {"pos_weight": np.array([2.0, 0.5])},
     [_gen.standard_normal((3, 2)), _gen.random((3, 2))], []),
    (nn.KLDivLoss(reduction="batchmean", log_target=True), "KLDivLoss", {"reduction": "batchmean", "log_target": True},
     [np.log(_probs(3, _C)), np.log(_probs(3, _C))], []),
    (nn.CosineEmbeddingLoss(margin=0.1), "CosineEmbeddingLoss", {"margin": 0.1},
     [_gen.standard_normal((4, 3)), _gen.standard_normal((4, 3))], [np.array([1, -1, -1, 1])]),
    (nn.MarginRankingLoss(margin=0.3), "MarginRankingLoss", {"margin": 0.3},
     [_gen.standard_normal(5), _gen.standard_normal(5)], [np.array([1.0, -1.0, 1.0, 1.0, -1.0])]),
    (nn.TripletMarginLoss(margin=1.5, p=1.0, swap=True), "TripletMarginLoss", {"margin": 1.5, "p": 1.0, "swap": True},
     [_gen.standard_normal((4, 3)) for _ in range(3)], []),
    (nn.HingeEmbeddingLoss(margin=2.0), "HingeEmbeddingLoss", {"margin": 2.0}, [_gen.uniform(0.1, 3, 6)],
     [np.array([1.0, -1.0, -1.0, 1.0, -1.0, 1.0])]),
    (nn.SoftMarginLoss(), "SoftMarginLoss", {}, [_gen.standard_normal(6)], [np.array([1.0, -1.0, -1.0, 1.0, -1, 1])]),
    (nn.MultiLabelSoftMarginLoss(weight=np.array([1.0, 2.0, 0.5])), "MultiLabelSoftMarginLoss",
     {"weight": np.array([1.0, 2.0, 0.5])}, [_gen.standard_normal((4, 3))], [(_gen.random((4, 3)) > 0.5) * 1.0]),
    (nn.PoissonNLLLoss(full=True), "PoissonNLLLoss", {"full": True},
     [_gen.standard_normal((3, 2)), _gen.poisson(3.0, (3, 2)) + 1.5], []),
    (nn.GaussianNLLLoss(full=True), "GaussianNLLLoss", {"full": True},
     [_gen.standard_normal((3, 2)), _gen.standard_normal((3, 2)), _gen.uniform(0.2, 2, (3, 1))], []),
]


def _as_torch(torch, value):
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("ours,name,kwargs,inputs,constants", MODULES, ids=[m[1] for m in MODULES])
def test_loss_modules_match_torch_in_float64(compare_torch64, torch, ours, name, kwargs, inputs, constants):
    theirs = getattr(torch.nn, name)(**{k: _as_torch(torch, v) for k, v in kwargs.items()})
    compare_torch64(lambda *t: ours(*t, *constants),
                    lambda *t: theirs(*t, *[_as_torch(torch, c) for c in constants]), *inputs)
    rebuilt = nn.build_module(ours.to_config())
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()


def test_ctc_loss_module_matches_torch(compare_torch64, torch, rng):
    logits, targets = rng.standard_normal((6, 2, 4)), np.array([[1, 2, 2], [3, 1, 0]])
    il, tl = np.array([6, 5]), np.array([3, 2])
    ours, theirs = nn.CTCLoss(blank=0, zero_infinity=True), torch.nn.CTCLoss(blank=0, zero_infinity=True)
    compare_torch64(lambda t: ours(cr.log_softmax(t, axis=2), targets, il, tl),
                    lambda t: theirs(t.log_softmax(2), torch.tensor(targets), torch.tensor(il), torch.tensor(tl)),
                    logits)
    assert nn.build_module(ours.to_config()).get_config() == {"blank": 0, "reduction": "mean", "zero_infinity": True}


@pytest.mark.parametrize("module,torch_name,weight_kw,target", [
    ("CrossEntropyLoss", "CrossEntropyLoss", "weight", "labels"),
    ("NLLLoss", "NLLLoss", "weight", "labels"),
    ("BCEWithLogitsLoss", "BCEWithLogitsLoss", "pos_weight", "binary"),
    ("BCEWithLogitsLoss", "BCEWithLogitsLoss", "weight", "binary"),
])
@pytest.mark.parametrize("weight_dtype", [np.float64, np.float32])
def test_weighted_losses_in_a_float64_model_match_torch(torch, rng, module, torch_name, weight_kw, target,
                                                        weight_dtype):
    # issue 14: the class weights follow the input's dtype at call time; a float64 model gets a float64
    # loss and gradients equal to torch's (with the same weight values)
    model = nn.Linear(3, _C, dtype="float64", seed=0)
    weight = (rng.random(_C) + 0.5).astype(weight_dtype)
    loss_fn = getattr(nn, module)(**{weight_kw: weight})
    x = rng.standard_normal((6, 3))
    y = rng.integers(0, _C, 6) if target == "labels" else (rng.random((6, _C)) > 0.5) * 1.0
    output = model(cr.Tensor(x))
    if module == "NLLLoss":
        output = cr.log_softmax(output, axis=1)
    loss = loss_fn(output, y)
    loss.backward()
    assert loss.dtype == np.float64 and np.asarray(model.weight.grad).dtype == np.float64

    reference = torch.nn.Linear(3, _C).double()
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(model.weight.data))
        reference.bias.copy_(torch.tensor(model.bias.data))
    ref_out = reference(torch.tensor(x))
    if module == "NLLLoss":
        ref_out = ref_out.log_softmax(1)
    ref_loss = getattr(torch.nn, torch_name)(**{weight_kw: torch.tensor(weight.astype(np.float64))})(
        ref_out, torch.tensor(y))
    ref_loss.backward()
    np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-7)
    np.testing.assert_allclose(np.asarray(model.weight.grad), reference.weight.grad.numpy(), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(np.asarray(model.bias.grad), reference.bias.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_float64_weights_are_kept_exactly_and_follow_to():
    loss = nn.CrossEntropyLoss(weight=np.array([0.1, 0.7]))
    assert loss.weight.dtype == np.float64 and loss.weight[0] == 0.1
    assert loss.float().weight.dtype == np.float32
    assert nn.BCEWithLogitsLoss(pos_weight=[2.0]).pos_weight.dtype == np.float32  # lists: the float32 default


def test_bce_loss_rejects_targets_outside_the_unit_interval():
    # issue 14: BCELoss accepted a target of 2
    with pytest.raises(ValueError, match="binary_cross_entropy: target must lie in \\[0, 1\\], got a value of 2.0"):
        nn.BCELoss()(cr.Tensor(np.array([0.3, 0.6])), np.array([1.0, 2.0]))


def test_loss_module_defaults_and_reprs_follow_torch(torch):
    assert nn.CrossEntropyLoss().ignore_index == torch.nn.CrossEntropyLoss().ignore_index == -100
    assert nn.NLLLoss().ignore_index == -100
    assert repr(nn.KLDivLoss(reduction="batchmean")) == "KLDivLoss(reduction='batchmean')"
    assert repr(nn.TripletMarginLoss()) == "TripletMarginLoss()"
    with pytest.warns(DeprecationWarning):
        assert nn.L1Loss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be one of 'mean', 'sum', 'none', 'batchmean'"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="CTCLoss: blank must be a non-negative int"):
        nn.CTCLoss(blank=-1)


def test_cross_entropy_module_with_probability_targets_ignores_the_default_ignore_index(torch, rng):
    logits, target = rng.standard_normal((3, 4)), _probs(3, 4)
    ours = nn.CrossEntropyLoss()(cr.Tensor(logits), target).item()
    theirs = torch.nn.CrossEntropyLoss()(torch.tensor(logits), torch.tensor(target)).item()
    assert ours == pytest.approx(theirs, rel=1e-12)
