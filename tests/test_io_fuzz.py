"""Fuzzing model files (chainrule/io.py, chainrule/safetensors_format.py): whatever a file holds, loading it
either succeeds or raises ModelFileError, never anything else."""

import json
import os
import struct
import tempfile

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from chainrule import io, nn  # noqa: E402
from chainrule.io import ModelFileError  # noqa: E402
from chainrule.optim import Adam  # noqa: E402
from chainrule.optim.lr_scheduler import StepLR  # noqa: E402

try:
    import safetensors.numpy as safetensors_numpy
except ImportError:  # the reference reader is optional
    safetensors_numpy = None


def make_model():
    return nn.Sequential(nn.Linear(4, 3, seed=0), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2, seed=1))


def saved_bytes():
    """A small model saved with optimizer, scheduler and extra (arrays, a tuple, int keys): all parts of the format."""
    model = make_model()
    optimizer = Adam(model.parameters(), lr=0.01)
    model(np.ones((2, 4), np.float32)).sum().backward()
    optimizer.step()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "m.safetensors")
        io.save(model, path, optimizer=optimizer, scheduler=StepLR(optimizer, 2),
                extra={"epoch": 1, "mean": np.arange(4.0), "pair": (1, "a"), "by_id": {0: np.int32(5)}})
        with open(path, "rb") as file:
            return file.read()


ORIGINAL = saved_bytes()
(LENGTH,) = struct.unpack("<Q", ORIGINAL[:8])
HEADER = json.loads(ORIGINAL[8:8 + LENGTH])
DATA = ORIGINAL[8 + LENGTH:]
TENSORS = sorted(name for name in HEADER if name != "__metadata__")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.sampled_from([0, 1, 2, 3, 4, 8, 16, 20000, -1])
    | st.floats(allow_nan=True) | st.sampled_from(["F32", "I32", "U32", "F16", "BOOL", "I64", "F64", "BF16", ""])
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


def with_header(header, raw=None, data=DATA):
    text = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def header_copy():
    return json.loads(json.dumps(HEADER))


@st.composite
def mutated_files(draw):
    kind = draw(st.sampled_from(["byte", "truncate", "append", "entry", "offsets", "dtype", "shape",
                                 "architecture", "metadata", "length"]))
    header = header_copy()
    if kind == "byte":  # any byte of the length field or the header
        position = draw(st.integers(0, 8 + LENGTH - 1))
        content = bytearray(ORIGINAL)
        content[position] = draw(st.integers(0, 255))
        return bytes(content)
    if kind == "truncate":
        return ORIGINAL[:draw(st.integers(0, len(ORIGINAL) - 1))]
    if kind == "append":
        return ORIGINAL + draw(st.binary(min_size=1, max_size=16))
    if kind == "length":
        return struct.pack("<Q", draw(st.integers(0, 2**64 - 1))) + ORIGINAL[8:]
    name = draw(st.sampled_from(TENSORS))
    if kind == "entry":
        header[name][draw(st.sampled_from(["dtype", "shape", "data_offsets", "other"]))] = draw(json_values)
    elif kind == "offsets":
        begin, end = header[name]["data_offsets"]
        header[name]["data_offsets"] = [begin + draw(st.integers(-16, 16)), end + draw(st.integers(-16, 16))]
    elif kind == "dtype":
        header[name]["dtype"] = draw(st.sampled_from(["F32", "I32", "U32", "F16", "BOOL", "I64", "F64", "U8", "X"]))
    elif kind == "shape":
        header[name]["shape"] = draw(st.lists(st.integers(0, 2**64) | st.sampled_from([0, 1, 2, 3, 4]), max_size=4))
    elif kind == "architecture":
        architecture = json.loads(header["__metadata__"]["architecture"])
        layer = draw(st.sampled_from(architecture["config"]["layers"]))
        key = draw(st.sampled_from(sorted(layer["config"]) + ["class", "unknown"]))
        if key == "class":
            layer["class"] = draw(st.sampled_from(["Linear", "ReLU", "BatchNorm1d", "LSTM", "Nope"]))
        else:
            layer["config"][key] = draw(json_values)
        header["__metadata__"]["architecture"] = json.dumps(architecture)
    else:  # metadata: any key, any JSON text (or a non-string)
        key = draw(st.sampled_from(["architecture", "optimizer", "scheduler", "extra", "format_version",
                                    "optimizer_class", "scheduler_class"]))
        value = draw(json_values)
        header["__metadata__"][key] = json.dumps(value) if draw(st.booleans()) else value
    return with_header(header)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(content=mutated_files())
def test_a_mutated_model_file_loads_or_raises_model_file_error(tmp_path, content):
    path = tmp_path / "fuzzed.safetensors"
    path.write_bytes(content)
    model = make_model()
    optimizer = Adam(model.parameters())
    for attempt in (lambda: io.load(path), lambda: io.read_metadata(path),
                    lambda: io.load_checkpoint(path, model, optimizer=optimizer, scheduler=StepLR(optimizer, 2))):
        try:
            attempt()
        except ModelFileError as error:
            assert str(path) in str(error)
        # anything else propagates and fails the test
    try:
        tensors, _ = io.load_safetensors(path)
    except ModelFileError:
        return
    if safetensors_numpy is not None:  # what we accept, the reference reader accepts, with the same arrays
        reference = safetensors_numpy.load_file(str(path))
        assert set(reference) == set(tensors)
        for name, array in tensors.items():
            assert reference[name].dtype == array.dtype and np.array_equal(reference[name], array, equal_nan=True)


def test_the_unmutated_file_loads():
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "m.safetensors")
        with open(path, "wb") as file:
            file.write(ORIGINAL)
        model = make_model()
        extra = io.load_checkpoint(path, model, optimizer=Adam(model.parameters()))
        assert extra["pair"] == (1, "a") and extra["by_id"][0] == 5
        assert type(io.load(path)) is nn.Sequential
