"""Tests for chainrule/ops/resample.py: interpolate in every mode, pixel shuffles, unfold/fold against PyTorch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import resample as R
from torch64 import compare64

_gen = np.random.default_rng(0)

INTERPOLATE = [
    ((2, 3, 4, 6), dict(size=(7, 5), mode="nearest")),
    ((2, 3, 4, 6), dict(scale_factor=(1.7, 0.6), mode="nearest")),
    ((2, 3, 4, 6), dict(scale_factor=2, mode="nearest-exact")),
    ((2, 3, 5), dict(size=9, mode="linear")),
    ((2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
    ((2, 3, 4, 6), dict(scale_factor=2.5, mode="bilinear")),
    ((2, 3, 4, 6), dict(scale_factor=(1.7, 0.6), mode="bilinear", align_corners=True)),
    ((2, 3, 4, 6), dict(size=(7, 5), mode="bicubic")),
    ((2, 3, 4, 6), dict(scale_factor=2.5, mode="bicubic", align_corners=True)),
    ((1, 2, 3, 4, 6), dict(scale_factor=(2, 1.5, 0.5), mode="trilinear")),
    ((1, 2, 3, 4, 6), dict(size=(5, 3, 4), mode="trilinear", align_corners=True)),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="area")),
    ((2, 3, 4, 6), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
]


@pytest.mark.parametrize("shape,kwargs", INTERPOLATE, ids=[str(k) for _, k in INTERPOLATE])
def test_interpolate_matches_torch(torch, shape, kwargs):
    compare64(torch, lambda x: R.interpolate(x, **kwargs), lambda x: torch.nn.functional.interpolate(x, **kwargs),
              _gen.standard_normal(shape))


@pytest.mark.parametrize("name,shape,args", [
    ("pixel_shuffle", (2, 8, 3, 4), (2,)),
    ("pixel_shuffle", (5, 2, 9, 1, 2), (3,)),
    ("pixel_unshuffle", (2, 3, 4, 6), (2,)),
    ("unfold", (2, 3, 7, 8), ((2, 3), 2, 1, (1, 2))),
    ("fold", (2, 12, 32), ((7, 8), (2, 3), 1, 1, (2, 1))),
])
def test_rearrangements_match_torch(torch, name, shape, args):
    compare64(torch, lambda x: getattr(R, name)(x, *args), lambda x: getattr(torch.nn.functional, name)(x, *args),
              _gen.standard_normal(shape))


def test_errors_name_the_problem():
    x = cr.Tensor(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        R.interpolate(x)
    with pytest.raises(ValueError, match="'trilinear' needs a 5-D input"):
        R.interpolate(x, scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="align_corners applies to the linear and cubic modes"):
        R.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="divisible by upscale_factor"):
        R.pixel_shuffle(x, 2)
