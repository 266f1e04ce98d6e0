"""Tests for chainrule/nn/containers.py: Sequential and ModuleList."""

from collections import OrderedDict

import numpy as np
import pytest

from chainrule import nn


def test_sequential_applies_layers_in_order(rng):
    net = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    expected = net[2](net[1](net[0](x)))
    np.testing.assert_array_equal(net(x).numpy(), expected.numpy())


def test_sequential_list_behaviour():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Tanh()]
    net = nn.Sequential(*layers)
    assert len(net) == 3 and list(net) == layers
    assert net[-1] is layers[2] and net[0] is layers[0]
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert net.append(nn.Sigmoid()) is net and len(net) == 4
    assert [name for name, _ in net.named_children()] == ["0", "1", "2", "3"]
    net[1] = nn.GELU()
    assert isinstance(net[1], nn.GELU)
    del net[0]
    assert [type(m).__name__ for m in net] == ["GELU", "Tanh", "Sigmoid"]
    assert [name for name, _ in net.named_children()] == ["0", "1", "2"]
    net.insert(0, nn.Identity())
    assert type(net[0]).__name__ == "Identity" and len(net) == 4
    with pytest.raises(IndexError, match="index 9 is out of range for 4 modules"):
        net[9]


def test_sequential_named_layers():
    net = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [name for name, _ in net.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert net.hidden is net[0]
    rebuilt = nn.build_module(net.to_config())
    assert [name for name, _ in rebuilt.named_children()] == ["hidden", "act"]


def test_sequential_errors():
    with pytest.raises(TypeError, match="expected a Module, got int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(TypeError, match=r"Sequential\(\*layers\)"):
        nn.Sequential([nn.ReLU()])


def test_module_list_registers_its_modules(rng):
    class Tower(nn.Module):
        def __init__(self, depth=3):
            super().__init__()
            self.depth = depth
            self.layers = nn.ModuleList([nn.Linear(4, 4, seed=i) for i in range(depth)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def get_config(self):
            return {"depth": self.depth}

    tower = Tower()
    assert len(tower.layers) == 3
    assert [name for name, _ in tower.named_parameters()][:2] == ["layers.0.weight", "layers.0.bias"]
    assert tower.num_parameters() == 3 * 20
    tower.layers.extend([nn.Linear(4, 4)])
    assert len(list(tower.parameters())) == 8
    assert tower(rng.standard_normal((2, 4))).shape == (2, 4)
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        tower.layers(np.ones(4))
    config = nn.ModuleList([nn.ReLU(), nn.Linear(2, 3, seed=0)]).to_config()
    rebuilt = nn.build_module(config)
    assert isinstance(rebuilt, nn.ModuleList) and rebuilt[1].out_features == 3
