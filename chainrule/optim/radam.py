"""RAdam: Adam with a rectified adaptive learning rate, PyTorch's rule."""

import math

from ..backend import xp
from .optimizer import (
    Optimizer, _check_adam_like, _decayed, _running_average_, _running_square_average_, _scalars, _spare,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020), as ``torch.optim.RAdam``.

    For each parameter with a gradient ``g`` at step ``t``, with ``rho_inf = 2 / (1 - beta2) - 1`` and
    ``rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)`` (the length of the approximated moving average)::

        g = g + weight_decay * p                 (or p = p * (1 - lr * weight_decay) if decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if rho_t > 5:   (the variance of the adaptive rate is tractable: rectify it)
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - lr * m_hat * r * sqrt(1 - beta2**t) / (sqrt(v) + eps)
        else:           (early steps: plain momentum SGD)
            p = p - lr * m_hat

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
    betas : (float, float)
    eps, weight_decay : float
    decoupled_weight_decay : bool
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        _check_adam_like(self, group)

    def _state_spec(self, group):
        return (("exp_avg", 0.0), ("exp_avg_sq", 0.0))

    def _update(self, group, step, p, g, state, s1, s2):
        lr, eps, weight_decay = _scalars(group, "lr", "eps", "weight_decay")
        beta1, beta2 = (float(b) for b in group["betas"])
        g = _decayed(p, g, lr, weight_decay, group["decoupled_weight_decay"], s1)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _running_average_(m, g, beta1, s2)
        _running_square_average_(v, g, beta2, s2)
        bias1, bias2 = 1.0 - beta1**step, 1.0 - beta2**step
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * beta2**step / bias2
        xp.divide(m, bias1, out=s2)  # m_hat
        s2 *= lr
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = _spare(g, s1)
            xp.sqrt(v, out=denom)
            denom += eps
            xp.divide(bias2**0.5, denom, out=denom)  # the adaptive learning rate
            s2 *= denom
            s2 *= rect
        p -= s2
