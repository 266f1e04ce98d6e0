"""``Tensor``: an array, its gradient, and the op that made it.

A tensor made by the user is a *leaf*; a tensor made by an op is a graph node that
keeps its input tensors (``_parents``) and its backward rule (``_backward``) until
``backward()`` has used them. The arithmetic operators and methods here are thin
sugar over the functions in ``chainrule.ops``, where each op's forward and backward
live side by side.
"""

import numbers

from . import backend
from .backend import xp
from .function import is_grad_enabled, run_backward


class Tensor:
    """An n-dimensional array that can carry a gradient.

    Parameters
    ----------
    data : array_like
        Values. Python floats and lists become ``float32``; NumPy arrays keep their dtype
        unless ``dtype`` is given (as with ``torch.tensor``).
    requires_grad : bool
        Whether ``backward()`` should compute the gradient of this tensor (floating dtypes only).
    dtype : dtype, optional
        Cast the data to this dtype.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "__weakref__")
    # Make ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of NumPy broadcasting over objects.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return ``self``."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad=True needs a floating tensor, but this one has dtype {self.data.dtype}; "
                "convert it first, e.g. tensor.astype('float32')"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this tensor: every leaf that requires a gradient gets d(self)/d(leaf) added to ``.grad``.

        ``grad`` is the upstream gradient, shaped like this tensor; it may be omitted only
        for a single-element tensor (a loss), where it defaults to 1. The graph is freed
        afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() was called on a tensor that does not require a gradient: none of the tensors "
                "it was computed from had requires_grad=True (or it was computed inside no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient argument needs a single-element tensor, but this one has "
                    f"shape {self.shape}; reduce it first (e.g. loss.sum() or loss.mean()) or pass "
                    f"backward(grad=...) with an array of shape {self.shape}"
                )
            grad = xp.ones_like(self.data)
        else:
            # the seed takes this tensor's dtype, so a float64 grad cannot leak into a float32 graph
            grad = xp.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"backward(): gradient shape {grad.shape} does not match tensor shape {self.shape}")
        run_backward(self, grad, retain_graph)

    def _accumulate_grad(self, g):
        """Add ``g`` into ``.grad`` (leaves only). The first gradient is copied, because ``g``
        may be a view that other tensors share; later ones are added in place."""
        if self.grad is None:
            self.grad = xp.array(g, dtype=self.data.dtype, copy=True)
        else:
            self.grad += g

    def zero_grad(self):
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    def detach(self):
        """A new leaf tensor sharing this data, cut from the graph."""
        return Tensor(self.data)

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op."""
        return self._backward is None

    # ------------------------------------------------------------------ access
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    def __len__(self):
        return len(self.data)

    def numel(self):
        """Number of elements."""
        return self.data.size

    def numpy(self):
        """The values as a NumPy array (shares memory on the NumPy backend; do not modify it)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a single-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a single-element tensor, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def astype(self, dtype):
        """Cast to ``dtype`` (differentiable between floating dtypes)."""
        from .ops.elementwise import cast

        return cast(self, dtype)

    def float(self):
        return self.astype(xp.float32)

    def double(self):
        return self.astype(xp.float64)

    def __array__(self, dtype=None, copy=None):
        array = backend.to_numpy(self.data)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __repr__(self):
        body = repr(backend.to_numpy(self.data))
        body = body[body.index("(") + 1 : body.rindex(")")] if body.startswith("array(") else body
        extras = []
        if self._op is not None and self.requires_grad:
            extras.append(f"grad_fn={self._op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if "dtype=" not in body:
            extras.append(f"dtype={self.dtype}")
        suffix = ", ".join(extras)
        return f"tensor({body}{', ' + suffix if suffix else ''})"

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    def __hash__(self):
        return id(self)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return xp.asarray(data, dtype=dtype)
    if isinstance(data, xp.ndarray):
        return data
    array = xp.asarray(data)
    if array.dtype.kind == "f" and array.dtype != backend.DEFAULT_DTYPE and not _is_numpy_array(data):
        array = array.astype(backend.DEFAULT_DTYPE)  # Python floats and lists: float32
    return array


def _is_numpy_array(data):
    return hasattr(data, "dtype") and hasattr(data, "shape")


def as_tensor(value):
    """``value`` as a Tensor (Tensors pass through unchanged)."""
    return value if isinstance(value, Tensor) else Tensor(value)


def lift(value, like):
    """``value`` as a Tensor; a Python number takes ``like``'s dtype so float32 stays float32."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        dtype = like.data.dtype
        if isinstance(value, float) and dtype.kind != "f":
            dtype = backend.DEFAULT_DTYPE
        return Tensor(xp.asarray(value, dtype=dtype))
    return Tensor(value)


def result(data, parents, backward, op):
    """Wrap an op's output array ``data`` as a Tensor and, when any parent needs a gradient
    and grad mode is on, record ``backward`` (gradient of output -> one gradient per parent)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out._op = op
    if is_grad_enabled():
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                return out
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    return out


def constant(data):
    """A non-differentiable tensor result (comparisons, argmax)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    out._op = None
    return out
