"""Containers, as ``torch.nn``: ``Sequential`` (a chain of layers), ``ModuleList``, ``ModuleDict``,
``ParameterList`` and ``ParameterDict``."""

from collections import OrderedDict
from collections.abc import Mapping

from ..backend import xp
from ..tensor import Tensor
from .config import build_module, module_to_config
from .module import Module
from .parameter import Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _check_module(value, owner):
    if not isinstance(value, Module):
        raise TypeError(f"{owner}: expected a Module, got {type(value).__name__} {value!r:.80}")
    return value


class _ListOfModules(Module):
    """Shared list behaviour: children named "0", "1", ... kept in order."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def _index(self, index):
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__} index {index} is out of range for {n} modules")
        return index % n

    def _renumber(self, modules):
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __getitem__(self, index):
        if isinstance(index, slice):
            if isinstance(self, Sequential):  # keeps the names, as PyTorch
                return type(self)(OrderedDict(list(self._modules.items())[index]))
            return type(self)(list(self._modules.values())[index])
        return list(self._modules.values())[self._index(int(index))]

    def __setitem__(self, index, module):
        name = list(self._modules)[self._index(int(index))]
        setattr(self, name, _check_module(module, type(self).__name__))

    def __delitem__(self, index):
        values = list(self._modules.values())
        if isinstance(index, slice):
            del values[index]
        else:
            del values[self._index(int(index))]
        self._renumber(values)

    def append(self, module):
        """Add ``module`` at the end; returns the container."""
        self.add_module(str(len(self._modules)), _check_module(module, type(self).__name__))
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        values = list(self._modules.values())
        values.insert(index, _check_module(module, type(self).__name__))
        self._renumber(values)

    def pop(self, index=-1):
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module

    def __add__(self, other):
        if not isinstance(other, type(self)):
            return NotImplemented
        combined = list(self) + list(other)
        return type(self)(*combined) if isinstance(self, Sequential) else type(self)(combined)

    def __iadd__(self, other):
        return self.extend(other)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def _children_config(self):
        return [module_to_config(module) for module in self._modules.values()]


class Sequential(_ListOfModules):
    """Layers applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 3))``.

    Supports ``len``, iteration, indexing (a slice gives a new Sequential sharing the
    layers) and ``append``. An ``OrderedDict`` of name -> layer names the children.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            Module.__init__(self)
            for name, layer in layers[0].items():
                self.add_module(name, _check_module(layer, "Sequential"))
            return
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            raise TypeError("Sequential takes layers as separate arguments: Sequential(*layers), not Sequential(layers)")
        super().__init__(layers)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def get_config(self):
        config = {"layers": self._children_config()}
        names = list(self._modules)
        if names != [str(i) for i in range(len(names))]:
            config["names"] = names
        return config

    @classmethod
    def from_config(cls, config):
        layers = [build_module(spec) for spec in config.get("layers", [])]
        names = config.get("names")
        if names is not None:
            if len(names) != len(layers):
                raise ValueError(f"Sequential.from_config: {len(names)} names for {len(layers)} layers")
            return cls(OrderedDict(zip(names, layers)))
        return cls(*layers)


class ModuleList(_ListOfModules):
    """A list of modules whose parameters the parent registers (it has no ``forward`` of its own).

    ``ModuleList([Linear(8, 8) for _ in range(3)])``; index, iterate, ``append``, ``extend``.
    """

    def __init__(self, modules=None):
        super().__init__(modules or ())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList has no forward(): iterate over it in your module's forward, e.g. "
            "for layer in self.layers: x = layer(x)"
        )

    def get_config(self):
        return {"modules": self._children_config()}

    @classmethod
    def from_config(cls, config):
        return cls([build_module(spec) for spec in config.get("modules", [])])


class ModuleDict(Module):
    """Modules by name, registered in insertion order: ``ModuleDict({"enc": Linear(4, 8), "dec": Linear(8, 4)})``.

    A dict's methods: ``[key]``, ``in``, ``len``, iteration over keys, ``keys/values/items``,
    ``update``, ``pop``, ``clear``. No ``forward``: call the members in your own.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key):
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return list(self._modules.keys())

    def values(self):
        return list(self._modules.values())

    def items(self):
        return list(self._modules.items())

    def update(self, modules):
        """Add (or replace) the modules of a mapping or of an iterable of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: expected (key, module) pairs, got {pair!r:.80}")
            self[pair[0]] = pair[1]

    def pop(self, key):
        module = self._modules[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(): call its members in your module's forward")

    def get_config(self):
        return {"modules": {key: module_to_config(module) for key, module in self._modules.items()}}

    @classmethod
    def from_config(cls, config):
        return cls({key: build_module(spec) for key, spec in config.get("modules", {}).items()})


def _as_parameter(value, owner):
    """Tensors and arrays become Parameters (as PyTorch's ParameterList does); Parameters stay."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.data, requires_grad=value.requires_grad or value.data.dtype.kind == "f")
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return Parameter(xp.asarray(value))
    raise TypeError(f"{owner}: expected a Parameter, Tensor or array, got {type(value).__name__}")


def _parameters_config(parameters):
    """Shapes, dtypes and requires_grad of parameters: what rebuilds them (values come from the state_dict)."""
    return {
        key: {"shape": list(p.shape), "dtype": p.dtype.name, "requires_grad": bool(p.requires_grad)}
        for key, p in parameters.items()
    }


def _parameter_from_config(spec):
    return Parameter(xp.zeros(tuple(spec["shape"]), dtype=spec["dtype"]), requires_grad=spec.get("requires_grad", True))


class ParameterList(Module):
    """A list of Parameters registered as "0", "1", ...: ``ParameterList([Parameter(w) for w in ws])``.

    Tensors and arrays appended are made Parameters. Index, iterate, ``len``, ``append``, ``extend``.
    Its config holds the shapes and dtypes; the values travel in the state_dict.
    """

    def __init__(self, values=None):
        super().__init__()
        for value in values or ():
            self.append(value)

    def _key(self, index):
        n = len(self._parameters)
        index = int(index)
        if not -n <= index < n:
            raise IndexError(f"ParameterList index {index} is out of range for {n} parameters")
        return str(index % n)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[self._key(index)]

    def __setitem__(self, index, value):
        self.register_parameter(self._key(index), _as_parameter(value, "ParameterList"))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters.values()))

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward(): use its parameters in your module's forward")

    def get_config(self):
        specs = _parameters_config(self._parameters)
        return {"parameters": [specs[key] for key in self._parameters]}

    @classmethod
    def from_config(cls, config):
        return cls([_parameter_from_config(spec) for spec in config.get("parameters", [])])

    def extra_repr(self):
        return "\n".join(
            f"({key}): Parameter containing: [{p.dtype.name} of size {'x'.join(map(str, p.shape))}]"
            for key, p in self._parameters.items()
        )


class ParameterDict(Module):
    """Parameters by name, in insertion order (a dict's methods, as ``ModuleDict``).

    Tensors and arrays stored are made Parameters. Its config holds shapes and dtypes; values travel
    in the state_dict.
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def __delitem__(self, key):
        delattr(self, key)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters))

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return list(self._parameters.keys())

    def values(self):
        return list(self._parameters.values())

    def items(self):
        return list(self._parameters.items())

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def update(self, parameters):
        """Add (or replace) parameters from a mapping or (key, value) pairs; a plain dict's keys are
        taken sorted, an OrderedDict's (or ParameterDict's) in order, as PyTorch does."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = parameters
        for key, value in pairs:
            self[key] = value

    def pop(self, key):
        value = self._parameters[key]
        del self[key]
        return value

    def clear(self):
        for key in list(self._parameters):
            del self[key]

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward(): use its parameters in your module's forward")

    def get_config(self):
        return {"parameters": _parameters_config(self._parameters)}

    @classmethod
    def from_config(cls, config):
        return cls({key: _parameter_from_config(spec) for key, spec in config.get("parameters", {}).items()})

    def extra_repr(self):
        return "\n".join(
            f"({key}): Parameter containing: [{p.dtype.name} of size {'x'.join(map(str, p.shape))}]"
            for key, p in self._parameters.items()
        )
