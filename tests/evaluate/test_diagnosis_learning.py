"""``diagnose`` on real networks trained with ``fit`` (the rules on constructed histories: test_diagnosis.py)."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.evaluate import diagnose
from chainrule.train import fit

datasets = pytest.importorskip("sklearn.datasets")


def _mlp(sizes, seed, activation=nn.ReLU):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, seed=seed + i))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("seed", [0, 1])
def test_oversized_unregularised_network_on_small_noisy_training_set_overfits(seed):
    # 60 training samples with 15 % flipped labels, two hidden layers of 64 units, no regularisation:
    # it memorises the training set (loss -> ~0) while the validation loss turns and climbs.
    x, y = datasets.make_classification(n_samples=600, n_features=20, n_informative=4, n_redundant=2,
                                        flip_y=0.15, class_sep=0.8, random_state=0)
    x = x.astype(np.float32)
    history = fit(_mlp([20, 64, 64, 2], seed), x[:60], y[:60], validation_data=(x[300:], y[300:]),
                  epochs=30, batch_size=16, verbose=0, seed=seed)
    result = diagnose(history)
    assert result.verdict == "overfitting", str(result)
    began = result.evidence["overfitting_began"]
    assert 1 <= began < 20
    assert history["val_loss"][-1] > 1.5 * min(history["val_loss"])  # the evidence is real, not marginal
    assert f"epoch {began}" in result.explanation
    assert any("EarlyStopping" in remedy for remedy in result.remedies)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_neuron_network_underfits(seed):
    # 10 digit classes through a single tanh unit: both losses flatten far above zero
    x, y = datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    history = fit(_mlp([64, 1, 10], seed, nn.Tanh), x[:600], y[:600], validation_data=(x[1000:1400], y[1000:1400]),
                  lr=1e-2, epochs=40, batch_size=32, verbose=0, seed=seed)
    result = diagnose(history, baseline_loss=np.log(10))
    assert result.verdict == "underfitting", str(result)
    assert history["loss"][-1] > 0.5 * np.log(10)
    assert any("bigger network" in remedy for remedy in result.remedies)


def test_short_training_is_not_converged():
    # a sound network stopped after 15 epochs: both losses still falling
    x, y = datasets.load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    history = fit(_mlp([30, 16, 2], 0), x[:400], y[:400], validation_data=(x[400:], y[400:]), epochs=15,
                  batch_size=32, verbose=0, seed=0)
    result = diagnose(history)
    assert result.verdict == "not_converged", str(result)
    assert any("more epochs" in remedy for remedy in result.remedies)
