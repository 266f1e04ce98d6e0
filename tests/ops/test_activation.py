"""Tests for chainrule/ops/activation.py: gradient checks, PyTorch agreement, stability, errors."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import activation
from chainrule.tensor import result
from chainrule.ops.activation import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh

# (name, our function, torch function name in torch.nn.functional or torch, kwargs shared by both)
SMOOTH = [
    ("sigmoid", sigmoid, "sigmoid", {}),
    ("tanh", tanh, "tanh", {}),
    ("softplus", softplus, "softplus", {}),
    ("softplus_beta", softplus, "softplus", {"beta": 2.0, "threshold": 3.0}),
    ("gelu", gelu, "gelu", {}),
    ("gelu_tanh", gelu, "gelu", {"approximate": "tanh"}),
    ("elu", elu, "elu", {}),
    ("elu_alpha", elu, "elu", {"alpha": 0.5}),
]
KINKED = [
    ("relu", relu, "relu", {}),
    ("leaky_relu", leaky_relu, "leaky_relu", {}),
    ("leaky_relu_slope", leaky_relu, "leaky_relu", {"negative_slope": 0.2}),
]
ALL = SMOOTH + KINKED


def _away_from_zero(rng, shape, margin=0.05):
    x = rng.standard_normal(shape)
    return x + np.sign(x) * margin


def _torch_fn(torch, name, kwargs):
    functional = torch.nn.functional
    fn = getattr(functional, name)
    if name == "leaky_relu" and "negative_slope" in kwargs:
        return lambda x: fn(x, kwargs["negative_slope"])
    return lambda x: fn(x, **kwargs)


def _softplus_grid():
    # points on both sides of the threshold (beta·x = 3 at x = 1.5 for the beta=2 case)
    return np.array([[-3.0, -0.7, 0.2, 1.2], [1.49, 1.51, 4.0, 25.0]])


# ---------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("name,fn,_,kwargs", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_gradcheck_smooth(name, fn, _, kwargs, rng):
    x = _away_from_zero(rng, (3, 4)) * 2
    assert cr.gradcheck(lambda t: fn(t, **kwargs), [x])


def test_gradcheck_softplus_on_both_sides_of_threshold():
    assert cr.gradcheck(lambda t: softplus(t, beta=2.0, threshold=3.0), [_softplus_grid()])


@pytest.mark.parametrize("name,fn,_,kwargs", KINKED, ids=[c[0] for c in KINKED])
def test_gradcheck_near_the_kink(name, fn, _, kwargs):
    # close to 0 but farther than gradcheck's step (1e-6), so the finite difference stays on one side
    x = np.array([[-1e-3, -1e-4, 1e-4, 1e-3], [-2.0, -1e-5, 1e-5, 3.0]])
    assert cr.gradcheck(lambda t: fn(t, **kwargs), [x])


@pytest.mark.parametrize("fn", [softmax, log_softmax])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gradcheck_softmax_family(fn, axis, rng):
    x = rng.standard_normal((3, 4, 2)) * 3
    assert cr.gradcheck(lambda t: fn(t, axis=axis), [x])


def test_gradcheck_detects_a_wrong_backward(rng):
    # the checks above can fail: a sigmoid whose backward forgets the (1 - σ) factor is caught
    def bad_sigmoid(t):
        out = sigmoid(t)
        return result(out.data, (t,), lambda g: (g * out.data,), "bad")

    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(bad_sigmoid, [rng.standard_normal(4)])


# ---------------------------------------------------------------- against PyTorch
@pytest.mark.parametrize("name,fn,torch_name,kwargs", ALL, ids=[c[0] for c in ALL])
def test_matches_torch(name, fn, torch_name, kwargs, compare_torch, torch, rng):
    x = rng.standard_normal((2, 7)) * 3
    if name.startswith("softplus"):
        x = np.concatenate([x, _softplus_grid()], axis=1)
    compare_torch(lambda t: fn(t, **kwargs), _torch_fn(torch, torch_name, kwargs), x)


@pytest.mark.parametrize("name,fn,torch_name,kwargs", ALL, ids=[c[0] for c in ALL])
def test_gradient_at_exactly_zero_matches_torch(name, fn, torch_name, kwargs, compare_torch, torch):
    x = np.array([[0.0, -0.0, 1.0, -1.0]])
    compare_torch(lambda t: fn(t, **kwargs), _torch_fn(torch, torch_name, kwargs), x)


def test_softplus_exactly_at_threshold_matches_torch(compare_torch, torch):
    # beta·x == threshold stays on the smooth side (PyTorch switches to x only above it)
    x = np.array([[1.5, 10.0, 20.0, 21.0]])
    compare_torch(
        lambda t: softplus(t, beta=2.0, threshold=3.0), lambda t: torch.nn.functional.softplus(t, 2.0, 3.0), x[:, :1]
    )
    compare_torch(softplus, torch.nn.functional.softplus, x)


def test_relu_gradient_at_zero_is_zero():
    x = cr.Tensor(np.array([0.0, 2.0, -2.0], np.float32), requires_grad=True)
    relu(x).backward(np.array([5.0, 5.0, 5.0], np.float32))
    np.testing.assert_array_equal(x.grad, [0.0, 5.0, 0.0])


def test_relu_keeps_the_memory_layout_of_its_input(rng):
    # conv2d returns channels-first memory behind an NCHW view; pooling and the backward's
    # products run faster when ReLU hands the same layout on
    x = np.ascontiguousarray(rng.standard_normal((3, 4, 5, 6)).transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    out = relu(cr.Tensor(x)).data
    assert out.strides == x.strides
    np.testing.assert_array_equal(out, np.maximum(x, 0))


@pytest.mark.parametrize("fn,torch_name", [(softmax, "softmax"), (log_softmax, "log_softmax")])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family_matches_torch(fn, torch_name, axis, compare_torch, torch, rng):
    x = rng.standard_normal((3, 4, 5)) * 4
    compare_torch(lambda t: fn(t, axis=axis), lambda t: getattr(torch, torch_name)(t, dim=axis), x)


# ------------------------------------------------------------------- large inputs
LARGE = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])


@pytest.mark.parametrize(
    "fn",
    [sigmoid, tanh, softplus, gelu, lambda t: gelu(t, approximate="tanh"), elu, leaky_relu, relu],
    ids=["sigmoid", "tanh", "softplus", "gelu", "gelu_tanh", "elu", "leaky_relu", "relu"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_inputs_give_finite_values_and_gradients_without_warnings(fn, dtype):
    x = cr.Tensor(LARGE.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow / invalid-value RuntimeWarning fails the test
        out = fn(x)
        out.backward(np.linspace(0.5, 2.0, LARGE.size).astype(dtype))
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(out.numpy()).all()
    assert np.isfinite(x.grad).all()


def test_sigmoid_and_softplus_tails_are_accurate():
    x = cr.Tensor(np.array([-1000.0, -100.0, -40.0, 40.0, 100.0, 1000.0]), requires_grad=True)
    out = sigmoid(x)
    expected = [0.0, math.exp(-100.0), 1 / (1 + math.exp(40.0)), 1 / (1 + math.exp(-40.0)), 1.0, 1.0]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-14)
    out.backward(np.ones(6))
    # σ'(x) = σ(x)σ(-x) keeps its tiny but non-zero value in both tails
    assert x.grad[2] > 0 and x.grad[3] > 0
    np.testing.assert_allclose(x.grad[[2, 3]], math.exp(-40.0), rtol=1e-12)
    sp = softplus(np.array([-1000.0, -50.0, 50.0, 1000.0]), threshold=1e9)  # never switches to linear
    np.testing.assert_allclose(sp.numpy(), [0.0, math.exp(-50.0), 50.0, 1000.0], rtol=1e-14)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_softmax_family_is_stable_for_large_inputs(fn):
    x = cr.Tensor(np.array([[1000.0, 0.0, -1000.0], [100.0, 100.0, -100.0]], np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(x)
        out.backward(np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], np.float32))
    assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad).all()
    if fn is log_softmax:
        np.testing.assert_allclose(out.numpy()[0], [0.0, -1000.0, -2000.0])
        np.testing.assert_allclose(out.numpy()[1], [-math.log(2.0), -math.log(2.0), -200.0 - math.log(2.0)], rtol=1e-6)


@pytest.mark.parametrize("name,fn,torch_name,kwargs", SMOOTH[:5], ids=[c[0] for c in SMOOTH[:5]])
def test_large_inputs_match_torch(name, fn, torch_name, kwargs, compare_torch, torch):
    compare_torch(lambda t: fn(t, **kwargs), _torch_fn(torch, torch_name, kwargs), LARGE[None, :])


def test_log_softmax_large_inputs_match_torch(compare_torch, torch):
    x = np.array([[1000.0, 0.0, -1000.0, 5.0], [-100.0, 100.0, 99.0, -1000.0]])
    compare_torch(log_softmax, lambda t: torch.log_softmax(t, dim=-1), x)
    compare_torch(softmax, lambda t: torch.softmax(t, dim=-1), x)


# ------------------------------------------------------------------------ erf
def test_erf_and_erfc_agree_with_the_c_library():
    x = np.concatenate([np.linspace(-8, 8, 40001), [1e-300, -1e-12, 3e-8, 26.0, -26.0]])
    expected_erf = np.array([math.erf(v) for v in x])
    expected_erfc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(activation.erf(x), expected_erf, rtol=5e-15, atol=5e-16)
    np.testing.assert_allclose(activation.erfc(x), expected_erfc, rtol=5e-14, atol=0)
    # erfc keeps its relative accuracy far into the upper tail (limited by the rounding of z² there)
    tail = np.linspace(0, 26, 2001)
    np.testing.assert_allclose(activation.erfc(tail), [math.erfc(v) for v in tail], rtol=2e-13)


def test_erf_keeps_float32_and_its_accuracy():
    x = np.linspace(-5, 5, 1001, dtype=np.float32)
    out = activation.erf(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [math.erf(v) for v in x.astype(np.float64)], atol=3e-7)


def test_gelu_matches_exact_formula_in_float64():
    x = np.linspace(-10, 10, 2001)
    expected = [v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x]
    np.testing.assert_allclose(gelu(x).numpy(), expected, rtol=1e-13, atol=1e-300)


# ------------------------------------------------------------ dtypes and methods
@pytest.mark.parametrize("name,fn,_,kwargs", ALL, ids=[c[0] for c in ALL])
def test_float32_in_float32_out(name, fn, _, kwargs):
    x = cr.Tensor(np.array([-2.0, 0.5, 3.0], np.float32), requires_grad=True)
    out = fn(x, **kwargs)
    out.backward(np.ones(3, np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_tensor_methods_call_these_ops(rng):
    data = rng.standard_normal((2, 3)).astype(np.float32)
    x = cr.Tensor(data)
    np.testing.assert_array_equal(x.relu().numpy(), relu(x).numpy())
    np.testing.assert_array_equal(x.sigmoid().numpy(), sigmoid(x).numpy())
    np.testing.assert_array_equal(x.tanh().numpy(), tanh(x).numpy())
    np.testing.assert_array_equal(x.softmax(0).numpy(), softmax(x, 0).numpy())
    np.testing.assert_array_equal(x.log_softmax().numpy(), log_softmax(x).numpy())


def test_no_graph_without_requires_grad():
    out = sigmoid(cr.Tensor(np.ones(3, np.float32)))
    assert not out.requires_grad


# ------------------------------------------------------------------------ errors
def test_softmax_axis_out_of_range_names_the_op():
    with pytest.raises(ValueError, match=r"log_softmax: axis 2 is out of range for a tensor with 2 axes"):
        log_softmax(np.zeros((2, 3), np.float32), axis=2)
    with pytest.raises(ValueError, match="softmax"):
        softmax(np.zeros((2, 3), np.float32), axis=-3)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        gelu(np.zeros(3, np.float32), approximate="fast")


def test_integer_input_is_rejected_with_a_hint():
    with pytest.raises(TypeError, match=r"sigmoid: expected a floating tensor, got dtype int64"):
        sigmoid(np.arange(3))


def test_softplus_rejects_zero_beta():
    with pytest.raises(ValueError, match="softplus: beta must be non-zero"):
        softplus(np.zeros(2, np.float32), beta=0)


# ------------------------------------------------------------- PyTorch's other activations
# (name, our op, its kwargs, torch.nn.functional's call, the kinks: points where the gradient jumps)
NEW = [
    ("relu6", activation.relu6, {}, lambda F, t: F.relu6(t), (0.0, 6.0)),
    ("hardtanh", activation.hardtanh, {"min_val": -0.5, "max_val": 2.0}, lambda F, t: F.hardtanh(t, -0.5, 2.0),
     (-0.5, 2.0)),
    ("hardswish", activation.hardswish, {}, lambda F, t: F.hardswish(t), (-3.0, 3.0)),
    ("hardsigmoid", activation.hardsigmoid, {}, lambda F, t: F.hardsigmoid(t), (-3.0, 3.0)),
    ("selu", activation.selu, {}, lambda F, t: F.selu(t), (0.0,)),
    # alpha = 0.5: PyTorch's celu gradient rounds 1/alpha to float32 (a 1e-7 error for alpha = 0.6)
    ("celu", activation.celu, {"alpha": 0.5}, lambda F, t: F.celu(t, 0.5), (0.0,)),
    ("silu", activation.silu, {}, lambda F, t: F.silu(t), ()),
    ("mish", activation.mish, {}, lambda F, t: F.mish(t), ()),
    ("softsign", activation.softsign, {}, lambda F, t: F.softsign(t), (0.0,)),
    ("logsigmoid", activation.logsigmoid, {}, lambda F, t: F.logsigmoid(t), ()),
    ("tanhshrink", activation.tanhshrink, {}, lambda F, t: F.tanhshrink(t), ()),
    ("softshrink", activation.softshrink, {"lambd": 0.4}, lambda F, t: F.softshrink(t, 0.4), (-0.4, 0.4)),
    ("hardshrink", activation.hardshrink, {"lambd": 0.4}, lambda F, t: F.hardshrink(t, 0.4), (-0.4, 0.4)),
    ("threshold", activation.threshold, {"threshold": 0.3, "value": -2.0}, lambda F, t: F.threshold(t, 0.3, -2.0),
     (0.3,)),
]


def _grid_with_kinks(kinks):
    base = np.linspace(-7, 7, 15) + 0.013
    return np.concatenate([base, np.asarray(kinks, dtype=float)])[None, :]


@pytest.mark.parametrize("name,fn,kwargs,theirs,kinks", NEW, ids=[c[0] for c in NEW])
def test_new_activations_match_torch_at_and_between_kinks(name, fn, kwargs, theirs, kinks, compare_torch64, torch):
    # forward and gradient in float64, exactly at the kinks too (PyTorch's choice of one-sided gradient)
    compare_torch64(lambda t: fn(t, **kwargs), lambda t: theirs(torch.nn.functional, t), _grid_with_kinks(kinks))


@pytest.mark.parametrize("name,fn,kwargs,theirs,kinks", NEW, ids=[c[0] for c in NEW])
def test_new_activations_float32_gradients_stay_float32(name, fn, kwargs, theirs, kinks, compare_torch, torch):
    compare_torch(lambda t: fn(t, **kwargs), lambda t: theirs(torch.nn.functional, t), _grid_with_kinks(kinks))


@pytest.mark.parametrize("name,fn,kwargs,theirs,kinks", NEW, ids=[c[0] for c in NEW])
def test_new_activations_gradcheck_between_kinks(name, fn, kwargs, theirs, kinks):
    x = np.linspace(-7, 7, 15) + 0.013  # no point within 1e-3 of a kink
    assert cr.gradcheck(lambda t: fn(t, **kwargs), [x])


def test_kink_gradients_are_pytorchs_choice():
    # the values PyTorch gives, written out: relu6 and hardtanh 0 at their bounds, hardswish 0 at -3 and 1 at 3
    def grad(fn, points, **kwargs):
        x = cr.Tensor(np.array(points), requires_grad=True)
        fn(x, **kwargs).backward(np.ones(len(points)))
        return np.asarray(x.grad)

    np.testing.assert_array_equal(grad(activation.relu6, [0.0, 6.0, 3.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad(activation.hardtanh, [-1.0, 1.0, 0.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad(activation.hardswish, [-3.0, 3.0, 0.0]), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(grad(activation.hardsigmoid, [-3.0, 3.0]), [0.0, 0.0])


@pytest.mark.parametrize("shape,weight", [((2, 3, 4), [0.1, -0.3, 0.7]), ((2, 3), [0.25]), ((5,), [0.2])])
def test_prelu_matches_torch_with_weight_gradient(shape, weight, compare_torch64, torch, rng):
    x = rng.standard_normal(shape)
    x[..., 0] = 0.0  # PyTorch's slope at exactly 0
    compare_torch64(activation.prelu, torch.nn.functional.prelu, x, np.array(weight))


def test_prelu_rejects_a_weight_that_fits_no_channel_axis():
    with pytest.raises(ValueError, match="prelu: weight has 2 slopes but the input of shape \\(4, 3\\) has 3"):
        activation.prelu(cr.Tensor(np.zeros((4, 3))), cr.Tensor(np.zeros(2)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_glu_and_softmin_match_torch(axis, compare_torch64, torch, rng):
    x = rng.standard_normal((4, 6, 2)) * 3
    compare_torch64(lambda t: activation.glu(t, axis), lambda t: torch.nn.functional.glu(t, axis), x)
    compare_torch64(lambda t: activation.softmin(t, axis), lambda t: torch.nn.functional.softmin(t, axis), x)


@pytest.mark.parametrize("fn", [activation.silu, activation.mish, activation.logsigmoid, activation.softsign,
                                activation.selu, activation.celu, activation.glu, activation.softmin])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_smooth_activations_are_finite_for_large_inputs(fn, dtype):
    x = cr.Tensor(np.concatenate([LARGE, -LARGE[::-1]]).astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(x)
        out.backward(np.linspace(0.5, 2.0, out.data.size).astype(dtype).reshape(out.shape))
    assert out.dtype == dtype and np.asarray(x.grad).dtype == dtype
    assert np.isfinite(out.numpy()).all() and np.isfinite(np.asarray(x.grad)).all()


def test_new_activation_errors():
    with pytest.raises(TypeError, match="hardswish: expected a floating tensor"):
        activation.hardswish(np.array([1, 2]))
    with pytest.raises(ValueError, match="hardtanh: min_val \\(2.0\\) must not exceed max_val \\(1.0\\)"):
        activation.hardtanh(np.zeros(2), 2.0, 1.0)
    with pytest.raises(ValueError, match="glu: the size of axis 1 must be even"):
        activation.glu(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="softshrink: lambd must be non-negative"):
        activation.softshrink(np.zeros(2), -1)
