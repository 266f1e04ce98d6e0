"""Reading safetensors files with NumPy, checking every byte of the header before trusting any of it.

The format::

    8 bytes      N, the header length, unsigned little-endian
    N bytes      a JSON header: {"name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]},
                                 ..., "__metadata__": {"key": "string value", ...}}
    the rest     the raw little-endian bytes of every tensor, C order, at its data_offsets

:func:`read_header` validates the whole header before anything else is read or allocated:

* the length field against the file size (and at most 100 MB, as the reference reader allows);
* the JSON: no duplicate keys, nesting no deeper than the format has, at most ``MAX_JSON_ITEMS``
  values (both found by a linear pre-scan, before ``json.loads`` builds anything);
* every entry: a known dtype tag, a shape of at most 32 ints in [0, 2**40], offsets whose span is
  exactly the shape's byte count (computed with Python ints, so nothing wraps around);
* the offsets together: sorted by begin they start at 0 and tile the data section exactly, with
  no gap, no overlap and no trailing bytes.

Tensors are then read one at a time, only when asked for (:func:`read_tensor`), so the cost of
reading a file is bounded by its size. Anything wrong raises :class:`ModelFileError` naming the
file and what was wrong. (Measured: ~4 times the file's size at the peak of ``chainrule.load``,
which builds the model and reads its weights; at most ~70 MB for the largest JSON allowed.)

The reference ``safetensors`` package reads and writes the same bytes; we keep our own reader so
that loading a model needs NumPy alone (the tests check both directions against the package).
"""

import json
import os
import struct
from collections import namedtuple

import numpy

__all__ = ["ModelFileError", "Header", "Entry", "DTYPES", "DTYPE_NAMES", "open_file", "read_header", "read_tensor",
           "parse_json", "json_extent", "MAX_JSON_ITEMS", "EXPECTED"]

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the limit the reference safetensors reader enforces
MAX_DIMENSION = 2**40  # no axis of a tensor anyone can store is longer
MAX_NDIM = 32  # NumPy's own limit on the number of axes (NumPy 1.x)
HEADER_DEPTH = 3  # {name: {"shape": [...]}}: the header is never nested deeper
MAX_JSON_ITEMS = 2**20  # values in one JSON text (~80,000 tensor entries): bounds the Python objects to ~150 MB

# safetensors dtype names <-> NumPy dtypes (all little-endian in the file).
DTYPES = {
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
DTYPE_NAMES = {(dtype.kind, dtype.itemsize): name for name, dtype in DTYPES.items()}

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

EXPECTED = "a safetensors model file written by chainrule.save (8-byte header length, JSON header, tensor data)"


class ModelFileError(ValueError):
    """A file is not a readable chainrule model file (truncated, foreign, malformed, or for another model)."""


Entry = namedtuple("Entry", ["dtype", "shape", "begin", "end"])
"""One tensor of the header: its dtype tag ("F32"), shape (tuple of int) and byte span in the data section."""

Header = namedtuple("Header", ["entries", "metadata", "data_start"])
"""A validated header: ``entries`` (name -> Entry), ``metadata`` (str -> str) and where the data starts."""


def open_file(path):
    """``open(path, "rb")`` with the errors a user should see for a missing file or a directory."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory; expected {EXPECTED}") from None


def read_header(path, file):
    """Parse and validate the whole header of the open ``file``; returns a :class:`Header`."""
    size = os.fstat(file.fileno()).st_size
    file.seek(0)
    start = file.read(16)
    for magic, kind in _MAGIC:
        if start.startswith(magic):
            raise ModelFileError(f"{path} is {kind}, not a model file; expected {EXPECTED}")
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelFileError(f"{path} is a Python pickle, not a model file; chainrule never loads pickles "
                             f"(they can run arbitrary code). Expected {EXPECTED}")
    if size < 8:
        raise ModelFileError(f"{path} is truncated or not a model file: it has {size} bytes; expected {EXPECTED}")
    (length,) = struct.unpack("<Q", start[:8])
    if length > MAX_HEADER_BYTES or length < 2:
        raise ModelFileError(f"{path} is not a model file: its first 8 bytes give an impossible header length "
                             f"({length}); expected {EXPECTED}")
    if 8 + length > size:
        raise ModelFileError(f"{path} is truncated or not a model file: the header should take {length} bytes "
                             f"but the file has only {size - 8} after the length field; expected {EXPECTED}")
    file.seek(8)
    header = parse_json(path, file.read(length), "header", HEADER_DEPTH)
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a model file: its header is not a JSON object; expected {EXPECTED}")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(value, str) for value in metadata.values()):
        raise ModelFileError(f"{path} is not a valid safetensors file: the header's __metadata__ must map strings "
                             f"to strings")
    entries = {name: _entry(path, name, value) for name, value in header.items()}
    _check_tiling(path, entries, size - 8 - length)
    return Header(entries, metadata, 8 + length)


def _entry(path, name, value):
    """One header entry, checked: a known dtype, a bounded shape, and a byte span that fits both."""
    def bad(what):
        return ModelFileError(f"{path} is not a valid safetensors file: the entry of tensor {name!r} {what}")

    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
        raise bad(f"is {_short(value)}; expected {{'dtype': ..., 'shape': [...], 'data_offsets': [begin, end]}}")
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise bad(f"has dtype {_short(dtype)}; expected one of {', '.join(DTYPES)}")
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(_is_int(n) and 0 <= n <= MAX_DIMENSION for n in shape)):
        raise bad(f"has shape {_short(shape)}; expected a list of at most {MAX_NDIM} ints in [0, 2**40]")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(n) for n in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise bad(f"has data_offsets {_short(offsets)}; expected [begin, end] with 0 <= begin <= end")
    count = 1
    for n in shape:  # Python ints: the product cannot wrap around
        count *= n
    nbytes = count * DTYPES[dtype].itemsize
    begin, end = offsets
    if end - begin != nbytes:
        raise ModelFileError(f"{path} is corrupt: tensor {name!r} of shape {shape} and dtype {dtype} needs "
                             f"{nbytes} bytes but its data_offsets span {end - begin}")
    return Entry(dtype, tuple(shape), begin, end)


def _check_tiling(path, entries, data_size):
    """Sorted by begin, the tensors must cover the data section exactly: from 0, no gap, no overlap, to its end."""
    spans = sorted((entry.begin, entry.end, name) for name, entry in entries.items())
    for begin, end, name in spans:
        if end > data_size:
            raise ModelFileError(f"{path} is truncated: tensor {name!r} needs bytes {begin}..{end} of the data "
                                 f"section but the file holds only {data_size} (was it copied or downloaded "
                                 f"completely?)")
    position, previous = 0, None
    for begin, end, name in spans:
        if begin != position:
            problem = (f"overlaps tensor {previous!r}" if begin < position else
                       f"leaves a gap of {begin - position} bytes after " +
                       (f"tensor {previous!r}" if previous is not None else "the header"))
            raise ModelFileError(f"{path} is corrupt: tensor {name!r} (bytes {begin}..{end}) {problem}")
        position, previous = end, name
    if position != data_size:
        raise ModelFileError(f"{path} is corrupt: {data_size - position} bytes follow the last tensor; the "
                             f"tensors' data_offsets must cover the data section exactly")


def read_tensor(path, file, header, name):
    """Read tensor ``name`` of a validated ``header`` from ``file``, as a NumPy array in native byte order."""
    entry = header.entries[name]
    dtype = DTYPES[entry.dtype]
    array = numpy.empty(entry.shape, dtype=dtype)
    if array.nbytes:
        file.seek(header.data_start + entry.begin)
        if file.readinto(array.reshape(-1).view(numpy.uint8)) != array.nbytes:  # the file shrank meanwhile
            raise ModelFileError(f"{path} is truncated: could not read all the bytes of tensor {name!r}")
    return array.astype(dtype.newbyteorder("="), copy=False)


# ------------------------------------------------------------------ JSON, strictly
class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


_CHUNK = 1 << 20


def json_extent(raw):
    """``(depth, items)`` of the JSON text ``raw`` (bytes): how deeply ``[`` and ``{`` nest, and about how
    many values it holds (its commas, colons and opening brackets), outside strings.

    A linear pre-scan in fixed-size chunks (a few MB of memory whatever the text), so that a file can
    make ``json.loads`` neither recurse until it fails nor build Python objects many times the size
    of the text (a small dict costs ~20 times its JSON).
    """
    codes = numpy.frombuffer(raw, dtype=numpy.uint8)
    depth = deepest = items = 0
    inside, slashes = 0, 0  # carried between chunks: inside a string? backslashes ending the last chunk
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start:start + _CHUNK]
        slash = chunk == 0x5C
        if slashes or slash.any():  # a quote after an odd run of backslashes is escaped
            index = numpy.arange(len(chunk))
            last_other = numpy.maximum.accumulate(numpy.where(slash, -1, index))
            run = index - last_other + numpy.where(last_other < 0, slashes, 0)  # backslashes ending at each byte
            quotes = (chunk == 0x22) & (numpy.concatenate(([slashes], run[:-1])) % 2 == 0)
            slashes = int(run[-1])
        else:
            quotes = chunk == 0x22
        outside = (numpy.cumsum(quotes, dtype=numpy.int64) + inside) % 2 == 0
        opens = ((chunk == 0x5B) | (chunk == 0x7B)) & outside
        closes = ((chunk == 0x5D) | (chunk == 0x7D)) & outside
        running = numpy.cumsum(opens.astype(numpy.int8) - closes, dtype=numpy.int64) + depth
        deepest, depth = max(deepest, int(running.max())), int(running[-1])
        items += int(numpy.count_nonzero(opens | (((chunk == 0x2C) | (chunk == 0x3A)) & outside)))
        inside = int(not outside[-1])
    return deepest, items


def parse_json(path, raw, what, max_depth):
    """``json.loads`` for text from a file: no duplicate keys, nesting at most ``max_depth`` deep.

    ``raw`` is bytes (UTF-8) or str; ``what`` names it in the error ("header", "'architecture' metadata").
    """
    if isinstance(raw, str):
        text, raw = raw, raw.encode("utf-8", "surrogatepass")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ModelFileError(f"{path} is not a model file: its {what} is not UTF-8 text ({error}); "
                                 f"expected {EXPECTED}") from None
    depth, items = json_extent(raw)
    if depth > max_depth:
        raise ModelFileError(f"{path} is corrupt: its {what} nests {depth} levels deep; at most {max_depth} "
                             f"are allowed")
    if items > MAX_JSON_ITEMS:
        raise ModelFileError(f"{path} is corrupt: its {what} holds about {items} JSON values; at most "
                             f"{MAX_JSON_ITEMS} are allowed (large data belongs in tensors)")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as error:
        raise ModelFileError(f"{path} is corrupt: its {what} has the key {error.args[0]!r} twice") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError, or an int of over 4300 digits
        if what == "header":
            raise ModelFileError(f"{path} is not a model file: its header is not valid JSON ({error}); "
                                 f"expected {EXPECTED}") from None
        raise ModelFileError(f"{path} is corrupt: its {what} is not valid JSON ({error})") from None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
