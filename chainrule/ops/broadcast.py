"""The one shared helper that makes broadcasting differentiable."""


def unbroadcast(grad, shape):
    """Sum ``grad`` back down to ``shape``, undoing NumPy broadcasting.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward pass, each
    element of ``x`` was used once per copy, so d(loss)/dx is the sum over the copies:
    over the leading axes that broadcasting added, and over the axes where ``x`` had size 1.
    ``grad`` may be an array or (in a differentiable backward pass) a Tensor.
    """
    if grad.shape == shape:
        return grad
    if not hasattr(grad, "flags"):  # a Tensor
        return _unbroadcast_tensor(grad, shape)
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _unbroadcast_tensor(grad, shape):
    """``unbroadcast`` of a Tensor gradient (a differentiable backward pass), with the sum op itself."""
    from .reduce import sum as total  # (positional axis, keepdims)

    extra = grad.ndim - len(shape)
    if extra:
        grad = total(grad, tuple(range(extra)), False)
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = total(grad, stretched, True)
    return grad
