"""Training: the fit loop, callbacks, history and progress display.

``fit(model, x, y, ...)`` trains on NumPy arrays and returns a ``History``; ``evaluate`` and
``predict`` run a trained model in evaluation mode. ``Trainer`` is the object behind all three.
"""

from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
)
from .errors import NonFiniteError
from .fit import Trainer, evaluate, fit, predict
from .history import History
from .progress import ProgressLogger

__all__ = [
    "fit", "evaluate", "predict", "Trainer", "History", "NonFiniteError",
    "Callback", "CallbackList", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
    "CSVLogger", "JSONLogger", "ProgressLogger",
]
