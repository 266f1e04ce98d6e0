"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (PyTorch's rule)."""

from ..backend import xp
from .optimizer import Optimizer, _check_nonnegative, _l2_decayed, _scalars

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum.

    For each parameter with a gradient ``g`` (PyTorch's ``torch.optim.SGD`` rule)::

        d = g + weight_decay * p
        b = d                                  on the first step, else
        b = momentum * b + (1 - dampening) * d
        d = d + momentum * b   if nesterov  else  d = b          (only when momentum != 0)
        p = p - lr * d

    Parameters
    ----------
    params : iterable of Tensor or of dict (parameter groups)
    lr : float
    momentum, dampening, weight_decay : float
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool
        Ascend the objective instead (the gradient is negated first, as in PyTorch).
    foreach, fused, capturable, differentiable
        Accepted for PyTorch compatibility; they change nothing (the step is always one bulk update).

    Examples
    --------
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)      # doctest: +SKIP
    >>> loss.backward(); opt.step(); opt.zero_grad()               # doctest: +SKIP
    """

    _step_dependence = "first"  # the momentum buffer starts as the first gradient

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        for key in ("lr", "momentum", "weight_decay"):
            _check_nonnegative(self, group, key)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, got momentum={group['momentum']!r}, "
                f"dampening={group['dampening']!r}"
            )

    def _state_spec(self, group):
        return (("momentum_buffer", 0.0),) if group["momentum"] != 0 else ()

    def _update(self, group, step, p, g, state, s1, s2):
        lr, momentum, dampening, weight_decay = _scalars(group, "lr", "momentum", "dampening", "weight_decay")
        d = _l2_decayed(p, g, weight_decay, s1)
        if momentum != 0:
            buf = state["momentum_buffer"]
            if step == 1:
                buf[...] = d  # PyTorch starts the buffer at the first gradient
            else:
                buf *= momentum
                if dampening == 0:
                    buf += d
                else:
                    xp.multiply(d, 1.0 - dampening, out=s2)
                    buf += s2
            if group["nesterov"]:
                xp.multiply(buf, momentum, out=s2)
                s2 += d
                d = s2
            else:
                d = buf
        xp.multiply(d, lr, out=s2)
        p -= s2
