"""``nn.CosineSimilarity`` and ``nn.PairwiseDistance``: the ``F.`` functions of ``ops/distance.py`` as layers."""

from ..ops import distance
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast): ``x1·x2 / max(‖x1‖‖x2‖, eps)``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = int(dim), float(eps)

    def forward(self, x1, x2):
        return distance.cosine_similarity(x1, x2, self.dim, self.eps)

    def get_config(self):
        return {"dim": self.dim, "eps": self.eps}

    def extra_repr(self):
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseDistance(Module):
    """p-norm distance between rows of ``x1`` and ``x2``: ``‖x1 - x2 + eps‖_p`` over the last dimension."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = float(p), float(eps), bool(keepdim)

    def forward(self, x1, x2):
        return distance.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def get_config(self):
        return {"p": self.norm, "eps": self.eps, "keepdim": self.keepdim}

    def extra_repr(self):
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"
