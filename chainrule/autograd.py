"""The autograd API in PyTorch's shape: ``grad``, ``backward``, anomaly detection, grad-mode switches.

``grad(outputs, inputs)`` returns gradients instead of accumulating them into ``.grad``; with
``create_graph=True`` the backward pass is itself recorded (each op's *differentiable* backward rule,
written with Tensor ops next to its array rule), so gradients can be differentiated again: gradient
penalties (WGAN-GP), Hessian-vector products, meta-learning. Ops without a differentiable rule raise
``RuntimeError("double backward is not implemented for '<op>'")`` in that mode.
"""

import contextlib
import functools

from .backend import xp
from .function import _grad_mode, _special, _state, enable_grad, is_grad_enabled, no_grad, sweep
from .tensor import Tensor, _seed_gradient, constant
from .autograd_function import Function, FunctionCtx  # (user-defined ops: torch.autograd.Function's API)

__all__ = [
    "grad", "backward", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "set_grad_enabled", "inference_mode", "no_grad", "enable_grad", "is_grad_enabled",
    "Function", "FunctionCtx",
]


def _tensors(value, name):
    items = [value] if isinstance(value, Tensor) else list(value)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"grad: {name}[{i}] must be a Tensor, got {type(item).__name__}")
    return items


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors (``.grad`` is not touched).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
        What to differentiate; a non-scalar output needs its ``grad_outputs`` entry.
    inputs : Tensor or sequence of Tensor
        Leaves or intermediate tensors that require a gradient.
    grad_outputs : Tensor, array or sequence of them (None entries: ones for single-element outputs)
        The vector of the vector-Jacobian product, one per output.
    retain_graph : bool, optional
        Keep the graph for another backward pass (default: ``create_graph``).
    create_graph : bool
        Record the backward pass, so the returned gradients can be differentiated again.
    allow_unused : bool
        Return None for an input the outputs do not depend on (else that is an error).
    materialize_grads : bool
        Return zeros instead of None for unused inputs (implies ``allow_unused``).
    """
    outputs = _tensors(outputs, "outputs")
    inputs_list = _tensors(inputs, "inputs")
    if materialize_grads:
        allow_unused = True
    seeds = _seeds(outputs, grad_outputs, "grad", ("outputs", "grad_outputs"), create_graph)
    for i, t in enumerate(inputs_list):
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad (one of the differentiated Tensors)")
    if retain_graph is None:
        retain_graph = create_graph
    found = sweep(outputs, seeds, retain_graph, create_graph, inputs_list)
    results = []
    for i, (t, g) in enumerate(zip(inputs_list, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: inputs[{i}] appears to not have been used in the graph of the outputs; "
                    "set allow_unused=True if this is the desired behavior"
                )
            results.append(constant(xp.zeros_like(t.data)) if materialize_grads else None)
        elif create_graph:
            results.append(g)
        else:
            results.append(constant(xp.array(g, dtype=t.data.dtype, copy=True)))
    return tuple(results)


def _seeds(tensors, grads, op, names, create_graph):
    """The starting gradient of each of ``tensors`` (``grads``: None, one, or one per tensor; None entries:
    ones for single-element tensors), after checking that every tensor requires grad."""
    if grads is None:
        grads = [None] * len(tensors)
    elif isinstance(grads, Tensor) or not isinstance(grads, (list, tuple)):
        grads = [grads]
    if len(grads) != len(tensors):
        raise ValueError(f"{op}: got {len(grads)} {names[1]} for {len(tensors)} {names[0]}")
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(f"{op}: element {i} of {names[0]} does not require grad and does not have a grad_fn")
    return [_seed_gradient(t, g, f"{op}()", create_graph) for t, g in zip(tensors, grads)]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``tensors[i].backward(grad_tensors[i])`` for all at once: gradients summed into the leaves' ``.grad``."""
    tensors = _tensors(tensors, "tensors")
    seeds = _seeds(tensors, grad_tensors, "backward", ("tensors", "grad_tensors"), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        sweep(tensors, seeds, retain_graph, create_graph)
        return
    inputs = _tensors(inputs, "inputs")
    for t, g in zip(inputs, sweep(tensors, seeds, retain_graph, create_graph, inputs)):
        if g is not None:
            t._accumulate_grad_tensor(g) if create_graph else t._accumulate_grad(g)


# ------------------------------------------------------------------------------------- modes
class _Switch:
    """A setting that changes when made and, used as a context manager, is restored on exit."""

    def __init__(self, mode):
        self._previous = self._get()
        self._mode = bool(mode)
        self._set(self._mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._set(self._previous)
        return False

    def __call__(self, fn):
        """As a decorator (``@set_grad_enabled(False)``): the setting holds during each call of ``fn`` only."""
        self._set(self._previous)  # undo the change made at construction, as PyTorch does
        mode = self._mode
        switch = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with switch(mode):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_Switch):
    """Turn graph recording on or off: ``set_grad_enabled(False)`` now, or ``with set_grad_enabled(mode):``."""

    @staticmethod
    def _get():
        return _state.enabled

    @staticmethod
    def _set(mode):
        _state.enabled = mode


class set_detect_anomaly(_Switch):
    """Turn anomaly detection on or off (now, or for a ``with`` block): see ``detect_anomaly``."""

    @staticmethod
    def _get():
        return _special.anomaly

    @staticmethod
    def _set(mode):
        _special.anomaly = mode


def detect_anomaly(check_nan=True):
    """Context manager: a backward rule that produces NaN or inf raises a RuntimeError naming its op.

    Slower (every gradient is checked); for debugging.
    """
    return set_detect_anomaly(check_nan)


def is_anomaly_enabled():
    return _special.anomaly


@contextlib.contextmanager
def _unchanged():
    yield


def inference_mode(mode=True):
    """Context manager (and decorator) for inference: the same as ``no_grad()`` here."""
    return _grad_mode(False) if mode else _unchanged()
