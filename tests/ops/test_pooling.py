"""Tests for chainrule/ops/pooling.py: max, average, adaptive and global average pooling.

Gradient checks in float64, PyTorch agreement (forward and backward, non-uniform upstream
gradient), PyTorch's tie rule for max pooling, layouts, dtype and bad input.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.conv import conv2d
from chainrule.ops.pooling import adaptive_avg_pool2d, avg_pool2d, global_avg_pool2d, max_pool2d

# (input shape, kernel, stride, padding)
POOL_CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 3, 7, 7), 2, None, 0),
    ((2, 2, 7, 9), 3, 2, 1),
    ((1, 2, 7, 9), (2, 3), (1, 2), (1, 1)),
    ((1, 2, 6, 6), 3, 1, 0),
    ((1, 1, 5, 4), (5, 4), None, 0),
]
POOL_IDS = [f"{c[0][2]}x{c[0][3]}-k{c[1]}-s{c[2]}-p{c[3]}" for c in POOL_CASES]


def _distinct(rng, shape):
    """Values at least 0.1 apart (a random permutation of a grid): finite differences never cross a tie."""
    return (rng.permutation(int(np.prod(shape))) * 0.1).reshape(shape) - 0.05 * np.prod(shape)


# ---------------------------------------------------------------- max_pool2d
@pytest.mark.parametrize("shape,kernel,stride,padding", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_gradcheck(shape, kernel, stride, padding, rng):
    x = _distinct(rng, shape)
    assert cr.gradcheck(lambda t: max_pool2d(t, kernel, stride, padding), [x])


@pytest.mark.parametrize("shape,kernel,stride,padding", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_matches_torch(shape, kernel, stride, padding, rng, torch, compare_torch):
    compare_torch(
        lambda t: max_pool2d(t, kernel, stride, padding),
        lambda t: torch.nn.functional.max_pool2d(t, kernel, stride, padding),
        rng.standard_normal(shape),
    )


@pytest.mark.parametrize("shape,kernel,stride,padding", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_ties_go_to_the_first_maximum_like_torch(shape, kernel, stride, padding, rng, torch, compare_torch):
    # integers in {-1, 0, 1}: most windows hold several equal maxima
    compare_torch(
        lambda t: max_pool2d(t, kernel, stride, padding),
        lambda t: torch.nn.functional.max_pool2d(t, kernel, stride, padding),
        rng.integers(-1, 2, shape),
    )


def test_max_pool2d_tie_rule_by_hand():
    x = cr.Tensor(np.array([[[[1.0, 3.0], [3.0, 3.0]]]], np.float32), requires_grad=True)
    out = max_pool2d(x, 2)
    out.backward(np.array([[[[5.0]]]], np.float32))
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 5], [0, 0]])  # first maximum in row-major order


def test_max_pool2d_padding_is_minus_infinity():
    x = -np.ones((1, 1, 2, 2), np.float32)
    np.testing.assert_array_equal(max_pool2d(x, 2, 1, 1).numpy(), -np.ones((1, 1, 3, 3)))


def test_max_pool2d_after_conv_layout(rng, torch, compare_torch):
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    F = torch.nn.functional
    compare_torch(
        lambda x, w: max_pool2d(conv2d(x, w, padding=1), 3, 2, 1).reshape(2, -1),
        lambda x, w: F.max_pool2d(F.conv2d(x, w, padding=1), 3, 2, 1).reshape(2, -1),
        x, w, rtol=1e-4, atol=1e-4,
    )


# ---------------------------------------------------------------- avg_pool2d
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOL_CASES, ids=POOL_IDS)
def test_avg_pool2d_gradcheck(shape, kernel, stride, padding, count_include_pad, rng):
    x = rng.standard_normal(shape)
    assert cr.gradcheck(lambda t: avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad), [x])


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOL_CASES, ids=POOL_IDS)
def test_avg_pool2d_matches_torch(shape, kernel, stride, padding, count_include_pad, rng, torch, compare_torch):
    compare_torch(
        lambda t: avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad),
        lambda t: torch.nn.functional.avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad),
        rng.standard_normal(shape),
    )


# ------------------------------------------------------- adaptive / global
@pytest.mark.parametrize("shape,size", [((2, 3, 7, 9), (3, 4)), ((1, 2, 7, 9), (5, 2)), ((1, 2, 4, 4), (8, 6)),
                                        ((2, 2, 6, 6), 3), ((2, 2, 5, 7), (None, 2)), ((2, 3, 5, 5), 1)])
def test_adaptive_avg_pool2d_matches_torch(shape, size, rng, torch, compare_torch):
    compare_torch(
        lambda t: adaptive_avg_pool2d(t, size),
        lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size),
        rng.standard_normal(shape),
    )


def test_adaptive_avg_pool2d_gradcheck(rng):
    assert cr.gradcheck(lambda t: adaptive_avg_pool2d(t, (3, 2)), [rng.standard_normal((2, 2, 7, 5))])


def test_global_avg_pool2d(rng, torch, compare_torch):
    x = rng.standard_normal((3, 4, 5, 6))
    compare_torch(global_avg_pool2d, lambda t: t.mean(dim=(2, 3)), x)
    compare_torch(lambda t: global_avg_pool2d(t, keepdims=True), lambda t: t.mean(dim=(2, 3), keepdim=True), x)
    assert cr.gradcheck(global_avg_pool2d, [x[:2, :2]])


def test_pooling_keeps_float32(rng):
    x = cr.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    for fn in (lambda t: max_pool2d(t, 2), lambda t: avg_pool2d(t, 3, 2, 1, count_include_pad=False),
               lambda t: adaptive_avg_pool2d(t, 4), global_avg_pool2d):
        x.grad = None
        out = fn(x)
        assert out.dtype == np.float32
        out.backward(np.ones(out.shape, np.float32))
        assert x.grad.dtype == np.float32


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "fn,shape,message",
    [
        (lambda x: max_pool2d(x, 2), (4, 4), r"max_pool2d: input must be a 4-D \(N, C, H, W\) tensor, got shape \(4, 4\)"),
        (lambda x: avg_pool2d(x, 5), (1, 1, 4, 4), r"avg_pool2d: kernel 5x5 is larger than the padded input 4x4"),
        (lambda x: max_pool2d(x, 3, padding=2), (1, 1, 4, 4), r"padding \(2, 2\) must be at most half the kernel"),
        (lambda x: max_pool2d(x, 0), (1, 1, 4, 4), r"kernel_size must be at least 1"),
        (lambda x: adaptive_avg_pool2d(x, 0), (1, 1, 4, 4), r"output_size must be at least 1"),
        (lambda x: global_avg_pool2d(x), (1, 4, 4), r"global_avg_pool2d: input must be a 4-D"),
    ],
)
def test_pooling_bad_input(fn, shape, message):
    with pytest.raises(ValueError, match=message):
        fn(np.zeros(shape, np.float32))


def test_max_pool2d_needs_floats():
    with pytest.raises(TypeError, match="max_pool2d: input must be floating point, got dtype int64"):
        max_pool2d(np.zeros((1, 1, 4, 4), np.int64), 2)


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("shape, padding", [((3, 4, 8, 8), 0), ((3, 4, 9, 7), 0), ((2, 3, 7, 8), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])  # float16: NumPy path both times
def test_max_pool_2x2_compiled_equals_numpy_path(monkeypatch, channels_first, shape, padding, dtype):
    """The compiled 2x2 max-pool kernels (numba) give the NumPy path's outputs and gradients bit for
    bit, ties included (values rounded to a few levels, so windows often hold several maxima), odd
    sizes (edge pixels in no window) and padding included; a NaN comes out as NaN, in the input and
    in the upstream gradient."""
    pytest.importorskip("numba")
    from chainrule.ops import compiled

    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal(shape) * 2).astype(dtype)
    if channels_first:  # the memory layout conv2d returns
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    results, g = [], None
    for enabled in (True, False):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        t = cr.Tensor(x, requires_grad=True)
        out = max_pool2d(t, 2, 2, padding)
        if g is None:
            g = rng.standard_normal(out.shape).astype(dtype)
        (out * cr.Tensor(g)).sum().backward()
        with_nan = x.copy()
        with_nan[0, 0, 1, 1] = np.nan
        t_nan = cr.Tensor(x, requires_grad=True)
        g_nan = g.copy()
        g_nan[0, 1, 0, 0] = np.nan  # a NaN gradient reaches its whole window, as g · mask does
        max_pool2d(t_nan, 2, 2, padding).backward(g_nan)
        results.append((out.data, t.grad, max_pool2d(with_nan, 2, 2, padding).data, t_nan.grad))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(results[0][2]).sum() == 1
    assert np.isnan(results[0][3]).sum() == (4 if padding == 0 else 1)  # window (0, 0) holds 1 pixel when padded
