"""The README's first look, runnable: gradients, a network on the digits, model files, evaluation.

    python examples/tour.py [--out DIR]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402


def main(out_dir=".", epochs=30, seed=0):
    """Run the tour; returns the test accuracy and the diagnosis verdict."""
    from sklearn.model_selection import train_test_split

    from chainrule.evaluate import cross_validate, diagnose, report

    # 1. The engine: gradients by backpropagation, checked against finite differences.
    x = cr.randn(4, 3, seed=0, requires_grad=True)
    w = cr.randn(3, 2, seed=1, requires_grad=True)
    loss = (x @ w).relu().sum()
    loss.backward()  # x.grad, w.grad now hold d(loss)/dx and d(loss)/dw
    cr.gradcheck(lambda x, w: (x @ w).relu(), [x.numpy(), w.numpy()])

    # 2. A network on scikit-learn's digits (8x8 images, pixels scaled to [0, 1]).
    images, labels = cr.data.load_digits()
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.2, stratify=labels,
                                                        random_state=seed)

    def make_model(seed=seed):
        return nn.Sequential(nn.Linear(64, 128, seed=seed), nn.ReLU(), nn.Dropout(0.2, seed=seed),
                             nn.Linear(128, 10, seed=seed))

    model = make_model()
    model.summary((1, 64))
    history = cr.fit(model, x_train, y_train, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=epochs,
                     batch_size=32, validation_split=0.1, metrics=["accuracy"], seed=seed, verbose=0)
    path = os.path.join(out_dir, "digits.safetensors")
    cr.save(model, path)  # weights + architecture, never a pickle
    model = cr.load(path)  # rebuilt without this script's code
    logits = cr.predict(model, x_test)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    predicted = probabilities.argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    print(f"test accuracy {accuracy:.4f}")

    # 3. Evaluation and diagnosis.
    result = cross_validate(make_model, images, labels, k=3, metric="accuracy",
                            fit_params={"epochs": 10, "loss": "cross_entropy"})
    print(result)  # mean ± std over the folds
    diagnosis = diagnose(history)
    print(diagnosis)  # good fit / overfitting / underfitting / not converged
    report(os.path.join(out_dir, "report.html"), history=history, y_true=y_test, y_pred=predicted,
           y_proba=probabilities, model=model)
    return accuracy, diagnosis.verdict


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for digits.safetensors and report.html")
    main(parser.parse_args().out)
