"""Matrix products: ``matmul`` (the ``@`` operator) and the fused ``linear`` layer op."""

from ..backend import xp
from ..tensor import as_tensor, result
from .broadcast import unbroadcast

__all__ = ["matmul", "linear"]


def _swap(array):
    return xp.swapaxes(array, -1, -2)


def matmul(a, b):
    """``a @ b`` with NumPy's rules: 1-D operands are promoted and batch axes broadcast."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
            f"last axis of the first ({k_a}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
            f"axis of the second ({k_b})"
        )
    try:
        out = a.data @ b.data
    except ValueError:
        raise ValueError(f"matmul: batch axes of shapes {a.shape} and {b.shape} cannot be broadcast") from None

    # For C = A·B:  dL/dA = dL/dC · Bᵀ,  dL/dB = Aᵀ · dL/dC   (1-D operands promoted to matrices first)
    def backward(g):
        a2 = a.data[None, :] if a.ndim == 1 else a.data
        b2 = b.data[:, None] if b.ndim == 1 else b.data
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(g2 @ _swap(b2), a2.shape).reshape(a.shape)
        if b.requires_grad:
            gb = unbroadcast(_swap(a2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb

    return result(out, (a, b), backward, "matmul")


def linear(x, weight, bias=None):
    raise NotImplementedError  # being written
