"""chainrule/nn/containers.py as torch.nn's containers: ModuleDict, ParameterList, ParameterDict, and
ModuleList/Sequential list behaviour (names, slicing, insert, pop, +), state_dict keys and config round trips."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _layers(lib):
    return [lib.Linear(2, 3), lib.ReLU(), lib.Linear(3, 1)]


def test_sequential_and_module_list_behave_as_torch(torch):
    for ours, theirs in [(nn.Sequential(*_layers(nn)), torch.nn.Sequential(*_layers(torch.nn))),
                         (nn.ModuleList(_layers(nn)), torch.nn.ModuleList(_layers(torch.nn)))]:
        for container in (ours, theirs):
            container.insert(1, type(container[1])())
            container.append(type(container[1])())
            container.extend([type(container[1])()])
            container.pop(2)
            del container[0]
        assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
        assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
        assert len(ours) == len(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in ours[1:].named_children()] == [n for n, _ in theirs[1:].named_children()]
        assert [n for n, _ in (ours + ours).named_children()] == [n for n, _ in (theirs + theirs).named_children()]
    named = OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU()), ("out", nn.Linear(3, 1))])
    model = nn.Sequential(named)
    assert [n for n, _ in model[1:].named_children()] == ["act", "out"]  # slices keep the names
    assert list(model.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]


def test_module_dict(torch):
    ours = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 3), "b": torch.nn.ReLU()})
    for d, lib in ((ours, nn), (theirs, torch.nn)):
        d["c"] = lib.Linear(3, 1)
        d.update([("d", lib.Tanh())])
        d.pop("b")
    assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys()) and "c" in ours
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours).replace(", dtype=float32", "") == repr(theirs)
    rebuilt = nn.build_module(ours.to_config())
    assert repr(rebuilt) == repr(ours)
    with pytest.raises(TypeError, match="expected a Module"):
        ours["x"] = 3


def test_parameter_list_and_dict(torch, rng):
    arrays = [rng.standard_normal((2, 3)), rng.standard_normal(4)]
    ours = nn.ParameterList([nn.Parameter(arrays[0])])
    ours.append(cr.Tensor(arrays[1]))
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a)) for a in arrays])
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1"]
    assert isinstance(ours[1], nn.Parameter) and ours[-1] is ours[1] and len(ours) == 2
    rebuilt = nn.build_module(ours.to_config())
    rebuilt.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(rebuilt[0].numpy(), arrays[0])

    pd = nn.ParameterDict(OrderedDict(w=nn.Parameter(arrays[0])))
    pd["b"] = arrays[1]
    ref = torch.nn.ParameterDict(OrderedDict(w=torch.nn.Parameter(torch.tensor(arrays[0])), b=torch.nn.Parameter(torch.tensor(arrays[1]))))
    assert list(pd.state_dict()) == list(ref.state_dict()) and list(pd.keys()) == ["w", "b"]
    assert list(nn.ParameterDict({"z": np.ones(1), "a": np.ones(1)})) == ["a", "z"]  # a dict sorted, as torch
    rebuilt = nn.build_module(pd.to_config())
    rebuilt.load_state_dict(pd.state_dict())
    np.testing.assert_array_equal(rebuilt["b"].numpy(), arrays[1])

    class Net(nn.Module):  # parameters of a ParameterList are trained through the parent
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([np.ones(3), np.full(3, 2.0)])

        def forward(self, x):
            return x * self.ws[0] * self.ws[1]

    net = Net()
    net(cr.Tensor(np.arange(3.0))).sum().backward()
    assert [n for n, _ in net.named_parameters()] == ["ws.0", "ws.1"]
    np.testing.assert_array_equal(np.asarray(net.ws[0].grad), [0.0, 2.0, 4.0])


def test_module_api_gaps(torch):
    ours = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    assert ours.get_parameter("0.weight") is ours[0].weight
    assert ours.get_buffer("1.running_mean") is ours[1].running_mean
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    assert ours.state_dict(keep_vars=True)["0.weight"] is ours[0].weight
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    result = ours.load_state_dict({"0.weight": np.zeros((3, 2)), "extra": np.zeros(1)}, strict=False)
    ref = theirs.load_state_dict({"0.weight": torch.zeros(3, 2), "extra": torch.zeros(1)}, strict=False)
    # (torch treats a missing num_batches_tracked as an old checkpoint's and fills it in silently)
    assert result.missing_keys == ref.missing_keys + ["1.num_batches_tracked"]
    assert result.unexpected_keys == ref.unexpected_keys
    assert ours.to("cpu", dtype="float64")[0].weight.dtype == np.float64
    assert ours.half()[0].weight.dtype == np.float16 and ours.float()[1].running_mean.dtype == np.float32
    assert ours.to(cr.Tensor(np.zeros(1))) is ours and ours[0].weight.dtype == np.float64
    with pytest.raises(ValueError, match="only device is 'cpu'"):
        ours.to("cuda")
    ours.register_module("extra", nn.ReLU())
    assert [n for n, _ in ours.named_children()][-1] == "extra"
    ours.register_buffer("step", np.zeros(()), persistent=False)
    assert "step" not in ours.state_dict() and "step" in dict(ours.named_buffers())
    seen = []
    ours.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Sequential"]
    assert not any(p.requires_grad for p in ours.requires_grad_(False).parameters())
    assert ours.eval().training is False and ours[1].training is False and ours.train().training
    assert len(list(ours.parameters(recurse=False))) == 0


def test_model_file_round_trip_of_new_layers(tmp_path, rng):
    model = nn.ModuleDict({
        "seq": nn.Sequential(nn.Linear(4, 6), nn.GroupNorm(2, 6), nn.Unflatten(1, (2, 3)),
                             nn.InstanceNorm1d(2, affine=True, track_running_stats=True), nn.Flatten(), nn.RMSNorm(6)),
        "bag": nn.EmbeddingBag(5, 2, mode="sum"),
        "params": nn.ParameterList([np.ones(3, dtype=np.float32)]),
        "lstm": nn.LSTM(3, 4, proj_size=2),
        "cell": nn.GRUCell(3, 2),
    })
    model["seq"](rng.standard_normal((3, 4)))  # moves the running statistics off their start
    cr.save(model, tmp_path / "model")
    restored = cr.load(tmp_path / "model")
    assert repr(restored) == repr(model)
    for (key, a), (_, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=key)
