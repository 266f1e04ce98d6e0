"""CSV reading and fitted table preprocessing (chainrule/data/tabular.py)."""

import json

import numpy as np
import pytest

from chainrule.data.tabular import DataError, TablePreprocessor, infer_task, read_csv


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def table(tmp_path):
    return read_csv(write(tmp_path, "size, colour ,label\n1.0,red,yes\n2.0,blue,no\n\n3.0,red,yes\n6.0,green,no\n"))


def test_read_csv_strips_cells_skips_blank_lines_and_keeps_line_numbers(table):
    assert table.columns == ["size", "colour", "label"]
    assert table.cells["colour"] == ["red", "blue", "red", "green"]
    assert table.lines == [2, 3, 5, 6]  # the blank line 4 is skipped but still counted
    assert len(table) == 4


def test_read_csv_sniffs_semicolons(tmp_path):
    table = read_csv(write(tmp_path, "a;b\n1;x\n2;y\n"))
    assert table.columns == ["a", "b"] and table.cells["a"] == ["1", "2"]


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        read_csv(str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("text, pattern", [
    ("", "empty"),
    ("a,b\n", "no data rows"),
    ("a,a\n1,2\n", "appears twice"),
    ("a,b\n1,2\n3\n", "line 3: expected 2 cells"),
])
def test_malformed_files(tmp_path, text, pattern):
    with pytest.raises(DataError, match=pattern):
        read_csv(write(tmp_path, text))


def test_binary_file_is_a_data_error(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x80")
    with pytest.raises(DataError, match="not a text file"):
        read_csv(str(path))


def test_fit_standardises_numeric_columns_and_one_hot_encodes_the_rest(table):
    pre = TablePreprocessor(target="label").fit(table)
    x = pre.transform(table)
    assert x.dtype == np.float32 and x.shape == (4, 4)
    assert pre.feature_names_ == ["size", "colour=blue", "colour=green", "colour=red"]
    size = np.array([1.0, 2.0, 3.0, 6.0])
    np.testing.assert_allclose(x[:, 0], (size - size.mean()) / size.std(), rtol=1e-6)
    np.testing.assert_array_equal(x[:, 1:], [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert pre.task_ == "classification" and pre.classes_ == ["no", "yes"]
    np.testing.assert_array_equal(pre.transform_target(table), [1, 0, 1, 0])
    assert pre.inverse_target([0, 1]) == ["no", "yes"]


def test_statistics_come_from_the_fitted_split_only_and_unknown_categories_are_all_zeros(tmp_path, table):
    pre = TablePreprocessor(target="label").fit(table.take([0, 1]))  # sizes 1, 2; colours red, blue
    assert pre.numeric_["size"] == [1.5, 0.5]
    new = read_csv(write(tmp_path, "colour,size\npurple,3.5\nblue,1\n", "new.csv"))  # no target, other order
    x = pre.transform(new)
    np.testing.assert_allclose(x, [[4.0, 0, 0], [-1.0, 1, 0]])


def test_constant_numeric_column_does_not_divide_by_zero(tmp_path):
    table = read_csv(write(tmp_path, "c,y\n5,1.5\n5,2.5\n5,7\n"))
    pre = TablePreprocessor(target="y").fit(table)
    np.testing.assert_array_equal(pre.transform(table), np.zeros((3, 1)))


def test_regression_target_is_standardised_and_inverted(tmp_path):
    table = read_csv(write(tmp_path, "x,y\n1,10.5\n2,20.25\n3,30\n4,41.75\n"))
    pre = TablePreprocessor(target="y").fit(table)
    assert pre.task_ == "regression" and pre.classes_ is None
    y = pre.transform_target(table)
    assert y.shape == (4, 1) and y.dtype == np.float32
    np.testing.assert_allclose(y.mean(), 0, atol=1e-6)
    np.testing.assert_allclose(pre.inverse_target(y), [10.5, 20.25, 30, 41.75], rtol=1e-6)


@pytest.mark.parametrize("column, expected", [
    ("label", "classification"),   # text
    ("small_int", "classification"),  # few integer values
    ("many_int", "regression"),    # more than 20 distinct integers
    ("real", "regression"),
])
def test_infer_task(tmp_path, column, expected):
    rows = [f"{'ab'[i % 2]},{i % 3},{i},{i / 7}" for i in range(30)]
    table = read_csv(write(tmp_path, "label,small_int,many_int,real\n" + "\n".join(rows) + "\n"))
    assert infer_task(table, column) == expected


def test_numeric_class_labels_are_sorted_numerically_and_kept_as_numbers(tmp_path):
    table = read_csv(write(tmp_path, "x,y\n1,10\n2,9\n3,10.0\n4,2\n"))
    pre = TablePreprocessor(target="y", task="classification").fit(table)
    assert pre.classes_ == [2, 9, 10]
    np.testing.assert_array_equal(pre.transform_target(table), [2, 1, 2, 0])


def test_json_round_trip_gives_identical_transforms(tmp_path, table):
    pre = TablePreprocessor(target="label").fit(table)
    again = TablePreprocessor.from_json(json.dumps(json.loads(pre.to_json())))
    np.testing.assert_array_equal(again.transform(table), pre.transform(table))
    np.testing.assert_array_equal(again.transform_target(table), pre.transform_target(table))
    assert again.classes_ == pre.classes_ and again.feature_names_ == pre.feature_names_


def test_unknown_target_column_lists_the_columns(table):
    with pytest.raises(DataError, match=r"no column 'price'; the columns are 'size', 'colour', 'label'"):
        TablePreprocessor(target="price").fit(table)


def test_non_numeric_regression_target_names_file_column_and_line(table):
    with pytest.raises(DataError, match=r"data\.csv: column 'label', line 2: regression needs a numeric target"):
        TablePreprocessor(target="label", task="regression").fit(table)


@pytest.mark.parametrize("cell, what", [("", "an empty cell"), ("NaN", "a missing value"), ("?", "a missing value")])
def test_missing_values_name_file_column_and_line(tmp_path, cell, what):
    table = read_csv(write(tmp_path, f"a,b,y\n1,x,0\n2,y,1\n{cell},z,1\n"))
    with pytest.raises(DataError) as info:
        TablePreprocessor(target="y").fit(table)
    message = str(info.value)
    assert "data.csv" in message and "column 'a'" in message and "line 4" in message and what in message
    assert "\n" not in message


def test_text_in_a_numeric_column_at_predict_time(tmp_path, table):
    pre = TablePreprocessor(target="label").fit(table)
    bad = read_csv(write(tmp_path, "size,colour\n1,red\nbig,red\n", "bad.csv"))
    with pytest.raises(DataError, match=r"bad\.csv: column 'size', line 3: expected a finite number, got 'big'"):
        pre.transform(bad)


def test_missing_feature_column_at_predict_time(tmp_path, table):
    pre = TablePreprocessor(target="label").fit(table)
    with pytest.raises(DataError, match=r"missing column 'colour'"):
        pre.transform(read_csv(write(tmp_path, "size\n1\n", "few.csv")))


def test_unseen_class_in_target(tmp_path, table):
    pre = TablePreprocessor(target="label").fit(table)
    other = read_csv(write(tmp_path, "size,colour,label\n1,red,maybe\n", "other.csv"))
    with pytest.raises(DataError, match=r"class 'maybe' was not seen in training; known classes: no, yes"):
        pre.transform_target(other)


def test_drop_and_forced_categorical_columns(tmp_path):
    table = read_csv(write(tmp_path, "id,code,y\n1,3,a\n2,1,b\n3,3,a\n"))
    pre = TablePreprocessor(target="y", drop=["id"], categorical=["code"]).fit(table)
    assert pre.feature_names_ == ["code=1", "code=3"]
    np.testing.assert_array_equal(pre.transform(table), [[0, 1], [1, 0], [0, 1]])


# ------------------------------------------------------------------ the pyarrow engine (issue 14)
def write_bytes(tmp_path, data, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("text, kwargs", [
    ("a;b;y\n1,5;x;0\n2,25;y;1\n-0,5;x;1\n", {}),             # semicolons, sniffed
    ('a,b,y\n"1,5",x,0\n"2,25",y,1\n"-0,5",x,1\n', {}),       # commas, the numbers quoted
])
def test_decimal_comma_is_refused_with_a_hint_then_read_with_decimal_comma(tmp_path, text, kwargs):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=r"column 'a', line 2: '1,5' looks like a number with a decimal comma; "
                                        r"read the file with read_csv\(\.\.\., decimal=','\)"):
        TablePreprocessor(target="y").fit(read_csv(path))
    table = read_csv(path, decimal=",")
    np.testing.assert_array_equal(table.numbers("a"), [1.5, 2.25, -0.5])
    pre = TablePreprocessor(target="y").fit(table)
    assert pre.feature_names_ == ["a", "b=x", "b=y"]


def test_decimal_comma_target_is_refused_by_infer_task(tmp_path):
    table = read_csv(write(tmp_path, "x;y\n1;1,5\n2;2,5\n"))
    with pytest.raises(DataError, match="decimal comma"):
        infer_task(table, "y")


def test_decimal_comma_reading_does_not_take_a_point_as_decimal(tmp_path):
    table = read_csv(write(tmp_path, "a;b\n1,5;1.234\n2;7\n"), decimal=",")
    np.testing.assert_array_equal(table.numbers("a"), [1.5, 2.0])
    assert not table.is_numeric("b")


def test_text_among_numbers_names_column_values_and_lines(tmp_path):
    rows = [f"{i},{'abc' if i == 3 else 'n.a.' if i == 6 else i / 4},{i % 2}" for i in range(10)]
    table = read_csv(write(tmp_path, "id,x,y\n" + "\n".join(rows) + "\n"))
    with pytest.raises(DataError) as info:
        TablePreprocessor(target="y").fit(table)
    message = str(info.value)
    assert "column 'x', line 5: 8 cells are numbers but 2 are not, got 'abc' (1 more: 'n.a.' (line 8))" in message
    assert "categorical=['x']" in message and "\n" not in message
    # the user's way out: the column as categories (numbers read back as their shortest text)
    pre = TablePreprocessor(target="y", categorical=["x"]).fit(table)
    assert "x=abc" in pre.feature_names_ and "x=0.25" in pre.feature_names_ and "x=0" in pre.feature_names_


def test_text_target_among_numbers_is_refused_by_infer_task_but_not_with_a_given_task(tmp_path):
    table = read_csv(write(tmp_path, "x,y\n1,1.5\n2,2.5\n3,oops\n4,4.5\n"))
    with pytest.raises(DataError, match=r"column 'y', line 4: .* got 'oops'"):
        infer_task(table, "y")
    assert TablePreprocessor(target="y", task="classification").fit(table).classes_ == ["1.5", "2.5", "4.5", "oops"]


def test_a_text_column_stays_categorical(tmp_path):
    table = read_csv(write(tmp_path, "size,y\nS,0\nM,1\nL,0\n40,1\n"))  # more text than numbers
    pre = TablePreprocessor(target="y").fit(table)
    assert pre.feature_names_ == ["size=40", "size=L", "size=M", "size=S"]


def test_quoted_fields_bom_and_crlf(tmp_path):
    data = '\ufeffname,"note",x\r\n"Smith, J.","two\r\nlines",1.5\r\nLee,"say ""hi""",2\r\n'.encode("utf-8")
    table = read_csv(write_bytes(tmp_path, data))
    assert table.columns == ["name", "note", "x"]
    assert table.cells["name"] == ["Smith, J.", "Lee"]
    assert table.cells["note"] == ["two\r\nlines", 'say "hi"']
    np.testing.assert_array_equal(table.numbers("x"), [1.5, 2.0])
    assert table.lines == [3, 4]  # the line where each row ends, as the csv module counts


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n", b"a,b\n", b"a,b\r\n\r\n"])
def test_empty_and_header_only_files(tmp_path, data):
    with pytest.raises(DataError, match="empty|no data rows"):
        read_csv(write_bytes(tmp_path, data))


def test_short_row_in_a_later_block_names_its_line(tmp_path):
    rows = [f"{i},{i}" for i in range(200)]
    rows[150] = "7"
    with pytest.raises(DataError, match=r"line 152: expected 2 cells"):
        read_csv(write(tmp_path, "a,b\n" + "\n".join(rows) + "\n"), block_size=256)


def test_chunked_read_gives_exactly_the_matrix_of_one_read(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        colour = ["red", "green", " blue "][i % 3]
        rows.append(f"{rng.standard_normal() * 100:.3f},{colour},{rng.integers(0, 5)},{i * 0.5},{'ab'[i % 2]}")
    rows[250] = rows[250].replace("green", "purple")  # a category only a late block sees
    path = write(tmp_path, "x,colour,code,z,y\n" + "\n".join(rows) + "\n")
    whole, chunked = read_csv(path), read_csv(path, block_size=200)
    assert len(chunked._data["colour"].texts) == 4
    pre = TablePreprocessor(target="y", categorical=["code"]).fit(whole)
    again = TablePreprocessor(target="y", categorical=["code"]).fit(chunked)
    assert again.to_dict() == pre.to_dict() and "colour=purple" in pre.feature_names_
    np.testing.assert_array_equal(again.transform(chunked), pre.transform(whole))
    assert chunked.cells["colour"] == whole.cells["colour"] and chunked.lines == whole.lines == list(range(2, 302))


def test_the_same_table_from_strings_and_from_a_file(tmp_path, table):
    from chainrule.data.tabular import Table

    built = Table("built", table.columns, {c: list(table.cells[c]) for c in table.columns}, table.lines)
    pre = TablePreprocessor(target="label").fit(table)
    np.testing.assert_array_equal(pre.transform(built), pre.transform(table))


def test_take_shares_the_arrays_and_keeps_lines(table):
    part = table.take([3, 0])
    assert part.lines == [6, 2] and part.cells["colour"] == ["green", "red"]
    assert part.take([1]).cells["size"] == ["1"]  # "1.0" reads back as its shortest text
    assert part._data is table._data


def test_missing_engine_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(ImportError, match=r"needs pyarrow .* pip install 'chainrule\[train\]'"):
        read_csv(write(tmp_path, "a\n1\n"))


@pytest.mark.parametrize("kwargs, pattern", [
    ({"decimal": ";"}, "decimal must be"),
    ({"delimiter": ";;"}, "delimiter must be one character"),
    ({"delimiter": ",", "sep": ";"}, "disagree"),
    ({"block_size": 0}, "block_size must be"),
])
def test_bad_reader_arguments(tmp_path, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        read_csv(write(tmp_path, "a\n1\n"), **kwargs)


def test_sep_is_an_alias_of_delimiter(tmp_path):
    table = read_csv(write(tmp_path, "a|b\n1|2\n"), sep="|")
    assert table.columns == ["a", "b"] and table.numbers("b").tolist() == [2.0]


def test_invalid_utf8_in_a_later_block_is_a_data_error(tmp_path):
    path = write_bytes(tmp_path, b"a,b\n" + b"1,x\n" * 100 + b"2,\xff\n")
    with pytest.raises(DataError, match=r"not a text file in utf-8-sig \(invalid start byte at byte 406\)"):
        read_csv(path, block_size=100)


def test_decimal_comma_at_predict_time_gets_the_hint(tmp_path, table):
    pre = TablePreprocessor(target="label").fit(table)
    new = read_csv(write(tmp_path, "size;colour\n1,5;red\n2;blue\n", "new.csv"))
    with pytest.raises(DataError, match=r"column 'size', line 2: expected a finite number, got '1,5'; .*decimal=','"):
        pre.transform(new)
    np.testing.assert_allclose(pre.transform(read_csv(str(tmp_path / "new.csv"), decimal=","))[:, 0],
                               (np.array([1.5, 2.0]) - 3.0) / np.std([1.0, 2.0, 3.0, 6.0]), rtol=1e-6)
