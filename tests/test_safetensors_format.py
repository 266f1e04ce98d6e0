"""chainrule/safetensors_format.py: the JSON pre-scan agrees with what json.loads builds, also across chunks."""

import json

import pytest

from chainrule import safetensors_format
from chainrule.safetensors_format import ModelFileError, json_extent, parse_json

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Strings full of what the scan must not count: quotes, backslashes, brackets, commas and colons.
tricky_text = st.text(alphabet='"\\[]{},: ab\u00e9', max_size=6)
values = st.recursive(
    st.none() | st.integers(-5, 5) | tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=12,
)


def extent(value):
    """(depth, items) counted from the parsed value: what json_extent must find in its text."""
    if isinstance(value, list):
        inner = [extent(v) for v in value]
        return 1 + max((d for d, _ in inner), default=0), 1 + max(len(value) - 1, 0) + sum(n for _, n in inner)
    if isinstance(value, dict):
        inner = [extent(v) for v in value.values()]
        return (1 + max((d for d, _ in inner), default=0),
                1 + len(value) + max(len(value) - 1, 0) + sum(n for _, n in inner))
    return 0, 0


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(value=values, chunk=st.sampled_from([1, 2, 3, 7, 1 << 20]), ascii=st.booleans())
def test_json_extent_counts_only_structure(value, chunk, ascii):
    text = json.dumps(value, ensure_ascii=ascii).encode("utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(safetensors_format, "_CHUNK", chunk)  # small chunks: strings and escapes cross them
        assert json_extent(text) == extent(value)


def test_parse_json_limits():
    assert parse_json("f", b'{"a": [[1]]}', "header", 3) == {"a": [[1]]}
    with pytest.raises(ModelFileError, match="nests 4 levels deep; at most 3"):
        parse_json("f", b'{"a": [[[1]]]}', "header", 3)
    with pytest.raises(ModelFileError, match="the key 'a' twice"):
        parse_json("f", '{"a": 1, "b": {}, "a": 2}', "'extra' metadata", 3)
    with pytest.raises(ModelFileError, match="about 1048577 JSON values"):
        parse_json("f", "[" + "0," * 2**20 + "0]", "'extra' metadata", 3)
    with pytest.raises(ModelFileError, match="not UTF-8"):
        parse_json("f", b'{"a": "\xff"}', "header", 3)
