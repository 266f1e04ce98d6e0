"""RMSprop (optionally centered, with momentum), PyTorch's rule."""

from ..backend import xp
from .optimizer import (
    Optimizer, _check_nonnegative, _l2_decayed, _running_average_, _running_square_average_, _scalars,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    For each parameter with a gradient ``g``::

        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g**2                      (square_avg)
        a = alpha * a + (1 - alpha) * g                         (grad_avg, centered only)
        d = sqrt(s - a**2) + eps  if centered  else  sqrt(s) + eps
        b = momentum * b + g / d;  p = p - lr * b               (momentum > 0)
        p = p - lr * g / d                                      (momentum == 0)

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr, alpha, eps, weight_decay, momentum : float
    centered : bool
        Normalise by an estimate of the gradient's variance instead of its second moment.
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    _step_dependence = "none"  # no bias correction: parameters that skipped steps still update in bulk

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            _check_nonnegative(self, group, key)

    def _state_spec(self, group):
        spec = (("square_avg", 0.0),)
        if group["momentum"] > 0:
            spec += (("momentum_buffer", 0.0),)
        if group["centered"]:
            spec += (("grad_avg", 0.0),)
        return spec

    def _update(self, group, step, p, g, state, s1, s2):
        lr, alpha, eps, weight_decay, momentum = _scalars(group, "lr", "alpha", "eps", "weight_decay", "momentum")
        g = _l2_decayed(p, g, weight_decay, s1)
        square_avg = state["square_avg"]
        _running_square_average_(square_avg, g, alpha, s2)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            _running_average_(grad_avg, g, alpha, s2)
            xp.multiply(grad_avg, grad_avg, out=s2)
            xp.subtract(square_avg, s2, out=s2)
            xp.sqrt(s2, out=s2)
        else:
            xp.sqrt(square_avg, out=s2)
        s2 += eps
        xp.divide(g, s2, out=s2)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += s2
            xp.multiply(buf, lr, out=s2)
        else:
            s2 *= lr
        p -= s2
