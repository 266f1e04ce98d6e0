"""Running reductions along one dim: cumsum and cumprod."""

from ..backend import xp
from ..tensor import as_tensor, result
from ._dims import one_dim, resolve_dim
from .linear_maps import linear_double, linear_node

__all__ = ["cumsum", "cumprod"]


def _setup(a, dim, axis, op):
    a = as_tensor(a)
    dim = resolve_dim(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}: missing dim, the dim to accumulate along (as in torch.{op})")
    return a, one_dim(dim, max(a.ndim, 1), op)


def _reverse_cumsum(g, ax):
    """``Σ_{j≥i} g_j`` along ``ax``."""
    return xp.flip(xp.cumsum(xp.flip(g, axis=ax), axis=ax), axis=ax)


def cumsum(a, dim=None, *, axis=None):
    """Running sum along ``dim``: ``out_i = Σ_{j≤i} x_j``."""
    a, ax = _setup(a, dim, axis, "cumsum")
    if a.ndim == 0:
        return result(a.data.copy(), (a,), lambda g: (g,), "cumsum", lambda g: (g,))
    out = xp.cumsum(a.data, axis=ax)

    # x_j feeds every out_i with i ≥ j: dL/dx_j = Σ_{i≥j} g_i, a cumulative sum from the end
    def backward(g):
        return (_reverse_cumsum(g, ax),)

    # linear: the reverse cumsum as a node whose adjoint is the cumsum (linear_maps)
    return result(out, (a,), backward, "cumsum", linear_double(backward, lambda h: xp.cumsum(h, axis=ax), "cumsum"))


def cumprod(a, dim=None, *, axis=None):
    """Running product along ``dim``: ``out_i = Π_{j≤i} x_j``."""
    a, ax = _setup(a, dim, axis, "cumprod")
    if a.ndim == 0:
        return result(a.data.copy(), (a,), lambda g: (g,), "cumprod", lambda g: (g,))
    out = xp.cumprod(a.data, axis=ax)

    # dL/dx_j = Σ_{i≥j} g_i Π_{k≤i, k≠j} x_k. Without zeros that is (Σ_{i≥j} g_i out_i) / x_j, a reverse
    # cumsum divided by x. A zero breaks the division, so then each product is rebuilt as the prefix before j
    # (out_{j-1}) times the running product after j: O(n²) along the dim, only for tensors holding a zero.
    def backward(g):
        data, gm, outm = (xp.moveaxis(v, ax, -1) for v in (a.data, g, out))
        if not (data == 0).any():
            return (xp.moveaxis(_reverse_cumsum(gm * outm, -1) / data, -1, ax),)
        grad = xp.empty_like(data)
        for j in range(data.shape[-1]):
            before = outm[..., j - 1] if j else xp.ones(data.shape[:-1], data.dtype)
            after = xp.cumprod(data[..., j + 1 :], axis=-1)
            grad[..., j] = before * (gm[..., j] + (gm[..., j + 1 :] * after).sum(axis=-1))
        return (xp.moveaxis(grad, -1, ax),)

    def double(g):  # (Σ_{i≥j} g_i out_i) / x_j on Tensors, where no element is 0
        if (a.data == 0).any():
            raise RuntimeError("double backward is not implemented for 'cumprod' of a tensor that contains zeros")
        summed = linear_node(g * cumprod(a, ax), lambda v: _reverse_cumsum(v, ax), lambda h: xp.cumsum(h, axis=ax),
                             "cumprod_backward")
        return (summed / a,)

    return result(out, (a,), backward, "cumprod", double)
