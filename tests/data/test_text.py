"""Text preparation (chainrule/data/text.py) and the bundled sentence corpus."""

import numpy as np
import pytest

from chainrule.data.text import Vocabulary, encode, pad_sequences, read_imdb, read_text_csv, tokenize
from chainrule.datasets import load_sentences


def test_tokenize_words_and_punctuation():
    assert tokenize("Don't STOP -- it's great!") == ["don't", "stop", "-", "-", "it's", "great", "!"]
    assert tokenize("Hello, World.", lower=False) == ["Hello", ",", "World", "."]
    assert tokenize("   ") == []
    with pytest.raises(TypeError, match="tokenize: text must be a str, got int"):
        tokenize(3)


def test_vocabulary_frequency_order_min_freq_max_size():
    texts = ["the cat sat", "the dog sat", "the cat ran", "a bird"]
    vocab = Vocabulary.build(texts)
    assert vocab.itos[:5] == ["<pad>", "<unk>", "the", "cat", "sat"]  # by count, ties alphabetical
    assert len(Vocabulary.build(texts, min_freq=2)) == 2 + 3
    small = Vocabulary.build(texts, max_size=4)
    assert small.itos == ["<pad>", "<unk>", "the", "cat"]
    assert small.lookup(["the", "zebra"]) == [2, 1]


def test_encode_pads_truncates_and_reports_lengths():
    vocab = Vocabulary.build(["a b c d", "a b"])
    ids, lengths = encode(["a b c d e", "b a", "c"], vocab)
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(lengths, [5, 2, 1])
    np.testing.assert_array_equal(ids, [[2, 3, 4, 5, 1], [3, 2, 0, 0, 0], [4, 0, 0, 0, 0]])
    ids, lengths = vocab.encode(["a b c d e", "b a"], max_length=3)
    np.testing.assert_array_equal(ids, [[2, 3, 4], [3, 2, 0]])
    np.testing.assert_array_equal(lengths, [3, 2])
    ids, _ = vocab.encode(["b a"], max_length=3, padding="pre")
    np.testing.assert_array_equal(ids, [[0, 3, 2]])
    assert vocab.decode(ids[0]) == "b a"


def test_encode_errors_name_argument_and_values():
    vocab = Vocabulary.build(["a b"])
    with pytest.raises(ValueError, match=r"encode: text 1 is empty \(no tokens\): '  '"):
        encode(["a", "  "], vocab)
    with pytest.raises(ValueError, match=r"longer than max_length=2; the longest, sequence 1, has 4 tokens"):
        encode(["a", "a b a b", "b b b"], vocab, max_length=2, truncate=False)
    with pytest.raises(ValueError, match="max_length must be a positive int, got 0"):
        encode(["a"], vocab, max_length=0)
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        encode("a b", vocab)
    with pytest.raises(ValueError, match="sequence 0 is empty"):
        pad_sequences([[], [1]])
    with pytest.raises(ValueError, match="id 9 is out of range for a vocabulary of 4 tokens"):
        vocab.decode([9])


def test_vocabulary_json_round_trip(tmp_path):
    vocab = Vocabulary.build(["Über café, naïve!", "café"], lower=True)
    assert Vocabulary.from_json(vocab.to_json()) == vocab
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.lookup(["café"]) == vocab.lookup(["café"])
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="bad.json' is not a saved vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")


def test_read_text_csv(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,text,label\n1,"Great, really great.",pos\n2,Awful.,neg\n\n3,"Fine, I guess",pos\n')
    texts, labels, classes = read_text_csv(path)
    assert texts == ["Great, really great.", "Awful.", "Fine, I guess"]
    assert classes == ["neg", "pos"] and labels.tolist() == [1, 0, 1]
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("text,label\nyes,1\nno,0\n")
    assert read_text_csv(numeric).labels.tolist() == [1, 0]


def test_read_text_csv_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("sentence,label\nhi,1\n")
    with pytest.raises(ValueError, match=r"has no column 'text'; its columns are \['sentence', 'label'\]"):
        read_text_csv(path)
    path.write_text('text,label\nhi,1\n"",0\n')
    with pytest.raises(ValueError, match="r.csv' line 3: the text is empty"):
        read_text_csv(path)
    with pytest.raises(FileNotFoundError, match="no file"):
        read_text_csv(tmp_path / "missing.csv")


def test_read_imdb_layout(tmp_path):
    for label, reviews in {"pos": ["Loved it.<br />Really.", "Great fun"], "neg": ["Dull."]}.items():
        folder = tmp_path / "train" / label
        folder.mkdir(parents=True)
        for i, text in enumerate(reviews):
            (folder / f"{i}_7.txt").write_text(text)
    texts, labels, classes = read_imdb(tmp_path, "train")
    assert texts == ["Dull.", "Loved it. Really.", "Great fun"]
    assert labels.tolist() == [0, 1, 1] and classes == ["neg", "pos"]
    with pytest.raises(FileNotFoundError, match=r"expected the IMDB layout .*/test/pos/\*\.txt"):
        read_imdb(tmp_path, "test")


def test_bundled_sentences_are_balanced_and_distinct():
    texts, labels, classes = load_sentences()
    assert len(texts) >= 300 and len(set(texts)) == len(texts)
    assert classes == ["negative", "positive"] and labels.sum() * 2 == len(labels)
    assert all(tokenize(t) for t in texts)


def test_vocabulary_saved_with_the_model(tmp_path):
    from chainrule.io import load_checkpoint, save
    from chainrule.nn import Embedding

    vocab = Vocabulary.build(["the film was great", "the food was awful"])
    model = Embedding(len(vocab), 4, padding_idx=0, seed=0)
    save(model, tmp_path / "m.safetensors", extra={"vocab": vocab.to_dict()})
    restored = Embedding(len(vocab), 4, padding_idx=0, seed=1)
    extra = load_checkpoint(tmp_path / "m.safetensors", restored)
    assert Vocabulary.from_dict(extra["vocab"]) == vocab
    np.testing.assert_array_equal(restored.weight.data, model.weight.data)
