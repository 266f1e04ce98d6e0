"""Model files (chainrule/io.py): safetensors + JSON architecture, atomic saves, clear errors."""

import json
import os
import pickle
import re
import stat
import struct
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import io, nn
from chainrule.function import no_grad
from chainrule.io import ModelFileError
from chainrule.tensor import Tensor


def make_model(hidden=8, seed=0):
    return nn.Sequential(nn.Linear(5, hidden, seed=seed), nn.ReLU(), nn.BatchNorm1d(hidden), nn.Dropout(0.3, seed=seed),
                         nn.Linear(hidden, 3, seed=seed + 1))


def data(seed=0, n=16):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.standard_normal((n, 3)).astype(np.float32)


def train_steps(model, optimizer, steps, seed=0):
    model.train()
    for step in range(steps):
        x, y = data(seed + step)
        loss = chainrule.mse_loss(model(Tensor(x)), Tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def outputs(model, x):
    model.eval()
    with no_grad():
        return model(Tensor(x)).numpy().copy()


@pytest.fixture
def trained():
    from chainrule.optim import Adam

    model = make_model()
    optimizer = Adam(model.parameters(), lr=0.01)
    train_steps(model, optimizer, 3)  # moves the weights and BatchNorm's running statistics off their init
    return model, optimizer


# ------------------------------------------------------------------ round trips
def test_save_load_predict_is_bit_identical(tmp_path, trained):
    model, _ = trained
    path = tmp_path / "model.safetensors"
    io.save(model, path)
    loaded = io.load(path)
    assert type(loaded) is nn.Sequential and not loaded.training  # rebuilt from JSON, in eval mode
    x, _ = data(99)
    np.testing.assert_array_equal(outputs(loaded, x), outputs(model, x))
    for (name, a), (name2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert name == name2 and a.dtype == b.dtype and np.array_equal(a, b)
    assert np.any(loaded.state_dict()["2.running_mean"] != 0)  # buffers were saved too


def test_float64_model_keeps_its_dtype(tmp_path):
    model = nn.Sequential(nn.Linear(5, 4, seed=3, dtype="float64"), nn.Tanh(), nn.Linear(4, 2, seed=4, dtype="float64"))
    io.save(model, tmp_path / "m.safetensors")
    loaded = io.load(tmp_path / "m.safetensors")
    assert loaded.state_dict()["0.weight"].dtype == np.float64
    x = data(1)[0].astype(np.float64)
    np.testing.assert_array_equal(outputs(loaded, x), outputs(model, x))


def test_optimizer_state_round_trip_resumes_training_exactly(tmp_path, trained):
    from chainrule.optim import Adam

    model, optimizer = trained
    path = tmp_path / "checkpoint.safetensors"
    # Dropout's mask generator is state too: it travels in `extra` (RNG states are plain JSON).
    io.save(model, path, optimizer=optimizer, extra={"epoch": 3, "dropout_rng": model[3].rng.bit_generator.state})
    assert io.read_metadata(path)["optimizer"] == "Adam"

    resumed = make_model(seed=42)  # different initial weights: all of them must be overwritten
    resumed_optimizer = Adam(resumed.parameters(), lr=0.5)  # and the learning rate too
    extra = io.load_checkpoint(path, resumed, optimizer=resumed_optimizer)
    assert extra["epoch"] == 3
    resumed[3].rng.bit_generator.state = extra["dropout_rng"]
    assert resumed_optimizer.param_groups[0]["lr"] == 0.01

    train_steps(model, optimizer, 4, seed=10)
    train_steps(resumed, resumed_optimizer, 4, seed=10)
    for a, b in zip(model.state_dict().values(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def test_state_and_extra_keep_arrays_scalars_tuples_and_int_keys(tmp_path):
    class State:
        def __init__(self, value):
            self.value = value

        def state_dict(self):
            return self.value

        def load_state_dict(self, value):
            self.value = value

    nested = {"state": {0: {"step": 7, "buf": np.arange(6, dtype=np.float32).reshape(2, 3)}},
              "betas": (0.9, 0.999), "best": float("inf"), "count": np.int32(5), "name": "x", "none": None,
              "flags": [True, False], "__odd__": 1}
    rng = np.random.default_rng(123)
    rng.random(3)
    extra = {"rng": rng.bit_generator.state, "mean": np.array([1.5, -2.0]), "classes": ["a", "b"]}
    model = make_model()
    io.save(model, tmp_path / "m.safetensors", optimizer=State(nested), extra=extra)

    restored = State(None)
    back = io.load_checkpoint(tmp_path / "m.safetensors", make_model(), optimizer=restored)
    value = restored.value
    assert value["state"][0]["step"] == 7 and 0 in value["state"]
    np.testing.assert_array_equal(value["state"][0]["buf"], nested["state"][0]["buf"])
    assert value["state"][0]["buf"].dtype == np.float32
    assert value["betas"] == (0.9, 0.999) and value["best"] == float("inf")
    assert value["count"] == 5 and value["count"].dtype == np.int32
    assert value["name"] == "x" and value["none"] is None and value["flags"] == [True, False]
    assert value["__odd__"] == 1
    np.testing.assert_array_equal(back["mean"], extra["mean"])
    again = np.random.default_rng()
    again.bit_generator.state = back["rng"]
    np.testing.assert_array_equal(again.random(4), rng.random(4))  # the RNG continues where it was saved


def test_read_metadata_describes_the_file_without_building_it(tmp_path, trained):
    model, _ = trained
    io.save(model, tmp_path / "m.safetensors", extra={"classes": [0, 1, 2]})
    meta = io.read_metadata(tmp_path / "m.safetensors")
    assert meta["format_version"] == io.FORMAT_VERSION
    assert meta["architecture"] == nn.module_to_config(model)
    assert meta["weights"]["0.weight"] == {"dtype": "float32", "shape": [8, 5]}
    assert meta["optimizer"] is None and meta["extra"] == {"classes": [0, 1, 2]}


def test_files_are_standard_safetensors(tmp_path, trained):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    model, _ = trained
    io.save(model, tmp_path / "m.safetensors")
    tensors = safetensors_numpy.load_file(str(tmp_path / "m.safetensors"))
    state = model.state_dict()
    assert set(tensors) == set(state)
    for name, array in state.items():
        assert tensors[name].shape == array.shape and np.array_equal(tensors[name], array)
    with safe_open(str(tmp_path / "m.safetensors"), "np") as file:
        metadata = file.metadata()
    assert metadata["format"] == "chainrule"
    assert json.loads(metadata["architecture"]) == nn.module_to_config(model)

    # ... and files written by the safetensors package read back here.
    arrays = {"a": np.arange(5, dtype=np.int16), "b": np.ones((2, 0), np.float16), "c": np.array(2.5)}
    safetensors_numpy.save_file(arrays, str(tmp_path / "raw.safetensors"), metadata={"k": "v"})
    read, metadata = io.load_safetensors(tmp_path / "raw.safetensors")
    assert metadata == {"k": "v"}
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype and read[name].shape == array.shape
        np.testing.assert_array_equal(read[name], array)


# ------------------------------------------------------------------- atomicity
def test_a_save_that_fails_midway_leaves_the_previous_file_intact(tmp_path, monkeypatch, trained):
    model, optimizer = trained
    path = tmp_path / "model.safetensors"
    io.save(model, path)
    before = path.read_bytes()
    x, _ = data(5)
    expected = outputs(model, x)

    train_steps(model, optimizer, 2, seed=50)  # new weights to save
    written = []

    def write_then_crash(file, array):
        if written:
            file.write(b"\0" * 3)  # part of the second tensor reaches the disk, then the "crash"
            raise OSError(28, "No space left on device")
        written.append(array.nbytes)
        file.write(array.reshape(-1).view(np.uint8).data)

    monkeypatch.setattr(io, "_write_array", write_then_crash)
    with pytest.raises(OSError, match="No space left"):
        io.save(model, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    np.testing.assert_array_equal(outputs(io.load(path), x), expected)
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]  # the temporary file was removed


def test_save_replaces_the_file_and_leaves_no_temporary_files(tmp_path, trained):
    model, optimizer = trained
    path = tmp_path / "model.safetensors"
    io.save(model, path)
    train_steps(model, optimizer, 2, seed=7)
    io.save(model, path)
    assert os.listdir(tmp_path) == ["model.safetensors"]
    x, _ = data(3)
    np.testing.assert_array_equal(outputs(io.load(path), x), outputs(model, x))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & stat.S_IRUSR and mode & stat.S_IWUSR
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert mode == 0o666 & ~umask  # an ordinary file, not the 0600 of a temporary file


def test_saving_into_a_missing_directory(tmp_path, trained):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.save(trained[0], tmp_path / "no" / "such" / "m.safetensors")


# ---------------------------------------------------------------------- errors
@pytest.fixture
def saved(tmp_path, trained):
    path = tmp_path / "model.safetensors"
    io.save(trained[0], path, optimizer=trained[1])
    return path


def test_missing_file(tmp_path):
    path = tmp_path / "absent.safetensors"
    with pytest.raises(FileNotFoundError, match="absent.safetensors does not exist"):
        io.load(path)
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        io.read_metadata(path)


@pytest.mark.parametrize("keep", [0, 5, 12, "header", "data"])
def test_truncated_files(tmp_path, saved, keep):
    content = saved.read_bytes()
    (length,) = struct.unpack("<Q", content[:8])
    cut = {"header": 8 + length // 2, "data": len(content) - 10}.get(keep, keep)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(content[:cut])
    with pytest.raises(ModelFileError) as info:
        io.load(path)
    message = str(info.value)
    assert "cut.safetensors" in message and ("truncated" in message or "not a model file" in message)
    assert "expected" in message or "needs bytes" in message


@pytest.mark.parametrize("content, kind", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "a PNG image"),
    (pickle.dumps({"weight": [1.0, 2.0]}), "a Python pickle"),
    (b"PK\x03\x04" + b"\0" * 40, "a zip archive"),
    (b"\x93NUMPY\x01\x00" + b"\0" * 40, "a NumPy .npy file"),
    (b"weight,bias\n1,2\n", "not a model file"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00[1, 2, 3]       ", "not a JSON object"),
])
def test_foreign_files(tmp_path, content, kind):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        io.load(path)
    message = str(info.value)
    assert "foreign.bin" in message and kind in message and "\n" not in message


def test_a_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory"):
        io.load(tmp_path)


def test_safetensors_file_from_elsewhere(tmp_path):
    io.save_safetensors({"w": np.ones(3, np.float32)}, tmp_path / "hub.safetensors")
    with pytest.raises(ModelFileError, match="not written by chainrule.save"):
        io.load(tmp_path / "hub.safetensors")


def test_file_from_a_newer_format_version(tmp_path, saved):
    tensors, metadata = io.load_safetensors(saved)
    metadata["format_version"] = str(io.FORMAT_VERSION + 1)
    io.save_safetensors(tensors, tmp_path / "new.safetensors", metadata)
    with pytest.raises(ModelFileError, match="format version '2'.*upgrade chainrule"):
        io.load(tmp_path / "new.safetensors")


def test_wrong_architecture_names_the_file_and_the_mismatch(saved):
    with pytest.raises(ModelFileError) as info:
        io.load_checkpoint(saved, make_model(hidden=16))
    message = str(info.value)
    assert "model.safetensors" in message and "different architecture" in message
    assert "'0.weight' has shape (8, 5) in the file but (16, 5) in the model" in message

    small = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(ModelFileError) as info:
        io.load_checkpoint(saved, small)
    message = str(info.value)
    assert "unexpected '2.num_batches_tracked', '2.running_mean', '2.running_var', '4.bias', '4.weight'" in message
    assert "'2.weight' has shape (8,) in the file but (3, 8) in the model" in message


def test_optimizer_mismatches(saved, tmp_path, trained):
    from chainrule.optim import SGD

    model = make_model()
    with pytest.raises(ModelFileError, match="state of a Adam optimizer, but a SGD was given"):
        io.load_checkpoint(saved, model, optimizer=SGD(model.parameters(), lr=0.1))
    io.save(trained[0], tmp_path / "weights.safetensors")
    with pytest.raises(ModelFileError, match="holds no optimizer state"):
        io.load_checkpoint(tmp_path / "weights.safetensors", model, optimizer=SGD(model.parameters(), lr=0.1))


def test_unstorable_extra_is_refused_before_writing(tmp_path, trained):
    with pytest.raises(TypeError, match="cannot store .extra/f. of type builtin_function_or_method"):
        io.save(trained[0], tmp_path / "m.safetensors", extra={"f": len})
    assert not os.listdir(tmp_path)


class CustomNet(nn.Module):  # no get_config: its architecture cannot be stored
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(5, width, seed=0)

    def forward(self, x):
        return self.fc(x)


def test_custom_model_without_config_saves_weights_only(tmp_path):
    model = CustomNet(4)
    path = tmp_path / "custom.safetensors"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        io.save(model, path)
    assert any("load_checkpoint" in str(w.message) for w in caught)
    with pytest.raises(ModelFileError, match="weights only.*load_checkpoint"):
        io.load(path)
    other = CustomNet(4)
    io.load_checkpoint(path, other)
    np.testing.assert_array_equal(other.state_dict()["fc.weight"], model.state_dict()["fc.weight"])


# ------------------------------------------------------- malformed and lying files
# Each case below misbehaved before the header was validated as a whole (found by fuzzing a saved
# model): a raw RecursionError, OverflowError or TypeError, or a file read wrongly without a word.
def split(path):
    """(header dict, data bytes) of a model file."""
    content = path.read_bytes()
    (length,) = struct.unpack("<Q", content[:8])
    return json.loads(content[8:8 + length]), content[8 + length:]


def write(path, header, data, raw=None):
    """A file of ``header`` (or the raw header bytes ``raw``) and ``data``, as safetensors lays them out."""
    text = raw if raw is not None else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def edited(saved, tmp_path, change):
    """A copy of ``saved`` whose header went through ``change(header)`` (the data is kept as is)."""
    header, data = split(saved)
    change(header)
    return write(tmp_path / "edited.safetensors", header, data)


def set_entry(name, key, value):
    def change(header):
        header[name][key] = value
    return change


def set_metadata(key, value):
    def change(header):
        header["__metadata__"][key] = value
    return change


def load_all_ways(path, match):
    """load, read_metadata and load_checkpoint (with the optimizer) all refuse ``path`` with a ModelFileError."""
    from chainrule.optim import Adam

    model = make_model()
    for attempt in (lambda: io.load(path), lambda: io.read_metadata(path),
                    lambda: io.load_checkpoint(path, model, optimizer=Adam(model.parameters()))):
        with pytest.raises(ModelFileError, match=match) as info:
            attempt()
        assert str(path) in str(info.value)


def test_deeply_nested_header_json(tmp_path, saved):
    header, data = split(saved)
    raw = json.dumps(header).encode()[:-1] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    load_all_ways(write(tmp_path / "deep.safetensors", None, data, raw=raw), "nests 100001 levels deep")


def test_deeply_nested_metadata_json(tmp_path, saved):
    path = edited(saved, tmp_path, set_metadata("extra", "[" * 100_000 + "]" * 100_000))
    with pytest.raises(ModelFileError, match="'extra' metadata nests 100000 levels deep"):
        io.read_metadata(path)
    with pytest.raises(ModelFileError, match="'extra' metadata nests"):
        io.load_checkpoint(path, make_model())


@pytest.mark.parametrize("shape, match", [
    ([2**70, 1], "has shape"),              # was an OverflowError
    ([8, -5], "has shape"),
    ([8, 5.0], "has shape"),
    ([8, True], "has shape"),
    ("8, 5", "has shape"),
    ([2**32, 2**32, 0, 8, 5], "needs 0 bytes"),
    # 40·(2**62 + 1) elements: the int64 product wraps around to 40, which made 160 bytes look right
    ([8, 5, 5, 5581, 49477, 8681, 384773], "needs 737869762948382064800 bytes"),
])
def test_impossible_shapes(tmp_path, saved, shape, match):
    load_all_ways(edited(saved, tmp_path, set_entry("0.weight", "shape", shape)), match)


@pytest.mark.parametrize("dtype, match", [
    (["F32"], "has dtype"),                 # was a TypeError (unhashable list)
    ("F8_E4M3", "has dtype"),
    ("float32", "has dtype"),
    (None, "has dtype"),
])
def test_unknown_dtypes(tmp_path, saved, dtype, match):
    load_all_ways(edited(saved, tmp_path, set_entry("0.weight", "dtype", dtype)), match)


@pytest.mark.parametrize("name, dtype", [
    ("0.weight", "I32"), ("0.weight", "U32"),          # same item size as F32: the bytes were reinterpreted
    ("2.num_batches_tracked", "F64"), ("2.num_batches_tracked", "U64"),
])
def test_a_tag_that_is_not_the_models_dtype_is_refused(tmp_path, saved, name, dtype):
    load_all_ways(edited(saved, tmp_path, set_entry(name, "dtype", dtype)),
                  f"'{re.escape(name)}' is stored as {dtype} in the file but the model's is")


def test_a_bool_or_half_tag_with_a_matching_byte_count(tmp_path, saved):
    header, data = split(saved)
    header["0.weight"].update(dtype="F16", shape=[8, 10])  # 160 bytes either way
    load_all_ways(write(tmp_path / "half.safetensors", header, data), "'0.weight' has shape")
    header["0.weight"].update(dtype="BOOL", shape=[8, 20])
    load_all_ways(write(tmp_path / "bool.safetensors", header, data), "'0.weight' has shape")


def test_overlapping_offsets(tmp_path, saved):
    header, data = split(saved)
    begin, end = header["0.bias"]["data_offsets"]
    other = next(name for name, entry in header.items() if name != "0.bias" and name != "__metadata__"
                 and entry["data_offsets"][1] - entry["data_offsets"][0] == end - begin)
    header[other]["data_offsets"] = [begin, end]  # two tensors on the same bytes (and a gap elsewhere)
    load_all_ways(write(tmp_path / "overlap.safetensors", header, data), "overlaps|gap")


def test_a_gap_between_tensors(tmp_path, saved):
    header, data = split(saved)
    for entry in header.values():
        if "data_offsets" in entry and entry["data_offsets"][0] > 0:
            entry["data_offsets"] = [n + 4 for n in entry["data_offsets"]]
    load_all_ways(write(tmp_path / "gap.safetensors", header, data + b"\0" * 4), "gap of 4 bytes")


def test_trailing_garbage_after_the_last_tensor(tmp_path, saved):
    path = tmp_path / "long.safetensors"
    path.write_bytes(saved.read_bytes() + b"\0" * 8)
    load_all_ways(path, "8 bytes follow the last tensor")


@pytest.mark.parametrize("where", ["top", "entry", "metadata"])
def test_duplicate_json_keys(tmp_path, saved, where):
    header, data = split(saved)
    raw = json.dumps(header).encode()
    duplicate = {"top": (b'{', b'{"0.bias": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, '),
                 "entry": (b'"dtype": "F32"', b'"dtype": "I32", "dtype": "F32"'),
                 "metadata": (b'"format": "chainrule"', b'"format": "chainrule", "format": "chainrule"')}[where]
    raw = raw.replace(*duplicate, 1)
    load_all_ways(write(tmp_path / "twice.safetensors", None, data, raw=raw), "twice")


@pytest.mark.parametrize("change, match", [
    (set_entry("0.weight", "data_offsets", [0]), "data_offsets"),
    (set_entry("0.weight", "data_offsets", [-160, 0]), "data_offsets"),
    (set_entry("0.weight", "data_offsets", [0, 2**70]), "needs 160 bytes"),
    (set_entry("0.weight", "extra", 1), "expected {'dtype'"),
    (set_metadata("format_version", "-1"), "format version is '-1'"),
    (set_metadata("format_version", "1" * 5000), "format version is"),
    (set_metadata("architecture", '{"class": "Linear", "config": {"in_features": [5]}}'), "architecture is not valid"),
    (set_metadata("architecture", '{"class": "NoSuchLayer"}'), "NoSuchLayer"),
    (set_metadata("architecture", "[1, 2"), "not valid JSON"),
])
def test_malformed_entries_and_metadata_of_load(tmp_path, saved, change, match):
    with pytest.raises(ModelFileError, match=match):
        io.load(edited(saved, tmp_path, change))


@pytest.mark.parametrize("extra, match", [
    ('{"__tuple__": 5}', "never writes"),                     # was a TypeError
    ('{"__items__": [[{"a": 1}, 2]]}', "dict key"),           # was a TypeError (unhashable)
    ('{"a": {"__tensor__": "0.weight"}}', "not among the file's extra"),  # a weight, not an extra tensor
    ('{"a": {"__tensor__": "extra/none"}}', "not among"),
    ('{"a": {"__tensor__": ["extra/x"]}}', "not among"),
    ('{"a": {"__tensor__": "extra/x"}, "b": {"__tensor__": "extra/x"}}', "twice"),
    ('{"a": {"__scalar__": "extra/x"}}', "stands for a scalar"),
    ('{"a": 1e999999999999}', None),  # JSON reads this as inf: a valid file
    ("not json", "not valid JSON"),
    pytest.param('{"a": ' + "1" * 5000 + "}", "not valid JSON", id="huge-int"),  # Python refuses over 4300 digits
])
def test_malformed_extra(tmp_path, trained, extra, match):
    path = tmp_path / "m.safetensors"
    io.save(trained[0], path, extra={"x": np.arange(3.0)})
    path = edited(path, tmp_path, set_metadata("extra", extra))
    if match is None:
        assert io.read_metadata(path)["extra"] == {"a": float("inf")}
        return
    for attempt in (io.read_metadata, lambda p: io.load_checkpoint(p, make_model())):
        with pytest.raises(ModelFileError, match=match):
            attempt(path)


def test_metadata_values_must_be_strings(tmp_path, saved):
    load_all_ways(edited(saved, tmp_path, set_metadata("extra", {"epoch": 3})), "map strings to strings")


def two_groups(header):
    state = json.loads(header["__metadata__"]["optimizer"])
    state["param_groups"] *= 2
    header["__metadata__"]["optimizer"] = json.dumps(state)


@pytest.mark.parametrize("change", [set_metadata("extra", '{"__tuple__": 5}'), two_groups])
def test_a_failed_checkpoint_load_leaves_the_model_untouched(tmp_path, trained, change):
    from chainrule.optim import Adam

    path = tmp_path / "m.safetensors"
    io.save(trained[0], path, optimizer=trained[1], extra={"epoch": 1})
    path = edited(path, tmp_path, change)
    model = make_model(seed=5)
    before = model.state_dict()
    with pytest.raises(ModelFileError):
        io.load_checkpoint(path, model, optimizer=Adam(model.parameters()))
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_checkpoint_of_another_dtype_is_refused(tmp_path, saved):
    model = make_model().to("float64")
    with pytest.raises(ModelFileError, match="'0.weight' is stored as F32 in the file but the model's is F64"):
        io.load_checkpoint(saved, model)


def test_load_reads_neither_optimizer_nor_extra_tensors(tmp_path, trained, monkeypatch):
    path = tmp_path / "m.safetensors"
    io.save(trained[0], path, optimizer=trained[1], extra={"big": np.zeros(1000)})
    read = []
    original = io.read_tensor

    def recording(path, file, header, name):
        read.append(name)
        return original(path, file, header, name)

    monkeypatch.setattr(io, "read_tensor", recording)
    io.load(path)
    assert read and not any(name.startswith(("optimizer/", "extra/")) for name in read)
    read.clear()
    io.read_metadata(path)
    assert read == ["extra/big"]
    read.clear()
    io.load_checkpoint(path, make_model())  # no optimizer asked for: its state stays unread
    assert "extra/big" in read and not any(name.startswith("optimizer/") for name in read)


HUGE_LAYER = """
import json, resource, sys
import chainrule
from chainrule import io, nn
path = sys.argv[1]
tensors, metadata = io.load_safetensors(path)
architecture = json.loads(metadata["architecture"])
architecture["config"]["layers"][0]["config"].update(in_features=20000, out_features=20000)
metadata["architecture"] = json.dumps(architecture)
tensors["0.weight"] = tensors["0.weight"][:0]  # a tiny file whose header agrees with nothing
io.save_safetensors(tensors, path, metadata)
for attempt in (lambda: io.load(path), lambda: io.read_metadata(path)):
    try:
        attempt()
    except chainrule.ModelFileError as error:
        print(type(error).__name__, str(error)[:300])
# VmHWM: this process's own peak; ru_maxrss would also count the forking parent's (Linux keeps it across exec)
status = open("/proc/self/status").read() if sys.platform.startswith("linux") else ""
peak = [line for line in status.splitlines() if line.startswith("VmHWM:")]
print("peak MB", int(peak[0].split()[1]) / 1024 if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def test_a_tiny_file_cannot_make_load_allocate_a_huge_layer(tmp_path, trained):
    import subprocess
    import sys

    path = tmp_path / "tiny.safetensors"
    io.save(nn.Sequential(nn.Linear(5, 3, seed=0), nn.ReLU()), path)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__))))
    result = subprocess.run([sys.executable, "-c", HUGE_LAYER, str(path)], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert os.path.getsize(path) < 3000
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all("ModelFileError" in line and "(20000, 20000) in the model" in line
                                   for line in lines[:2]), result.stdout
    assert float(lines[2].split()[-1]) < 300  # megabytes; a 20000x20000 float32 layer alone is 1,600


# ------------------------------------------- the chainrule command on a malformed file
def command_model(tmp_path, extra):
    """A model file like the ones 'chainrule train' writes (only the extra matters to these tests)."""
    path = tmp_path / "model.safetensors"
    io.save(nn.Sequential(nn.Linear(2, 2, seed=0)), path, extra=extra)
    return path


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("extra, change, words", [
    ({"task": "classification"}, set_metadata("extra", '{"__tuple__": 5}'), ["never writes"]),
    ({"task": "classification"}, set_entry("0.weight", "shape", [2**70]), ["has shape"]),
    ({"task": "classification"}, set_metadata("architecture", "[" * 5000), ["nests 5000 levels"]),
    ({"task": "classification", "preprocessing": 5}, None, ["preprocessing cannot be restored"]),
    ({"task": "classification", "preprocessing": {"kind": "TablePreprocessor"}}, None, ["preprocessing"]),
    ({"task": 3, "preprocessing": {}}, None, ["its task is 3"]),
    ({"task": "regression", "preprocessing": {}, "input_shape": [-1]}, None, ["input_shape"]),
])
def test_the_command_reports_a_malformed_model_file_in_one_line(tmp_path, capsys, command, extra, change, words):
    from chainrule.cli import main

    path = command_model(tmp_path, extra)
    if change is not None:
        path = edited(path, tmp_path, change)
    (tmp_path / "data.csv").write_text("a,b,label\n1,2,x\n")
    code = main([command, str(path), "--data", str(tmp_path / "data.csv")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"chainrule: error: {path}")
    for word in words:
        assert word in err


@pytest.mark.parametrize("key, change, match", [
    ("optimizer", lambda state: state["param_groups"][0].update(lr="fast"), r"param_groups\[0\]\['lr'\] = 'fast'"),
    ("optimizer", lambda state: state["param_groups"][0].update(betas=[0.9, "x"]), "betas"),
    ("optimizer", lambda state: state.update(param_groups={"lr": 1}), "not a dict with"),
    ("scheduler", lambda state: state.update(optimizer="gone"), r"\['optimizer'\] = 'gone'.*absent"),
    ("scheduler", lambda state: state.update(last_epoch=[1]), "last_epoch"),
])
def test_optimizer_and_scheduler_state_must_look_like_the_given_ones(tmp_path, trained, key, change, match):
    from chainrule.optim import Adam
    from chainrule.optim.lr_scheduler import StepLR

    model, optimizer = trained
    path = tmp_path / "m.safetensors"
    io.save(model, path, optimizer=optimizer, scheduler=StepLR(optimizer, 2))
    state = json.loads(split(path)[0]["__metadata__"][key])
    change(state)
    path = edited(path, tmp_path, set_metadata(key, json.dumps(state)))
    fresh = make_model()
    fresh_optimizer = Adam(fresh.parameters(), lr=0.5)
    scheduler = StepLR(fresh_optimizer, 2)
    with pytest.raises(ModelFileError, match=match):
        io.load_checkpoint(path, fresh, optimizer=fresh_optimizer, scheduler=scheduler)
    assert fresh_optimizer.param_groups[0]["lr"] == 0.5 and scheduler.optimizer is fresh_optimizer  # untouched


def test_save_refuses_extra_nested_deeper_than_load_reads(tmp_path, trained):
    deep = "leaf"
    for _ in range(io.MAX_JSON_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="nests deeper than 64 levels"):
        io.save(trained[0], tmp_path / "m.safetensors", extra=deep)
    deep = deep[0][0]  # 63 levels of lists: what load reads
    io.save(trained[0], tmp_path / "m.safetensors", extra=deep)
    assert io.read_metadata(tmp_path / "m.safetensors")["extra"] == deep


def test_save_of_a_state_dict_is_a_type_error_naming_the_translation(tmp_path):
    model = make_model()
    with pytest.raises(TypeError, match=r"got OrderedDict.*chainrule\.save\(model, path\)"):
        io.save(model.state_dict(), tmp_path / "weights.safetensors")  # torch.save(model.state_dict(), path)
    with pytest.raises(TypeError, match="expected a chainrule.nn.Module, got list"):
        io.save([1, 2], tmp_path / "x.safetensors")
    assert not os.listdir(tmp_path)
