"""Tests for chainrule/ops/einsum.py and chainrule/ops/matrices.py: forward and gradients against PyTorch
in float64 over many equations (diagonals, ellipsis broadcasting, implicit outputs), and finite differences."""

import numpy as np
import pytest

import chainrule as cr

from torch64 import compare64

# equation: operand shapes
EQUATIONS = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "bij,bjk->bik": [(2, 3, 4), (2, 4, 2)],
    "i,j->ij": [(3,), (4,)],
    "i,i->": [(5,), (5,)],
    "ii->": [(4, 4)],
    "ii->i": [(3, 3)],
    "ij->ji": [(2, 3)],
    "ij->": [(2, 3)],
    "ij->i": [(2, 3)],
    "bi,oij,bj->bo": [(2, 3), (4, 3, 5), (2, 5)],
    "...ij,...jk->...ik": [(2, 1, 3, 4), (5, 4, 2)],
    "...i,i->...": [(2, 3, 4), (4,)],
    "b...,b->...": [(2, 3, 1), (2,)],
    "ij,jk": [(2, 3), (3, 4)],
    "ba": [(2, 3)],
    "iij->j": [(3, 3, 2)],
    "iji,jk->k": [(2, 3, 2), (3, 4)],
    "i,i,i->i": [(4,), (4,), (4,)],
    "ij,ij->ij": [(2, 3), (2, 3)],
    "bhqd,bhkd->bhqk": [(1, 2, 3, 4), (1, 2, 5, 4)],
    " i j , j k -> i k ": [(2, 3), (3, 2)],
    "ij,ij->ij (size-1 broadcast)": [(1, 3), (2, 3)],
    "ij,jk->ik (size-1 contraction)": [(2, 1), (3, 4)],
}


def _equation(name):
    return name.split(" (")[0]


@pytest.mark.parametrize("equation", EQUATIONS)
def test_einsum_matches_torch(equation, rng, torch):
    arrays = [rng.standard_normal(shape) for shape in EQUATIONS[equation]]
    equation = _equation(equation)
    compare64(torch, lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays)


@pytest.mark.parametrize(
    "equation", ["ij,jk->ik", "ii->", "iij->j", "...ij,...jk->...ik", "bi,oij,bj->bo", "ij,jk->ik (size-1 contraction)"]
)
def test_einsum_gradcheck(equation, rng):
    arrays = [rng.standard_normal(shape) for shape in EQUATIONS[equation]]
    assert cr.gradcheck(lambda *t: cr.einsum(_equation(equation), *t), arrays)


def test_einsum_takes_a_list_and_a_repeated_operand(rng, torch):
    x = rng.standard_normal((3, 4))
    compare64(torch, lambda a: cr.einsum("ij,ij->", [a, a]), lambda a: torch.einsum("ij,ij->", [a, a]), x)


def test_einsum_float32_stays_float32(rng):
    a = cr.Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = cr.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    out = cr.einsum("ij,jj->i", a, b)
    assert out.dtype == np.float32
    out.backward(grad=np.ones(2, np.float32))
    assert np.asarray(a.grad).dtype == np.float32 and np.asarray(b.grad).dtype == np.float32


@pytest.mark.parametrize(
    "equation, shapes, match",
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], "index 'j' has sizes 3 and 4"),
        ("ij->ik", [(2, 3)], "output subscripts 'ik'"),
        ("ij->ii", [(2, 2)], "output subscripts 'ii'"),
        ("ij,jk->ik", [(2, 3)], "2 operand"),
        ("ijk->i", [(2, 3)], "name 3 axes"),
        ("i1->i", [(2, 3)], "subscripts must be letters"),
    ],
)
def test_einsum_errors_name_the_equation(equation, shapes, match):
    with pytest.raises(ValueError, match=match):
        cr.einsum(equation, *[cr.zeros(*shape) for shape in shapes])


# ------------------------------------------------------------------ matrices.py
# name: (chainrule fn, torch fn (T is torch), operand shapes)
PRODUCTS = {
    "mm": (cr.mm, lambda T, a, b: T.mm(a, b), [(2, 3), (3, 4)]),
    "bmm": (cr.bmm, lambda T, a, b: T.bmm(a, b), [(2, 3, 4), (2, 4, 3)]),
    "mv": (cr.mv, lambda T, a, b: T.mv(a, b), [(2, 3), (3,)]),
    "dot": (cr.dot, lambda T, a, b: T.dot(a, b), [(4,), (4,)]),
    "inner": (cr.inner, lambda T, a, b: T.inner(a, b), [(2, 4), (3, 4)]),
    "outer": (cr.outer, lambda T, a, b: T.outer(a, b), [(3,), (2,)]),
    "addmm": (lambda c, a, b: cr.addmm(c, a, b, beta=0.5, alpha=2.0),
              lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2.0), [(4,), (2, 3), (3, 4)]),
    "cross": (cr.cross, lambda T, a, b: T.linalg.cross(a, b), [(4, 3), (4, 3)]),
    "cross_dim0_broadcast": (lambda a, b: a.cross(b, dim=0), lambda T, a, b: T.linalg.cross(a, b, dim=0),
                             [(3, 1, 2), (3, 4, 1)]),
    "diagonal": (cr.diagonal, lambda T, a: T.diagonal(a), [(3, 4)]),
    "diagonal_offset": (lambda a: a.diagonal(1, 2, 0), lambda T, a: a.diagonal(1, 2, 0), [(3, 2, 4)]),
    "diagonal_below": (lambda a: cr.diagonal(a, -1), lambda T, a: T.diagonal(a, -1), [(4, 3)]),
    "diag_of_vector": (lambda a: cr.diag(a, 1), lambda T, a: T.diag(a, 1), [(3,)]),
    "diag_of_matrix": (lambda a: a.diag(-1), lambda T, a: a.diag(-1), [(3, 3)]),
    "trace": (cr.trace, lambda T, a: T.trace(a), [(3, 4)]),
    "method_mm": (lambda a, b: a.mm(b), lambda T, a, b: a.mm(b), [(2, 3), (3, 2)]),
}


@pytest.mark.parametrize("name", PRODUCTS)
def test_products_match_torch(name, rng, torch):
    fn, torch_fn, shapes = PRODUCTS[name]
    arrays = [rng.standard_normal(shape) for shape in shapes]
    compare64(torch, fn, lambda *t: torch_fn(torch, *t), *arrays)
    assert cr.gradcheck(fn, arrays)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: cr.mm(cr.zeros(2, 3), cr.zeros(3)), "mat2 must be 2-D"),
        (lambda: cr.bmm(cr.zeros(2, 3, 4), cr.zeros(3, 4, 2)), "batch sizes differ"),
        (lambda: cr.dot(cr.zeros(3), cr.zeros(4)), "same length"),
        (lambda: cr.diagonal(cr.zeros(3)), "at least 2 axes"),
        (lambda: cr.cross(cr.zeros(2, 4), cr.zeros(2, 4)), "must have size 3"),
        (lambda: cr.diagonal(cr.zeros(3, 3), 0, 1, -1), "dim1 and dim2 must differ"),
    ],
)
def test_product_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "fn, torch_fn, shapes",
    [
        (lambda a, b: cr.einsum("bi,bj->bij", a, b), lambda T, a, b: T.einsum("bi,bj->bij", a, b), [(2, 3), (2, 3)]),
        (lambda a, b: cr.einsum("ii,ij->j", a, b), lambda T, a, b: T.einsum("ii,ij->j", a, b), [(3, 3), (3, 2)]),
        (cr.cross, lambda T, a, b: T.linalg.cross(a, b), [(2, 3), (2, 3)]),
        (lambda a, b: cr.diagonal(a @ b), lambda T, a, b: (a @ b).diagonal(), [(3, 2), (2, 3)]),
        (lambda a, b: cr.diag(cr.dot(a, b) * a), lambda T, a, b: (a.dot(b) * a).diag(), [(3,), (3,)]),
    ],
)
def test_float32_gradients_stay_float32(fn, torch_fn, shapes, rng, compare_torch, torch):
    compare_torch(fn, lambda *t: torch_fn(torch, *t), *[rng.standard_normal(shape) for shape in shapes])
