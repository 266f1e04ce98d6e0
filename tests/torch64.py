"""``compare64``: run an op on chainrule and PyTorch float64 tensors made from the same arrays and check
outputs (1e-7) and input gradients under one random, non-uniform upstream gradient.

The one such helper of the suite (``from torch64 import compare64``: pytest puts ``tests/`` on ``sys.path``
for its conftest; the ``compare_torch64`` fixture is this function too). Outputs may be tensors or (nested) tuples of them, like ``max(x, 1)``'s (values, indices);
integer and boolean outputs are compared exactly and carry no gradient.
"""

import numpy as np

import chainrule as cr


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [leaf for part in out for leaf in _flat(part)]
    return [out]


def compare64(torch, ours, theirs, *arrays, seed=1, tol=None, rtol=1e-7, atol=1e-10, grads=True):
    """Check ``ours(*chainrule tensors)`` against ``theirs(*torch tensors)``; returns our outputs.

    ``tol`` sets both ``rtol`` and ``atol``; ``grads=False`` checks the outputs only.
    """
    if tol is not None:
        rtol = atol = tol
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    leaves = [cr.Tensor(a.copy(), requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, ref_outs = _flat(ours(*leaves)), _flat(theirs(*refs))
    assert len(outs) == len(ref_outs), f"{len(outs)} outputs, torch gives {len(ref_outs)}"
    gen = np.random.default_rng(seed)
    ours_loss, ref_loss = None, None
    for o, r in zip(outs, ref_outs):
        r_np = r.detach().numpy()
        assert o.shape == tuple(r.shape), f"output shape {o.shape}, torch gives {tuple(r.shape)}"
        if r_np.dtype.kind != "f":
            assert o.dtype.kind == r_np.dtype.kind, f"output dtype {o.dtype}, torch gives {r.dtype}"
            np.testing.assert_array_equal(o.numpy(), r_np)
            continue
        assert o.dtype == np.float64, f"output dtype {o.dtype}, expected float64"
        np.testing.assert_allclose(o.numpy(), r_np, rtol=rtol, atol=atol)
        if grads and r.requires_grad:
            w = gen.standard_normal(o.shape)
            term, ref_term = (o * cr.Tensor(w)).sum(), (r * torch.from_numpy(w)).sum()
            ours_loss = term if ours_loss is None else ours_loss + term
            ref_loss = ref_term if ref_loss is None else ref_loss + ref_term
    if ours_loss is None:
        return outs
    ours_loss.backward()
    ref_loss.backward()
    for leaf, r in zip(leaves, refs):
        expected = np.zeros(leaf.shape) if r.grad is None else r.grad.numpy()
        got = np.zeros(leaf.shape) if leaf.grad is None else np.asarray(leaf.grad)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    return outs
