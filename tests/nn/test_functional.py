"""Tests for chainrule/nn/functional.py: every name against torch.nn.functional's, in float64, forward and
input gradients to 1e-7 (one table), and the names and signatures themselves."""

import inspect
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


class D:
    """A float64 input that both frameworks differentiate."""

    def __init__(self, array):
        self.array = np.asarray(array, dtype=np.float64)


_gen = np.random.default_rng(42)


def _normal(*shape, scale=1.0):
    return _gen.standard_normal(shape) * scale


def _away(*shape, points=(0.0,), margin=0.05):
    """Normal values kept ``margin`` away from each kink in ``points`` (finite differences and masks agree)."""
    x = _normal(*shape, scale=2.0)
    for p in points:
        close = np.abs(x - p) < margin
        x[close] = p + np.where(x[close] >= p, margin, -margin) * 2
    return x


def _probs(*shape, axis=1):
    p = _gen.random(shape) + 0.05
    return p / p.sum(axis=axis, keepdims=True)


def _labels(n, classes, *rest):
    return _gen.integers(0, classes, (n, *rest))


def _signs(*shape):
    return _gen.choice([-1.0, 1.0], size=shape)


def _case(name, *args, call=None, id=None, **kwargs):
    return pytest.param(name, call, args, kwargs, id=id or name)


_T, _N, _C, _S = 7, 3, 5, 3
_ctc_targets = np.array([[1, 1, 2], [3, 4, 0], [2, 0, 0]])

_UNPOOLED = {1: _normal(2, 3, 8), 2: _normal(2, 3, 7, 8), 3: _normal(1, 2, 4, 5, 4)}  # max_unpool's indices

CASES = [
    # activations
    _case("relu", D(_away(3, 4))),
    _case("relu6", D(_away(3, 4, points=(0.0, 6.0)) * 2)),
    _case("elu", D(_away(3, 4)), 0.7),
    _case("selu", D(_away(3, 4))),
    _case("celu", D(_away(3, 4)), alpha=1.5),
    _case("gelu", D(_normal(3, 4))),
    _case("gelu", D(_normal(3, 4)), approximate="tanh", id="gelu_tanh"),
    _case("silu", D(_normal(3, 4))),
    _case("mish", D(_normal(3, 4))),
    _case("leaky_relu", D(_away(3, 4)), 0.2),
    _case("prelu", D(_away(2, 3, 4)), D(np.array([0.1, 0.3, -0.2]))),
    _case("prelu", D(_away(2, 3)), D(np.array([0.25])), id="prelu_shared"),
    _case("hardtanh", D(_away(3, 4, points=(-0.5, 1.5))), -0.5, 1.5),
    _case("hardswish", D(_away(3, 4, points=(-3.0, 3.0)) * 2)),
    _case("hardsigmoid", D(_away(3, 4, points=(-3.0, 3.0)) * 2)),
    _case("softplus", D(_normal(3, 4, scale=3)), 2.0, 3.0),
    _case("softsign", D(_normal(3, 4))),
    _case("logsigmoid", D(_normal(3, 4, scale=5))),
    _case("tanhshrink", D(_normal(3, 4))),
    _case("softshrink", D(_away(3, 4, points=(-0.3, 0.3))), 0.3),
    _case("hardshrink", D(_away(3, 4, points=(-0.3, 0.3))), 0.3),
    _case("threshold", D(_away(3, 4, points=(0.2,))), 0.2, -1.0),
    _case("glu", D(_normal(4, 3)), dim=0, id="glu_dim0"),
    _case("glu", D(_normal(3, 4))),
    _case("sigmoid", D(_normal(3, 4, scale=4))),
    _case("tanh", D(_normal(3, 4))),
    _case("softmax", D(_normal(2, 3, 4)), dim=1),
    _case("log_softmax", D(_normal(2, 3, 4)), dim=-1),
    _case("softmin", D(_normal(2, 3, 4)), 0),
    # losses
    _case("cross_entropy", D(_normal(6, _C)), _labels(6, _C)),
    _case("cross_entropy", D(_normal(6, _C)), np.array([0, -100, 2, 4, -100, 1]), weight=_gen.random(_C) + 0.5,
          label_smoothing=0.2, id="cross_entropy_weight_ignore_smoothing"),
    _case("cross_entropy", D(_normal(2, _C, 3, 2)), _labels(2, _C, 3, 2), reduction="sum", id="cross_entropy_spatial"),
    _case("cross_entropy", D(_normal(4, _C)), D(_probs(4, _C)), label_smoothing=0.1, id="cross_entropy_probs"),
    _case("cross_entropy", D(_normal(4, _C)), np.array([1, 7, 2, 0]), ignore_index=7, reduction="none",
          id="cross_entropy_ignore_7"),
    _case("nll_loss", D(_normal(6, _C)), _labels(6, _C)),
    _case("nll_loss", D(_normal(2, _C, 3)), np.array([[0, 1, -100], [4, 4, 2]]), weight=_gen.random(_C) + 0.5,
          id="nll_loss_spatial_weight_ignore"),
    _case("nll_loss", D(_normal(4, _C)), _labels(4, _C), reduction="none", id="nll_loss_none"),
    _case("binary_cross_entropy", D(_gen.uniform(0.05, 0.95, (4, 3))), D(_gen.random((4, 3))),
          weight=_gen.random(3) + 0.5),
    _case("binary_cross_entropy_with_logits", D(_normal(4, 3, scale=3)), D(_gen.random((4, 3))),
          pos_weight=_gen.random(3) + 0.5),
    _case("mse_loss", D(_normal(4, 3)), D(_normal(4, 3))),
    _case("mse_loss", D(_normal(4, 3)), D(_normal(4, 3)), weight=_gen.random((4, 3)), id="mse_loss_weight"),
    _case("l1_loss", D(_normal(4, 3)), D(_normal(4, 3)), reduction="sum"),
    _case("l1_loss", D(_normal(4, 3)), D(_normal(4, 3)), weight=_gen.random((4, 3)), reduction="sum",
          id="l1_loss_weight"),
    _case("smooth_l1_loss", D(_normal(4, 3, scale=2)), D(_normal(4, 3)), beta=0.5),
    _case("huber_loss", D(_normal(4, 3, scale=2)), D(_normal(4, 3)), delta=0.5),
    _case("huber_loss", D(_normal(4, 3, scale=2)), D(_normal(4, 3)), delta=0.5, weight=_gen.random((4, 3)),
          id="huber_loss_weight"),
    _case("huber_loss", D(_normal(4, 3, scale=2)), D(_normal(4, 3)), "none", 0.5, _gen.random((4, 3)),
          id="huber_loss_weight_none"),
    _case("kl_div", D(np.log(_probs(4, _C))), D(_probs(4, _C)), reduction="batchmean"),
    _case("kl_div", D(np.log(_probs(4, _C))), D(np.log(_probs(4, _C))), reduction="sum", log_target=True,
          id="kl_div_log_target"),
    _case("cosine_embedding_loss", D(_normal(5, 4)), D(_normal(5, 4)), _signs(5).astype(np.int64), margin=-0.2),
    _case("margin_ranking_loss", D(_normal(6)), D(_normal(6)), _signs(6), margin=0.1),
    _case("triplet_margin_loss", D(_normal(4, 3)), D(_normal(4, 3)), D(_normal(4, 3)), margin=2.0),
    _case("triplet_margin_loss", D(_normal(4, 3)), D(_normal(4, 3)), D(_normal(4, 3)), margin=3.0, p=1, swap=True,
          id="triplet_margin_loss_swap_p1"),
    _case("hinge_embedding_loss", D(_away(6, points=(0.0, 1.0))), _signs(6)),
    _case("soft_margin_loss", D(_normal(6, scale=3)), _signs(6)),
    _case("multilabel_soft_margin_loss", D(_normal(4, 3, scale=3)), (_gen.random((4, 3)) > 0.5).astype(float),
          weight=_gen.random(3) + 0.5),
    # full=True: targets above 1 (torch's Stirling term has a NaN target gradient at t <= 1)
    _case("poisson_nll_loss", D(_normal(4, 3)), D(_gen.poisson(2.0, (4, 3)) + 1.5), full=True),
    _case("poisson_nll_loss", D(_gen.uniform(0.5, 3, (4, 3))), D(_gen.poisson(2.0, (4, 3)).astype(float)),
          log_input=False, id="poisson_nll_loss_rates"),
    _case("gaussian_nll_loss", D(_normal(4, 3)), D(_normal(4, 3)), D(_gen.uniform(0.2, 2, (4, 3))), full=True),
    _case("gaussian_nll_loss", D(_normal(4, 3)), D(_normal(4, 3)), D(_gen.uniform(0.2, 2, (4,))),
          id="gaussian_nll_loss_per_sample_var"),
    _case("ctc_loss", D(_normal(_T, _N, _C)), _ctc_targets, np.array([7, 6, 3]), np.array([3, 2, 1]),
          call=lambda F, x, *rest, **kw: F.ctc_loss(F.log_softmax(x, 2), *rest, **kw)),
    # layers
    _case("linear", D(_normal(3, 4)), D(_normal(2, 4)), D(_normal(2))),
    _case("embedding", np.array([[0, 2], [3, 2]]), D(_normal(4, 3)), padding_idx=2),
    _case("conv2d", D(_normal(2, 4, 5, 5)), D(_normal(6, 2, 3, 3)), D(_normal(6)), 2, 1, 1, 2),
    _case("conv_transpose2d", D(_normal(2, 3, 4, 4)), D(_normal(3, 2, 3, 3)), None, 2, 1, 1),
    _case("conv1d", D(_normal(2, 4, 9)), D(_normal(6, 2, 3)), D(_normal(6)), 2, 1, 2, 2),
    _case("conv3d", D(_normal(2, 2, 4, 5, 4)), D(_normal(3, 2, 2, 3, 2)), D(_normal(3)), (1, 2, 1), 1),
    _case("conv_transpose1d", D(_normal(2, 4, 5)), D(_normal(4, 3, 3)), D(_normal(3)), 2, 1, 1),
    _case("conv_transpose3d", D(_normal(1, 2, 3, 3, 2)), D(_normal(2, 3, 2, 3, 2)), None, 2, 1, 1),
    _case("max_pool1d", D(_normal(2, 3, 9)), 3, 2, 1, ceil_mode=True),
    _case("max_pool2d", D(_normal(2, 3, 6, 6)), 2),
    _case("max_pool2d", D(_normal(2, 3, 7, 8)), 3, 2, 1, 2, True, id="max_pool2d_dilation_ceil"),
    _case("max_pool3d", D(_normal(1, 2, 5, 4, 5)), 2, (1, 2, 2)),
    _case("avg_pool1d", D(_normal(2, 3, 9)), 4, 3, 2, True, False),
    _case("avg_pool2d", D(_normal(2, 3, 5, 5)), 3, 2, 1, count_include_pad=False),
    _case("avg_pool2d", D(_normal(2, 3, 7, 6)), 3, 2, 1, True, True, 4, id="avg_pool2d_ceil_divisor"),
    _case("avg_pool3d", D(_normal(1, 2, 5, 4, 5)), 2, 2, 1, True),
    _case("max_unpool1d", D(_normal(2, 3, 4)), call=lambda F, x: F.max_unpool1d(
        x, F.max_pool1d(_values(F, _UNPOOLED[1]), 2, return_indices=True)[1], 2)),
    _case("max_unpool2d", D(_normal(2, 3, 3, 4)), call=lambda F, x: F.max_unpool2d(
        x, F.max_pool2d(_values(F, _UNPOOLED[2]), 2, return_indices=True)[1], 2, output_size=(7, 8))),
    _case("max_unpool3d", D(_normal(1, 2, 2, 2, 2)), call=lambda F, x: F.max_unpool3d(
        x, F.max_pool3d(_values(F, _UNPOOLED[3]), 2, return_indices=True)[1], 2, output_size=(4, 5, 4))),
    _case("adaptive_max_pool1d", D(_normal(2, 3, 10)), 4),
    _case("adaptive_max_pool2d", D(_normal(2, 3, 7, 5)), (3, 2)),
    _case("adaptive_max_pool3d", D(_normal(1, 2, 5, 4, 6)), (2, None, 4)),
    _case("adaptive_avg_pool1d", D(_normal(2, 3, 10)), 4),
    _case("adaptive_avg_pool2d", D(_normal(2, 3, 7, 5)), (3, 2)),
    _case("adaptive_avg_pool3d", D(_normal(1, 2, 5, 4, 6)), (2, 3, 4)),
    _case("interpolate", D(_normal(2, 3, 4, 5)), (7, 3), mode="bilinear", id="interpolate_bilinear"),
    _case("interpolate", D(_normal(2, 3, 4, 5)), None, 1.5, "bicubic", True, id="interpolate_bicubic_corners"),
    _case("interpolate", D(_normal(2, 3, 6)), scale_factor=2, mode="nearest-exact", id="interpolate_nearest_exact"),
    _case("interpolate", D(_normal(1, 2, 3, 4, 2)), scale_factor=(2, 1.5, 2), mode="trilinear",
          id="interpolate_trilinear"),
    _case("upsample", D(_normal(2, 3, 4, 5)), scale_factor=2),
    _case("upsample_nearest", D(_normal(2, 3, 4, 5)), (5, 9)),
    _case("upsample_bilinear", D(_normal(2, 3, 4, 5)), scale_factor=2),
    _case("pixel_shuffle", D(_normal(2, 8, 3, 2)), 2),
    _case("pixel_unshuffle", D(_normal(2, 2, 4, 6)), 2),
    _case("unfold", D(_normal(2, 3, 6, 7)), (2, 3), 2, 1, (1, 2)),
    _case("fold", D(_normal(2, 12, 32)), (7, 8), (2, 3), 1, 1, (2, 1)),
    _case("batch_norm", D(_normal(4, 3, 2)), _normal(3), _gen.uniform(0.5, 2, 3), D(_normal(3)), D(_normal(3)),
          training=True),
    _case("batch_norm", D(_normal(4, 3)), _normal(3), _gen.uniform(0.5, 2, 3), id="batch_norm_eval"),
    _case("layer_norm", D(_normal(3, 4, 5)), (4, 5), D(_normal(4, 5)), D(_normal(4, 5))),
    # tensors and distances
    _case("pad", D(_normal(2, 3, 4)), (1, 2), id="pad_constant", value=0.5),
    _case("pad", D(_normal(2, 3, 4)), (1, -1, 2, 0), id="pad_constant_crop"),
    _case("pad", D(_normal(2, 3, 4, 5)), (2, 3, 1, 2), "reflect", id="pad_reflect"),
    _case("pad", D(_normal(2, 3, 4)), (3, 1), "replicate", id="pad_replicate"),
    _case("pad", D(_normal(2, 3, 4, 5)), (4, 5, 1, 3), "circular", id="pad_circular"),
    _case("normalize", D(_normal(3, 4))),
    _case("normalize", D(_normal(3, 4)), 3.0, 0, id="normalize_p3_dim0"),
    _case("cosine_similarity", D(_normal(3, 4)), D(_normal(3, 4))),
    _case("cosine_similarity", D(_normal(3, 4, 2)), D(_normal(3, 4, 2)), dim=2, id="cosine_similarity_dim2"),
    _case("pairwise_distance", D(_normal(3, 4)), D(_normal(3, 4))),
    _case("pairwise_distance", D(_normal(3, 4)), D(_normal(3, 4)), 1.5, keepdim=True, id="pairwise_distance_p15"),
]
UNTABLED = {"dropout", "dropout2d", "one_hot",  # random or integer-valued: tested below
            # tested against torch in tests/nn/test_functional_norm.py
            "instance_norm", "rms_norm", "group_norm", "local_response_norm", "bilinear", "embedding_bag"}


def _values(F, array):
    """A constant input for either library (the indices of a pooling that a max_unpool case needs)."""
    return cr.Tensor(array) if F.__name__.startswith("chainrule") else __import__("torch").tensor(array)


def _ours(value):
    if isinstance(value, D):
        return cr.Tensor(value.array.copy(), requires_grad=True)
    return value.copy() if isinstance(value, np.ndarray) else value


def _theirs(torch, value):
    if isinstance(value, D):
        return torch.tensor(value.array, requires_grad=True)
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample:UserWarning")  # torch deprecates the upsample names
@pytest.mark.parametrize("name,call,args,kwargs", CASES)
def test_matches_torch_functional(torch, name, call, args, kwargs):
    ours_args = [_ours(a) for a in args]
    theirs_args = [_theirs(torch, a) for a in args]
    ours_kwargs = {k: _ours(v) for k, v in kwargs.items()}
    theirs_kwargs = {k: _theirs(torch, v) for k, v in kwargs.items()}
    call = call or (lambda module, *a, **k: getattr(module, name)(*a, **k))
    out = call(F, *ours_args, **ours_kwargs)
    ref = call(torch.nn.functional, *theirs_args, **theirs_kwargs)
    assert out.dtype == np.float64
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-7, atol=1e-10)

    upstream = np.random.default_rng(1).standard_normal(out.shape) + 1.5  # non-uniform
    out.backward(upstream)
    ref.backward(torch.from_numpy(np.asarray(upstream)))
    for mine, their, given in zip(ours_args + list(ours_kwargs.values()), theirs_args + list(theirs_kwargs.values()),
                                  list(args) + list(kwargs.values())):
        if isinstance(given, D):
            np.testing.assert_allclose(np.asarray(mine.grad), their.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_every_name_is_tested():
    assert {p.values[0] for p in CASES} | UNTABLED == set(F.__all__)


def test_names_are_torch_names(torch):
    public = {name for name in vars(F) if not name.startswith("_") and callable(getattr(F, name))}
    public -= {"Tensor", "as_tensor"}  # imports
    assert public == set(F.__all__)
    assert set(F.__all__) <= set(dir(torch.nn.functional))


def _torch_parameters(fn, name):
    """PyTorch's parameter names: from the signature, or for builtins from the docstring's first line."""
    try:
        parameters = list(inspect.signature(fn).parameters)
        if parameters != ["args", "kwargs"]:
            return parameters
    except (TypeError, ValueError):
        pass
    doc = inspect.getdoc(fn) or ""
    match = re.search(rf"^{name}\((.*?)\)", doc, re.M)
    assert match, f"no signature for torch.nn.functional.{name}"
    return [part.split("=")[0].strip().lstrip("*") for part in match.group(1).split(",") if part.strip() != "*"]


@pytest.mark.parametrize("name", sorted(F.__all__))
def test_signature_matches_torch(torch, name):
    functional = torch.nn.functional
    reference = functional.max_pool2d_with_indices if name == "max_pool2d" else getattr(functional, name)
    assert list(inspect.signature(getattr(F, name)).parameters) == _torch_parameters(reference, name)


# ------------------------------------------------------------------------- untabled functions
def test_dropout(torch):
    x = cr.Tensor(np.ones((200, 50)), requires_grad=True)
    assert F.dropout(x, 0.3, training=False) is x
    out = F.dropout(x, 0.3)  # training=True by default, as in torch
    dropped = (out.numpy() == 0).mean()
    assert 0.25 < dropped < 0.35
    np.testing.assert_allclose(out.numpy()[out.numpy() != 0], 1 / 0.7)
    out.backward(np.full(out.shape, 2.0))
    np.testing.assert_allclose(np.asarray(x.grad), 2 * out.numpy())


def test_dropout2d_drops_whole_channels():
    x = cr.Tensor(np.ones((8, 16, 3, 3)))
    out = F.dropout2d(x, 0.5).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert F.dropout2d(x, 0.5, training=False) is x


def test_one_hot(torch):
    ids = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(ids).numpy(), torch.nn.functional.one_hot(torch.tensor(ids)).numpy())
    np.testing.assert_array_equal(F.one_hot(ids, 6).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(ids), 6).numpy())
    with pytest.raises(ValueError, match="out of range for num_classes=3"):
        F.one_hot(ids, 3)


# ---------------------------------------------------------------------------- conventions
def test_softmax_implicit_dim_warns_and_picks_torchs_axis(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match="implicit dimension"):
        ours = F.softmax(cr.Tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.softmax(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_softmax_dtype_casts_first():
    out = F.softmax(cr.Tensor(np.zeros((2, 3), np.float32)), dim=1, dtype="float64")
    assert out.dtype == np.float64


def test_legacy_size_average_and_reduce(torch):
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    with pytest.warns(DeprecationWarning, match="size_average and reduce are deprecated"):
        total = F.mse_loss(cr.Tensor(x), y, size_average=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y), size_average=False)
    assert float(total.numpy()) == pytest.approx(float(expected))
    with pytest.warns(DeprecationWarning):
        assert F.l1_loss(cr.Tensor(x), y, reduce=False).shape == (2, 3)




def test_pad_errors():
    x = cr.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="pad must have an even length"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="mode 'reflect' pads axis 1 of size 3 by at most 2"):
        F.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(x, (1, 1), "wrap")


def test_functional_is_importable_as_in_torch():
    from chainrule.nn import functional

    assert functional is F is nn.functional
