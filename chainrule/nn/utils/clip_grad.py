"""Gradient clipping under ``torch.nn.utils``'s names (the work is done by ``chainrule.optim.clip``)."""

import math

from ...optim import clip as _clip
from ...optim.clip import _check_norm_type, _total, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of ``tensors`` (e.g. gradients) taken together as one vector: a 0-d tensor, as PyTorch's."""
    from ...backend import xp
    from ...tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    arrays = [xp.asarray(t.data if isinstance(t, Tensor) else t) for t in tensors]
    norm_type = _check_norm_type(norm_type, "get_total_norm")
    norm = _total(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(norm):
        raise RuntimeError(f"get_total_norm: the total norm of order {norm_type} is non-finite ({norm})")
    return _as_tensor(norm, arrays)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """``chainrule.optim.clip_grad_norm_`` returning the norm before clipping as a 0-d tensor, as PyTorch's.

    (So ``clip_grad_norm_(...).item()`` works; ``float()`` of it, or the optim function, gives a Python float.)
    """
    from ...tensor import Tensor

    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    norm = _clip.clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)
    return _as_tensor(norm, [p._grad for p in parameters if p._grad is not None])


def _as_tensor(norm, arrays):
    """``norm`` as a 0-d tensor of the arrays' floating dtype (float32 gradients give a float32 norm)."""
    from ...backend import DEFAULT_DTYPE, xp
    from ...tensor import Tensor

    dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"), xp.dtype(DEFAULT_DTYPE))
    return Tensor(xp.asarray(norm, dtype=dtype))
