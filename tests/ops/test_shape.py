"""Tests for chainrule/ops/shape.py: reshape, transpose, permute, squeeze, unsqueeze, flatten, expand,
concat, stack, split, pad."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import shape as sh


def _torch_pad(pairs):
    """NumPy-style per-axis (before, after) pairs -> torch.nn.functional.pad's last-axis-first flat list."""
    return [n for before, after in reversed(pairs) for n in (before, after)]


# id: (input shapes, chainrule fn, torch fn (T is the torch module))
CASES = {
    "reshape": ([(2, 3, 4)], lambda x: sh.reshape(x, (4, -1)), lambda T, x: x.reshape(4, -1)),
    "reshape_method": ([(2, 3, 4)], lambda x: x.reshape(3, 2, 4), lambda T, x: x.reshape(3, 2, 4)),
    "reshape_to_scalar": ([(1, 1)], lambda x: sh.reshape(x, ()), lambda T, x: x.reshape(())),
    "transpose_default": ([(2, 3, 4)], sh.transpose, lambda T, x: x.permute(2, 1, 0)),
    "transpose_T": ([(3, 4)], lambda x: x.T, lambda T, x: x.T),
    "transpose_axes": ([(2, 3, 4)], lambda x: sh.transpose(x, (1, 0, 2)), lambda T, x: x.permute(1, 0, 2)),
    "permute": ([(2, 3, 4)], lambda x: sh.permute(x, (2, 0, 1)), lambda T, x: x.permute(2, 0, 1)),
    "permute_negative": ([(2, 3, 4)], lambda x: x.permute(-1, 0, -2), lambda T, x: x.permute(-1, 0, -2)),
    "swapaxes": ([(2, 3, 4)], lambda x: sh.swapaxes(x, 0, -1), lambda T, x: x.transpose(0, -1)),
    "swapaxes_method": ([(2, 3, 4)], lambda x: x.swapaxes(1, 2), lambda T, x: x.transpose(1, 2)),
    "squeeze_all": ([(2, 1, 3, 1)], sh.squeeze, lambda T, x: x.squeeze()),
    "squeeze_axis": ([(2, 1, 3, 1)], lambda x: sh.squeeze(x, 1), lambda T, x: x.squeeze(1)),
    "squeeze_negative": ([(2, 1, 3, 1)], lambda x: x.squeeze(-1), lambda T, x: x.squeeze(-1)),
    "squeeze_tuple": ([(2, 1, 3, 1)], lambda x: sh.squeeze(x, (1, -1)), lambda T, x: x.squeeze((1, 3))),
    "unsqueeze_front": ([(2, 3)], lambda x: sh.unsqueeze(x, 0), lambda T, x: x.unsqueeze(0)),
    "unsqueeze_middle": ([(2, 3)], lambda x: x.unsqueeze(1), lambda T, x: x.unsqueeze(1)),
    "unsqueeze_end": ([(2, 3)], lambda x: sh.unsqueeze(x, -1), lambda T, x: x.unsqueeze(-1)),
    "flatten": ([(2, 3, 4)], sh.flatten, lambda T, x: x.flatten()),
    "flatten_from_1": ([(2, 3, 4)], lambda x: x.flatten(1), lambda T, x: x.flatten(1)),
    "flatten_middle": ([(2, 3, 4, 2)], lambda x: sh.flatten(x, 1, -2), lambda T, x: x.flatten(1, -2)),
    "expand": ([(3, 1)], lambda x: sh.expand(x, (2, 3, 4)), lambda T, x: x.expand(2, 3, 4)),
    "expand_keep": ([(1, 4)], lambda x: x.expand(3, -1), lambda T, x: x.expand(3, -1)),
    "expand_scalar": ([()], lambda x: sh.expand(x, (2, 3)), lambda T, x: x.expand(2, 3)),
    "concat": ([(2, 3), (1, 3), (4, 3)], lambda *ts: sh.concat(ts, 0), lambda T, *ts: T.cat(ts, 0)),
    "concat_last": ([(2, 1, 2), (2, 1, 3)], lambda a, b: sh.concat([a, b], axis=-1), lambda T, a, b: T.cat([a, b], -1)),
    "concat_same_twice": ([(2, 3)], lambda x: sh.concat([x, x * 2.0], 1), lambda T, x: T.cat([x, x * 2.0], 1)),
    "stack": ([(2, 3)] * 3, lambda *ts: sh.stack(ts), lambda T, *ts: T.stack(ts)),
    "stack_middle": ([(2, 3), (2, 3)], lambda *ts: sh.stack(ts, 1), lambda T, *ts: T.stack(ts, 1)),
    "stack_last": ([(2, 3), (2, 3)], lambda *ts: sh.stack(list(ts), -1), lambda T, *ts: T.stack(ts, -1)),
    "split_size": ([(5, 2)], lambda x: sh.split(x, 2), lambda T, x: T.split(x, 2)),
    "split_sizes": ([(2, 6)], lambda x: sh.split(x, [1, 0, 3, 2], axis=1), lambda T, x: T.split(x, [1, 0, 3, 2], 1)),
    "split_partial_use": ([(4, 3)], lambda x: sh.split(x, 2, -1)[0], lambda T, x: T.split(x, 2, -1)[0]),
    "pad_int": ([(2, 3)], lambda x: sh.pad(x, 1), lambda T, x: T.nn.functional.pad(x, [1, 1, 1, 1])),
    "pad_pair": ([(2, 3)], lambda x: sh.pad(x, (2, 1), value=1.5),
                 lambda T, x: T.nn.functional.pad(x, _torch_pad([(2, 1), (2, 1)]), value=1.5)),
    "pad_per_axis": ([(2, 3, 2)], lambda x: sh.pad(x, ((0, 0), (1, 2), (3, 0))),
                     lambda T, x: T.nn.functional.pad(x, _torch_pad([(0, 0), (1, 2), (3, 0)]))),
}


def _inputs(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name, rng):
    shapes, fn, _ = CASES[name]
    assert cr.gradcheck(fn, _inputs(rng, shapes))


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, rng, compare_torch, torch):
    shapes, fn, torch_fn = CASES[name]
    compare_torch(fn, lambda *ts: torch_fn(torch, *ts), *_inputs(rng, shapes))


def test_concat_of_one_tensor_with_itself_sums_gradients():
    x = cr.Tensor(np.arange(3.0), requires_grad=True)
    sh.concat([x, x, x]).backward(grad=np.arange(9.0))
    np.testing.assert_array_equal(x.grad, [9.0, 12.0, 15.0])


def test_concat_and_stack_skip_inputs_without_grad():
    x = cr.Tensor(np.ones((2, 2)), requires_grad=True)
    c = np.zeros((2, 2))
    sh.concat([c, x]).sum().backward()
    sh.stack([x, c]).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 2.0))


def test_split_returns_tuple_of_expected_shapes():
    pieces = sh.split(cr.zeros(7, 2), 3)
    assert isinstance(pieces, tuple) and [p.shape for p in pieces] == [(3, 2), (3, 2), (1, 2)]


def test_expand_is_a_view_with_summed_gradient():
    x = cr.Tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    y = sh.expand(x, (3, 2, 4))
    assert np.shares_memory(y.data, x.data)
    y.backward(grad=np.ones((3, 2, 4)))
    np.testing.assert_array_equal(x.grad, [[12.0], [12.0]])


def test_flatten_zero_dim():
    assert sh.flatten(cr.Tensor(np.array(3.0))).shape == (1,)


# ----------------------------------------------------------------------- errors
ERRORS = {
    "reshape_size": (lambda: sh.reshape(cr.zeros(2, 3), (4, 2)), ValueError,
                     r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"),
    "reshape_two_unknowns": (lambda: sh.reshape(cr.zeros(2, 3), (-1, -1)), ValueError, r"reshape: .*\(2, 3\)"),
    "reshape_float": (lambda: sh.reshape(cr.zeros(2, 3), (2.0, 3)), TypeError, r"reshape: shape must contain only ints"),
    "transpose_partial": (lambda: sh.transpose(cr.zeros(2, 3, 4), (0, 1)), ValueError,
                          r"transpose: axes \(0, 1\) are not a permutation of the 3 axes"),
    "permute_repeat": (lambda: sh.permute(cr.zeros(2, 3), (0, 0)), ValueError, r"permute: axes \(0, 0\) repeat an axis"),
    "squeeze_not_one": (lambda: sh.squeeze(cr.zeros(2, 3), 1), ValueError,
                        r"squeeze: axis 1 has size 3, not 1 \(tensor shape \(2, 3\)\)"),
    "squeeze_range": (lambda: sh.squeeze(cr.zeros(2, 1), 2), ValueError,
                      r"squeeze: axis 2 is out of range for a tensor with 2 axes"),
    "unsqueeze_range": (lambda: sh.unsqueeze(cr.zeros(2, 3), 3), ValueError,
                        r"unsqueeze: axis 3 is out of range for a tensor with 3 axes"),
    "flatten_order": (lambda: sh.flatten(cr.zeros(2, 3, 4), 2, 1), ValueError,
                      r"flatten: start_dim 2 comes after end_dim 1"),
    "expand_size": (lambda: sh.expand(cr.zeros(2, 3), (2, 4)), ValueError,
                    r"expand: cannot expand tensor of shape \(2, 3\) to \(2, 4\): axis 1 has size 3"),
    "expand_fewer": (lambda: sh.expand(cr.zeros(2, 3), (3,)), ValueError, r"expand: target shape \(3,\) has fewer axes"),
    "expand_new_minus_one": (lambda: sh.expand(cr.zeros(3), (-1, 3)), ValueError,
                             r"expand: -1 cannot be the size of new leading axis 0"),
    "concat_shapes": (lambda: sh.concat([cr.zeros(2, 3), cr.zeros(2, 4)]), ValueError,
                      r"concat: tensors must have the same shape except along axis 0, got shapes \(2, 3\), \(2, 4\)"),
    "concat_ndim": (lambda: sh.concat([cr.zeros(2, 3), cr.zeros(3)]), ValueError, r"concat: .*\(2, 3\), \(3,\)"),
    "concat_axis": (lambda: sh.concat([cr.zeros(2, 3)], axis=2), ValueError, r"concat: axis 2 is out of range"),
    "concat_empty": (lambda: sh.concat([]), ValueError, r"concat: expected at least one tensor"),
    "concat_not_list": (lambda: sh.concat(cr.zeros(2, 3)), TypeError,
                        r"concat: expected a list or tuple of tensors, got Tensor"),
    "stack_shapes": (lambda: sh.stack([cr.zeros(2, 3), cr.zeros(3, 2)]), ValueError,
                     r"stack: tensors must all have the same shape, got shapes \(2, 3\), \(3, 2\)"),
    "split_sizes": (lambda: sh.split(cr.zeros(5), [2, 2]), ValueError,
                    r"split: sizes \[2, 2\] must be non-negative ints adding up to 5"),
    "split_zero": (lambda: sh.split(cr.zeros(5), 0), ValueError, r"split: chunk size must be positive"),
    "pad_too_many": (lambda: sh.pad(cr.zeros(2, 3), ((1, 1), (1, 1), (1, 1))), ValueError,
                     r"pad: pad_width .* does not fit a tensor of shape \(2, 3\)"),
    "pad_negative": (lambda: sh.pad(cr.zeros(2, 3), -1), ValueError, r"pad: pad_width -1"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_name_op_and_shapes(name):
    call, error, match = ERRORS[name]
    with pytest.raises(error, match=match):
        call()
