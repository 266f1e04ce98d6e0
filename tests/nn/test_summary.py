"""Tests for chainrule/nn/summary.py: Module.summary's table of output shapes and parameter counts."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn.module import Module


def _net():
    return nn.Sequential(
        nn.Linear(4, 8, seed=0), nn.BatchNorm1d(8), nn.ReLU(),
        nn.Sequential(nn.Dropout(0.5), nn.Sequential(nn.Linear(8, 6, seed=1), nn.Tanh())),
        nn.Linear(6, 3, seed=2),
    )


def test_every_output_shape_of_a_nested_sequential():
    net = _net()
    result = net.summary((5, 4), print_fn=None)
    shapes = {row["name"]: row["output_shape"] for row in result.rows}
    assert shapes == {
        "0": (5, 8), "1": (5, 8), "2": (5, 8), "3": (5, 6), "3.0": (5, 8), "3.1": (5, 6),
        "3.1.0": (5, 6), "3.1.1": (5, 6), "4": (5, 3),
    }
    params = {row["name"]: row["params"] for row in result.rows}
    assert params["0"] == 40 and params["1"] == 16 and params["3.1.0"] == 54 and params["3"] == 0
    assert result.total_params == 40 + 16 + 54 + 21 == net.num_parameters()
    assert result.trainable_params == result.total_params and result.output_shape == (5, 3)


def test_table_text_and_printing():
    lines = []
    result = _net().summary((2, 4), print_fn=lines.append)
    text = lines[0]
    assert text == str(result)
    assert 'Model: "Sequential"' in text and "Layer (type)" in text
    assert "    3.1.0 (Linear)" in text  # indented by depth
    assert "Total params: 131" in text and "Non-trainable params: 0" in text
    assert "Output shape: (2, 3)" in text
    assert repr(result) == "ModelSummary(total_params=131, trainable_params=131, layers=9)"


def test_summary_leaves_the_model_untouched(rng):
    net = _net()
    net.train()
    running = net[1].running_mean.copy()
    net.summary(rng.standard_normal((5, 4)).astype(np.float32), print_fn=None)  # an example input
    assert all(m.training for m in net.modules())
    np.testing.assert_array_equal(net[1].running_mean, running)
    assert int(net[1].num_batches_tracked) == 0


def test_custom_module_multiple_inputs_and_no_input():
    class Pair(Module):
        def __init__(self):
            super().__init__()
            self.left = nn.Linear(3, 2, seed=0)
            self.right = nn.Linear(5, 2, seed=0)
            self.unused = nn.ReLU()

        def forward(self, a, b):
            return self.left(a) + self.right(b)

    net = Pair()
    net.right.requires_grad_(False)
    result = net.summary([(4, 3), (4, 5)], print_fn=None)
    rows = {row["name"]: row for row in result.rows}
    assert rows["left"]["output_shape"] == (4, 2) and rows["right"]["output_shape"] == (4, 2)
    assert rows["unused"]["output_shape"] is None and "--" in str(result)
    assert result.trainable_params == 8 and result.non_trainable_params == 12
    bare = net.summary(print_fn=None)
    assert all(row["output_shape"] is None for row in bare.rows) and bare.total_params == 20


def test_bad_input():
    with pytest.raises(TypeError, match="summary: input must be a shape including the batch axis"):
        _net().summary("big", print_fn=None)
