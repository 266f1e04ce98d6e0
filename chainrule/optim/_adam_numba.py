"""The numba-compiled Adam update: see ``chainrule.optim.adam``. Imported only through
``chainrule.ops.compiled.load`` (``jit`` imports numba).

The NumPy path makes twelve whole-buffer passes per step (each line of the update is one or more
ufunc calls through a scratch buffer); these kernels make three, each touching at most three arrays
so that the compiler vectorises it (with more arrays in one loop it gives up on proving they do not
overlap). For the benchmark MLP's 235,146 float32 parameters: 150 µs against 410-440 µs. The
arithmetic is the NumPy path's, with fused multiply-adds: results agree to the last bits, not all.
"""

import numpy

from ..ops.compiled import jit


@jit
def moments(g, m, v, one_minus_beta1, beta2, one_minus_beta2):
    """m <- m + (1 - beta1)·(g - m);  v <- beta2·v + (1 - beta2)·g²  (flat arrays, in place)."""
    for i in range(m.size):
        m[i] += one_minus_beta1 * (g[i] - m[i])
    for i in range(v.size):
        v[i] = beta2 * v[i] + one_minus_beta2 * (g[i] * g[i])


@jit
def apply(p, m, v, step_size, eps):
    """p <- p - step_size·m / (sqrt(v) + eps)  (flat arrays, p in place)."""
    for i in range(p.size):
        p[i] -= step_size * (m[i] / (numpy.sqrt(v[i]) + eps))
