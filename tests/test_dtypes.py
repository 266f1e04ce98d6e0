"""chainrule.dtypes and type promotion: dtype names, .to()/.float()/..., and PyTorch's promotion rules."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor

torch = pytest.importorskip("torch")

NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
         "half", "float", "double", "short", "int", "long"]


def _torch_dtype_name(dtype):
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_match_torch(name):
    ours, theirs = getattr(cr, name), getattr(torch, name)
    assert ours == np.dtype(_torch_dtype_name(theirs))
    x = cr.zeros(2, dtype=ours)
    assert x.dtype == ours and x.dtype == getattr(cr, name)


METHODS = ["float", "double", "half", "long", "int", "short", "bool"]


@pytest.mark.parametrize("method", METHODS)
def test_conversion_methods_match_torch(method):
    values = np.array([-1.5, 0.0, 2.7])
    ours = getattr(Tensor(values), method)()
    theirs = getattr(torch.tensor(values), method)()
    assert ours.dtype == np.dtype(_torch_dtype_name(theirs.dtype))
    np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


def test_to_and_type():
    x = Tensor(np.arange(3))
    assert x.to(cr.float32).dtype == cr.float32
    assert x.to("cpu") is x and x.to(cr.int64) is x and x.cpu() is x
    assert x.to("cpu", cr.float64).dtype == cr.float64
    assert x.to(Tensor(np.ones(1, np.float16))).dtype == cr.float16
    assert x.type(cr.float32).dtype == cr.float32 and x.type() == "chainrule.LongTensor"
    assert x.to(cr.int64, copy=True) is not x
    with pytest.raises(RuntimeError, match="accelerators issue"):
        x.to("cuda")


def test_to_is_differentiable_between_floats():
    x = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (x.double() * Tensor(np.array([3.0, 4.0]))).sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# ------------------------------------------------------------------------------ promotion
INT = np.array([1, 2, 3])
F32 = np.array([0.5, 1.5, 2.5], np.float32)
F64 = np.array([0.25, 0.5, 4.0])
BOOL = np.array([True, False, True])
CASES = [
    ("int + float", lambda a: a(INT) + 0.5),
    ("int / int", lambda a: a(INT) / 2),
    ("int / int tensor", lambda a: a(INT) / a(INT)),
    ("int * int", lambda a: a(INT) * 3),
    ("float - int", lambda a: 2.5 - a(INT)),
    ("int ** float", lambda a: a(INT) ** 0.5),
    ("int ** int", lambda a: a(INT) ** 2),
    ("f32 + f64", lambda a: a(F32) + a(F64)),
    ("f32 + float", lambda a: a(F32) + 0.1),
    ("f32 * int", lambda a: a(F32) * 3),
    ("f32 + 0-d f64", lambda a: a(F32) + a(np.float64(2.0))),
    ("int + 0-d f64", lambda a: a(INT) + a(np.float64(2.0))),
    ("int + f32", lambda a: a(INT) + a(F32)),
    ("int32 + int64", lambda a: a(INT.astype(np.int32)) + a(INT)),
    ("int32 + 0-d int64", lambda a: a(INT.astype(np.int32)) + a(np.int64(7))),
    ("uint8 + int8", lambda a: a(INT.astype(np.uint8)) + a(INT.astype(np.int8))),
    ("bool + int", lambda a: a(BOOL) + 2),
    ("bool * float", lambda a: a(BOOL) * 2.5),
    ("bool + int tensor", lambda a: a(BOOL) + a(INT)),
    ("f16 + float", lambda a: a(F32.astype(np.float16)) + 2.5),
    ("int < float", lambda a: a(INT) < 1.5),
]


def _ours(array):
    return Tensor(array)


def _theirs(array):
    return torch.tensor(array)


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_promotion_matches_torch(name, fn):
    ours, theirs = fn(_ours), fn(_theirs)
    assert ours.dtype == np.dtype(_torch_dtype_name(theirs.dtype)), name
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), theirs.double().numpy(), rtol=1e-6)


def test_promotion_keeps_the_gradient_dtype():
    # a float32 leaf used with a float64 tensor: the result is float64, the gradient float32 (as torch)
    x = Tensor(F32.copy(), requires_grad=True)
    (x * Tensor(F64)).sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad, F64.astype(np.float32))
