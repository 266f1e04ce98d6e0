"""Tests for chainrule/ops/conv.py: conv2d, conv_transpose2d, dropout2d.

Gradient checks in float64 on small shapes, PyTorch agreement (forward and backward with a
non-uniform upstream gradient) over strides, padding ("same" included), dilation and groups,
memory layout, dtype, and bad input.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.function import no_grad
from chainrule.ops.conv import conv2d, conv_transpose2d, dropout2d

# (N, C_in, H, W, C_out, kernel, stride, padding, dilation, groups)
CONV_CASES = [
    (2, 3, 6, 5, 4, (3, 3), 1, 0, 1, 1),
    (2, 3, 7, 6, 4, (3, 3), 1, 1, 1, 1),
    (1, 4, 9, 8, 6, (3, 2), 2, (1, 0), 1, 2),
    (2, 4, 9, 8, 4, (3, 3), 1, "same", 2, 4),
    (2, 3, 8, 7, 5, (2, 4), 1, "same", 1, 1),
    (1, 2, 8, 8, 3, (2, 3), (2, 3), "valid", (1, 2), 1),
    (2, 2, 5, 5, 3, (1, 1), 1, 0, 1, 1),
    (1, 2, 5, 6, 2, (1, 1), 2, 1, 1, 2),
    (1, 1, 4, 4, 2, (4, 4), 1, 0, 1, 1),
]
CONV_IDS = [f"k{c[5]}-s{c[6]}-p{c[7]}-d{c[8]}-g{c[9]}" for c in CONV_CASES]

# (N, C_in, H, W, C_out, kernel, stride, padding, output_padding, groups, dilation)
TRANSPOSE_CASES = [
    (2, 3, 4, 5, 2, (3, 3), 1, 0, 0, 1, 1),
    (2, 3, 4, 4, 4, (3, 3), 2, 1, 1, 1, 1),
    (1, 4, 3, 4, 6, (3, 2), (2, 3), (1, 0), (0, 2), 2, 1),
    (1, 4, 4, 3, 4, (3, 3), 1, 0, 0, 4, 2),
    (1, 2, 3, 3, 2, (2, 2), 2, 0, 1, 1, (2, 1)),
    (2, 2, 3, 3, 3, (4, 4), 2, 1, 0, 1, 1),
]
TRANSPOSE_IDS = [f"k{c[5]}-s{c[6]}-p{c[7]}-op{c[8]}-g{c[9]}-d{c[10]}" for c in TRANSPOSE_CASES]


def _conv_arrays(rng, case):
    n, c, h, w, o, kernel, _, _, _, groups = case
    return (
        rng.standard_normal((n, c, h, w)),
        rng.standard_normal((o, c // groups) + kernel),
        rng.standard_normal(o),
    )


def _transpose_arrays(rng, case):
    n, c, h, w, o, kernel, _, _, _, groups, _ = case
    return (
        rng.standard_normal((n, c, h, w)),
        rng.standard_normal((c, o // groups) + kernel),
        rng.standard_normal(o),
    )


# ------------------------------------------------------------------- conv2d
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_gradcheck(case, rng):
    stride, padding, dilation, groups = case[6:]
    x, w, b = _conv_arrays(rng, case)
    assert cr.gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding, dilation, groups), [x, w, b])


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_matches_torch(case, rng, torch, compare_torch):
    stride, padding, dilation, groups = case[6:]
    x, w, b = _conv_arrays(rng, case)
    compare_torch(
        lambda x, w, b: conv2d(x, w, b, stride, padding, dilation, groups),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups),
        x, w, b, rtol=1e-4, atol=1e-4,
    )


def test_conv2d_without_bias_matches_torch(rng, torch, compare_torch):
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    compare_torch(
        lambda x, w: conv2d(x, w, padding=1),
        lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
        x, w, rtol=1e-4, atol=1e-4,
    )


def test_conv2d_same_padding_keeps_size_for_even_kernels(rng):
    x = rng.standard_normal((1, 2, 7, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 4, 2)).astype(np.float32)
    assert conv2d(x, w, padding="same").shape == (1, 3, 7, 6)
    assert conv2d(x, w, padding="same", dilation=3).shape == (1, 3, 7, 6)


def test_conv2d_known_values():
    # a 2x2 kernel of ones sums each 2x2 window; a bias adds on top
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2), np.float32)
    out = conv2d(x, w, np.array([10.0], np.float32))
    np.testing.assert_array_equal(out.numpy()[0, 0], [[18, 22], [30, 34]])


def test_conv2d_chains_through_its_channels_first_layout(rng, torch, compare_torch):
    # conv2d returns a transposed view; a second conv, pooling and a reshape must read it correctly
    from chainrule.ops.pooling import max_pool2d

    x = rng.standard_normal((3, 2, 8, 8))
    w1, w2 = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal((5, 4, 3, 3))
    F = torch.nn.functional
    compare_torch(
        lambda x, w1, w2: conv2d(max_pool2d(conv2d(x, w1, padding=1), 2), w2).reshape(3, -1),
        lambda x, w1, w2: F.conv2d(F.max_pool2d(F.conv2d(x, w1, padding=1), 2), w2).reshape(3, -1),
        x, w1, w2, rtol=1e-4, atol=1e-4,
    )


def test_conv2d_float32_stays_float32(rng):
    x = cr.Tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), requires_grad=True)
    w = cr.Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = cr.Tensor(np.zeros(4, np.float32), requires_grad=True)
    out = conv2d(x, w, b, padding=1)
    assert out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_conv2d_skips_input_gradient_when_not_needed(rng):
    x = cr.Tensor(rng.standard_normal((2, 1, 5, 5)).astype(np.float32))
    w = cr.Tensor(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), requires_grad=True)
    conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad is not None


def test_conv2d_no_grad_records_nothing(rng):
    w = cr.Tensor(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), requires_grad=True)
    with no_grad():
        out = conv2d(rng.standard_normal((1, 1, 4, 4)).astype(np.float32), w)
    assert not out.requires_grad


@pytest.mark.parametrize(
    "x_shape,w_shape,kwargs,message",
    [
        ((3, 5, 5), (2, 3, 3, 3), {}, r"conv2d: input must be a 4-D \(N, C, H, W\) tensor, got shape \(3, 5, 5\)"),
        ((1, 3, 5, 5), (2, 3, 3), {}, r"conv2d: weight must be 4-D"),
        ((1, 2, 5, 5), (4, 3, 3, 3), {}, r"conv2d: input has 2 channels .* expects 3"),
        ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, r"out_channels 3 is not divisible by groups=2"),
        ((1, 1, 3, 3), (1, 1, 5, 5), {}, r"conv2d: kernel 5x5 .* larger than the padded input 3x3"),
        ((1, 1, 3, 3), (1, 1, 3, 3), {"dilation": 2}, r"kernel 3x3 \(extent 5x5 .* padded input 3x3"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "same", "stride": 2}, r"padding='same' needs stride 1"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "full"}, r"padding must be an int, a pair of ints, 'same' or 'valid'"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 0}, r"stride must be at least 1"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": 1.5}, r"padding must be an int or a pair of ints, got 1.5"),
    ],
)
def test_conv2d_bad_input(x_shape, w_shape, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kwargs)


def test_conv2d_bad_bias_shape():
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\), got \(3,\)"):
        conv2d(np.zeros((1, 1, 4, 4), np.float32), np.zeros((2, 1, 3, 3), np.float32), np.zeros(3, np.float32))


# --------------------------------------------------------- conv_transpose2d
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=TRANSPOSE_IDS)
def test_conv_transpose2d_gradcheck(case, rng):
    stride, padding, output_padding, groups, dilation = case[6:]
    x, w, b = _transpose_arrays(rng, case)
    assert cr.gradcheck(
        lambda x, w, b: conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation), [x, w, b]
    )


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=TRANSPOSE_IDS)
def test_conv_transpose2d_matches_torch(case, rng, torch, compare_torch):
    stride, padding, output_padding, groups, dilation = case[6:]
    x, w, b = _transpose_arrays(rng, case)
    compare_torch(
        lambda x, w, b: conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
        lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
        x, w, b, rtol=1e-4, atol=1e-4,
    )


def test_conv_transpose2d_is_the_adjoint_of_conv2d(rng):
    # <conv2d(x, W), y> == <x, conv_transpose2d(y, W)> for the same weight, stride and padding
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 3))
    y = rng.standard_normal(conv2d(x, w, stride=2, padding=1).shape)
    left = (conv2d(x, w, stride=2, padding=1).numpy() * y).sum()
    right = (x * conv_transpose2d(y, w, stride=2, padding=1, output_padding=(0, 1)).numpy()).sum()
    assert np.isclose(left, right)


@pytest.mark.parametrize(
    "w_shape,kwargs,message",
    [
        ((3, 2, 3, 3), {}, r"conv_transpose2d: input has 2 channels .* expects 3"),
        ((2, 2, 3, 3), {"stride": 2, "output_padding": 2}, r"output_padding \(2 along height\) must be smaller"),
        ((2, 2, 3, 3), {"groups": 3}, r"in_channels 2 is not divisible by groups=3"),
        ((2, 2, 2, 2), {"padding": 3}, r"padding \(3, 3\) removes the whole output"),
    ],
)
def test_conv_transpose2d_bad_input(w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_transpose2d(np.zeros((1, 2, 3, 3), np.float32), np.zeros(w_shape, np.float32), **kwargs)


# ------------------------------------------------------------------ dropout2d
def test_dropout2d_drops_whole_channels_and_scales(rng):
    x = cr.Tensor(np.ones((8, 16, 3, 3), np.float32), requires_grad=True)
    out = dropout2d(x, p=0.5, seed=0)
    per_channel = out.numpy().reshape(8, 16, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # constant over each map
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    g = rng.standard_normal(x.shape).astype(np.float32)
    out.backward(g)
    np.testing.assert_allclose(x.grad, g * out.numpy())  # the same mask, times 1/(1-p) = 2


def test_dropout2d_is_seeded_and_identity_in_eval():
    x = np.ones((4, 8, 2, 2), np.float32)
    np.testing.assert_array_equal(dropout2d(x, 0.3, seed=5).numpy(), dropout2d(x, 0.3, seed=5).numpy())
    assert dropout2d(cr.Tensor(x), 0.3, training=False).numpy() is x


def test_dropout2d_needs_images():
    with pytest.raises(ValueError, match=r"dropout2d: input must be a 4-D \(N, C, H, W\) tensor, got shape \(4, 8\)"):
        dropout2d(np.ones((4, 8), np.float32), 0.5)


@pytest.mark.parametrize("out_channels", [4, 10])  # 3·2·3 column rows: >= 2x4 takes the wide path, < 2x10 not
@pytest.mark.parametrize("padding, dilation", [(0, (2, 1)), ((2, 0), 1), ((1, 2), (1, 3))])
def test_conv2d_stride1_wide_columns_match_torch(rng, torch, compare_torch, padding, dilation, out_channels):
    # stride 1 builds its column matrix over the padded width, with wrap-around columns that read
    # the next row's pixels; they must neither reach the output nor leak into dL/dW, dL/dx or dL/db
    x = rng.standard_normal((2, 3, 7, 6))[:, :, :, ::-1]  # a non-contiguous input, read as it is
    w, b = rng.standard_normal((out_channels, 3, 2, 3)), rng.standard_normal(out_channels)
    F = torch.nn.functional
    compare_torch(
        lambda x, w, b: conv2d(x, w, b, padding=padding, dilation=dilation),
        lambda x, w, b: F.conv2d(x, w, b, padding=padding, dilation=dilation),
        np.ascontiguousarray(x), w, b,
    )
    out = conv2d(cr.Tensor(x), cr.Tensor(w), cr.Tensor(b), padding=padding, dilation=dilation)
    expected = F.conv2d(torch.from_numpy(x.copy()), torch.from_numpy(w), torch.from_numpy(b),
                        padding=padding, dilation=dilation)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10, atol=1e-10)


def _gradients_with_and_without_kernels(monkeypatch, op, arrays, **kwargs):
    """[output, gradient of each array] of ``op`` with the compiled kernels on, and with them off."""
    pytest.importorskip("numba")
    from chainrule.ops import compiled

    results = []
    for enabled in (True, False):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        tensors = [cr.Tensor(a, requires_grad=True) for a in arrays]
        out = op(*tensors, **kwargs)
        out.backward(np.linspace(-1, 1, out.data.size).reshape(out.shape).astype(out.dtype))
        results.append([out.data] + [t.grad for t in tensors])
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "in_channels, out_per_group, groups, stride, padding, dilation",
    [
        (3, 2, 1, 1, 1, 1),  # wide columns (3·3·2 rows >= 2·2 output channels)
        (4, 2, 2, 1, (2, 0), (1, 2)),
        (6, 2, 3, 1, "same", 2),
        (2, 8, 1, 1, 1, 1),  # plain columns (2·3·2 rows < 2·8)
        (2, 8, 2, (2, 1), (1, 0), (2, 1)),  # plain, stride 1 along the width: compiled
        (2, 8, 1, (1, 2), 1, 1),  # stride 2 along the width: the NumPy path both times
    ],
)
def test_conv2d_compiled_columns_equal_numpy_path(monkeypatch, rng, dtype, in_channels, out_per_group, groups,
                                                  stride, padding, dilation):
    """The compiled im2col/col2im (numba) give the NumPy path's output and gradients bit for bit."""
    x = rng.standard_normal((2, in_channels, 7, 6)).astype(dtype)[:, :, :, ::-1]  # read as it is, not contiguous
    w = rng.standard_normal((out_per_group * groups, in_channels // groups, 3, 2)).astype(dtype)
    b = rng.standard_normal(out_per_group * groups).astype(dtype)
    results = _gradients_with_and_without_kernels(
        monkeypatch, conv2d, (x, w, b), stride=stride, padding=padding, dilation=dilation, groups=groups
    )
    for compiled_result, numpy_result in zip(*results):
        assert compiled_result.dtype == dtype
        np.testing.assert_array_equal(compiled_result, numpy_result)


@pytest.mark.parametrize("stride, dilation", [(1, 1), ((2, 1), (1, 2)), (2, 1)])
def test_conv_transpose2d_compiled_columns_equal_numpy_path(monkeypatch, rng, stride, dilation):
    x = rng.standard_normal((2, 4, 5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    results = _gradients_with_and_without_kernels(monkeypatch, conv_transpose2d, (x, w, b), stride=stride,
                                                  padding=1, dilation=dilation)
    for compiled_result, numpy_result in zip(*results):
        np.testing.assert_array_equal(compiled_result, numpy_result)


def test_conv2d_float16_takes_the_numpy_path(monkeypatch, rng):
    """numba has no float16 arithmetic: with the kernels on, float16 still runs (on the NumPy path)."""
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float16)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float16)
    results = _gradients_with_and_without_kernels(monkeypatch, conv2d, (x, w), padding=1)
    for compiled_result, numpy_result in zip(*results):
        assert compiled_result.dtype == np.float16
        np.testing.assert_array_equal(compiled_result, numpy_result)
