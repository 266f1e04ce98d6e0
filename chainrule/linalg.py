"""``chainrule.linalg``: the ``torch.linalg`` functions chainrule has (norms), under PyTorch's names."""

from .ops.norms import linalg_norm as norm
from .ops.norms import matrix_norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm"]
