"""``Module.summary``: a table of every layer's output shape and parameter count.

One forward pass runs in evaluation mode and without a graph, with a hook on every
module call recording output shapes; so the table shows each sub-module at any depth
(nested Sequentials, custom modules), whatever its forward does. Modes are restored
afterwards, and evaluation mode means BatchNorm's running statistics and Dropout's
generator are left untouched.
"""

import numbers

import numpy

from ..backend import xp
from ..function import no_grad
from ..tensor import Tensor
from . import module as module_lib


class ModelSummary:
    """The result of ``Module.summary``: ``str()`` gives the table.

    Attributes
    ----------
    rows : list of dict
        One per sub-module: ``name``, ``type``, ``depth``, ``output_shape`` (None if it
        was not called), ``calls``, ``params`` (its own parameters, not its children's).
    total_params, trainable_params, non_trainable_params : int
    input_shape, output_shape
    """

    def __init__(self, title, rows, total, trainable, input_shape, output_shape):
        self.title = title
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable
        self.non_trainable_params = total - trainable
        self.input_shape = input_shape
        self.output_shape = output_shape

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #")
        body = []
        for row in self.rows:
            shape = "--" if row["output_shape"] is None else _format_shape(row["output_shape"])
            if row["calls"] > 1:
                shape += f" x{row['calls']} calls"
            body.append(("  " * row["depth"] + f"{row['name']} ({row['type']})", shape, f"{row['params']:,}"))
        widths = [max(len(line[i]) for line in [header] + body) for i in range(3)]
        widths[0] = max(widths[0], 20)

        def line(cells):
            return f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}".rstrip()

        width = sum(widths) + 4
        out = [self.title, "=" * width, line(header), "=" * width]
        out += [line(cells) for cells in body] or ["(no sub-modules)"]
        out.append("=" * width)
        out.append(f"Total params: {self.total_params:,}")
        out.append(f"Trainable params: {self.trainable_params:,}")
        out.append(f"Non-trainable params: {self.non_trainable_params:,}")
        if self.input_shape is not None:
            out.append(f"Input shape: {_format_shape(self.input_shape)}")
            out.append(f"Output shape: {_format_shape(self.output_shape)}")
        return "\n".join(out)

    def __repr__(self):
        return (
            f"ModelSummary(total_params={self.total_params}, trainable_params={self.trainable_params}, "
            f"layers={len(self.rows)})"
        )


def _format_shape(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    if isinstance(shape, tuple):
        return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    return str(shape)


def _shape_of(value):
    """Shape of an output: a tuple, a list of those for tuple/list outputs, or the type name."""
    if isinstance(value, Tensor) or hasattr(value, "shape"):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return [_shape_of(v) for v in value]
    return type(value).__name__


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in value
    )


def _make_input(spec, dtype):
    if isinstance(spec, Tensor):
        return spec
    if hasattr(spec, "shape") and hasattr(spec, "dtype"):
        return Tensor(xp.asarray(spec))
    if _is_shape(spec):
        shape = tuple(int(n) for n in spec)
        if dtype.kind == "f":
            values = numpy.random.default_rng(0).standard_normal(shape)
            return Tensor(xp.asarray(values, dtype=dtype))
        return Tensor(xp.zeros(shape, dtype=dtype))
    raise TypeError(
        "summary: input must be a shape including the batch axis, e.g. (1, 784), an example array or Tensor, "
        f"or a list of these for a module with several inputs; got {spec!r:.100}"
    )


def summarize(model, input=None, dtype=None):
    """Build the ``ModelSummary`` of ``model`` (see ``Module.summary``)."""
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else xp.float32
    dtype = xp.dtype(dtype)
    named = [(name, module) for name, module in model.named_modules() if module is not model]
    records = {id(module): {"shape": None, "calls": 0} for _, module in named}

    inputs = output = None
    if input is not None:
        if isinstance(input, (list, tuple)) and not _is_shape(input):
            inputs = [_make_input(item, dtype) for item in input]
        else:
            inputs = [_make_input(input, dtype)]

        def record(module, _args, out):
            entry = records.get(id(module))
            if entry is not None:
                entry["shape"] = _shape_of(out)
                entry["calls"] += 1

        modes = [(module, module.training) for module in model.modules()]
        module_lib._GLOBAL_POST_HOOKS.append(record)
        try:
            model.eval()
            with no_grad():
                output = model(*inputs)
        finally:
            module_lib._GLOBAL_POST_HOOKS.remove(record)
            for module, mode in modes:
                module.training = mode

    rows = []
    for name, module in named:
        entry = records[id(module)]
        own = sum(p.data.size for p in module._parameters.values() if p is not None)
        rows.append({
            "name": name,
            "type": type(module).__name__,
            "depth": name.count("."),
            "output_shape": entry["shape"],
            "calls": entry["calls"],
            "params": int(own),
        })
    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    input_shape = None
    if inputs is not None:
        input_shape = tuple(inputs[0].shape) if len(inputs) == 1 else [tuple(t.shape) for t in inputs]
    return ModelSummary(
        f'Model: "{type(model).__name__}"', rows, total, trainable, input_shape,
        None if inputs is None else _shape_of(output),
    )
