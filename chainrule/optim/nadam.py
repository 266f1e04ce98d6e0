"""NAdam: Adam with Nesterov momentum, PyTorch's rule."""

import math

from ..backend import xp
from .optimizer import (
    Optimizer, _check_adam_like, _decayed, _running_average_, _running_square_average_, _scalars, _spare,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    For each parameter with a gradient ``g`` at step ``t`` (1, 2, ...), with the momentum schedule
    ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))`` and ``P_t = mu_1 * ... * mu_t``::

        g = g + weight_decay * p                 (or p = p * (1 - lr * weight_decay) if decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / denom - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / denom

    ``P_t`` depends only on the step count, so it is computed from it (PyTorch keeps it as state
    ``mu_product``).

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
    betas : (float, float)
    eps, weight_decay, momentum_decay : float
    decoupled_weight_decay : bool
        Decay the weights directly (as AdamW) instead of adding an L2 term to the gradient.
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        _check_adam_like(self, group, "momentum_decay")

    def _state_spec(self, group):
        return (("exp_avg", 0.0), ("exp_avg_sq", 0.0))

    def _update(self, group, step, p, g, state, s1, s2):
        lr, eps, weight_decay, momentum_decay = _scalars(group, "lr", "eps", "weight_decay", "momentum_decay")
        beta1, beta2 = (float(b) for b in group["betas"])
        g = _decayed(p, g, lr, weight_decay, group["decoupled_weight_decay"], s1)
        mu, mu_next = (beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay)) for t in (step, step + 1))
        mu_product = _mu_product(beta1, momentum_decay, step)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _running_average_(m, g, beta1, s2)
        _running_square_average_(v, g, beta2, s2)
        # denom = sqrt(v / (1 - beta2**t)) + eps, in s2
        xp.divide(v, 1.0 - beta2**step, out=s2)
        xp.sqrt(s2, out=s2)
        s2 += eps
        step_g = lr * (1.0 - mu) / (1.0 - mu_product)
        step_m = lr * mu_next / (1.0 - mu_product * mu_next)
        update = _spare(g, s1)
        xp.divide(g, s2, out=update)
        update *= step_g
        p -= update
        xp.divide(m, s2, out=update)
        update *= step_m
        p -= update


_MU_PRODUCTS = {}


def _mu_product(beta1, momentum_decay, step):
    """mu_1 * ... * mu_step, multiplied in step order as PyTorch accumulates it (cached per schedule)."""
    products = _MU_PRODUCTS.setdefault((beta1, momentum_decay), [1.0])
    while len(products) <= step:
        t = len(products)
        products.append(products[-1] * beta1 * (1.0 - 0.5 * math.pow(0.96, t * momentum_decay)))
    return products[step]
