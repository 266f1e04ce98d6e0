"""Reading and writing along an axis by index, as in ``torch``: gather, scatter, index_select,
masked_fill and friends, plus ``one_hot`` and ``nonzero``.

Reading by index (gather) and writing by index (scatter-add) are each other's backward: the
gradient of a read is added back at the positions read (several reads of one element add up),
and the gradient of a written value is read from the position it was written to.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, constant, lift, result
from . import elementwise, indexing, shape
from .linear_maps import linear_double, linear_parts_double

__all__ = [
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "masked_fill", "masked_select",
    "take_along_dim", "nonzero", "one_hot",
]


def _index_array(index, op, name="index"):
    """``index`` as an integer array (from a Tensor, array or list)."""
    data = index.data if isinstance(index, Tensor) else xp.asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers, got dtype {data.dtype}")
    return data


def _dim(dim, ndim, op):
    """``dim`` as a non-negative axis of a tensor with ``ndim`` axes (a 0-d tensor has axis 0 as in PyTorch)."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, xp.integer)) or isinstance(dim, bool) or not -n <= dim < n:
        raise ValueError(f"{op}: dim must be an int in [{-n}, {n - 1}] for a tensor with {ndim} axes, got {dim!r}")
    return int(dim) % n


def _along(index, dim):
    """Advanced-index tuple that addresses ``array[..., index[i, j, k], ...]`` (``index`` at axis ``dim``,
    every other axis by its own position): the positions ``torch.gather`` reads and ``scatter`` writes."""
    grids = list(xp.ix_(*[xp.arange(n) for n in index.shape]))
    grids[dim] = index
    return tuple(grids)


def _check_along(a_shape, index, dim, op, other=None):
    """PyTorch's rule for gather/scatter: same number of axes, and ``index`` no larger than ``a``
    (and than ``other``, the source) on every axis but ``dim``; indices in range."""
    if index.ndim != len(a_shape):
        raise ValueError(f"{op}: index must have as many axes as the input ({len(a_shape)}), got shape {index.shape}")
    for d, n in enumerate(index.shape):
        if d != dim and n > a_shape[d]:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than the input {a_shape} at axis {d}")
        if other is not None and n > other[d]:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than src {other} at axis {d}")
    if index.size and not (-a_shape[dim] <= index.min() and index.max() < a_shape[dim]):
        raise IndexError(f"{op}: index out of range for axis {dim} of size {a_shape[dim]}")


def gather(input, dim, index):
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for ``dim=0``; likewise for other axes).

    ``index`` has as many axes as ``input`` and is no larger on the axes other than ``dim``;
    the output has ``index``'s shape.
    """
    return _gather(input, dim, index, distinct=False)


def _gather(input, dim, index, distinct):
    """``gather``; ``distinct=True`` promises that no position is read twice (a sort's order), so the
    backward can write the gradient instead of adding it up (several times faster)."""
    a = as_tensor(input)
    index = _index_array(index, "gather")
    dim = _dim(dim, a.ndim, "gather")
    # a 0-d input (and index) is read as 1-D, as PyTorch does
    a_data, flat_index = (a.data, index) if a.ndim else (a.data.reshape(1), index.reshape(-1))
    _check_along(a_data.shape, flat_index, dim, "gather")
    where = _along(flat_index, dim)
    out = a_data[where].reshape(index.shape)

    # d out[p]/d input[where[p]] = 1: add each output gradient at the position it was read from
    def backward(g):
        grad = xp.zeros(a_data.shape, dtype=g.dtype)
        if distinct:
            grad[where] = g.reshape(flat_index.shape)
        else:
            xp.add.at(grad, where, g.reshape(flat_index.shape))
        return (grad.reshape(a.shape),)

    # linear: the scatter-add as a node whose adjoint is this gather (linear_maps)
    double = linear_double(backward, lambda h: h.reshape(a_data.shape)[where].reshape(index.shape), "gather")
    return result(out, (a,), backward, "gather", double)


def _scatter(input, dim, index, src, op, accumulate):
    a = as_tensor(input)
    index = _index_array(index, op)
    dim = _dim(dim, a.ndim, op)
    source_is_tensor = getattr(src, "ndim", 0) > 0  # else a number (or 0-d tensor) written everywhere
    src = lift(src, a)
    if source_is_tensor and src.ndim != a.ndim:
        raise ValueError(f"{op}: src must have as many axes as the input ({a.ndim}), got shape {src.shape}")
    _check_along(a.shape, index, dim, op, src.shape if source_is_tensor else None)
    where = _along(index, dim)
    block = tuple(slice(0, n) for n in index.shape)  # the part of src that is written
    values = src.data[block] if source_is_tensor else xp.broadcast_to(src.data, index.shape)
    out = a.data.copy()
    if accumulate:
        xp.add.at(out, where, values)
    else:
        out[where] = values

    # scatter:     d out/d input = 1 except where overwritten (0 there);  d out/d src = 1 where written
    # scatter_add: d out/d input = 1;  d out/d src = 1 where added (read back with a gather)
    def backward(g):
        grad_a = grad_src = None
        if a.requires_grad:
            if accumulate:
                grad_a = g
            else:
                grad_a = g.copy()
                grad_a[where] = 0
        if src.requires_grad:
            read = g[where]
            if source_is_tensor:
                grad_src = xp.zeros(src.shape, dtype=g.dtype)
                grad_src[block] = read
            else:
                grad_src = read.sum().reshape(src.shape)
        return grad_a, grad_src

    # linear in (input, src) together: each part alone is the op with the other input zero (linear_maps)
    def from_input(h):
        kept = h.copy()
        if not accumulate:
            kept[where] = 0
        return kept

    def from_src(h):
        written = xp.zeros(a.shape, dtype=h.dtype)
        part = h[block] if source_is_tensor else xp.broadcast_to(h, index.shape)
        if accumulate:
            xp.add.at(written, where, part)
        else:
            written[where] = part
        return written

    return result(out, (a, src), backward, op, linear_parts_double(backward, (from_input, from_src), (a, src), op))


def scatter(input, dim, index, src=None, value=None, reduce=None):
    """A copy of ``input`` with ``out[index[i][j][k]][j][k] = src[i][j][k]`` (for ``dim=0``).

    ``src`` is a tensor (at least as large as ``index``) or a number; ``value=`` is PyTorch's name for
    a number. Where ``index`` repeats a position, which write wins is unspecified (as in PyTorch).
    ``reduce="add"`` or ``"multiply"`` combines instead of writing (:func:`scatter_reduce`'s ``"sum"``
    and ``"prod"`` with the input included).
    """
    if (src is None) == (value is None):
        raise ValueError("scatter: give exactly one of src (a tensor or number) and value (a number)")
    src = value if src is None else src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if getattr(src, "ndim", 0) == 0:  # a number: one copy per index
            src = xp.broadcast_to(lift(src, as_tensor(input)).data, _index_array(index, "scatter").shape)
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    return _scatter(input, dim, index, src, "scatter", accumulate=False)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src[i][j][k]`` added at ``out[index[i][j][k]][j][k]`` (for ``dim=0``);
    repeated positions add up."""
    return _scatter(input, dim, index, src, "scatter_add", accumulate=True)


_REDUCTIONS = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}


def _identity(reduce, dtype):
    """The value that leaves ``reduce`` unchanged (what a position starts from when ``include_self=False``)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = xp.inf if dtype.kind == "f" else xp.iinfo(dtype).max
    return -big if reduce == "amax" else big


def scatter_reduce(input, dim, index, src, reduce, include_self=True):
    """A copy of ``input`` where each position that ``index`` addresses (along ``dim``) becomes the reduction
    (``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``) of the ``src`` values sent to it, and of its
    own value when ``include_self`` (as ``torch.scatter_reduce``). Positions no index addresses keep ``input``.
    """
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {sorted(_REDUCTIONS)}, got {reduce!r}")
    a, src = as_tensor(input), as_tensor(src)
    index = _index_array(index, "scatter_reduce")
    dim = _dim(dim, a.ndim, "scatter_reduce")
    if src.ndim != a.ndim:
        raise ValueError(f"scatter_reduce: src must have as many axes as the input ({a.ndim}), got shape {src.shape}")
    _check_along(a.shape, index, dim, "scatter_reduce", src.shape)
    where = _along(index, dim)
    block = tuple(slice(0, n) for n in index.shape)
    values = src.data[block]
    touched = xp.zeros(a.shape, dtype=bool)
    touched[where] = True
    out = a.data.copy()
    if not include_self:
        out[touched] = _identity(reduce, out.dtype)
    _REDUCTIONS[reduce].at(out, where, values)
    counts = None
    if reduce == "mean":
        counts = xp.zeros(a.shape, dtype=a.dtype if a.dtype.kind == "f" else xp.int64)
        xp.add.at(counts, where, 1)
        counts += include_self
        counts[~touched] = 1
        out = out / counts if a.dtype.kind == "f" else out // counts
    # whether the input's own value takes part at each position
    own = ~touched | include_self

    # sum:  d out/d input = 1 (where it takes part), d out/d src = 1
    # mean: both divided by the number of values averaged at that position
    # amax/amin: 1/k for each of the k values equal to the result (ties share), 0 for the others
    # prod: the product of the other values of the group (by counting zeros, so that no 0/0 is formed)
    def backward(g):
        if reduce in ("sum", "mean"):
            share = g / counts if reduce == "mean" else g
            grad_a, grad_read = share * own, share[where]
        elif reduce in ("amax", "amin"):
            own_wins = own & (a.data == out)
            src_wins = values == out[where]
            winners = own_wins.astype(g.dtype)
            xp.add.at(winners, where, src_wins)
            share = g / xp.where(winners == 0, 1, winners)
            grad_a, grad_read = share * own_wins, share[where] * src_wins
        else:
            zeros = (own & (a.data == 0)).astype(xp.int64)
            xp.add.at(zeros, where, values == 0)
            nonzero_product = xp.where(own & (a.data != 0), a.data, 1).astype(g.dtype)
            xp.multiply.at(nonzero_product, where, xp.where(values != 0, values, 1))

            def others(v, z, p):  # product of the group without one member v
                with xp.errstate(divide="ignore", invalid="ignore"):
                    return xp.where(v != 0, (z == 0) * p / xp.where(v != 0, v, 1), (z == 1) * p)

            grad_a = g * own * others(a.data, zeros, nonzero_product)
            grad_read = g[where] * others(values, zeros[where], nonzero_product[where])
        grad_src = None
        if src.requires_grad:
            grad_src = xp.zeros(src.shape, dtype=g.dtype)
            grad_src[block] = grad_read
        return (grad_a if a.requires_grad else None), grad_src

    double = None
    if reduce != "prod":
        # sum, mean: linear in (input, src) together; amax, amin: linear in g with the winners (piecewise
        # constant) fixed. Either way each part of the rule is a linear node (linear_maps) with these adjoints:
        if reduce in ("sum", "mean"):
            scale_a = own / counts if reduce == "mean" else own
            scale_src = 1 / counts[where] if reduce == "mean" else 1
        else:
            own_wins = own & (a.data == out)
            src_wins = values == out[where]
            winners = own_wins.astype(out.dtype)
            xp.add.at(winners, where, src_wins)
            winners[winners == 0] = 1
            scale_a, scale_src = own_wins / winners, src_wins / winners[where]

        def from_input(h):
            return h * scale_a

        def from_src(h):
            added = xp.zeros(a.shape, dtype=h.dtype)
            xp.add.at(added, where, h[block] * scale_src)
            return added

        double = linear_parts_double(backward, (from_input, from_src), (a, src), "scatter_reduce")
    return result(out, (a, src), backward, "scatter_reduce", double)


def _axis_index(index, dim, op):
    """A 1-D ``index`` placed at axis ``dim``: ``(:, :, index)`` for ``dim=2``."""
    index = _index_array(index, op)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 1-D, got shape {index.shape}")
    return (slice(None),) * dim + (index.reshape(-1),)


def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at the positions in the 1-D ``index`` (repeats allowed)."""
    a = as_tensor(input)
    dim = _dim(dim, a.ndim, "index_select")
    if a.ndim == 0:
        return gather(a, 0, _index_array(index, "index_select").reshape(-1)).reshape(())
    return indexing.getitem(a, _axis_index(index, dim, "index_select"))


def index_add(input, dim, index, source, alpha=1):
    """A copy of ``input`` with ``alpha * source[i]`` added at slice ``index[i]`` of axis ``dim``."""
    a, source = as_tensor(input), as_tensor(source)
    dim = _dim(dim, a.ndim, "index_add")
    where = _axis_index(index, dim, "index_add")
    try:
        expected = a.data[where].shape
    except IndexError as error:
        raise IndexError(f"index_add: {error} (input shape {a.shape})") from None
    if source.shape != expected:
        raise ValueError(f"index_add: source must have shape {expected}, got {source.shape}")
    out = a.data.copy()
    xp.add.at(out, where, alpha * source.data)

    # d out/d input = 1;  d out/d source[i] = alpha, read from slice index[i]
    def backward(g):
        return g, (alpha * g[where] if source.requires_grad else None)

    def from_source(h):  # the op with a zero input (linear_maps)
        added = xp.zeros(a.shape, dtype=h.dtype)
        xp.add.at(added, where, alpha * h)
        return added

    double = linear_parts_double(backward, (lambda h: h, from_source), (a, source), "index_add")
    return result(out, (a, source), backward, "index_add", double)


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) where the boolean ``mask`` (broadcast) is true."""
    a = as_tensor(input)
    mask = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask.dtype}")
    if xp.broadcast_shapes(mask.shape, a.shape) != a.shape:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the input's shape {a.shape}")
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    value = lift(value, a)
    if value.data.dtype != a.data.dtype:  # the result keeps the input's dtype, as PyTorch (int input: 0.5 -> 0)
        value = elementwise.cast(value, a.data.dtype)
    # d/d input = 1 where not masked; d/d value = Σ of the gradient where masked (where's backward)
    return elementwise.where(mask, value, a)


def masked_select(input, mask):
    """The 1-D tensor of the elements of ``input`` where ``mask`` is true (the two broadcast together)."""
    a = as_tensor(input)
    mask = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_select: mask must be boolean, got dtype {mask.dtype}")
    try:
        full = xp.broadcast_shapes(mask.shape, a.shape)
    except ValueError:
        raise ValueError(f"masked_select: mask {mask.shape} and input {a.shape} cannot be broadcast together") from None
    if a.shape != full:
        a = shape.expand(a, full)
    return indexing.getitem(a, xp.broadcast_to(mask, full))


def take_along_dim(input, indices, dim=None):
    """``input`` read at ``indices`` along ``dim`` (NumPy's ``take_along_axis``); the two broadcast on the
    other axes. With ``dim=None`` both are flattened first."""
    a = as_tensor(input)
    indices = _index_array(indices, "take_along_dim", "indices")
    if dim is None:
        return gather(a.reshape(-1), 0, indices.reshape(-1))
    dim = _dim(dim, a.ndim, "take_along_dim")
    if indices.ndim != a.ndim:
        raise ValueError(f"take_along_dim: indices must have {a.ndim} axes like the input, got shape {indices.shape}")
    others = [1 if d == dim else n for d, n in enumerate(a.shape)]
    try:
        common = xp.broadcast_shapes(tuple(others), tuple(1 if d == dim else n for d, n in enumerate(indices.shape)))
    except ValueError:
        raise ValueError(f"take_along_dim: input {a.shape} and indices {indices.shape} do not broadcast") from None
    a_shape = tuple(a.shape[d] if d == dim else n for d, n in enumerate(common))
    index_shape = tuple(indices.shape[d] if d == dim else n for d, n in enumerate(common))
    if a.shape != a_shape:
        a = shape.expand(a, a_shape)
    return gather(a, dim, xp.broadcast_to(indices, index_shape))


def nonzero(input, as_tuple=False):
    """Indices of the non-zero elements: an int64 tensor of shape (count, ndim), or with ``as_tuple=True``
    one 1-D tensor per axis. No gradient."""
    data = as_tensor(input).data
    if as_tuple:
        return tuple(constant(i.astype(xp.int64)) for i in xp.nonzero(xp.atleast_1d(data)))
    return constant(xp.argwhere(data).astype(xp.int64))


def one_hot(tensor, num_classes=-1):
    """Class indices of any shape as int64 one-hot vectors, shape (..., num_classes).

    ``num_classes=-1`` takes one more than the largest index (as PyTorch).
    """
    labels = _index_array(tensor, "one_hot", "tensor")
    if not isinstance(num_classes, (int, xp.integer)) or isinstance(num_classes, bool):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: class indices must be non-negative, got {labels.min()}")
    if num_classes == -1:
        if not labels.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    elif num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be positive or -1, got {num_classes}")
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class index {labels.max()} is out of range for num_classes={num_classes}")
    out = xp.zeros(labels.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, labels[..., None].astype(xp.intp), 1, axis=-1)
    return constant(out)
