"""PyTorch's named matrix products and diagonals: ``mm``, ``bmm``, ``mv``, ``dot``, ``outer``, ``addmm``,
``diagonal``, ``diag``, ``trace``.

The products check the shapes PyTorch requires and then are ``matmul`` or ``einsum`` (whose backward
rules they reuse). ``diagonal`` is its own op: its gradient is written back onto the diagonal.
"""

from ..backend import xp
from ..tensor import as_tensor, result
from . import elementwise, linalg, reduce
from .broadcast import unbroadcast
from .einsum import einsum
from .gather import _dim
from .linear_maps import linear_double

__all__ = ["mm", "bmm", "mv", "dot", "inner", "outer", "addmm", "cross", "diagonal", "diag", "trace"]


def _need(op, *pairs):
    """Check each ``(name, tensor, ndim)``; return the tensors."""
    tensors = []
    for name, value, ndim in pairs:
        t = as_tensor(value)
        if t.ndim != ndim:
            raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {t.shape}")
        tensors.append(t)
    return tensors


def mm(input, mat2):
    """Matrix product of (n, m) and (m, p) matrices."""
    return linalg.matmul(*_need("mm", ("input", input, 2), ("mat2", mat2, 2)))


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p) (no broadcasting of the batch, as in PyTorch)."""
    a, b = _need("bmm", ("input", input, 3), ("mat2", mat2, 3))
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: input {a.shape} and mat2 {b.shape}")
    return linalg.matmul(a, b)


def mv(input, vec):
    """Product of an (n, m) matrix and an (m,) vector."""
    return linalg.matmul(*_need("mv", ("input", input, 2), ("vec", vec, 1)))


def dot(input, other):
    """Inner product of two 1-D tensors of the same length."""
    a, b = _need("dot", ("input", input, 1), ("other", other, 1))
    if a.shape != b.shape:
        raise ValueError(f"dot: the vectors must have the same length, got {a.shape} and {b.shape}")
    return einsum("i,i->", a, b)


def inner(input, other):
    """Sum of products over the last axes (``dot`` for vectors; a number times a tensor for 0-d)."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim == 0 or b.ndim == 0:
        return elementwise.mul(a, b)
    return einsum(_inner_equation(a.ndim, b.ndim), a, b)


def _inner_equation(ndim_a, ndim_b):
    """``"az,bcz->abc"``: the last axes meet, the others stay in order."""
    letters = "abcdefghijklmnopqrstuvwxy"
    left, right = letters[: ndim_a - 1], letters[ndim_a - 1 : ndim_a + ndim_b - 2]
    return f"{left}z,{right}z->{left}{right}"


def outer(input, vec2):
    """Outer product of two 1-D tensors: ``out[i, j] = input[i]·vec2[j]``."""
    return einsum("i,j->ij", *_need("outer", ("input", input, 1), ("vec2", vec2, 1)))


def addmm(input, mat1, mat2, beta=1, alpha=1):
    """``beta·input + alpha·(mat1 @ mat2)``; ``input`` broadcasts to the product's shape."""
    product = mm(mat1, mat2)
    if alpha != 1:
        product = elementwise.mul(product, alpha)
    if beta == 0:  # as PyTorch: input is ignored (NaN in it does not propagate)
        return product
    scaled = as_tensor(input) if beta == 1 else elementwise.mul(input, beta)
    return elementwise.add(scaled, product)


def cross(input, other, dim=-1):
    """Cross product of 3-vectors along ``dim`` (as ``torch.linalg.cross``); the other axes broadcast."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim != b.ndim:
        raise ValueError(f"cross: input and other must have the same number of axes, got {a.shape} and {b.shape}")
    dim = _dim(dim, a.ndim, "cross")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise ValueError(f"cross: axis {dim} must have size 3 in both, got shapes {a.shape} and {b.shape}")
    try:
        out = xp.cross(a.data, b.data, axis=dim)
    except ValueError:
        raise ValueError(f"cross: shapes {a.shape} and {b.shape} cannot be broadcast together") from None

    # L = g·(a×b) = a·(b×g) = b·(g×a):  dL/da = b×g,  dL/db = g×a
    def backward(g):
        return (
            unbroadcast(xp.cross(b.data, g, axis=dim), a.shape) if a.requires_grad else None,
            unbroadcast(xp.cross(g, a.data, axis=dim), b.shape) if b.requires_grad else None,
        )

    def double(g):  # the same rule on Tensors
        return (
            unbroadcast(cross(b, g, dim), a.shape) if a.requires_grad else None,
            unbroadcast(cross(g, a, dim), b.shape) if b.requires_grad else None,
        )

    return result(out, (a, b), backward, "cross", double)


def _diagonal_positions(shape, offset, dim1, dim2):
    """Row and column positions of the ``offset`` diagonal of axes ``dim1``/``dim2``."""
    rows, cols = shape[dim1], shape[dim2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    steps = xp.arange(length)
    return steps - min(offset, 0), steps + max(offset, 0)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of axes ``dim1`` and ``dim2`` (above it for ``offset > 0``), as a new last axis."""
    a = as_tensor(input)
    if a.ndim < 2:
        raise ValueError(f"diagonal: input must have at least 2 axes, got shape {a.shape}")
    dim1, dim2 = _dim(dim1, a.ndim, "diagonal"), _dim(dim2, a.ndim, "diagonal")
    if dim1 == dim2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    out = xp.diagonal(a.data, offset, dim1, dim2).copy()
    rows, cols = _diagonal_positions(a.shape, offset, dim1, dim2)

    # d diagonal(A)[..., k]/dA[..., r_k, c_k] = 1: write the gradient back onto the diagonal
    def backward(g):
        grad = xp.zeros(a.shape, dtype=g.dtype)
        xp.moveaxis(grad, (dim1, dim2), (-2, -1))[..., rows, cols] = g
        return (grad,)

    # linear: the write-back as a node whose adjoint reads the diagonal again (linear_maps)
    double = linear_double(backward, lambda h: xp.diagonal(h, offset, dim1, dim2).copy(), "diagonal")
    return result(out, (a,), backward, "diagonal", double)


def diag(input, diagonal=0):
    """A 1-D tensor as a square matrix with it on the ``diagonal``-th diagonal; or a 2-D tensor's diagonal."""
    a = as_tensor(input)
    if a.ndim == 2:
        return globals()["diagonal"](a, diagonal)
    if a.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {a.shape}")
    n = a.shape[0] + abs(diagonal)
    rows, cols = _diagonal_positions((n, n), diagonal, 0, 1)
    out = xp.zeros((n, n), dtype=a.dtype)
    out[rows, cols] = a.data

    # d out[r_k, c_k]/d a[k] = 1: read the gradient off the diagonal
    def backward(g):
        return (g[rows, cols],)

    def forward(h):
        placed = xp.zeros((n, n), dtype=h.dtype)
        placed[rows, cols] = h
        return placed

    return result(out, (a,), backward, "diag", linear_double(backward, forward, "diag"))  # linear (linear_maps)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    (a,) = _need("trace", ("input", input, 2))
    return reduce.sum(diagonal(a))
