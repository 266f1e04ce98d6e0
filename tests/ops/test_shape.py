"""Tests for chainrule/ops/shape.py (reshape, transpose, permute, movedim, squeeze, unsqueeze, flatten, expand,
cat, stack, split, chunk, unbind, narrow, pad) and chainrule/ops/rearrange.py (flip, roll, repeat,
repeat_interleave, tril, triu), against PyTorch with the same arguments."""

import numpy as np
import pytest

from torch64 import compare64

import chainrule as cr
from chainrule.ops import rearrange as ra
from chainrule.ops import shape as sh


def _torch_pad(pairs):
    """NumPy-style per-axis (before, after) pairs -> torch.nn.functional.pad's last-axis-first flat list."""
    return [n for before, after in reversed(pairs) for n in (before, after)]


# id: (input shapes, chainrule fn, torch fn (T is the torch module))
CASES = {
    "reshape": ([(2, 3, 4)], lambda x: sh.reshape(x, (4, -1)), lambda T, x: x.reshape(4, -1)),
    "reshape_method": ([(2, 3, 4)], lambda x: x.reshape(3, 2, 4), lambda T, x: x.reshape(3, 2, 4)),
    "reshape_to_scalar": ([(1, 1)], lambda x: sh.reshape(x, ()), lambda T, x: x.reshape(())),
    "transpose_01": ([(2, 3, 4)], lambda x: x.transpose(0, 1), lambda T, x: x.transpose(0, 1)),
    "transpose_2d": ([(3, 4)], lambda x: x.transpose(1, 0), lambda T, x: x.transpose(1, 0)),
    "transpose_fn": ([(2, 3, 4)], lambda x: cr.transpose(x, -1, 0), lambda T, x: T.transpose(x, -1, 0)),
    "transpose_same": ([(2, 3)], lambda x: x.transpose(1, 1), lambda T, x: x.transpose(1, 1)),
    "T": ([(3, 4)], lambda x: x.T, lambda T, x: x.T),
    "T_3d": ([(2, 3, 4)], lambda x: x.T, lambda T, x: x.permute(2, 1, 0)),  # torch's x.T on 3-d: deprecated
    "mT": ([(2, 3, 4)], lambda x: x.mT, lambda T, x: x.mT),
    "t": ([(3, 4)], lambda x: x.t(), lambda T, x: x.t()),
    "t_1d": ([(3,)], cr.t, lambda T, x: T.t(x)),
    "swapdims": ([(2, 3, 4)], lambda x: x.swapdims(0, 2), lambda T, x: x.swapdims(0, 2)),
    "movedim": ([(2, 3, 4)], lambda x: x.movedim(0, -1), lambda T, x: x.movedim(0, -1)),
    "movedim_many": ([(2, 3, 4, 5)], lambda x: cr.movedim(x, (0, 1), (3, 0)),
                     lambda T, x: T.movedim(x, (0, 1), (3, 0))),
    "permute": ([(2, 3, 4)], lambda x: sh.permute(x, (2, 0, 1)), lambda T, x: x.permute(2, 0, 1)),
    "permute_fn": ([(2, 3, 4)], lambda x: cr.permute(x, (1, 2, 0)), lambda T, x: T.permute(x, (1, 2, 0))),
    "permute_negative": ([(2, 3, 4)], lambda x: x.permute(-1, 0, -2), lambda T, x: x.permute(-1, 0, -2)),
    "swapaxes": ([(2, 3, 4)], lambda x: sh.swapaxes(x, 0, -1), lambda T, x: x.transpose(0, -1)),
    "swapaxes_method": ([(2, 3, 4)], lambda x: x.swapaxes(1, 2), lambda T, x: x.transpose(1, 2)),
    "squeeze_all": ([(2, 1, 3, 1)], sh.squeeze, lambda T, x: x.squeeze()),
    "squeeze_axis": ([(2, 1, 3, 1)], lambda x: sh.squeeze(x, 1), lambda T, x: x.squeeze(1)),
    "squeeze_negative": ([(2, 1, 3, 1)], lambda x: x.squeeze(-1), lambda T, x: x.squeeze(-1)),
    "squeeze_tuple": ([(2, 1, 3, 1)], lambda x: sh.squeeze(x, (1, -1)), lambda T, x: x.squeeze((1, 3))),
    "squeeze_not_one": ([(2, 1, 3)], lambda x: x.squeeze(0), lambda T, x: x.squeeze(0)),  # a no-op in torch
    "squeeze_dim_kw": ([(2, 1, 3, 1)], lambda x: x.squeeze(dim=(0, 1)), lambda T, x: x.squeeze(dim=(0, 1))),
    "squeeze_axis_kw": ([(2, 1, 3)], lambda x: cr.squeeze(x, axis=1), lambda T, x: x.squeeze(1)),
    "unsqueeze_front": ([(2, 3)], lambda x: sh.unsqueeze(x, 0), lambda T, x: x.unsqueeze(0)),
    "unsqueeze_middle": ([(2, 3)], lambda x: x.unsqueeze(1), lambda T, x: x.unsqueeze(1)),
    "unsqueeze_end": ([(2, 3)], lambda x: sh.unsqueeze(x, -1), lambda T, x: x.unsqueeze(-1)),
    "unsqueeze_dim_kw": ([(2, 3)], lambda x: x.unsqueeze(dim=-2), lambda T, x: x.unsqueeze(dim=-2)),
    "view_minus_one": ([(2, 3, 4)], lambda x: x.view(-1, 4), lambda T, x: x.view(-1, 4)),
    "view_as": ([(2, 3, 4), (6, 4)], lambda x, y: x.view_as(y) * y, lambda T, x, y: x.view_as(y) * y),
    "reshape_as": ([(2, 3, 4), (4, 6)], lambda x, y: x.reshape_as(y) + y, lambda T, x, y: x.reshape_as(y) + y),
    "expand_as": ([(3, 1), (2, 3, 4)], lambda x, y: x.expand_as(y) * y, lambda T, x, y: x.expand_as(y) * y),
    "flatten": ([(2, 3, 4)], sh.flatten, lambda T, x: x.flatten()),
    "flatten_from_1": ([(2, 3, 4)], lambda x: x.flatten(1), lambda T, x: x.flatten(1)),
    "flatten_middle": ([(2, 3, 4, 2)], lambda x: sh.flatten(x, 1, -2), lambda T, x: x.flatten(1, -2)),
    "expand": ([(3, 1)], lambda x: sh.expand(x, (2, 3, 4)), lambda T, x: x.expand(2, 3, 4)),
    "expand_keep": ([(1, 4)], lambda x: x.expand(3, -1), lambda T, x: x.expand(3, -1)),
    "expand_scalar": ([()], lambda x: sh.expand(x, (2, 3)), lambda T, x: x.expand(2, 3)),
    "concat": ([(2, 3), (1, 3), (4, 3)], lambda *ts: sh.concat(ts, 0), lambda T, *ts: T.cat(ts, 0)),
    "cat_dim": ([(2, 3), (2, 1)], lambda *ts: cr.cat(ts, dim=1), lambda T, *ts: T.cat(ts, dim=1)),
    "concatenate_axis": ([(2, 3), (2, 1)], lambda *ts: cr.concatenate(ts, axis=-1), lambda T, *ts: T.cat(ts, -1)),
    "concat_last": ([(2, 1, 2), (2, 1, 3)], lambda a, b: sh.concat([a, b], axis=-1), lambda T, a, b: T.cat([a, b], -1)),
    "concat_same_twice": ([(2, 3)], lambda x: sh.concat([x, x * 2.0], 1), lambda T, x: T.cat([x, x * 2.0], 1)),
    "stack": ([(2, 3)] * 3, lambda *ts: sh.stack(ts), lambda T, *ts: T.stack(ts)),
    "stack_middle": ([(2, 3), (2, 3)], lambda *ts: sh.stack(ts, 1), lambda T, *ts: T.stack(ts, 1)),
    "stack_last": ([(2, 3), (2, 3)], lambda *ts: sh.stack(list(ts), -1), lambda T, *ts: T.stack(ts, -1)),
    "stack_dim": ([(2, 3), (2, 3)], lambda *ts: cr.stack(ts, dim=2), lambda T, *ts: T.stack(ts, dim=2)),
    "split_size": ([(5, 2)], lambda x: sh.split(x, 2), lambda T, x: T.split(x, 2)),
    "split_sizes": ([(2, 6)], lambda x: sh.split(x, [1, 0, 3, 2], axis=1), lambda T, x: T.split(x, [1, 0, 3, 2], 1)),
    "split_partial_use": ([(4, 3)], lambda x: sh.split(x, 2, -1)[0], lambda T, x: T.split(x, 2, -1)[0]),
    "split_method": ([(3, 7)], lambda x: x.split(3, dim=1), lambda T, x: x.split(3, dim=1)),
    "chunk": ([(7, 2)], lambda x: x.chunk(3), lambda T, x: x.chunk(3)),
    "chunk_fewer": ([(2, 6)], lambda x: cr.chunk(x, 4, dim=1), lambda T, x: T.chunk(x, 4, dim=1)),
    "unbind": ([(3, 2, 2)], lambda x: x.unbind(1), lambda T, x: x.unbind(1)),
    "unbind_fn": ([(3, 2)], cr.unbind, lambda T, x: T.unbind(x)),
    "narrow": ([(4, 5)], lambda x: x.narrow(1, 1, 3), lambda T, x: x.narrow(1, 1, 3)),
    "narrow_negative": ([(4, 5)], lambda x: cr.narrow(x, 0, -2, 2), lambda T, x: T.narrow(x, 0, -2, 2)),
    "flip": ([(2, 3, 4)], lambda x: x.flip(0, 2), lambda T, x: x.flip(0, 2)),
    "flip_fn": ([(2, 3)], lambda x: ra.flip(x, [-1]), lambda T, x: T.flip(x, [-1])),
    "flip_kw": ([(2, 3)], lambda x: x.flip(dims=(0,)), lambda T, x: x.flip(dims=(0,))),
    "roll": ([(3, 4)], lambda x: x.roll(1, 1), lambda T, x: x.roll(1, 1)),
    "roll_flat": ([(3, 4)], lambda x: x.roll(5), lambda T, x: x.roll(5)),
    "roll_many": ([(3, 4)], lambda x: ra.roll(x, (-1, 2), (0, 1)), lambda T, x: T.roll(x, (-1, 2), (0, 1))),
    "repeat": ([(2, 3)], lambda x: x.repeat(2, 1), lambda T, x: x.repeat(2, 1)),
    "repeat_new_dims": ([(2, 3)], lambda x: x.repeat((3, 1, 2)), lambda T, x: x.repeat((3, 1, 2))),
    "repeat_interleave": ([(2, 3)], lambda x: x.repeat_interleave(2, dim=1),
                          lambda T, x: x.repeat_interleave(2, dim=1)),
    "repeat_interleave_flat": ([(2, 3)], lambda x: x.repeat_interleave(2), lambda T, x: x.repeat_interleave(2)),
    "repeat_interleave_counts": ([(3, 2)], lambda x: ra.repeat_interleave(x, [2, 0, 3], 0),
                                 lambda T, x: T.repeat_interleave(x, T.tensor([2, 0, 3]), 0)),
    "tril": ([(3, 4)], lambda x: x.tril(), lambda T, x: x.tril()),
    "tril_batched": ([(2, 4, 3)], lambda x: ra.tril(x, -1), lambda T, x: T.tril(x, -1)),
    "triu": ([(3, 4)], lambda x: x.triu(1), lambda T, x: x.triu(1)),
    "triu_negative": ([(4, 3)], lambda x: ra.triu(x, diagonal=-1), lambda T, x: T.triu(x, diagonal=-1)),
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
def test_matches_torch(name, rng, torch):
    shapes, fn, torch_fn = CASES[name]
    compare64(torch, fn, lambda *ts: torch_fn(torch, *ts), *_inputs(rng, shapes))


@pytest.mark.parametrize("name", CASES)
def test_float32_stays_float32(name, rng, compare_torch, torch):
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
    "transpose_numpy_permutation": (lambda: cr.zeros(2, 3, 4).transpose((1, 0, 2)), TypeError,
                                    r"transpose\(x, dim0, dim1\) swaps two dims as in PyTorch .* permute"),
    "transpose_numpy_no_args": (lambda: cr.zeros(2, 3).transpose(), TypeError, r"dim0"),
    "permute_partial": (lambda: sh.permute(cr.zeros(2, 3, 4), (0, 1)), ValueError,
                        r"permute: dims \(0, 1\) are not a permutation of the 3 dims"),
    "permute_repeat": (lambda: sh.permute(cr.zeros(2, 3), (0, 0)), ValueError, r"permute: dims \(0, 0\) repeat a dim"),
    "t_3d": (lambda: cr.zeros(2, 3, 4).t(), ValueError, r"t: expects a tensor of at most 2 dims"),
    "squeeze_range": (lambda: sh.squeeze(cr.zeros(2, 1), 2), ValueError,
                      r"squeeze: dim 2 is out of range for a tensor with 2 dims"),
    "squeeze_both": (lambda: sh.squeeze(cr.zeros(2, 1), 1, axis=1), TypeError, r"squeeze: got both dim=1 and axis=1"),
    "unsqueeze_range": (lambda: sh.unsqueeze(cr.zeros(2, 3), 3), ValueError,
                        r"unsqueeze: dim 3 is out of range for a tensor with 3 dims"),
    "stack_both": (lambda: cr.stack([cr.zeros(2)], dim=0, axis=0), TypeError, r"stack: got both dim=0 and axis=0"),
    "movedim_lengths": (lambda: cr.movedim(cr.zeros(2, 3), (0, 1), 0), ValueError, r"movedim: source .* same length"),
    "narrow_too_long": (lambda: cr.narrow(cr.zeros(4), 0, 2, 3), ValueError,
                        r"narrow: start 2 and length 3 do not fit"),
    "chunk_zero": (lambda: cr.chunk(cr.zeros(4), 0), ValueError, r"chunk: chunks must be a positive int"),
    "flip_no_dims": (lambda: cr.flip(cr.zeros(4)), TypeError, r"flip: missing dims"),
    "roll_lengths": (lambda: cr.roll(cr.zeros(2, 3), (1, 1), 0), ValueError, r"roll: shifts .* same length"),
    "repeat_too_few": (lambda: cr.zeros(2, 3).repeat(2), ValueError, r"repeat: sizes \(2,\) .* repeat_interleave"),
    "repeat_interleave_counts": (lambda: cr.repeat_interleave(cr.zeros(3), [1, 2]), ValueError,
                                 r"repeat_interleave: got 2 repeats for 3 elements"),
    "tril_1d": (lambda: cr.tril(cr.zeros(3)), ValueError, r"tril: needs a tensor of at least 2 dims"),
    "flatten_order": (lambda: sh.flatten(cr.zeros(2, 3, 4), 2, 1), ValueError,
                      r"flatten: start_dim 2 comes after end_dim 1"),
    "expand_size": (lambda: sh.expand(cr.zeros(2, 3), (2, 4)), ValueError,
                    r"expand: cannot expand tensor of shape \(2, 3\) to \(2, 4\): axis 1 has size 3"),
    "expand_fewer": (lambda: sh.expand(cr.zeros(2, 3), (3,)), ValueError, r"expand: target shape \(3,\) has fewer axes"),
    "expand_new_minus_one": (lambda: sh.expand(cr.zeros(3), (-1, 3)), ValueError,
                             r"expand: -1 cannot be the size of new leading axis 0"),
    "concat_shapes": (lambda: sh.concat([cr.zeros(2, 3), cr.zeros(2, 4)]), ValueError,
                      r"concat: tensors must have the same shape except along dim 0, got shapes \(2, 3\), \(2, 4\)"),
    "concat_ndim": (lambda: sh.concat([cr.zeros(2, 3), cr.zeros(3)]), ValueError, r"concat: .*\(2, 3\), \(3,\)"),
    "concat_axis": (lambda: sh.concat([cr.zeros(2, 3)], axis=2), ValueError, r"concat: dim 2 is out of range"),
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


@pytest.mark.parametrize("op", ["cat", "stack"])
@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("bool", "int32"), ("float32", "float64"),
                                    ("int32", "int64", "float32"), ("bool", "bool")])
def test_joining_mixed_dtypes_promotes_as_torch(torch, op, dtypes):
    ours = getattr(cr, op)([cr.tensor(np.ones(2, dtype=d)) for d in dtypes])
    theirs = getattr(torch, op)([torch.tensor(np.ones(2, dtype=d)) for d in dtypes])
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_joining_a_float_with_an_integer_passes_the_gradient_to_the_float():
    x = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    y = cr.cat([x, cr.tensor([3])])
    assert y.dtype == np.float32
    (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [1.0, 2.0])


def test_cat_skips_empty_1d_tensors_as_torch(torch):
    # the notebook idiom: preds = torch.tensor([]); preds = torch.cat([preds, batch_preds])
    for ours_parts, theirs_parts in [
        ([cr.tensor([]), cr.ones(2, 3)], [torch.tensor([]), torch.ones(2, 3)]),
        ([cr.ones(2, 3), cr.tensor([]), cr.zeros(1, 3)], [torch.ones(2, 3), torch.tensor([]), torch.zeros(1, 3)]),
        ([cr.tensor([]), cr.tensor([1, 2])], [torch.tensor([]), torch.tensor([1, 2])]),
        ([cr.tensor([]), cr.tensor([])], [torch.tensor([]), torch.tensor([])]),
    ]:
        ours, theirs = cr.cat(ours_parts), torch.cat(theirs_parts)
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = cr.ones(2, 2, requires_grad=True)
    (cr.cat([cr.tensor([]), x], dim=1) * cr.tensor([[1.0, 2.0]])).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [[1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="same shape except"):
        cr.cat([cr.zeros(0, 3), cr.ones(2, 2)])  # only 1-D empty tensors are skipped
