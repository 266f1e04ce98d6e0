"""The numba-compiled GRU step kernels (float32): see ``chainrule.ops.recurrent_kernels``. Imported only
through ``chainrule.ops.compiled.load`` (``jit`` imports numba).

The GRU op keeps a step's gates as an (n, 3, H) block of rows (r, z, n per sequence; n <= B rows are
still running), the r and z pre-activations negated (a = -A, see ``recurrent._gate_scale``), so
σ(A) = ½ - ½·tanh(a/2). Each loop runs along one contiguous row of H values, so that it vectorises.
"""

from ._tanh_numba import half, tanh
from .compiled import jit


@jit
def forward(a, hw, b_hh, h_prev, h):
    """One step after the recurrent product W_hh·h.

    a (n, 3, H): the step's input projections (r, z parts negated), overwritten with the gates r, z, n;
    hw (n, 3, H): the recurrent projections (r, z parts negated), to which b_hh (3, H, negated alike)
    is added in place (the backward reads hn = W_hn·h + b_hn from it); h_prev, h (n, H): the state
    before and after: n = tanh(a_n + r·hn), h' = n + z·(h - n)."""
    rows, _, H = a.shape
    for m in range(rows):
        for k in range(3):
            projection, bias = hw[m, k], b_hh[k]
            for j in range(H):
                projection[j] += bias[j]
        for k in range(2):
            gate, projection = a[m, k], hw[m, k]
            for j in range(H):
                gate[j] = half - half * tanh(half * (gate[j] + projection[j]))
        r, z, n, hn = a[m, 0], a[m, 1], a[m, 2], hw[m, 2]
        for j in range(H):
            n[j] = tanh(n[j] + r[j] * hn[j])
        before, after = h_prev[m], h[m]
        for j in range(H):
            after[j] = n[j] + z[j] * (before[j] - n[j])


@jit
def backward_gates(dh, K, gates, d, d_xn):
    """One step before the W_hh product: the pre-activation gradients d (n, 3, H) = dh·K (dh (n, H)
    times each gate's factor K (n, 3, H)); d_xn (n, H) keeps d's n part (the input projection's
    gradient), and d's n part becomes d_xn·r (the recurrent projection's); gates (n, 3, H): r, z, n."""
    rows, _, H = d.shape
    for m in range(rows):
        g = dh[m]
        for k in range(3):
            out, factor = d[m, k], K[m, k]
            for j in range(H):
                out[j] = g[j] * factor[j]
        dn, xn, r = d[m, 2], d_xn[m], gates[m, 0]
        for j in range(H):
            xn[j] = dn[j]
        for j in range(H):
            dn[j] *= r[j]


@jit
def backward_state(dh, gates, through_gates):
    """The gradient reaching the previous state: dh <- dh·z + through_gates (all (n, H); gates (n, 3, H))."""
    rows, H = dh.shape
    for m in range(rows):
        g, z, extra = dh[m], gates[m, 1], through_gates[m]
        for j in range(H):
            g[j] = g[j] * z[j] + extra[j]
