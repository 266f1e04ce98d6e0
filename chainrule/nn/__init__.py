"""Networks: ``Module``, ``Parameter``, containers, layers, initialisers and loss modules.

Modelled on ``torch.nn``; every layer can also describe itself as a JSON config
(``module_to_config``) and be rebuilt from it (``build_module``), as in Keras.
"""

from . import functional, init, models, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .activation import *  # noqa: F401,F403
from .config import build_module, module_to_config, register_module, registered_modules
from .containers import ModuleList, Sequential
from .dropout import Dropout
from .linear import Dense, Flatten, Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss
from .loss import *  # noqa: F401,F403
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter
from .summary import ModelSummary
from .recurrent import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from .normalization import *  # noqa: F401,F403
from .containers import ModuleDict, ParameterDict, ParameterList  # noqa: F401
from .linear import Bilinear, Unflatten  # noqa: F401
