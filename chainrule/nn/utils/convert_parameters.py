"""All parameters as one vector and back: ``parameters_to_vector``, ``vector_to_parameters``."""

from ...backend import xp

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """The values of ``parameters`` concatenated, in order, into one 1-D Tensor (a copy)."""
    from ...ops.shape import concat, reshape
    from ...tensor import Tensor

    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    return concat([reshape(p, (-1,)) for p in parameters], 0)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, shapes kept).

    Raises ValueError when ``vec`` is not 1-D or its length is not the parameters' total size.
    """
    from ...tensor import Tensor

    values = xp.asarray(vec.data if isinstance(vec, Tensor) else vec)
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = sum(int(p.data.size) for p in parameters)
    if values.ndim != 1 or values.shape[0] != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} values (the parameters' total "
                         f"size), got shape {tuple(values.shape)}")
    offset = 0
    for p in parameters:
        n = int(p.data.size)
        # in place, so a parameter that is a view of an optimizer's flat buffer stays one
        p.data[...] = values[offset:offset + n].reshape(p.data.shape).astype(p.data.dtype, copy=False)
        offset += n
