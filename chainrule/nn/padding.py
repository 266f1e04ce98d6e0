"""Padding layers (``nn.ZeroPad2d``, ``nn.ReflectionPad1d``, ...): ``F.pad`` as a layer, PyTorch's names.

``padding`` is an int (the same on every side) or a tuple ordered last dimension first, ``(left, right)``,
``(left, right, top, bottom)`` or ``(left, right, top, bottom, front, back)``, as in PyTorch.
"""

import numbers

from ..ops.padding import pad_last
from .module import Module

__all__ = [
    f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for d in (1, 2, 3)
]


class _Pad(Module):
    """Pads the last ``_d`` dimensions with ``_mode``."""

    _d = 1
    _mode = "constant"

    def __init__(self, padding, value=0.0):
        super().__init__()
        name, sides = type(self).__name__, 2 * self._d
        if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
            padding = (int(padding),) * sides
        elif not (isinstance(padding, (tuple, list)) and len(padding) == sides
                  and all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding)):
            raise ValueError(f"{name}: padding must be an int or {sides} ints (last dimension first), got {padding!r}")
        self.padding = tuple(int(p) for p in padding)
        self.value = float(value)

    def forward(self, x):
        try:
            return pad_last(x, self.padding, self._mode, self.value)
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from None

    def get_config(self):
        config = {"padding": list(self.padding)}
        if type(self)._mode == "constant" and not type(self).__name__.startswith("Zero"):
            config["value"] = self.value
        return config

    def extra_repr(self):
        if type(self)._mode == "constant" and not type(self).__name__.startswith("Zero"):
            return f"padding={self.padding}, value={self.value}"
        return f"padding={self.padding}"


def _layer(kind, mode, d):
    doc = f"Pads the last {d} dimension(s) " + {
        "Zero": "with zeros.", "Constant": "with ``value``.", "Reflection": "by mirroring (without the edge).",
        "Replication": "by repeating the edge.", "Circular": "by wrapping around."}[kind]
    namespace = {"_d": d, "_mode": mode, "__doc__": doc, "__module__": __name__}
    if kind in ("Zero", "Reflection", "Replication", "Circular"):
        namespace["__init__"] = lambda self, padding: _Pad.__init__(self, padding)
    elif kind == "Constant":
        namespace["__init__"] = lambda self, padding, value: _Pad.__init__(self, padding, value)
    return type(f"{kind}Pad{d}d", (_Pad,), namespace)


for _kind, _mode in (("Zero", "constant"), ("Constant", "constant"), ("Reflection", "reflect"),
                     ("Replication", "replicate"), ("Circular", "circular")):
    for _d in (1, 2, 3):
        globals()[f"{_kind}Pad{_d}d"] = _layer(_kind, _mode, _d)
