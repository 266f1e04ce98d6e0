"""``compare64``: an op against PyTorch in float64, forward and input gradients, to 1e-7.

Shared by the tests of the math, gather, sorting and einsum modules.
"""

import numpy as np

import chainrule as cr


def compare64(torch, ours, theirs, *arrays, rtol=1e-7, atol=1e-10, seed=1):
    """Run ``ours`` on chainrule float64 tensors and ``theirs`` on torch float64 tensors made from the same
    ``arrays``; check every output (floating ones to ``rtol``, integer ones exactly), then backpropagate one
    random (non-uniform) upstream gradient per floating output through both and check each input's gradient.
    Returns the chainrule outputs."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    leaves = [cr.Tensor(a.copy(), requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours(*leaves), theirs(*refs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    ref_outs = list(ref) if isinstance(ref, (tuple, list)) else [ref]
    assert len(outs) == len(ref_outs), "different number of outputs"
    gen = np.random.default_rng(seed)
    loss = ref_loss = 0
    for o, r in zip(outs, ref_outs):
        expected = r.detach().numpy()
        assert o.shape == expected.shape, f"output shape {o.shape}, torch gives {expected.shape}"
        if not r.is_floating_point():
            np.testing.assert_array_equal(np.asarray(o.data), expected)
            continue
        assert o.dtype == np.float64, f"output dtype {o.dtype}, expected float64"
        np.testing.assert_allclose(o.data, expected, rtol=rtol, atol=atol)
        if r.requires_grad:
            upstream = gen.standard_normal(o.shape)
            loss = loss + (o * upstream).sum()
            ref_loss = ref_loss + (r * torch.from_numpy(upstream)).sum()
    if isinstance(ref_loss, int):
        return outs
    loss.backward()
    ref_loss.backward()
    for leaf, r in zip(leaves, refs):
        expected = np.zeros(leaf.shape) if r.grad is None else r.grad.numpy()
        actual = np.zeros(leaf.shape) if leaf.grad is None else np.asarray(leaf.grad)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
    return outs
