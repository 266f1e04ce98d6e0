"""chainrule/nn/init.py beside torch.nn.init: every function exists with torch's parameters (plus seed),
deterministic ones equal torch's exactly, random ones have torch's bounds and statistics."""

import inspect
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init

NAMES = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
]


@pytest.mark.parametrize("name", NAMES)
def test_signature_has_torchs_parameters(torch, name):
    theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
    ours = inspect.signature(getattr(init, name)).parameters
    assert [p for p in theirs if p != "generator"] == [p for p in ours if p not in ("seed", "generator")]
    for p in theirs:
        assert p in ours
        if p not in ("tensor", "generator") and theirs[p].default is not inspect.Parameter.empty:
            assert ours[p].default == theirs[p].default


@pytest.mark.parametrize("name, shape, kwargs", [
    ("eye_", (3, 5), {}), ("eye_", (4, 2), {}),
    ("dirac_", (4, 2, 3), {}), ("dirac_", (6, 2, 3, 3), {"groups": 2}), ("dirac_", (2, 3, 1, 3, 2), {}),
    ("constant_", (2, 3), {"val": 0.3}), ("ones_", (2,), {}), ("zeros_", (2, 2), {}),
])
def test_deterministic_initialisers_equal_torch(torch, name, shape, kwargs):
    ours = cr.Tensor(np.full(shape, 7.0))
    theirs = torch.full(shape, 7.0, dtype=torch.float64)
    assert getattr(init, name)(ours, **kwargs) is ours
    getattr(torch.nn.init, name)(theirs, **kwargs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _std_and_bound(name, shape, kwargs):
    fan_in, fan_out = init.compute_fans(shape)
    if name.startswith("xavier"):
        std = kwargs.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
        std = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)) / math.sqrt(fan)
    return std, (math.sqrt(3.0) * std if name.endswith("uniform_") else None)


@pytest.mark.parametrize("name, kwargs", [
    ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}), ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"nonlinearity": "tanh", "mode": "fan_out"}), ("kaiming_normal_", {"a": 0.2}),
])
def test_scaled_initialisers_have_torchs_statistics(torch, name, kwargs):
    shape = (300, 40, 3)
    ours = getattr(init, name)(cr.Tensor(np.zeros(shape)), **kwargs, generator=0).numpy()
    theirs = getattr(torch.nn.init, name)(torch.zeros(shape, dtype=torch.float64), **kwargs).numpy()
    std, bound = _std_and_bound(name, shape, kwargs)
    for sample in (ours, theirs):
        assert abs(sample.std() / std - 1) < 0.02 and abs(sample.mean()) < 0.02 * std
        if bound is not None:
            assert np.abs(sample).max() <= bound and np.abs(sample).max() > 0.99 * bound


def test_trunc_normal_orthogonal_sparse_statistics(torch):
    ours = init.trunc_normal_(cr.Tensor(np.zeros(20000)), mean=1.0, std=2.0, a=0.0, b=3.0, generator=1).numpy()
    theirs = torch.nn.init.trunc_normal_(torch.zeros(20000, dtype=torch.float64), 1.0, 2.0, 0.0, 3.0).numpy()
    assert ours.min() >= 0 and ours.max() <= 3
    assert abs(ours.mean() - theirs.mean()) < 0.03 and abs(ours.std() - theirs.std()) < 0.03

    for shape in [(3, 5), (6, 2, 2)]:
        w = init.orthogonal_(cr.Tensor(np.zeros(shape)), gain=1.5, seed=0).numpy().reshape(shape[0], -1)
        small = w @ w.T if shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 2.25 * np.eye(len(small)), atol=1e-12)

    ours = init.sparse_(cr.Tensor(np.zeros((10, 6))), 0.25, std=0.5, seed=0).numpy()
    theirs = torch.nn.init.sparse_(torch.zeros(10, 6, dtype=torch.float64), 0.25, std=0.5).numpy()
    assert ((ours == 0).sum(axis=0) == (theirs == 0).sum(axis=0)).all()


def test_generator_is_the_seed_and_errors():
    a = init.normal_(cr.Tensor(np.zeros(4)), generator=3).numpy()
    b = init.normal_(cr.Tensor(np.zeros(4)), seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not both"):
        init.uniform_(cr.Tensor(np.zeros(2)), seed=1, generator=2)
    with pytest.raises(ValueError, match="2-D"):
        init.eye_(cr.Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="groups must divide"):
        init.dirac_(cr.Tensor(np.zeros((3, 2, 3))), groups=2)
