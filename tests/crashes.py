"""Kill jobs with SIGKILL at chosen moments and keep a copy of their folder after each kill (a helper
of the crash tests, run as ``python crashes.py SPEC.json`` in a fresh interpreter).

A fresh interpreter per run would spend seconds importing NumPy, scikit-learn and matplotlib, so
the runner imports once, runs the job once to warm every lazy import, and then forks one child
per run: the child runs the job, the runner kills it (``SIGKILL``, like ``kill -9``) and reaps it,
and copies the folder to ``<snapshots>/<i>`` (hidden files included) for the test to inspect.

A run is killed after a delay (``["delay", seconds]``), or just before one of its Python-level
``write`` calls on a file other than stdout/stderr, found with ``sys.setprofile``: the ``k``-th
(``["write", k]``), or for every file the job writes (counted in a second warm-up run, a new file
whenever the written object changes) its first write and the one halfway through
(``["files"]``, which expands to one run per such moment). A file opened with ``open(path, "w")``
and killed there holds nothing, or a prefix, of what it was about to receive: the torn file a
crash can leave.

SPEC: {"job": "cli" | "train", "args": [...], "warmup_args": [...], "kills": [["delay", 0.3],
["files"], ["none", 0], ...], "snapshots": folder, "folder": the job's folder}. ``warmup_args``
must be runnable twice. The runner prints one JSON line: per run, its pid, how it ended
("killed" or its exit status) and its kill.
"""

import contextlib
import json
import os
import shutil
import signal
import sys
import time


def run_cli(args):
    """The ``chainrule`` command in this process; returns its exit status."""
    from chainrule.cli import main

    return main(list(args))


def train_with_checkpoints(folder, epochs):
    """Train a tiny dropout MLP for ``epochs`` with a checkpoint, CSV and JSON log in ``folder``,
    resuming from the checkpoint when there is one; the final weights go to ``final.safetensors``."""
    import numpy as np

    from chainrule import io, nn
    from chainrule.optim import Adam
    from chainrule.train import CSVLogger, JSONLogger, ModelCheckpoint, fit

    gen = np.random.default_rng(0)
    y = gen.integers(0, 3, size=96)
    x = np.eye(3)[y] @ gen.standard_normal((3, 4)) * 2 + gen.standard_normal((96, 4))
    model = nn.Sequential(nn.Linear(4, 16, seed=1), nn.ReLU(), nn.Dropout(0.3, seed=2), nn.Linear(16, 3, seed=3))
    checkpoint = os.path.join(folder, "ckpt.safetensors")
    resume = os.path.exists(checkpoint)
    callbacks = [ModelCheckpoint(checkpoint), CSVLogger(os.path.join(folder, "log.csv"), append=resume),
                 JSONLogger(os.path.join(folder, "log.json"))]
    fit(model, x, y, optimizer=Adam(model.parameters(), lr=0.01), epochs=epochs, batch_size=16,
        validation_split=0.25, metrics=["accuracy"], callbacks=callbacks, seed=5, verbose=0,
        resume_from=checkpoint if resume else None)
    io.save(model, os.path.join(folder, "final.safetensors"))
    return 0


_JOBS = {"cli": lambda args: run_cli(args), "train": lambda args: train_with_checkpoints(*args)}


def _on_file_write(action):
    """Profile hook calling ``action(file)`` just before each Python-level write to a file (not stdout/stderr)."""
    console = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)

    def hook(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", "") == "write":
            owner = getattr(arg, "__self__", None)
            if owner is not None and owner not in console and _is_file(owner):
                action(owner)

    return hook


def _is_file(stream):
    try:
        stream.fileno()  # an in-memory buffer (a PNG being drawn) has none
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _kill_before_write(k):
    count = [0]

    def action(file):
        count[0] += 1
        if count[0] >= k:
            os.kill(os.getpid(), signal.SIGKILL)

    return _on_file_write(action)


def _writes_per_file(job, args):
    """Run the job once, counting its writes per file (a new file whenever the written object changes)."""
    counts, last = [], [None]

    def action(file):
        if file is not last[0]:
            counts.append(0)
            last[0] = file
        counts[-1] += 1

    sys.setprofile(_on_file_write(action))
    try:
        _JOBS[job](args)
    finally:
        sys.setprofile(None)
    return counts


def _expand(kills, job, args):
    """``["files"]`` -> ``["write", k]`` for the first and the middle write of every file."""
    if not any(kill[0] == "files" for kill in kills):
        return kills
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        counts = _writes_per_file(job, args)
    moments, before = [], 0
    for count in counts:
        moments += sorted({before + 1, before + 1 + count // 2})
        before += count
    return [item for kill in kills for item in ([["write", k] for k in moments] if kill[0] == "files" else [kill])]


def _child(job, args, how, value):
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    status = 1
    try:
        if how == "write":
            sys.setprofile(_kill_before_write(int(value)))
        status = _JOBS[job](args)
    finally:
        sys.setprofile(None)
        os._exit(status if isinstance(status, int) else 1)


def main(spec_path):
    with open(spec_path) as file:
        spec = json.load(file)
    job, args = spec["job"], spec["args"]
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        _JOBS[job](spec["warmup_args"])  # every lazy import now, not in the children
    kills = _expand(spec["kills"], job, spec["warmup_args"])
    runs = []
    for index, (how, value) in enumerate(kills):
        pid = os.fork()
        if pid == 0:
            _child(job, args, how, value)
        if how == "delay":
            time.sleep(float(value))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        ended = "killed" if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL else \
            os.WEXITSTATUS(status) if os.WIFEXITED(status) else f"signal {os.WTERMSIG(status)}"
        runs.append({"pid": pid, "ended": ended, "kill": [how, value]})
        target = os.path.join(spec["snapshots"], f"{index:02d}")
        if os.path.isdir(spec["folder"]):
            shutil.copytree(spec["folder"], target)
        else:
            os.makedirs(target)
    print(json.dumps(runs))


if __name__ == "__main__":
    main(sys.argv[1])
