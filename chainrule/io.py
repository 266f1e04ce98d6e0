"""Model files: one safetensors file holding weights, architecture and (optionally) training state.

A chainrule model file is a standard `safetensors <https://github.com/huggingface/safetensors>`_
file, which is a deliberately simple format::

    8 bytes      N, the header length, unsigned little-endian
    N bytes      a JSON header: {"name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]},
                                 ..., "__metadata__": {"key": "string value", ...}}
    the rest     the raw little-endian bytes of every tensor, C order, at its data_offsets

We read and write that format with NumPy (the reader, which validates every header before
trusting it, is ``chainrule.safetensors_format``), instead of through the ``safetensors``
package: loading a model then needs nothing beyond NumPy, and the files stay readable by
``safetensors.numpy.load_file`` and every other safetensors reader (the tests check both
directions when the package is installed). Nothing here ever uses pickle: a file holds arrays
and JSON, so loading a file cannot run code; every malformed, truncated or inconsistent file
raises :class:`ModelFileError`, and a file cannot make loading cost much more memory than the
file's own size (the architecture is checked against the tensors before the model is built;
optimizer, scheduler and extra tensors are read only when asked for).

What a file holds:

* the model's ``state_dict()`` (weights and buffers), under their own names (``"0.weight"``);
* ``__metadata__["architecture"]``: ``chainrule.nn.module_to_config(model)`` as JSON, which
  ``load`` feeds to ``chainrule.nn.build_module`` to rebuild the model without the user's code;
* ``__metadata__["format"] = "chainrule"`` and ``"format_version"``;
* optionally the optimizer and scheduler ``state_dict()`` and a JSON-able ``extra`` (preprocessing,
  class names, RNG state, ...): their arrays become tensors named ``optimizer/...``,
  ``scheduler/...`` and ``extra/...``, everything else (numbers, strings, lists, dicts) stays JSON
  in the metadata, with the arrays replaced by ``{"__tensor__": name}`` references.

Saving is atomic: the file is written to a temporary file in the same directory, flushed,
``fsync``-ed and then renamed over the destination with ``os.replace``, so a crash (or a full
disk) mid-save leaves the previous file intact.
"""

import json
import os
import struct

import numpy

from ._atomic import atomic_write
from .backend import to_numpy
from .safetensors_format import (DTYPE_NAMES as _DTYPE_NAMES, DTYPES as _DTYPES, MAX_JSON_ITEMS, ModelFileError,
                                 json_extent, open_file as _open, parse_json, read_header, read_tensor)
from .tensor import Tensor

__all__ = [
    "ModelFileError",
    "save",
    "load",
    "load_checkpoint",
    "read_metadata",
    "save_safetensors",
    "load_safetensors",
    "FORMAT_VERSION",
]

FORMAT_VERSION = 1
"""Version of the layout of the chainrule metadata; bumped when it changes incompatibly."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of the JSON metadata (architecture, optimizer/scheduler state, extra) save writes and load reads."""

# Prefixes of the tensors that are not model weights.
_OPTIMIZER, _SCHEDULER, _EXTRA = "optimizer/", "scheduler/", "extra/"
_STATE_PREFIXES = (_OPTIMIZER, _SCHEDULER, _EXTRA)


# ===================================================================== public API
def save(model, path, optimizer=None, scheduler=None, extra=None):
    """Save ``model`` (weights, buffers and architecture) to one safetensors file, atomically.

    Parameters
    ----------
    model : chainrule.nn.Module
        Its ``state_dict()`` is stored as tensors and ``chainrule.nn.module_to_config(model)`` as
        JSON, so that :func:`load` can rebuild it. A model whose architecture cannot be described
        as config (a custom class without ``get_config``) is saved with its weights only, with a
        warning; restore it with :func:`load_checkpoint` into a model built in code.
    path : str or os.PathLike
        Destination (conventionally ``*.safetensors``); its directory must exist.
    optimizer, scheduler : optional
        Objects with ``state_dict()``; their state is stored so training can resume exactly.
    extra : optional
        Anything made of dicts, lists, tuples, strings, numbers, None and NumPy arrays
        (preprocessing, class names, ``generator.bit_generator.state``); :func:`load_checkpoint`
        returns it.
    """
    from . import nn

    if not isinstance(model, nn.Module):
        hint = (" (torch.save(model.state_dict(), path) translates to chainrule.save(model, path); a dict of "
                "arrays alone can be written with safetensors.numpy.save_file(model.state_dict(), path))"
                if hasattr(model, "keys") else "")
        raise TypeError(f"save: expected a chainrule.nn.Module, got {type(model).__name__}{hint}")
    path = os.fspath(path)
    state = model.state_dict()
    tensors = {}
    for name, value in state.items():
        if name.startswith(_STATE_PREFIXES) or name == "__metadata__":
            raise ValueError(f"save: the model has a state entry named {name!r}, which clashes with the names "
                             f"chainrule.save reserves ({', '.join(_STATE_PREFIXES)}, __metadata__)")
        tensors[name] = _array(value)

    metadata = {"format": "chainrule", "format_version": str(FORMAT_VERSION), "chainrule_version": _version()}
    try:
        metadata["architecture"] = _dumps(nn.module_to_config(model), "architecture")
    except Exception as error:  # a custom model class: weights only, with a warning
        import warnings

        warnings.warn(f"save: the architecture of {type(model).__name__} could not be stored as config "
                      f"({error}); {path} holds its weights only, so chainrule.load cannot rebuild it: "
                      f"build the model in code and use chainrule.load_checkpoint(path, model)", stacklevel=2)
    for key, prefix, obj in (("optimizer", _OPTIMIZER, optimizer), ("scheduler", _SCHEDULER, scheduler)):
        if obj is not None:
            metadata[key] = _dumps(_encode(obj.state_dict(), prefix.rstrip("/"), tensors), f"{key} state")
            metadata[key + "_class"] = type(obj).__name__
    if extra is not None:
        metadata["extra"] = _dumps(_encode(extra, _EXTRA.rstrip("/"), tensors), "extra")
    save_safetensors(tensors, path, metadata)


def load(path):
    """Rebuild the model saved in ``path`` (architecture from its JSON, then its weights); eval mode.

    Needs neither the code that defined the model (for chainrule's own layers) nor pickle.
    Raises ``FileNotFoundError`` for a missing file and :class:`ModelFileError` (a ``ValueError``)
    for a truncated, foreign or malformed file, naming the file and what was wrong. The header and
    the architecture are checked against each other before anything is allocated, so a file cannot
    make this use much more memory than its own size.
    """
    path = os.fspath(path)
    with _open(path) as file:
        header = read_header(path, file)
        _check_chainrule(path, header.metadata)
        if "architecture" not in header.metadata:
            raise ModelFileError(f"{path}: the file holds weights only (the model's architecture could not be "
                                 f"stored as config when it was saved); build the model in code and use "
                                 f"chainrule.load_checkpoint({path!r}, model)")
        model = _build(path, header)
        weights = {name: read_tensor(path, file, header, name) for name in _weight_names(header)}
    model.load_state_dict(weights)
    model.eval()
    return model


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Restore the weights (and optimizer / scheduler state) saved in ``path`` into existing objects.

    Everything is copied in place (``load_state_dict``), so an optimizer built on ``model``'s
    parameters stays attached to them. Returns the ``extra`` saved with the file (None if none).
    Raises :class:`ModelFileError` if the file is malformed, if its weights do not fit ``model``
    (naming the missing, unexpected, mis-shaped or mis-typed entries) or if optimizer/scheduler
    state was asked for but is not in the file; the file is checked completely before anything
    is copied. Only the tensors asked for are read.
    """
    path = os.fspath(path)
    with _open(path) as file:
        header = read_header(path, file)
        metadata = header.metadata
        _check_chainrule(path, metadata)
        _check_weights(path, header, _model_state(model),
                       f"holds weights for a different architecture than the {type(model).__name__} given")
        states = {}
        for key, prefix, obj in (("optimizer", _OPTIMIZER, optimizer), ("scheduler", _SCHEDULER, scheduler)):
            if obj is None:
                continue
            if key not in metadata:
                raise ModelFileError(f"{path}: a {key} was given but the file holds no {key} state "
                                     f"(save it with chainrule.save(model, path, {key}={key}))")
            saved_class, given_class = metadata.get(key + "_class"), type(obj).__name__
            if saved_class and saved_class != given_class:
                raise ModelFileError(f"{path}: the file holds the state of a {saved_class} {key}, "
                                     f"but a {given_class} was given")
            states[key] = _decoded(path, file, header, key, prefix)
            _check_state_like(path, key, states[key], obj)
        extra = _decoded(path, file, header, "extra", _EXTRA) if "extra" in metadata else None
        weights = {name: read_tensor(path, file, header, name) for name in _weight_names(header)}
    for key, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if key in states:
            try:
                obj.load_state_dict(states[key])
            except Exception as error:
                raise ModelFileError(f"{path}: the saved {key} state does not fit the given {key} "
                                     f"({type(error).__name__}: {error})") from error
    model.load_state_dict(weights)  # last: it cannot fail (checked above), so a failure leaves the model as it was
    return extra


def read_metadata(path):
    """What a model file holds, without building the model or reading its weights.

    Returns a dict with ``format_version``, ``chainrule_version``, ``architecture`` (the config
    dict, or None), ``weights`` (name -> ``{"dtype", "shape"}``), ``optimizer`` and ``scheduler``
    (the saved class names, or None) and ``extra`` (decoded, or None). Raises
    :class:`ModelFileError` for a malformed file, including weights that do not fit the
    architecture the file describes.
    """
    path = os.fspath(path)
    with _open(path) as file:
        header = read_header(path, file)
        metadata = header.metadata
        _check_chainrule(path, metadata)
        architecture = None
        if "architecture" in metadata:
            architecture = _json(path, metadata, "architecture")
            expected = _expected_state(path, architecture)
            if expected is not None:
                _check_weights(path, header, expected, "holds weights that do not fit the architecture stored in it")
        extra = _decoded(path, file, header, "extra", _EXTRA) if "extra" in metadata else None
    weights = {name: {"dtype": str(_DTYPES[header.entries[name].dtype].newbyteorder("=")),
                      "shape": list(header.entries[name].shape)} for name in _weight_names(header)}
    return {
        "format_version": int(metadata["format_version"]),
        "chainrule_version": metadata.get("chainrule_version"),
        "architecture": architecture,
        "weights": weights,
        "optimizer": metadata.get("optimizer_class"),
        "scheduler": metadata.get("scheduler_class"),
        "extra": extra,
    }


# ============================================================ safetensors, with NumPy
def save_safetensors(tensors, path, metadata=None):
    """Write ``tensors`` (name -> array) and ``metadata`` (str -> str) as a safetensors file, atomically."""
    path = os.fspath(path)
    metadata = dict(metadata or {})
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"save_safetensors: metadata must map strings to strings, got {key!r}: "
                            f"{type(value).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"save_safetensors: tensor names must be strings other than '__metadata__', got {name!r}")
        array = numpy.asarray(to_numpy(value))
        key = (array.dtype.kind, array.dtype.itemsize)
        if key not in _DTYPE_NAMES:
            raise TypeError(f"save_safetensors: tensor {name!r} has dtype {array.dtype}, which safetensors cannot "
                            f"store; expected one of bool, (u)int8-64, float16/32/64")
        arrays[name] = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)  # keeps 0-d shapes

    # Largest items first, so that every tensor starts at an offset aligned to its item size.
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    header, offset = {}, 0
    for name in order:
        array = arrays[name]
        header[name] = {"dtype": _DTYPE_NAMES[(array.dtype.kind, array.dtype.itemsize)],
                        "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    if metadata:
        header["__metadata__"] = metadata
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # pad with spaces so the data starts 8-byte aligned

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path}: the directory {directory} does not exist")
    with atomic_write(path, "wb") as file:
        file.write(struct.pack("<Q", len(header_bytes)))
        file.write(header_bytes)
        for name in order:
            _write_array(file, arrays[name])


def load_safetensors(path):
    """Read a safetensors file: returns ``(tensors, metadata)``, name -> NumPy array and str -> str.

    The whole header is validated first (see ``chainrule.safetensors_format``); any problem raises
    :class:`ModelFileError`.
    """
    path = os.fspath(path)
    with _open(path) as file:
        header = read_header(path, file)
        tensors = {name: read_tensor(path, file, header, name) for name in header.entries}
    return tensors, dict(header.metadata)


def _write_array(file, array):
    """Append ``array``'s raw bytes to ``file`` (separate so tests can make a save fail midway)."""
    file.write(array.reshape(-1).view(numpy.uint8).data)




# ============================================================ chainrule metadata
def _version():
    from . import __version__

    return __version__


def _check_chainrule(path, metadata):
    if metadata.get("format") != "chainrule":
        raise ModelFileError(f"{path} is a safetensors file but was not written by chainrule.save (its metadata has "
                             f"no 'format': 'chainrule'); read its raw tensors with "
                             f"chainrule.io.load_safetensors({path!r})")
    text = metadata.get("format_version", "")
    version = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
    if version is None or version < 1:
        raise ModelFileError(f"{path} is corrupt: its model-file format version is {text!r}; expected a whole "
                             f"number from 1 to {FORMAT_VERSION}")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path} has model-file format version {text!r}, but this chainrule ({_version()}) "
                             f"reads versions up to {FORMAT_VERSION}; upgrade chainrule")


def _json(path, metadata, key):
    return parse_json(path, metadata[key], f"{key!r} metadata", MAX_JSON_DEPTH)


def _dumps(value, what):
    """``json.dumps`` for the metadata, refusing what load would refuse (too deep, too many values)."""
    text = json.dumps(value)
    depth, items = json_extent(text.encode("utf-8", "surrogatepass"))
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"save: the {what} nests deeper than {MAX_JSON_DEPTH} levels, which model files do not "
                         f"allow")
    if items > MAX_JSON_ITEMS:
        raise ValueError(f"save: the {what} holds {items} JSON values, more than the {MAX_JSON_ITEMS} model files "
                         f"allow; store large data as NumPy arrays, which become tensors")
    return text


def _expected_state(path, config):
    """The state ``config`` would build, ``{name: (shape, tag)}`` (None when it has classes without a rule)."""
    from .nn.state_spec import expected_state

    try:
        return expected_state(config)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path} is corrupt: its architecture is not valid ({error})") from None


def _build(path, header):
    """Check the file's weights against its architecture without allocating, then build the model."""
    from . import nn

    config = _json(path, header.metadata, "architecture")
    expected = _expected_state(path, config)
    problem = "holds weights that do not fit the architecture stored in it"
    if expected is not None:
        _check_weights(path, header, expected, problem)
    try:
        model = nn.build_module(config)
    except Exception as error:
        raise ModelFileError(f"{path}: cannot rebuild the model from the architecture stored in the file "
                             f"({type(error).__name__}: {error})") from error
    # Compare what was built too: for a class without a rule (a user's own layer) this is the only
    # check, for the others it makes sure load_state_dict cannot fail (it costs no copies).
    _check_weights(path, header, _model_state(model), problem)
    return model


def _check_state_like(path, key, saved, obj):
    """Saved optimizer/scheduler state must look like ``obj``'s own: no entries it lacks, values of the same kinds.

    ``load_state_dict`` of a scheduler sets attributes from the saved names, and an optimizer's takes
    its hyper-parameters as saved: a file must not be able to set a learning rate to a string or
    replace a scheduler's optimizer. (Objects whose own state is not chainrule's layout are not checked.)
    """
    current = obj.state_dict()
    if not isinstance(current, dict) or (key == "optimizer" and not isinstance(current.get("param_groups"), list)):
        return  # an object of another kind: its load_state_dict alone judges the saved state
    if key == "optimizer":
        groups = saved.get("param_groups") if isinstance(saved, dict) else None
        if (not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups)
                or not isinstance(saved.get("state", {}), dict)):
            raise ModelFileError(f"{path} is corrupt: its optimizer state is not a dict with 'state' and "
                                 f"'param_groups'")
        pairs = [(f"param_groups[{i}]", s, c) for i, (s, c) in enumerate(zip(groups, current["param_groups"]))]
    else:
        pairs = [("", saved, current)]
    for where, saved_part, current_part in pairs:
        if not isinstance(saved_part, dict):
            raise ModelFileError(f"{path} is corrupt: its {key} state is {_short(saved_part)}, not a dict")
        for name, value in saved_part.items():
            if name == "params":
                ok = isinstance(value, list) and all(_kind(i) == "number" for i in value)
            elif name in current_part:
                ok = _same_kind(value, current_part[name])
            else:
                ok = key == "optimizer"  # an optimizer ignores hyper-parameters it does not know
            if not ok:
                raise ModelFileError(f"{path} is corrupt: its {key} state has {where}[{name!r}] = {_short(value)}, "
                                     f"but the given {type(obj).__name__}'s is "
                                     f"{_short(current_part.get(name, 'absent'))}")


def _kind(value):
    if value is None:
        return None
    if isinstance(value, (bool, numpy.bool_)):
        return "bool"
    if isinstance(value, (int, float, numpy.integer, numpy.floating)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "sequence"
    return type(value).__name__  # str, dict, ndarray


def _same_kind(saved, current):
    """Same kind of value (None matches anything: e.g. a best score not known yet); sequences element-wise."""
    kinds = _kind(saved), _kind(current)
    if None in kinds:
        return True
    if kinds[0] != kinds[1]:
        return False
    if kinds[0] == "sequence" and len(current):
        return all(_same_kind(item, current[0]) for item in saved)
    return True


def _model_state(model):
    """``{name: (shape, tag)}`` of ``model``'s parameters and persistent buffers, copying nothing."""
    state = {}
    for key, module, name, registry in model._state_entries():
        value = getattr(module, registry)[name]
        array = value.data if isinstance(value, Tensor) else value
        dtype = numpy.dtype(array.dtype)
        state[key] = (tuple(array.shape), _DTYPE_NAMES.get((dtype.kind, dtype.itemsize), str(dtype)))
    return state


def _weight_names(header):
    return [name for name in header.entries if not name.startswith(_STATE_PREFIXES)]


def _check_weights(path, header, expected, problem):
    """The file's weights must be exactly ``expected`` (``{name: (shape, tag)}``): names, shapes and dtypes."""
    weights = {name: header.entries[name] for name in _weight_names(header)}
    problems = []
    missing = [name for name in expected if name not in weights]
    unexpected = sorted(name for name in weights if name not in expected)
    if missing:
        problems.append(f"missing {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected {_names(unexpected)}")
    for name, (shape, tag) in expected.items():
        if name not in weights:
            continue
        if weights[name].shape != tuple(shape):
            problems.append(f"{name!r} has shape {weights[name].shape} in the file but {tuple(shape)} in the model")
        elif weights[name].dtype != tag:
            problems.append(f"{name!r} is stored as {weights[name].dtype} in the file but the model's is {tag}")
    if problems:
        raise ModelFileError(f"{path} {problem}: " + "; ".join(problems))


def _array(value):
    """A state value (NumPy/CuPy array or Tensor) as a host NumPy array."""
    return to_numpy(value.data if isinstance(value, Tensor) else value)


def _names(names, limit=5):
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# Training state (optimizer/scheduler state_dicts, extra) as JSON + tensors. Arrays become tensors
# referenced as {"__tensor__": name}; NumPy scalars become 0-d tensors ({"__scalar__": name}) so
# their dtype survives; tuples and dicts with non-string keys (PyTorch-style {0: {...}}) are tagged
# so they come back as they went in.
_TAGS = ("__tensor__", "__scalar__", "__tuple__", "__items__")


def _encode(obj, name, tensors):
    if isinstance(obj, numpy.ndarray) or hasattr(obj, "__cuda_array_interface__"):
        return {"__tensor__": _add(tensors, name, to_numpy(obj))}
    if isinstance(obj, numpy.generic):
        return {"__scalar__": _add(tensors, name, numpy.asarray(obj))}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, f"{name}/{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[_encode(k, f"{name}/key{i}", tensors), _encode(v, f"{name}/{k}", tensors)]
                              for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{name}/{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{name}/{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, Tensor):
        return {"__tensor__": _add(tensors, name, _array(obj))}
    raise TypeError(f"save: cannot store {name!r} of type {type(obj).__name__}; model files hold only arrays, "
                    f"numbers, strings, None, lists, tuples and dicts (never pickles)")


def _add(tensors, name, array):
    unique, n = name, 1
    while unique in tensors:
        unique, n = f"{name}#{n}", n + 1
    tensors[unique] = array
    return unique


def _decoded(path, file, header, key, prefix):
    """Decode metadata ``key``'s JSON, reading the tensors it refers to (each under ``prefix``, once)."""
    used = set()

    def tensor(name, tag):
        if not isinstance(name, str) or not name.startswith(prefix) or name not in header.entries:
            raise ModelFileError(f"{path} is corrupt: its {key!r} metadata refers to a tensor {_short(name)} that is "
                                 f"not among the file's {prefix}... tensors")
        if name in used:
            raise ModelFileError(f"{path} is corrupt: its {key!r} metadata refers to tensor {name!r} twice")
        used.add(name)
        array = read_tensor(path, file, header, name)
        if tag == "__scalar__":
            if array.ndim:
                raise ModelFileError(f"{path} is corrupt: tensor {name!r} stands for a scalar in its {key!r} "
                                     f"metadata but has shape {array.shape}")
            return array[()]
        return array

    return _decode(path, key, _json(path, header.metadata, key), tensor)


def _decode(path, key, obj, tensor):
    if isinstance(obj, list):
        return [_decode(path, key, v, tensor) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag in ("__tensor__", "__scalar__"):
            return tensor(value, tag)
        if tag == "__tuple__" and isinstance(value, list):
            return tuple(_decode(path, key, v, tensor) for v in value)
        if tag == "__items__" and isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
            items = {}
            for k, v in value:
                k = _hashable(_decode(path, key, k, tensor))
                try:
                    items[k] = _decode(path, key, v, tensor)
                except TypeError:  # an unhashable key (a dict)
                    raise ModelFileError(f"{path} is corrupt: its {key!r} metadata has a dict key that is not a "
                                         f"number, string or tuple: {_short(k)}") from None
            return items
        if tag in _TAGS:
            raise ModelFileError(f"{path} is corrupt: its {key!r} metadata has {{{tag!r}: {_short(value)}}}, which "
                                 f"chainrule.save never writes")
    return {k: _decode(path, key, v, tensor) for k, v in obj.items()}


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
