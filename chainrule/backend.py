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


def _keep_freed_memory_for_reuse():
    """Let glibc's malloc reuse freed training arrays instead of page-faulting fresh ones every step.

    glibc serves blocks above its mmap threshold (128 KiB at start) with fresh kernel pages and
    returns them on free, so a training step that frees and reallocates the same 0.1-4 MB arrays
    faults its memory back in every step (measured: ~3,000 faults and about half the time of a
    small-CNN step). glibc raises the threshold to the size of the largest mmapped block it has
    freed; freeing one untouched 16 MiB block at import does that once, at no cost (the heap may
    then keep up to ~32 MiB of freed memory for reuse). Other allocators ignore it.
    ``CHAINRULE_MALLOC_TUNING=0`` skips it.
    """
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") != "0":
        numpy.empty(16 * 2**20, dtype=numpy.uint8)


_keep_freed_memory_for_reuse()
