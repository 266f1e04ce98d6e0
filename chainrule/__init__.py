"""chainrule: a backpropagation neural-network library you can read.

``import chainrule`` loads NumPy and chainrule only; optional packages (scikit-learn,
matplotlib, tqdm, Pillow) are imported where they are used.
"""

from . import data, diagnostics, evaluate, nn, ops, optim, train
from .backend import DEFAULT_DTYPE
from .function import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .ops.activation import *  # noqa: F401,F403
from .ops.elementwise import (
    abs,
    add,
    cast,
    clip,
    div,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    sqrt,
    sub,
    where,
)
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.loss import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .data import DataLoader
from .io import ModelFileError, load, load_checkpoint, read_metadata, save
from .ops.conv import conv2d, conv_transpose2d, dropout2d
from .ops.dropout import dropout
from .ops.embedding import embedding
from .ops.normalization import batch_norm, layer_norm
from .ops.pooling import adaptive_avg_pool2d, avg_pool2d, global_avg_pool2d, max_pool2d
from .ops.recurrent import gru, last_step, lstm, rnn
from .tensor import Tensor
from .train import History, NonFiniteError, fit, predict
from .train import evaluate as evaluate_model
from .creation import *  # noqa: F401,F403
from . import linalg
from .ops.norms import norm
from .ops.rearrange import *  # noqa: F401,F403
from .ops.scan import *  # noqa: F401,F403
from .ops.math import *  # noqa: F401,F403
from .ops.gather import *  # noqa: F401,F403
from .ops.sorting import *  # noqa: F401,F403
from .ops.einsum import einsum
from .ops.matrices import *  # noqa: F401,F403
from .ops.elementwise import clip as clamp
from . import autograd
from .autograd import grad, inference_mode, set_grad_enabled
from .dtypes import *  # noqa: F401,F403  (float32, int64, bool, ... as in PyTorch)
from .tensor import Size
from .ops.torch_aliases import *  # noqa: F401,F403  (eq, isnan, allclose, equal as torch.equal, add(alpha=), ...)
from .ops.counting import *  # noqa: F401,F403  (bincount, isin, argwhere, meshgrid, diff)

__version__ = "0.1.0"


def __getattr__(name):
    """PEP 562 fallback for names chainrule lacks: a PyTorch name gets an error that names its equivalent."""
    from ._torch_names import module_getattr

    return module_getattr(name)
