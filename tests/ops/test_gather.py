"""Tests for chainrule/ops/gather.py: forward and gradients against PyTorch in float64, finite differences,
and the errors for bad indices."""

import numpy as np
import pytest

import chainrule as cr

from torch64 import compare64


def _index(rng, high, shape):
    return rng.integers(0, high, shape)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_matches_torch(dim, rng, torch):
    x = rng.standard_normal((3, 4))
    index = _index(rng, x.shape[dim], (5, 3) if dim == 0 else (2, 6))  # repeats, and smaller on other axes
    ti = torch.from_numpy(index)
    compare64(torch, lambda a: cr.gather(a, dim, index), lambda a: torch.gather(a, dim, ti), x)
    compare64(torch, lambda a: a.gather(dim, cr.Tensor(index)), lambda a: a.gather(dim, ti), x)
    assert cr.gradcheck(lambda a: cr.gather(a, dim, index), [x])


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", ["scatter", "scatter_add"])
def test_scatter_matches_torch(name, dim, rng, torch):
    x = rng.standard_normal((4, 5))
    src = rng.standard_normal((3, 4))
    # scatter: distinct positions per column (dim 0) or row (dim 1), so no write order matters
    if name == "scatter":
        index = np.stack([rng.permutation(x.shape[dim])[:3 if dim == 0 else 4] for _ in range(4 if dim == 0 else 3)])
        index = index.T if dim == 0 else index
    else:
        index = _index(rng, x.shape[dim], (3, 4))
    ti = torch.from_numpy(index)
    ours, theirs = getattr(cr, name), getattr(torch, name)
    compare64(torch, lambda a, s: ours(a, dim, index, s), lambda a, s: theirs(a, dim, ti, s), x, src)
    assert cr.gradcheck(lambda a, s: ours(a, dim, index, s), [x, src])


def test_scatter_value_and_in_place(rng, torch):
    x = rng.standard_normal((3, 4))
    index = np.array([[0, 2], [1, 3], [3, 0]])
    ti = torch.from_numpy(index)
    compare64(torch, lambda a: cr.scatter(a, 1, index, value=2.5), lambda a: a.scatter(1, ti, 2.5), x)
    compare64(torch, lambda a: a.scatter(1, index, 2.5), lambda a: a.scatter(1, ti, 2.5), x)
    y = cr.Tensor(x.copy())
    assert y.scatter_(1, index, -1.0) is y
    np.testing.assert_array_equal(y.data, torch.from_numpy(x).scatter_(1, ti, -1.0).numpy())
    z = cr.Tensor(x.copy())
    z.scatter_add_(1, index, cr.ones(3, 2, dtype=np.float64))
    np.testing.assert_array_equal(z.data, torch.from_numpy(x).scatter_add(1, ti, torch.ones(3, 2, dtype=torch.float64)))


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_index_select_and_index_add_match_torch(dim, rng, torch):
    x = rng.standard_normal((3, 4, 2))
    index = np.array([2, 0, 2, 1])[: x.shape[dim] + 1] % x.shape[dim]
    ti = torch.from_numpy(index)
    compare64(torch, lambda a: cr.index_select(a, dim, index), lambda a: torch.index_select(a, dim, ti), x)
    src_shape = list(x.shape)
    src_shape[dim] = len(index)
    src = rng.standard_normal(src_shape)
    compare64(
        torch, lambda a, s: a.index_add(dim, cr.Tensor(index), s, alpha=0.5),
        lambda a, s: a.index_add(dim, ti, s, alpha=0.5), x, src,
    )
    assert cr.gradcheck(lambda a, s: cr.index_add(a, dim, index, s, alpha=2.0), [x, src])


@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1)], ids=str)
def test_masked_fill_and_select_match_torch(mask_shape, rng, torch):
    x = rng.standard_normal((3, 4))
    mask = rng.random(mask_shape) > 0.5
    tm = torch.from_numpy(mask)
    compare64(torch, lambda a: a.masked_fill(cr.Tensor(mask), -1.5), lambda a: a.masked_fill(tm, -1.5), x)
    compare64(torch, lambda a: cr.masked_select(a, mask), lambda a: torch.masked_select(a, tm), x)
    # a 0-d tensor value receives the sum of the gradient where the mask is set
    compare64(torch, lambda a, v: cr.masked_fill(a, mask, v), lambda a, v: a.masked_fill(tm, v), x, np.array(0.5))
    assert cr.gradcheck(lambda a: cr.masked_select(a, mask), [x])


def test_masked_select_broadcasts_the_input(rng, torch):
    x = rng.standard_normal((4,))
    mask = rng.random((3, 4)) > 0.4
    compare64(torch, lambda a: cr.masked_select(a, mask), lambda a: torch.masked_select(a, torch.from_numpy(mask)), x)


def test_masked_fill_in_place():
    x = cr.Tensor(np.arange(4.0))
    x.masked_fill_(x > 1, 0.0)
    np.testing.assert_array_equal(x.data, [0.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("dim, index_shape", [(None, (5,)), (0, (2, 4)), (1, (3, 6)), (1, (1, 2)), (0, (3, 1))])
def test_take_along_dim_matches_torch(dim, index_shape, rng, torch):
    x = rng.standard_normal((3, 4))
    high = x.size if dim is None else x.shape[dim]
    index = _index(rng, high, index_shape)
    ti = torch.from_numpy(index)
    compare64(torch, lambda a: cr.take_along_dim(a, index, dim), lambda a: torch.take_along_dim(a, ti, dim), x)


def test_take_along_dim_with_argsort_reorders(rng, torch):
    x = rng.standard_normal((3, 5))
    order = np.argsort(x, axis=1)
    compare64(torch, lambda a: a.take_along_dim(order, 1), lambda a: a.take_along_dim(torch.from_numpy(order), 1), x)


def test_nonzero_matches_torch(torch):
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    out = cr.nonzero(cr.Tensor(x))
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, torch.nonzero(torch.from_numpy(x)).numpy())
    for ours, theirs in zip(cr.Tensor(x).nonzero(as_tuple=True), torch.from_numpy(x).nonzero(as_tuple=True)):
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_matches_torch(num_classes, torch):
    labels = np.array([[0, 3], [2, 1], [3, 3]])
    out = cr.one_hot(cr.Tensor(labels), num_classes)
    expected = torch.nn.functional.one_hot(torch.from_numpy(labels), num_classes).numpy()
    assert out.dtype == np.int64 and out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)


def test_where_accepts_numbers_like_torch(torch):
    cond = np.array([True, False, True])
    out = cr.where(cr.Tensor(cond), 1.0, 0.0)
    expected = torch.where(torch.from_numpy(cond), 1.0, 0.0)
    assert out.dtype == np.float32 and str(expected.dtype) == "torch.float32"
    np.testing.assert_array_equal(out.data, expected.numpy())
    x = np.array([1.0, 2.0, 3.0])
    compare64(torch, lambda a: cr.where(cond, a, 0.0), lambda a: torch.where(torch.from_numpy(cond), a, 0.0), x)
    compare64(torch, lambda a: a.where(cr.Tensor(cond), -a), lambda a: a.where(torch.from_numpy(cond), -a), x)


# ----------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x: cr.gather(x, 1, np.array([[0.5]])), TypeError, "index must hold integers, got dtype float64"),
        (lambda x: cr.gather(x, 1, np.array([0, 1])), ValueError, "index must have as many axes as the input"),
        (lambda x: cr.gather(x, 1, np.array([[4]])), IndexError, "index out of range for axis 1 of size 4"),
        (lambda x: cr.gather(x, 1, np.zeros((4, 1), int)), ValueError, "larger than the input"),
        (lambda x: cr.gather(x, 2, np.zeros((1, 1), int)), ValueError, "dim must be an int in"),
        (lambda x: cr.scatter(x, 1, np.zeros((1, 1), int)), ValueError, "exactly one of src"),
        (lambda x: cr.scatter(x, 1, np.zeros((2, 3), int), cr.ones(2, 2)), ValueError, "larger than src"),
        (lambda x: cr.index_select(x, 0, np.zeros((2, 2), int)), ValueError, "index must be 1-D"),
        (lambda x: cr.masked_fill(x, np.ones((3, 4)), 0.0), TypeError, "mask must be boolean"),
        (lambda x: cr.masked_fill(x, np.ones((2, 3, 4), bool), 0.0), ValueError, "does not broadcast"),
        (lambda x: cr.one_hot(np.array([0, 3]), 3), ValueError, "out of range for num_classes=3"),
        (lambda x: cr.one_hot(np.array([-1]), 3), ValueError, "must be non-negative"),
        (lambda x: cr.one_hot(np.array([0.0]), 3), TypeError, "must hold integers"),
    ],
)
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call(cr.zeros(3, 4))


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_matches_torch(reduce, include_self, rng, torch):
    x = rng.standard_normal((4, 3))
    src = rng.standard_normal((5, 3))
    index = np.array([[0, 1, 0], [2, 1, 0], [0, 1, 2], [2, 2, 0], [0, 0, 0]])  # row 3 untouched; repeats
    if reduce in ("amax", "amin"):  # ties share the gradient: make some (the input's own value joins the tie
        # only when it takes part: PyTorch also counts an excluded input that equals the result, and then
        # the shares do not add up to the gradient; we do not copy that)
        src[4, 0] = src[0, 0]
        if include_self:
            x[0, 0] = src[0, 0]
    if reduce == "prod":  # one zero in a group, two zeros in another
        src[1, 2] = 0.0
        x[2, 1], src[3, 1] = 0.0, 0.0
    ti = torch.from_numpy(index)
    compare64(
        torch, lambda a, s: cr.scatter_reduce(a, 0, index, s, reduce, include_self=include_self),
        lambda a, s: a.scatter_reduce(0, ti, s, reduce, include_self=include_self), x, src,
    )
    if reduce not in ("amax", "amin", "prod"):
        assert cr.gradcheck(lambda a, s: cr.scatter_reduce(a, 0, index, s, reduce, include_self=include_self), [x, src])


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")  # deprecated there, still the reference
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_matches_torch(reduce, rng, torch):
    x = rng.standard_normal((3, 4))
    index = np.array([[0, 1], [1, 1], [3, 0]])
    src = rng.standard_normal((3, 2))
    ti = torch.from_numpy(index)
    expected = torch.from_numpy(x).scatter(1, ti, torch.from_numpy(src), reduce=reduce)
    np.testing.assert_allclose(cr.scatter(x, 1, index, src, reduce=reduce).data, expected.numpy(), rtol=1e-12)
    expected = torch.from_numpy(x).scatter(1, ti, 2.0, reduce=reduce)
    np.testing.assert_allclose(cr.Tensor(x).scatter(1, index, value=2.0, reduce=reduce).data, expected.numpy())


@pytest.mark.parametrize(
    "name",
    ["gather", "scatter_add", "scatter_reduce_amax", "scatter_reduce_prod", "index_add", "masked_fill", "sort", "topk"],
)
def test_float32_gradients_stay_float32(name, rng, compare_torch, torch):
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    index = rng.integers(0, 4, (3, 4))
    ti = torch.from_numpy(index)
    mask = x > 0
    cases = {
        "gather": (lambda a, s: cr.gather(a * s, 1, index), lambda a, s: (a * s).gather(1, ti)),
        "scatter_add": (lambda a, s: cr.scatter_add(a, 1, index, s), lambda a, s: a.scatter_add(1, ti, s)),
        "scatter_reduce_amax": (lambda a, s: cr.scatter_reduce(a, 1, index, s, "amax"),
                                lambda a, s: a.scatter_reduce(1, ti, s, "amax")),
        "scatter_reduce_prod": (lambda a, s: cr.scatter_reduce(a, 1, index, s, "prod"),
                                lambda a, s: a.scatter_reduce(1, ti, s, "prod")),
        "index_add": (lambda a, s: cr.index_add(a, 0, np.array([2, 0, 2]), s, alpha=0.5),
                      lambda a, s: a.index_add(0, torch.tensor([2, 0, 2]), s, alpha=0.5)),
        "masked_fill": (lambda a, s: cr.masked_fill(a * s, mask, 0.5),
                        lambda a, s: (a * s).masked_fill(torch.from_numpy(mask), 0.5)),
        "sort": (lambda a, s: cr.sort(a * s, dim=0).values, lambda a, s: torch.sort(a * s, dim=0).values),
        "topk": (lambda a, s: cr.topk(a + s, 2).values, lambda a, s: torch.topk(a + s, 2).values),
    }
    compare_torch(*cases[name], x, src)


def test_masked_fill_keeps_the_input_dtype_as_torch(torch):
    mask = np.array([True, False, True])
    for values, fill in [(np.array([1, 2, 3]), 0.5), (np.array([1.0, 2.0, 3.0], np.float32), 1e-3),
                         (np.array([1, 2, 3]), -7)]:
        ours = cr.tensor(values).masked_fill(cr.tensor(mask), fill)
        theirs = torch.tensor(values).masked_fill(torch.tensor(mask), fill)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    v = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
    y = x.masked_fill(cr.tensor([True, False]), v)
    assert y.dtype == np.float32
    (y * cr.tensor([3.0, 4.0])).sum().backward()
    assert float(v.grad) == 3.0 and v.grad.dtype == np.float64
