"""chainrule/nn/embedding.py and chainrule/ops/embedding.py against torch.nn.Embedding in float64:
padding_idx, max_norm renormalisation in place, scale_grad_by_freq, from_pretrained, config round trip."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

TOL = dict(rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("kwargs", [
    {},
    {"padding_idx": 1},
    {"padding_idx": -1, "scale_grad_by_freq": True},
    {"max_norm": 1.0},
    {"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 0},
])
def test_embedding_matches_torch(torch, rng, kwargs):
    theirs = torch.nn.Embedding(6, 3, **kwargs).double()
    ours = nn.Embedding(6, 3, **kwargs, dtype="float64")
    assert repr(nn.Embedding(6, 3, **kwargs)) == repr(theirs)
    assert np.all(ours.weight.numpy()[ours.padding_idx] == 0) if ours.padding_idx is not None else True
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ids = np.array([[0, 2, 2], [5, 1, 2]])
    out, ref = ours(ids), theirs(torch.tensor(ids))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **TOL)  # renormalised alike
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(np.asarray(ours.weight.grad), theirs.weight.grad.numpy(), **TOL)
    assert repr(nn.build_module(ours.to_config())) == repr(ours)


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained_matches_torch(torch, rng, freeze):
    w = rng.standard_normal((4, 2))
    ours = nn.Embedding.from_pretrained(w, freeze=freeze, padding_idx=2)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=2)
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    np.testing.assert_array_equal(ours.weight.numpy(), w)  # a copy, padding row kept as given
    ours.weight.data[0] = 9
    assert w[0, 0] != 9
    assert ours.dtype == np.float64 and repr(ours).startswith(repr(theirs)[:-1])
    rebuilt = nn.build_module(ours.to_config())
    assert rebuilt.weight.requires_grad == (not freeze)


def test_embedding_errors():
    with pytest.raises(ValueError, match="max_norm"):
        nn.Embedding(3, 2, max_norm=-1.0)
    with pytest.raises(ValueError, match="must be 2-D"):
        nn.Embedding.from_pretrained(np.zeros(3))
    with pytest.raises(ValueError, match="out of range"):
        nn.Embedding(3, 2)(np.array([3]))
