"""chainrule/ops/bilinear.py: finite differences and float32 against torch.nn.functional.bilinear."""

import numpy as np
import pytest

from chainrule import gradcheck
from chainrule.ops.bilinear import bilinear


def test_gradcheck(rng):
    arrays = [rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 2, 4)),
              rng.standard_normal(5)]
    assert gradcheck(bilinear, arrays)


def test_float32_against_torch(compare_torch, torch, rng):
    compare_torch(bilinear, torch.nn.functional.bilinear, rng.standard_normal((4, 3)), rng.standard_normal((4, 2)),
                  rng.standard_normal((5, 3, 2)), rng.standard_normal(5))


@pytest.mark.parametrize("shapes, match", [
    (((2, 3), (2, 2), (5, 3)), "weight must have shape"),
    (((2, 3), (2, 2), (5, 3, 3)), "inputs must have shapes"),
])
def test_bad_shapes(shapes, match):
    with pytest.raises(ValueError, match=match):
        bilinear(*[np.zeros(s) for s in shapes])
