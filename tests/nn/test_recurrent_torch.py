"""chainrule/nn/recurrent.py against torch.nn in float64: RNN/LSTM/GRU with num_layers, bidirectional,
batch_first, h0/c0, unbatched input; RNNCell/LSTMCell/GRUCell (forward, input, state and parameter
gradients under a non-uniform upstream gradient)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

TOL = dict(rtol=1e-7, atol=1e-9)


def _pair(torch, name, *args, **kwargs):
    ours = getattr(nn, name)(*args, **kwargs, dtype="float64", seed=0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(outputs):
    if isinstance(outputs, (tuple, list)):
        return [leaf for item in outputs for leaf in _flat(item)]
    return [outputs]


def _check(torch, ours, theirs, inputs, rng):
    """Run both on the same arrays (None stays None, tuples nest), backpropagate one random upstream
    gradient per output, compare outputs, every input's and every parameter's gradient."""
    mine = [None if a is None else tuple(cr.Tensor(b, requires_grad=True) for b in a) if isinstance(a, tuple)
            else cr.Tensor(a, requires_grad=True) for a in inputs]
    ref = [None if a is None else tuple(torch.tensor(b, requires_grad=True) for b in a) if isinstance(a, tuple)
           else torch.tensor(a, requires_grad=True) for a in inputs]
    out, expected = _flat(ours(*mine)), _flat(theirs(*ref))
    assert len(out) == len(expected)
    total_ours, total_theirs = 0, 0
    for o, e in zip(out, expected):
        np.testing.assert_allclose(o.numpy(), e.detach().numpy(), **TOL)
        g = rng.standard_normal(tuple(e.shape))
        total_ours = total_ours + (o * cr.Tensor(g)).sum()
        total_theirs = total_theirs + (e * torch.from_numpy(g)).sum()
    total_ours.backward()
    total_theirs.backward()
    for m, r in zip(_flat(mine), _flat(ref)):
        if m is not None:
            np.testing.assert_allclose(np.asarray(m.grad), r.grad.numpy(), **TOL)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(np.asarray(getattr(ours, name).grad), p.grad.numpy(), **TOL)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_layers": 2, "bidirectional": True},
        {"num_layers": 2, "batch_first": True, "bias": False},
    ],
)
@pytest.mark.parametrize("with_state", [False, True])
def test_layers_match_torch(torch, rng, name, kwargs, with_state):
    ours, theirs = _pair(torch, name, 3, 4, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3))
    D = 2 if kwargs.get("bidirectional") else 1
    h0 = rng.standard_normal((kwargs.get("num_layers", 1) * D, 2, 4)) if with_state else None
    hx = (h0, rng.standard_normal(h0.shape)) if with_state and name == "LSTM" else h0
    _check(torch, ours, theirs, [x, hx], rng)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(torch, rng, name):
    ours, theirs = _pair(torch, name, 3, 4, num_layers=2)
    h0 = rng.standard_normal((2, 4))
    hx = (h0, rng.standard_normal((2, 4))) if name == "LSTM" else h0
    _check(torch, ours, theirs, [rng.standard_normal((5, 3)), hx], rng)


def test_rnn_relu_and_dropout_between_layers(torch, rng):
    ours, theirs = _pair(torch, "RNN", 3, 4, nonlinearity="relu")
    _check(torch, ours, theirs, [rng.standard_normal((4, 2, 3))], rng)
    layer = nn.LSTM(3, 4, num_layers=2, dropout=0.5, seed=0, dtype="float64")  # (float64: no kernel compile)
    x = rng.standard_normal((4, 2, 3))
    out1, out2 = layer(x)[0].numpy(), layer(x)[0].numpy()
    assert not np.allclose(out1, out2)  # dropout between the layers in training mode
    layer.eval()
    np.testing.assert_array_equal(layer(x)[0].numpy(), layer(x)[0].numpy())


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
def test_cells_match_torch(torch, rng, name, batched, with_state):
    kwargs = {"nonlinearity": "relu"} if name == "RNNCell" and batched else {}
    ours, theirs = _pair(torch, name, 3, 4, **kwargs)
    assert repr(getattr(nn, name)(3, 4, **kwargs)) == repr(theirs)
    assert list(ours.state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] == list(theirs.state_dict())
    lead = (2,) if batched else ()
    h = rng.standard_normal(lead + (4,)) if with_state else None
    hx = (h, rng.standard_normal(lead + (4,))) if with_state and name == "LSTMCell" else h
    _check(torch, ours, theirs, [rng.standard_normal(lead + (3,)), hx], rng)
    assert repr(nn.build_module(ours.to_config())) == repr(ours)


def test_cell_without_bias(torch, rng):
    ours, theirs = _pair(torch, "GRUCell", 3, 4, bias=False)
    assert repr(nn.GRUCell(3, 4, bias=False)) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    _check(torch, ours, theirs, [rng.standard_normal((2, 3)), None], rng)


@pytest.mark.parametrize("make, args, match", [
    (lambda: nn.LSTMCell(3, 4), (np.zeros((2, 5)),), "expected input"),
    (lambda: nn.GRUCell(3, 4), (np.zeros((2, 3)), np.zeros((3, 4))), "hx must have shape"),
    (lambda: nn.LSTMCell(3, 4), (np.zeros((2, 3)), (np.zeros((2, 4)),) * 3), "pair"),
    (lambda: nn.GRU(3, 4), (np.zeros((5, 2, 3)), np.zeros((1, 3, 4))), "h0 must have shape"),
])
def test_bad_inputs(make, args, match):
    with pytest.raises(ValueError, match=match):
        make()(*args)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True}])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_proj_size_matches_torch(torch, rng, kwargs, with_state):
    ours, theirs = _pair(torch, "LSTM", 3, 4, proj_size=2, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(nn.LSTM(3, 4, proj_size=2, **kwargs)) == repr(theirs)
    x = rng.standard_normal((2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3))
    L = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx = (rng.standard_normal((L, 2, 2)), rng.standard_normal((L, 2, 4))) if with_state else None
    _check(torch, ours, theirs, [x, hx], rng)
    assert repr(nn.build_module(ours.to_config())) == repr(ours)
