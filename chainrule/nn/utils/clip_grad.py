"""Gradient clipping under ``torch.nn.utils``'s names (the work is done by ``chainrule.optim.clip``)."""

import math

from ...optim.clip import _check_norm_type, _total, clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of ``tensors`` (e.g. gradients) taken together as one vector, as a Python float."""
    from ...backend import xp
    from ...tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    arrays = [xp.asarray(t.data if isinstance(t, Tensor) else t) for t in tensors]
    norm_type = _check_norm_type(norm_type, "get_total_norm")
    norm = _total(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(norm):
        raise RuntimeError(f"get_total_norm: the total norm of order {norm_type} is non-finite ({norm})")
    return norm
