"""Module hooks (chainrule/nn/module.py, chainrule/nn/hooks.py): forward pre-/post-hooks with kwargs and
prepend, full backward (pre-)hooks against torch in float64, handles' remove()."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

TOL = dict(rtol=1e-7, atol=1e-9)


def _pair(torch, name, *args):
    ours = getattr(nn, name)(*args, dtype="float64")
    theirs = getattr(torch.nn, name)(*args).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("name, args, shapes, grad_x", [
    ("Linear", (3, 2), [(4, 3)], [True]),
    ("Bilinear", (3, 2, 4), [(5, 3), (5, 2)], [True, False]),
    ("Tanh", (), [(2, 3)], [True]),
    ("Linear", (3, 2), [(4, 3)], [False]),
])
def test_full_backward_hook_matches_torch(torch, rng, name, args, shapes, grad_x):
    if name == "Tanh":
        ours, theirs = nn.Tanh(), torch.nn.Tanh()
    else:
        ours, theirs = _pair(torch, name, *args)
    seen, ref_seen = [], []
    ours.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    theirs.register_full_backward_hook(lambda m, gi, go: ref_seen.append((gi, go)))
    arrays = [rng.standard_normal(s) for s in shapes]
    out = ours(*[cr.Tensor(a, requires_grad=r) for a, r in zip(arrays, grad_x)])
    ref = theirs(*[torch.tensor(a, requires_grad=r) for a, r in zip(arrays, grad_x)])
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    assert len(seen) == len(ref_seen) == 1
    (gi, go), (rgi, rgo) = seen[0], ref_seen[0]
    assert len(gi) == len(rgi) and len(go) == len(rgo)
    for a, b in zip(gi + go, rgi + rgo):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(np.asarray(a), b.numpy(), **TOL)


def test_backward_hooks_can_replace_gradients(torch, rng):
    ours, theirs = _pair(torch, "Linear", 3, 2)
    for module in (ours, theirs):
        module.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
        module.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    x = rng.standard_normal((4, 3))
    xt, xr = cr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = rng.standard_normal((4, 2))
    (ours(xt) * cr.Tensor(g)).sum().backward()
    (theirs(xr) * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(np.asarray(xt.grad), xr.grad.numpy(), **TOL)
    np.testing.assert_allclose(np.asarray(ours.weight.grad), theirs.weight.grad.numpy(), **TOL)


def test_forward_hooks_kwargs_prepend_and_remove():
    calls = []

    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre1"))
    h2 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre0"), prepend=True)
    h3 = m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 10.0}), with_kwargs=True)
    h4 = m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["factor"], with_kwargs=True)
    out = m(cr.Tensor(np.ones(2)), factor=2.0)
    assert calls == ["pre0", "pre1"]
    np.testing.assert_array_equal(out.numpy(), [20.0, 20.0])
    for handle in (h1, h2, h3, h4):
        handle.remove()
    assert not m._forward_pre_hooks and not m._forward_hooks and not m._forward_hooks_with_kwargs
    np.testing.assert_array_equal(m(cr.Tensor(np.ones(2)), factor=2.0).numpy(), [2.0, 2.0])
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert m(cr.Tensor(np.ones(2))).numpy().sum() == 0
    assert m(cr.Tensor(np.ones(2))).numpy().sum() == 2


def test_hooks_reject_non_callables():
    with pytest.raises(TypeError, match="callable"):
        nn.ReLU().register_full_backward_hook(3)
