"""PyTorch-style padding (``torch.nn.functional.pad``): pad widths given last axis first, four modes.

``pad = (left, right)`` pads the last axis, ``(left, right, top, bottom)`` the last two, and so on.
``chainrule.pad`` (in ``ops/shape.py``) is NumPy's ``np.pad`` instead: first axis first, constant only.
"""

from ..backend import xp
from ..tensor import as_tensor, result
from .linear_maps import linear_double

__all__ = ["pad_last"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(n, before, after, mode):
    """For each position of the padded axis, the index of the input element it copies."""
    i = xp.arange(-before, n + after)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    # reflect: mirror at the edges without repeating the edge element (period 2(n - 1))
    period = 2 * (n - 1)
    i = xp.abs(i) % period if period else xp.zeros_like(i)
    return xp.where(i < n, i, period - i)


def pad_last(x, pad, mode="constant", value=0.0):
    """Pad the last ``len(pad) // 2`` axes of ``x``; ``pad`` lists (before, after) pairs, last axis first.

    Modes: "constant" (fill with ``value``; negative widths crop, as in PyTorch), "reflect" (mirror
    without repeating the edge; widths < the axis' size), "replicate" (repeat the edge),
    "circular" (wrap around; widths <= the axis' size).
    """
    op = "pad"
    x = as_tensor(x)
    try:
        widths = [int(w) for w in pad]
    except (TypeError, ValueError):
        raise TypeError(f"{op}: pad must be a sequence of ints (left, right, top, bottom, ...), got {pad!r}") from None
    if any(w != float(p) for w, p in zip(widths, pad)):
        raise TypeError(f"{op}: pad must hold ints, got {pad!r}")
    if len(widths) % 2 or len(widths) // 2 > x.ndim:
        raise ValueError(
            f"{op}: pad must have an even length of at most 2·ndim = {2 * x.ndim} (a pair per axis, last axis "
            f"first), got {len(widths)} values for a tensor of shape {x.shape}"
        )
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
    n_axes = len(widths) // 2
    pairs = {x.ndim - 1 - k: (widths[2 * k], widths[2 * k + 1]) for k in range(n_axes)}

    if mode == "constant":
        value = 0.0 if value is None else float(value)
        # crop first (negative widths), then pad: the input's surviving block sits at ``inner``
        widths_per_axis = [pairs.get(ax, (0, 0)) for ax in range(x.ndim)]
        crop = tuple(slice(max(-before, 0), n - max(-after, 0)) for n, (before, after) in zip(x.shape, widths_per_axis))
        kept = x.data[crop]
        if any(s.stop < s.start for s in crop):
            raise ValueError(f"{op}: negative pad {pad!r} crops more than the shape {x.shape} holds")
        grow = [(max(before, 0), max(after, 0)) for before, after in widths_per_axis]
        out = xp.pad(kept, grow, mode="constant", constant_values=value)
        inner = tuple(slice(before, before + n) for (before, _), n in zip(grow, kept.shape))

        # the input's kept block is copied unchanged into the output: it gets that block of the gradient
        def backward(g):
            grad = xp.zeros(x.shape, dtype=g.dtype)
            grad[crop] = g[inner]
            return (grad,)

        # affine: the rule is linear, its adjoint the padding with zeros (linear_maps)
        double = linear_double(backward, lambda h: xp.pad(h[crop], grow, mode="constant"), op)
        return result(out, (x,), backward, op, double)

    if value not in (None, 0, 0.0):
        raise ValueError(f"{op}: value is only used with mode='constant', got value={value!r} with mode={mode!r}")
    indices = {}
    for ax, (before, after) in pairs.items():
        n = x.shape[ax]
        if before < 0 or after < 0:
            raise ValueError(f"{op}: mode {mode!r} needs non-negative pad widths, got {pad!r}")
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and max(before, after) > limit:
            raise ValueError(
                f"{op}: mode {mode!r} pads axis {ax} of size {n} by at most {limit}, got ({before}, {after})"
            )
        if n == 0 and before + after:
            raise ValueError(f"{op}: cannot pad the empty axis {ax} with mode {mode!r}")
        indices[ax] = _source_index(n, before, after, mode)
    out = x.data
    for ax, index in indices.items():
        out = xp.take(out, index, axis=ax)

    # each output element copies one input element: the gradient is scattered back and summed per source,
    # one axis at a time in reverse order
    def backward(g):
        for ax in sorted(indices, reverse=True):
            index = indices[ax]
            moved = xp.moveaxis(g, ax, 0)
            summed = xp.zeros((x.shape[ax],) + moved.shape[1:], dtype=g.dtype)
            xp.add.at(summed, index, moved)
            g = xp.moveaxis(summed, 0, ax)
        return (g,)

    def forward(h):  # the padding itself, on an array (the adjoint of the rule: linear_maps)
        for ax, index in indices.items():
            h = xp.take(h, index, axis=ax)
        return h

    return result(out, (x,), backward, op, linear_double(backward, forward, op))
