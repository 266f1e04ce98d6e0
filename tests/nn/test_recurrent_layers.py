"""Recurrent and embedding layers (chainrule/nn/recurrent.py, chainrule/nn/embedding.py)."""

import json

import numpy as np
import pytest

from chainrule import Tensor, gradcheck
from chainrule.nn import GRU, LSTM, RNN, Embedding, build_module, last_step

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


def _layer(kind, *args, **kwargs):
    return LAYERS[kind](*args, **kwargs)


def _states(kind, hx):
    return hx if kind == "lstm" else (hx,)


def _gradcheck_layer(layer, x, hx=None, lengths=None):
    """gradcheck over the input, the initial states and every parameter of ``layer`` (float64)."""
    names = [name for name, _ in layer.named_parameters()]
    params = [p.data for _, p in layer.named_parameters()]
    n_states = 0 if hx is None else len(hx)

    def fn(x, *rest):
        states, params = rest[:n_states], rest[n_states:]
        for name, p in zip(names, params):
            object.__setattr__(layer, name, p)  # run forward with gradcheck's perturbed copies
        h = None if hx is None else (tuple(states) if len(states) == 2 else states[0])
        out, final = layer(x, h, lengths=lengths)
        return (out,) + (tuple(final) if isinstance(final, tuple) else (final,))

    return gradcheck(fn, [x] + list(hx or []) + params)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("lengths", [None, [3, 1, 2]])
def test_gradcheck_two_layers_bidirectional(kind, lengths):
    layer = _layer(kind, 2, 2, num_layers=2, bidirectional=True, seed=0, dtype="float64")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 3, 2))
    hx = [rng.standard_normal((4, 3, 2)) * 0.5 for _ in range(2 if kind == "lstm" else 1)]
    assert _gradcheck_layer(layer, x, hx, lengths)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gradcheck_batch_first_no_bias(kind):
    layer = _layer(kind, 2, 3, bias=False, batch_first=True, seed=2, dtype="float64")
    x = np.random.default_rng(3).standard_normal((2, 4, 2))
    assert _gradcheck_layer(layer, x, lengths=[2, 4])


def _to_torch(torch, kind, layer, **kw):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    module = cls(layer.input_size, layer.hidden_size, **kw)
    module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()})
    return module


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("lengths", [None, [5, 2, 4, 1]])
def test_matches_torch_two_layers_bidirectional(kind, lengths):
    torch = pytest.importorskip("torch")
    kw = dict(num_layers=2, bidirectional=True, batch_first=True)
    layer = _layer(kind, 3, 6, seed=4, **kw)
    module = _to_torch(torch, kind, layer, **kw)
    B, T = 4, 5
    rng = np.random.default_rng(5)
    x = rng.standard_normal((B, T, 3)).astype(np.float32)
    hx = [rng.standard_normal((4, B, 6)).astype(np.float32) for _ in range(2 if kind == "lstm" else 1)]
    g_out = rng.standard_normal((B, T, 12)).astype(np.float32)
    g_h = rng.standard_normal((4, B, 6)).astype(np.float32)

    xs = Tensor(x, requires_grad=True)
    hs = [Tensor(h, requires_grad=True) for h in hx]
    out, final = layer(xs, tuple(hs) if kind == "lstm" else hs[0], lengths=lengths)
    h_n = final[0] if kind == "lstm" else final
    ((out * Tensor(g_out)).sum() + (h_n * Tensor(g_h)).sum()).backward()

    xt = torch.tensor(x, requires_grad=True)
    ht = [torch.tensor(h, requires_grad=True) for h in hx]
    inp = xt
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out_t, final_t = module(inp, tuple(ht) if kind == "lstm" else ht[0])
    if lengths is not None:
        out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=True, total_length=T)
    h_t = final_t[0] if kind == "lstm" else final_t
    ((out_t * torch.from_numpy(g_out)).sum() + (h_t * torch.from_numpy(g_h)).sum()).backward()

    tol = dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    np.testing.assert_allclose(h_n.data, h_t.detach().numpy(), **tol)
    if kind == "lstm":
        np.testing.assert_allclose(final[1].data, final_t[1].detach().numpy(), **tol)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), **tol)
    for ours, theirs in zip(hs, ht):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **tol)
    torch_params = dict(module.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, torch_params[name].grad.numpy(), **tol, err_msg=name)


def test_weights_copy_from_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.GRU(4, 3, num_layers=2)
    layer = GRU(4, 3, num_layers=2)
    layer.load_state_dict({k: v.detach().numpy() for k, v in module.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(layer(x)[0].data, module(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-4, atol=1e-6)


def test_last_step_helper_with_lengths():
    layer = LSTM(2, 3, batch_first=True, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    out, (h_n, _) = layer(x, lengths=[5, 2, 3])
    np.testing.assert_allclose(last_step(out, [5, 2, 3], batch_first=True).data, h_n.data[0], rtol=1e-6)


# ---------------------------------------------------------------------------- config, init, modes
def test_config_round_trip_and_reset():
    layer = RNN(3, 4, num_layers=2, nonlinearity="relu", dropout=0.25, bidirectional=True, seed=7)
    spec = json.loads(json.dumps(layer.to_config()))
    rebuilt = build_module(spec)
    assert isinstance(rebuilt, RNN) and rebuilt.get_config() == layer.get_config()
    for (n1, p1), (n2, p2) in zip(layer.named_parameters(), rebuilt.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)  # same seed, same weights
    bound = 1 / np.sqrt(4)
    assert all(np.abs(p.data).max() <= bound for p in layer.parameters())
    before = layer.weight_hh_l1_reverse.data.copy()
    layer.reset_parameters(seed=123)
    assert not np.array_equal(before, layer.weight_hh_l1_reverse.data)
    assert layer.weight_ih_l1.shape == (4, 8) and layer.weight_ih_l0_reverse.shape == (4, 3)


def test_dropout_between_layers_only_in_training():
    layer = LSTM(2, 4, num_layers=2, dropout=0.5, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 2, 2)).astype(np.float32)
    layer.eval()
    a, b = layer(x)[0].data, layer(x)[0].data
    np.testing.assert_array_equal(a, b)
    layer.train()
    c = layer(x)[0].data
    assert not np.allclose(a, c)


def test_gradient_recorder_names_layers_and_steps():
    layer = GRU(2, 3, num_layers=2, bidirectional=True, seed=0)
    seen = []
    layer.gradient_recorder = lambda name, t, norm: seen.append((name, t))
    out, h = layer(np.ones((4, 1, 2), np.float32))
    out.sum().backward()
    names = {name for name, _ in seen}
    assert names == {"l0", "l0_reverse", "l1", "l1_reverse"}
    assert sorted(t for name, t in seen if name == "l1") == [0, 1, 2, 3]


def test_layer_errors():
    layer = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: expected input of shape \(time, batch, features\) with 3 features, got \(5, 2, 4\)"):
        layer(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(num_layers·directions, batch, hidden\) = \(2, 2, 4\), got \(1, 2, 4\)"):
        layer(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match=r"LSTM: lengths must hold one length per sequence in the batch \(2\), got 3"):
        layer(np.zeros((5, 2, 3)), lengths=[1, 2, 3])
    with pytest.raises(ValueError, match=r"LSTM: lengths must be between 1 and the number of time steps \(5\); got \[9\]"):
        layer(np.zeros((5, 2, 3)), lengths=[9, 2])
    with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
        GRU(3, 0)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        RNN(3, 2, nonlinearity="gelu")


# ---------------------------------------------------------------------------- Embedding
def test_embedding_layer_padding_and_gradient():
    layer = Embedding(6, 3, padding_idx=0, seed=0)
    assert np.all(layer.weight.data[0] == 0) and layer.weight.dtype == np.float32
    ids = np.array([[4, 2, 0, 0], [1, 4, 4, 0]])
    out = layer(ids)
    assert out.shape == (2, 4, 3)
    (out * Tensor(np.arange(24, dtype=np.float32).reshape(2, 4, 3))).sum().backward()
    grad = np.asarray(layer.weight.grad)
    assert np.all(grad[0] == 0) and np.all(grad[[3, 5]] == 0)
    np.testing.assert_allclose(layer.weight.grad[4], [0 + 15 + 18, 1 + 16 + 19, 2 + 17 + 20])
    rebuilt = build_module(json.loads(json.dumps(layer.to_config())))
    np.testing.assert_array_equal(rebuilt.weight.data, layer.weight.data)


def test_embedding_layer_errors():
    layer = Embedding(5, 2)
    with pytest.raises(ValueError, match=r"token id 5 .* vocabulary of 5 embeddings"):
        layer(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="padding_idx must be an id in"):
        Embedding(5, 2, padding_idx=7)
