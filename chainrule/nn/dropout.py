"""``Dropout``: inverted dropout as a layer holding its own seeded generator."""

import numbers

import numpy

from ..creation import as_generator
from ..ops.dropout import dropout
from .module import Module, config_seed

__all__ = ["Dropout"]


class Dropout(Module):
    """In training mode zero each element with probability ``p`` and scale the rest by 1/(1-p);
    in evaluation mode return the input unchanged.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability.
    inplace : bool
        PyTorch's argument, accepted so its code runs; the input is never overwritten (the graph needs it).
    seed : int or numpy.random.Generator, optional
        Seed of the layer's generator: with an int the sequence of masks is reproducible
        (and restarts on ``reset_parameters()``).
    """

    def __init__(self, p=0.5, inplace=False, seed=None):
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        if not isinstance(inplace, bool):
            raise TypeError(f"Dropout: inplace must be a bool, got {inplace!r} (pass the seed as seed=)")
        self.p = float(p)
        self.inplace = inplace  # PyTorch's argument: accepted, but the input is never overwritten
        self.seed = seed
        self.rng = as_generator(seed)

    def reset_parameters(self, seed=None):
        """Restart the mask generator: from ``seed`` (a child generator of it), else from the layer's int seed."""
        if seed is not None:
            parent = as_generator(seed)
            self.rng = numpy.random.default_rng(parent.integers(2**63))
        elif config_seed(self.seed) is not None:
            self.rng = as_generator(self.seed)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        return dropout(x, self.p, training=True, seed=self.rng)

    def get_config(self):
        inplace = {"inplace": True} if self.inplace else {}  # only where set: older configs stay as they were
        return {"p": self.p, **inplace, "seed": config_seed(self.seed)}

    def extra_repr(self):
        return f"p={self.p}"
