"""Loading the optional numba-compiled kernels some ops use (``pip install "chainrule[fast]"``).

An op with a compiled kernel keeps its NumPy path, which runs when numba is not installed, when
``CHAINRULE_NUMBA=0`` is set, or while ``chainrule.ops.compiled.ENABLED`` is False. The kernels
live in modules named ``_*_numba`` (in ``chainrule.ops``, and ``chainrule.optim`` for Adam's),
which import numba and so are imported only here, at the first call that wants one. ``load``
compiles them then, for the argument types the op passes (a few seconds the first time, about a
second when numba finds them in its on-disk cache), so that a failure shows at once: a broken numba
install gives one warning and the NumPy path, never a failed training step. Kernels take NumPy
float32 and float64 arrays only (``load`` checks). Loading numba and its compiler costs about 115 MB
of memory, once per process.

Ops with compiled kernels: the LSTM and GRU steps (``recurrent_kernels``, ``_lstm_numba``,
``_gru_numba``, their tanh in ``_tanh_numba``), 2x2, stride-2 max pooling (``pooling``,
``_pool_numba``) and the im2col/col2im of conv2d (``conv``, ``_conv_numba``); and the Adam update
(``chainrule.optim.adam``, ``chainrule.optim._adam_numba``).
"""

import importlib
import os
import threading
import warnings

import numpy

from ..backend import xp

ENABLED = os.environ.get("CHAINRULE_NUMBA", "1") != "0"

_loaded = {}  # module name -> module, or False when it cannot be used
_lock = threading.Lock()
# numba has no float16 arithmetic, and other dtypes keep the NumPy path's exact behaviour
_KERNEL_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def load(name, warm_up, dtype, package=__package__):
    """The kernel module ``<package>.<name>`` (by default ``chainrule.ops.<name>``) for an op on
    arrays of ``dtype``, compiled by ``warm_up(module)`` on first use; ``None`` when the kernels are
    turned off, the arrays are not NumPy float32 or float64, numba is missing, or compiling fails."""
    if not ENABLED or xp is not numpy or numpy.dtype(dtype) not in _KERNEL_DTYPES:
        return None
    name = f"{package}.{name}"
    with _lock:
        if name not in _loaded:
            try:
                module = importlib.import_module(name)
                warm_up(module)
            except ImportError:
                module = False
            except Exception as error:  # the op has a NumPy path: fall back to it, once, loudly
                warnings.warn(f"chainrule: the compiled kernels in {name} are unavailable ({error!r}); "
                              "using the NumPy path", RuntimeWarning, stacklevel=3)
                module = False
            _loaded[name] = module
        return _loaded[name] or None


def jit(function):
    """numba's ``njit`` as chainrule's kernels use it (imported only by the kernel modules).

    Fast-math, but without assuming finite values: a NaN must come out as NaN (a diverged run has
    to show in its loss), so the flags that assume no NaN or inf (``nnan``, ``ninf``) are left out.
    Cached on disk where numba can write its cache, compiled in every process where it cannot."""
    import numba

    options = dict(fastmath={"nsz", "arcp", "contract", "afn"}, nogil=True, error_model="numpy")
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # no writable place for numba's cache
        return numba.njit(**options)(function)
