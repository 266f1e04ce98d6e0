"""Recurrent ops: a whole sequence through one RNN, LSTM or GRU layer (one direction) as one fused op.

Backpropagation through time, written out. Each op

* projects the inputs of *all* time steps with one matrix product (``x @ W_ihᵀ``),
* then walks the sequence with one ``h @ W_hhᵀ`` product per step for all gates together
  (LSTM: one product per step of ``[W_hh, W_ih, b]`` with ``[h; x_t; 1]`` does both, in a
  feature-major layout, see the comment above ``lstm``),
* and its backward walks time in reverse, applying the chain rule of the cell at each step
  (the derivatives are written above each backward), after which the weight gradients are
  each one big matrix product over all stored steps.

The weights have PyTorch's layout, so they copy across: ``w_ih`` is ``(gates·H, I)`` and
``w_hh`` ``(gates·H, H)`` with the gates stacked in the order LSTM ``i, f, g, o``, GRU
``r, z, n``. Inputs are time-major ``(T, B, I)`` unless ``batch_first=True`` (``(B, T, I)``).

Variable-length batches: ``lengths[b]`` is the number of real steps of sequence ``b``.
Padded steps leave the state unchanged (it is carried through), their outputs are zero
and they receive no gradient; the final state of a sequence is its state after its last
real step (for ``reverse=True``, after step 0 — the reverse direction starts at each
sequence's own last real step). Internally the batch is sorted by length so that at each
step the sequences still running are the first ``n`` rows, and every per-step operation
works on a contiguous slice ``[:n]`` (what ``pack_padded_sequence`` does in PyTorch).

``recorder``: an optional callable ``recorder(t, norm)``, called during backward with the
Euclidean norm of dLoss/dh_t (over the batch) for each time step ``t`` — how much gradient
reaches that step (see ``chainrule.diagnostics.gradient_health``).
"""

import math
import threading
import weakref

import numpy

from ..backend import xp
from ..function import is_grad_enabled
from ..tensor import Tensor, as_tensor, result
from . import recurrent_kernels
from .threads import loop_threads

__all__ = ["rnn", "lstm", "lstm_projected", "gru", "last_step"]


# ---------------------------------------------------------------------------- plumbing
def _multi_result(arrays, parents, backward, op):
    """Several output tensors of one op that share one backward.

    A hidden node owns ``backward`` (one gradient per parent, from the list of the outputs'
    gradients, ``None`` for an output no gradient reached). Every output hangs from it and,
    in its own backward, hands its gradient over. The engine's topological order runs the
    outputs' backwards before the hidden node's, so the hidden node sees all of them.
    """
    pending = [None] * len(arrays)
    dtype = arrays[0].dtype

    def hub_backward(_unused):
        grads = list(pending)
        pending[:] = [None] * len(arrays)
        return backward(grads)

    hub = result(xp.zeros((), dtype=dtype), parents, hub_backward, op)
    zero = xp.zeros((), dtype=dtype)

    def hand_over(k):
        def output_backward(g):
            pending[k] = g if pending[k] is None else pending[k] + g
            return (zero,)

        return output_backward

    return tuple(result(array, (hub,), hand_over(k), op) for k, array in enumerate(arrays))


class _Workspace:
    """A pool of big scratch arrays, reused from one call to the next.

    A sequence op needs megabytes of per-step arrays (gate values, state histories and, in
    backward, their gradients). Allocated afresh at every training step, that memory goes
    back to the operating system and is faulted in again page by page at the next step, which
    costs about as much as the arithmetic. So arrays are taken from here and given back once
    nothing can read them any more: backward temporaries at the end of the backward, arrays
    saved for the backward when the graph holding them is freed (or at once under no_grad).
    Arrays never leave an op through its outputs or gradients. Kept per (dtype, size rounded
    up to a power of two), at most ``per_size`` arrays each and ``max_bytes`` in all.
    """

    def __init__(self, per_size=4, max_bytes=256 << 20):
        self.per_size, self.max_bytes = per_size, max_bytes
        self._free = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def take(self, shape, dtype, zero=False):
        size = math.prod(shape)
        bucket = 1 << max(size - 1, 0).bit_length()
        key = (xp.dtype(dtype).str, bucket)
        with self._lock:
            stack = self._free.get(key)
            flat = stack.pop() if stack else None
            if flat is not None:
                self._bytes -= flat.nbytes
        if flat is None:
            flat = xp.empty(bucket, dtype=dtype)
        array = flat[:size].reshape(shape)
        if zero:
            array.fill(0)
        return array

    def give(self, *arrays):
        with self._lock:
            for array in arrays:
                flat = array.base  # the 1-D array take() cut it from
                if flat is None or flat.ndim != 1:
                    continue
                stack = self._free.setdefault((flat.dtype.str, flat.size), [])
                if len(stack) < self.per_size and self._bytes + flat.nbytes <= self.max_bytes:
                    stack.append(flat)
                    self._bytes += flat.nbytes

    def clear(self):
        """Drop every pooled array (memory goes back to the allocator)."""
        with self._lock:
            self._free.clear()
            self._bytes = 0


_WORKSPACE = _Workspace()


def _give_back_when_freed(backward, *arrays):
    """Return ``arrays`` (saved for ``backward``) to the workspace when ``backward`` is garbage:
    after the backward pass freed the graph, or right away when no graph was recorded."""
    weakref.finalize(backward, _WORKSPACE.give, *arrays)


def _parents_and_grads(named):
    """Tensors among ``named`` (a list of Tensor-or-None) and a function mapping a list of
    gradients (aligned with ``named``) to the tuple for those parents."""
    keep = [k for k, t in enumerate(named) if t is not None]
    parents = tuple(named[k] for k in keep)
    return parents, lambda grads: tuple(grads[k] for k in keep)


def _check(op, gates, x, w_ih, w_hh, b_ih, b_hh, states, batch_first):
    """Validate shapes and dtypes; return tensors and (T, B, I, H)."""
    x, w_ih, w_hh = as_tensor(x), as_tensor(w_ih), as_tensor(w_hh)
    if x.ndim != 3:
        layout = "(batch, time, features)" if batch_first else "(time, batch, features)"
        raise ValueError(f"{op}: input must have 3 axes {layout}, got shape {x.shape}")
    if w_hh.ndim != 2 or w_hh.shape[0] % gates or w_hh.shape[1] * gates != w_hh.shape[0]:
        raise ValueError(f"{op}: w_hh must have shape ({gates}·H, H), got {w_hh.shape}")
    H = w_hh.shape[1]
    T, B = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    I = x.shape[2]
    if w_ih.shape != (gates * H, I):
        raise ValueError(
            f"{op}: w_ih must have shape ({gates}·H, I) = ({gates * H}, {I}) for hidden size {H} and "
            f"{I} input features, got {w_ih.shape}"
        )
    if T == 0:
        raise ValueError(f"{op}: the input has no time steps (shape {x.shape})")
    dtype = x.dtype
    if dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {dtype}")
    biases = []
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None:
            b = as_tensor(b)
            if b.shape != (gates * H,):
                raise ValueError(f"{op}: {name} must have shape ({gates * H},), got {b.shape}")
        biases.append(b)
    checked = []
    for name, s in states:
        if s is not None:
            s = as_tensor(s)
            if s.shape != (B, H):
                raise ValueError(f"{op}: {name} must have shape (batch, hidden) = ({B}, {H}), got {s.shape}")
        checked.append(s)
    for name, t in [("w_ih", w_ih), ("w_hh", w_hh)] + list(zip(("b_ih", "b_hh"), biases)) + [
        (n, s) for (n, _), s in zip(states, checked)
    ]:
        if t is not None and t.dtype != dtype:
            raise TypeError(f"{op}: {name} has dtype {t.dtype} but the input has dtype {dtype}; cast one of them")
    return x, w_ih, w_hh, biases[0], biases[1], checked, (T, B, I, H)


def check_lengths(op, lengths, T, B):
    """``lengths`` as an int64 array of B values in [1, T] (a ValueError naming the values otherwise)."""
    if isinstance(lengths, Tensor):
        lengths = lengths.data
    array = numpy.asarray(lengths)
    if array.dtype == bool or (array.dtype.kind not in "iu" and array.size):
        raise TypeError(f"{op}: lengths must be integers, got dtype {array.dtype}")
    if array.ndim != 1 or array.shape[0] != B:
        raise ValueError(
            f"{op}: lengths must hold one length per sequence in the batch ({B}), got {array.size} "
            f"lengths {_preview(array)}"
        )
    array = array.astype(numpy.int64)
    bad = (array < 1) | (array > T)
    if bad.any():
        raise ValueError(
            f"{op}: lengths must be between 1 and the number of time steps ({T}); got {_preview(array[bad])} "
            f"at batch positions {_preview(numpy.flatnonzero(bad))}"
        )
    return array


def _preview(array, limit=8):
    values = numpy.asarray(array).reshape(-1).tolist()
    return str(values[:limit])[:-1] + (", ...]" if len(values) > limit else "]")


class _Walk:
    """The order in which a batch walks through time: direction, active rows per step and,
    for variable lengths, the permutation that sorts the batch by decreasing length."""

    def __init__(self, op, lengths, T, B, reverse, dtype):
        self.T, self.B, self.reverse = T, B, reverse
        self.steps = range(T - 1, -1, -1) if reverse else range(T)
        self.order = self.inverse = self.mask = None
        self.active = [B] * T
        if lengths is not None:
            lengths = check_lengths(op, lengths, T, B)
            if (lengths != T).any():
                self.order = numpy.argsort(-lengths, kind="stable")
                self.inverse = numpy.argsort(self.order)
                ranked = lengths[self.order]
                running = ranked[None, :] > numpy.arange(T)[:, None]  # (T, B): step t of row b is real
                self.active = running.sum(axis=1).tolist()
                self.mask = xp.asarray(running[:, :, None], dtype=dtype)

    # The `prev`/`new` slots of the (T+1, B, H) state history for step t.
    def slots(self, t):
        return (t + 1, t) if self.reverse else (t, t + 1)

    @property
    def first(self):
        return self.T if self.reverse else 0

    @property
    def last(self):
        return 0 if self.reverse else self.T

    def history_before(self, hist):
        """Per step t, the state it started from, as a (T, B, H) view."""
        return hist[1:] if self.reverse else hist[:-1]

    def history_after(self, hist):
        return hist[:-1] if self.reverse else hist[1:]

    # user layout -> internal (time-major, sorted) and back
    def sequence_in(self, array, batch_first):
        if batch_first:
            array = array.transpose(1, 0, 2)
        if self.order is not None:
            array = array[:, self.order]
        return xp.ascontiguousarray(array)

    def sequence_out(self, array, batch_first):
        """A new array (never a view of the op's workspace) in the caller's layout."""
        if self.mask is not None:
            return self.sequence_out_unmasked((array * self.mask)[:, self.inverse], batch_first)
        return self.sequence_out_unmasked(array, batch_first)

    @staticmethod
    def sequence_out_unmasked(array, batch_first):
        if batch_first:
            array = array.transpose(1, 0, 2)
        return xp.array(array, order="C", copy=True)

    def rows_in(self, array):
        return array if self.order is None else array[self.order]

    def rows_out(self, array):
        return array if self.order is None else array[self.inverse]

    def state_out(self, array):
        """A final state as a new array (never a view of the workspace)."""
        return array.copy() if self.order is None else array[self.inverse]

    def grad_sequence_in(self, g, batch_first):
        return None if g is None else self.sequence_in(g, batch_first)

    def grad_sequence_out(self, g, batch_first):
        if self.order is not None:
            g = g[:, self.inverse]
        if batch_first:
            g = xp.ascontiguousarray(g.transpose(1, 0, 2))
        return g

    def state_buffer(self, g, B, H, dtype):
        """A fresh (B, H) buffer holding the incoming state gradient (sorted), or zeros."""
        if g is None:
            return xp.zeros((B, H), dtype=dtype)
        return xp.array(self.rows_in(g), dtype=dtype, copy=True)

    def buffer(self, shape, dtype):
        """A workspace buffer whose rows at padded steps are never written: zeros when there are
        padded steps (the gradient there must be zero, other values must at least be finite)."""
        return _WORKSPACE.take(shape, dtype, zero=self.mask is not None)


def _initial_state(state, B, H, dtype, walk):
    if state is None:
        return xp.zeros((B, H), dtype=dtype)
    return walk.rows_in(state.data)


def _norm(array):
    return math.sqrt(float(xp.vdot(array, array)))


def _sequence_grads(walk, batch_first, x, w_ih, w_hh, b_ih, b_hh, xs, hs, flat_x, flat_h):
    """The whole-sequence products of the batch-major (GRU, RNN) backward, one matrix product each.

    ``flat_x`` (T·B, gates·H) is the gradient of the input projections x·W_ihᵀ + b_ih and ``flat_h``
    that of the recurrent projections h·W_hhᵀ + b_hh (the same array for the RNN): dx = flat_x·W_ih,
    dW_ih = flat_xᵀ·x, dW_hh = flat_hᵀ·h_prev, db_ih = Σ flat_x, db_hh = Σ flat_h. Returns
    [dx, dW_ih, dW_hh, db_ih, db_hh], ``None`` for what needs no gradient."""
    T, B, I = xs.shape
    gx = gw_ih = gw_hh = gb_ih = gb_hh = None
    if x.requires_grad:
        gx = walk.grad_sequence_out((flat_x @ w_ih.data).reshape(T, B, I), batch_first)
    if w_ih.requires_grad:
        gw_ih = flat_x.T @ xs.reshape(T * B, I)
    if w_hh.requires_grad:
        gw_hh = flat_h.T @ walk.history_before(hs).reshape(T * B, -1)
    if b_ih is not None:
        gb_ih = flat_x.sum(axis=0)
    if b_hh is not None:
        gb_hh = gb_ih if flat_h is flat_x and gb_ih is not None else flat_h.sum(axis=0)
    return [gx, gw_ih, gw_hh, gb_ih, gb_hh]


# ---------------------------------------------------------------------------- gate helpers (GRU)
# The gate nonlinearities in three whole-block operations: every sigmoid gate is computed as
# σ(A) = 1 / (1 + exp(-A)) and the tanh gate as tanh(A) = 2·σ(2A) - 1, so the pre-activations
# are scaled once by -1 (sigmoid gates) or -2 (tanh gate); then exp, +1 and reciprocal give σ
# for all gates at once, and the tanh gate gets ·2 - 1. (exp overflows to inf for A << 0, and
# 1 / (1 + inf) = 0 is the right limit, so that overflow warning is silenced.)
def _gate_scale(pattern, dtype):
    """Per-gate pre-activation scale, a column vector: -1 for a sigmoid gate ('s'), -2 for a tanh gate ('t')."""
    return xp.asarray([[-1.0] if p == "s" else [-2.0] for p in pattern], dtype=dtype)


def _sigmoid_(a):
    """In place: a <- 1 / (1 + exp(a)), i.e. σ(A) for a = -A."""
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _input_projection(xs, w_ih, biases, row_scale, G):
    """G <- (x·W_ihᵀ + Σ biases)·row_scale for all steps at once, written straight into the
    workspace buffer ``G``; the scale is folded into the (small) weights and bias first."""
    T, B, I = xs.shape
    w, bias = w_ih.data, None
    for b in biases:
        if b is not None:
            bias = b.data if bias is None else bias + b.data
    if row_scale is not None:
        w = w * row_scale[:, None]
        bias = None if bias is None else bias * row_scale
    flat = G.reshape(T * B, -1)
    xp.matmul(xs.reshape(T * B, I), w.T, out=flat)
    if bias is not None:
        flat += bias
    return G


def _gate_rows(scale, H):
    """A per-gate scale column (gates, 1) repeated for the H rows of each gate: (gates·H,)."""
    return xp.repeat(scale[:, 0], H)


# ---------------------------------------------------------------------------- LSTM
# Inside the LSTM op everything is laid out "feature-major": a step's gates are a (4, H, B) block,
# its states (H, B), so that every element-wise operation of a step runs over whole contiguous
# blocks (NumPy is several times slower over the strided per-gate slices of a (B, 4H) array). The
# gates are stored in the order o, i, f, g (PyTorch's weights stay i, f, g, o outside: their rows
# are permuted once per call and the weight gradients permuted back), so that the three sigmoid
# gates are one block (one exp, +1, reciprocal for all three) and so are, in the backward, the
# three gates driven by dc' (i, f, g).
_LSTM_ORDER = (3, 0, 1, 2)  # internal gate k is PyTorch's gate _LSTM_ORDER[k] (i=0, f=1, g=2, o=3)


def _lstm_rows(H):
    """Row permutation PyTorch layout -> internal layout, and its inverse."""
    perm = (numpy.arange(4 * H).reshape(4, H)[list(_LSTM_ORDER)]).reshape(-1)
    return perm, numpy.argsort(perm)


def _lstm_factors(G, tanh_c, c_before, K, Kc):
    """The factors of the LSTM backward that do not depend on the incoming gradient, for all steps
    at once (the compiled kernel makes them step by step): from G (T, 4, H, B) holding o, i, f, g,
    K gets [tanh(c')·o(1-o), g·i(1-i), c·f(1-f), i(1-g²)] and Kc o(1 - tanh²(c'))."""
    o, i, g = G[:, 0], G[:, 1], G[:, 3]
    sig, k_sig = G[:, :3], K[:, :3]
    xp.subtract(1, sig, out=k_sig)
    k_sig *= sig  # σ(1-σ)
    K[:, 0] *= tanh_c
    K[:, 1] *= g
    K[:, 2] *= c_before
    k_g = K[:, 3]
    xp.multiply(g, g, out=k_g)
    xp.subtract(1, k_g, out=k_g)
    k_g *= i
    xp.multiply(tanh_c, tanh_c, out=Kc)
    xp.subtract(1, Kc, out=Kc)
    Kc *= o


# what the compiled forward step is given for K, Kc when no factors are wanted (never written)
_NO_FACTORS = (numpy.zeros((4, 1, 1), numpy.float32), numpy.zeros((1, 1), numpy.float32))


def lstm(x, w_ih, w_hh, b_ih=None, b_hh=None, h0=None, c0=None, *, lengths=None, reverse=False,
         batch_first=False, recorder=None):
    """One LSTM layer, one direction, over a whole sequence (PyTorch's equations and weight layout).

    i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + ... )    o = σ(W_io x + ... )
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)
    c' = f·c + i·g                          h' = o·tanh(c')

    Returns ``(output, h_n, c_n)``: the hidden state of every step ``(T, B, H)`` (``(B, T, H)`` with
    ``batch_first``; zero at padded steps) and the final states ``(B, H)``.
    """
    x, w_ih, w_hh, b_ih, b_hh, (h0, c0), (T, B, I, H) = _check(
        "lstm", 4, x, w_ih, w_hh, b_ih, b_hh, [("h0", h0), ("c0", c0)], batch_first
    )
    dtype = x.dtype
    walk = _Walk("lstm", lengths, T, B, reverse, dtype)
    perm, inverse = _lstm_rows(H)
    S = H + I + 1  # a step's input column [h; x_t; 1]

    # One product per step gives all the gate pre-activations, input projection and bias
    # included: A = W·[h; x_t; 1] with W = [W_hh, W_ih, b] (4H, S), rows in the internal order,
    # the sigmoid gates' rows halved: σ(A) = (1 + tanh(A/2)) / 2, so one tanh over the whole
    # (4, H, B) block gives all four gates, and the three sigmoid gates then get ·½ + ½.
    W = xp.empty((4 * H, S), dtype=dtype)
    W[:, :H] = w_hh.data[perm]
    W[:, H:H + I] = w_ih.data[perm]
    if b_ih is None and b_hh is None:
        W[:, H + I] = 0
    else:
        W[:, H + I] = sum(b.data for b in (b_ih, b_hh) if b is not None)[perm]
    W[:3 * H] *= 0.5

    # hx[p] = [h; x_t; 1] (S, B) for the step t that starts from slot p (see _Walk.slots); the
    # slot no step starts from holds only the final h. G[t]: after step t, its gates o, i, f, g.
    hx = _WORKSPACE.take((T + 1, S, B), dtype)
    before = walk.history_before(hx)
    xs = x.data.transpose(1, 2, 0) if batch_first else x.data.transpose(0, 2, 1)  # (T, I, B)
    before[:, H:H + I] = xs if walk.order is None else xs[:, :, walk.order]
    before[:, H + I] = 1
    hx[walk.last, H:] = 0
    hx[walk.first, :H] = _initial_state(h0, B, H, dtype, walk).T
    cs = _WORKSPACE.take((T + 1, H, B), dtype)
    cs[walk.first] = _initial_state(c0, B, H, dtype, walk).T
    G = _WORKSPACE.take((T, 4, H, B), dtype)
    tanh_c = _WORKSPACE.take((T, H, B), dtype)

    named = [x, w_ih, w_hh, b_ih, b_hh, h0, c0]
    parents, pick = _parents_and_grads(named)
    # K, Kc: the backward's factors (see _lstm_factors), made in the forward when a backward can follow
    with_factors = is_grad_enabled() and any(p.requires_grad for p in parents)
    K = _WORKSPACE.take(G.shape, dtype) if with_factors else None
    Kc = _WORKSPACE.take(tanh_c.shape, dtype) if with_factors else None
    # the compiled kernels (numba, optional) do a step's element-wise work in one pass
    fused = recurrent_kernels.lstm(dtype)
    ig = xp.empty((H, B), dtype=dtype)
    with loop_threads.loop(("lstm", W.shape, B, dtype.str, bool(fused)), T):  # BLAS threads: chainrule.ops.threads
        for t in walk.steps:
            p, q = walk.slots(t)
            a = G[t]
            xp.matmul(W, hx[p], out=a.reshape(4 * H, B))
            if fused:
                fused[0](a, cs[p], cs[q], tanh_c[t], hx[q, :H], *((K[t], Kc[t]) if with_factors else _NO_FACTORS),
                         with_factors)
            else:
                xp.tanh(a, out=a)  # g, and 2σ - 1 for o, i, f
                s = a[:3]
                s *= 0.5
                s += 0.5  # o, i, f = σ(A)
                c = cs[q]
                xp.multiply(a[2], cs[p], out=c)
                xp.multiply(a[1], a[3], out=ig)
                c += ig  # c' = f·c + i·g
                xp.tanh(c, out=tanh_c[t])
                xp.multiply(a[0], tanh_c[t], out=hx[q, :H])  # h' = o·tanh(c')
            n = walk.active[t]
            if n < B:  # finished (or not yet started) sequences carry their state through
                hx[q, :H, n:] = hx[p, :H, n:]
                cs[q, :, n:] = cs[p, :, n:]
    if with_factors:
        if not fused:
            _lstm_factors(G, tanh_c, walk.history_before(cs), K, Kc)
        if walk.mask is not None:
            K *= walk.mask.transpose(0, 2, 1)[:, None]  # (T, 1, 1, B): no gradient at padded steps

    output = walk.sequence_out(walk.history_after(hx)[:, :H].transpose(0, 2, 1), batch_first)
    h_n = walk.state_out(hx[walk.last, :H].T)
    c_n = walk.state_out(cs[walk.last].T)

    # Backward through time. With A = gate pre-activations, at each step (dh, dc: gradients
    # reaching h' and c' from the output and from step t+1):
    #   h' = o·tanh(c')      =>  do = dh·tanh(c'),            dc += dh·o·(1 - tanh²(c'))
    #   c' = f·c + i·g       =>  di = dc·g,  df = dc·c,  dg = dc·i,   dc_prev = dc·f
    #   i, f, o = σ(A)       =>  dA = d(gate)·σ(1-σ);     g = tanh(A)  =>  dA_g = dg·(1 - g²)
    #   A = W·[h; x; 1]      =>  dh_prev = W_hhᵀ·dA,  [dW_hh, dW_ih, db] = Σ_t dA·[h; x; 1]ᵀ,  dx = W_ihᵀ·dA
    # The factors that do not depend on dh, dc were made in the forward (K, Kc), so a step is
    #   dc += dh·Kc,   dA = [dh·K_o, dc·K_i, dc·K_f, dc·K_g],   dc_prev = dc·f,   dh_prev = W_hhᵀ·dA
    # (K is zero at padded steps, where the carried dh, dc are put back after the step).
    def backward(grads):
        g_out, g_h, g_c = grads
        gs, has_g = None, [False] * T
        if g_out is not None:  # gs[t]: (H, B), sorted like the batch
            # steps whose output gradient is all zero (e.g. all but the last, when only the
            # last step feeds the loss) skip their dh += gs[t]: one `any` per step, done once
            has_g = (g_out.any(axis=(0, 2)) if batch_first else g_out.any(axis=(1, 2))).tolist()
            gs = g_out.transpose(1, 2, 0) if batch_first else g_out.transpose(0, 2, 1)
            if walk.order is not None:
                gs = gs[:, :, walk.order]
            elif sum(has_g) > T // 4:  # one transposing copy beats many strided additions
                gs = xp.ascontiguousarray(gs)
        f = G[:, 2]

        # dA is kept (4H, T, B): step t writes the (4H, B) block dA[:, t], and the whole-sequence
        # products below read it as one (4H, T·B) matrix, without a transposing copy
        dA = _WORKSPACE.take((4 * H, T, B), dtype)
        dh = xp.ascontiguousarray(walk.state_buffer(g_h, B, H, dtype).T)
        dc = xp.ascontiguousarray(walk.state_buffer(g_c, B, H, dtype).T)
        tmp = xp.empty((H, B), dtype=dtype)
        w_t = xp.ascontiguousarray(w_hh.data[perm].T)  # (H, 4H), columns in the internal order
        with loop_threads.loop(("lstm backward", w_t.shape, B, dtype.str, bool(fused)), T):
            for t in reversed(walk.steps):
                n = walk.active[t]
                if n < B:
                    carried = dh[:, n:].copy(), dc[:, n:].copy()
                if has_g[t]:
                    dh += gs[t]
                if recorder is not None:
                    recorder(t, _norm(dh[:, :n]))
                d2 = dA[:, t]  # (4H, B), rows T·B apart
                if fused:
                    fused[1](dh, dc, K[t], Kc[t], f[t], dA, t)
                else:
                    d = d2.reshape(4, H, B)
                    xp.multiply(dh, Kc[t], out=tmp)
                    dc += tmp
                    xp.multiply(dh, K[t, 0], out=d[0])
                    xp.multiply(dc, K[t, 1:], out=d[1:])
                    dc *= f[t]
                xp.matmul(w_t, d2, out=dh)
                if n < B:
                    dh[:, n:], dc[:, n:] = carried

        gx = gw_ih = gw_hh = gb = None
        need_weights = w_ih.requires_grad or w_hh.requires_grad or b_ih is not None or b_hh is not None
        if x.requires_grad:
            w_ih_t = xp.ascontiguousarray(w_ih.data[perm].T)  # (I, 4H)
            gx = (w_ih_t @ dA.reshape(4 * H, T * B)).reshape(I, T, B)
            if batch_first and walk.order is None:
                gx = xp.ascontiguousarray(gx.transpose(2, 1, 0))  # (B, T, I)
            else:
                gx = walk.grad_sequence_out(xp.ascontiguousarray(gx.transpose(1, 2, 0)), batch_first)
        if need_weights:
            inputs = before.transpose(1, 0, 2).reshape(S, T * B)
            gW = (dA.reshape(4 * H, T * B) @ inputs.T)[inverse]  # (4H, S), PyTorch's row order
            gw_hh = xp.ascontiguousarray(gW[:, :H])
            gw_ih = xp.ascontiguousarray(gW[:, H:H + I])
            gb = gW[:, H + I].copy()
        _WORKSPACE.give(dA)
        return pick([gx, gw_ih, gw_hh, gb, gb, walk.rows_out(xp.ascontiguousarray(dh.T)),
                     walk.rows_out(xp.ascontiguousarray(dc.T))])

    _give_back_when_freed(backward, G, hx, cs, tanh_c, *([K, Kc] if with_factors else []))
    return _multi_result([output, h_n, c_n], parents, backward, "lstm")


# ---------------------------------------------------------------------------- LSTM with projection
def lstm_projected(x, w_ih, w_hh, b_ih, b_hh, w_hr, h0=None, c0=None, *, lengths=None, reverse=False,
                   batch_first=False, recorder=None):
    """One LSTM layer with a projected hidden state (PyTorch's ``proj_size``), one direction.

    The cell is ``lstm``'s, except that the hidden state is projected down to P = proj_size:
    m = o·tanh(c'),  h' = W_hr·m  (``w_hr`` (P, H)); so ``w_hh`` is (4H, P), h0 and the outputs
    have P features, c0 and c_n H. Returns ``(output, h_n, c_n)``. Batch-major, plain NumPy steps
    (the fused kernels of ``lstm`` assume h and c of one size).
    """
    x, w_ih, w_hh, w_hr = as_tensor(x), as_tensor(w_ih), as_tensor(w_hh), as_tensor(w_hr)
    if w_hr.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[0] != 4 * w_hr.shape[1] or w_hh.shape[1] != w_hr.shape[0]:
        raise ValueError(
            f"lstm_projected: expected w_hr (P, H) and w_hh (4·H, P), got w_hr {w_hr.shape} and w_hh {w_hh.shape}"
        )
    P, H = w_hr.shape
    # _check validates x, w_ih, the biases and c0 against a hidden size of H (w_hh stands in as (4H, H))
    x, w_ih, _, b_ih, b_hh, (c0,), (T, B, I, _) = _check(
        "lstm_projected", 4, x, w_ih, xp.empty((4 * H, H), dtype=x.dtype), b_ih, b_hh, [("c0", c0)], batch_first
    )
    if h0 is not None:
        h0 = as_tensor(h0)
        if h0.shape != (B, P):
            raise ValueError(f"lstm_projected: h0 must have shape (batch, proj_size) = ({B}, {P}), got {h0.shape}")
    dtype = x.dtype
    walk = _Walk("lstm_projected", lengths, T, B, reverse, dtype)
    xs = walk.sequence_in(x.data, batch_first)
    A = _input_projection(xs, w_ih, (b_ih, b_hh), None, _WORKSPACE.take((T, B, 4 * H), dtype)).reshape(T, B, 4, H)
    hs = _WORKSPACE.take((T + 1, B, P), dtype)
    cs = _WORKSPACE.take((T + 1, B, H), dtype)
    ms = walk.buffer((T, B, H), dtype)  # m = o·tanh(c'), zero at padded steps
    tanh_c = _WORKSPACE.take((T, B, H), dtype)
    hs[walk.first] = _initial_state(h0, B, P, dtype, walk)
    cs[walk.first] = _initial_state(c0, B, H, dtype, walk)
    w_hh_t, w_hr_t = w_hh.data.T, w_hr.data.T
    for t in walk.steps:
        n = walk.active[t]
        p, q = walk.slots(t)
        if n < B:  # finished (or not yet started) sequences carry their state through
            hs[q, n:], cs[q, n:] = hs[p, n:], cs[p, n:]
        a = A[t, :n]
        a += (hs[p, :n] @ w_hh_t).reshape(n, 4, H)
        a[:, [0, 1, 3]] = 0.5 * (1 + xp.tanh(0.5 * a[:, [0, 1, 3]]))  # i, f, o = σ(A) (tanh form: no overflow)
        a[:, 2] = xp.tanh(a[:, 2])  # g
        cs[q, :n] = a[:, 1] * cs[p, :n] + a[:, 0] * a[:, 2]  # c' = f·c + i·g
        tanh_c[t, :n] = xp.tanh(cs[q, :n])
        ms[t, :n] = a[:, 3] * tanh_c[t, :n]  # m = o·tanh(c')
        hs[q, :n] = ms[t, :n] @ w_hr_t  # h' = W_hr·m

    output = walk.sequence_out(walk.history_after(hs), batch_first)
    h_n = walk.state_out(hs[walk.last])
    c_n = walk.state_out(cs[walk.last])
    named = [x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0]
    parents, pick = _parents_and_grads(named)

    # Backward, per step (dh, dc: gradients reaching h', c'):
    #   h' = W_hr·m     =>  dm = W_hrᵀ·dh,  dW_hr = Σ_t dh·mᵀ
    #   m = o·tanh(c')  =>  do = dm·tanh(c'),  dc += dm·o·(1 - tanh²(c'))
    #   c' = f·c + i·g  =>  di = dc·g,  df = dc·c,  dg = dc·i,  dc_prev = dc·f
    #   dA = [di·i(1-i), df·f(1-f), dg·(1-g²), do·o(1-o)],  dh_prev = W_hhᵀ·dA
    # then dW_ih, dW_hh, the biases and dx are whole-sequence products of dA (_sequence_grads).
    def backward(grads):
        g_out, g_h, g_c = grads
        gs = walk.grad_sequence_in(g_out, batch_first)
        dA = walk.buffer((T, B, 4, H), dtype)
        dHs = walk.buffer((T, B, P), dtype)  # dh at each step, for dW_hr
        dh = walk.state_buffer(g_h, B, P, dtype)
        dc = walk.state_buffer(g_c, B, H, dtype)
        w_hh_data, w_hr_data = w_hh.data, w_hr.data
        for t in reversed(walk.steps):
            n = walk.active[t]
            p, q = walk.slots(t)
            dh_t, dc_t = dh[:n], dc[:n]
            if gs is not None:
                dh_t += gs[t, :n]
            if recorder is not None:
                recorder(t, _norm(dh_t))
            dHs[t, :n] = dh_t
            i, f, g, o = A[t, :n, 0], A[t, :n, 1], A[t, :n, 2], A[t, :n, 3]
            dm = dh_t @ w_hr_data
            dc_t += dm * o * (1 - tanh_c[t, :n] ** 2)
            d = dA[t, :n]
            d[:, 0] = dc_t * g * i * (1 - i)
            d[:, 1] = dc_t * cs[p, :n] * f * (1 - f)
            d[:, 2] = dc_t * i * (1 - g * g)
            d[:, 3] = dm * tanh_c[t, :n] * o * (1 - o)
            dc_t *= f
            dh[:n] = d.reshape(n, 4 * H) @ w_hh_data
        flat = dA.reshape(T * B, 4 * H)
        result_grads = _sequence_grads(walk, batch_first, x, w_ih, w_hh, b_ih, b_hh, xs, hs, flat, flat)
        gw_hr = dHs.reshape(T * B, P).T @ ms.reshape(T * B, H) if w_hr.requires_grad else None
        _WORKSPACE.give(dA, dHs)
        return pick(result_grads + [gw_hr, walk.rows_out(dh), walk.rows_out(dc)])

    _give_back_when_freed(backward, A, hs, cs, ms, tanh_c)
    return _multi_result([output, h_n, c_n], parents, backward, "lstm_projected")


# ---------------------------------------------------------------------------- GRU
def gru(x, w_ih, w_hh, b_ih=None, b_hh=None, h0=None, *, lengths=None, reverse=False, batch_first=False,
        recorder=None):
    """One GRU layer, one direction, over a whole sequence (PyTorch's equations and weight layout).

    r = σ(W_ir x + b_ir + W_hr h + b_hr)        z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r·(W_hn h + b_hn))  h' = (1 - z)·n + z·h

    Returns ``(output, h_n)``.
    """
    x, w_ih, w_hh, b_ih, b_hh, (h0,), (T, B, I, H) = _check(
        "gru", 3, x, w_ih, w_hh, b_ih, b_hh, [("h0", h0)], batch_first
    )
    dtype = x.dtype
    walk = _Walk("gru", lengths, T, B, reverse, dtype)
    pre = _gate_scale("ss", dtype)

    # G: input projections W_i·x + b_i (r, z parts scaled by -1, see _gate_scale); after each
    # step it holds that step's r, z, n.  HW: the recurrent projections W_h·h + b_h of every
    # step, r, z parts scaled likewise (the backward needs the unscaled n part W_hn h + b_hn).
    rows = _gate_rows(xp.concatenate([pre, xp.ones((1, 1), dtype=dtype)]), H)  # the n part stays unscaled
    xs = walk.sequence_in(x.data, batch_first)
    G = _input_projection(xs, w_ih, (b_ih,), rows, _WORKSPACE.take((T, B, 3, H), dtype))
    w_hh_scaled_t = xp.ascontiguousarray((w_hh.data * rows[:, None]).T)
    b_hh_scaled = None if b_hh is None else (b_hh.data * rows).reshape(3, H)

    hs = _WORKSPACE.take((T + 1, B, H), dtype)
    hs[walk.first] = _initial_state(h0, B, H, dtype, walk)
    HW = walk.buffer((T, B, 3, H), dtype)  # zeros at padded steps when masked
    rh = xp.empty((B, H), dtype=dtype)
    # the compiled kernels (numba, optional) do a step's element-wise work in one pass
    fused = recurrent_kernels.gru(dtype)
    if fused:
        b_hh_step = xp.zeros((3, H), dtype=dtype) if b_hh_scaled is None else xp.ascontiguousarray(b_hh_scaled)
    with numpy.errstate(over="ignore"), loop_threads.loop(("gru", w_hh.shape, B, dtype.str, bool(fused)), T):  # see _gate_scale
        for t in walk.steps:
            n = walk.active[t]
            p, q = walk.slots(t)
            if n < B:
                hs[q, n:] = hs[p, n:]
            hw = HW[t, :n]
            xp.matmul(hs[p, :n], w_hh_scaled_t, out=hw.reshape(n, 3 * H))
            if fused:
                fused[0](G[t, :n], hw, b_hh_step, hs[p, :n], hs[q, :n])
            else:
                if b_hh_scaled is not None:
                    hw += b_hh_scaled
                a = G[t, :n]
                rz = a[:, :2]
                rz += hw[:, :2]
                _sigmoid_(rz)  # r, z
                xp.multiply(a[:, 0], hw[:, 2], out=rh[:n])
                a[:, 2] += rh[:n]
                xp.tanh(a[:, 2], out=a[:, 2])  # n = tanh(W_in x + b_in + r·(W_hn h + b_hn))
                h = hs[q, :n]
                xp.subtract(hs[p, :n], a[:, 2], out=h)
                h *= a[:, 1]
                h += a[:, 2]  # h' = n + z·(h - n)

    output = walk.sequence_out(walk.history_after(hs), batch_first)
    h_n = walk.state_out(hs[walk.last])

    # Backward, with a_r, a_z, a_n the pre-activations and hn = W_hn h + b_hn:
    #   h' = (1-z)·n + z·h   =>  dz = dh·(h - n),  dn = dh·(1 - z),  dh_prev = dh·z + (through the gates)
    #   n = tanh(a_n)        =>  da_n = dn·(1 - n²);   a_n = x_n + r·hn  =>  dr = da_n·hn,  d(hn) = da_n·r
    #   r, z = σ(a)          =>  da_r = dr·r(1-r),  da_z = dz·z(1-z)
    #   dX = [da_r, da_z, da_n] (gradient of the input projections W_i x + b_i)
    #   dH = [da_r, da_z, da_n·r] (gradient of the recurrent projections W_h h + b_h);  dh_prev += dH·W_hh
    # Factors known before the walk:  da_r = dh·K_r,  da_z = dh·K_z,  da_n = dh·K_n  with
    #   K_n = (1-z)(1-n²),  K_r = K_n·hn·r(1-r),  K_z = (h - n)·z(1-z)
    named = [x, w_ih, w_hh, b_ih, b_hh, h0]
    parents, pick = _parents_and_grads(named)

    def backward(grads):
        g_out, g_h = grads
        gs = walk.grad_sequence_in(g_out, batch_first)
        r, z, nn = G[:, :, 0], G[:, :, 1], G[:, :, 2]
        hn = HW[:, :, 2]
        K = _WORKSPACE.take((T, B, 3, H), dtype)
        xp.subtract(1, G[:, :, :2], out=K[:, :, :2])
        K[:, :, :2] *= G[:, :, :2]  # r(1-r), z(1-z)
        xp.multiply(nn, nn, out=K[:, :, 2])
        xp.subtract(1, K[:, :, 2], out=K[:, :, 2])
        K[:, :, 2] *= xp.subtract(1, z)  # K_n
        K[:, :, 0] *= hn
        K[:, :, 0] *= K[:, :, 2]  # K_r
        K[:, :, 1] *= xp.subtract(walk.history_before(hs), nn)  # K_z

        dH = walk.buffer((T, B, 3, H), dtype)
        dXn = walk.buffer((T, B, H), dtype)
        dh = walk.state_buffer(g_h, B, H, dtype)
        tmp = xp.empty((B, H), dtype=dtype)
        w = w_hh.data
        with loop_threads.loop(("gru backward", w.shape, B, dtype.str, bool(fused)), T):
            for t in reversed(walk.steps):
                n = walk.active[t]
                dh_t = dh[:n]
                if gs is not None:
                    dh_t += gs[t, :n]
                if recorder is not None:
                    recorder(t, _norm(dh_t))
                d = dH[t, :n]
                if fused:
                    fused[1](dh_t, K[t, :n], G[t, :n], d, dXn[t, :n])
                else:
                    xp.multiply(dh_t[:, None, :], K[t, :n], out=d)  # [da_r, da_z, da_n]
                    dXn[t, :n] = d[:, 2]
                    d[:, 2] *= r[t, :n]  # d(hn) = da_n·r
                xp.matmul(d.reshape(n, 3 * H), w, out=tmp[:n])
                if fused:
                    fused[2](dh_t, G[t, :n], tmp[:n])
                else:
                    dh_t *= z[t, :n]
                    dh_t += tmp[:n]

        flat_h = dH.reshape(T * B, 3 * H)
        dX = _WORKSPACE.take(dH.shape, dtype)
        dX[...] = dH
        dX[:, :, 2] = dXn
        flat_x = dX.reshape(T * B, 3 * H)
        grads = _sequence_grads(walk, batch_first, x, w_ih, w_hh, b_ih, b_hh, xs, hs, flat_x, flat_h)
        _WORKSPACE.give(K, dH, dXn, dX)
        return pick(grads + [walk.rows_out(dh)])

    _give_back_when_freed(backward, G, hs, HW)
    return _multi_result([output, h_n], parents, backward, "gru")


# ---------------------------------------------------------------------------- Elman RNN
def rnn(x, w_ih, w_hh, b_ih=None, b_hh=None, h0=None, *, nonlinearity="tanh", lengths=None, reverse=False,
        batch_first=False, recorder=None):
    """One plain (Elman) RNN layer, one direction: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu.

    Returns ``(output, h_n)``.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    x, w_ih, w_hh, b_ih, b_hh, (h0,), (T, B, I, H) = _check(
        "rnn", 1, x, w_ih, w_hh, b_ih, b_hh, [("h0", h0)], batch_first
    )
    dtype = x.dtype
    walk = _Walk("rnn", lengths, T, B, reverse, dtype)
    xs = walk.sequence_in(x.data, batch_first)
    G = _input_projection(xs, w_ih, (b_ih, b_hh), None, _WORKSPACE.take((T, B, H), dtype))
    w_hh_t = xp.ascontiguousarray(w_hh.data.T)
    hs = _WORKSPACE.take((T + 1, B, H), dtype)
    hs[walk.first] = _initial_state(h0, B, H, dtype, walk)
    with loop_threads.loop(("rnn", w_hh_t.shape, B, dtype.str), T):
        for t in walk.steps:
            n = walk.active[t]
            p, q = walk.slots(t)
            if n < B:
                hs[q, n:] = hs[p, n:]
            h = hs[q, :n]
            xp.matmul(hs[p, :n], w_hh_t, out=h)
            h += G[t, :n]
            if nonlinearity == "tanh":
                xp.tanh(h, out=h)
            else:
                xp.maximum(h, 0, out=h)

    output = walk.sequence_out(walk.history_after(hs), batch_first)
    h_n = walk.state_out(hs[walk.last])

    # Backward: h' = act(A), A = xW_ihᵀ + hW_hhᵀ + b
    #   dA = dh·act'(A) with tanh' = 1 - h'², relu' = [h' > 0];   dh_prev = dA·W_hh
    #   dW_hh = Σ_t dAᵀh,  dW_ih = Σ_t dAᵀx,  dx = dA·W_ih,  db = Σ dA
    named = [x, w_ih, w_hh, b_ih, b_hh, h0]
    parents, pick = _parents_and_grads(named)

    def backward(grads):
        g_out, g_h = grads
        gs = walk.grad_sequence_in(g_out, batch_first)
        after = walk.history_after(hs)
        K = _WORKSPACE.take(after.shape, dtype)
        if nonlinearity == "tanh":
            xp.multiply(after, after, out=K)
            xp.subtract(1, K, out=K)
        else:
            xp.greater(after, 0, out=K)
        dA = walk.buffer((T, B, H), dtype)
        dh = walk.state_buffer(g_h, B, H, dtype)
        w = w_hh.data
        with loop_threads.loop(("rnn backward", w.shape, B, dtype.str), T):
            for t in reversed(walk.steps):
                n = walk.active[t]
                dh_t = dh[:n]
                if gs is not None:
                    dh_t += gs[t, :n]
                if recorder is not None:
                    recorder(t, _norm(dh_t))
                xp.multiply(dh_t, K[t, :n], out=dA[t, :n])
                xp.matmul(dA[t, :n], w, out=dh_t)

        flat = dA.reshape(T * B, H)
        grads = _sequence_grads(walk, batch_first, x, w_ih, w_hh, b_ih, b_hh, xs, hs, flat, flat)
        _WORKSPACE.give(K, dA)
        return pick(grads + [walk.rows_out(dh)])

    _give_back_when_freed(backward, G, hs)
    return _multi_result([output, h_n], parents, backward, "rnn")


# ---------------------------------------------------------------------------- last step
def last_step(output, lengths=None, batch_first=False):
    """The output at each sequence's last real step: ``(B, F)`` from ``(T, B, F)`` (or ``(B, T, F)``).

    Without ``lengths`` this is the final step. (For a bidirectional layer the reverse half of
    that vector is the reverse direction's output at that step, not its final state: use
    ``h_n`` for the final states of both directions.)
    """
    output = as_tensor(output)
    if output.ndim != 3:
        raise ValueError(f"last_step: output must have 3 axes, got shape {output.shape}")
    T, B = (output.shape[1], output.shape[0]) if batch_first else output.shape[:2]
    rows = xp.arange(B)
    steps = xp.full(B, T - 1) if lengths is None else xp.asarray(check_lengths("last_step", lengths, T, B) - 1)
    index = (rows, steps) if batch_first else (steps, rows)
    out = output.data[index]

    # out[b] = output[steps[b], b]: the gradient goes back to exactly those positions, zero elsewhere
    def backward(g):
        full = xp.zeros(output.shape, dtype=g.dtype)
        full[index] = g
        return (full,)

    return result(out, (output,), backward, "last_step")
