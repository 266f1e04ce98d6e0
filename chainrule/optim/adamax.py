"""Adamax: Adam with the infinity norm, PyTorch's rule."""

from ..backend import xp
from .optimizer import Optimizer, _check_adam_like, _l2_decayed, _running_average_, _scalars

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7), as ``torch.optim.Adamax``.

    For each parameter with a gradient ``g`` at step ``t`` (1, 2, ...)::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g                 (exp_avg)
        u = max(beta2 * u, |g| + eps)                   (exp_inf: a decaying infinity norm)
        p = p - lr / (1 - beta1**t) * m / u

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
    betas : (float, float)
    eps, weight_decay : float
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False,
                 foreach=None, differentiable=False, capturable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        _check_adam_like(self, group)

    def _state_spec(self, group):
        return (("exp_avg", 0.0), ("exp_inf", 0.0))

    def _update(self, group, step, p, g, state, s1, s2):
        lr, eps, weight_decay = _scalars(group, "lr", "eps", "weight_decay")
        beta1, beta2 = (float(b) for b in group["betas"])
        g = _l2_decayed(p, g, weight_decay, s1)
        m, u = state["exp_avg"], state["exp_inf"]
        _running_average_(m, g, beta1, s2)
        u *= beta2
        xp.abs(g, out=s2)
        s2 += eps
        xp.maximum(u, s2, out=u)
        xp.divide(m, u, out=s2)
        s2 *= lr / (1.0 - beta1**step)
        p -= s2
