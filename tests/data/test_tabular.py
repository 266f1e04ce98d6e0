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
