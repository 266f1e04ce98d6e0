"""Tests for chainrule/nn/config.py: get_config / build_module round trips and their error messages."""

import json

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn.module import Module


def _every_layer():
    return nn.Sequential(
        nn.Linear(6, 8, seed=0),
        nn.BatchNorm1d(8, momentum=0.2),
        nn.ReLU(),
        nn.Dropout(0.2, seed=1),
        nn.LayerNorm(8, eps=1e-4),
        nn.LeakyReLU(0.2),
        nn.Sequential(nn.Dense(8, 8, init="xavier_uniform", seed=2), nn.ELU(0.5), nn.GELU("tanh")),
        nn.Softplus(beta=2.0),
        nn.Tanh(),
        nn.Linear(8, 8, bias=False, init="kaiming_normal", seed=3),
        nn.Sigmoid(),
        nn.Identity(),
        nn.Flatten(),
        nn.Linear(8, 4, seed=4, dtype="float64"),
        nn.Softmax(dim=1),
        nn.LogSoftmax(),
    )


def test_round_trip_of_every_layer_type_rebuilds_identical_outputs(rng):
    model = _every_layer()
    spec = json.loads(json.dumps(nn.module_to_config(model)))  # through real JSON
    rebuilt = nn.build_module(spec)
    assert repr(rebuilt) == repr(model)
    assert nn.module_to_config(rebuilt) == spec
    x = rng.standard_normal((10, 6)).astype(np.float32)
    # int seeds make the initial weights part of the architecture; the Dropout masks repeat too
    np.testing.assert_array_equal(model(x).numpy(), rebuilt(x).numpy())
    model.eval(), rebuilt.eval()
    np.testing.assert_array_equal(model(x).numpy(), rebuilt(x).numpy())


def test_round_trip_plus_state_dict_restores_a_trained_model(rng):
    model = _every_layer()
    model.reset_parameters(seed=9)
    model(rng.standard_normal((10, 6)))  # moves BatchNorm's running statistics
    rebuilt = nn.build_module(model.to_config())
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    x = rng.standard_normal((3, 6))
    np.testing.assert_array_equal(model(x).numpy(), rebuilt(x).numpy())


def test_layer_configs():
    assert nn.Linear(3, 2, seed=5).get_config() == {
        "in_features": 3, "out_features": 2, "bias": True, "init": "default", "seed": 5, "dtype": "float32",
    }
    assert nn.BatchNorm1d(4).get_config() == {
        "num_features": 4, "eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True, "dtype": "float32",
    }
    assert nn.ReLU().get_config() == {}
    assert nn.build_module({"class": "Dense", "config": {"in_features": 2, "out_features": 5}}).out_features == 5
    assert nn.build_module('{"class": "ReLU"}').__class__ is nn.ReLU
    assert {"Linear", "Dense", "Sequential", "BatchNorm1d", "CrossEntropyLoss"} <= set(nn.registered_modules())


def test_loss_modules_round_trip():
    for loss in [
        nn.MSELoss(reduction="sum"), nn.L1Loss(), nn.HuberLoss(delta=0.5),
        nn.CrossEntropyLoss(weight=[1.0, 2.0, 0.5], label_smoothing=0.1),
        nn.BCEWithLogitsLoss(pos_weight=[3.0]),
    ]:
        spec = json.loads(json.dumps(loss.to_config()))
        rebuilt = nn.build_module(spec)
        assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()


def test_custom_module_with_get_config_round_trips(rng):
    class TwoLayer(Module):
        def __init__(self, hidden, seed=None):
            super().__init__()
            self.hidden, self.seed = hidden, seed
            self.body = nn.Sequential(nn.Linear(3, hidden, seed=seed), nn.Tanh(), nn.Linear(hidden, 1, seed=seed))

        def forward(self, x):
            return self.body(x)

        def get_config(self):
            return {"hidden": self.hidden, "seed": self.seed}

    model = TwoLayer(5, seed=2)
    rebuilt = nn.build_module(json.loads(json.dumps(model.to_config())))
    assert isinstance(rebuilt, TwoLayer) and rebuilt.hidden == 5
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(model(x).numpy(), rebuilt(x).numpy())


def test_module_without_constructor_arguments_needs_no_get_config():
    class Fixed(Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    assert nn.module_to_config(Fixed()) == {"class": "Fixed", "config": {}}


def test_custom_module_without_get_config_explains_how_to_add_one():
    class Custom(Module):
        def __init__(self, width, depth=2):
            super().__init__()
            self.fc = nn.Linear(width, width)

    with pytest.raises(NotImplementedError) as error:
        nn.Sequential(nn.ReLU(), Custom(3)).to_config()
    message = str(error.value)
    assert "Custom has no get_config()" in message
    assert "def get_config(self):" in message and "'width': self.width, 'depth': self.depth" in message
    assert "from_config" in message


def test_non_json_config_is_reported_with_its_path():
    class Holder(Module):
        def __init__(self, values):
            super().__init__()
            self.values = values

        def get_config(self):
            return {"values": self.values}

    with pytest.raises(TypeError, match=r"Holder.get_config\(\)\['values'\] = array.* is not JSON-serialisable"):
        Holder(np.arange(3)).to_config()


def test_build_errors():
    with pytest.raises(KeyError, match="no module class named 'Conv9d' is registered.*import it before building"):
        nn.build_module({"class": "Conv9d", "config": {}})
    with pytest.raises(TypeError, match="expected a dict like"):
        nn.build_module(["Linear"])
    with pytest.raises(TypeError, match=r"Linear.from_config\(.*\) failed"):
        nn.build_module({"class": "Linear", "config": {"in_features": 2}})


def test_a_shadowed_class_name_cannot_be_serialised():
    def make():
        class Shadow(Module):
            def forward(self, x):
                return x

        return Shadow

    first, second = make(), make()
    assert nn.build_module({"class": "Shadow"}).__class__ is second  # the latest definition wins
    with pytest.raises(ValueError, match="class name 'Shadow' .* is registered for"):
        first().to_config()
