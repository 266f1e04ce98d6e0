"""How the fit loop turns a ``loss=`` argument into a batch loss, optionally weighted per sample.

A loss is a name (``"cross_entropy"``, ``"mse"``, ...), a loss Module (``chainrule.nn``), or a
callable ``loss(output, target) -> scalar Tensor``. With per-sample weights ``w`` the batch loss is
the weighted mean ``Σ wᵢ·lᵢ / Σ wᵢ`` of the per-sample losses ``lᵢ`` (PyTorch's convention for class
weights), which needs the unreduced losses: built-in names and loss Modules provide them
(``reduction="none"``); a custom callable must accept ``reduction="none"`` to be used with weights.
"""

from ..backend import xp
from ..ops import loss as loss_ops
from ..ops.reduce import mean as mean_op
from ..ops.reduce import sum as sum_op
from ..ops.shape import reshape
from ..tensor import Tensor

__all__ = ["BatchLoss", "resolve_loss", "LOSSES"]

LOSSES = {
    "cross_entropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "binary_cross_entropy": "binary_cross_entropy_with_logits",
    "binary_crossentropy": "binary_cross_entropy_with_logits",
    "bce": "binary_cross_entropy_with_logits",
    "mse": "mse_loss",
    "mean_squared_error": "mse_loss",
    "mae": "l1_loss",
    "l1": "l1_loss",
    "mean_absolute_error": "l1_loss",
    "huber": "huber_loss",
    "nll": "nll_loss",
    "nll_loss": "nll_loss",
    "smooth_l1": "smooth_l1_loss",
    "smooth_l1_loss": "smooth_l1_loss",
}
"""Loss names accepted by ``fit(loss=...)`` -> function in ``chainrule.ops.loss`` (all take logits, except
"nll", which takes log-probabilities, e.g. from a final ``LogSoftmax`` layer)."""


_CLASS_INDEX_LOSSES = ("cross_entropy", "nll_loss")  # losses of class indices: targets are labels, never reshaped


class BatchLoss:
    """A loss the fit loop can call as ``batch_loss(output, target, weight=None) -> scalar Tensor``.

    ``mean_fn(output, target)`` gives the mean loss, ``per_sample_fn(output, target)`` the
    unreduced one (or None when the loss cannot give it). ``align_targets``: reshape targets of the
    same size as the output to the output's shape (``(n,)`` targets against ``(n, 1)`` outputs),
    for element-wise losses such as mse.
    """

    def __init__(self, name, mean_fn, per_sample_fn=None, align_targets=False):
        self.name = name
        self.mean_fn = mean_fn
        self.per_sample_fn = per_sample_fn
        self.align_targets = align_targets
        # cross entropy with integer targets: float targets that are whole class numbers get converted
        self.class_targets = name in _CLASS_INDEX_LOSSES

    def __call__(self, output, target, weight=None):
        if self.align_targets and isinstance(output, Tensor):
            target = _align(target, output.shape)
        if weight is None:
            return self.mean_fn(output, target)
        if self.per_sample_fn is None:
            raise ValueError(
                f"loss {self.name!r}: sample_weight/class_weight need the per-sample losses, but this loss "
                "cannot give them; a custom loss must accept reduction='none' and return one loss per sample"
            )
        per_sample = self.per_sample_fn(output, target)
        if per_sample.ndim > 1:  # element-wise losses: average each sample's elements first
            per_sample = mean_op(reshape(per_sample, (per_sample.shape[0], -1)), axis=1)
        if per_sample.shape != (len(weight),):
            raise ValueError(
                f"loss {self.name!r} with reduction='none' returned shape {per_sample.shape}; "
                f"expected one loss per sample, ({len(weight)},)"
            )
        total = weight.sum()
        dtype = per_sample.data.dtype
        normalised = (weight / total if total > 0 else weight * 0).astype(dtype, copy=False)
        # Σ wᵢ lᵢ / Σ wᵢ, with the weights as constants (no gradient flows into them)
        return sum_op(per_sample * Tensor(xp.asarray(normalised)))


def _align(target, shape):
    if target is not None and hasattr(target, "shape") and target.shape != shape and _size(target.shape) == _size(shape):
        return target.reshape(shape)
    return target


def _size(shape):
    size = 1
    for n in shape:
        size *= n
    return size


def resolve_loss(loss):
    """``loss`` (a name, a loss Module, a BatchLoss or a callable) as a ``BatchLoss``."""
    if isinstance(loss, BatchLoss):
        return loss
    if isinstance(loss, str):
        key = loss.lower()
        if key not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; known losses: {', '.join(sorted(LOSSES))}, "
                             "a loss Module, or a callable loss(output, target) -> scalar Tensor")
        fn_name = LOSSES[key]
        fn = getattr(loss_ops, fn_name)
        name = "cross_entropy" if fn_name == "cross_entropy" else fn_name
        return BatchLoss(
            name,
            lambda output, target: fn(output, target),
            lambda output, target: fn(output, target, reduction="none"),
            align_targets=fn_name not in _CLASS_INDEX_LOSSES,
        )
    if not callable(loss):
        raise TypeError(f"fit: loss must be a name, a loss Module or a callable, got {type(loss).__name__}")
    name = getattr(loss, "__name__", type(loss).__name__)
    per_sample = _unreduced_module(loss)
    if per_sample is None:
        def per_sample(output, target):
            try:
                return loss(output, target, reduction="none")
            except TypeError as error:
                raise ValueError(
                    f"loss {name!r}: sample_weight/class_weight need the per-sample losses; a custom loss must "
                    f"accept reduction='none' (calling it with reduction='none' failed: {error})"
                ) from error
    # element-wise loss Modules (MSELoss, L1Loss, BCEWithLogitsLoss...) get (n,) targets shaped like (n, 1) outputs
    kind = type(loss).__name__.lower()
    align = hasattr(loss, "reduction") and ("crossentropy" not in kind or "binary" in kind or "bce" in kind)
    return BatchLoss(name, loss, per_sample, align_targets=align)


def _unreduced_module(loss):
    """For a loss Module with a ``reduction`` setting: a copy with ``reduction="none"``, as a function."""
    get_config, from_config = getattr(loss, "get_config", None), getattr(type(loss), "from_config", None)
    if get_config is None or from_config is None or not hasattr(loss, "reduction"):
        return None
    try:
        config = dict(get_config())
    except NotImplementedError:
        return None
    if "reduction" not in config:
        return None
    config["reduction"] = "none"
    unreduced = from_config(config)
    # the constant arrays themselves (class weights), at their own precision: the config holds them as lists
    for name, value in getattr(loss, "_buffers", {}).items():
        if name in getattr(unreduced, "_buffers", {}):
            setattr(unreduced, name, value)
    return lambda output, target: unreduced(output, target)
