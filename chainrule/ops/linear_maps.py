"""Differentiable backward rules of ops that are linear (pooling, resampling) or bilinear (convolutions).

Used only by ``create_graph=True`` (each op's ``double`` rule); the ordinary backward pass never comes here.

*Linear ops.* If ``y = L(x)`` is linear, its backward rule is the adjoint ``gx = Lᵀ(g)``, itself linear in
``g``, and the adjoint of the adjoint is ``L`` again. So the rule becomes one graph node ``Lᵀ(g)`` whose own
backward is ``L`` and whose own differentiable rule is the node ``L(h)``: every order of derivative is one
of the two array maps the op already has (its forward and its backward). :func:`linear_double` builds it.

*Fused ops whose array backward is hand-written* (the normalisations): :func:`composite_double` recomputes the
op as a composition of differentiable ops and differentiates that with ``create_graph``, so the fast fused op
serves the forward and first-order backward, and the composition only ``create_graph``.

*Bilinear ops* (every convolution, ``y = F(x, W) + b``). The input gradient ``A(g, W) = J_xᵀ g`` and the
weight gradient ``B(x, g) = J_Wᵀ g`` satisfy ``<A(g, W), h> = <g, F(h, W)> = <B(h, g), W>``, so

    d<A(g, W), h>/dg = F(h, W),   d<A(g, W), h>/dW = B(h, g),
    d<B(x, g), K>/dg = F(x, K),   d<B(x, g), K>/dx = A(g, K):

the three maps close under differentiation, and each is computed by the op's own forward or array
backward rule (:func:`bilinear_double`).
"""

import math

from ..backend import xp
from ..function import enable_grad
from ..tensor import Tensor, result


def linear_node(g, apply, adjoint, op):
    """``apply(g)`` as a Tensor, for a linear array map ``apply`` whose adjoint (an array map) is ``adjoint``.

    Differentiable to any order: its backward is ``adjoint``, its differentiable rule the node ``adjoint(h)``.
    """
    # d apply(g)/dg = apply's matrix: its transpose (the adjoint) carries the gradient back
    def backward(h):
        return (adjoint(h),)

    def double(h):
        return (linear_node(h, adjoint, apply, op),)

    return result(apply(g.data), (g,), backward, op, double)


def linear_double(backward, forward, op):
    """The differentiable rule of an op linear in its one input: its array ``backward`` (g -> (gx,)) applied
    to the Tensor ``g`` as a :func:`linear_node` whose adjoint is ``forward`` (the op on an array)."""
    name = op + "_backward"

    def double(g):
        return (linear_node(g, lambda a: backward(a)[0], forward, name),)

    return double


def linear_parts_double(backward, forwards, parents, op):
    """The differentiable rule of an op linear in all its inputs together (``out = Σ_i L_i(x_i)``, e.g. a
    scatter of ``src`` into ``input``): the array ``backward`` gives every ``L_iᵀ(g)``; ``forwards[i]`` is
    ``L_i`` on an array (the op with the other inputs zero). Each gradient becomes a :func:`linear_node`."""
    name = op + "_backward"

    def double(g):
        return tuple(
            linear_node(g, lambda a, i=i: backward(a)[i], forward, name) if parent.requires_grad else None
            for i, (parent, forward) in enumerate(zip(parents, forwards))
        )

    return double


def gather_double(flat_index, shape, op):
    """The differentiable rule of an op that routes each output's gradient to one input element (max
    pooling, max/min along axes): ``flat_index`` gives, for each output, the flat position of its source
    in its row of the input reshaped to (rows, -1) (``shape`` the input's shape). The rule is a scatter-add,
    its adjoint the gather at the same positions."""

    def double(g):
        rows_count = flat_index.shape[0]
        rows = xp.broadcast_to(xp.arange(rows_count)[:, None], flat_index.shape)
        out_shape = g.shape

        def scatter(a):
            out = xp.zeros((rows_count, math.prod(shape) // rows_count), dtype=a.dtype)
            xp.add.at(out, (rows, flat_index), a.reshape(flat_index.shape))
            return out.reshape(shape)

        def gather(h):
            return xp.take_along_axis(h.reshape(rows_count, -1), flat_index, axis=1).reshape(out_shape)

        return (linear_node(g, scatter, gather, op + "_backward"),)

    return double


def _array_rule(forward, x, w, g, which):
    """One gradient (0: of x, 1: of W) of ``forward(x, W)`` for the upstream array ``g``, by the op's own
    array backward rule (the other operand's values are not read by that gradient: a stand-in may be passed).

    This runs the op's forward once more to get at its rule: the price of reusing the fast array code
    (im2col, the compiled kernels) rather than a second implementation, paid only under ``create_graph``."""
    with enable_grad():
        xt = Tensor(x, requires_grad=which == 0)
        wt = Tensor(w, requires_grad=which == 1)
        return forward(xt, wt)._backward(g)[which]


def _input_grad(forward, x_shape, g, w):
    """``A(g, W)``: the input gradient of ``forward`` at upstream ``g`` (Tensor), a node in (g, W)."""
    stand_in = xp.zeros(x_shape, dtype=w.data.dtype)

    # dA/dg (upstream h) = F(h, W);  dA/dW = B(h, g)
    def backward(h):
        return (
            forward(h, w.data).data if g.requires_grad else None,
            _array_rule(forward, h, w.data, g.data, 1) if w.requires_grad else None,
        )

    def double(h):
        return (
            forward(h, w) if g.requires_grad else None,
            _weight_grad(forward, w.shape, h, g) if w.requires_grad else None,
        )

    out = _array_rule(forward, stand_in, w.data, g.data, 0)
    return result(out, (g, w), backward, "input_gradient", double)


def _weight_grad(forward, w_shape, x, g):
    """``B(x, g)``: the weight gradient of ``forward`` at input ``x`` and upstream ``g`` (Tensors), a node in (x, g)."""
    stand_in = xp.zeros(w_shape, dtype=x.data.dtype)

    # dB/dx (upstream K) = A(g, K);  dB/dg = F(x, K)
    def backward(k):
        return (
            _array_rule(forward, xp.zeros(x.shape, dtype=k.dtype), k, g.data, 0) if x.requires_grad else None,
            forward(x.data, k).data if g.requires_grad else None,
        )

    def double(k):
        return (
            _input_grad(forward, x.shape, g, k) if x.requires_grad else None,
            forward(x, k) if g.requires_grad else None,
        )

    out = _array_rule(forward, x.data, stand_in, g.data, 1)
    return result(out, (x, g), backward, "weight_gradient", double)


def bilinear_double(forward, x, weight, bias):
    """The differentiable rule of ``y = forward(x, weight) + bias`` (bias over axis 1), ``forward`` bilinear
    (a convolution without its bias, its options bound)."""
    from .reduce import sum as total

    def double(g):
        gx = _input_grad(forward, x.shape, g, weight) if x.requires_grad else None
        gw = _weight_grad(forward, weight.shape, x, g) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        # d(y)/d(bias) = 1 on every element of its channel
        gb = total(g, tuple(i for i in range(g.ndim) if i != 1)) if bias.requires_grad else None
        return gx, gw, gb

    return double


def composite_double(composite, parents):
    """The differentiable backward rule of a fused op, from ``composite(*parents)``: the same function written
    with differentiable chainrule ops. The rule recomputes it and returns ``grad(composite, parents, g,
    create_graph=True)`` (None for a parent that needs no gradient)."""

    def double(g):
        from ..autograd import grad

        wanted = [p for p in parents if p.requires_grad]
        with enable_grad():
            grads = iter(grad(composite(*parents), wanted, grad_outputs=g, create_graph=True, allow_unused=True,
                              materialize_grads=True))
        return tuple(next(grads) if p.requires_grad else None for p in parents)

    return double
