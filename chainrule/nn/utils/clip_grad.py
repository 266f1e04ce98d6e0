"""Gradient clipping under ``torch.nn.utils``'s names (the work is done by ``chainrule.optim.clip``)."""

from ...optim.clip import clip_grad_norm_, clip_grad_value_, total_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of ``tensors`` (e.g. gradients) taken together as one vector, as a Python float."""
    from ...tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    holders = [_GradHolder(t) for t in tensors]
    norm = total_norm(holders, norm_type)
    if error_if_nonfinite and not abs(norm) < float("inf"):
        raise RuntimeError(f"get_total_norm: the total norm of order {norm_type} is non-finite ({norm})")
    return norm


class _GradHolder:
    """Presents a tensor as a parameter whose gradient is that tensor (what ``total_norm`` reads)."""

    def __init__(self, tensor):
        self.grad = getattr(tensor, "data", tensor)
