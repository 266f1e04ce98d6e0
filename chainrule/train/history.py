"""``History``: the per-epoch record ``fit`` returns."""

import json
import math

from .._atomic import atomic_write
from .callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Per-epoch training record, returned by ``fit``.

    Attributes
    ----------
    history : dict
        ``name -> list`` of one value per epoch: ``"loss"``, each metric, ``"val_loss"`` and
        ``"val_<metric>"`` when there is validation data, and ``"lr"`` (the learning rate of the
        first parameter group at the end of the epoch's training batches).
    epoch : list of int
        The 0-based index of each recorded epoch (a resumed run continues the numbering).
    params : dict
        ``epochs``, ``steps`` (batches per epoch), ``batch_size``, ``samples``, ``validation_samples``.
    """

    order = -100  # record first, so later callbacks (checkpoints, JSON logs) see the current epoch

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.params = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(int(epoch))
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(_plain(value))

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __len__(self):
        return len(self.epoch)

    def best(self, monitor="val_loss", mode="auto"):
        """``(epoch, value)`` of the best recorded value of ``monitor`` (``mode`` as in EarlyStopping)."""
        from .callbacks import resolve_mode

        values = self.history.get(monitor)
        if not values:
            raise KeyError(f"History.best: {monitor!r} was not recorded; recorded: {', '.join(self.history)}")
        sign = 1 if resolve_mode(mode, monitor) == "min" else -1
        candidates = [(sign * v, i) for i, v in enumerate(values) if not math.isnan(v)]
        if not candidates:
            raise ValueError(f"History.best: every value of {monitor!r} is NaN")
        _, index = min(candidates)
        return self.epoch[index], values[index]

    def to_dict(self):
        """``{"epoch": [...], "history": {...}, "params": {...}}`` (JSON-able)."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()},
                "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data):
        """Rebuild from ``to_dict()``'s output."""
        history = cls()
        history.load_dict(data)
        return history

    def load_dict(self, data):
        """Replace this record with ``to_dict()``'s output (used when resuming)."""
        self.epoch = [int(e) for e in data.get("epoch", [])]
        self.history = {k: list(v) for k, v in data.get("history", {}).items()}
        self.params.update(data.get("params", {}))

    def to_json(self, path=None, indent=2):
        """The record as JSON text; written to ``path`` when given. NaN/inf are written as null."""
        text = json.dumps(_json_safe(self.to_dict()), indent=indent)
        if path is not None:
            with atomic_write(path, "w") as handle:  # a crash leaves the old file or the new, never half
                handle.write(text + "\n")
        return text

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History(epochs={len(self.epoch)}{', ' if last else ''}{last})"


def _plain(value):
    """A Python float/int for NumPy scalars (JSON-able, no dtype surprises)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
