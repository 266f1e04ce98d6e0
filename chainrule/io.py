"""Model files: one safetensors file holding weights, architecture and (optionally) training state.

A chainrule model file is a standard `safetensors <https://github.com/huggingface/safetensors>`_
file, which is a deliberately simple format::

    8 bytes      N, the header length, unsigned little-endian
    N bytes      a JSON header: {"name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]},
                                 ..., "__metadata__": {"key": "string value", ...}}
    the rest     the raw little-endian bytes of every tensor, C order, at its data_offsets

We read and write that format here with NumPy (about a hundred lines), instead of through the
``safetensors`` package: loading a model then needs nothing beyond NumPy, and the files stay
readable by ``safetensors.numpy.load_file`` and every other safetensors reader (the tests check
both directions when the package is installed). Nothing here ever uses pickle: a file holds
arrays and JSON, so loading a file cannot run code.

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

_MAX_HEADER_BYTES = 100 * 1024 * 1024  # the limit the reference safetensors reader enforces

# safetensors dtype names <-> NumPy dtypes (all little-endian in the file).
_DTYPES = {
    "BOOL": numpy.dtype(numpy.bool_),
    "U8": numpy.dtype("<u1"),
    "I8": numpy.dtype("<i1"),
    "U16": numpy.dtype("<u2"),
    "I16": numpy.dtype("<i2"),
    "U32": numpy.dtype("<u4"),
    "I32": numpy.dtype("<i4"),
    "U64": numpy.dtype("<u8"),
    "I64": numpy.dtype("<i8"),
    "F16": numpy.dtype("<f2"),
    "F32": numpy.dtype("<f4"),
    "F64": numpy.dtype("<f8"),
}
_DTYPE_NAMES = {(dtype.kind, dtype.itemsize): name for name, dtype in _DTYPES.items()}

# Prefixes of the tensors that are not model weights.
_OPTIMIZER, _SCHEDULER, _EXTRA = "optimizer/", "scheduler/", "extra/"
_STATE_PREFIXES = (_OPTIMIZER, _SCHEDULER, _EXTRA)

# The first bytes of files people mistake for model files, to say what they gave us.
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 model?)"),
    (b"PK\x03\x04", "a zip archive (a PyTorch .pt/.pth file or a NumPy .npz file?)"),
    (b"\x93NUMPY", "a NumPy .npy file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
]

_EXPECTED = "a safetensors model file written by chainrule.save (8-byte header length, JSON header, tensor data)"


class ModelFileError(ValueError):
    """A file is not a readable chainrule model file (truncated, foreign, or for another model)."""


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
        metadata["architecture"] = json.dumps(nn.module_to_config(model))
    except Exception as error:  # a custom model class: weights only, with a warning
        import warnings

        warnings.warn(f"save: the architecture of {type(model).__name__} could not be stored as config "
                      f"({error}); {path} holds its weights only, so chainrule.load cannot rebuild it: "
                      f"build the model in code and use chainrule.load_checkpoint(path, model)", stacklevel=2)
    for key, prefix, obj in (("optimizer", _OPTIMIZER, optimizer), ("scheduler", _SCHEDULER, scheduler)):
        if obj is not None:
            metadata[key] = json.dumps(_encode(obj.state_dict(), prefix.rstrip("/"), tensors))
            metadata[key + "_class"] = type(obj).__name__
    if extra is not None:
        metadata["extra"] = json.dumps(_encode(extra, _EXTRA.rstrip("/"), tensors))
    save_safetensors(tensors, path, metadata)


def load(path):
    """Rebuild the model saved in ``path`` (architecture from its JSON, then its weights); eval mode.

    Needs neither the code that defined the model (for chainrule's own layers) nor pickle.
    Raises ``FileNotFoundError`` for a missing file and :class:`ModelFileError` (a ``ValueError``)
    for a truncated or foreign file, naming the file and what was expected.
    """
    from . import nn

    path = os.fspath(path)
    tensors, metadata = load_safetensors(path)
    _check_chainrule(path, metadata)
    if "architecture" not in metadata:
        raise ModelFileError(f"{path}: the file holds weights only (the model's architecture could not be stored "
                             f"as config when it was saved); build the model in code and use "
                             f"chainrule.load_checkpoint({path!r}, model)")
    config = _json(path, metadata, "architecture")
    try:
        model = nn.build_module(config)
    except Exception as error:
        raise ModelFileError(f"{path}: cannot rebuild the model from the architecture stored in the file "
                             f"({type(error).__name__}: {error})") from error
    _load_weights(path, model, tensors)
    model.eval()
    return model


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Restore the weights (and optimizer / scheduler state) saved in ``path`` into existing objects.

    Everything is copied in place (``load_state_dict``), so an optimizer built on ``model``'s
    parameters stays attached to them. Returns the ``extra`` saved with the file (None if none).
    Raises :class:`ModelFileError` if the file's weights do not fit ``model`` (naming the
    missing, unexpected or mis-shaped entries) or if optimizer/scheduler state was asked for
    but is not in the file.
    """
    path = os.fspath(path)
    tensors, metadata = load_safetensors(path)
    _check_chainrule(path, metadata)
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
        states[key] = _decode(_json(path, metadata, key), tensors, path)
    _load_weights(path, model, tensors)
    for key, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if key in states:
            try:
                obj.load_state_dict(states[key])
            except Exception as error:
                raise ModelFileError(f"{path}: the saved {key} state does not fit the given {key} "
                                     f"({type(error).__name__}: {error})") from error
    return _decode(_json(path, metadata, "extra"), tensors, path) if "extra" in metadata else None


def read_metadata(path):
    """What a model file holds, without building the model.

    Returns a dict with ``format_version``, ``chainrule_version``, ``architecture`` (the config
    dict, or None), ``weights`` (name -> ``{"dtype", "shape"}``), ``optimizer`` and ``scheduler``
    (the saved class names, or None) and ``extra`` (decoded, or None).
    """
    path = os.fspath(path)
    with _open(path) as file:
        header, data_start = _read_header(path, file)
        metadata = header.pop("__metadata__", {})
        _check_chainrule(path, metadata)
        extra_names = [name for name in header if name.startswith(_EXTRA)]
        tensors = {name: _read_tensor(path, file, data_start, name, header[name]) for name in extra_names}
    weights = {name: {"dtype": str(_DTYPES[entry["dtype"]].newbyteorder("=")), "shape": list(entry["shape"])}
               for name, entry in header.items() if not name.startswith(_STATE_PREFIXES)}
    return {
        "format_version": int(metadata.get("format_version", 0)),
        "chainrule_version": metadata.get("chainrule_version"),
        "architecture": _json(path, metadata, "architecture") if "architecture" in metadata else None,
        "weights": weights,
        "optimizer": metadata.get("optimizer_class"),
        "scheduler": metadata.get("scheduler_class"),
        "extra": _decode(_json(path, metadata, "extra"), tensors, path) if "extra" in metadata else None,
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
    """Read a safetensors file: returns ``(tensors, metadata)``, name -> NumPy array and str -> str."""
    path = os.fspath(path)
    with _open(path) as file:
        header, data_start = _read_header(path, file)
        metadata = header.pop("__metadata__", {})
        tensors = {name: _read_tensor(path, file, data_start, name, entry) for name, entry in header.items()}
    return tensors, metadata


def _write_array(file, array):
    """Append ``array``'s raw bytes to ``file`` (separate so tests can make a save fail midway)."""
    file.write(array.reshape(-1).view(numpy.uint8).data)


def _open(path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory; expected {_EXPECTED}") from None


def _read_header(path, file):
    """Parse and validate the header; returns ``(header dict, offset of the data section)``."""
    size = os.fstat(file.fileno()).st_size
    start = file.read(16)
    for magic, kind in _MAGIC:
        if start.startswith(magic):
            raise ModelFileError(f"{path} is {kind}, not a model file; expected {_EXPECTED}")
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelFileError(f"{path} is a Python pickle, not a model file; chainrule never loads pickles "
                             f"(they can run arbitrary code). Expected {_EXPECTED}")
    if size < 8:
        raise ModelFileError(f"{path} is truncated or not a model file: it has {size} bytes; expected {_EXPECTED}")
    (length,) = struct.unpack("<Q", start[:8])
    if length > _MAX_HEADER_BYTES or length < 2:
        raise ModelFileError(f"{path} is not a model file: its first 8 bytes give an impossible header length "
                             f"({length}); expected {_EXPECTED}")
    if 8 + length > size:
        raise ModelFileError(f"{path} is truncated or not a model file: the header should take {length} bytes "
                             f"but the file has only {size - 8} after the length field; expected {_EXPECTED}")
    file.seek(8)
    raw = file.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path} is not a model file: its header is not valid JSON ({error}); "
                             f"expected {_EXPECTED}") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a model file: its header is not a JSON object; expected {_EXPECTED}")
    data_size = size - 8 - length
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise ModelFileError(f"{path}: the header's __metadata__ must map strings to strings")
            continue
        _check_entry(path, name, entry, data_size)
    return header, 8 + length


def _check_entry(path, name, entry, data_size):
    try:
        dtype_name, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        valid = (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)
                 and isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end)
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        raise ModelFileError(f"{path} is not a valid safetensors file: the entry for tensor {name!r} is {entry!r}; "
                             f"expected {{'dtype': ..., 'shape': [...], 'data_offsets': [begin, end]}}")
    if dtype_name not in _DTYPES:
        raise ModelFileError(f"{path}: tensor {name!r} has dtype {dtype_name}, which NumPy cannot represent; "
                             f"supported: {', '.join(_DTYPES)}")
    expected = int(numpy.prod(shape, dtype=numpy.int64)) * _DTYPES[dtype_name].itemsize
    if end - begin != expected:
        raise ModelFileError(f"{path} is corrupt: tensor {name!r} of shape {shape} and dtype {dtype_name} needs "
                             f"{expected} bytes but its data_offsets span {end - begin}")
    if end > data_size:
        raise ModelFileError(f"{path} is truncated: tensor {name!r} needs bytes {begin}..{end} of the data "
                             f"section but the file holds only {data_size} (was it copied or downloaded "
                             f"completely?)")


def _read_tensor(path, file, data_start, name, entry):
    dtype = _DTYPES[entry["dtype"]]
    array = numpy.empty(entry["shape"], dtype=dtype)
    begin = entry["data_offsets"][0]
    file.seek(data_start + begin)
    if array.nbytes and file.readinto(array.reshape(-1).view(numpy.uint8)) != array.nbytes:
        raise ModelFileError(f"{path} is truncated: could not read all the bytes of tensor {name!r}")
    return array.astype(dtype.newbyteorder("="), copy=False)


# ============================================================ chainrule metadata
def _version():
    from . import __version__

    return __version__


def _check_chainrule(path, metadata):
    if metadata.get("format") != "chainrule":
        raise ModelFileError(f"{path} is a safetensors file but was not written by chainrule.save (its metadata has "
                             f"no 'format': 'chainrule'); read its raw tensors with "
                             f"chainrule.io.load_safetensors({path!r})")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        version = None
    if version is None or version > FORMAT_VERSION:
        raise ModelFileError(f"{path} has model-file format version {metadata.get('format_version')!r}, but this "
                             f"chainrule ({_version()}) reads versions up to {FORMAT_VERSION}; upgrade chainrule")


def _json(path, metadata, key):
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path} is corrupt: its {key!r} metadata is not valid JSON ({error})") from None


def _load_weights(path, model, tensors):
    """Check that the file's weights fit ``model`` exactly, then copy them in."""
    weights = {name: array for name, array in tensors.items() if not name.startswith(_STATE_PREFIXES)}
    expected = {name: numpy.shape(_array(value))
                for name, value in model.state_dict().items()}
    problems = []
    missing = [name for name in expected if name not in weights]
    unexpected = sorted(name for name in weights if name not in expected)
    if missing:
        problems.append(f"missing {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected {_names(unexpected)}")
    for name in expected:
        if name in weights and tuple(weights[name].shape) != tuple(expected[name]):
            problems.append(f"{name!r} has shape {tuple(weights[name].shape)} in the file but "
                            f"{tuple(expected[name])} in the model")
    if problems:
        raise ModelFileError(f"{path} holds weights for a different architecture than the {type(model).__name__} "
                             f"given: " + "; ".join(problems))
    model.load_state_dict(weights)


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


def _decode(obj, tensors, path):
    if isinstance(obj, list):
        return [_decode(v, tensors, path) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag in ("__tensor__", "__scalar__"):
            if value not in tensors:
                raise ModelFileError(f"{path} is corrupt: its metadata refers to a tensor {value!r} that is not in "
                                     f"the file")
            array = tensors[value]
            return array.copy() if tag == "__tensor__" else array[()]
        if tag == "__tuple__":
            return tuple(_decode(v, tensors, path) for v in value)
        if tag == "__items__":
            return {_hashable(_decode(k, tensors, path)): _decode(v, tensors, path) for k, v in value}
    return {k: _decode(v, tensors, path) for k, v in obj.items()}


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key
