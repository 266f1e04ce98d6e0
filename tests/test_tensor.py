"""Tests for chainrule/tensor.py, chainrule/function.py and chainrule/creation.py: the autodiff engine."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.tensor import result

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------- accumulation
def test_gradient_sums_over_uses():
    x = cr.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * x + x).backward(grad=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, (2 * x.data + 1) * [1.0, 2.0, 3.0])


def test_gradient_accumulates_across_backward_calls():
    x = cr.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 3.0 + 2 * x.data)
    x.zero_grad()
    assert x.grad is None


def test_first_gradient_is_a_copy():
    # sum's backward hands out a broadcast view; the leaf must own its .grad so that later
    # accumulation (in place) cannot write into an array that someone else holds
    x = cr.Tensor(np.ones(3), requires_grad=True)
    x.sum().backward()
    assert x._grad.flags.writeable and x._grad.flags.owndata
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_tensor_used_1000_times_gets_the_sum():
    x = cr.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    total = x * 0.0
    for i in range(1000):
        total = total + x * float(i)
    total.backward(grad=np.array([1.0, 2.0], np.float32))
    np.testing.assert_array_equal(x.grad, [499500.0, 999000.0])


def test_long_chain_does_not_hit_recursion_limit():
    x = cr.Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.00001**100_000, rtol=1e-9)


def test_diamond_graph_visits_shared_node_once():
    x = cr.Tensor(np.array(2.0), requires_grad=True)
    h = x * x  # shared by both branches
    (h * 3.0 + h.exp()).backward()
    np.testing.assert_allclose(x.grad, (3.0 + np.exp(4.0)) * 4.0)


def test_intermediate_tensors_get_no_grad_but_leaves_do():
    x = cr.Tensor(np.ones(2), requires_grad=True)
    h = x * 2.0
    h.sum().backward()
    assert h.grad is None and not h.is_leaf and x.is_leaf
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_backward_on_a_leaf_seeds_its_own_gradient():
    x = cr.Tensor(np.array(3.0), requires_grad=True)
    x.backward()
    assert x.grad == 1.0


# ------------------------------------------------------------ retain_graph
def test_retain_graph_allows_a_second_backward():
    x = cr.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, 4 * x.data)


def test_second_backward_without_retain_graph_raises():
    x = cr.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_through_a_freed_shared_subgraph_raises():
    x = cr.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2.0).sum().backward()


# ------------------------------------------------------------ bad requests
def test_backward_of_non_scalar_without_grad_gives_advice():
    y = cr.Tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\); reduce it first \(e.g. loss.sum\(\)"):
        y.backward()


def test_backward_with_wrong_gradient_shape():
    y = cr.Tensor(np.ones(3), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"gradient shape \(2,\) does not match tensor shape \(3,\)"):
        y.backward(grad=np.ones(2))


def test_backward_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        (cr.ones(2) * 2.0).sum().backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.Tensor([1, 2, 3], requires_grad=True),
        lambda: cr.tensor(np.arange(3), requires_grad=True),
        lambda: cr.arange(3, requires_grad=True),
        lambda: cr.Tensor(np.array([True, False])).requires_grad_(),
    ],
)
def test_requires_grad_on_non_floating_tensor_is_a_type_error(make):
    with pytest.raises(TypeError, match="requires_grad=True needs a floating tensor"):
        make()


# ------------------------------------------------------------------ no_grad
def test_no_grad_records_nothing():
    x = cr.Tensor(np.ones(2), requires_grad=True)
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = (x * 2.0).exp().sum()
        with cr.enable_grad():
            z = x * 3.0
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y._parents == ()
    assert z.requires_grad and z._parents


def test_no_grad_as_decorator():
    @cr.no_grad()
    def predict(x):
        return x * 2.0

    x = cr.Tensor(np.ones(2), requires_grad=True)
    assert not predict(x).requires_grad
    assert (x * 2.0).requires_grad


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with cr.no_grad():
            1 / 0
    assert cr.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = cr.Tensor(np.ones(2), requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.data, [2.0, 2.0])


# ------------------------------------------------------------- constructors
@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.tensor([1.0, 2.0]),
        lambda: cr.Tensor(3.0),
        lambda: cr.Tensor([[1, 2], [3, 4.5]]),
        lambda: cr.zeros(2, 3),
        lambda: cr.ones((2, 3)),
        lambda: cr.full((2,), 7.0),  # (an int fill value gives int64, as in PyTorch)
        lambda: cr.arange(0.0, 1.0, 0.25),
        lambda: cr.randn(2, 3, seed=0),
        lambda: cr.rand(4, seed=0),
        lambda: cr.zeros_like(cr.randn(2, seed=0)),
        lambda: cr.ones_like(cr.randn(2, seed=0)),
        lambda: cr.full_like(cr.randn(2, seed=0), 3.0),
        lambda: cr.randn_like(cr.zeros(3), seed=0),
        lambda: cr.rand_like(cr.zeros(3), seed=0),
    ],
)
def test_constructors_default_to_float32(make):
    assert make().dtype == np.float32


def test_constructor_shapes_values_and_dtype_argument():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((2, 3)).shape == (2, 3)
    assert cr.full(3, 2.5).tolist() == [2.5, 2.5, 2.5]
    assert cr.arange(4).dtype == np.int64 and cr.arange(4).tolist() == [0, 1, 2, 3]
    assert cr.randn(3, seed=0, dtype=np.float64).dtype == np.float64
    assert cr.zeros_like(np.ones(2, np.float64)).dtype == np.float64
    assert cr.tensor(np.ones(2, np.float64)).dtype == np.float64  # NumPy arrays keep their dtype
    assert cr.randn(2, 3, seed=0, requires_grad=True).requires_grad
    u = cr.rand(1000, seed=0).data
    assert u.min() >= 0.0 and u.max() < 1.0


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_same_seed_same_values(name):
    make = getattr(cr, name)
    np.testing.assert_array_equal(make(3, 4, seed=7).data, make(3, 4, seed=7).data)
    assert not np.array_equal(make(3, 4, seed=7).data, make(3, 4, seed=8).data)


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_generator_is_accepted_and_advances(name):
    make = getattr(cr, name)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    first, second = make(5, seed=g1), make(5, seed=g1)
    assert not np.array_equal(first.data, second.data)
    np.testing.assert_array_equal(first.data, make(5, seed=g2).data)
    assert cr.as_generator(g1) is g1


def test_bad_seed_is_a_type_error():
    with pytest.raises(TypeError, match="seed must be an int, a numpy.random.Generator"):
        cr.randn(2, seed="abc")


# ------------------------------------------------------------------- dtypes
def test_float32_graph_gives_float32_gradients_everywhere():
    """No float64 may leak through Python scalars anywhere in a float32 graph (checked before leaves cast)."""
    seen = []

    def probe(t):
        def backward(g):
            seen.append(g.dtype)
            return (g,)

        return result(t.data, (t,), backward, "probe")

    x = cr.Tensor(np.linspace(0.1, 1.0, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    w = cr.Tensor(np.full((4, 2), 0.5, np.float32), requires_grad=True)
    p = probe(x)
    h = ((p * 2.0 + 1) ** 2 / 3.0 - p.exp() * 0.5 + 2.0 ** p).sqrt() @ probe(w)
    h = h - h.mean(axis=0) + h.var(axis=1, keepdims=True) * 0.1 + h.max(axis=1, keepdims=True)
    h = cr.concat([h, h.T.reshape(3, 2)], axis=1)[[0, 0, 2], 1:].clip(-10, 10)
    loss = (cr.maximum(h, 0.1) / 4 + abs(h) - 1.5).sum() * 0.25
    assert loss.dtype == np.float32 and h.dtype == np.float32
    loss.backward()
    assert seen == [np.float32, np.float32]
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_float64_upstream_gradient_is_cast_to_the_tensor_dtype():
    seen = []
    x = cr.Tensor(np.ones(2, np.float32), requires_grad=True)
    y = result(x.data * 2, (x,), lambda g: (seen.append(g.dtype) or g * 2,), "probe")
    y.backward(grad=cr.Tensor(np.ones(2, np.float64)))
    assert seen == [np.float32] and x.grad.dtype == np.float32


def test_float64_graph_stays_float64():
    x = cr.Tensor(np.ones(3), requires_grad=True)
    assert x.dtype == np.float64
    (x * 2.0).sum().backward()
    assert x.grad.dtype == np.float64


# ------------------------------------------------------------- access, repr
def test_repr_is_readable():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.], dtype=float32)"
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], dtype=float32, requires_grad=True)"
    y = cr.tensor([1.0], requires_grad=True) * 2.0
    assert repr(y) == "tensor([2.], dtype=float32, grad_fn=mul)"
    assert repr(cr.Tensor(np.arange(3))) == "tensor([0, 1, 2], dtype=int64)"


def test_accessors():
    x = cr.Tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.numel() == 6 and len(x) == 2
    assert isinstance(x.numpy(), np.ndarray) and np.asarray(x).shape == (2, 3)
    assert cr.Tensor([[5.0]]).item() == 5.0
    with pytest.raises(ValueError, match=r"item\(\) needs a single-element tensor, got shape \(2, 3\)"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    assert x.astype(np.float32).dtype == np.float32 and x.float().dtype == np.float32


# ------------------------------------------------------------------ imports
def test_import_loads_only_numpy_and_the_standard_library():
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import chainrule\n"
        "new = {name.split('.')[0] for name in set(sys.modules) - before}\n"
        "print(' '.join(sorted(new - set(sys.stdlib_module_names) - {'numpy', 'chainrule'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [], f"import chainrule loaded third-party modules: {out.stdout}"


# ------------------------------------------------------------------ PyTorch's Tensor API (issue 15)
def test_grad_is_a_tensor_wrapping_the_gradient():
    torch = pytest.importorskip("torch")
    x = cr.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    tx = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    assert isinstance(x.grad, cr.Tensor) and x.grad is x.grad and not x.grad.requires_grad
    assert ((x.grad * x.grad).sum().sqrt().item()) == pytest.approx(tx.grad.norm().item(), rel=1e-12)
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    (x * x).sum().backward()  # accumulates into the zeroed gradient
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_grad_setter_checks_shape_and_takes_tensors_and_arrays():
    x = cr.Tensor(np.zeros(3), requires_grad=True)
    g = cr.Tensor(np.ones(3))
    x.grad = g
    assert x.grad is g
    x.grad = np.full(3, 2.0)
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        x.grad = np.ones(2)
    with pytest.raises(TypeError, match="dtype"):
        x.grad = cr.Tensor(np.ones(3, np.float32))
    x.grad = None
    assert x.grad is None


def test_in_place_edits_of_grad_reach_the_optimizer():
    w = cr.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = cr.optim.SGD([w], lr=1.0)
    (w * 2).sum().backward()
    opt.step()  # the gradient now lives in the flat buffer
    w.grad.mul_(0.5)  # the user scales it in place, as in torch
    before = w.data.copy()
    opt.step()
    np.testing.assert_allclose(w.data, before - 1.0)


def test_zero_grad_sets_none_by_default_and_the_old_grad_keeps_its_values():
    w = cr.Tensor(np.ones(3, np.float32), requires_grad=True)
    model = cr.nn.Linear(3, 2)
    opt = cr.optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.step()
    old = w.grad
    opt.zero_grad()
    assert w.grad is None
    (w * 5).sum().backward()  # written into the flat buffer the old gradient wrapped
    np.testing.assert_array_equal(old, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(w.grad, [5.0, 5.0, 5.0])
    model(cr.ones(1, 3)).sum().backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model(cr.ones(1, 3)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in model.parameters())


def test_size_dim_numel():
    torch = pytest.importorskip("torch")
    values = np.zeros((2, 3, 4))
    x, tx = cr.Tensor(values), torch.tensor(values)
    assert x.size() == tuple(tx.size()) and isinstance(x.size(), tuple) and isinstance(x.size(), cr.Size)
    assert x.size(1) == tx.size(1) and x.size(-1) == tx.size(-1)
    assert x.dim() == tx.dim() == x.ndimension() and x.numel() == tx.numel() == x.size().numel()
    assert x.element_size() == tx.element_size() and x.is_floating_point()
    with pytest.raises(IndexError, match="dim 3"):
        x.size(3)


def test_small_methods_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.5, -2.0], [0.0, 4.0]])
    x, tx = cr.Tensor(values), torch.tensor(values)
    assert x.tolist() == tx.tolist() and x[0, 0].item() == tx[0, 0].item()
    assert x.T.contiguous().is_contiguous() and x.contiguous() is x
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    c = x.clone()
    c.data[0, 0] = 99.0
    assert x.data[0, 0] == 1.5
    d = x.detach()
    assert d.data is x.data and d.is_leaf and not d.requires_grad


@pytest.mark.parametrize("method,arg", [("add_", 2.0), ("sub_", 0.5), ("mul_", 3.0), ("div_", 4.0), ("fill_", 7.0),
                                        ("copy_", np.array([1.0, 2.0]))])
def test_in_place_methods_match_torch(method, arg):
    torch = pytest.importorskip("torch")
    values = np.array([[1.5, -2.0], [0.0, 4.0]])
    x, tx = cr.Tensor(values.copy()), torch.tensor(values.copy())
    out = getattr(x, method)(arg)
    getattr(tx, method)(torch.tensor(arg) if isinstance(arg, np.ndarray) else arg)
    assert out is x
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = cr.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w += 1.0
    (w * 3).sum().backward()
    same = w
    with cr.no_grad():
        w -= 0.1 * w.grad  # the manual SGD update changes the parameter itself
        w.grad.zero_()
    assert w is same
    np.testing.assert_allclose(w.data, [0.7, 0.7])
    h = w * 2
    with pytest.raises(RuntimeError, match="part of a recorded graph"):
        h.mul_(2)


def test_int_tensor_in_place_with_a_float_is_refused_as_in_torch():
    x = cr.Tensor(np.array([1, 2]))
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += 0.5
    x += 2
    assert x.dtype == np.int64 and x.tolist() == [3, 4]


def test_setitem_in_place():
    x = cr.zeros(2, 3)
    x[0, 1:] = 5.0
    x[1] = cr.Tensor(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x, [[0, 5, 5], [1, 2, 3]])
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 1.0


def test_pytorch_update_idiom_on_data_updates_the_array_in_place():
    # param.data is an array here; `param.data -= lr * param.grad` must not rebind it to a Tensor
    w = cr.Tensor(np.ones(3), requires_grad=True)
    (w * 2).sum().backward()
    storage = w.data
    w.data -= 0.5 * w.grad
    assert w.data is storage and isinstance(w.data, np.ndarray)
    np.testing.assert_array_equal(w.data, [0.0, 0.0, 0.0])
    assert isinstance(np.ones(3) + w, cr.Tensor)  # ndarray (op) Tensor stays a Tensor op
    assert float(cr.Tensor([2.5])) == 2.5 and int(cr.Tensor(np.array([3]))) == 3


def test_format_spec_formats_a_0d_tensor_as_torch(torch):
    for value in [1.23456, -0.5]:
        for spec in [".2f", ".3e", "8.4f"]:
            assert f"{cr.tensor(value):{spec}}" == f"{torch.tensor(value):{spec}}"
    assert f"{cr.tensor(7):d}" == "7"
    assert f"{cr.tensor([1.0])}" == str(cr.tensor([1.0]))
    with pytest.raises(TypeError):
        f"{cr.tensor([1.0, 2.0]):.2f}"  # as torch: only 0-d tensors take a format spec


def test_in_place_ops_on_0d_results_as_torch(torch):
    # NumPy returns scalars for ops on 0-d arrays; the in-place methods still work (the tutorial's
    # running_corrects += torch.sum(preds == labels.data))
    results = []
    for lib in (cr, torch):
        running = 0
        for labels in ([1, 2, 3], [1, 0, 3]):
            running += lib.sum(lib.tensor([1, 2, 3]) == lib.tensor(labels))
        x = lib.tensor(2.0) * 3
        x.clamp_(0, 5)
        x += 1.5
        x *= 2
        y = -lib.tensor(4.0)
        y.zero_()
        y.add_(lib.tensor(2.5))
        z = lib.tensor([1.0, 2.0])[0] * 1
        z[()] = 9.0
        w = lib.tensor(3.0).sqrt()
        w.copy_(lib.tensor(0.25))
        results.append([running.item(), (running.double() / 6).item(), x.item(), y.item(), z.item(), w.item()])
    assert results[0] == results[1]
