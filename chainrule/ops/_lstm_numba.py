"""The numba-compiled LSTM step kernels (float32): see ``chainrule.ops.lstm_kernels``. Imported only
through ``chainrule.ops.compiled.load`` (``jit`` imports numba)."""

import numpy

from .compiled import jit
from .lstm_kernels import TANH_CLAMP, _tanh_coefficients

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


# Each loop below runs over flat, contiguous (…, H·B) views and touches few arrays, so that the
# compiler vectorises it (with many arrays in one loop it gives up on proving they do not overlap).
@jit
def forward(a, c_prev, c, tanh_c, h, K, Kc, with_factors):
    """One step after the gate product. a (4, H, B): pre-activations o, i, f, g (the sigmoid
    gates' halved: σ(A) = ½ + ½·tanh(A/2)), overwritten with the gates. Writes c' = f·c + i·g,
    tanh(c'), h' = o·tanh(c') and, with ``with_factors``, the backward's factors K (4, H, B)
    = [tanh(c')·o(1-o), g·i(1-i), c·f(1-f), i(1-g²)] and Kc = o(1 - tanh²(c'))."""
    n = c.size
    gates = a.reshape(4 * n)
    for k in range(4 * n):
        gates[k] = tanh(gates[k])
    for k in range(3 * n):
        gates[k] = half + half * gates[k]
    gate = a.reshape(4, n)
    o, i, f, g = gate[0], gate[1], gate[2], gate[3]
    cp, cn, tc, hn = c_prev.reshape(n), c.reshape(n), tanh_c.reshape(n), h.reshape(n)
    for k in range(n):
        cn[k] = f[k] * cp[k] + i[k] * g[k]
    for k in range(n):
        tc[k] = tanh(cn[k])
    for k in range(n):
        hn[k] = o[k] * tc[k]
    if with_factors:
        factor = K.reshape(4, n)
        kc = Kc.reshape(n)
        for k in range(n):
            factor[0, k] = tc[k] * o[k] * (one - o[k])
        for k in range(n):
            factor[1, k] = g[k] * i[k] * (one - i[k])
        for k in range(n):
            factor[2, k] = cp[k] * f[k] * (one - f[k])
        for k in range(n):
            factor[3, k] = i[k] * (one - g[k] * g[k])
        for k in range(n):
            kc[k] = o[k] * (one - tc[k] * tc[k])


@jit
def backward(dh, dc, K, Kc, f, dA, t):
    """One step before the W_hhᵀ product: dc += dh·Kc; the step's gate gradients
    dA[:, t] = [dh·K_o, dc·K_i, dc·K_f, dc·K_g] (dA is (4H, T, B)); then dc <- dc·f (the
    gradient reaching the previous cell state). dh, dc, Kc, f: (H, B); K: (4, H, B)."""
    H, B = dh.shape
    for r in range(H):
        for j in range(B):
            dc[r, j] += dh[r, j] * Kc[r, j]
        for j in range(B):
            dA[r, t, j] = dh[r, j] * K[0, r, j]
        for m in range(1, 4):
            for j in range(B):
                dA[m * H + r, t, j] = dc[r, j] * K[m, r, j]
        for j in range(B):
            dc[r, j] *= f[r, j]
