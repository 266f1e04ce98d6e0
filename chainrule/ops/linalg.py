"""Matrix products: ``matmul`` (the ``@`` operator) and the fused ``linear`` layer op."""

import contextlib
import threading

from ..backend import xp
from ..tensor import as_tensor, result
from .broadcast import unbroadcast

__all__ = ["matmul", "linear", "batch_invariant"]


class _Mode(threading.local):
    rowwise = False


_mode = _Mode()


@contextlib.contextmanager
def batch_invariant():
    """Context manager in which ``linear`` gives each sample bitwise the same output whatever other
    samples share its batch (the scikit-learn estimators predict inside it).

    Why: a BLAS matrix product picks its kernels and blocking by the number of rows (one row is a
    matrix-vector product; a tail of rows gets an edge kernel), so one sample's output is rounded
    differently — about 1e-7 relative in float32 — when predicted alone, in a batch of 300, or at
    another position. Inside this context ``linear`` multiplies each row on its own: one stacked
    vector-matrix product whose every row takes the same path as a batch of one. Measured on MLP
    predictions it costs about 2x (1,797 x 64 -> 100: 0.4 -> 0.8 ms; 5,000 x 784 -> 128: 10 -> 20 ms).
    Only ``linear`` (``nn.Linear``) changes; ``matmul`` and the convolutions keep one product per batch.
    """
    previous = _mode.rowwise
    _mode.rowwise = True
    try:
        yield
    finally:
        _mode.rowwise = previous


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
        if b.ndim == 1:  # first: with two 1-D operands g is 0-d and becomes (1,) then (1, 1)
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(g2 @ _swap(b2), a2.shape).reshape(a.shape)
        if b.requires_grad:
            gb = unbroadcast(_swap(a2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb

    def double(g):  # the same rule on Tensors
        from .shape import swapaxes, unsqueeze

        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        g2 = unsqueeze(g, -1) if b.ndim == 1 else g
        g2 = unsqueeze(g2, -2) if a.ndim == 1 else g2
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(g2 @ swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if b.requires_grad:
            gb = unbroadcast(swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb

    return result(out, (a, b), backward, "matmul", double)


def linear(x, weight, bias=None):
    """Fully connected layer op ``y = x @ weightᵀ + bias``, fused into one graph node.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
        Any number of leading batch axes (or none).
    weight : Tensor, shape (out_features, in_features)
        PyTorch's layout.
    bias : Tensor, shape (out_features,), optional

    Returns
    -------
    Tensor, shape (..., out_features)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    xd, wd = x.data, weight.data  # arrays from here on: this op runs once per layer per step
    if wd.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {wd.shape}")
    out_features, in_features = wd.shape
    if xd.ndim == 0 or xd.shape[-1] != in_features:
        raise ValueError(
            f"linear: input of shape {xd.shape} does not fit weight of shape {wd.shape}: "
            f"the input's last axis must be in_features = {in_features}"
        )
    if bias is not None and bias.data.shape != (out_features,):
        raise ValueError(
            f"linear: bias must have shape ({out_features},) for weight of shape {wd.shape}, got {bias.data.shape}"
        )
    # leading batch axes collapse into one matrix of rows: (M, in)
    flat = xd.ndim != 2
    x2 = xd.reshape(-1, in_features) if flat else xd
    # batch_invariant(): (M, 1, in) @ (in, out) is M vector-matrix products, each row on its own
    out = xp.matmul(x2[:, None, :], wd.T)[:, 0, :] if _mode.rowwise else x2 @ wd.T
    if bias is not None:
        out += bias.data  # out is a fresh array
    if flat:
        out = out.reshape(xd.shape[:-1] + (out_features,))

    # For Y = X·Wᵀ + b (rows of X are samples):  dL/dX = G·W,  dL/dW = Gᵀ·X,  dL/db = Σ_rows G
    def backward(g):
        g2 = g.reshape(-1, out_features) if flat else g
        gx = gw = gb = None
        if x.requires_grad:
            gx = g2 @ wd
            gx = gx.reshape(xd.shape) if flat else gx
        if weight.requires_grad:
            gw = g2.T @ x2
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=0)
        return gx, gw, gb

    def double(g):  # the same rule on Tensors
        from .reduce import sum as total
        from .shape import swapaxes

        g2 = g.reshape(-1, out_features) if flat else g
        x2t = x.reshape(-1, in_features) if flat else x
        gx = gw = gb = None
        if x.requires_grad:
            gx = g2 @ weight
            gx = gx.reshape(xd.shape) if flat else gx
        if weight.requires_grad:
            gw = swapaxes(g2, 0, 1) @ x2t
        if bias is not None and bias.requires_grad:
            gb = total(g2, 0)
        return gx, gw, gb

    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(out, parents, backward, "linear", double)
