"""Named tuples returned by ops that give values and their indices (``max(dim)``, ``min(dim)``, ...).

Like ``torch.return_types``: ``values, indices = x.max(1)`` unpacks, and ``.values`` / ``.indices``
name the parts.
"""

import collections

_TYPES = {}


def values_indices(op):
    """The named tuple type ``op(values, indices)`` (one type per op name, made once)."""
    if op not in _TYPES:
        _TYPES[op] = collections.namedtuple(op, ["values", "indices"])
    return _TYPES[op]
