"""``Module``: the base class of every layer and network.

A module owns ``Parameter``s (trained), buffers (state such as BatchNorm's running
statistics: saved, not trained) and sub-modules, each registered when it is assigned
as an attribute, in order. On top of that registry it offers what PyTorch's
``torch.nn.Module`` does (``parameters()``, ``state_dict()``, ``train()/eval()``, a
``repr`` of the architecture, hooks) and what Keras layers do (``get_config()`` /
``from_config()``, ``summary()``).

Registered parameters, buffers and sub-modules live both in their registry
(``_parameters``, ``_buffers``, ``_modules``) and in the instance ``__dict__``, so that
reading ``self.weight`` in ``forward`` is a plain attribute lookup.
"""

import inspect
from collections import OrderedDict, namedtuple

import numpy

from .. import backend
from ..backend import xp
from ..creation import as_generator
from ..tensor import Tensor
from .config import module_to_config, register_module
from .parameter import Parameter

__all__ = ["Module", "IncompatibleKeys", "RemovableHandle"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
"""What ``load_state_dict(..., strict=False)`` skipped."""

# Hooks every module runs (used by ``summary``): lists of callables.
_GLOBAL_PRE_HOOKS = []
_GLOBAL_POST_HOOKS = []


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``handle.remove()`` unregisters the hook.

    Also a context manager (``with module.register_forward_hook(f): ...`` removes it on exit).
    """

    _next_id = 0

    def __init__(self, hooks, *extra):
        self._hooks = hooks
        self._extra = extra  # sets or dicts holding per-hook flags (with_kwargs)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)
        for registry in self._extra:
            if isinstance(registry, set):
                registry.discard(self.id)
            else:
                registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, hook, prepend, *extra):
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, *extra)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _check_name(owner, name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{type(owner).__name__}: {kind} name must be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise ValueError(f"{type(owner).__name__}: {kind} name {name!r} must be non-empty and contain no '.'")


def _indent(text, spaces):
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class of layers and networks: subclass it, create layers in ``__init__``, compute in ``forward``.

    Example
    -------
    >>> class MLP(Module):
    ...     def __init__(self, hidden=32):
    ...         super().__init__()
    ...         self.hidden = hidden
    ...         self.fc1 = Linear(4, hidden)
    ...         self.fc2 = Linear(hidden, 3)
    ...     def forward(self, x):
    ...         return self.fc2(relu(self.fc1(x)))
    ...     def get_config(self):          # lets chainrule.save / build_module rebuild it
    ...         return {"hidden": self.hidden}
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register_module(cls)

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["training"] = True

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if params is None:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before Module.__init__() ran: "
                    f"call super().__init__() at the start of {type(self).__name__}.__init__"
                )
            object.__setattr__(self, name, value)
            return
        modules, buffers = d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a parameter: assign a chainrule.nn.Parameter or None, not "
                    f"{type(value).__name__} (to change its values in place write self.{name}.data[...] = values)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a sub-module: assign a Module or None, not {type(value).__name__}"
                )
            modules[name] = None
        elif name in buffers:
            value = self._as_buffer(name, value)
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self.__dict__.get("_parameters", ()) or name in self.__dict__.get("_buffers", ()) or name in (
            self.__dict__.get("_modules", ())
        ):
            self._forget(name)
        object.__delattr__(self, name)

    def __getattr__(self, name):  # only called when normal lookup failed
        if name.startswith("__") or "_parameters" not in self.__dict__:
            if name in ("_parameters", "_buffers", "_modules"):
                raise AttributeError(
                    f"{type(self).__name__} has no {name}: call super().__init__() at the start of "
                    f"{type(self).__name__}.__init__"
                )
            raise AttributeError(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _forget(self, name, keep=None):
        """Unregister ``name`` (except from the registry ``keep``, where a replacement keeps its place)."""
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry != keep:
                d[registry].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def _as_buffer(self, name, value):
        if value is None:
            return None
        if isinstance(value, Tensor):
            value = value.data
        if not hasattr(value, "shape") or not hasattr(value, "dtype"):
            value = xp.asarray(value)
        return value

    def register_parameter(self, name, param):
        """Register ``param`` (a ``Parameter`` or None, e.g. a disabled bias) as ``self.<name>``."""
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}.register_parameter({name!r}): expected a Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._forget(name, keep="_parameters")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, array, persistent=True):
        """Register an array as ``self.<name>``: saved in ``state_dict()`` (if ``persistent``), converted
        by ``to(dtype)`` when floating, never trained (BatchNorm's running statistics)."""
        _check_name(self, name, "buffer")
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ before register_buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"{type(self).__name__}.register_buffer: attribute {name!r} already exists")
        self._forget(name, keep="_buffers")
        array = self._as_buffer(name, array)
        self._buffers[name] = array
        if not persistent:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, array)

    def add_module(self, name, module):
        """Register ``module`` (or None) as the sub-module ``self.<name>``."""
        _check_name(self, name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module({name!r}): expected a Module, got {type(module).__name__}")
        self._forget(name, keep="_modules")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    def register_module(self, name, module):
        """Alias of ``add_module`` (PyTorch's name)."""
        self.add_module(name, module)

    # ---------------------------------------------------------------- forward
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward(self, x) returning the output"
        )

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or _GLOBAL_PRE_HOOKS:
            for hook in _GLOBAL_PRE_HOOKS:
                changed = hook(self, args)
                if changed is not None:
                    args = changed if isinstance(changed, tuple) else (changed,)
            with_kwargs = self.__dict__.get("_forward_pre_hooks_with_kwargs", ())
            for key, hook in list(self._forward_pre_hooks.items()):
                if key in with_kwargs:
                    changed = hook(self, args, kwargs)
                    if changed is not None:
                        if not (isinstance(changed, tuple) and len(changed) == 2):
                            raise RuntimeError(
                                f"forward pre-hook {hook!r} registered with_kwargs=True must return None or a "
                                f"tuple (args, kwargs), got {type(changed).__name__}"
                            )
                        args, kwargs = changed
                else:
                    changed = hook(self, args)
                    if changed is not None:
                        args = changed if isinstance(changed, tuple) else (changed,)
        d = self.__dict__  # (.get: a module pickled before backward hooks existed has no such registry)
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            from .hooks import call_with_backward_hooks

            output = call_with_backward_hooks(self, args, kwargs)
        else:
            output = self.forward(*args, **kwargs)
        if self._forward_hooks or _GLOBAL_POST_HOOKS:
            with_kwargs = self.__dict__.get("_forward_hooks_with_kwargs", ())
            for key, hook in list(self._forward_hooks.items()):
                if key in with_kwargs:
                    changed = hook(self, args, kwargs, output)
                else:
                    changed = hook(self, args, output)
                if changed is not None:
                    output = changed
            for hook in _GLOBAL_POST_HOOKS:
                changed = hook(self, args, output)
                if changed is not None:
                    output = changed
        return output

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before each forward; a non-None return replaces the positional
        arguments. With ``with_kwargs``: ``hook(module, args, kwargs)`` returning None or ``(args, kwargs)``.
        ``prepend``: run before the hooks already registered. Returns a handle with ``.remove()``."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend, self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` after each forward (``hook(module, args, kwargs, output)``
        with ``with_kwargs``); a non-None return replaces the output. Returns a handle with ``.remove()``.
        (``always_call`` is accepted; hooks run only when forward returns.)"""
        handle = _add_hook(self._forward_hooks, hook, prepend, self._forward_hooks_with_kwargs)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to this module's
        inputs have been computed; a non-None return (a tuple like ``grad_input``) replaces them.

        ``grad_output``: one entry per output tensor (a Tensor output or the tensors of a tuple output);
        ``grad_input``: one per positional argument, None for arguments that are not tensors (zeros for a
        tensor no gradient reached). Gradients are NumPy arrays. As in PyTorch, the inputs and
        outputs are wrapped in identity nodes, so what is seen is the gradient at the module's boundary,
        whatever ops the forward is made of; when no input requires a gradient the hook is called with
        grad_input all None as soon as grad_output is known. Returns a handle with ``.remove()``.
        """
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients with respect to this module's outputs
        arrive, before the module's own backward; a non-None return replaces grad_output."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    # -------------------------------------------------------------- traversal
    def named_children(self):
        """(name, module) of the direct sub-modules, in registration order."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix="", remove_duplicate=True):
        """(dotted name, module) of this module ("" for itself) and every sub-module, depth first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self):
        """This module and every sub-module, depth first."""
        for _, module in self.named_modules():
            yield module

    def get_submodule(self, target):
        """The sub-module at dotted path ``target`` ("" is this module)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} (looking up {target!r})")
            module = child
        return module

    def _get_member(self, target, registry, kind):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        members = getattr(module, registry)
        if name not in members:
            raise AttributeError(f"{type(module).__name__} has no {kind} {name!r} (looking up {target!r})")
        return members[name]

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (e.g. "0.weight")."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target):
        """The buffer at dotted path ``target`` (e.g. "bn.running_mean")."""
        return self._get_member(target, "_buffers", "buffer")

    def _named_members(self, kind, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in getattr(module, kind).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, e.g. ("0.weight", ...), each parameter once (with ``remove_duplicate``)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter, once each (shared parameters are not repeated)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, array) of every buffer."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def num_parameters(self, trainable_only=False):
        """Number of scalar parameters (shared parameters counted once)."""
        return int(sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only))

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and every sub-module."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train(mode): mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode: Dropout passes inputs through, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: ``grad = None`` (the default, as PyTorch >= 2.0), or zero it in place."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param._grad is not None:
                param._grad[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def reset_parameters(self, seed=None):
        """Re-initialise every layer.

        With ``seed`` (int or Generator) one generator is passed through the sub-modules
        in order, so the whole network is reproducible from one number; without it each
        layer uses the ``seed`` it was built with. Layers with parameters override this.
        """
        rng = None if seed is None else as_generator(seed)
        for child in self.children():
            child.reset_parameters(rng)

    # ------------------------------------------------------------------ dtype
    def to(self, *args, **kwargs):
        """Convert every parameter and floating buffer to the floating ``dtype`` (e.g. float64 for gradcheck).

        Called as PyTorch's: ``to(dtype)``, ``to(device, dtype)``, ``to(dtype=...)``, ``to(tensor)`` (its
        dtype); the only device is "cpu" (a device alone changes nothing). The Parameter objects stay
        the same (their ``.data`` is replaced by a converted copy), so call this before creating an
        optimizer that lays parameters out in one buffer.
        """
        dtype = _to_arguments(type(self).__name__, args, kwargs)
        if dtype is None:
            return self
        dtype = xp.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to(dtype): expected a floating dtype, got {dtype}")
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.data.dtype != dtype:
                    param.data = param.data.astype(dtype)
                    if param._grad is not None:
                        param.grad = param._grad.astype(dtype)
            for name, buffer in list(module._buffers.items()):
                if buffer is not None and buffer.dtype.kind == "f" and buffer.dtype != dtype:
                    setattr(module, name, buffer.astype(dtype))
            if "dtype" in module.__dict__:
                module.__dict__["dtype"] = dtype
        return self

    def astype(self, dtype):
        """``to(dtype)``."""
        return self.to(dtype)

    def cpu(self):
        """Nothing to move: NumPy arrays live in host memory. Returns the module."""
        return self

    def half(self):
        """``to(float16)``."""
        return self.to(xp.float16)

    def double(self):
        """``to(float64)``."""
        return self.to(xp.float64)

    def float(self):
        """``to(float32)``."""
        return self.to(xp.float32)

    # ------------------------------------------------------------------- state
    def _state_entries(self, prefix=""):
        """(key, owning module, attribute name, registry) for every saved array, in state_dict order."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, self, name, "_parameters"
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + name, self, name, "_buffers"
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_entries(f"{prefix}{name}.")

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """OrderedDict of dotted name -> NumPy array copy of every parameter and persistent buffer.

        ``prefix`` is put before every key; ``keep_vars`` gives the Parameters themselves (and the
        buffers uncopied) instead of copies; ``destination``: a dict to fill (and return).
        """
        if args:  # PyTorch's deprecated positional form state_dict(destination, prefix, keep_vars)
            destination, prefix, keep_vars = (tuple(args) + (destination, prefix, keep_vars)[len(args):])[:3]
        state = OrderedDict() if destination is None else destination
        for key, module, name, registry in self._state_entries(prefix):
            value = getattr(module, registry)[name]
            if keep_vars:
                state[key] = value
                continue
            array = value.data if registry == "_parameters" else value
            state[key] = numpy.array(backend.to_numpy(array), copy=True)
        return state

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the arrays of ``state_dict`` into this module's parameters and buffers, in place.

        Values are written into the existing arrays (``param.data[...] = value``, cast to
        their dtype), never rebound, so optimizers that hold views of the parameters keep
        working. Every problem is reported at once, before anything is copied: with
        ``strict=True`` missing and unexpected keys are errors; a shape mismatch always is.

        ``assign`` is accepted for PyTorch compatibility; values are always copied in place.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``, both empty under ``strict=True``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        targets = OrderedDict()
        for key, module, name, registry in self._state_entries():
            value = getattr(module, registry)[name]
            targets[key] = value.data if registry == "_parameters" else value
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict.keys() if key not in targets]
        mismatched = []
        values = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                value = value.data
            try:
                value = xp.asarray(value)
            except Exception:
                raise TypeError(
                    f"{type(self).__name__}.load_state_dict: value of {key!r} is a {type(value).__name__}, not an array"
                ) from None
            if value.shape != target.shape:
                mismatched.append(f"{key!r}: state_dict has shape {tuple(value.shape)}, the model has {tuple(target.shape)}")
            values[key] = value

        def shape_of(value):
            return tuple(getattr(value, "shape", ()))

        problems = []
        if strict and missing:
            problems.append(
                "missing keys (in the model, not in state_dict): "
                + ", ".join(f"{key!r} {tuple(targets[key].shape)}" for key in missing)
            )
        if strict and unexpected:
            problems.append(
                "unexpected keys (in state_dict, not in the model): "
                + ", ".join(f"{key!r} {shape_of(state_dict[key])}" for key in unexpected)
            )
        if mismatched:
            problems.append("shape mismatch: " + "; ".join(mismatched))
        if problems:
            raise ValueError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  " + "\n  ".join(problems)
            )
        for key, value in values.items():
            targets[key][...] = value
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- config
    def get_config(self):
        """The constructor arguments as a JSON-serialisable dict (what ``from_config`` needs to rebuild).

        Layers define it; a module whose ``__init__`` takes no arguments gets ``{}``.
        """
        parameters = list(inspect.signature(type(self).__init__).parameters.values())[1:]
        if not parameters:
            return {}
        name = type(self).__name__
        arguments = ", ".join(p.name for p in parameters)
        raise NotImplementedError(
            f"{name} has no get_config(), so it cannot be saved as a config or rebuilt from one. Add a method "
            f"returning the arguments of {name}.__init__ ({arguments}) as JSON values, e.g.\n"
            f"    def get_config(self):\n"
            f"        return {{{', '.join(f'{p.name!r}: self.{p.name}' for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD)}}}\n"
            f"(store them on self in __init__). Rebuilding calls {name}(**config); override the classmethod "
            f"from_config(cls, config) if it needs more, e.g. sub-modules stored with "
            f"chainrule.nn.module_to_config and rebuilt with chainrule.nn.build_module."
        )

    @classmethod
    def from_config(cls, config):
        """Build the module from ``get_config()``'s dict: ``cls(**config)``."""
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}.from_config({config!r:.200}) failed: {error}") from error

    def to_config(self):
        """``{"class": ..., "config": ...}``: what ``chainrule.nn.build_module`` rebuilds this module from."""
        return module_to_config(self)

    # ----------------------------------------------------------------- display
    def extra_repr(self):
        """The constructor arguments shown inside this module's ``repr``."""
        return ""

    def __repr__(self):
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, child in self._modules.items():
            lines.append(f"({name}): " + repr(child))
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(_indent(line, 2) for line in lines) + "\n)"

    def summary(self, input=None, dtype=None, print_fn=print):
        """Table of every sub-module's output shape and parameter count, with totals.

        Parameters
        ----------
        input : tuple of int, array, Tensor, or a list of these, optional
            The input: a shape *including the batch axis*, e.g. ``(1, 784)`` (filled with
            seeded random numbers, or zeros for an integer ``dtype``), or an example input.
            Without it only parameter counts are shown.
        dtype : dtype, optional
            Of an input given as a shape; default the dtype of the first parameter.
        print_fn : callable or None
            Called with the table (``None``: do not print).

        Returns
        -------
        ModelSummary
            ``str()`` is the table; ``.rows``, ``.total_params``, ``.trainable_params``, ``.output_shape``.
        """
        from .summary import summarize

        result = summarize(self, input, dtype)
        if print_fn is not None:
            print_fn(str(result))
        return result


def _to_arguments(name, args, kwargs):
    """The dtype among ``Module.to``'s arguments (None if only a device was given)."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{name}.to() got unexpected keyword arguments {sorted(unknown)}")
    dtype, device = kwargs.get("dtype"), kwargs.get("device")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta") and not hasattr(xp, arg):
            device = arg
        elif arg is not None and not isinstance(arg, bool):
            dtype = arg
    if device is not None and str(device).split(":")[0] != "cpu" and xp is numpy:
        raise ValueError(
            f"{name}.to({device!r}): with the NumPy backend chainrule computes on the CPU; the only device is "
            "'cpu' (set CHAINRULE_BACKEND=cupy for a GPU)"
        )
    return dtype


def layer_dtype(dtype):
    """``dtype`` (a name or dtype object) as a floating dtype, checked."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"layer dtype must be floating (float32 or float64), got {dtype}")
    return dtype


def config_seed(seed):
    """A seed as it can appear in a config: ints are kept, Generators become None."""
    return int(seed) if isinstance(seed, (int, numpy.integer)) and not isinstance(seed, bool) else None


def as_input(x, dtype):
    """A layer's input as a Tensor of the layer's floating ``dtype``.

    NumPy arrays and lists (float64 from scikit-learn, ints) are converted, and so are
    tensors that do not require a gradient, so a float32 model computes in float32. A
    tensor that requires a gradient is left alone (casting it would be a graph op the
    caller did not ask for).
    """
    if isinstance(x, Tensor):
        if x.data.dtype != dtype and not x.requires_grad:
            return Tensor(x.data.astype(dtype))
        return x
    return Tensor(xp.asarray(x, dtype=dtype))
