"""The numba-compiled LSTM step kernels (float32): see ``chainrule.ops.recurrent_kernels``. Imported only
through ``chainrule.ops.compiled.load`` (``jit`` imports numba)."""

from ._tanh_numba import half, one, tanh
from .compiled import jit


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
