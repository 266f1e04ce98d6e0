"""chainrule/nn/utils/rnn.py against torch.nn.utils.rnn in float64: padding, packing, unpacking (values,
batch_sizes, indices, gradients) and RNN/LSTM/GRU on PackedSequence inputs of variable lengths."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import rnn as R

TOL = dict(rtol=1e-7, atol=1e-9)


def _seqs(rng, lengths, features=(2,)):
    return [rng.standard_normal((n,) + features) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, rng, batch_first, padding_side):
    arrays = _seqs(rng, [2, 4, 1])
    ours = [cr.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = R.pad_sequence(ours, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    ref = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy(), **TOL)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([4, 3, 3, 1], True), ([2, 4, 1, 4], False)])
def test_pack_and_pad_packed_match_torch(torch, rng, batch_first, lengths, enforce_sorted):
    shape = (4, 4, 3) if not batch_first else (4, 4, 3)
    x = rng.standard_normal(shape)
    xt, xr = cr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = R.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(xr, torch.tensor(lengths), batch_first, enforce_sorted)
    np.testing.assert_allclose(ours.data.numpy(), theirs.data.detach().numpy(), **TOL)
    np.testing.assert_array_equal(ours.batch_sizes, theirs.batch_sizes.numpy())
    for a, b in [(ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)]:
        assert (a is None and b is None) or np.array_equal(a, b.numpy())
    padded, out_lengths = R.pad_packed_sequence(ours, batch_first=batch_first, padding_value=0.5, total_length=5)
    ref, ref_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, 0.5, 5)
    np.testing.assert_allclose(padded.numpy(), ref.detach().numpy(), **TOL)
    np.testing.assert_array_equal(out_lengths, ref_lengths.numpy())
    g = rng.standard_normal(tuple(ref.shape))
    padded.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(np.asarray(xt.grad), xr.grad.numpy(), **TOL)


def test_pack_sequence_unpack_and_unpad_round_trip(torch, rng):
    arrays = _seqs(rng, [3, 1, 2])
    ours = R.pack_sequence([cr.Tensor(a) for a in arrays], enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_allclose(ours.data.numpy(), theirs.data.numpy(), **TOL)
    data, batch_sizes, sorted_indices, unsorted_indices = ours  # unpacks like torch's named tuple
    assert batch_sizes.tolist() == [3, 2, 1] and sorted_indices.tolist() == [0, 2, 1]
    for a, b in zip(R.unpack_sequence(ours), arrays):
        np.testing.assert_array_equal(a.numpy(), b)
    padded = R.pad_sequence([cr.Tensor(a) for a in arrays], batch_first=True)
    for a, b in zip(R.unpad_sequence(padded, [3, 1, 2], batch_first=True), arrays):
        np.testing.assert_array_equal(a.numpy(), b)


@pytest.mark.parametrize("call, match", [
    (lambda: R.pack_padded_sequence(np.zeros((3, 2, 1)), [1, 3]), "not sorted"),
    (lambda: R.pack_padded_sequence(np.zeros((3, 2, 1)), [4, 3]), "exceed"),
    (lambda: R.pack_padded_sequence(np.zeros((3, 2, 1)), [3, 0]), "at least 1"),
    (lambda: R.pack_padded_sequence(np.zeros((3, 2, 1)), [3]), "1 lengths for a batch of 2"),
    (lambda: R.pad_sequence([np.zeros((2, 3)), np.zeros((2, 4))]), "sequence 1"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")
@pytest.mark.parametrize("name, kwargs", [
    ("RNN", {}), ("LSTM", {}), ("GRU", {}), ("LSTM", {"proj_size": 2}),
    ("RNN", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 3}),
])
@pytest.mark.parametrize("with_state", [False, True])
def test_layers_on_packed_sequences_match_torch(torch, rng, name, kwargs, with_state):
    ours = getattr(nn, name)(3, 4, **kwargs, dtype="float64")
    theirs = getattr(torch.nn, name)(3, 4, **kwargs).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    lengths = [2, 5, 3]
    x = rng.standard_normal((5, 3, 3))
    xt, xr = cr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    packed = R.pack_padded_sequence(xt, lengths, enforce_sorted=False)
    ref_packed = torch.nn.utils.rnn.pack_padded_sequence(xr, torch.tensor(lengths), enforce_sorted=False)
    L = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h0 = rng.standard_normal((L, 3, 4)) if with_state else None
    if with_state and kwargs.get("proj_size"):
        args = [(h0[..., : kwargs["proj_size"]].copy(), h0[::-1].copy())]
    else:
        args = [] if h0 is None else [(h0, h0[::-1].copy()) if name == "LSTM" else h0]
    states = [tuple(cr.Tensor(s, requires_grad=True) for s in a) if isinstance(a, tuple) else cr.Tensor(a, requires_grad=True) for a in args]
    ref_states = [tuple(torch.tensor(s, requires_grad=True) for s in a) if isinstance(a, tuple) else torch.tensor(a, requires_grad=True) for a in args]
    out, final = ours(packed, *states)
    ref_out, ref_final = theirs(ref_packed, *ref_states)
    assert isinstance(out, R.PackedSequence)
    np.testing.assert_array_equal(out.batch_sizes, ref_out.batch_sizes.numpy())
    pairs = [(out.data, ref_out.data)] + list(zip(final if name == "LSTM" else [final], ref_final if name == "LSTM" else [ref_final]))
    loss, ref_loss = 0, 0
    for a, b in pairs:
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **TOL)
        g = rng.standard_normal(tuple(b.shape))
        loss = loss + (a * cr.Tensor(g)).sum()
        ref_loss = ref_loss + (b * torch.from_numpy(g)).sum()
    loss.backward()
    ref_loss.backward()
    np.testing.assert_allclose(np.asarray(xt.grad), xr.grad.numpy(), **TOL)
    for a, b in zip(states, ref_states):
        for s, r in zip(a if isinstance(a, tuple) else [a], b if isinstance(b, tuple) else [b]):
            np.testing.assert_allclose(np.asarray(s.grad), r.grad.numpy(), **TOL)
    for pname, p in theirs.named_parameters():
        np.testing.assert_allclose(np.asarray(getattr(ours, pname).grad), p.grad.numpy(), **TOL)
