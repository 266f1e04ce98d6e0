"""The one place that picks the array module.

Every op computes on ``xp`` arrays. Today ``xp`` is NumPy. The module is chosen once,
at import, from the environment variable ``CHAINRULE_BACKEND`` (``numpy``, the default,
or ``cupy``), so that a CuPy backend needs no change to the ops: no other file imports
NumPy by name where a device array is meant (host-side work such as file reading and
metrics does use NumPy directly).
"""

import os

import numpy

_BACKEND_NAME = os.environ.get("CHAINRULE_BACKEND", "numpy").lower()

if _BACKEND_NAME == "numpy":
    xp = numpy
elif _BACKEND_NAME == "cupy":  # pragma: no cover - no GPU in CI
    try:
        import cupy as xp
    except ImportError as error:
        raise ImportError("CHAINRULE_BACKEND=cupy needs CuPy installed (pip install cupy-cuda12x)") from error
else:
    raise ValueError(f"CHAINRULE_BACKEND={_BACKEND_NAME!r} is not a backend; expected 'numpy' or 'cupy'")

DEFAULT_DTYPE = xp.float32
"""Floating dtype of new tensors made from Python numbers and lists."""


def to_numpy(array):
    """Return ``array`` as a host NumPy array (a no-op on the NumPy backend)."""
    if isinstance(array, numpy.ndarray):
        return array
    get = getattr(array, "get", None)  # CuPy arrays copy to the host with .get()
    return get() if get is not None else numpy.asarray(array)
