"""PyTorch names that chainrule lacks, each with the nearest equivalent to use instead.

``chainrule.X`` and ``tensor.X`` for a name in these tables raise an ``AttributeError`` that says
chainrule has no ``torch.X`` and what to use, instead of Python's bare "has no attribute" (or, worse,
an unrelated error further on). The lookups run only for names that do not exist (the module's
``__getattr__`` of PEP 562 and ``Tensor.__getattr__`` are Python's fallbacks), so an entry here never
hides a function that chainrule has or gains later: remove the entry when the name is implemented.
"""

_NOT_YET = "it is not available yet"
_CPU = "chainrule runs on NumPy arrays on the CPU, so there is no device to move to; drop the call"

# torch.X (module level) -> what to use in chainrule
MODULE = {
    "is_tensor": "use isinstance(x, chainrule.Tensor)",
    "device": _CPU,
    "cuda": _CPU,
    "compile": "chainrule has no compiler; its hot paths are already fused ops",
    "jit": "chainrule has no compiler; its hot paths are already fused ops",
    "hstack": "use chainrule.cat(tensors, dim=1) (dim=0 for 1-d tensors)",
    "vstack": "use chainrule.cat(tensors, dim=0) (after unsqueeze(0) for 1-d tensors)",
    "unflatten": "use chainrule.reshape",
    "var_mean": "use chainrule.var and chainrule.mean",
    "std_mean": "use chainrule.std and chainrule.mean",
    "quantile": _NOT_YET,
    "nanmean": _NOT_YET,
    "nansum": _NOT_YET,
    "tensordot": "use reshape and chainrule.matmul",
    "cdist": "use chainrule.linalg.vector_norm(a[:, None] - b[None], dim=-1)",
    "set_default_dtype": ("the default floating dtype is float32 and fixed; pass dtype=chainrule.float64 to the "
                          "constructors and call model.double()"),
    "FloatTensor": "use chainrule.tensor(data, dtype=chainrule.float32)",
    "DoubleTensor": "use chainrule.tensor(data, dtype=chainrule.float64)",
    "LongTensor": "use chainrule.tensor(data, dtype=chainrule.int64)",
    "BoolTensor": "use chainrule.tensor(data, dtype=chainrule.bool)",
}

# torch.Tensor.X -> what to use on a chainrule Tensor
TENSOR = {
    "cuda": _CPU,
    "stride": "look at x.data.strides (x.data is the NumPy array)",
    "storage": "x.data is the NumPy array that holds the values",
    "data_ptr": "x.data is the NumPy array that holds the values",
    "unflatten": "use x.reshape",
}


def module_getattr(name):
    """The ``AttributeError`` for ``chainrule.<name>``, which does not exist (the module's ``__getattr__``)."""
    if name in MODULE:
        raise AttributeError(f"chainrule has no torch.{name}; {MODULE[name]}")
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def tensor_getattr(tensor, name):
    """``Tensor.__getattr__``: called only for attributes that do not exist; names a PyTorch equivalent."""
    if name in TENSOR:
        raise AttributeError(f"chainrule.Tensor has no torch.Tensor.{name}; {TENSOR[name]}")
    raise AttributeError(f"'Tensor' object has no attribute {name!r}")
