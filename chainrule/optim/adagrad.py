"""Adagrad, PyTorch's rule."""

from ..backend import xp
from .optimizer import Optimizer, _check_nonnegative, _l2_decayed, _scalars

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For each parameter with a gradient ``g`` at step ``t`` (1, 2, ...)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2                         (state "sum", starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr, lr_decay, weight_decay, initial_accumulator_value, eps : float
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_nonnegative(self, group, key)

    def _state_spec(self, group):
        return (("sum", float(group["initial_accumulator_value"])),)

    def _update(self, group, step, p, g, state, s1, s2):
        lr, lr_decay, eps, weight_decay = _scalars(group, "lr", "lr_decay", "eps", "weight_decay")
        g = _l2_decayed(p, g, weight_decay, s1)
        clr = lr / (1.0 + (step - 1) * lr_decay)
        total = state["sum"]
        xp.multiply(g, g, out=s2)
        total += s2
        xp.sqrt(total, out=s2)
        s2 += eps
        xp.divide(g, s2, out=s2)
        s2 *= clr
        p -= s2
