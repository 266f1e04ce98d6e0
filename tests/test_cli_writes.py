"""What the ``chainrule`` command writes (chainrule/cli.py): whole files after ``kill -9``, no temporary
files left, one line and exit status 1 when a file cannot be written, the output folder's lock and
``--overwrite``."""

import csv
import errno
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from chainrule import io
from chainrule._atomic import LOCK_NAME, FolderLocked, is_temporary, lock_folder
from chainrule.cli import main

pytest.importorskip("sklearn")

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
ENV = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


def write_table(path, n=40, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    label = np.where(a + b > 0, "high", "low")
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["a", "b", "label"])
        writer.writerows(zip(np.round(a, 4), np.round(b, 4), label))
    return str(path)


def train_args(table, out, *extra):
    return ["train", "--data", table, "--target", "label", "--epochs", "4", "--hidden", "4", "--quiet",
            "--out", str(out), *extra]


def check_complete(folder):
    """Every file a run leaves in ``folder`` reads completely; returns the temporary files' names."""
    temporaries = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if is_temporary(name):
            temporaries.append(name)
        elif name == LOCK_NAME:
            continue
        elif name == "model.safetensors":
            io.load(path)
            assert io.read_metadata(path)["extra"]["task"] == "classification"
        elif name.endswith(".json"):
            with open(path) as file:
                assert json.load(file), path
        elif name == "history.csv":
            with open(path, newline="") as file:
                rows = list(csv.reader(file))
            assert len(rows) == 1 + 4 and rows[0][0] == "epoch", rows
            assert all(len(row) == len(rows[0]) for row in rows)
            assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4"]
        elif name == "report.html":
            with open(path, encoding="utf-8") as file:
                assert file.read().endswith("</html>\n"), path
        else:
            raise AssertionError(f"unexpected file {name} in {folder}")
    return temporaries


def temporary_pid(name):
    return int(name.split(".")[-3])


def kill_runs(tmp_path, kills, args, warmup_args, job="cli", folder=None):
    """Run ``crashes.py``: one job per entry of ``kills``, killed as it says; returns (runs, snapshots)."""
    spec = {"job": job, "args": args, "warmup_args": warmup_args, "kills": kills,
            "snapshots": str(tmp_path / "snapshots"), "folder": str(folder or tmp_path / "run")}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    result = subprocess.run([sys.executable, os.path.join(TESTS, "crashes.py"), str(tmp_path / "spec.json")],
                            env=ENV, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    return runs, [str(tmp_path / "snapshots" / f"{i:02d}") for i in range(len(runs))]


def check_kill_loop(runs, snapshots):
    """Each snapshot holds whole files; a killed run's temporary files belong to it alone and are gone
    after the next run; the last (unkilled) run ends cleanly with no temporary or lock file."""
    previous_pid = None
    for run, snapshot in zip(runs, snapshots):
        temporaries = check_complete(snapshot)
        for name in temporaries:
            assert run["ended"] == "killed" and temporary_pid(name) == run["pid"], (name, run, previous_pid)
        assert run["ended"] in ("killed", 0), run
        previous_pid = run["pid"]
    assert runs[-1]["ended"] == 0
    assert sorted(os.listdir(snapshots[-1])) == ["history.csv", "history.json", "metrics.json",
                                                 "model.safetensors", "report.html"]


# ------------------------------------------------------------------ kill -9
def test_kill_minus_9_during_train_never_leaves_a_torn_file_or_a_temporary(tmp_path):
    """chainrule train --overwrite into one folder, killed before the first and the middle write of each
    file it writes (model, history.json, metrics.json, report) and at seeded random moments; each time
    every file in the folder reads completely, and a later run removes what the killed one left."""
    pytest.importorskip("matplotlib")
    table = write_table(tmp_path / "t.csv")
    rng = np.random.default_rng(14)
    kills = [["files"]] + [["delay", float(d)] for d in rng.uniform(0.01, 0.35, size=5)] + [["none", 0]]
    runs, snapshots = kill_runs(tmp_path, kills, train_args(table, tmp_path / "run", "--overwrite"),
                                train_args(table, tmp_path / "warm", "--overwrite"))
    assert all(run["ended"] == "killed" for run in runs if run["kill"][0] == "write")
    check_kill_loop(runs, snapshots)
    # the write kills caught every output in the middle of being written
    caught = {name.split(".")[1] for snapshot in snapshots for name in os.listdir(snapshot) if is_temporary(name)}
    assert {"model", "history", "metrics", "report"} <= caught, caught


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    folder = tmp_path / "run"
    folder.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from chainrule._atomic import lock_folder\n"
                               f"with lock_folder({str(folder)!r}):\n    print('locked', flush=True); time.sleep(60)"],
                              env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        code = main(train_args(table, folder))
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert f"{folder} is in use by another chainrule run (process {holder.pid})" in err
        assert os.listdir(folder) == [LOCK_NAME]  # refused before writing anything
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (folder / LOCK_NAME).exists()  # the killed holder's file stays; the OS dropped its lock
    assert main(train_args(table, folder)) == 0
    assert LOCK_NAME not in os.listdir(folder)  # a clean run removes its lock file


def test_a_folder_that_holds_a_run_needs_overwrite(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    folder = tmp_path / "run"
    assert main(train_args(table, folder)) == 0
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    capsys.readouterr()
    assert main(train_args(table, folder, "--seed", "1")) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf"chainrule: error: --out {re.escape(str(folder))} already holds a run \(model.safetensors, "
                        r"history.json, history.csv, metrics.json(, report.html)?\); pass --overwrite to replace it, "
                        r"or choose another folder\n", err), err
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before

    (folder / "notes.txt").write_text("mine")  # not a run's file: kept
    assert main(train_args(table, folder, "--seed", "1", "--overwrite")) == 0
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "model.safetensors").read_bytes() != before["model.safetensors"]
    assert io.read_metadata(folder / "model.safetensors")["extra"]["train_args"]["seed"] == 1

    # a folder holding other files only (the data, say) is not a run
    other = tmp_path / "data"
    other.mkdir()
    assert main(train_args(write_table(other / "t.csv"), other)) == 0


def test_default_run_folders_keep_numbering_and_are_locked_while_training(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = write_table(tmp_path / "shop.csv")
    seen = []
    from chainrule import cli

    fit = cli._fit

    def spy(args, *rest):  # while training, the folder is locked
        folder = os.path.join("runs", "shop-002")
        seen.append(os.path.exists(os.path.join(folder, LOCK_NAME)))
        with pytest.raises(FolderLocked):
            with lock_folder(folder):
                pass
        return fit(args, *rest)

    assert main(["train", "--data", table, "--target", "label", "--epochs", "1", "--quiet"]) == 0
    monkeypatch.setattr(cli, "_fit", spy)
    assert main(["train", "--data", table, "--target", "label", "--epochs", "1", "--quiet"]) == 0
    assert seen == [True]
    assert sorted(os.listdir("runs")) == ["shop-001", "shop-002"]


# ------------------------------------------------------------------ failed writes
def test_a_failed_write_is_one_line_exit_1_and_keeps_what_was_saved(tmp_path, capsys, monkeypatch):
    """The disk fills up while history.csv is written: one line naming it, status 1, the model and
    history.json already saved stay whole, no temporary file is left, and a rerun needs no cleanup."""
    table = write_table(tmp_path / "t.csv")
    folder = tmp_path / "run"
    real_replace = os.replace

    def full_disk(source, target, *args, **kwargs):
        if os.path.basename(target) == "history.csv":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full_disk)
    code = main(train_args(table, folder))
    out, err = capsys.readouterr()
    monkeypatch.undo()
    assert code == 1
    assert err == f"chainrule: error: cannot write {folder / 'history.csv'}: No space left on device\n"
    assert sorted(os.listdir(folder)) == ["history.json", "model.safetensors"]
    assert check_complete(folder) == []
    assert len(json.loads((folder / "history.json").read_text())) == 4

    assert main(train_args(table, folder)) == 2  # the partial run is a run: refused without --overwrite
    assert main(train_args(table, folder, "--overwrite")) == 0


def test_a_file_size_limit_as_a_real_process(tmp_path):
    """``ulimit -f`` (RLIMIT_FSIZE, with SIGXFSZ ignored, as a full disk would): the model file cannot be
    written. One line naming it, status 1, no traceback, no temporary file. (--overwrite removes the
    previous run's files once the new run has its results, so the folder never mixes two runs.)"""
    resource = pytest.importorskip("resource")
    table = write_table(tmp_path / "t.csv")
    folder = tmp_path / "run"
    assert main(train_args(table, folder)) == 0
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    assert len(before["model.safetensors"]) > 1500

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))

    script = ("import sys; sys.modules['matplotlib'] = None\n"  # no report: the model file is what fails
              "from chainrule.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", script, *train_args(table, folder, "--overwrite")],
                            env=ENV, capture_output=True, text=True, timeout=120, preexec_fn=limit)
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"chainrule: error: cannot write {folder / 'model.safetensors'}: File too large\n"
    assert check_complete(folder) == []
    assert sorted(os.listdir(folder)) == []  # the old run was removed, the new model could not be written


def test_predict_out_is_atomic_and_a_failure_is_status_1(tmp_path, capsys, monkeypatch):
    table = write_table(tmp_path / "t.csv")
    assert main(train_args(table, tmp_path / "run")) == 0
    model = str(tmp_path / "run" / "model.safetensors")
    out = tmp_path / "predictions.csv"
    assert main(["predict", model, "--data", table, "--out", str(out)]) == 0
    before = out.read_bytes()
    assert len(before.splitlines()) == 41
    capsys.readouterr()

    real_fsync = os.fsync

    def failing_fsync(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    assert main(["predict", model, "--data", table, "--out", str(out)]) == 1
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert capsys.readouterr().err == f"chainrule: error: cannot write {out}: Input/output error\n"
    assert out.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["predictions.csv", "run", "t.csv"]

    assert main(["predict", model, "--data", table, "--out", str(tmp_path / "absent" / "p.csv")]) == 1
    assert capsys.readouterr().err == (f"chainrule: error: cannot write {tmp_path / 'absent' / 'p.csv'}: its folder "
                                       f"{tmp_path / 'absent'} does not exist\n")
