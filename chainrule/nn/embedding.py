"""``Embedding``: a learned vector per token id (the first layer of a text model); ``EmbeddingBag``: sums,
means or maxima of bags of them."""

import numbers

from ..backend import xp
from ..creation import as_generator
from ..ops.embedding import embedding, embedding_bag
from ..tensor import Tensor
from .module import Module, config_seed, layer_dtype
from .parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """A lookup table: integer ids of shape (*) -> vectors of shape (*, embedding_dim) (``torch.nn.Embedding``).

    Parameters
    ----------
    num_embeddings : int
        Vocabulary size; ids must lie in ``[0, num_embeddings)``.
    embedding_dim : int
    padding_idx : int, optional
        The id of the padding token (``Vocabulary`` uses 0): its row starts at zero and
        never receives a gradient, so padding contributes nothing.
    max_norm : float, optional
        Looked-up rows whose ``norm_type``-norm exceeds it are renormalised in place to that norm.
    norm_type : float
    scale_grad_by_freq : bool
        Divide each row's gradient by the frequency of its id in the batch.
    sparse : bool
        Accepted for PyTorch compatibility (gradients are dense).
    seed : int or numpy.random.Generator, optional
        Seed of the initial weights, drawn from N(0, 1) as in PyTorch.
    dtype : str or dtype

    ``Embedding.from_pretrained(embeddings, freeze=True, ...)`` builds one from a weight matrix.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, seed=None, dtype="float32"):
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
        if max_norm is not None and (not isinstance(max_norm, numbers.Real) or max_norm <= 0):
            raise ValueError(f"Embedding: max_norm must be a positive number or None, got {max_norm!r}")
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else float(max_norm)
        self.norm_type = float(norm_type)
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        self.sparse = bool(sparse)
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(xp.empty(shape, dtype=self.dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            weight = xp.array(_weight.data if isinstance(_weight, Tensor) else _weight, dtype=self.dtype, copy=True)
            if weight.shape != shape:
                raise ValueError(f"Embedding: _weight must have shape {shape}, got {weight.shape}")
            self.weight = Parameter(weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, dim); ``freeze``: not trained.
        (The padding row keeps its given values, as in PyTorch.)"""
        array = xp.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, dim), got shape {array.shape}"
            )
        dtype = array.dtype if array.dtype.kind == "f" else "float32"
        return cls(array.shape[0], array.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=array, _freeze=freeze, dtype=dtype)

    def reset_parameters(self, seed=None):
        """Weights ~ N(0, 1); the padding row is zero."""
        values = as_generator(self.seed if seed is None else seed).standard_normal(self.weight.shape)
        self.weight.data[...] = xp.asarray(values, dtype=self.dtype)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids):
        return embedding(ids, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq)

    def get_config(self):
        config = {
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "padding_idx": self.padding_idx,
            "max_norm": self.max_norm,
            "norm_type": self.norm_type,
            "scale_grad_by_freq": self.scale_grad_by_freq,
            "sparse": self.sparse,
            "seed": config_seed(self.seed),
            "dtype": self.dtype.name,
        }
        if not self.weight.requires_grad:
            config["_freeze"] = True
        return config

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        if self.sparse:
            text += ", sparse=True"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")


class EmbeddingBag(Embedding):
    """Bags of ids -> the sum, mean or max of their embeddings (``torch.nn.EmbeddingBag``), without
    building the (bags, N, dim) intermediate.

    ``forward(input, offsets=None, per_sample_weights=None)``: ``input`` (B, N) is B bags of N ids, or
    a 1-D ``input`` is cut into bags starting at ``offsets``. Output (bags, embedding_dim). Arguments as
    :class:`Embedding`, plus ``mode`` ("sum", "mean", "max") and ``include_last_offset``; ids equal to
    ``padding_idx`` are left out of every bag.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, seed=None,
                 dtype="float32"):
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.mode = mode
        self.include_last_offset = bool(include_last_offset)
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight=_weight, seed=seed, dtype=dtype)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding a copy of ``embeddings`` (num_embeddings, dim); ``freeze``: not trained."""
        array = xp.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape {array.shape}")
        layer = cls(array.shape[0], array.shape[1], max_norm, norm_type, scale_grad_by_freq, mode, sparse, array,
                    include_last_offset, padding_idx, dtype=array.dtype if array.dtype.kind == "f" else "float32")
        layer.weight.requires_grad_(not freeze)
        return layer

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, include_last_offset=self.include_last_offset)
        freeze = config.pop("_freeze", False)
        return config if not freeze else {**config, "freeze": True}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        freeze = config.pop("freeze", False)
        layer = super().from_config(config)
        layer.weight.requires_grad_(not freeze)
        return layer

    def extra_repr(self):  # PyTorch's order
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")
