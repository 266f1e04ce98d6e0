"""Shared fixtures: a seeded ``rng``, the optional ``torch`` reference, and ``compare_torch``."""

import os

# The suite runs as two pytest-xdist workers on two cores: one BLAS thread per worker avoids
# oversubscription, where spinning OpenBLAS threads make small matrix products ~100x slower.
# (Set before NumPy loads; threadpoolctl enforces it if NumPy was already imported.)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np
import pytest

import chainrule as cr
from chainrule.tensor import result

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # threadpoolctl comes with scikit-learn; without it the environment variables apply
    pass
else:
    threadpool_limits(1)


@pytest.fixture
def rng():
    """A fresh NumPy Generator with a fixed seed."""
    return np.random.default_rng(0)


@pytest.fixture
def torch():
    """PyTorch, the reference implementation; tests using it skip cleanly where it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # same reason as the BLAS limit above
    return torch


def _probe(tensor, seen, position):
    """Identity op that records the dtype and shape of the gradient arriving at ``tensor``.

    Leaves cast their ``.grad`` to their own dtype, which would hide a float64 gradient
    leaking out of an op; the probe sees the gradient before that cast.
    """

    def backward(g):
        seen[position] = (g.dtype, g.shape)
        return (g,)

    return result(tensor.data, (tensor,), backward, "probe")


@pytest.fixture
def compare_torch(torch):
    """``compare(ours, theirs, *arrays)``: run ``ours`` on chainrule float32 tensors and ``theirs`` on
    torch float32 tensors made from the same arrays; check the outputs, then backpropagate the same
    random (non-uniform) upstream gradient through both and check every input's gradient.

    ``ours``/``theirs`` may return one tensor or a tuple of them. Gradients reaching each input must
    be float32 and shaped like it (no float64 leaking through Python scalars).
    """

    def compare(ours, theirs, *arrays, rtol=1e-5, atol=1e-5, seed=1):
        arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
        leaves = [cr.Tensor(a.copy(), requires_grad=True) for a in arrays]
        seen = {}
        out = ours(*[_probe(leaf, seen, i) for i, leaf in enumerate(leaves)])
        refs = [torch.tensor(a, requires_grad=True) for a in arrays]
        ref = theirs(*refs)

        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        ref_outs = list(ref) if isinstance(ref, (tuple, list)) else [ref]
        assert len(outs) == len(ref_outs), "different number of outputs"
        gen = np.random.default_rng(seed)
        upstream = [gen.standard_normal(o.shape).astype(np.float32) for o in outs]
        for o, r in zip(outs, ref_outs):
            assert o.dtype == np.float32, f"output dtype {o.dtype}, expected float32"
            assert o.shape == tuple(r.shape), f"output shape {o.shape}, torch gives {tuple(r.shape)}"
            np.testing.assert_allclose(o.numpy(), r.detach().numpy(), rtol=rtol, atol=atol)

        if len(outs) == 1:
            outs[0].backward(grad=upstream[0])
            ref_outs[0].backward(torch.from_numpy(upstream[0]))
        else:
            sum((o * g).sum() for o, g in zip(outs, upstream)).backward()
            sum((r * torch.from_numpy(g)).sum() for r, g in zip(ref_outs, upstream)).backward()

        assert len(seen) == len(leaves), "some input received no gradient"
        for i, leaf in enumerate(leaves):
            dtype, shape = seen[i]
            assert dtype == np.float32, f"a float64 gradient leaked into a float32 graph ({dtype})"
            assert shape == leaf.shape, f"gradient of shape {shape} for an input of shape {leaf.shape}"
        for leaf, r in zip(leaves, refs):
            expected = np.zeros(leaf.shape, np.float32) if r.grad is None else r.grad.numpy()
            np.testing.assert_allclose(leaf.grad, expected, rtol=rtol, atol=atol)
        return outs

    return compare


@pytest.fixture
def compare_torch64(torch):
    """``compare(ours, theirs, *arrays)``: ``torch64.compare64`` (float64, 1e-7, outputs and input gradients
    under a non-uniform upstream gradient) with torch bound. Returns chainrule's output(s)."""
    from torch64 import compare64

    def compare(ours, theirs, *arrays, **options):
        outs = compare64(torch, ours, theirs, *arrays, **options)
        return outs[0] if len(outs) == 1 else outs

    return compare
