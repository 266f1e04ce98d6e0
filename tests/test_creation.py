"""chainrule/creation.py: constructors named and typed as torch's, the global generator, generator=."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor

torch = pytest.importorskip("torch")


def _same(ours, theirs):
    assert isinstance(ours, Tensor)
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), theirs.double().numpy(), rtol=1e-6, atol=1e-7)


CASES = [
    ("tensor ints", lambda m: m.tensor([1, 2])),
    ("tensor floats", lambda m: m.tensor([1.0, 2.0])),
    ("tensor bools", lambda m: m.tensor([True, False])),
    ("tensor mixed", lambda m: m.tensor([[1, 2.5]])),
    ("tensor float64 array", lambda m: m.tensor(np.array([1.0, 2.0]))),
    ("tensor int32 array", lambda m: m.tensor(np.array([1, 2], np.int32))),
    ("tensor dtype", lambda m: m.tensor([1, 2], dtype=m.float64)),
    ("as_tensor", lambda m: m.as_tensor([1.5, 2.0])),
    ("zeros", lambda m: m.zeros(2, 3)),
    ("zeros int64", lambda m: m.zeros(2, 3, dtype=m.int64)),
    ("ones tuple", lambda m: m.ones((2, 3))),
    ("full int", lambda m: m.full((2,), 7)),
    ("full float", lambda m: m.full((2,), 7.0)),
    ("full bool", lambda m: m.full((2,), True)),
    ("full dtype", lambda m: m.full((2, 2), 3, dtype=m.float64)),
    ("eye", lambda m: m.eye(3)),
    ("eye rect", lambda m: m.eye(2, 3)),
    ("arange int", lambda m: m.arange(5)),
    ("arange start", lambda m: m.arange(2, 9, 3)),
    ("arange float", lambda m: m.arange(0, 1, 0.25)),
    ("arange float end", lambda m: m.arange(3.0)),
    ("linspace", lambda m: m.linspace(-1, 1, 7)),
    ("logspace", lambda m: m.logspace(0, 2, 5)),
    ("zeros_like", lambda m: m.zeros_like(m.tensor([1, 2]))),
    ("ones_like", lambda m: m.ones_like(m.tensor([1.0, 2.0]))),
    ("full_like", lambda m: m.full_like(m.tensor([1, 2]), 4)),
]


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_constructor_matches_torch(name, make):
    _same(make(cr), make(torch))


def test_empty_has_the_shape_and_dtype():
    assert cr.empty(2, 3).shape == (2, 3) and cr.empty(2, dtype=cr.int64).dtype == cr.int64
    assert cr.empty_like(cr.zeros(4, dtype=cr.float64)).dtype == cr.float64


def test_tensor_copies_and_from_numpy_shares():
    array = np.array([1.0, 2.0])
    copied, shared, as_t = cr.tensor(array), cr.from_numpy(array), cr.as_tensor(array)
    array[0] = 9.0
    assert copied.data[0] == 1.0 and shared.data[0] == 9.0 and as_t.data[0] == 9.0
    assert shared.dtype == cr.float64
    with pytest.raises(TypeError, match="numpy.ndarray"):
        cr.from_numpy([1.0])


def test_requires_grad_and_device_arguments():
    x = cr.ones(2, requires_grad=True, device="cpu")
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="accelerators"):
        cr.zeros(2, device="cuda")


# --------------------------------------------------------------------------- randomness
RANDOM = [
    lambda **kw: cr.randn(2, 3, **kw),
    lambda **kw: cr.rand(4, **kw),
    lambda **kw: cr.randint(0, 10, (5,), **kw),
    lambda **kw: cr.randperm(6, **kw),
    lambda **kw: cr.normal(1.0, 2.0, (3,), **kw),
    lambda **kw: cr.randn_like(cr.zeros(3), **kw),
]


@pytest.mark.parametrize("make", RANDOM)
def test_manual_seed_makes_draws_repeatable_and_equals_seed(make):
    cr.manual_seed(123)
    first = make()
    cr.manual_seed(123)
    np.testing.assert_array_equal(make(), first)
    np.testing.assert_array_equal(make(seed=123), first)  # the global stream of manual_seed(s) is seed=s's
    gen = cr.Generator().manual_seed(123)
    np.testing.assert_array_equal(make(generator=gen), first)
    assert not np.array_equal(make(generator=gen), first)  # the generator moves on


def test_random_dtypes_match_torch():
    for ours, theirs in [
        (cr.randn(2), torch.randn(2)), (cr.rand(2), torch.rand(2)), (cr.randint(5, (2,)), torch.randint(5, (2,))),
        (cr.randperm(3), torch.randperm(3)), (cr.normal(0.0, 1.0, (2,)), torch.normal(0.0, 1.0, (2,))),
    ]:
        assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    values = cr.randint(2, 5, (200,), seed=0).numpy()
    assert values.min() >= 2 and values.max() < 5
    assert sorted(cr.randperm(10, seed=0).tolist()) == list(range(10))


def test_manual_seed_reaches_layers_and_dropout():
    cr.manual_seed(7)
    a = cr.nn.Linear(3, 4)
    drop_a = cr.dropout(cr.ones(50), 0.5, training=True)
    cr.manual_seed(7)
    b = cr.nn.Linear(3, 4)
    drop_b = cr.dropout(cr.ones(50), 0.5, training=True)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(drop_a, drop_b)


def test_seed_and_generator_together_is_an_error():
    with pytest.raises(ValueError, match="not both"):
        cr.randn(2, seed=0, generator=cr.Generator())


@pytest.mark.parametrize("name", ["normal_", "uniform_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                  "kaiming_normal_", "orthogonal_"])
def test_init_functions_take_a_generator(name):
    fill = getattr(cr.nn.init, name)
    a, b, c = (Tensor(np.zeros((3, 4))) for _ in range(3))
    fill(a, generator=cr.Generator().manual_seed(5))
    fill(b, seed=5)
    cr.manual_seed(5)
    fill(c)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "randn", "rand"])
def test_size_keyword_as_torch(name):
    fn = getattr(cr, name)
    assert fn(size=(2, 3)).shape == fn(2, 3).shape == fn((2, 3)).shape == fn([2, 3]).shape == (2, 3)
    assert fn(size=4).shape == (4,)
    with pytest.raises(TypeError, match="not both"):
        fn(2, size=(2,))


def test_multinomial_draws_in_proportion_to_the_weights():
    weights = cr.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]])
    draws = cr.multinomial(weights, 4000, replacement=True, generator=cr.Generator().manual_seed(0))
    assert draws.dtype == np.int64 and draws.shape == (2, 4000)
    freq = np.stack([np.bincount(row, minlength=3) / 4000 for row in draws.numpy()])
    np.testing.assert_allclose(freq, [[0.25, 0.0, 0.75], [0.0, 0.5, 0.5]], atol=0.03)
    no_repeat = cr.multinomial(cr.tensor([1.0, 1.0, 1.0, 0.0]), 3, seed=1)
    assert sorted(no_repeat.tolist()) == [0, 1, 2]  # without replacement: each index once, never the zero weight
    cr.manual_seed(5)
    first = cr.tensor([0.2, 0.8]).multinomial(10, replacement=True)
    cr.manual_seed(5)
    np.testing.assert_array_equal(first.numpy(), cr.multinomial(cr.tensor([0.2, 0.8]), 10, replacement=True).numpy())


@pytest.mark.parametrize("weights, num_samples, message", [
    ([1.0, 0.0], 2, "without replacement"), ([0.0, 0.0], 1, "sums to 0"), ([1.0, -1.0], 1, "non-negative"),
    ([[[1.0]]], 1, "1-D or 2-D"), ([1.0], 0, "positive int"),
])
def test_multinomial_bad_input(weights, num_samples, message):
    with pytest.raises(ValueError, match=message):
        cr.multinomial(cr.tensor(weights), num_samples)


def test_bernoulli_draws_ones_with_the_given_probabilities():
    p = cr.tensor(np.array([0.0, 0.3, 1.0] * 2000, dtype=np.float64))
    draws = cr.bernoulli(p, generator=cr.Generator().manual_seed(0))
    assert draws.dtype == np.float64 and set(np.unique(draws.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.numpy().reshape(-1, 3).mean(0), [0.0, 0.3, 1.0], atol=0.03)
    assert cr.zeros(4).bernoulli(p=1.0).tolist() == [1.0] * 4
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cr.bernoulli(cr.tensor([1.5]))
