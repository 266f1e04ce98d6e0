"""Tests for chainrule/train/callbacks.py: hooks, stopping, early stopping, checkpoints and exact resume,
learning-rate schedules, CSV and JSON loggers."""

import csv
import json
import math

import numpy as np
import pytest

from chainrule.optim import SGD, Adam, ReduceLROnPlateau, StepLR, WarmupCosine
from chainrule.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    fit,
)
from conftest import mlp


class Recorder(Callback):
    """Counts hook calls and remembers what the callback could see."""

    def __init__(self):
        super().__init__()
        self.calls = []
        self.batch_lrs = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")
        self.seen = (self.model, self.optimizer, dict(self.params))

    def on_train_end(self, logs=None):
        self.calls.append("train_end")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))
        self.batch_lrs.append(self.optimizer.param_groups[0]["lr"])  # the lr this batch's step uses

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch))
        assert math.isfinite(logs["loss"]) and logs["size"] > 0


class Script(Callback):
    """Replaces a logged value by a scripted sequence (runs before EarlyStopping / ModelCheckpoint)."""

    order = -20

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_hooks_are_called_in_order_with_model_optimizer_and_params(blobs):
    x, y = blobs
    model = mlp([4, 3], seed=0)
    recorder = Recorder()
    fit(model, x, y, epochs=2, batch_size=100, validation_split=0.25, metrics=["accuracy"], callbacks=[recorder],
        verbose=0)
    logs_keys = sorted(["loss", "accuracy", "val_loss", "val_accuracy", "lr"])
    expected = ["train_begin"]
    for epoch in range(2):
        expected.append(("epoch_begin", epoch))
        for batch in range(2):  # 180 training samples in batches of 100
            expected += [("batch_begin", batch), ("batch_end", batch)]
        expected.append(("epoch_end", epoch, logs_keys))
    expected.append("train_end")
    assert recorder.calls == expected
    seen_model, seen_optimizer, params = recorder.seen
    assert seen_model is model and isinstance(seen_optimizer, Adam)
    assert params["epochs"] == 2 and params["steps"] == 2


def test_stop_training_flag_stops_after_the_current_batch(blobs):
    x, y = blobs

    class StopAtBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.trainer.stop_training = True

    recorder = Recorder()
    history = fit(mlp([4, 3]), x, y, epochs=5, batch_size=10, callbacks=[StopAtBatch(), recorder], verbose=0)
    assert history.epoch == [0]
    assert [c for c in recorder.calls if isinstance(c, tuple) and c[0] == "batch_end"] == [
        ("batch_end", 0), ("batch_end", 1), ("batch_end", 2)]
    assert recorder.calls[-1] == "train_end"


def test_callbacks_must_be_callback_instances(blobs):
    x, y = blobs
    with pytest.raises(TypeError, match="Callback instances"):
        fit(mlp([4, 3]), x, y, callbacks=[lambda: None], verbose=0)


# ------------------------------------------------------------------ early stopping
def test_early_stopping_on_a_scripted_curve():
    x = np.random.default_rng(0).standard_normal((40, 4))
    y = np.arange(40) % 3
    model = mlp([4, 3], seed=0)
    val_loss = [1.0, 0.8, 0.9, 0.7, 0.75, 0.74, 0.71, 0.5, 0.4, 0.3]
    snapshots = []
    stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = fit(model, x, y, epochs=10, lr=0.05, validation_split=0.25, verbose=0,
                  callbacks=[Script("val_loss", val_loss), stopper,
                             LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.state_dict()))])
    # best 0.7 at epoch 3; epochs 4, 5, 6 do not improve -> stop after epoch 6
    assert stopper.best == 0.7 and stopper.best_epoch == 3 and stopper.stopped_epoch == 6
    assert history.epoch == list(range(7))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[3][key])
    assert not np.array_equal(snapshots[3]["0.weight"], snapshots[6]["0.weight"])


def test_early_stopping_max_mode_min_delta_and_patience_zero():
    x = np.random.default_rng(0).standard_normal((40, 4))
    y = np.arange(40) % 3
    accuracy = [0.5, 0.6, 0.605, 0.7, 0.9]
    stopper = EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=0)
    assert stopper.mode == "max"
    history = fit(mlp([4, 3]), x, y, epochs=5, validation_split=0.25, verbose=0,
                  callbacks=[Script("val_accuracy", accuracy), stopper])
    assert stopper.stopped_epoch == 2 and len(history) == 3  # 0.605 is not 0.01 better than 0.6


def test_early_stopping_restores_best_weights_on_real_training(blobs):
    x, y = blobs
    model = mlp([4, 16, 3], seed=0)
    snapshots = []
    stopper = EarlyStopping(monitor="val_loss", patience=2, min_delta=10.0, restore_best_weights=True)
    history = fit(model, x, y, epochs=20, validation_split=0.25, lr=0.01, verbose=0, callbacks=[
        stopper, LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.state_dict()))])
    # nothing beats epoch 0 by 10, so training stops after epochs 1 and 2 and epoch 0's weights come back
    assert history.epoch == [0, 1, 2] and stopper.stopped_epoch == 2 and stopper.best_epoch == 0
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[0][key])


def test_missing_monitor_warns(blobs):
    x, y = blobs
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the epoch logs"):
        fit(mlp([4, 3]), x, y, epochs=1, callbacks=[EarlyStopping()], verbose=0)


# ------------------------------------------------------------------ checkpoints and exact resume
def _schedule(kind, optimizer):
    if kind == "step":
        return LearningRateScheduler(StepLR(optimizer, step_size=2, gamma=0.5))
    if kind == "warmup_per_batch":
        return LearningRateScheduler(WarmupCosine(optimizer, warmup_steps=10, total_steps=40), interval="batch")
    if kind == "plateau":
        return LearningRateScheduler(ReduceLROnPlateau(optimizer, factor=0.5, patience=0))
    return LearningRateScheduler(lambda epoch: 0.02 / (1 + epoch))


def _run(data, kind, epochs, checkpoint=None, resume_from=None):
    x, y = data
    model = mlp([4, 16, 3], seed=0, dropout=0.3, batchnorm=True)
    optimizer = Adam(model.parameters(), lr=0.02)
    callbacks = [_schedule(kind, optimizer), EarlyStopping(monitor="val_loss", patience=50)]
    if checkpoint is not None:
        callbacks.append(ModelCheckpoint(checkpoint))
    history = fit(model, x, y, optimizer=optimizer, epochs=epochs, batch_size=32, validation_split=0.2,
                  metrics=["accuracy"], callbacks=callbacks, seed=7, verbose=0, resume_from=resume_from)
    return model, optimizer, history, callbacks


@pytest.mark.parametrize("kind", ["step", "warmup_per_batch", "plateau", "function"])
def test_resume_from_checkpoint_equals_uninterrupted_run(blobs, tmp_path, kind):
    """Train 3 epochs with checkpoints; a fresh process-like rebuild resumes to 6 epochs; the final weights,
    buffers, optimizer state and history equal those of 6 uninterrupted epochs, bit for bit."""
    template = str(tmp_path / "ckpt-{epoch:02d}.safetensors")
    _run(blobs, kind, 3, checkpoint=template)
    assert (tmp_path / "ckpt-03.safetensors").exists()
    resumed, resumed_opt, resumed_history, resumed_callbacks = _run(
        blobs, kind, 6, resume_from=tmp_path / "ckpt-03.safetensors")
    straight, straight_opt, straight_history, _ = _run(blobs, kind, 6)

    assert resumed_history.epoch == straight_history.epoch == list(range(6))
    assert resumed_history.history == straight_history.history
    resumed_state, straight_state = resumed.state_dict(), straight.state_dict()
    assert list(resumed_state) == list(straight_state)
    for key in straight_state:
        np.testing.assert_array_equal(resumed_state[key], straight_state[key], err_msg=key)
    saved_a, saved_b = resumed_opt.state_dict(), straight_opt.state_dict()
    for index in saved_b["state"]:
        for name, value in saved_b["state"][index].items():
            np.testing.assert_array_equal(saved_a["state"][index][name], value)
    assert saved_a["param_groups"][0]["lr"] == saved_b["param_groups"][0]["lr"]
    assert resumed_callbacks[1].best == min(straight_history.history["val_loss"])


def test_resume_needs_the_training_state(blobs, tmp_path):
    import chainrule

    x, y = blobs
    model = mlp([4, 3])
    chainrule.io.save(model, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="no training state"):
        fit(model, x, y, epochs=2, resume_from=tmp_path / "plain.safetensors", verbose=0)


def test_checkpoint_save_best_only(tmp_path):
    x = np.random.default_rng(0).standard_normal((40, 4))
    y = np.arange(40) % 3
    val_loss = [1.0, 1.2, 0.9, 0.95, 0.5]
    checkpoint = ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", save_best_only=True)
    fit(mlp([4, 3]), x, y, epochs=5, validation_split=0.25, verbose=0,
        callbacks=[Script("val_loss", val_loss), checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-1.safetensors", "best-3.safetensors",
                                                          "best-5.safetensors"]
    assert checkpoint.best == 0.5 and checkpoint.last_path.endswith("best-5.safetensors")


def test_checkpoint_file_loads_as_a_model(blobs, tmp_path):
    import chainrule

    x, y = blobs
    model = mlp([4, 8, 3], seed=0)
    fit(model, x, y, epochs=2, callbacks=[ModelCheckpoint(tmp_path / "m.safetensors")], verbose=0)
    loaded = chainrule.io.load(tmp_path / "m.safetensors")
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], value)


# ------------------------------------------------------------------ learning-rate schedules
def test_function_schedules_per_epoch_and_per_batch(blobs):
    x, y = blobs
    history = fit(mlp([4, 3]), x, y, epochs=3, batch_size=120, verbose=0,
                  callbacks=[LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)])
    assert history.history["lr"] == [0.1, 0.05, 0.025]

    two_args = fit(mlp([4, 3]), x, y, epochs=3, batch_size=120, lr=0.2, verbose=0,
                   callbacks=[LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)])
    assert two_args.history["lr"] == [0.2, 0.1, 0.05]

    recorder = Recorder()
    fit(mlp([4, 3]), x, y, epochs=2, batch_size=120, verbose=0,
        callbacks=[LearningRateScheduler(lambda step: 0.01 * (step + 1), interval="batch"), recorder])
    assert recorder.batch_lrs == pytest.approx([0.01, 0.02, 0.03, 0.04])


def test_scheduler_objects_step_per_epoch_per_batch_and_on_plateau(blobs):
    x, y = blobs
    model = mlp([4, 3])
    optimizer = SGD(model.parameters(), lr=0.1)
    history = fit(model, x, y, optimizer=optimizer, epochs=4, batch_size=120, verbose=0,
                  callbacks=[LearningRateScheduler(StepLR(optimizer, step_size=2, gamma=0.5))])
    assert history.history["lr"] == [0.1, 0.1, 0.05, 0.05]

    model = mlp([4, 3])
    optimizer = SGD(model.parameters(), lr=0.1)
    recorder = Recorder()
    fit(model, x, y, optimizer=optimizer, epochs=2, batch_size=120, verbose=0,
        callbacks=[LearningRateScheduler(WarmupCosine(optimizer, 4, 4), interval="batch"), recorder])
    assert recorder.batch_lrs == pytest.approx([0.025, 0.05, 0.075, 0.1])

    model = mlp([4, 3])
    optimizer = SGD(model.parameters(), lr=0.1)
    plateau = ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    history = fit(model, x, y, optimizer=optimizer, epochs=5, validation_split=0.25, verbose=0,
                  callbacks=[Script("val_loss", [1.0, 1.0, 1.0, 1.0, 1.0]), LearningRateScheduler(plateau)])
    # bad epochs 1, 2 -> reduced after epoch 2 (patience 1); then bad epochs 3, 4 -> reduced again after 4
    assert history.history["lr"] == [0.1, 0.1, 0.1, 0.05, 0.05]
    assert optimizer.param_groups[0]["lr"] == 0.025


def test_scheduler_on_another_optimizer_is_an_error(blobs):
    x, y = blobs
    model = mlp([4, 3])
    other = SGD(mlp([4, 3]).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="different optimizer"):
        fit(model, x, y, epochs=1, callbacks=[LearningRateScheduler(StepLR(other, 1))], verbose=0)


# ------------------------------------------------------------------ loggers
def test_csv_logger_writes_one_row_per_epoch(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.csv"
    history = fit(mlp([4, 3]), x, y, epochs=3, metrics=["accuracy"], validation_split=0.25, verbose=0,
                  callbacks=[CSVLogger(path)])
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for column, key in enumerate(rows[0][1:], start=1):
        assert [float(r[column]) for r in rows[1:]] == history.history[key]  # exact: repr round trip

    # append=True continues the file without a second header; append=False starts over
    fit(mlp([4, 3]), x, y, epochs=2, metrics=["accuracy"], validation_split=0.25, verbose=0,
        callbacks=[CSVLogger(path, append=True)])
    with open(path, newline="") as handle:
        assert len(list(csv.reader(handle))) == 1 + 3 + 2
    fit(mlp([4, 3]), x, y, epochs=1, metrics=["accuracy"], validation_split=0.25, verbose=0,
        callbacks=[CSVLogger(path)])
    with open(path, newline="") as handle:
        assert len(list(csv.reader(handle))) == 2


def test_json_logger_holds_the_history_after_every_epoch(blobs, tmp_path):
    x, y = blobs
    path = tmp_path / "log.json"
    lengths = []
    logger = JSONLogger(path)
    reader = LambdaCallback(on_epoch_end=lambda epoch, logs: lengths.append(len(json.loads(path.read_text())["epoch"])))
    reader.order = 5  # after the logger
    history = fit(mlp([4, 3]), x, y, epochs=3, metrics=["accuracy"], validation_split=0.25, verbose=0,
                  callbacks=[reader, logger])
    assert lengths == [1, 2, 3]
    data = json.loads(path.read_text())
    assert data["epoch"] == [0, 1, 2]
    assert data["history"] == history.history
    assert data["params"]["epochs"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["log.json"]  # no temporary files left behind


@pytest.mark.parametrize("monitor, expected", [
    ("val_loss", "min"), ("loss", "min"), ("val_accuracy", "max"), ("val_roc_auc", "max"), ("f1_macro", "max"),
    ("precision_weighted", "max"), ("val_r2", "max"), ("val_mse", "min"), ("val_log_loss", "min"),
])
def test_auto_mode_follows_metric_direction(monitor, expected):
    from chainrule.train.callbacks import resolve_mode

    assert resolve_mode("auto", monitor) == expected


# ------------------------------------------------------------------ crashes: kill -9, resume, file modes
def test_csv_logger_append_on_resume_drops_the_rows_the_resumed_run_redoes(blobs, tmp_path):
    """A run logged epochs 0-4 but was interrupted with its checkpoint at epoch 2 (0-based); resuming
    from it with append=True must give exactly the rows of an uninterrupted run, not 3 and 4 twice."""
    x, y = blobs

    def run(epochs, log, append=False, checkpoint=None, resume_from=None):
        model = mlp([4, 8, 3], seed=0, dropout=0.3)
        callbacks = [CSVLogger(log, append=append)]
        if checkpoint is not None:
            callbacks.append(ModelCheckpoint(checkpoint))
        fit(model, x, y, optimizer=Adam(model.parameters(), lr=0.02), epochs=epochs, batch_size=32,
            validation_split=0.2, metrics=["accuracy"], callbacks=callbacks, seed=3, verbose=0, resume_from=resume_from)

    run(5, tmp_path / "straight.csv")
    run(5, tmp_path / "log.csv", checkpoint=tmp_path / "ckpt-{epoch}.safetensors")
    run(5, tmp_path / "log.csv", append=True, resume_from=tmp_path / "ckpt-3.safetensors")
    assert (tmp_path / "log.csv").read_text() == (tmp_path / "straight.csv").read_text()
    with open(tmp_path / "log.csv", newline="") as handle:
        assert [row[0] for row in csv.reader(handle)] == ["epoch", "0", "1", "2", "3", "4"]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_logs_and_checkpoints_get_an_ordinary_files_mode(blobs, tmp_path, umask):
    import os

    x, y = blobs
    previous = os.umask(umask)
    try:
        fit(mlp([4, 3]), x, y, epochs=1, verbose=0, callbacks=[
            JSONLogger(tmp_path / "log.json"), CSVLogger(tmp_path / "log.csv"),
            ModelCheckpoint(tmp_path / "ckpt.safetensors")])
    finally:
        os.umask(previous)
    for name in ("log.json", "log.csv", "ckpt.safetensors"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o666 & ~umask, name


def _check_training_folder(folder, run):
    """Every file reads completely (checkpoint, JSON, CSV without repeated or missing epochs); temporary
    files, if any, are the killed run's own."""
    import os

    from chainrule import io
    from chainrule._atomic import is_temporary

    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if is_temporary(name):
            assert run["ended"] == "killed" and int(name.split(".")[-3]) == run["pid"], (name, run)
        elif name.endswith(".safetensors"):
            io.load(path)
            assert name == "final.safetensors" or "chainrule.train" in io.read_metadata(path)["extra"]
        elif name == "log.json":
            with open(path) as handle:
                logged = json.load(handle)
            assert logged["epoch"] == list(range(len(logged["epoch"])))
        elif name == "log.csv":
            with open(path, newline="") as handle:
                rows = list(csv.reader(handle))
            if rows:
                assert all(len(row) == len(rows[0]) for row in rows), rows
                assert [row[0] for row in rows[1:]] == [str(i) for i in range(len(rows) - 1)], rows
        else:
            raise AssertionError(f"unexpected file {name}")


def test_kill_minus_9_and_resume_equals_an_uninterrupted_run(tmp_path):
    """Train with ModelCheckpoint, CSVLogger(append on resume) and JSONLogger in a child process, SIGKILL
    it before seeded file writes (inside checkpoint and log writes) and after seeded delays, resume
    each time from the checkpoint; every file reads completely after every kill, and the final weights,
    CSV and JSON logs equal those of a run that was never interrupted (shuffling and dropout included)."""
    import os
    import subprocess
    import sys

    from chainrule import io

    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, tests)
    try:
        import crashes
    finally:
        sys.path.remove(tests)
    epochs = 8
    straight = tmp_path / "straight"
    straight.mkdir()
    crashes.train_with_checkpoints(str(straight), epochs)

    rng = np.random.default_rng(14)
    kills = [["write", int(k)] for k in rng.integers(1, 20, size=6)]
    kills += [["delay", float(d)] for d in rng.uniform(0.005, 0.08, size=3)] + [["none", 0]]
    folder, warm = tmp_path / "run", tmp_path / "warm"
    folder.mkdir()
    warm.mkdir()
    spec = {"job": "train", "args": [str(folder), epochs], "warmup_args": [str(warm), epochs], "kills": kills,
            "snapshots": str(tmp_path / "snapshots"), "folder": str(folder)}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(tests) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, os.path.join(tests, "crashes.py"), str(tmp_path / "spec.json")],
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    assert sum(run["ended"] == "killed" for run in runs) >= 5
    for index, run in enumerate(runs):
        assert run["ended"] in ("killed", 0), run
        _check_training_folder(tmp_path / "snapshots" / f"{index:02d}", run)

    assert sorted(os.listdir(folder)) == ["ckpt.safetensors", "final.safetensors", "log.csv", "log.json"]
    assert (folder / "log.csv").read_text() == (straight / "log.csv").read_text()
    logged, expected = (json.loads((f / "log.json").read_text()) for f in (folder, straight))
    assert logged["epoch"] == expected["epoch"] == list(range(epochs))
    assert logged["history"] == expected["history"]
    resumed, uninterrupted = (io.load_safetensors(f / "final.safetensors")[0] for f in (folder, straight))
    assert list(resumed) == list(uninterrupted)
    for name in resumed:
        np.testing.assert_array_equal(resumed[name], uninterrupted[name], err_msg=name)
