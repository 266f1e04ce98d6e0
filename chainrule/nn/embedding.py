"""``Embedding``: a learned vector per token id (the first layer of a text model)."""

import numbers

from ..backend import xp
from ..creation import as_generator
from ..ops.embedding import embedding
from .module import Module, config_seed, layer_dtype
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table: integer ids of shape (*) -> vectors of shape (*, embedding_dim).

    Parameters
    ----------
    num_embeddings : int
        Vocabulary size; ids must lie in ``[0, num_embeddings)``.
    embedding_dim : int
    padding_idx : int, optional
        The id of the padding token (``Vocabulary`` uses 0): its row starts at zero and
        never receives a gradient, so padding contributes nothing.
    seed : int or numpy.random.Generator, optional
        Seed of the initial weights, drawn from N(0, 1) as in PyTorch.
    dtype : str or dtype
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, seed=None, dtype="float32"):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        if padding_idx is not None:
            if not isinstance(padding_idx, numbers.Integral) or not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be an id in [0, {self.num_embeddings}) (or negative from the end), "
                    f"got {padding_idx!r}"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        self.weight = Parameter(xp.empty((self.num_embeddings, self.embedding_dim), dtype=self.dtype))
        self.reset_parameters()

    def reset_parameters(self, seed=None):
        """Weights ~ N(0, 1); the padding row is zero."""
        values = as_generator(self.seed if seed is None else seed).standard_normal(self.weight.shape)
        self.weight.data[...] = xp.asarray(values, dtype=self.dtype)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids):
        return embedding(ids, self.weight, self.padding_idx)

    def get_config(self):
        return {
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "padding_idx": self.padding_idx,
            "seed": config_seed(self.seed),
            "dtype": self.dtype.name,
        }

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")
