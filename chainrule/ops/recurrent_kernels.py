"""Optional compiled kernels for the element-wise work of an LSTM or GRU step (float32), through numba.

With NumPy alone, a step of the LSTM op is one matrix product and then nine element-wise NumPy
calls forward (five backward), each a separate pass over the step's (4, H, B) or (H, B) block
with its own call overhead; NumPy's float32 tanh costs about 1.5 ns per element. Here each
direction of a step is one compiled pass that reads each input once, and the LSTM's forward also
writes the backward's factors (which the NumPy path computes in extra whole-sequence passes). A GRU
step takes eleven NumPy calls forward and five backward; compiled, one forward and two backward
(before and after its product with W_hh).

tanh (and σ, as ½ + ½·tanh(x/2)) is computed without a math library call, so that the loops
vectorise: Lambert's continued fraction

    tanh x = x / (1 + x² / (3 + x² / (5 + x² / (7 + ...))))

cut after the term 2·12 + 1 = 25 is a ratio of two polynomials in z = x², x·P(z)/Q(z), whose
coefficients ``_tanh_coefficients`` derives with the recurrence for continued-fraction convergents.
On [-9, 9] (beyond it tanh rounds to ±1 in float32) its float32 error is below 4e-7 (NumPy's
float32 tanh: 6e-8); ``tests/ops/test_recurrent_kernels.py`` checks that bound.

The kernels themselves are in ``_lstm_numba`` and ``_gru_numba`` (their tanh in ``_tanh_numba``);
``lstm(dtype)`` and ``gru(dtype)`` give ``None`` where numba is not there or turned off (see
``chainrule.ops.compiled``), and the op then uses its NumPy path.
"""

import numpy

from . import compiled

TANH_DEPTH = 12  # terms of the continued fraction
TANH_CLAMP = 9.0  # |x| beyond which float32 tanh is ±1


def _tanh_coefficients(depth=TANH_DEPTH):
    """Coefficients (lowest degree first, in z = x²) of P and Q with tanh x ≈ x·P(z)/Q(z).

    With D = 1 + z/(3 + z/(5 + ...)), tanh x = x / D. The k-th convergent of D is A_k / B_k with
    A_k = (2k+1)·A_{k-1} + z·A_{k-2} (and the same for B), A_{-1} = 1, A_0 = 1, B_{-1} = 0, B_0 = 1,
    so tanh x ≈ x·B_n / A_n. Scaled so that Q(0) = 1."""
    a_prev, a = [1.0], [1.0]
    b_prev, b = [0.0], [1.0]

    def step(current, previous, k):
        scaled = [(2 * k + 1) * c for c in current] + [0.0]
        for degree, c in enumerate(previous):
            scaled[degree + 1] += c  # z · previous
        while len(scaled) > 1 and scaled[-1] == 0.0:
            scaled.pop()
        return scaled

    for k in range(1, depth + 1):
        a, a_prev = step(a, a_prev, k), a
        b, b_prev = step(b, b_prev, k), b
    return tuple(c / a[0] for c in b), tuple(c / a[0] for c in a)


def lstm(dtype):
    """The LSTM's ``(forward, backward)`` compiled step kernels for arrays of ``dtype``, or ``None``
    (float32 only: the tanh's constants are float32; see ``chainrule.ops.compiled``)."""
    module = compiled.load("_lstm_numba", _warm_up_lstm, dtype) if dtype == numpy.float32 else None
    return None if module is None else (module.forward, module.backward)


def gru(dtype):
    """The GRU's ``(forward, backward_gates, backward_state)`` compiled step kernels, or ``None``
    (float32 only, as :func:`lstm`)."""
    module = compiled.load("_gru_numba", _warm_up_gru, dtype) if dtype == numpy.float32 else None
    return None if module is None else (module.forward, module.backward_gates, module.backward_state)


def _warm_up_gru(module):
    """Compile for the types the GRU op passes (all float32, C-contiguous)."""
    f32 = numpy.float32
    gates, state = numpy.zeros((1, 3, 1), f32), numpy.zeros((1, 1), f32)
    module.forward(gates, gates.copy(), numpy.zeros((3, 1), f32), state, state.copy())
    module.backward_gates(state, gates, gates.copy(), gates.copy(), state.copy())
    module.backward_state(state, gates, state.copy())


def _warm_up_lstm(module):
    """Compile for the types the LSTM op passes (all float32, C-contiguous)."""
    f32 = numpy.float32
    a, c = numpy.zeros((4, 1, 1), f32), numpy.zeros((1, 1), f32)
    module.forward(a, c, c.copy(), c.copy(), c.copy(), a.copy(), c.copy(), True)
    module.backward(c, c.copy(), a, c.copy(), c.copy(), numpy.zeros((4, 1, 1), f32), 0)
