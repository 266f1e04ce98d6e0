"""Tests for chainrule/autograd_function.py: user-defined ops (``autograd.Function``) against PyTorch's."""

import numpy as np
import pytest

import chainrule as cr


def functions(lib):
    """The same three Functions, written once, for chainrule or torch (``lib``)."""

    class LinearFunction(lib.autograd.Function):  # the example of PyTorch's "Extending autograd"
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None  # no gradient for the number

    class Cube(lib.autograd.Function):  # backward written with tensor ops: differentiable again
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad_output  # d(x³)/dx = 3x²

    return LinearFunction, MulConstant, Cube


def _leaves(lib, arrays, requires_grad):
    return [lib.tensor(a.copy(), requires_grad=r) for a, r in zip(arrays, requires_grad)]


@pytest.mark.parametrize("requires_grad", [(True, True, True), (True, False, True), (False, True, False)])
def test_linear_function_matches_torch(torch, requires_grad):
    gen = np.random.default_rng(0)
    arrays = [gen.standard_normal((4, 3)), gen.standard_normal((2, 3)), gen.standard_normal(2)]
    upstream = gen.standard_normal((4, 2))
    results = []
    for lib in (cr, torch):
        leaves = _leaves(lib, arrays, requires_grad)
        linear, mul_constant, _ = functions(lib)
        out = mul_constant.apply(linear.apply(*leaves), 0.5)
        (out * lib.tensor(upstream)).sum().backward()
        results.append([out.detach().numpy()] + [None if t.grad is None else np.asarray(t.grad) for t in leaves])
    for ours, theirs in zip(*results):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def test_linear_function_passes_gradcheck():
    linear = functions(cr)[0]
    gen = np.random.default_rng(1)
    assert cr.gradcheck(linear.apply, [gen.standard_normal((3, 4)), gen.standard_normal((2, 4)), gen.standard_normal(2)])


def test_backward_written_with_tensor_ops_is_differentiable_again(torch):
    a = np.array([-1.5, 0.5, 2.0])
    results = []
    for lib in (cr, torch):
        x = lib.tensor(a.copy(), requires_grad=True)
        cube = functions(lib)[2]
        (g,) = lib.autograd.grad((cube.apply(x) * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum(), x,
                                 create_graph=True)
        (g * lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)).sum().backward()
        results.append((g.detach().numpy(), np.asarray(x.grad)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7)


def test_context_and_graph_bookkeeping():
    cube = functions(cr)[2]
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cube.apply(x)
    assert y.requires_grad and y.grad_fn is not None and "CubeBackward" in repr(y.grad_fn)
    with cr.no_grad():
        assert not cube.apply(x).requires_grad
    assert not cube.apply(cr.tensor([1.0, 2.0])).requires_grad

    class Argmax(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.argmax()
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            raise AssertionError("never called")

    assert not Argmax.apply(x).requires_grad and Argmax.apply(x).item() == 1


def test_mistakes_get_clear_errors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)

    def make(backward, forward=lambda ctx, x: x * 2):
        return type("Bad", (cr.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    with pytest.raises(RuntimeError, match="returned 2 gradient.*expected 1"):
        make(lambda ctx, g: (g, g)).apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"shape \(3,\) for argument 0, whose shape is \(2,\)"):
        make(lambda ctx, g: cr.ones(3)).apply(x).sum().backward()
    with pytest.raises(NotImplementedError, match="returns one tensor"):
        make(lambda ctx, g: g, forward=lambda ctx, x: (x, x)).apply(x)
    with pytest.raises(TypeError, match="save_for_backward: argument 0 must be a Tensor"):
        make(lambda ctx, g: g, forward=lambda ctx, x: ctx.save_for_backward(3.0)).apply(x)
    with pytest.raises(NotImplementedError, match="must define forward"):
        cr.autograd.Function.apply(x)
