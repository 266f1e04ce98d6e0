"""Tests for chainrule/ops/indexing.py: ``getitem`` (``x[index]``) and ``setitem`` (``x[index] = value``)."""

import numpy as np
import pytest

from torch64 import compare64

import chainrule as cr
from chainrule.ops.indexing import getitem

MASK_2D = np.array([[True, False, True, False, False], [False] * 5, [True] * 5, [False, True, False, False, True]])
MASK_1D = np.array([True, False, True, True])

# indices into an array of shape (4, 5, 3)
INDICES = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, 3),
    "negative_step": slice(None, None, -2),
    "tuple_int_slice_int": (1, slice(None), 2),
    "ellipsis": (Ellipsis, 1),
    "none": (None, slice(None), 1),
    "ellipsis_none": (0, Ellipsis, None),
    "list_repeated": [0, 2, 2, 3],
    "list_negative": [-1, -1, 0],
    "array_2d": np.array([[0, 1], [1, 0]]),
    "tensor_ints": cr.Tensor(np.array([3, 3, 0])),
    "two_arrays": ([0, 1, 1], [2, 2, 4]),
    "slice_then_array": (slice(None), [4, 0, 4]),
    "array_slice_array": ([1, 1, 3], slice(0, 4), [0, 0, 2]),
    "mask_2d": MASK_2D,
    "mask_tensor": cr.Tensor(MASK_1D),
    "mask_and_array": (MASK_1D, slice(None), [0, 2, 2]),
    "empty_list": [],
    # an integer with an index array: torch selects with the integer first (NumPy would move the
    # selected dims to the front when a slice separates them)
    "int_slice_list": (0, slice(None), [1, 2]),
    "slice_int_list": (slice(None), 0, [2, 0]),
    "slice_list_slice": (slice(None), [0, 1], slice(None)),
    "list_slice_list": ([0, 1], slice(None), [1, 2]),
    "int_list_adjacent": (1, [0, 3, 3]),
    "list_int": ([3, 0], 2),
    "list_slice_int": ([3, 0], slice(1, 4), 2),
    "int_slice_mask": (2, slice(None), np.array([True, False, True])),
    "mask_slice_int": (MASK_1D, slice(None), -1),
    "none_int_slice_list": (None, 0, slice(None), [1]),
    "int_none_list": (1, None, [0, 4]),
    "ellipsis_list_int": (Ellipsis, [0, 2], 1),
    "int_ellipsis_list": (0, Ellipsis, [2, 1]),
    "zero_d_tensor_slice_list": (cr.Tensor(np.array(3)), slice(None), [0, 2]),
    "int_list_list": (2, [0, 1], [1, 2]),
    "int_2d_array_slice": (1, np.array([[0, 1], [4, 4]]), slice(None)),
    "list_int_list": ([0, 1], 3, [2, 0]),
    "int_slice_2d_array": (3, slice(1, None), np.array([[0], [2]])),
}


# torch has no negative slice steps: the same elements, read another way
TORCH_OVERRIDES = {"negative_step": lambda x: x.flip(0)[::2]}


def _to_torch(torch, index):
    """The same index for torch: arrays and chainrule tensors become torch tensors."""
    if isinstance(index, tuple):
        return tuple(_to_torch(torch, part) for part in index)
    if isinstance(index, cr.Tensor):
        index = index.numpy()
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    if isinstance(index, list) and not index:
        return torch.zeros(0, dtype=torch.long)
    return index


@pytest.mark.parametrize("name", INDICES)
def test_gradcheck(name, rng):
    index = INDICES[name]
    assert cr.gradcheck(lambda x: getitem(x, index), [rng.standard_normal((4, 5, 3))])


@pytest.mark.parametrize("name", INDICES)
def test_matches_torch(name, rng, torch):
    index = INDICES[name]
    torch_index = _to_torch(torch, index)
    theirs = TORCH_OVERRIDES.get(name, lambda x: x[torch_index])
    compare64(torch, lambda x: x[index], theirs, rng.standard_normal((4, 5, 3)))


@pytest.mark.parametrize("name", ["int_slice_list", "list_slice_list", "mask_and_array", "array_2d"])
def test_float32_stays_float32(name, rng, compare_torch, torch):
    index = INDICES[name]
    torch_index = _to_torch(torch, index)
    compare_torch(lambda x: x[index], lambda x: x[torch_index], rng.standard_normal((4, 5, 3)))


# ---------------------------------------------------------------------------------------- setitem
@pytest.mark.parametrize("name", [n for n in INDICES if n not in TORCH_OVERRIDES and n != "empty_list"])
def test_setitem_matches_torch(name, rng, torch):
    index = INDICES[name]
    x = rng.standard_normal((4, 5, 3))
    theirs = torch.tensor(x)
    selected_shape = tuple(theirs[_to_torch(torch, index)].shape)
    value = rng.standard_normal(selected_shape[1:])  # broadcast over the first selected dim
    theirs[_to_torch(torch, index)] = torch.tensor(value)
    ours = cr.Tensor(x.copy())
    ours[index] = cr.Tensor(value)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_setitem_writes_in_place_and_shows_in_views():
    x = cr.Tensor(np.zeros((2, 3)))
    row = x[0]
    x[0, 1:] = 5.0
    np.testing.assert_array_equal(row.numpy(), [0.0, 5.0, 5.0])


def test_setitem_on_a_parameter_needs_no_grad():
    w = cr.Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: a leaf Variable that requires grad is being used in an in-place operation"):
        w[0] = 1.0
    with cr.no_grad():
        w[0] = 1.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 0.0, 0.0])


def test_setitem_into_a_graph_or_of_a_graph_value_raises():
    w = cr.Tensor(np.ones(3), requires_grad=True)
    h = w * 2.0
    with pytest.raises(RuntimeError, match="setitem: in-place operations on a tensor that is part of a recorded graph"):
        h[0] = 0.0
    buffer = cr.zeros(3)
    with pytest.raises(RuntimeError, match="setitem: the value requires grad"):
        buffer[0] = w[1]


def test_repeated_indices_accumulate():
    x = cr.Tensor(np.zeros(3), requires_grad=True)
    x[[0, 0, 0, 2]].backward(grad=np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [6.0, 0.0, 4.0])


def test_repeated_use_of_indexed_tensor():
    # x feeds two getitems and a multiply: every path's gradient adds up
    assert cr.gradcheck(lambda x: x[1:] * x[:-1] + x[[0, 0, 1]].sum(), [np.linspace(-1, 1, 4)])


def test_basic_index_output_and_gradient():
    x = cr.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[1:, ::2]
    np.testing.assert_array_equal(y.data, [[4.0, 6.0], [8.0, 10.0]])
    y.backward(grad=np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 0], [1, 0, 2, 0], [3, 0, 4, 0]])


def test_float32_gradient():
    x = cr.Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    x[[0, 0]].sum().backward()
    assert x.grad.dtype == np.float32


def test_iteration_uses_getitem():
    x = cr.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    total = sum(v * v for v in x)
    total.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


# ----------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "index, match",
    [
        (4, r"getitem: index 4 is out of bounds for axis 0 with size 4"),
        ((0, 7), r"getitem: index 7 is out of bounds for axis 1 with size 5"),
        ((Ellipsis, -4), r"getitem: index -4 is out of bounds for axis 2 with size 3"),
        ([0, 9], r"getitem: index 9 is out of bounds for axis 0 with size 4"),
        ((slice(None), cr.Tensor(np.array([1, 5]))), r"getitem: index 5 is out of bounds for axis 1 with size 5"),
        ((0, 0, 0, 0), r"getitem: .*tensor shape \(4, 5, 3\)"),
    ],
)
def test_out_of_range_raises_index_error(index, match):
    with pytest.raises(IndexError, match=match):
        cr.zeros(4, 5, 3)[index]


def test_float_index_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="getitem: index arrays must hold integers or booleans, got dtype float32"):
        cr.zeros(4)[cr.Tensor([0.0, 1.0])]


# ------------------------------------------------------------------ random mixed indices against torch
def _random_index(gen, shape):
    """A tuple of 1-4 random parts (int, 0-d tensor, slice, list, 2-d array, mask, None, ...) for ``shape``."""
    parts, dim, ellipsis = [], 0, False
    for _ in range(gen.integers(1, 5)):
        kind = gen.choice(["int", "tensor0d", "slice", "list", "array2d", "mask", "none", "ellipsis"])
        if kind == "none":
            parts.append(None)
        elif kind == "ellipsis" and not ellipsis:
            parts.append(Ellipsis)
            ellipsis, dim = True, None  # no dim count after an ellipsis: later parts index from the end
        elif dim is not None and dim < len(shape) and kind not in ("none", "ellipsis"):
            n = shape[dim]
            parts.append({
                "int": lambda: int(gen.integers(-n, n)),
                "tensor0d": lambda: cr.Tensor(np.array(int(gen.integers(0, n)))),
                "slice": lambda: slice(int(gen.integers(0, 2)), int(gen.integers(2, n + 1))),
                "list": lambda: [int(v) for v in gen.integers(-n, n, gen.integers(1, 4))],
                "array2d": lambda: gen.integers(0, n, (2, 1)),
                "mask": lambda: gen.random(n) < 0.6,
            }[kind]())
            dim += 1
    return tuple(parts)


def test_random_mixed_indices_match_torch(torch):
    # 120 seeded index expressions (a fuzz run of 3,000 found no difference): output, gradient and assignment
    gen = np.random.default_rng(7)
    x = gen.standard_normal((4, 5, 3, 2))
    compared = 0
    for _ in range(120):
        index = _random_index(gen, x.shape)
        theirs = torch.tensor(x, requires_grad=True)
        try:
            expected = theirs[_to_torch(torch, index)]
        except (IndexError, RuntimeError):  # e.g. index arrays that do not broadcast together
            with pytest.raises((IndexError, ValueError)):
                cr.Tensor(x)[index]
            continue
        ours = cr.Tensor(x.copy(), requires_grad=True)
        out = ours[index]
        assert out.shape == tuple(expected.shape), index
        np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
        upstream = gen.standard_normal(out.shape)
        out.backward(grad=upstream)
        expected.backward(torch.from_numpy(upstream))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=0, err_msg=str(index))
        value = gen.standard_normal(out.shape[1:])
        target, reference = cr.Tensor(x.copy()), torch.tensor(x)
        target[index] = value
        reference[_to_torch(torch, index)] = torch.from_numpy(value)
        np.testing.assert_array_equal(target.numpy(), reference.numpy(), err_msg=str(index))
        compared += 1
    assert compared > 90
