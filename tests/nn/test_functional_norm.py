"""chainrule/nn/functional_norm.py against torch.nn.functional in float64 (forward, gradients of every
tensor argument under a non-uniform upstream gradient, running statistics)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional_norm as F

TOL = dict(rtol=1e-7, atol=1e-9)


def _cases(rng):
    x = rng.standard_normal((3, 4, 5))
    w, b = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    stats = lambda: (rng.standard_normal(4), rng.uniform(0.5, 2, 4))  # noqa: E731
    return [
        ("batch_norm", [x, None, None, w, b], {"training": True}, [0, 3, 4]),
        ("batch_norm", [x, *stats(), w, b], {"training": True, "momentum": 0.3}, [0, 3, 4]),
        ("batch_norm", [x, *stats(), w, None], {}, [0, 3]),
        ("instance_norm", [x, *stats(), w, b], {"momentum": 0.2}, [0, 3, 4]),
        ("instance_norm", [x, *stats(), None, None], {"use_input_stats": False}, [0]),
        ("layer_norm", [x, (4, 5), rng.standard_normal((4, 5)), None], {"eps": 1e-3}, [0, 2]),
        ("group_norm", [x, 2, w, b], {}, [0, 2, 3]),
        ("rms_norm", [x, (5,), rng.standard_normal(5)], {}, [0, 2]),
        ("local_response_norm", [x, 3], {"alpha": 0.3, "k": 0.5}, [0]),
        ("bilinear", [rng.standard_normal((3, 2)), rng.standard_normal((3, 4)), rng.standard_normal((5, 2, 4)), b[:1].repeat(5)], {}, [0, 1, 2, 3]),
    ]


@pytest.mark.parametrize("case", range(10))
def test_functions_match_torch(torch, rng, case):
    name, args, kwargs, differentiable = _cases(rng)[case]
    ours_args, their_args = [], []
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray):
            grad = k in differentiable
            ours_args.append(cr.Tensor(a.copy(), requires_grad=grad) if grad else a.copy())
            their_args.append(torch.tensor(a.copy(), requires_grad=grad))
        else:
            ours_args.append(a)
            their_args.append(a)
    out = getattr(F, name)(*ours_args, **kwargs)
    ref = getattr(torch.nn.functional, name)(*their_args, **kwargs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for k, (o, r) in enumerate(zip(ours_args, their_args)):
        if k in differentiable:
            np.testing.assert_allclose(np.asarray(o.grad), r.grad.numpy(), **TOL)
        elif isinstance(o, np.ndarray):  # running statistics, updated in place alike
            np.testing.assert_allclose(o, r.numpy(), **TOL)


def test_embedding_function_matches_torch(torch, rng):
    w = rng.standard_normal((5, 3))
    ids = np.array([[1, 4], [4, 4]])
    wt, wr = cr.Tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    out = F.embedding(ids, wt, padding_idx=1, scale_grad_by_freq=True)
    ref = torch.nn.functional.embedding(torch.tensor(ids), wr, padding_idx=1, scale_grad_by_freq=True)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    g = rng.standard_normal((2, 2, 3))
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(np.asarray(wt.grad), wr.grad.numpy(), **TOL)
