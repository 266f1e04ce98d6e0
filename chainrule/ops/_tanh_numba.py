"""The tanh the recurrent step kernels use (float32), compiled by numba: see
``chainrule.ops.recurrent_kernels`` for how it is derived and how close it is. Imported only by the
kernel modules (``jit`` imports numba)."""

import numpy

from .compiled import jit
from .recurrent_kernels import TANH_CLAMP, _tanh_coefficients

_f32 = numpy.float32  # every constant float32, so that the arithmetic stays float32
_P, _Q = _tanh_coefficients()
if max(len(_P), len(_Q)) > 7:
    raise ValueError(f"{len(_P)}, {len(_Q)} polynomial terms: the kernel evaluates at most 7 (lower TANH_DEPTH)")
p0, p1, p2, p3, p4, p5, p6 = (_f32(c) for c in (_P + (0.0,) * 7)[:7])
q0, q1, q2, q3, q4, q5, q6 = (_f32(c) for c in (_Q + (0.0,) * 7)[:7])
clamp, half, one = _f32(TANH_CLAMP), _f32(0.5), _f32(1.0)


@jit
def tanh(x):
    """tanh by the cut continued fraction, x·P(x²)/Q(x²), for |x| clamped to 9, the result to [-1, 1]
    (written as comparisons, which a NaN fails: it goes through as NaN)."""
    if x > clamp:
        x = clamp
    elif x < -clamp:
        x = -clamp
    z = x * x
    p = ((((((p6 * z + p5) * z + p4) * z + p3) * z + p2) * z + p1) * z + p0)
    q = ((((((q6 * z + q5) * z + q4) * z + q3) * z + q2) * z + q1) * z + q0)
    y = x * p / q
    if y > one:
        y = one
    elif y < -one:
        y = -one
    return y
