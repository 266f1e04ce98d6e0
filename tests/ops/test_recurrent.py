"""Fused recurrent ops (chainrule/ops/recurrent.py): finite differences, PyTorch, masking, errors."""

import numpy as np
import pytest

from chainrule import Tensor, gradcheck, no_grad
from chainrule.ops.recurrent import gru, last_step, lstm, rnn

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _inputs(kind, T=4, B=3, I=2, H=3, seed=0, batch_first=False, dtype=np.float64, scale=0.6):
    rng = np.random.default_rng(seed)
    G = GATES[kind]
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    arrays = [
        x,
        rng.standard_normal((G * H, I)) * scale,
        rng.standard_normal((G * H, H)) * scale,
        rng.standard_normal(G * H) * 0.3,
        rng.standard_normal(G * H) * 0.3,
        rng.standard_normal((B, H)) * 0.5,
        rng.standard_normal((B, H)) * 0.5,
    ]
    if kind != "lstm":
        arrays = arrays[:6]
    return [a.astype(dtype) for a in arrays]


def _call(kind, tensors, **kw):
    if kind == "lstm":
        return lstm(*tensors, **kw)
    if kind == "gru":
        return gru(*tensors, **kw)
    return rnn(*tensors, nonlinearity=kind[4:], **kw)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [4, 2, 3]])
def test_gradcheck(kind, reverse, lengths):
    # relu: keep pre-activations away from the kink with a fixed seed checked to be safe
    arrays = _inputs(kind, seed=1)
    assert gradcheck(lambda *t: _call(kind, t, lengths=lengths, reverse=reverse), arrays)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gradcheck_batch_first_without_bias_and_state(kind):
    arrays = _inputs(kind, batch_first=True)
    x, w_ih, w_hh = arrays[:3]
    assert gradcheck(lambda x, a, b: _call(kind, (x, a, b), batch_first=True, lengths=[3, 4, 1]), [x, w_ih, w_hh])


def test_gradcheck_last_step():
    x = np.random.default_rng(0).standard_normal((5, 3, 2))
    assert gradcheck(lambda t: last_step(t, [5, 1, 3]), [x])
    assert gradcheck(lambda t: last_step(t, [2, 5, 3], batch_first=True), [x.transpose(1, 0, 2).copy()])
    out = last_step(Tensor(x), [5, 1, 3])
    np.testing.assert_array_equal(out.data, np.stack([x[4, 0], x[0, 1], x[2, 2]]))


def test_only_final_state_used():
    """Gradient that reaches the op only through h_n (not the outputs) flows back."""
    arrays = _inputs("lstm")
    assert gradcheck(lambda *t: lstm(*t)[1], arrays)
    assert gradcheck(lambda *t: lstm(*t, lengths=[1, 4, 2])[2], arrays)


# ---------------------------------------------------------------------------- PyTorch
def _torch_module(torch, kind, I, H, reverse):
    if kind == "lstm":
        return torch.nn.LSTM(I, H, bidirectional=reverse)
    if kind == "gru":
        return torch.nn.GRU(I, H, bidirectional=reverse)
    return torch.nn.RNN(I, H, nonlinearity=kind[4:], bidirectional=reverse)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [6, 2, 5, 1, 6]])
def test_matches_torch(kind, reverse, lengths):
    """Forward and backward agree with torch.nn.{LSTM,GRU,RNN} (with packed sequences for lengths)."""
    torch = pytest.importorskip("torch")
    T, B, I, H = 6, 5, 4, 7
    arrays = _inputs(kind, T, B, I, H, seed=3, dtype=np.float32)
    rng = np.random.default_rng(4)
    g_out = rng.standard_normal((T, B, H)).astype(np.float32)
    g_states = [rng.standard_normal((B, H)).astype(np.float32) for _ in arrays[5:]]

    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    outs = _call(kind, ours, lengths=lengths, reverse=reverse)
    loss = (outs[0] * Tensor(g_out)).sum()
    for o, g in zip(outs[1:], g_states):
        loss = loss + (o * Tensor(g)).sum()
    loss.backward()

    module = _torch_module(torch, kind, I, H, reverse)
    suffix = "_reverse" if reverse else ""
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with torch.no_grad():
        for name, a in zip(names, arrays[1:5]):
            getattr(module, name + suffix).copy_(torch.from_numpy(a))
    x = torch.tensor(arrays[0], requires_grad=True)
    states = [torch.tensor(a, requires_grad=True) for a in arrays[5:]]
    D = 2 if reverse else 1
    full = [torch.zeros(D, B, H).index_copy(0, torch.tensor([D - 1]), s[None]) for s in states]
    inp = x
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    out, final = module(inp, tuple(full) if kind == "lstm" else full[0])
    if lengths is not None:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    final = final if kind == "lstm" else (final,)
    out = out[..., (D - 1) * H:]
    t_loss = (out * torch.from_numpy(g_out)).sum()
    for f, g in zip(final, g_states):
        t_loss = t_loss + (f[D - 1] * torch.from_numpy(g)).sum()
    t_loss.backward()

    tol = dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outs[0].data, out.detach().numpy(), **tol)
    for o, f in zip(outs[1:], final):
        np.testing.assert_allclose(o.data, f[D - 1].detach().numpy(), **tol)
    np.testing.assert_allclose(ours[0].grad, x.grad.numpy(), **tol)
    for t, name in zip(ours[1:5], names):
        np.testing.assert_allclose(t.grad, getattr(module, name + suffix).grad.numpy(), **tol, err_msg=name)
    for t, s in zip(ours[5:], states):
        np.testing.assert_allclose(t.grad, s.grad.numpy(), **tol)


# ---------------------------------------------------------------------------- masking semantics
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("reverse", [False, True])
def test_padding_is_invisible(kind, reverse):
    """A padded sequence gives the same outputs, states and gradients as the same sequence alone,
    whatever the padding holds; padded outputs are zero and padded inputs get no gradient."""
    T, B = 6, 3
    arrays = _inputs(kind, T=T, B=B, seed=5)
    lengths = [6, 3, 4]
    garbage = arrays[0].copy()
    garbage[3:, 1] = 1e3
    garbage[4:, 2] = -7.0
    ours = [Tensor(garbage, requires_grad=True)] + [Tensor(a, requires_grad=True) for a in arrays[1:]]
    outs = _call(kind, ours, lengths=lengths, reverse=reverse)
    (outs[0].sum() + outs[1].sum()).backward()
    assert np.all(outs[0].data[3:, 1] == 0) and np.all(outs[0].data[4:, 2] == 0)
    assert np.all(ours[0].grad[3:, 1] == 0) and np.all(ours[0].grad[4:, 2] == 0)
    for b, L in enumerate(lengths):
        alone = (
            [Tensor(arrays[0][:L, b:b + 1].copy(), requires_grad=True)]
            + [Tensor(a, requires_grad=True) for a in arrays[1:5]]
            + [Tensor(a[b:b + 1], requires_grad=True) for a in arrays[5:]]
        )
        single = _call(kind, alone, reverse=reverse)
        (single[0].sum() + single[1].sum()).backward()
        np.testing.assert_allclose(outs[0].data[:L, b], single[0].data[:, 0], atol=1e-12)
        np.testing.assert_allclose(outs[1].data[b], single[1].data[0], atol=1e-12)
        np.testing.assert_allclose(ours[0].grad[:L, b], alone[0].grad[:, 0], atol=1e-12)
        np.testing.assert_allclose(ours[5].grad[b], alone[5].grad[0], atol=1e-12)


def test_full_lengths_equal_no_lengths():
    arrays = _inputs("lstm", seed=6)
    a = lstm(*arrays, lengths=np.array([4, 4, 4]))
    b = lstm(*arrays)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.data, v.data)


def test_batch_first_matches_time_major():
    arrays = _inputs("gru", seed=7)
    time_major = gru(*arrays, lengths=[2, 4, 3])
    bf = [arrays[0].transpose(1, 0, 2).copy()] + arrays[1:]
    batch_first = gru(*bf, lengths=[2, 4, 3], batch_first=True)
    np.testing.assert_allclose(batch_first[0].data, time_major[0].data.transpose(1, 0, 2))
    np.testing.assert_allclose(batch_first[1].data, time_major[1].data)


# ---------------------------------------------------------------------------- dtypes, modes, recorder
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_float32_stays_float32(kind):
    tensors = [Tensor(a, requires_grad=True) for a in _inputs(kind, dtype=np.float32)]
    outs = _call(kind, tensors, lengths=[4, 1, 2])
    assert all(o.dtype == np.float32 for o in outs)
    sum(o.sum() for o in outs).backward()
    assert all(t.grad.dtype == np.float32 for t in tensors)


def test_no_grad_records_nothing():
    tensors = [Tensor(a, requires_grad=True) for a in _inputs("lstm")]
    with no_grad():
        outs = lstm(*tensors)
    assert not any(o.requires_grad for o in outs)


def test_recorder_sees_every_step_in_reverse_order():
    seen = []
    tensors = [Tensor(a, requires_grad=True) for a in _inputs("rnn_tanh", T=5)]
    out, h = rnn(*tensors, recorder=lambda t, norm: seen.append((t, norm)))
    last_step(out).sum().backward()
    assert [t for t, _ in seen] == [4, 3, 2, 1, 0]
    assert seen[0][1] == pytest.approx(np.sqrt(3 * 3))  # d(sum)/dh_T is all ones, B=3, H=3


def test_retain_graph_gives_same_gradients_twice():
    tensors = [Tensor(a, requires_grad=True) for a in _inputs("gru")]
    out, h = gru(*tensors, lengths=[1, 4, 2])
    loss = out.sum() + (h * h).sum()
    loss.backward(retain_graph=True)
    first = [t.grad.clone() for t in tensors]
    loss.backward()
    for t, g in zip(tensors, first):
        np.testing.assert_allclose(t.grad, 2 * g)


# ---------------------------------------------------------------------------- bad input
def test_errors_name_the_problem():
    x, w_ih, w_hh, b_ih, b_hh, h0, c0 = _inputs("lstm")
    with pytest.raises(ValueError, match=r"lstm: lengths must hold one length per sequence in the batch \(3\), got 2"):
        lstm(x, w_ih, w_hh, lengths=[1, 2])
    with pytest.raises(ValueError, match=r"lengths must be between 1 and the number of time steps \(4\); got \[7\]"):
        lstm(x, w_ih, w_hh, lengths=[1, 7, 2])
    with pytest.raises(ValueError, match=r"got \[0\]"):
        gru(x, *_inputs("gru")[1:3], lengths=[1, 0, 2])
    with pytest.raises(TypeError, match="lengths must be integers"):
        lstm(x, w_ih, w_hh, lengths=[1.5, 2, 2])
    with pytest.raises(ValueError, match=r"lstm: input must have 3 axes"):
        lstm(x[0], w_ih, w_hh)
    with pytest.raises(ValueError, match=r"w_ih must have shape \(4·H, I\) = \(12, 5\)"):
        lstm(np.zeros((4, 3, 5)), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"h0 must have shape \(batch, hidden\) = \(3, 3\), got \(2, 3\)"):
        lstm(x, w_ih, w_hh, h0=h0[:2])
    with pytest.raises(TypeError, match="w_hh has dtype float32 but the input has dtype float64"):
        lstm(x, w_ih, w_hh.astype(np.float32))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        rnn(x, *_inputs("rnn_tanh")[1:3], nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"last_step: lengths must hold one length per sequence in the batch \(3\)"):
        last_step(Tensor(x), [1, 2, 3, 4])


# ---------------------------------------------------------------------------- workspace reuse
def test_outputs_never_alias_reused_buffers():
    """Big per-step arrays are pooled between calls; outputs must be independent of that pool."""
    a = _inputs("lstm", seed=8, dtype=np.float32)
    b = _inputs("lstm", seed=9, dtype=np.float32)
    with no_grad():
        first = [o.data.copy() for o in lstm(*a)]
        kept = lstm(*a)
        lstm(*b)  # reuses the buffers the previous call gave back
    for o, expected in zip(kept, first):
        np.testing.assert_array_equal(o.data, expected)


def test_interleaved_graphs_keep_their_saved_arrays():
    """A graph that is still alive keeps its saved arrays even while other calls run and finish."""
    a = [Tensor(v, requires_grad=True) for v in _inputs("gru", seed=10)]
    reference = [Tensor(v, requires_grad=True) for v in _inputs("gru", seed=10)]
    out, _ = gru(*a, lengths=[4, 2, 3])
    for seed in (11, 12):  # other forward + backward passes in between
        other = [Tensor(v, requires_grad=True) for v in _inputs("gru", seed=seed)]
        gru(*other, lengths=[1, 4, 4])[0].sum().backward()
    out.sum().backward()
    gru(*reference, lengths=[4, 2, 3])[0].sum().backward()
    for t, r in zip(a, reference):
        np.testing.assert_array_equal(t.grad, r.grad)


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_saturated_gates_and_weight_only_gradients_match_torch(batch_first):
    """Large weights drive every gate into saturation (exp overflows inside the sigmoid): the outputs
    stay finite and, like the weight gradients (x a constant, no biases: the training case), match
    torch. Each gate gets its own scale, so mixing up the internal gate order would show."""
    torch = pytest.importorskip("torch")
    T, B, I, H = 5, 4, 3, 6
    rng = np.random.default_rng(11)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    gate_scale = np.repeat([30.0, 0.5, 20.0, 2.0], H)[:, None]  # i, f, g, o
    w_ih = (rng.standard_normal((4 * H, I)) * gate_scale).astype(np.float32)
    w_hh = (rng.standard_normal((4 * H, H)) * gate_scale).astype(np.float32)
    g_out = rng.standard_normal((B, T, H) if batch_first else (T, B, H)).astype(np.float32)

    ours = [Tensor(w_ih.copy(), requires_grad=True), Tensor(w_hh.copy(), requires_grad=True)]
    out, _, c_n = lstm(Tensor(x), *ours, batch_first=batch_first)
    (out * Tensor(g_out)).sum().backward()

    module = torch.nn.LSTM(I, H, bias=False, batch_first=batch_first)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(w_ih))
        module.weight_hh_l0.copy_(torch.from_numpy(w_hh))
    t_out, (_, t_c) = module(torch.from_numpy(x))
    (t_out * torch.from_numpy(g_out)).sum().backward()

    assert np.isfinite(out.data).all() and np.isfinite(ours[1].grad).all()
    tol = {"rtol": 1e-4, "atol": 1e-4}
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), **tol)
    np.testing.assert_allclose(c_n.data, t_c[0].detach().numpy(), **tol)
    np.testing.assert_allclose(ours[0].grad, module.weight_ih_l0.grad.numpy(), **tol)
    np.testing.assert_allclose(ours[1].grad, module.weight_hh_l0.grad.numpy(), **tol)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [None, [4, 2, 3]])
@pytest.mark.parametrize("live_steps", [(3,), (0, 2), ()])
def test_lstm_output_gradient_zero_at_some_steps(batch_first, lengths, live_steps):
    """The output gradient reaches only some steps (as when only the last step feeds the loss; none:
    only the final states do): the steps without one must still pass dh, dc back correctly."""
    T = 4
    arrays = _inputs("lstm", T=T, batch_first=batch_first)
    rng = np.random.default_rng(5)
    weight = np.zeros((T, 3, 3))
    for t in live_steps:
        weight[t] = rng.standard_normal((3, 3))  # non-uniform upstream gradient at the live steps
    if batch_first:
        weight = weight.transpose(1, 0, 2).copy()
    w_h, w_c = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def loss(*t):
        out, h_n, c_n = lstm(*t, lengths=lengths, batch_first=batch_first)
        return (out * Tensor(weight)).sum() + (h_n * Tensor(w_h)).sum() + (c_n * Tensor(w_c)).sum()

    assert gradcheck(loss, arrays)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [4, 2, 3]])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_projected_gradcheck(reverse, lengths, batch_first):
    from chainrule.ops.recurrent import lstm_projected

    rng = np.random.default_rng(2)
    T, B, I, H, P = 4, 3, 2, 3, 2
    arrays = [
        rng.standard_normal((B, T, I) if batch_first else (T, B, I)), rng.standard_normal((4 * H, I)) * 0.6,
        rng.standard_normal((4 * H, P)) * 0.6, rng.standard_normal(4 * H) * 0.3, rng.standard_normal(4 * H) * 0.3,
        rng.standard_normal((P, H)) * 0.6, rng.standard_normal((B, P)) * 0.5, rng.standard_normal((B, H)) * 0.5,
    ]
    assert gradcheck(
        lambda *t: lstm_projected(*t, lengths=lengths, reverse=reverse, batch_first=batch_first), arrays
    )


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")
def test_lstm_projected_float32_against_torch(compare_torch, torch):
    from chainrule.ops.recurrent import lstm_projected

    rng = np.random.default_rng(3)
    x, w_ih, w_hh = rng.standard_normal((5, 2, 3)), rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    b_ih, b_hh, w_hr = rng.standard_normal(16), rng.standard_normal(16), rng.standard_normal((2, 4))
    h0, c0 = rng.standard_normal((2, 2)), rng.standard_normal((2, 4))

    def theirs(x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0):
        weights = [w_ih, w_hh, b_ih, b_hh, w_hr]
        out, h, c = torch._VF.lstm(x, (h0[None], c0[None]), weights, True, 1, 0.0, False, False, False)
        return out, h[0], c[0]

    compare_torch(lambda *t: lstm_projected(*t), theirs, x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0, rtol=1e-4, atol=1e-4)
