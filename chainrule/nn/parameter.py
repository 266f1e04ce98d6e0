"""``Parameter``: a tensor that a ``Module`` registers as trainable state."""

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that a ``Module`` registers when assigned as an attribute.

    Parameters
    ----------
    data : array_like or Tensor
        Initial values. A NumPy array is used as is (not copied), like ``torch.nn.Parameter``.
    requires_grad : bool
        False makes a frozen parameter: it stays in ``parameters()`` and ``state_dict()``
        but receives no gradient.
    dtype : dtype, optional
        Cast the data to this dtype.

    Notes
    -----
    An optimizer may rebind ``.data`` to a view into one flat buffer holding every
    parameter, so code that updates a parameter in place must write through
    ``param.data[...] = values`` and never keep its own reference to an old ``.data``.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        body = super().__repr__()  # "tensor(..., requires_grad=True)"
        body = body[len("tensor(") : -1].replace(", requires_grad=True", "")
        return f"Parameter({body}{'' if self.requires_grad else ', requires_grad=False'})"
