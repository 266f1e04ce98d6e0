"""chainrule/nn/state_spec.py: a config's state worked out without building it, checked against the built layer."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn.config import _REGISTRY
from chainrule.nn.state_spec import _rules, expected_state
from chainrule.safetensors_format import DTYPE_NAMES


def built_state(module):
    return {name: (array.shape, DTYPE_NAMES[(array.dtype.kind, array.dtype.itemsize)])
            for name, array in module.state_dict().items()}


LAYERS = [
    nn.Linear(3, 4), nn.Linear(3, 4, bias=False, dtype="float64"),
    nn.Conv2d(4, 6, (3, 2), groups=2), nn.Conv2d(2, 3, 1, bias=False, dtype="float64"),
    nn.ConvTranspose2d(4, 6, 3, groups=2), nn.ConvTranspose2d(2, 3, (1, 2), bias=False),
    nn.BatchNorm1d(5), nn.BatchNorm1d(5, affine=False), nn.BatchNorm2d(3, track_running_stats=False),
    nn.LayerNorm(4), nn.LayerNorm([2, 3], bias=False), nn.LayerNorm(3, elementwise_affine=False),
    nn.Embedding(7, 3, padding_idx=0),
    nn.RNN(3, 4), nn.LSTM(3, 4, num_layers=2, bidirectional=True), nn.GRU(2, 3, num_layers=2, bias=False),
    nn.CrossEntropyLoss(weight=[1.0, 2.0, 0.5]), nn.BCEWithLogitsLoss(pos_weight=[[1.0, 2.0]]), nn.MSELoss(),
    nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.1)), nn.Flatten()),
    nn.ModuleList([nn.Linear(2, 2), nn.Tanh(), nn.MaxPool2d(2), nn.GlobalAvgPool2d(), nn.Dropout2d(0.2)]),
    nn.Conv1d(2, 4, 3, groups=2, padding_mode="reflect"), nn.Conv3d(2, 3, (1, 2, 3), bias=False),
    nn.ConvTranspose1d(4, 2, 3, groups=2), nn.ConvTranspose3d(2, 3, 2),
    nn.BatchNorm3d(3, bias=False), nn.InstanceNorm2d(3), nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
    nn.GroupNorm(2, 4), nn.GroupNorm(2, 4, affine=False), nn.RMSNorm([2, 3]), nn.LocalResponseNorm(2),
    nn.Bilinear(2, 3, 4), nn.Bilinear(2, 2, 1, bias=False), nn.Unflatten(1, (2, 3)), nn.EmbeddingBag(6, 3),
    nn.RNNCell(3, 4), nn.LSTMCell(3, 4, bias=False), nn.GRUCell(2, 5), nn.LSTM(3, 5, num_layers=2, proj_size=2,
                                                                            bidirectional=True),
    nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.GroupNorm(1, 3)}), nn.PReLU(3),
    nn.ParameterList([np.zeros((2, 3), dtype=np.float32), np.ones(4)]),
    nn.ParameterDict({"w": np.zeros((2, 2), dtype=np.float32)}), nn.NLLLoss(weight=[1.0, 2.0]),
    nn.MaxPool3d(2), nn.Upsample(scale_factor=2), nn.AdaptiveMaxPool1d(3),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
def test_expected_state_is_what_the_layer_builds(layer):
    config = nn.module_to_config(layer)
    assert expected_state(config) == built_state(nn.build_module(config)) == built_state(layer)


def test_a_named_sequential_and_missing_arguments_take_the_defaults():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict(encoder=nn.Linear(2, 3), norm=nn.BatchNorm1d(3)))
    assert expected_state(nn.module_to_config(model)) == built_state(model)
    assert expected_state({"class": "Linear", "config": {"in_features": 2, "out_features": 5}}) == {
        "weight": ((5, 2), "F32"), "bias": ((5,), "F32")}


def test_every_layer_of_chainrule_has_a_rule():
    ours = {name for name, cls in _REGISTRY.items() if getattr(nn, name, None) is cls}  # the public layers
    missing = sorted(name for name in ours if _REGISTRY[name] not in _rules())
    assert not missing, f"add a rule to chainrule/nn/state_spec.py for {missing}"


def test_a_class_without_a_rule_gives_none():
    class Custom(nn.Module):
        pass

    assert expected_state({"class": "Custom", "config": {}}) is None
    assert expected_state({"class": "Sequential", "config": {"layers": [{"class": "Custom"}]}}) is None


@pytest.mark.parametrize("config, match", [
    ({"class": "Linear", "config": {"in_features": 2**41, "out_features": 2}}, "in_features must be an int"),
    ({"class": "Linear", "config": {"in_features": 2.0, "out_features": 2}}, "in_features must be an int"),
    ({"class": "Linear", "config": {"in_features": True, "out_features": 2}}, "in_features must be an int"),
    ({"class": "Linear", "config": {"in_features": 2, "out_features": 2, "dtype": ["f4"]}}, "dtype must be"),
    ({"class": "Linear", "config": {"in_features": 2, "out_features": 2, "colour": 1}}, "colour"),
    ({"class": "Linear", "config": {"out_features": 2}}, "in_features"),
    ({"class": "Conv2d", "config": {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 0]}}, "kernel_size"),
    ({"class": "Conv2d", "config": {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 2}},
     "divisible"),
    ({"class": "LayerNorm", "config": {"normalized_shape": []}}, "normalized_shape"),
    ({"class": "CrossEntropyLoss", "config": {"weight": [[1.0], [1.0, 2.0]]}}, "rectangular"),
    ({"class": "Sequential", "config": {"layers": {"class": "ReLU"}}}, "must be a list"),
    ({"class": "Sequential", "config": {"layers": ["ReLU"]}}, "expected a dict"),
    ({"class": "Sequential", "config": {"layers": [{"class": "ReLU"}], "names": ["a.b"]}}, "names"),
    ({"class": "Sequential", "config": {"layers": [{"class": "ReLU"}] * 2, "names": ["a", "a"]}}, "names"),
    ({"class": "Linear", "config": [2, 3]}, "must be a dict"),
    ({"class": "Linear", "args": {}}, "unexpected keys"),
    ([1, 2], "expected a dict"),
])
def test_malformed_configs_are_refused_without_building(config, match):
    with pytest.raises((TypeError, ValueError), match=match):
        expected_state(config)


def test_huge_sizes_cost_nothing():
    big = {"class": "Linear", "config": {"in_features": 2**40, "out_features": 2**40}}
    assert expected_state(big)["weight"] == ((2**40, 2**40), "F32")
    assert np.prod(expected_state(big)["weight"][0], dtype=object) == 2**80  # Python ints: no wrap-around
