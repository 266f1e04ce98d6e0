"""Fixtures for the training tests: small real data sets and small seeded networks."""

import numpy as np
import pytest

from chainrule import nn


@pytest.fixture(scope="module")
def breast_cancer():
    """scikit-learn's breast-cancer set, stratified 75/25 split, standardised with training statistics."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.model_selection import train_test_split

    x, y = sklearn_datasets.load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42, stratify=y)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


@pytest.fixture
def blobs():
    """A small, easy 3-class problem (float64 features, int labels), 240 samples."""
    gen = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0, 0.0, 1.0], [-2.0, 1.0, 0.0, -1.0], [0.0, -2.0, 1.5, 0.0]])
    y = gen.integers(0, 3, size=240)
    x = centres[y] + gen.standard_normal((240, 4))
    return x, y


def mlp(sizes, seed=0, dropout=None, batchnorm=False):
    """A ReLU MLP ``sizes[0] -> ... -> sizes[-1]`` with seeded layers."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, seed=seed + i))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout, seed=seed + 100 + i))
    return nn.Sequential(*layers)


@pytest.fixture
def make_mlp():
    return mlp
