"""Adadelta, PyTorch's rule."""

from ..backend import xp
from .optimizer import Optimizer, _check_nonnegative, _l2_decayed, _running_square_average_, _scalars, _spare

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    For each parameter with a gradient ``g``::

        g = g + weight_decay * p
        s = rho * s + (1 - rho) * g**2                          (square_avg)
        d = sqrt(a + eps) / sqrt(s + eps) * g                   (the step, in the units of p)
        a = rho * a + (1 - rho) * d**2                          (acc_delta)
        p = p - lr * d

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
        Scales the step (1.0 is the paper's rule).
    rho, eps, weight_decay : float
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    _step_dependence = "none"  # no bias correction

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False, foreach=None,
                 capturable=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        for key in ("lr", "eps", "weight_decay"):
            _check_nonnegative(self, group, key)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']!r}")

    def _state_spec(self, group):
        return (("square_avg", 0.0), ("acc_delta", 0.0))

    def _update(self, group, step, p, g, state, s1, s2):
        lr, rho, eps, weight_decay = _scalars(group, "lr", "rho", "eps", "weight_decay")
        g = _l2_decayed(p, g, weight_decay, s1)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        _running_square_average_(square_avg, g, rho, s2)
        # d = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g, built in s2 (s1 may hold g)
        xp.add(square_avg, eps, out=s2)
        xp.sqrt(s2, out=s2)
        xp.divide(g, s2, out=s2)
        delta_scale = _spare(g, s1)
        xp.add(acc_delta, eps, out=delta_scale)
        xp.sqrt(delta_scale, out=delta_scale)
        s2 *= delta_scale
        _running_square_average_(acc_delta, s2, rho, delta_scale)
        s2 *= lr
        p -= s2
