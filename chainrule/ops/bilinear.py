"""The bilinear form ``y = x1ᵀ·A·x2 + b`` of ``torch.nn.functional.bilinear``, fused."""

from ..backend import xp
from ..tensor import as_tensor, result

__all__ = ["bilinear"]


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = Σ_ij input1[..., i]·weight[o, i, j]·input2[..., j] + bias[o]``.

    input1 (*, in1), input2 (*, in2) with the same leading shape; weight (out, in1, in2); bias (out,).
    """
    x1, x2, weight = as_tensor(input1), as_tensor(input2), as_tensor(weight)
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must have shape (out, in1, in2), got {weight.shape}")
    O, I1, I2 = weight.shape
    if x1.ndim == 0 or x1.shape[-1] != I1 or x2.ndim == 0 or x2.shape[-1] != I2 or x1.shape[:-1] != x2.shape[:-1]:
        raise ValueError(
            f"bilinear: inputs must have shapes (*, {I1}) and (*, {I2}) with the same leading axes, got "
            f"{x1.shape} and {x2.shape}"
        )
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (O,):
            raise ValueError(f"bilinear: bias must have shape ({O},), got {bias.shape}")
    lead = x1.shape[:-1]
    a = x1.data.reshape(-1, I1)
    c = x2.data.reshape(-1, I2)
    # (x1·A_o) for every o at once: (N, O, I2), then contracted with x2
    a_w = (a @ weight.data.transpose(1, 0, 2).reshape(I1, O * I2)).reshape(-1, O, I2)
    out = xp.einsum("noj,nj->no", a_w, c)
    if bias is not None:
        out += bias.data
    parents = tuple(t for t in (x1, x2, weight, bias) if t is not None)

    # dL/dx1[n, i] = Σ_o,j g[n, o]·A[o, i, j]·x2[n, j]     dL/dx2[n, j] = Σ_o g[n, o]·(x1·A_o)[n, j]
    # dL/dA[o, i, j] = Σ_n g[n, o]·x1[n, i]·x2[n, j]         dL/db[o] = Σ_n g[n, o]
    def backward(g):
        g2 = g.reshape(-1, O)
        grads = []
        if x1.requires_grad:
            g_c = (g2[:, :, None] * c[:, None, :]).reshape(-1, O * I2)  # (N, O·I2)
            grads.append((g_c @ weight.data.transpose(0, 2, 1).reshape(O * I2, I1)).reshape(x1.shape))
        else:
            grads.append(None)
        grads.append(xp.einsum("no,noj->nj", g2, a_w).reshape(x2.shape) if x2.requires_grad else None)
        grads.append(xp.einsum("no,ni,nj->oij", g2, a, c) if weight.requires_grad else None)
        if bias is not None:
            grads.append(g2.sum(axis=0) if bias.requires_grad else None)
        return tuple(grads)

    return result(out.reshape(lead + (O,)), parents, backward, "bilinear")
