"""Text for sequence models: tokenizer, vocabulary, encoding to padded id arrays, and file readers.

>>> texts, labels, classes = read_text_csv("reviews.csv")             # doctest: +SKIP
>>> vocab = Vocabulary.build(texts, min_freq=2, max_size=20_000)      # doctest: +SKIP
>>> ids, lengths = vocab.encode(texts, max_length=100)                # (N, L) int64, (N,) int64
>>> chainrule.save(model, "model.safetensors", extra={"vocab": vocab.to_dict()})  # doctest: +SKIP

Id 0 is padding (``<pad>``) and id 1 stands for every word the vocabulary does not know
(``<unk>``), so an ``Embedding(len(vocab), dim, padding_idx=0)`` and ``lengths`` (or
``ids != 0``) give a recurrent layer all it needs.
"""

import collections
import csv
import json
import os
import re

import numpy

from .._atomic import atomic_write

__all__ = ["tokenize", "Vocabulary", "encode", "pad_sequences", "read_text_csv", "read_imdb", "TextData", "PAD", "UNK"]

PAD, UNK = "<pad>", "<unk>"

# A word is a run of letters/digits/underscores, optionally with inner apostrophes (don't, o'clock);
# every other non-space character (punctuation, symbols) is a token of its own.
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")

TextData = collections.namedtuple("TextData", ["texts", "labels", "classes"])
TextData.__doc__ = """Texts (list of str), labels (int64 array of class indices) and classes (class names, index order)."""


def tokenize(text, lower=True):
    """Split ``text`` into word and punctuation tokens: ``"Don't stop!"`` -> ``["don't", "stop", "!"]``."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize: text must be a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower() if lower else text)


def _token_lists(texts, lower, where):
    if isinstance(texts, str):
        raise TypeError(f"{where}: texts must be a list of strings (or of token lists), got a single str")
    return [tokenize(text, lower) if isinstance(text, str) else list(text) for text in texts]


class Vocabulary:
    """Token <-> id mapping: ``<pad>`` = 0, ``<unk>`` = 1, then tokens by decreasing frequency (ties alphabetical).

    Build it from the *training* texts only (``Vocabulary.build``). Save it with the model
    (``to_dict``/``to_json``/``save``) — the ids mean nothing without it.

    Parameters
    ----------
    tokens : list of str
        The tokens after ``<pad>`` and ``<unk>``, in id order.
    lower : bool
        Whether texts are lower-cased before lookup (must match how it was built).
    """

    def __init__(self, tokens=(), lower=True):
        self.lower = bool(lower)
        self.itos = [PAD, UNK]
        self.stoi = {PAD: 0, UNK: 1}
        for token in tokens:
            if token in self.stoi:
                raise ValueError(f"Vocabulary: token {token!r} appears twice")
            self.stoi[token] = len(self.itos)
            self.itos.append(token)

    @classmethod
    def build(cls, texts, min_freq=1, max_size=None, lower=True):
        """Count tokens of ``texts`` (strings, or lists of tokens) and keep those seen at least ``min_freq``
        times, the ``max_size`` most frequent at most (``max_size`` counts ``<pad>`` and ``<unk>``)."""
        if not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"Vocabulary.build: min_freq must be a positive int, got {min_freq!r}")
        if max_size is not None and (not isinstance(max_size, int) or max_size < 2):
            raise ValueError(f"Vocabulary.build: max_size must be an int >= 2 (room for <pad> and <unk>), got {max_size!r}")
        counts = collections.Counter()
        for tokens in _token_lists(texts, lower, "Vocabulary.build"):
            counts.update(tokens)
        counts.pop(PAD, None)
        counts.pop(UNK, None)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - 2]
        vocab = cls(kept, lower=lower)
        vocab.counts = dict(counts)
        return vocab

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __repr__(self):
        return f"Vocabulary({len(self)} tokens)"

    def lookup(self, tokens):
        """Ids of ``tokens`` (unknown tokens -> 1)."""
        return [self.stoi.get(t, 1) for t in tokens]

    def decode(self, ids, skip_padding=True):
        """Tokens of ``ids`` (padding dropped unless ``skip_padding=False``), joined by spaces."""
        ids = numpy.asarray(ids).reshape(-1)
        bad = ids[(ids < 0) | (ids >= len(self))]
        if bad.size:
            raise ValueError(f"Vocabulary.decode: id {int(bad[0])} is out of range for a vocabulary of {len(self)} tokens")
        return " ".join(self.itos[i] for i in ids.tolist() if not (skip_padding and i == 0))

    def encode(self, texts, max_length=None, truncate=True, padding="post"):
        """``encode(texts, self, ...)``: padded ids (N, L) and lengths (N,). See :func:`encode`."""
        return encode(texts, self, max_length=max_length, truncate=truncate, padding=padding)

    # -------------------------------------------------------------- persistence
    def to_dict(self):
        """JSON-able state: ``{"tokens": [...], "lower": bool}`` (``<pad>``/``<unk>`` not repeated)."""
        return {"tokens": self.itos[2:], "lower": self.lower}

    @classmethod
    def from_dict(cls, state):
        if not isinstance(state, dict) or "tokens" not in state:
            raise ValueError(f"Vocabulary.from_dict: expected a dict with 'tokens' (from to_dict()), got {state!r:.100}")
        return cls(state["tokens"], lower=state.get("lower", True))

    def to_json(self):
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def save(self, path):
        """Write the vocabulary as JSON to ``path``."""
        with atomic_write(path, "w") as f:  # a crash leaves the old file or the new, never half
            f.write(self.to_json())

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``."""
        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_json(f.read())
        except (json.JSONDecodeError, ValueError) as error:
            raise ValueError(f"Vocabulary.load: {os.fspath(path)!r} is not a saved vocabulary: {error}") from None

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.itos == other.itos and self.lower == other.lower


def pad_sequences(sequences, max_length=None, truncate=True, padding="post", pad_id=0, where="pad_sequences"):
    """Lists of ids -> ``(ids (N, L) int64, lengths (N,) int64)``; L = ``max_length`` or the longest.

    Sequences longer than ``max_length`` are cut at the end when ``truncate`` (a ValueError naming the
    longest otherwise). ``padding="post"`` puts the padding after the tokens (what ``lengths`` expects),
    ``"pre"`` before them. An empty sequence is an error (a recurrent layer needs at least one step).
    """
    if padding not in ("post", "pre"):
        raise ValueError(f"{where}: padding must be 'post' or 'pre', got {padding!r}")
    sequences = [list(s) for s in sequences]
    if not sequences:
        raise ValueError(f"{where}: no sequences to encode (got an empty list)")
    lengths = numpy.array([len(s) for s in sequences], dtype=numpy.int64)
    empty = numpy.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(
            f"{where}: sequence {int(empty[0])} is empty (no tokens); {empty.size} of {len(sequences)} are empty. "
            "Drop empty texts before encoding"
        )
    if max_length is None:
        max_length = int(lengths.max())
    elif not isinstance(max_length, (int, numpy.integer)) or max_length < 1:
        raise ValueError(f"{where}: max_length must be a positive int, got {max_length!r}")
    too_long = numpy.flatnonzero(lengths > max_length)
    if too_long.size and not truncate:
        worst = int(too_long[numpy.argmax(lengths[too_long])])
        raise ValueError(
            f"{where}: {too_long.size} sequences are longer than max_length={max_length}; the longest, "
            f"sequence {worst}, has {int(lengths[worst])} tokens. Pass truncate=True or a larger max_length"
        )
    lengths = numpy.minimum(lengths, max_length)
    ids = numpy.full((len(sequences), max_length), pad_id, dtype=numpy.int64)
    for i, (seq, n) in enumerate(zip(sequences, lengths.tolist())):
        if padding == "post":
            ids[i, :n] = seq[:n]
        else:
            ids[i, max_length - n:] = seq[:n]
    return ids, lengths


def encode(texts, vocab, max_length=None, truncate=True, padding="post"):
    """Tokenize and look up ``texts`` -> ``(ids (N, L) int64, lengths (N,) int64)``, padded with 0.

    ``max_length``: L (default: the longest text); longer texts are cut at the end if ``truncate``,
    else a ValueError names the longest. An empty text (no tokens) is a ValueError naming its index.
    """
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"encode: vocab must be a Vocabulary, got {type(vocab).__name__}")
    texts = texts if isinstance(texts, str) else list(texts)
    token_lists = _token_lists(texts, vocab.lower, "encode")
    for i, (text, tokens) in enumerate(zip(texts, token_lists)):
        if not tokens:
            raise ValueError(f"encode: text {i} is empty (no tokens): {text!r}")
    return pad_sequences([vocab.lookup(t) for t in token_lists], max_length, truncate, padding, where="encode")


def _class_indices(raw):
    """Labels as int64 class indices and the class names: integers are kept as they are (0..k-1),
    anything else is sorted (numerically when every label is a number) and numbered."""
    values = [r.strip() for r in raw]
    try:
        ints = [int(v) for v in values]
    except ValueError:
        ints = None
    if ints is not None and min(ints) >= 0:
        classes = sorted(set(ints))
        if classes == list(range(len(classes))):
            return numpy.array(ints, dtype=numpy.int64), classes
    names = sorted(set(values))
    try:
        names = sorted(names, key=float)
    except ValueError:
        pass
    index = {name: i for i, name in enumerate(names)}
    return numpy.array([index[v] for v in values], dtype=numpy.int64), names


def read_text_csv(path, text_column="text", label_column="label", encoding="utf-8"):
    """Read a CSV with a header row and a text column and a label column -> ``TextData(texts, labels, classes)``.

    Labels that are the integers 0..k-1 stay as they are; other labels (``pos``/``neg``) are sorted and
    numbered, and ``classes`` lists them in index order. An empty text is a ValueError naming the line.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_text_csv: no file {path!r}")
    texts, labels = [], []
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"read_text_csv: {path!r} is empty; expected a header row with {text_column!r} and {label_column!r}")
        header = [h.strip() for h in header]
        missing = [c for c in (text_column, label_column) if c not in header]
        if missing:
            raise ValueError(f"read_text_csv: {path!r} has no column {missing[0]!r}; its columns are {header}")
        t, l = header.index(text_column), header.index(label_column)
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"read_text_csv: {path!r} line {line} has {len(row)} fields, the header has {len(header)}")
            if not row[t].strip():
                raise ValueError(f"read_text_csv: {path!r} line {line}: the text is empty")
            if not row[l].strip():
                raise ValueError(f"read_text_csv: {path!r} line {line}: the label is empty")
            texts.append(row[t])
            labels.append(row[l])
    if not texts:
        raise ValueError(f"read_text_csv: {path!r} has a header but no rows")
    indices, classes = _class_indices(labels)
    return TextData(texts, indices, classes)


def read_imdb(root, split="train", classes=("neg", "pos"), encoding="utf-8", limit=None):
    """Read the IMDB review folder layout ``root/<split>/pos/*.txt``, ``root/<split>/neg/*.txt``.

    Returns ``TextData(texts, labels, classes)`` with label = index in ``classes`` (neg 0, pos 1), files in
    sorted order within each class. ``limit``: at most this many files per class. ``<br />`` tags are spaces.
    """
    root = os.fspath(root)
    base = os.path.join(root, split)
    if not os.path.isdir(base):
        raise FileNotFoundError(
            f"read_imdb: no folder {base!r}; expected the IMDB layout {root}/{split}/pos/*.txt and {root}/{split}/neg/*.txt"
        )
    texts, labels = [], []
    for index, name in enumerate(classes):
        folder = os.path.join(base, name)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"read_imdb: no folder {folder!r} for class {name!r}")
        files = sorted(f for f in os.listdir(folder) if f.endswith(".txt"))
        if not files:
            raise ValueError(f"read_imdb: folder {folder!r} has no .txt files")
        for filename in files[:limit]:
            with open(os.path.join(folder, filename), encoding=encoding) as f:
                text = f.read().replace("<br />", " ").strip()
            if not text:
                raise ValueError(f"read_imdb: {os.path.join(folder, filename)!r} is empty")
            texts.append(text)
            labels.append(index)
    return TextData(texts, numpy.array(labels, dtype=numpy.int64), list(classes))
