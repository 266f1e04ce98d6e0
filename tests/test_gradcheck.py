"""Tests for chainrule/gradcheck.py: it passes correct gradients and catches wrong ones."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import GradcheckError
from chainrule.tensor import result


def square(x):
    """x² with a correct backward."""

    # d(x²)/dx = 2x
    def backward(g):
        return (2 * g * x.data,)

    return result(x.data**2, (x,), backward, "square")


def square_wrong_at(position):
    """x² whose backward is off by 1 at ``position`` only."""

    def op(x):
        def backward(g):
            grad = 2 * g * x.data
            grad[position] += 1.0
            return (grad,)

        return result(x.data**2, (x,), backward, "bad_square")

    return op


def test_passes_for_a_correct_op(rng):
    assert cr.gradcheck(square, [rng.standard_normal((3, 4))]) is True


def test_raises_naming_the_worst_element(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(GradcheckError, match=r"gradient of input 0 \(shape \(3, 4\)\) disagrees at index \(1, 2\)"):
        cr.gradcheck(square_wrong_at((1, 2)), [x])


def test_names_the_input_that_is_wrong(rng):
    fn = lambda a, b: a * square_wrong_at((0,))(b)  # noqa: E731
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2,\)\) disagrees at index \(0,\)"):
        cr.gradcheck(fn, [rng.standard_normal(2), rng.standard_normal(2)])


def test_returns_false_instead_of_raising(rng):
    assert cr.gradcheck(square_wrong_at((0, 0)), [rng.standard_normal((2, 2))], raise_exception=False) is False


def test_nan_gradient_is_a_failure():
    def nan_grad(x):
        return result(x.data * 1.0, (x,), lambda g: (g * np.nan,), "nan_grad")

    with pytest.raises(GradcheckError, match="analytic nan"):
        cr.gradcheck(nan_grad, [np.ones(3)])


def test_checks_only_floating_inputs_with_requires_grad(rng):
    index = np.array([2, 0, 2])
    constant = cr.Tensor(rng.standard_normal(3))  # requires_grad=False: not checked
    assert cr.gradcheck(lambda x, i, c: x[i] * c, [rng.standard_normal(4), index, constant])


def test_multiple_outputs(rng):
    assert cr.gradcheck(lambda x: (square(x), x * 3.0), [rng.standard_normal(3)])


def test_inputs_are_left_unchanged(rng):
    x = rng.standard_normal(4)
    before = x.copy()
    cr.gradcheck(square, [x])
    np.testing.assert_array_equal(x, before)


def test_no_differentiable_output_is_an_error():
    with pytest.raises(GradcheckError, match="no output of fn depends on an input with requires_grad=True"):
        cr.gradcheck(lambda x: cr.Tensor(np.ones(2)), [np.ones(2)])
