"""Sentiment analysis with an LSTM on the sentence corpus that chainrule ships (312 sentences, half positive).

Pipeline: stratified held-out split -> vocabulary built on the training sentences only ->
padded id arrays -> Embedding -> LSTM (padding masked through ``lengths``) -> the output at
each sentence's last real word -> Linear -> 2 logits, trained with ``chainrule.train.fit``.
Reports held-out accuracy and F1 (positive class) against the majority-class baseline.

Run it with ``python examples/sentiment_lstm.py [--epochs 25]``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import chainrule as cr
except ImportError:  # run from a source checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import chainrule as cr

from chainrule import nn
from chainrule.data.text import Vocabulary
from chainrule.datasets import load_sentences
from chainrule.train import fit


class SentimentLSTM(nn.Module):
    """ids (B, L), 0 = padding -> logits (B, 2)."""

    def __init__(self, vocab_size, embedding_dim=32, hidden_size=32, seed=0):
        super().__init__()
        self.vocab_size, self.embedding_dim, self.hidden_size, self.seed = vocab_size, embedding_dim, hidden_size, seed
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0, seed=seed)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, seed=seed + 1)
        self.head = nn.Linear(hidden_size, 2, seed=seed + 2)

    def forward(self, ids):
        ids = ids.data if isinstance(ids, cr.Tensor) else np.asarray(ids)
        lengths = (ids != 0).sum(axis=1)  # padding comes after the words ("post")
        output, _ = self.lstm(self.embedding(ids), lengths=lengths)
        return self.head(nn.last_step(output, lengths, batch_first=True))

    def get_config(self):
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "hidden_size": self.hidden_size, "seed": self.seed}


def stratified_split(labels, test_fraction, seed):
    """Indices (train, test) with the class proportions kept in both parts."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = int(round(len(members) * test_fraction))
        test.extend(members[:cut])
        train.extend(members[cut:])
    return rng.permutation(train), rng.permutation(test)


def binary_f1(y_true, y_pred, positive=1):
    tp = np.sum((y_pred == positive) & (y_true == positive))
    fp = np.sum((y_pred == positive) & (y_true != positive))
    fn = np.sum((y_pred != positive) & (y_true == positive))
    return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0


def main(epochs=25, seed=0, test_fraction=0.25, verbose=True):
    """Train and evaluate; returns a dict of the held-out figures."""
    texts, labels, classes = load_sentences()
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    train_texts = [texts[i] for i in train_idx]
    vocab = Vocabulary.build(train_texts)  # from the training sentences only
    x_train, _ = vocab.encode(train_texts)
    x_test, _ = vocab.encode([texts[i] for i in test_idx])
    y_train, y_test = labels[train_idx], labels[test_idx]

    model = SentimentLSTM(len(vocab), seed=seed)
    fit(model, x_train, y_train, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=epochs, batch_size=16,
        seed=seed, verbose=0)
    model.eval()
    with cr.no_grad():
        predicted = model(x_test).numpy().argmax(axis=1)
    results = {
        "accuracy": float(np.mean(predicted == y_test)),
        "f1": binary_f1(y_test, predicted),
        "majority_accuracy": float(np.bincount(y_test).max() / len(y_test)),
        "train_size": len(train_idx),
        "test_size": len(test_idx),
        "vocabulary_size": len(vocab),
    }
    if verbose:
        print(f"{results['train_size']} training / {results['test_size']} held-out sentences, "
              f"vocabulary of {results['vocabulary_size']} tokens")
        print(f"held-out accuracy {results['accuracy']:.3f}   F1 ({classes[1]}) {results['f1']:.3f}   "
              f"majority class {results['majority_accuracy']:.3f}")
        for text in ("The service was friendly and the food was delicious.", "The room was dirty and the staff were rude."):
            ids, _ = vocab.encode([text])
            with cr.no_grad():
                p = model(ids).softmax(axis=-1).numpy()[0]
            print(f"  {text!r}: {classes[int(p.argmax())]} ({p.max():.2f})")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(epochs=args.epochs, seed=args.seed)
