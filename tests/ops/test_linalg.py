"""Tests for chainrule/ops/linalg.py: ``matmul`` (the ``@`` operator)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.linalg import matmul

# NumPy's matmul rules: 1-D operands are promoted, batch axes broadcast
SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_gradcheck(shapes, rng):
    assert cr.gradcheck(matmul, [rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matches_torch(shapes, rng, compare_torch, torch):
    compare_torch(lambda a, b: a @ b, torch.matmul, *[rng.standard_normal(s) for s in shapes], rtol=1e-5, atol=1e-5)


def test_repeated_use(rng):
    # x @ x.T + x: x reaches the output along three paths
    assert cr.gradcheck(lambda x: x @ x.T @ x + x, [rng.standard_normal((3, 3))])


def test_only_needed_gradients(rng):
    a = cr.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = rng.standard_normal((3, 4))  # a constant: gets no gradient
    (a @ b).backward(grad=np.ones((2, 4)))
    np.testing.assert_allclose(a.grad, np.ones((2, 4)) @ b.T)


def test_ndarray_on_the_left(rng):
    b = cr.Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    a = rng.standard_normal((4, 3)).astype(np.float32)
    y = a @ b
    assert isinstance(y, cr.Tensor) and y.dtype == np.float32
    y.backward(grad=np.ones((4, 2), np.float32))
    np.testing.assert_allclose(b.grad, a.T @ np.ones((4, 2)), rtol=1e-6)


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((3, 4), (5, 2)), r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned: last axis of the first \(4\)"),
        (((3, 4), (3,)), r"matmul: shapes \(3, 4\) and \(3,\) are not aligned"),
        (((2, 3, 4), (3, 4, 5)), r"matmul: batch axes of shapes \(2, 3, 4\) and \(3, 4, 5\) cannot be broadcast"),
        (((), (3,)), r"matmul: operands must have at least one axis"),
    ],
)
def test_shape_errors(shapes, match):
    with pytest.raises(ValueError, match=match):
        matmul(cr.zeros(*shapes[0]), cr.zeros(*shapes[1]))
