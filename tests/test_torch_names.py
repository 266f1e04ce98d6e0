"""Tests for chainrule/_torch_names.py: PyTorch names chainrule lacks raise an error naming the equivalent,
and PyTorch spellings that once failed with unrelated errors now work."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import _torch_names


@pytest.mark.parametrize("name", sorted(_torch_names.MODULE))
def test_missing_module_name_points_at_equivalent(name):
    with pytest.raises(AttributeError, match=rf"chainrule has no torch\.{name}; "):
        getattr(cr, name)


@pytest.mark.parametrize("name", sorted(_torch_names.TENSOR))
def test_missing_tensor_name_points_at_equivalent(name):
    with pytest.raises(AttributeError, match=rf"chainrule.Tensor has no torch.Tensor\.{name}; "):
        getattr(cr.zeros(2), name)


def test_entries_are_only_for_names_that_do_not_exist():
    # an entry for a name chainrule has would never fire: remove it when the name is implemented
    implemented = [name for name in _torch_names.MODULE if name in vars(cr)]
    implemented += [f"Tensor.{name}" for name in _torch_names.TENSOR if hasattr(cr.Tensor, name)]
    assert not implemented, f"remove {implemented} from chainrule/_torch_names.py: chainrule has them now"


def test_unknown_names_get_the_ordinary_error():
    with pytest.raises(AttributeError, match=r"module 'chainrule' has no attribute 'no_such_thing'"):
        cr.no_such_thing  # noqa: B018
    with pytest.raises(AttributeError, match=r"'Tensor' object has no attribute 'no_such_thing'"):
        cr.zeros(2).no_such_thing  # noqa: B018
    assert not hasattr(cr.zeros(2), "no_such_thing") and getattr(cr, "no_such_thing", 7) == 7


def test_torch_spellings_that_used_to_fail_now_work(torch):
    x = np.array([[0.2, 1.5, -0.3], [2.0, 0.1, 0.4]])
    ours, theirs = cr.Tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(ours.argmax(dim=1).numpy(), theirs.argmax(dim=1).numpy())
    np.testing.assert_allclose(ours.softmax(dim=0).numpy(), theirs.softmax(dim=0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(cr.log_softmax(ours, dim=1).numpy(), torch.log_softmax(theirs, dim=1).numpy(),
                               rtol=1e-12)
    with pytest.raises(TypeError, match="softmax: got both dim=0 and axis=1"):
        cr.softmax(ours, dim=0, axis=1)
