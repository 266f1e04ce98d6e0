"""``autograd.Function``: an op of your own, its forward and its backward rule side by side (PyTorch's API).

    class Square(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output      # d(x²)/dx = 2x

    y = Square.apply(x)

``forward`` runs without recording a graph; ``apply`` records one node whose backward rule calls your
``backward`` with the output's gradient (a Tensor) and expects one gradient per ``forward`` argument
(``None`` for arguments that are not tensors or need none). Written with Tensor operations, ``backward``
is differentiable too, so ``create_graph=True`` works through it. One output tensor per Function.
"""

from .function import is_grad_enabled, no_grad
from .tensor import Tensor, constant, result

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``saved_tensors``, ``needs_input_grad`` and any attribute you set."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self.materialize_grads = True
        self._non_differentiable = ()

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or None) for ``backward``, which reads them as ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: argument {i} must be a Tensor or None, got {type(t).__name__} "
                                "(keep other values as attributes of ctx)")
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        """The output is one of ``tensors``: it gets no gradient (an index, a mask)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """Accepted for PyTorch's code; the single output's gradient is always a Tensor here."""
        self.materialize_grads = bool(value)


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, grad_output)``; call ``apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record one graph node whose rule is ``backward``."""
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            output = cls.forward(ctx, *args, **kwargs)
        if isinstance(output, (tuple, list)):
            raise NotImplementedError(f"{cls.__name__}.forward returned {len(output)} values; a chainrule Function "
                                      "returns one tensor (split it into one Function per output)")
        output = output if isinstance(output, Tensor) else Tensor(output)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        parents = tuple(args[i] for i in positions)
        if any(output is t for t in ctx._non_differentiable) or not is_grad_enabled():
            return constant(output.data)
        name = f"{cls.__name__}Backward"

        def gradients(grad_output):
            grads = cls.backward(ctx, grad_output)
            grads = grads if isinstance(grads, tuple) else (grads,)
            if len(grads) != len(args):
                raise RuntimeError(f"{cls.__name__}.backward returned {len(grads)} gradient(s), expected "
                                   f"{len(args)} (one per argument of forward, None for those without one)")
            picked = []
            for i in positions:
                g, arg = grads[i], args[i]
                if g is not None:
                    g = g if isinstance(g, Tensor) else Tensor(g)
                    if g.shape != arg.shape:
                        raise RuntimeError(f"{cls.__name__}.backward returned a gradient of shape {g.shape} for "
                                           f"argument {i}, whose shape is {arg.shape}")
                picked.append(g)
            return picked

        # the array rule: your backward on the gradient, outside any graph
        def backward(g):
            with no_grad():
                grads = gradients(constant(g))
            return tuple(None if t is None else t.data.astype(p.data.dtype, copy=False) for t, p in zip(grads, parents))

        # the differentiable rule (create_graph=True): the same backward, recorded as it runs
        def double(g):
            return tuple(gradients(g))

        return result(output.data, parents, backward, name, double)
