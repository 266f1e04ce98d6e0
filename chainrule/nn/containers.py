"""Containers: ``Sequential`` (a chain of layers) and ``ModuleList`` (a list of layers)."""

from collections import OrderedDict

from .config import build_module, module_to_config
from .module import Module

__all__ = ["Sequential", "ModuleList"]


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
        values = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(*values[index]) if isinstance(self, Sequential) else type(self)(values[index])
        return values[self._index(int(index))]

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
        values = list(self._modules.values())
        values.insert(index, _check_module(module, type(self).__name__))
        self._renumber(values)

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
