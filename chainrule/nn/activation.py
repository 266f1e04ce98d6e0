"""Activation layers: thin modules over the ops in ``chainrule.ops.activation``."""

from ..ops import activation as F
from .module import Module

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """max(0, x)."""

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {"negative_slope": self.negative_slope}

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha·(e^x - 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def get_config(self):
        return {"alpha": self.alpha}

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Module):
    """x·Φ(x) (``approximate="none"``) or its tanh approximation (``approximate="tanh"``)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def get_config(self):
        return {"approximate": self.approximate}

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + e^(beta·x)) / beta, linear above ``threshold`` (in units of beta·x) for stability."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = float(beta)
        self.threshold = float(threshold)

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def get_config(self):
        return {"beta": self.beta, "threshold": self.threshold}

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """e^x / Σ e^x along ``dim``. For training a classifier, feed logits to ``CrossEntropyLoss`` instead."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = int(dim)

    def forward(self, x):
        return F.softmax(x, self.dim)

    def get_config(self):
        return {"dim": self.dim}

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)
