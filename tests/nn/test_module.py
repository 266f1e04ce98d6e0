"""Tests for chainrule/nn/module.py: registration, traversal, modes, state_dict, dtype, hooks, repr."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.function import topological_order
from chainrule.nn.module import Module


class Block(Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4, seed=0)
        self.scale = nn.Parameter(np.ones(4, np.float32))
        self.register_buffer("count", np.zeros((), np.int64))
        self.note = "not registered"

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.norm = nn.BatchNorm1d(4)
        self.head = nn.Linear(4, 2, seed=1)

    def forward(self, x):
        return self.head(self.norm(self.block(x)))


def test_parameters_and_modules_register_in_assignment_order():
    net = Net()
    # as in PyTorch: depth first, each module's own parameters before its children's
    assert [name for name, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "norm.weight", "norm.bias", "head.weight", "head.bias",
    ]
    assert [name for name, _ in net.named_children()] == ["block", "norm", "head"]
    assert [name for name, _ in net.named_modules()] == ["", "block", "block.fc", "norm", "head"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Block", "Linear", "BatchNorm1d", "Linear"]
    assert [name for name, _ in net.named_buffers()] == [
        "block.count", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
    ]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net.num_parameters() == 12 + 4 + 4 + 4 + 4 + 8 + 2
    assert net.get_submodule("block.fc") is net.block.fc


def test_plain_tensors_and_values_are_not_registered():
    block = Block()
    block.extra = cr.Tensor(np.ones(3, np.float32))
    assert "extra" not in dict(block.named_parameters())
    assert "note" not in block.state_dict()


def test_shared_parameters_are_listed_once_and_reassignment_replaces():
    net = nn.Sequential(nn.Linear(3, 3, seed=0), nn.ReLU())
    shared = net[0]
    net.append(shared)
    assert len(list(net.parameters())) == 2
    net[0].bias = None
    assert [n for n, _ in net.named_parameters()] == ["0.weight"]
    block = Block()
    block.fc = nn.Identity()  # a module replaces a module
    assert "fc.weight" not in dict(block.named_parameters())
    del block.scale
    assert "scale" not in dict(block.named_parameters()) and not hasattr(block, "scale")


def test_assigning_a_non_parameter_to_a_parameter_name_is_an_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"Linear.weight is a parameter: assign a chainrule.nn.Parameter or None"):
        layer.weight = np.zeros((2, 2), np.float32)


def test_forgetting_super_init_is_explained():
    class Broken(Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) at the start of Broken.__init__"):
        Broken()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        Module()(1)


def test_train_and_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert not net.block.fc.training and net.head.training
    with pytest.raises(ValueError, match="mode must be a bool"):
        net.train("no")


def test_zero_grad_sets_grads_to_none(rng):
    net = Net()
    net(rng.standard_normal((5, 3))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_is_ordered_copies_including_buffers():
    net = Net()
    state = net.state_dict()
    assert list(state) == [
        "block.scale", "block.count", "block.fc.weight", "block.fc.bias",
        "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
        "head.weight", "head.bias",
    ]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["head.weight"][...] = 99
    assert not (net.head.weight.numpy() == 99).any()  # a copy, not a view


def test_load_state_dict_round_trip_writes_in_place(rng):
    source, target = Net(), Net()
    source.reset_parameters(seed=5)
    source(rng.standard_normal((6, 3)))  # moves the running statistics
    # an optimizer keeps parameters as views into one flat buffer: loading must write through them
    flat = np.zeros(sum(p.data.size for p in target.parameters()), np.float32)
    offset = 0
    for p in target.parameters():
        view = flat[offset : offset + p.data.size].reshape(p.shape)
        view[...] = p.data
        p.data = view
        offset += p.data.size
    arrays = [p.data for p in target.parameters()]
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert all(p.data is a for p, a in zip(target.parameters(), arrays))
    np.testing.assert_array_equal(flat[4:16], source.block.fc.weight.numpy().ravel())
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)
    x = rng.standard_normal((4, 3))
    source.eval(), target.eval()
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_load_state_dict_strict_errors_list_every_key_with_shapes():
    net = Net()
    state = net.state_dict()
    del state["head.bias"], state["norm.running_var"]
    state["extra.weight"] = np.zeros((7, 2), np.float32)
    state["head.weight"] = np.zeros((3, 4), np.float32)
    before = net.head.weight.numpy().copy()
    with pytest.raises(ValueError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Net" in message
    assert "missing keys" in message and "'head.bias' (2,)" in message and "'norm.running_var' (4,)" in message
    assert "unexpected keys" in message and "'extra.weight' (7, 2)" in message
    assert "'head.weight': state_dict has shape (3, 4), the model has (2, 4)" in message
    np.testing.assert_array_equal(net.head.weight.numpy(), before)  # nothing copied on error


def test_load_state_dict_non_strict_reports_but_shape_mismatch_still_fails():
    net = Net()
    state = net.state_dict()
    del state["head.bias"]
    state["extra"] = np.zeros(3)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["extra"]
    state["head.weight"] = np.zeros((1, 1))
    with pytest.raises(ValueError, match="shape mismatch"):
        net.load_state_dict(state, strict=False)


def test_load_state_dict_casts_to_the_parameter_dtype():
    layer = nn.Linear(2, 3)
    layer.load_state_dict({"weight": np.ones((3, 2), np.float64), "bias": [1.0, 2.0, 3.0]})
    assert layer.weight.dtype == np.float32 and layer.weight.numpy().sum() == 6
    np.testing.assert_array_equal(layer.bias.numpy(), [1, 2, 3])


def test_to_float64_converts_parameters_and_buffers_in_place(rng):
    net = Net()
    params = list(net.parameters())
    assert net.to("float64") is net
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.norm.running_mean.dtype == np.float64
    assert net.norm.num_batches_tracked.dtype == np.int64  # integer buffers are left alone
    assert net.state_dict()["norm.running_var"].dtype == np.float64
    assert net.head.get_config()["dtype"] == "float64"
    assert net(rng.standard_normal((5, 3))).dtype == np.float64
    with pytest.raises(TypeError, match="expected a floating dtype"):
        net.to("int32")


def test_gradcheck_a_float64_model(rng):
    net = nn.Sequential(nn.Linear(3, 5, seed=0), nn.BatchNorm1d(5), nn.Tanh(), nn.LayerNorm(5), nn.Linear(5, 2, seed=1))
    net.to(np.float64)
    assert cr.gradcheck(lambda x: net(x), [rng.standard_normal((4, 3))])


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "BatchNorm1d", "Linear", "Net"]


def test_reset_parameters_with_a_seed_reinitialises_the_whole_network_reproducibly():
    a, b = Net(), Net()
    a.reset_parameters(seed=3)
    b.reset_parameters(seed=3)
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
    c = Net()
    c.reset_parameters(seed=4)
    assert not np.array_equal(a.head.weight.numpy(), c.head.weight.numpy())
    # each layer draws from the shared generator in turn, so layers differ from their own-seed init
    assert not np.array_equal(a.head.weight.numpy(), Net().head.weight.numpy())


def test_requires_grad_freezes_parameters(rng):
    net = Net()
    net.block.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == net.num_parameters() - 20
    net(rng.standard_normal((5, 3))).sum().backward()
    assert net.block.fc.weight.grad is None and net.head.weight.grad is not None


def test_forward_hooks_can_observe_and_replace(rng):
    layer = nn.Linear(3, 2, seed=0)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    post = layer.register_forward_hook(lambda m, args, out: out * 0)
    out = layer(rng.standard_normal((4, 3)))
    assert calls == [("pre", (4, 3))] and (out.numpy() == 0).all()
    pre.remove(), post.remove()
    assert (layer(rng.standard_normal((4, 3))).numpy() != 0).any() and len(calls) == 1


def test_repr_shows_the_architecture_tree():
    net = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)), nn.Linear(8, 2, bias=False))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.1)\n"
        "  )\n"
        "  (2): Linear(in_features=8, out_features=2, bias=False)\n"
        ")"
    )
    assert repr(Net()).startswith("Net(\n  (block): Block(\n    (fc): Linear(in_features=3, out_features=4")


def test_parameter_repr_and_defaults():
    p = nn.Parameter(np.zeros(2, np.float32))
    assert p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter([0., 0.], dtype=float32)"
    assert repr(nn.Parameter([1.0], requires_grad=False)) == "Parameter([1.], dtype=float32, requires_grad=False)"


def _every_layer_net():
    return nn.Sequential(
        nn.Linear(6, 8, seed=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2, seed=1), nn.LayerNorm(8),
        nn.GELU(), nn.Linear(8, 8, seed=2), nn.ELU(), nn.LeakyReLU(), nn.Softplus(), nn.Tanh(), nn.Sigmoid(),
        nn.Identity(), nn.Flatten(), nn.Linear(8, 3, seed=3),
    )


def test_a_float32_training_step_creates_no_float64_arrays(rng):
    net = _every_layer_net()
    x = rng.standard_normal((16, 6))  # float64 input, as scikit-learn gives: the model converts it
    y = rng.integers(0, 3, 16)
    loss = nn.CrossEntropyLoss()(net(x), y)
    nodes = topological_order(loss)
    assert nodes and all(node.dtype == np.float32 for node in nodes), {n._op: n.dtype for n in nodes}
    seen = []
    for node in nodes:  # check every gradient each op's backward returns
        original = node._backward

        def checked(g, original=original, op=node._op):
            grads = original(g)
            seen.extend((op, gr.dtype) for gr in grads if gr is not None)
            return grads

        node._backward = checked
    loss.backward()
    assert seen and all(dtype == np.float32 for _, dtype in seen), [s for s in seen if s[1] != np.float32]
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
    assert all(b.dtype in (np.float32, np.int64) for b in net.buffers())


def test_deepcopy_gives_an_independent_model(rng):
    import copy

    net = Net()
    clone = copy.deepcopy(net)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert clone.head.weight is clone._modules["head"]._parameters["weight"]  # registry and attributes agree
    clone.head.weight.data[...] = 0
    assert (net.head.weight.numpy() != 0).any()
    x = rng.standard_normal((4, 3))
    net.eval(), clone.eval()
    assert net(x).shape == clone(x).shape == (4, 2)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_model_and_optimizer_train_on_identically(how):
    # buffers (BatchNorm's running statistics) and random generators (Dropout) are copied with the weights,
    # and the optimizer's flat buffers stay the parameters' storage (chainrule/optim/_flat.py)
    import copy
    import pickle

    from chainrule.optim import Adam
    from chainrule.train import fit

    gen = np.random.default_rng(0)
    x, y = gen.standard_normal((8, 1, 6, 6)).astype(np.float32), gen.integers(0, 2, 8)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, seed=0), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Dropout2d(0.2, seed=0), nn.Flatten(), nn.LayerNorm(12), nn.Dropout(0.3, seed=1),
                        nn.Linear(12, 2, seed=1))
    opt = Adam(net.parameters(), lr=0.01)
    fit(net, x, y, optimizer=opt, epochs=1, batch_size=4, verbose=0, seed=0)
    net2, opt2 = copy.deepcopy((net, opt)) if how == "deepcopy" else pickle.loads(pickle.dumps((net, opt)))
    for model, optimizer in ((net, opt), (net2, opt2)):
        fit(model, x, y, optimizer=optimizer, epochs=2, batch_size=4, verbose=0, seed=1)
    for (name, a), (_, b) in zip(net.state_dict().items(), net2.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a), err_msg=name)
    assert not np.shares_memory(net[0].weight.data, net2[0].weight.data)
