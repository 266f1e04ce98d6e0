"""numba-compiled im2col and col2im of ``chainrule.ops.conv``: for stride-1 convolutions in the
"wide" layout (``_im2col_wide``, ``_col2im_wide``), and in the plain layout (``_im2col``,
``_col2im``) when the stride along the width is 1. Imported only through
``chainrule.ops.compiled.load`` (``jit`` imports numba).

They walk each (channel, image) plane once, copying or adding the contiguous runs the kernel
offsets see. The NumPy path makes kh·kw strided whole-array passes instead; col2im's are
read-modify-write passes over the whole gradient. For the benchmark CNN's second layer (8 channels,
64 images of 16x16 padded, 3x3), wide layout: im2col 0.14 ms against 0.18 ms, col2im 0.15 ms
against 0.60 ms. Plain layout, its first layer (1 channel, 30x30 padded): im2col 0.13 ms against
0.19 ms, col2im 0.17 ms against 0.39 ms. With a width stride of 2 the runs are strided, the copies
do not vectorise, and the compiled im2col lost (1.3 ms against 0.67 ms): those stay with NumPy.

The runs are taken as slices (``plane[start:start + length]``) and then indexed from 0: indexing
``plane[start + i]`` directly leaves numba's negative-index check in the loop, which stops it
vectorising (4-6x slower). The additions happen in the NumPy path's order (offsets row-major, onto
zeros), so the results equal it bit for bit.
"""

from .compiled import jit


@jit
def im2col_wide(flat, kh, kw, dh, dw, padded_width, length, cols):
    """cols[c, p, q, n, i] = flat[c, n, p·dh·Wp + q·dw + i] for i < length, 0 for the rest of the row.

    flat: (C, N, Hp·Wp) padded planes; cols: (C, kh, kw, N, Ho·Wp), written whole; ``length`` is the
    run every offset can read (``conv._im2col_wide``)."""
    C, N = flat.shape[0], flat.shape[1]
    row = cols.shape[4]
    for c in range(C):
        for p in range(kh):
            for q in range(kw):
                start = p * dh * padded_width + q * dw
                for n in range(N):
                    source = flat[c, n, start : start + length]
                    target = cols[c, p, q, n]
                    for i in range(length):
                        target[i] = source[i]
                    for i in range(length, row):
                        target[i] = 0


@jit
def col2im_wide(cols, dh, dw, padded_width, length, out):
    """The adjoint of :func:`im2col_wide`: out[c, n] = Σ over (p, q) of cols[c, p, q, n, :length]
    added at offset p·dh·Wp + q·dw; entries of cols past ``length`` are ignored.

    cols: (C, kh, kw, N, Ho·Wp); out: (C, N, Hp·Wp), written whole."""
    C, kh, kw, N = cols.shape[0], cols.shape[1], cols.shape[2], cols.shape[3]
    for c in range(C):
        for n in range(N):
            plane = out[c, n]
            for i in range(plane.size):
                plane[i] = 0
            for p in range(kh):
                for q in range(kw):
                    start = p * dh * padded_width + q * dw
                    target = plane[start : start + length]
                    source = cols[c, p, q, n]
                    for i in range(length):
                        target[i] += source[i]


@jit
def im2col(xc, sh, dh, dw, cols):
    """cols[c, p, q, n, i, j] = xc[c, n, i·sh + p·dh, j + q·dw] (stride 1 along the width).

    xc: (C, N, Hp, Wp) padded input; cols: (C, kh, kw, N, Ho, Wo), written whole."""
    C, kh, kw, N, Ho, Wo = cols.shape
    for c in range(C):
        for p in range(kh):
            for q in range(kw):
                for n in range(N):
                    for i in range(Ho):
                        source = xc[c, n, i * sh + p * dh, q * dw : q * dw + Wo]
                        target = cols[c, p, q, n, i]
                        for j in range(Wo):
                            target[j] = source[j]


@jit
def col2im(cols, sh, dh, dw, out):
    """The adjoint of :func:`im2col`: out[c, n, i·sh + p·dh, j + q·dw] += cols[c, p, q, n, i, j],
    onto zeros, offsets in row-major order.

    cols: (C, kh, kw, N, Ho, Wo); out: (C, N, Hp, Wp), written whole."""
    C, kh, kw, N, Ho, Wo = cols.shape
    for c in range(C):
        for n in range(N):
            plane = out[c, n]
            for r in range(plane.shape[0]):
                for j in range(plane.shape[1]):
                    plane[r, j] = 0
            for p in range(kh):
                for q in range(kw):
                    for i in range(Ho):
                        target = plane[i * sh + p * dh, q * dw : q * dw + Wo]
                        source = cols[c, p, q, n, i]
                        for j in range(Wo):
                            target[j] += source[j]
