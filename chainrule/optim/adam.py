"""Adam (L2 weight decay, optional AMSGrad) and AdamW (decoupled weight decay), PyTorch's rules."""

import numpy

from ..backend import xp
from ..ops import compiled
from .optimizer import Optimizer, _check_adam_like, _decayed, _running_average_, _running_square_average_, _scalars

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam: adaptive moment estimation (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    For each parameter with a gradient ``g`` at step ``t`` (1, 2, ...)::

        g = g + weight_decay * p                        (L2 penalty; AdamW decays p instead)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (amsgrad), ``step``.

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
    betas : (float, float)
    eps : float
    weight_decay : float
        L2 penalty added to the gradient (use ``AdamW`` for decoupled decay).
    amsgrad : bool
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        _check_adam_like(self, group)

    def _state_spec(self, group):
        spec = (("exp_avg", 0.0), ("exp_avg_sq", 0.0))
        return spec + (("max_exp_avg_sq", 0.0),) if group["amsgrad"] else spec

    def _update(self, group, step, p, g, state, s1, s2):
        lr, eps, weight_decay = _scalars(group, "lr", "eps", "weight_decay")
        beta1, beta2 = (float(b) for b in group["betas"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = _decayed(p, g, lr, weight_decay, self._decoupled, s1)
        kernels = _kernels(p.dtype)
        scalar = p.dtype.type  # the kernels' arithmetic stays in the buffers' dtype
        if kernels is not None:
            kernels.moments(g, m, v, scalar(1.0 - beta1), scalar(beta2), scalar(1.0 - beta2))
        else:
            _running_average_(m, g, beta1, s2)  # m = beta1·m + (1 - beta1)·g
            _running_square_average_(v, g, beta2, s2)  # v = beta2·v + (1 - beta2)·g²
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        step_size = lr / (1.0 - beta1**step)
        bias2_sqrt = (1.0 - beta2**step) ** 0.5
        # p -= step_size * m / (sqrt(v) / bias2_sqrt + eps)
        #    = (step_size * bias2_sqrt) * m / (sqrt(v) + eps * bias2_sqrt): one pass (a division) fewer
        if kernels is not None:
            kernels.apply(p, m, v, scalar(step_size * bias2_sqrt), scalar(eps * bias2_sqrt))
            return
        xp.sqrt(v, out=s2)
        s2 += eps * bias2_sqrt
        xp.divide(m, s2, out=s2)
        s2 *= step_size * bias2_sqrt
        p -= s2


def _kernels(dtype):
    """The compiled Adam update (``_adam_numba``) for buffers of ``dtype``, or None (NumPy path)."""
    return compiled.load("_adam_numba", _warm_up, dtype, package=__package__)


def _warm_up(module):
    """Compile the kernels for float32 buffers (float64 compiles at its first use)."""
    a, one = numpy.zeros(1, numpy.float32), numpy.float32(1)
    module.moments(a, a.copy(), a.copy(), one, one, one)
    module.apply(a, a.copy(), a.copy(), one, one)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Each step first shrinks the weights, ``p = p * (1 - lr * weight_decay)``, then applies the Adam
    update with the plain gradient (the decay never enters ``m`` or ``v``). Arguments as ``Adam``;
    ``weight_decay`` defaults to 0.01.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
