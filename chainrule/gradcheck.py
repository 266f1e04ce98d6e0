"""Finite-difference gradient checking: does an op's backward agree with its forward?

For each input element x_i, the central difference
    (f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps)
estimates the derivative of the scalar ``sum(f(x) * w)`` (``w`` a fixed random upstream
gradient, so that every output element is weighed differently); ``backward`` must agree.
Everything runs in float64, where eps = 1e-6 leaves about 1e-9 of rounding error.
"""

import numpy

from .backend import to_numpy, xp
from .function import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def _as_float64_inputs(inputs):
    tensors = []
    for value in inputs:
        if isinstance(value, Tensor):
            if value.dtype.kind == "f":
                tensors.append(Tensor(value.data.astype(xp.float64), requires_grad=value.requires_grad))
            else:
                tensors.append(value)
        else:
            array = xp.asarray(value)
            if array.dtype.kind == "f":
                tensors.append(Tensor(array.astype(xp.float64), requires_grad=True))
            else:
                tensors.append(Tensor(array))
    return tensors


def _outputs(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0, raise_exception=True):
    """Compare the gradients ``backward()`` gives for ``fn(*inputs)`` with central finite differences.

    Parameters
    ----------
    fn : callable
        Takes the inputs as Tensors and returns a Tensor (or a tuple of Tensors).
    inputs : sequence of Tensor or array_like
        Floating arrays are converted to float64 tensors; a floating Tensor is checked only
        if it has ``requires_grad=True``. Integer inputs (indices, labels) are passed through.
    eps, atol, rtol : float
        Step of the central difference, and the tolerance ``|a - n| <= atol + rtol·|n|``.
    seed : int
        Seed of the random upstream gradient ``w``.
    raise_exception : bool
        Raise :class:`GradcheckError` naming the worst element on failure (else return False).

    Returns
    -------
    bool
        True when every checked gradient agrees.
    """
    tensors = _as_float64_inputs(inputs)
    rng = numpy.random.default_rng(seed)
    outputs = _outputs(fn(*tensors))
    weights = [xp.asarray(rng.standard_normal(out.shape)) for out in outputs]

    def objective():
        with no_grad():
            outs = _outputs(fn(*tensors))
        return float(sum((o.data.astype(xp.float64) * w).sum() for o, w in zip(outs, weights)))

    total = None
    for out, w in zip(outputs, weights):
        if out.requires_grad:
            term = (out * Tensor(w)).sum()
            total = term if total is None else total + term
    if total is None:
        raise GradcheckError("gradcheck: no output of fn depends on an input with requires_grad=True")
    total.backward()

    for index, tensor in enumerate(tensors):
        if not tensor.requires_grad:
            continue
        analytic = to_numpy(tensor._grad) if tensor._grad is not None else numpy.zeros(tensor.shape)
        numeric = numpy.zeros(tensor.shape)
        flat = tensor.data.reshape(-1)  # a view: perturbing it perturbs the input
        for i in range(flat.size):
            original = flat[i].item()
            flat[i] = original + eps
            plus = objective()
            flat[i] = original - eps
            minus = objective()
            flat[i] = original
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        error = numpy.abs(analytic - numeric) - (atol + rtol * numpy.abs(numeric))
        error = numpy.where(numpy.isnan(error), numpy.inf, error)  # a NaN gradient is a failure, not a pass
        if error.size and error.max() > 0:
            worst = tuple(int(i) for i in numpy.unravel_index(int(numpy.argmax(error)), error.shape))
            message = (
                f"gradcheck: gradient of input {index} (shape {tensor.shape}) disagrees at index {worst}: "
                f"analytic {analytic[worst]:.8g}, numerical {numeric[worst]:.8g} "
                f"(atol={atol}, rtol={rtol}; {int((error > 0).sum())} of {error.size} elements off)"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
