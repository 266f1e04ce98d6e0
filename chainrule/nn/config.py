"""Architecture as JSON: every ``Module`` subclass is registered by class name, so that
``{"class": "Linear", "config": {...}}`` rebuilds the layer without pickle.

``module_to_config(module)`` gives that dict (``module.get_config()`` supplies the
constructor arguments); ``build_module(spec)`` looks the class up and calls its
``from_config``. Containers store their children as a list of such dicts.
"""

import json

_REGISTRY = {}


def register_module(cls, name=None):
    """Make ``cls`` buildable from configs under ``name`` (default: its class name).

    ``Module`` subclasses are registered automatically when they are defined; call this
    for an alias (``register_module(Linear, "Dense")``). A later class of the same name
    replaces the earlier one (re-running a notebook cell redefines a class).
    """
    _REGISTRY[name or cls.__name__] = cls
    return cls


def registered_modules():
    """Names of the module classes ``build_module`` knows, sorted."""
    return sorted(_REGISTRY)


def get_module_class(name):
    """The registered class called ``name``; a ``KeyError`` explains how to register a missing one."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"build_module: no module class named {name!r} is registered. Module subclasses register "
            f"themselves when the file defining them is imported, so import it before building "
            f"(known classes: {', '.join(registered_modules())})"
        ) from None


def _json_problem(value, path):
    """The path of the first value that JSON cannot hold, or None."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problem = _json_problem(item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} (key {key!r} is not a string)"
            problem = _json_problem(item, f"{path}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{path} = {value!r} (a {type(value).__name__})"


def module_to_config(module):
    """``{"class": name, "config": module.get_config()}``, checked to be JSON-serialisable."""
    cls = type(module)
    name = cls.__name__
    if _REGISTRY.get(name) is not cls:
        other = _REGISTRY.get(name)
        where = f"{other.__module__}.{other.__qualname__}" if other is not None else "nothing"
        raise ValueError(
            f"module_to_config: the class name {name!r} of {cls.__module__}.{cls.__qualname__} is registered "
            f"for {where}, so a config could not rebuild this module; give the classes different names"
        )
    config = module.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"{name}.get_config() must return a dict of constructor arguments, got {type(config).__name__}")
    problem = _json_problem(config, f"{name}.get_config()")
    if problem:
        raise TypeError(
            f"module_to_config: {problem} is not JSON-serialisable; get_config() must return only "
            "None, bool, int, float, str, lists and dicts with string keys (convert arrays with .tolist(), "
            "dtypes with str(), and store a sub-module as chainrule.nn.module_to_config(sub_module))"
        )
    return {"class": name, "config": config}


def build_module(spec):
    """Rebuild a module from ``{"class": name, "config": {...}}`` (or that dict as a JSON string)."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    if not isinstance(spec, dict) or "class" not in spec:
        raise TypeError(
            'build_module: expected a dict like {"class": "Linear", "config": {"in_features": 4, ...}}, '
            f"got {spec!r:.200}"
        )
    unknown = set(spec) - {"class", "config"}
    if unknown:
        raise ValueError(f"build_module: unexpected keys {sorted(unknown)} in {spec!r:.200}; expected 'class' and 'config'")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise TypeError(f"build_module: 'config' of {spec['class']!r} must be a dict, got {type(config).__name__}")
    cls = get_module_class(spec["class"])
    return cls.from_config(config)
