"""``Tensor``: an array, its gradient, and the op that made it.

A tensor made by the user is a *leaf*; a tensor made by an op is a graph node that
keeps its input tensors (``_parents``) and its backward rule (``_backward``) until
``backward()`` has used them. The arithmetic operators and methods here are thin
sugar over the functions in ``chainrule.ops``, where each op's forward and backward
live side by side.
"""

import numbers
import weakref

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

    Notes
    -----
    The API follows ``torch.Tensor`` (``size()`` is the shape, ``numel()`` the element count; ``grad``
    is a Tensor; in-place methods end in ``_``). One deliberate difference: ``.data`` is the raw
    backend array (a NumPy ndarray), not a Tensor, so ``x.data`` is what NumPy code and the optimizers
    work on; ``param.data -= lr * param.grad`` updates it in place as in PyTorch.
    """

    # ``_grad`` holds the gradient *array* (what the engine and the optimizers' flat buffers work on);
    # ``grad`` is a property giving a Tensor that wraps that same array (``_grad_t``, cached), so
    # ``x.grad is x.grad`` and in-place edits of ``x.grad`` reach the array. ``_grad_home`` is the
    # optimizer's flat-buffer view a fresh gradient is written into. ``_double``, ``_hooks`` and
    # ``_retains`` are set only when used (read with getattr in the general sweep).
    __slots__ = (
        "data", "_grad", "_grad_t", "_grad_home", "requires_grad", "_parents", "_backward", "_op",
        "_double", "_hooks", "_retains", "__weakref__",
    )
    # Make ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of NumPy broadcasting over objects.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data, dtype)
        self._grad = None
        self._grad_t = None
        self._grad_home = None
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

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, grad=None):
        """Backpropagate from this tensor: every leaf that requires a gradient gets d(self)/d(leaf) added to ``.grad``.

        ``gradient`` is the upstream gradient, shaped like this tensor; it may be omitted only
        for a single-element tensor (a loss), where it defaults to 1 (``grad=`` is an older name of it).
        The graph is freed afterwards unless ``retain_graph=True`` (default: ``create_graph``).
        ``create_graph=True`` records the backward pass itself, so the ``.grad`` it leaves can be
        differentiated again. ``inputs``: accumulate into these tensors' ``.grad`` only.
        """
        if gradient is None:
            gradient = grad
        if inputs is not None:
            from .autograd import backward

            return backward([self], [gradient], retain_graph, create_graph, inputs)
        if not self.requires_grad:
            raise RuntimeError(
                "backward() was called on a tensor that does not require a gradient: none of the tensors "
                "it was computed from had requires_grad=True (or it was computed inside no_grad())"
            )
        if gradient is None and not create_graph and self.data.size == 1:  # a loss: the common case, inline
            seed = xp.ones_like(self.data)
        else:
            seed = _seed_gradient(self, gradient, "backward()", create_graph)
        if retain_graph is None:
            retain_graph = create_graph
        run_backward(self, seed, retain_graph, create_graph)

    # ---------------------------------------------------------------- gradient storage
    @property
    def grad(self):
        """The accumulated gradient as a Tensor (None until a backward pass reaches this leaf).

        It wraps the gradient array itself: ``x.grad.zero_()`` and other in-place edits change the
        gradient the optimizer will use, and ``x.grad is x.grad``.
        """
        g = self._grad
        if g is None:
            return None
        t = self._grad_t
        if t is None or t.data is not g:
            t = self._grad_t = constant(g)
        return t

    @grad.setter
    def grad(self, value):
        if value is None:
            self._drop_grad()
            return
        if isinstance(value, Tensor):
            array = value.data
        else:
            array = xp.asarray(value)
            if array.dtype != self.data.dtype and array.dtype.kind == "f" and self.data.dtype.kind == "f":
                array = array.astype(self.data.dtype)
            value = None
        if tuple(array.shape) != tuple(self.data.shape):
            raise ValueError(
                f"grad: the assigned gradient has shape {tuple(array.shape)}, but the tensor has shape {self.shape}"
            )
        if array.dtype != self.data.dtype:
            raise TypeError(
                f"grad: the assigned gradient has dtype {array.dtype}, but the tensor has dtype {self.dtype}"
            )
        self._grad = array
        self._grad_t = value

    def _drop_grad(self):
        """``grad = None``. A gradient Tensor the user still holds keeps its values: if it wraps the
        optimizer's flat-buffer view (which the next backward writes into), it gets a copy."""
        t = self._grad_t
        if t is not None and self._grad is not None and t.data is self._grad and self._grad is self._grad_home:
            t.data = t.data.copy()
        self._grad = None
        self._grad_t = None

    def _rebind_grad(self, array):
        """Make ``array`` the gradient array (the optimizer's view); a plain gradient Tensor follows it."""
        self._grad = array
        t = self._grad_t
        if t is not None and not t.requires_grad:
            t.data = array
        else:
            self._grad_t = None

    def _accumulate_grad(self, g):
        """Add the array ``g`` into ``.grad`` (leaves only). The first gradient is copied, because ``g``
        may be a view that other tensors share (into the optimizer's flat-buffer view when there
        is one); later ones are added in place."""
        grad = self._grad
        if grad is None:
            home = self._grad_home
            if home is not None and home.shape == g.shape:
                xp.copyto(home, g)
                self._grad = home
            else:
                self._grad = xp.array(g, dtype=self.data.dtype, copy=True)
        elif self._grad_t is not None and self._grad_t.requires_grad:  # a gradient with a graph: not in place
            self._grad_t = self._grad_t.detach() + g
            self._grad = self._grad_t.data
        else:
            grad += g

    def _accumulate_grad_tensor(self, g):
        """``create_graph`` accumulation: ``.grad`` becomes a Tensor with a graph (never in place)."""
        previous = self.grad
        g = g.clone() if previous is None else previous + g  # a clone: g may be another tensor's gradient too
        self._grad = g.data
        self._grad_t = g

    def _store_grad(self, g):
        """``retain_grad()`` of a non-leaf: keep (add) the gradient that reached it."""
        if isinstance(g, Tensor):
            self._accumulate_grad_tensor(g)
        else:
            self._accumulate_grad(g)

    def zero_grad(self):
        """Forget the accumulated gradient (``grad = None``)."""
        self._drop_grad()

    # ---------------------------------------------------------------- hooks
    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during every backward pass.

        ``hook`` returns None or a Tensor that replaces the gradient. Works on leaves (called before
        the gradient is accumulated into ``.grad``) and on non-leaves. Returns a handle whose
        ``remove()`` unregisters the hook.
        """
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = getattr(self, "_hooks", None)
        if hooks is None:
            if not getattr(self, "_retains", False):
                _mark_special(self)
            hooks = self._hooks = {}
        handle = _HookHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in ``.grad`` after ``backward()`` (a no-op on leaves)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or getattr(self, "_retains", False):
            return
        if getattr(self, "_hooks", None) is None:
            _mark_special(self)
        self._retains = True

    @property
    def retains_grad(self):
        """True for a non-leaf on which ``retain_grad()`` was called."""
        return getattr(self, "_retains", False)

    def detach(self):
        """A new leaf tensor sharing this data, cut from the graph."""
        return Tensor(self.data)

    def detach_(self):
        """Cut this tensor from the graph in place (it becomes a leaf that does not require a gradient)."""
        self._backward = None
        self._parents = ()
        self._op = None
        self.requires_grad = False
        return self

    def clone(self):
        """A copy with its own memory; differentiable (the gradient passes through unchanged)."""
        return _clone(self)

    @property
    def grad_fn(self):
        """None for a leaf, else the recorded op (``grad_fn.name()`` is its name, e.g. ``"mul"``)."""
        if self._backward is None:
            return None
        return _GradFn(self._op)

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

    def size(self, dim=None):
        """The shape as a ``Size`` (a tuple), or the length of axis ``dim`` (as ``torch.Tensor.size``).

        Unlike NumPy's ``.size`` this is not the element count: that is ``numel()``.
        """
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_dim(dim, self.data.ndim, "size")]

    def dim(self):
        """Number of axes."""
        return self.data.ndim

    ndimension = dim

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numel(self):
        """Number of elements."""
        return self.data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    @property
    def device(self):
        """Always ``"cpu"`` for now (the device API comes with the accelerators issue)."""
        return "cpu"

    @property
    def is_cuda(self):
        return False

    def cpu(self):
        """This tensor (it already lives in host memory)."""
        return self

    def contiguous(self):
        """This tensor if its data is C-contiguous, else a contiguous copy (differentiable)."""
        return self if self.data.flags.c_contiguous else _clone(self)

    def is_contiguous(self):
        return bool(self.data.flags.c_contiguous)

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

    def astype(self, dtype, copy=True):
        """Cast to ``dtype`` (differentiable between floating dtypes); ``copy`` is accepted for NumPy's signature."""
        from .ops.elementwise import cast

        return cast(self, dtype)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """Convert: ``to(dtype)``, ``to("cpu")``, ``to("cpu", dtype)``, ``to(other_tensor)`` (its dtype).

        Returns ``self`` when nothing changes (unless ``copy=True``), as PyTorch does. Only the CPU
        device exists for now; another device raises (the device API comes with the accelerators issue).
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) and not _is_dtype_name(arg):
                device = arg
            elif arg is not None:
                dtype = arg
        if device is not None:
            _check_device(device)
        out = self
        if dtype is not None:
            from .dtypes import as_dtype

            dtype = as_dtype(dtype, "to")
            if dtype != self.data.dtype:
                out = self.astype(dtype)
        if copy and out is self:
            out = _clone(self)
        return out

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new leaf from ``data`` with this tensor's dtype unless ``dtype`` is given."""
        return Tensor(xp.array(_as_array(data), copy=True), requires_grad=requires_grad, dtype=dtype or self.dtype)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return self._new_filled(size, 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return self._new_filled(size, 1, dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        return self._new_filled((size,), fill_value, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return Tensor(xp.empty(shape, dtype=dtype or self.dtype), requires_grad=requires_grad)

    def _new_filled(self, size, value, dtype, requires_grad):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return Tensor(xp.full(shape, value, dtype=dtype or self.dtype), requires_grad=requires_grad)

    def float(self):
        return self.to(xp.float32)

    def double(self):
        return self.to(xp.float64)

    def half(self):
        return self.to(xp.float16)

    def long(self):
        return self.to(xp.int64)

    def int(self):
        return self.to(xp.int32)

    def short(self):
        return self.to(xp.int16)

    def bool(self):
        return self.to(xp.bool_)

    def byte(self):
        return self.to(xp.uint8)

    def type(self, dtype=None):
        """Without an argument: the type name (``"chainrule.FloatTensor"``); with one: ``to(dtype)``."""
        if dtype is None:
            return f"chainrule.{_TYPE_NAMES.get(self.data.dtype.name, self.data.dtype.name)}"
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def _check_inplace(self, op):
        """Raise PyTorch's error for an in-place change that would corrupt a recorded graph."""
        if is_grad_enabled() and self.requires_grad:
            if self.is_leaf:
                raise RuntimeError(
                    f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                    "(wrap the update in chainrule.no_grad(), or change tensor.data)"
                )
            raise RuntimeError(
                f"{op}: in-place operations on a tensor that is part of a recorded graph are not supported "
                "(chainrule does not version tensors, so the backward pass could read changed values); "
                "write x = x + y instead, or use no_grad()"
            )

    # ---------------------------------------------------------------- in place (no graph)
    def _writable_data(self):
        """``self.data``, made a writable array first if it is a NumPy scalar (what NumPy returns for ops on
        0-d arrays), so ``total += (pred == y).sum()`` and ``loss.clamp_(...)`` work on 0-d tensors."""
        data = self.data
        if not isinstance(data, xp.ndarray):
            data = self.data = xp.asarray(data)
        return data

    def _inplace(self, op, ufunc, other):
        self._check_inplace(op)
        if isinstance(other, Tensor):
            if is_grad_enabled() and other.requires_grad:
                raise RuntimeError(
                    f"{op}: in-place operations with an operand that requires grad are not recorded in the "
                    "graph; write x = x + y instead, or use no_grad()"
                )
            other = other.data
        try:
            data = self._writable_data()
            ufunc(data, other, out=data, casting="same_kind")
        except TypeError as error:  # numpy's UFuncTypeError: e.g. an int tensor += a float
            raise RuntimeError(f"{op}: result type can't be cast to the tensor's dtype {self.dtype}: {error}") from None
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add_", xp.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", xp.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul_", xp.multiply, other)

    def div_(self, other):
        return self._inplace("div_", xp.true_divide, other)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self):
        """Fill with zeros in place."""
        self._check_inplace("zero_")
        self._writable_data()[...] = 0
        return self

    def fill_(self, value):
        """Fill with ``value`` in place."""
        self._check_inplace("fill_")
        self._writable_data()[...] = value.item() if isinstance(value, Tensor) else value
        return self

    def copy_(self, src):
        """Copy ``src``'s values (broadcast to this shape, cast to this dtype) in place."""
        self._check_inplace("copy_")
        src = src.data if isinstance(src, Tensor) else xp.asarray(src)
        try:
            xp.copyto(self._writable_data(), xp.broadcast_to(src, self.data.shape), casting="unsafe")
        except ValueError:
            raise ValueError(f"copy_: source of shape {tuple(src.shape)} cannot be broadcast to {self.shape}") from None
        return self

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs meeting a Tensor: ``ndarray + tensor`` stays a Tensor op (as ``tensor + ndarray``);
        anything else runs on the arrays, as NumPy would after ``__array__``. That makes the PyTorch
        idiom ``param.data -= lr * param.grad`` (``.data`` is an array here) update the array in place
        instead of rebinding it to a Tensor."""
        if method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs
            names = _UFUNC_OPERATORS.get(ufunc.__name__)
            if names is not None:
                return getattr(a, names[0])(b) if isinstance(a, Tensor) else getattr(b, names[1])(a)
        inputs = tuple(x.data if isinstance(x, Tensor) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x.data if isinstance(x, Tensor) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

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

    def __float__(self):
        return float(self.item())

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor's value, as PyTorch; an empty spec gives ``str``."""
        if spec and self.data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got {self.dtype}")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


# ufunc name -> (method of the Tensor on the left, reflected method of the Tensor on the right)
_UFUNC_OPERATORS = {
    "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"), "multiply": ("__mul__", "__rmul__"),
    "true_divide": ("__truediv__", "__rtruediv__"), "divide": ("__truediv__", "__rtruediv__"),
    "power": ("__pow__", "__rpow__"), "matmul": ("__matmul__", "__rmatmul__"),
    "equal": ("__eq__", "__eq__"), "not_equal": ("__ne__", "__ne__"), "less": ("__lt__", "__gt__"),
    "less_equal": ("__le__", "__ge__"), "greater": ("__gt__", "__lt__"), "greater_equal": ("__ge__", "__le__"),
}


class Size(tuple):
    """A tensor's shape, as ``torch.Size``: a tuple of ints with ``numel()``."""

    __slots__ = ()

    def numel(self):
        count = 1
        for n in self:
            count *= n
        return count

    def __repr__(self):
        return f"chainrule.Size({list(self)})"


class _GradFn:
    """What ``tensor.grad_fn`` returns: the name of the op that made the tensor."""

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name

    def __repr__(self):
        return f"<{self._name} backward>"


class _HookHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook."""

    _next = 0

    def __init__(self, hooks):
        _HookHandle._next += 1
        self.id = _HookHandle._next
        self._hooks = hooks

    def remove(self):
        self._hooks.pop(self.id, None)


def _mark_special(tensor):
    """Count ``tensor`` among the live tensors with hooks or ``retain_grad()`` (while any live, backward takes
    the general sweep, which calls them); it leaves the count when it is garbage-collected."""
    from .function import _special

    _special.count += 1
    weakref.finalize(tensor, _unmark_special)


def _unmark_special():
    from .function import _special

    _special.count -= 1


_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
    "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}


def _is_dtype_name(text):
    return text in _TYPE_NAMES or text in ("float", "double", "half", "long", "int", "short")


def _check_device(device):
    name = str(device)
    if name != "cpu" and not name.startswith("cpu:"):
        raise RuntimeError(
            f"device {name!r} is not available: chainrule runs on the CPU for now (the device API comes with "
            "the accelerators issue); use 'cpu'"
        )


def _dim(dim, ndim, op):
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % ndim if ndim else 0


def _seed_gradient(tensor, gradient, where, create_graph):
    """The upstream gradient of ``tensor``: ones for a single element if omitted, else checked.

    An array (a Tensor when ``create_graph``, which keeps a given Tensor's graph)."""
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"{where} without a gradient argument needs a single-element tensor, but this one has "
                f"shape {tensor.shape}; reduce it first (e.g. loss.sum() or loss.mean()) or pass "
                f"a gradient of shape {tensor.shape}"
            )
        seed = xp.ones_like(tensor.data)
        return constant(seed) if create_graph else seed
    # the seed takes this tensor's dtype, so a float64 grad cannot leak into a float32 graph
    if create_graph and isinstance(gradient, Tensor):
        seed = gradient if gradient.dtype == tensor.dtype else gradient.astype(tensor.dtype)
        data = seed.data
    else:
        data = xp.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=tensor.data.dtype)
        seed = constant(data) if create_graph else data
    if data.shape != tensor.data.shape:
        raise ValueError(f"{where}: gradient shape {data.shape} does not match tensor shape {tensor.shape}")
    return seed


def _clone(a):
    # d clone(a)/da = 1
    def backward(g):
        return (g,)

    def double(g):
        return (g,)

    return result(a.data.copy(), (a,), backward, "clone", double)


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
    kind = type(value)
    if kind is float or kind is int:  # the common cases, without the ABC checks below (slow for every op)
        dtype = like.data.dtype
        if kind is float:
            if dtype.kind != "f":
                dtype = backend.DEFAULT_DTYPE
        elif dtype.kind == "b":
            dtype = xp.dtype(xp.int64)
        return Tensor(xp.asarray(value, dtype=dtype))
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        # PyTorch's rule: a Python number never raises the tensor's dtype within its category (float,
        # integer); one of a higher category takes that category's default (float32; int64 for bools)
        dtype = like.data.dtype
        if isinstance(value, numbers.Integral):
            if dtype.kind == "b":
                dtype = xp.dtype(xp.int64)
        elif dtype.kind != "f":
            dtype = backend.DEFAULT_DTYPE
        return Tensor(xp.asarray(value, dtype=dtype))
    return Tensor(value)


def result(data, parents, backward, op, double=None):
    """Wrap an op's output array ``data`` as a Tensor and, when any parent needs a gradient
    and grad mode is on, record ``backward`` (gradient of output -> one gradient per parent).

    ``double``, where the op has one, is the same rule written with Tensor ops (Tensor gradient in,
    Tensors out), which ``create_graph=True`` uses so the backward pass can be differentiated again.
    """
    out = Tensor.__new__(Tensor)
    out.data = data
    out._grad = None
    out._grad_t = None
    out._grad_home = None
    out._op = op
    if is_grad_enabled():
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                if double is not None:
                    out._double = double
                return out
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    return out


def piecewise_constant(x, values):
    """``values`` (an array) as a tensor that depends on ``x`` piecewise-constantly (a mask, a sign).

    For the differentiable backward rules: ``g * piecewise_constant(x, mask)`` gives ``x`` a zero
    gradient rather than none, as PyTorch's rules do (``relu``'s backward reads its input).
    """
    # d values/dx = 0 (almost everywhere)
    def backward(g):
        return (xp.zeros(x.data.shape, dtype=x.data.dtype),)

    def double(g):
        return (constant(xp.zeros(x.data.shape, dtype=x.data.dtype)),)

    return result(values, (x,), backward, "piecewise_constant", double)


def constant(data):
    """A non-differentiable tensor result (comparisons, argmax)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out._grad = None
    out._grad_t = None
    out._grad_home = None
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    out._op = None
    return out
