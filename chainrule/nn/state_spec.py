"""What state an architecture config builds, worked out without building it.

``expected_state({"class": "Linear", "config": {...}})`` returns ``{name: (shape, tag)}`` for every
parameter and persistent buffer the config would create (the names of ``state_dict()``, shapes as
tuples, tags as in safetensors: "F32", "I64"), allocating nothing. ``chainrule.load`` compares this
with a file's header before it builds the model, so a small file whose architecture asks for a
huge layer fails at once instead of allocating it.

Each built-in layer has a rule here, next to the others, reading the same constructor arguments
the layer reads (missing ones take the constructor's defaults, found with ``inspect``). A class
without a rule (a user's own layer) makes ``expected_state`` return None: the caller then builds
the model and compares its ``state_dict()`` instead. ``tests/nn/test_state_spec.py`` checks every
rule against the layer it describes.
"""

import inspect
import numbers

import numpy

from .config import _REGISTRY

__all__ = ["expected_state", "MAX_SIZE"]

MAX_SIZE = 2**40
"""Largest size argument (features, channels, kernel side) a config may give."""

_FLOAT_TAGS = {"float16": "F16", "float32": "F32", "float64": "F64"}


def expected_state(spec):
    """``{name: (shape, tag)}`` of the state ``spec`` builds, or None if a class in it has no rule.

    Raises ``ValueError`` or ``TypeError`` naming the problem for a malformed spec (not a dict, an
    unknown key, a size that is not a positive int, an unknown dtype).
    """
    state = {}
    return state if _collect(spec, "", state, "architecture") else None


def _collect(spec, prefix, state, where):
    """Add the state of ``spec`` under ``prefix`` to ``state``; False if some class has no rule."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise TypeError(f"{where}: expected a dict like {{'class': 'Linear', 'config': {{...}}}}, got {_short(spec)}")
    unknown = set(spec) - {"class", "config"}
    if unknown:
        raise ValueError(f"{where}: unexpected keys {sorted(unknown)}; expected 'class' and 'config'")
    config = spec.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TypeError(f"{where}: 'config' of {spec['class']!r} must be a dict, got {type(config).__name__}")
    cls = _REGISTRY.get(spec["class"])
    rule = _rules().get(cls)
    if rule is None:
        return False
    where = f"{where} ({spec['class']})"
    if rule in (_children, _parameters):
        return rule(cls, config, prefix, state, where)
    for name, (shape, tag) in rule(cls, _arguments(cls, config, where), where).items():
        state[prefix + name] = (tuple(shape), tag)
    return True


# ------------------------------------------------------------------ argument helpers
def _arguments(cls, config, where):
    """The constructor's arguments: ``config`` bound to ``cls.__init__``, defaults filled in."""
    try:
        bound = inspect.signature(cls).bind(**config)
    except TypeError as error:
        raise TypeError(f"{where}: {error}") from None
    bound.apply_defaults()
    return bound.arguments


def _size(arguments, name, where):
    value = arguments[name]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not 1 <= value <= MAX_SIZE:
        raise ValueError(f"{where}: {name} must be an int in [1, 2**40], got {_short(value)}")
    return int(value)


def _ints(arguments, name, d, where):
    """An int or ``d`` ints, each in [1, 2**40], as a d-tuple (a kernel size)."""
    value = arguments[name]
    values = value if isinstance(value, (list, tuple)) and len(value) == d else [value] * d
    for n in values:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= MAX_SIZE:
            raise ValueError(f"{where}: {name} must be an int or {d} ints in [1, 2**40], got {_short(value)}")
    return tuple(int(n) for n in values)


def _float_tag(arguments, where):
    dtype = arguments["dtype"]
    if not isinstance(dtype, str) or dtype not in _FLOAT_TAGS:
        raise ValueError(f"{where}: dtype must be one of {', '.join(_FLOAT_TAGS)}, got {_short(dtype)}")
    return _FLOAT_TAGS[dtype]


def _vector(values, where, name):
    """The shape of a constant array argument given as JSON numbers (a loss's class weights).

    Converted as the constructor converts it; the array costs at most twice the JSON text's size.
    """
    try:
        return numpy.asarray(values, dtype=numpy.float32).shape
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{where}: {name} must be a rectangular list of numbers, got {_short(values)}") from None


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------ one rule per layer
def _stateless(cls, arguments, where):
    return {}


def _linear(cls, a, where):
    tag, n_in, n_out = _float_tag(a, where), _size(a, "in_features", where), _size(a, "out_features", where)
    return {"weight": ((n_out, n_in), tag), **({"bias": ((n_out,), tag)} if a["bias"] else {})}


def _prelu(cls, a, where):
    return {"weight": ((_size(a, "num_parameters", where),), _float_tag(a, where))}


def _conv(cls, a, where):
    tag, n_in, n_out = _float_tag(a, where), _size(a, "in_channels", where), _size(a, "out_channels", where)
    groups, kernel = _size(a, "groups", where), _ints(a, "kernel_size", cls._d, where)
    if n_in % groups or n_out % groups:
        raise ValueError(f"{where}: in_channels ({n_in}) and out_channels ({n_out}) must be divisible by "
                         f"groups ({groups})")
    weight = (n_in, n_out // groups) if cls._transposed else (n_out, n_in // groups)
    return {"weight": (weight + kernel, tag), **({"bias": ((n_out,), tag)} if a["bias"] else {})}


def _affine(a, n, tag, flag="affine"):
    """``weight`` and (unless ``bias=False``) ``bias`` of shape ``n`` when the ``flag`` argument is on."""
    if not a[flag]:
        return {}
    return {"weight": (n, tag), **({"bias": (n, tag)} if a.get("bias", True) else {})}


def _batch_norm(cls, a, where):
    tag, n = _float_tag(a, where), _size(a, "num_features", where)
    state = _affine(a, (n,), tag)
    if a["track_running_stats"]:
        state.update(running_mean=((n,), tag), running_var=((n,), tag), num_batches_tracked=((), "I64"))
    return state


def _layer_norm(cls, a, where):
    tag, value = _float_tag(a, where), a["normalized_shape"]
    sizes = value if isinstance(value, list) else [value]
    if not sizes or len(sizes) > 32:
        raise ValueError(f"{where}: normalized_shape must be 1 to 32 positive ints, got {_short(value)}")
    shape = tuple(_size({"normalized_shape": n}, "normalized_shape", where) for n in sizes)
    return _affine(a, shape, tag, "elementwise_affine")


def _rms_norm(cls, a, where):
    tag, value = _float_tag(a, where), a["normalized_shape"]
    sizes = value if isinstance(value, list) else [value]
    shape = tuple(_size({"normalized_shape": n}, "normalized_shape", where) for n in sizes)
    return {"weight": (shape, tag)} if a["elementwise_affine"] else {}


def _group_norm(cls, a, where):
    return _affine(a, (_size(a, "num_channels", where),), _float_tag(a, where))


def _bilinear(cls, a, where):
    tag, n_out = _float_tag(a, where), _size(a, "out_features", where)
    weight = (n_out, _size(a, "in1_features", where), _size(a, "in2_features", where))
    return {"weight": (weight, tag), **({"bias": ((n_out,), tag)} if a["bias"] else {})}


def _cell(cls, a, where):
    tag, n_in, hidden = _float_tag(a, where), _size(a, "input_size", where), _size(a, "hidden_size", where)
    gates = cls.GATES * hidden
    state = {"weight_ih": ((gates, n_in), tag), "weight_hh": ((gates, hidden), tag)}
    if a["bias"]:
        state.update(bias_ih=((gates,), tag), bias_hh=((gates,), tag))
    return state


def _parameters(cls, config, prefix, state, where):
    """ParameterList and ParameterDict: their config lists each parameter's shape and dtype."""
    specs = config.get("parameters", [] if cls.__name__ == "ParameterList" else {})
    items = list(enumerate(specs)) if isinstance(specs, list) else list(specs.items()) if isinstance(specs, dict) \
        else None
    if items is None:
        raise TypeError(f"{where}: 'parameters' must be a list or a dict, got {type(specs).__name__}")
    for key, spec in items:
        if not isinstance(spec, dict) or not isinstance(spec.get("shape"), list) or len(spec["shape"]) > 32:
            raise ValueError(f"{where}: parameter {key!r} needs a 'shape' list, got {_short(spec)}")
        for n in spec["shape"]:
            if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 0 <= n <= MAX_SIZE:
                raise ValueError(f"{where}: parameter {key!r} has a bad size {_short(n)} in its shape")
        state[f"{prefix}{key}"] = (tuple(spec["shape"]), _float_tag({"dtype": spec.get("dtype")}, where))
    return True


def _embedding(cls, a, where):
    tag = _float_tag(a, where)
    return {"weight": ((_size(a, "num_embeddings", where), _size(a, "embedding_dim", where)), tag)}


def _recurrent(cls, a, where):
    tag, n_in, hidden = _float_tag(a, where), _size(a, "input_size", where), _size(a, "hidden_size", where)
    layers, gates = _size(a, "num_layers", where), cls.GATES * hidden
    projected = a.get("proj_size") or 0
    if projected:
        projected = _size(a, "proj_size", where)
    out = projected or hidden  # the size of h: each direction's output
    directions = ("", "_reverse") if a["bidirectional"] else ("",)
    state = {}
    for layer in range(layers):
        inputs = n_in if layer == 0 else out * len(directions)
        for suffix in directions:
            state[f"weight_ih_l{layer}{suffix}"] = ((gates, inputs), tag)
            state[f"weight_hh_l{layer}{suffix}"] = ((gates, out), tag)
            if a["bias"]:
                state[f"bias_ih_l{layer}{suffix}"] = ((gates,), tag)
                state[f"bias_hh_l{layer}{suffix}"] = ((gates,), tag)
            if projected:
                state[f"weight_hr_l{layer}{suffix}"] = ((projected, hidden), tag)
    return state


def _loss_weights(cls, a, where):
    """Class weights given in the config become float32 buffers of the same shape."""
    names = [name for name in ("weight", "pos_weight") if name in a and a[name] is not None]
    return {name: (_vector(a[name], where, name), "F32") for name in names}


def _children(cls, config, prefix, state, where):
    """Sequential and ModuleList: each child's state under "<name>."."""
    from .containers import Sequential

    key = "layers" if cls is Sequential else "modules"
    unknown = set(config) - ({"layers", "names"} if cls is Sequential else {"modules"})
    if unknown:
        raise TypeError(f"{where}: unexpected config keys {sorted(unknown)}")
    children = config.get(key, [])
    if cls.__name__ == "ModuleDict" and isinstance(children, dict):  # named children: {name: spec}
        config = {"names": list(children)}
        children = list(children.values())
    elif not isinstance(children, list):
        raise TypeError(f"{where}: {key!r} must be a list, got {type(children).__name__}")
    names = config.get("names")
    if names is None:
        names = [str(i) for i in range(len(children))]
    elif (not isinstance(names, list) or len(names) != len(children) or len(set(names)) != len(names)
          or not all(isinstance(n, str) and n and "." not in n for n in names)):
        raise ValueError(f"{where}: 'names' must be {len(children)} distinct non-empty strings without '.', "
                         f"got {_short(names)}")
    known = True
    for name, child in zip(names, children):
        known = _collect(child, f"{prefix}{name}.", state, f"{where}[{name!r}]") and known
    return known


_RULES = {}


def _rules():
    """Class -> rule, for chainrule's own layers (built on first use: the layers import this package)."""
    if not _RULES:
        from . import (
            activation, containers, conv, distance, dropout, embedding, linear, loss, normalization, padding, pooling,
            recurrent,
        )

        stateless = [
            activation.ReLU, activation.LeakyReLU, activation.ELU, activation.GELU, activation.Sigmoid,
            activation.Tanh, activation.Softplus, activation.Softmax, activation.LogSoftmax, dropout.Dropout,
            *(getattr(pooling, name) for name in pooling.__all__),
            *(getattr(padding, name) for name in padding.__all__), distance.CosineSimilarity, distance.PairwiseDistance,
            activation.ReLU6, activation.Hardtanh, activation.Hardswish, activation.Hardsigmoid, activation.SELU,
            activation.CELU, activation.SiLU, activation.Mish, activation.Softsign, activation.LogSigmoid,
            activation.Tanhshrink, activation.Softshrink, activation.Hardshrink, activation.Threshold,
            activation.GLU, activation.Softmin, normalization.LocalResponseNorm, linear.Unflatten,
        ]
        # losses: stateless unless they hold class weights (a buffer per weight argument)
        for cls in vars(loss).values():
            if isinstance(cls, type) and issubclass(cls, loss._Loss) and cls is not loss._Loss:
                _RULES[cls] = _loss_weights if getattr(cls, "_buffers_args", ()) else _stateless
        _RULES.update(dict.fromkeys(stateless, _stateless))
        _RULES.update({
            linear.Identity: _stateless, linear.Flatten: _stateless, conv.Dropout2d: _stateless,
            loss.MSELoss: _stateless, loss.L1Loss: _stateless, loss.HuberLoss: _stateless,
            loss.CrossEntropyLoss: _loss_weights, loss.BCEWithLogitsLoss: _loss_weights,
            activation.PReLU: _prelu, linear.Linear: _linear,
            **{getattr(conv, name): _conv for name in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                                                       "ConvTranspose2d", "ConvTranspose3d")},
            normalization.BatchNorm1d: _batch_norm, conv.BatchNorm2d: _batch_norm,
            normalization.LayerNorm: _layer_norm, embedding.Embedding: _embedding,
            recurrent.RNNBase: _recurrent, recurrent.RNN: _recurrent, recurrent.LSTM: _recurrent,
            recurrent.GRU: _recurrent,
            containers.Sequential: _children, containers.ModuleList: _children, containers.ModuleDict: _children,
            containers.ParameterList: _parameters, containers.ParameterDict: _parameters,
            normalization.BatchNorm3d: _batch_norm, normalization.InstanceNorm1d: _batch_norm,
            normalization.InstanceNorm2d: _batch_norm, normalization.InstanceNorm3d: _batch_norm,
            normalization.GroupNorm: _group_norm, normalization.RMSNorm: _rms_norm, linear.Bilinear: _bilinear,
            embedding.EmbeddingBag: _embedding, recurrent.RNNCellBase: _cell, recurrent.RNNCell: _cell,
            recurrent.LSTMCell: _cell, recurrent.GRUCell: _cell,
        })
    return _RULES
