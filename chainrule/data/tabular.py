"""Tables from CSV files, and the fitted preprocessing that turns them into network inputs.

``read_csv`` parses a CSV file with pyarrow (the ``train`` extra) block by block into a
:class:`Table`: each column's numbers go straight into float64 arrays and its other cells into
category codes, so reading a 200 MB file takes about as much memory as its numbers (not a Python
string per cell), and file line numbers are found again only when an error message needs them.
:class:`TablePreprocessor` is fitted on the training split only and then applied to any
table with the same columns:

* numeric columns (every cell parses as a number) are standardised, ``(x - mean) / std``,
  with the training split's mean and (population) standard deviation; a constant column
  gets ``std = 1``;
* other columns are categorical and one-hot encoded over the categories seen in training,
  sorted. **A category not seen in training encodes as all zeros** (no column is hot), so
  prediction on new data never fails because of a new category;
* the target is encoded too: class labels <-> indices ``0..k-1`` for classification (labels
  sorted, numerically when they are numbers), and standardised values for regression
  (``inverse_target`` undoes it for predictions).

The fitted state is plain JSON (``to_dict`` / ``from_dict``) and is stored with the model in
``chainrule.save(..., extra=...)``. It is written in NumPy rather than with scikit-learn's
``StandardScaler``/``OneHotEncoder``: the logic is a few lines, its state is JSON by
construction, and the preprocessing needed to *use* a saved model then needs nothing beyond NumPy.

Missing values (empty cells, ``NaN``, ``NA``, ``N/A``, ``null``, ``None``, ``?``) are not
imputed: they raise :class:`DataError` naming the file, column and line, so the user decides
how to fill or drop them.

Columns that look numeric but are not read as numbers are refused, not one-hot encoded: numbers
written with a decimal comma (``1,5``; read them with ``read_csv(..., decimal=",")``) and a column of
numbers with a few text cells (``abc``): :class:`DataError` names the column, the cells and their
file lines. ``categorical=`` or ``drop=`` says what to do with such a column instead.
"""

import csv
import json
import os
import re
from collections.abc import Mapping

import numpy as np

__all__ = ["DataError", "Table", "read_csv", "TablePreprocessor", "infer_task", "MISSING"]

MISSING = frozenset({"", "nan", "na", "n/a", "null", "none", "?"})
"""Cell texts (compared lower-cased, stripped) that mean "no value"."""

_MAX_CLASSES_FOR_INTEGERS = 20  # an integer target with at most this many distinct values is a class label


class DataError(ValueError):
    """A problem with the user's data; ``str(error)`` is one line naming the file, column and row."""


# What a number looks like in a cell (stripped, "." as the decimal separator): the forms pyarrow's cast
# to float64 accepts, except "nan", which is a missing value here. The engine's fast path and the
# pure-Python path (tables built from strings) both follow this one definition.
_NUMBER = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
_NUMBER_RE = re.compile(_NUMBER)
_DECIMAL_COMMA_RE = re.compile(r"[+-]?(?:[0-9]+,[0-9]*|,[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BLOCK_BYTES = 16 << 20  # bytes of CSV text the engine parses at a time
_EXAMPLES = 5  # bad cells quoted in one error message


# --------------------------------------------------------------------------------- columns
class _Column:
    """One column's cells: float64 ``values`` (NaN where a cell is text) and int32 ``codes`` into
    ``texts`` (-1 where a cell is a number); either is None when no cell is of its kind.

    A whole table of these costs 8 bytes per numeric cell (4 more for a column with text), instead of
    a Python string per cell.
    """

    __slots__ = ("values", "codes", "texts", "missing")

    def __init__(self, values, codes, texts):
        self.values, self.codes, self.texts = values, codes, list(texts)
        self.missing = np.array([text.lower() in MISSING for text in self.texts], dtype=bool)


class _ColumnBuilder:
    """Collects one column chunk by chunk (see :func:`_split_texts` / :func:`_split_arrow`)."""

    def __init__(self):
        self.values, self.codes, self.sizes, self.index = [], [], [], {}

    def add(self, n, values, text_rows, local_codes, local_texts):
        """``n`` cells: ``values`` (float64, or None when none is a number) and the text cells at
        ``text_rows`` as ``local_codes`` into ``local_texts`` (None when there is none)."""
        self.sizes.append(n)
        self.values.append(values)
        if text_rows is None:
            self.codes.append(None)
            return
        mapping = np.array([self.index.setdefault(text, len(self.index)) for text in local_texts], dtype=np.int32)
        codes = np.full(n, -1, dtype=np.int32)
        codes[text_rows] = mapping[local_codes]
        self.codes.append(codes)

    def finish(self):
        return _Column(_join(self.values, self.sizes, np.float64, np.nan),
                       _join(self.codes, self.sizes, np.int32, -1), self.index)


def _join(pieces, sizes, dtype, fill):
    """The chunks as one array (None if every chunk is None), freeing each chunk once copied so that
    the peak is the whole column plus one chunk."""
    if all(piece is None for piece in pieces):
        return None
    out = np.empty(sum(sizes), dtype=dtype)
    start = 0
    for k, size in enumerate(sizes):
        out[start:start + size] = fill if pieces[k] is None else pieces[k]
        pieces[k] = None
        start += size
    return out


def _parse_number(text, decimal):
    """``text`` (stripped) as a float when it is a number in the sense of ``_NUMBER``, else None."""
    if decimal == ",":
        if "." in text:
            return None
        text = text.replace(",", ".")
    return float(text) if _NUMBER_RE.fullmatch(text) else None


def _split_texts(texts, decimal="."):
    """Cell strings -> the arguments of :meth:`_ColumnBuilder.add` (the pure-Python path)."""
    texts = [text.strip() for text in texts]
    values = np.full(len(texts), np.nan)
    index, text_rows, local_codes = {}, [], []
    for i, text in enumerate(texts):
        number = _parse_number(text, decimal)
        if number is None:
            text_rows.append(i)
            local_codes.append(index.setdefault(text, len(index)))
        else:
            values[i] = number
    if not text_rows:
        return len(texts), values, None, None, None
    return (len(texts), values if len(text_rows) < len(texts) else None, np.array(text_rows, dtype=np.int64),
            np.array(local_codes, dtype=np.int64), list(index))


def _split_arrow(column, decimal, pa, pc):
    """One chunk of an all-string pyarrow column -> the arguments of :meth:`_ColumnBuilder.add`.

    Fast path: the whole chunk casts to float64 (a numeric column). Otherwise cells are stripped, those
    matching ``_NUMBER`` cast, and the rest dictionary-encoded.
    """
    def numeric_form(strings):  # with a decimal comma, "1.5" must not pass as a number
        if decimal == ",":
            return pc.replace_substring(pc.replace_substring(strings, ".", "#"), ",", ".")
        return strings

    n = len(column)
    try:
        # a failing cast costs about 0.6 us a cell (pyarrow builds its error), so try a few cells first
        pc.cast(numeric_form(column.slice(0, 64)), pa.float64())
        cast = pc.cast(numeric_form(column), pa.float64())
        is_text = pc.is_nan(cast)  # "nan" casts, but is a missing value here
        stripped = None
    except pa.ArrowInvalid:
        stripped = pc.utf8_trim_whitespace(column)
        candidates = numeric_form(stripped)
        is_number = pc.match_substring_regex(candidates, f"^{_NUMBER}$")
        try:
            cast = pc.cast(pc.if_else(is_number, candidates, pa.nulls(n, pa.string())), pa.float64())
        except pa.ArrowInvalid:  # a form the pattern accepts and the cast does not: decide in Python
            return _split_texts(column.to_pylist(), decimal)
        is_text = pc.invert(is_number)
    # Read through the buffers: pyarrow's own copying conversions import pandas (0.4 s) when it is
    # installed. Copied out of pyarrow's memory pool, which would otherwise keep every chunk's pages.
    values = _arrow_values(cast, np.float64).copy()
    text_rows = _arrow_values(pc.indices_nonzero(is_text), np.uint64).astype(np.int64)
    if len(text_rows) == 0:
        return n, values, None, None, None
    values[text_rows] = np.nan  # a text cell's slot holds whatever the cast left there
    encoded = pc.dictionary_encode(pc.filter(stripped if stripped is not None else pc.utf8_trim_whitespace(column),
                                             is_text))
    return (n, values if len(text_rows) < n else None, text_rows,
            _arrow_values(encoded.indices, np.int32), encoded.dictionary.to_pylist())


def _arrow_values(array, dtype):
    """The values of a fixed-width pyarrow array as a NumPy view (slots of null cells hold anything)."""
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=array.offset + len(array))[array.offset:]


def _format_number(value):
    """A number as the text of a category: integers without ".0" (so codes 1, 2, 3 read as "1", "2", "3")."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


class _Lines:
    """The file line of every data row, found on first use (only error messages need them)."""

    def __init__(self, lines=None, scan=None):
        self._lines, self._scan = (None if lines is None else np.asarray(lines, dtype=np.int64)), scan

    def get(self):
        if self._lines is None:
            self._lines = self._scan()
        return self._lines


class _Cells(Mapping):
    """``table.cells``: column name -> list of cell strings, built when a column is asked for."""

    def __init__(self, table):
        self._table = table

    def __getitem__(self, name):
        if name not in self._table._data:
            raise KeyError(name)
        return self._table.column(name)

    def __contains__(self, name):
        return name in self._table._data

    def __iter__(self):
        return iter(self._table.columns)

    def __len__(self):
        return len(self._table.columns)


# ----------------------------------------------------------------------------------- table
class Table:
    """A CSV file's content: column names and, per column, the cells (numbers kept as float64).

    Parameters
    ----------
    path : str
        The file it came from (used in error messages).
    columns : list of str
        Column names, in file order.
    cells : dict
        Column name -> list of cell strings, one per data row.
    lines : sequence of int
        The file line number of each data row (the header is line 1), for error messages.
    decimal : {".", ","}
        The decimal separator of numbers in ``cells``.

    Attributes ``path``, ``columns``, ``cells`` (a read-only mapping, column -> list of strings; a
    number reads back as its shortest text, ``"1.50"`` as ``"1.5"``) and ``lines`` (list of int).
    """

    def __init__(self, path, columns, cells, lines, decimal="."):
        columns = list(columns)
        data = {}
        for name in columns:
            builder = _ColumnBuilder()
            builder.add(*_split_texts(cells[name], decimal))
            data[name] = builder.finish()
        lines = list(lines)
        self._setup(path, columns, data, len(lines), _Lines(lines), None)

    @classmethod
    def _from_columns(cls, path, columns, data, n_rows, lines, rows=None):
        table = cls.__new__(cls)
        table._setup(path, columns, data, n_rows, lines, rows)
        return table

    def _setup(self, path, columns, data, n_rows, lines, rows):
        self.path, self.columns, self._data, self._lines, self._rows = path, list(columns), data, lines, rows
        self._n = n_rows if rows is None else len(rows)

    def __len__(self):
        return self._n

    def __repr__(self):
        return f"Table({self.path!r}, {len(self)} rows, columns={self.columns})"

    @property
    def cells(self):
        return _Cells(self)

    @property
    def lines(self):
        lines = self._lines.get()
        return (lines if self._rows is None else lines[self._rows]).tolist()

    def _line(self, i):
        lines = self._lines.get()
        return int(lines[i if self._rows is None else self._rows[i]])

    def _get(self, name):
        """Column ``name``: (its _Column, values, codes) for this table's rows."""
        self._require(name)
        col = self._data[name]
        if self._rows is None:
            return col, col.values, col.codes
        take = (lambda a: None if a is None else a[self._rows])
        return col, take(col.values), take(col.codes)

    def _require(self, name):
        if name not in self._data:
            raise DataError(f"{self.path}: no column {name!r}; the columns are {', '.join(map(repr, self.columns))}")

    def _keys(self, name):
        """Column ``name`` as (keys, inverse): each row's cell is ``keys[inverse[row]]`` (strings)."""
        col, values, codes = self._get(name)
        inverse = np.zeros(len(self), dtype=np.int64) if codes is None else codes.astype(np.int64)
        keys = list(col.texts)
        if values is not None:
            numbers = np.flatnonzero(inverse < 0) if codes is not None else slice(None)
            unique, where = np.unique(values[numbers], return_inverse=True)
            inverse[numbers] = len(keys) + where.reshape(-1)
            keys += [_format_number(v) for v in unique]
        return keys, inverse

    def column(self, name):
        """The cells of column ``name`` as strings; a :class:`DataError` lists the columns if there is none."""
        keys, inverse = self._keys(name)
        return np.array(keys, dtype=object)[inverse].tolist() if len(self) else []

    def take(self, rows):
        """A new table with only the data rows at the given positions (e.g. a train/test split); it
        shares this table's arrays (no copy of the cells)."""
        rows = np.asarray([int(i) for i in rows] if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
        rows = np.arange(self._n)[rows]  # negative positions and bounds, as a list would check them
        if self._rows is not None:
            rows = self._rows[rows]
        return Table._from_columns(self.path, self.columns, self._data, len(rows), self._lines, rows)

    def numbers(self, name):
        """Column ``name`` as float64 values; a :class:`DataError` names the first cell that is missing or
        not a finite number (and counts and quotes the others)."""
        col, values, codes = self._get(name)
        text = codes >= 0 if codes is not None else np.zeros(len(self), dtype=bool)
        bad = text if values is None else text | ~np.isfinite(np.where(text, 0.0, values))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            if text[first]:
                self._check_missing(name, first)  # raises when the cell is a missing value
            raise DataError(self._not_numbers(name, np.flatnonzero(bad), "expected a finite number"))
        return values.copy() if self._rows is None else values

    def _cell(self, name, i):
        col, values, codes = self._get(name)
        return col.texts[codes[i]] if codes is not None and codes[i] >= 0 else _format_number(values[i])

    def _not_numbers(self, name, rows, what):
        """One line: the first bad cell with its line, how many more, a few of them, and a hint."""
        texts = [self._cell(name, int(i)) for i in rows[:_EXAMPLES]]
        message = f"{self.path}: column {name!r}, line {self._line(int(rows[0]))}: {what}, got {texts[0]!r}"
        if len(rows) > 1:
            more = ", ".join(f"{t!r} (line {self._line(int(i))})" for t, i in zip(texts[1:], rows[1:_EXAMPLES]))
            message += f" ({len(rows) - 1} more: {more}{', ...' if len(rows) > _EXAMPLES else ''})"
        if any(_DECIMAL_COMMA_RE.fullmatch(t) for t in texts):
            message += "; the numbers seem to use a decimal comma: read the file with read_csv(..., decimal=',')"
        return message

    def is_numeric(self, name):
        """Whether every cell of ``name`` that is not missing is a number (and at least one is)."""
        col, values, codes = self._get(name)
        if values is None:
            return False
        return codes is None or bool(np.all(col.missing[codes[codes >= 0]]))

    def suspicion(self, name):
        """A message when column ``name`` looks numeric but is not read as numbers, else None: numbers
        with a decimal comma, or a mostly numeric column with a few text cells (``"abc"`` among numbers)."""
        col, values, codes = self._get(name)
        if codes is None:
            return None
        text = (codes >= 0) & ~col.missing[np.maximum(codes, 0)]
        n_text = int(text.sum())
        if n_text == 0:
            return None
        rows = np.flatnonzero(text)
        present = [col.texts[k] for k in np.unique(codes[rows])]
        if all(_DECIMAL_COMMA_RE.fullmatch(t) for t in present):
            return (f"{self.path}: column {name!r}, line {self._line(int(rows[0]))}: {present[0]!r} looks like a "
                    f"number with a decimal comma; read the file with read_csv(..., decimal=',') (or use "
                    f"categorical=[{name!r}] if these are labels)")
        n_numbers = len(self) - int((codes >= 0).sum()) if values is not None else 0
        if n_numbers >= n_text:
            return (self._not_numbers(name, rows, f"{n_numbers} cells are numbers but {n_text} are not")
                    + f"; correct or remove those rows, or pass categorical=[{name!r}] (--categorical {name}) to "
                      f"treat the column as categories, or drop=[{name!r}] (--drop {name})")
        return None

    def _distinct(self, name):
        """The set of cell strings of ``name`` (the categories of a categorical column)."""
        keys, inverse = self._keys(name)
        return {keys[k] for k in np.unique(inverse)}

    def _category_index(self, name, categories):
        """Each row's position in ``categories`` (strings), -1 for a cell that is not one of them."""
        keys, inverse = self._keys(name)
        position = {category: j for j, category in enumerate(categories)}
        lookup = np.array([position.get(key, -1) for key in keys] or [-1], dtype=np.int64)
        return lookup[inverse]

    def check_missing(self, columns=None):
        """Raise :class:`DataError` for the first missing cell in ``columns`` (default: all)."""
        for name in self.columns if columns is None else columns:
            col, _, codes = self._get(name)
            if codes is None or not col.missing.any():
                continue
            missing = (codes >= 0) & col.missing[np.maximum(codes, 0)]
            if missing.any():
                self._check_missing(name, int(np.flatnonzero(missing)[0]))

    def _check_missing(self, name, i):
        text = self._cell(name, i)
        if text.lower() in MISSING:
            what = "an empty cell" if text == "" else f"a missing value ({text!r})"
            raise DataError(f"{self.path}: column {name!r}, line {self._line(i)}: {what}; fill in or drop rows "
                            f"with missing values before training (chainrule does not impute)")


def _number(text):
    """``text`` as a float, or None if it is not a number. ``nan`` counts as a number here
    only so that missing-value checks can name it."""
    try:
        return float(text)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- reading
def _engine():
    """pyarrow and its csv and compute modules; a clear ImportError naming the extra when missing."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.csv
    except ImportError as error:
        raise ImportError("chainrule's read_csv needs pyarrow (its CSV engine), which comes with the 'train' "
                          "extra: pip install 'chainrule[train]' (or pip install pyarrow)") from error
    return pyarrow, pyarrow.csv, pyarrow.compute


def read_csv(path, delimiter=None, encoding="utf-8-sig", *, sep=None, decimal=".", block_size=None):
    """Read a CSV file with a header row into a :class:`Table`.

    The file is parsed with pyarrow in blocks of ``block_size`` bytes (default 16 MiB), each block's
    cells going straight into per-column float64 values or category codes, so memory stays near the
    size of the numbers, not of the text.

    Parameters
    ----------
    delimiter, sep : str, optional
        The field separator (``sep`` is an alias); sniffed among ``, ; tab |`` when not given.
    encoding : str
        The file's text encoding (a UTF-8 byte-order mark is skipped).
    decimal : {".", ","}
        The decimal separator of numbers. With ``"."`` a column of numbers such as ``1,5`` is not read as
        numbers, and :class:`TablePreprocessor` and :func:`infer_task` refuse it with a message that
        suggests ``decimal=","``. A comma can be both the delimiter and the decimal separator when the
        numbers are quoted (``"1,5"``).

    Raises :class:`DataError` for a missing or unreadable file, a missing header, duplicate column
    names, or a row with the wrong number of cells (naming the line).
    """
    if sep is not None and delimiter is not None and sep != delimiter:
        raise ValueError(f"read_csv: sep={sep!r} and delimiter={delimiter!r} disagree; give one of them")
    delimiter = delimiter if delimiter is not None else sep
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\""):
        raise ValueError(f"read_csv: delimiter must be one character (not a quote or line break), got {delimiter!r}")
    if decimal not in (".", ","):
        raise ValueError(f"read_csv: decimal must be '.' or ',', got {decimal!r}")
    if block_size is not None and (not isinstance(block_size, int) or block_size < 1):
        raise ValueError(f"read_csv: block_size must be a positive number of bytes, got {block_size!r}")
    pa, pacsv, pc = _engine()
    path = os.fspath(path)
    columns, delimiter = _read_header(path, delimiter, encoding)
    names = [f"c{j}" for j in range(len(columns))]
    builders = [_ColumnBuilder() for _ in columns]
    n_rows = 0
    arrow_encoding = "utf8" if encoding.lower().replace("_", "-") in ("utf-8", "utf-8-sig", "utf8") else encoding
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding=arrow_encoding,
                                           block_size=block_size or _BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        for batch in reader:
            n_rows += batch.num_rows
            for builder, column in zip(builders, batch.columns):
                builder.add(*_split_arrow(column, decimal, pa, pc))
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        # pyarrow names no line: find it with the standard library (raises the located DataError)
        _scan_lines(path, delimiter, encoding, len(columns))
        raise DataError(f"{path}: not valid CSV ({str(error).splitlines()[0]})") from None
    if not n_rows:
        raise DataError(f"{path}: the file has a header but no data rows")
    data = {name: builder.finish() for name, builder in zip(columns, builders)}
    # pyarrow's allocator keeps the parsed blocks' pages for reuse (about 200 MB after a 200 MB file);
    # hand them back before the feature matrix is allocated
    pa.default_memory_pool().release_unused()
    lines = _Lines(scan=lambda: _scan_lines(path, delimiter, encoding, len(columns)))
    return Table._from_columns(path, columns, data, n_rows, lines)


def _opened(path, encoding, action):
    """Run ``action(file)`` on the opened text file, turning OS and decoding errors into DataError."""
    try:
        with open(path, newline="", encoding=encoding) as file:
            return action(file)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a text file in {encoding} ({error.reason} at byte {error.start}); "
                        f"expected a CSV file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None


def _read_header(path, delimiter, encoding):
    """The stripped, checked column names and the delimiter (sniffed when None)."""
    def header(file):
        sample = file.read(64 * 1024)
        file.seek(0)
        found = delimiter if delimiter is not None else _sniff_delimiter(sample)
        try:
            row = next(csv.reader(file, delimiter=found), None)
        except csv.Error as error:
            raise DataError(f"{path}: line 1: not valid CSV ({error})") from None
        return row, found

    row, delimiter = _opened(path, encoding, header)
    if row is None or not any(cell.strip() for cell in row):
        raise DataError(f"{path}: the file is empty; expected a CSV file with a header row of column names")
    columns = [cell.strip() for cell in row]
    _check_header(path, columns)
    return columns, delimiter


def _scan_lines(path, delimiter, encoding, n_columns):
    """The file line of each data row (int64), read with the standard library; raises DataError for a
    row with the wrong number of cells. Empty lines are skipped (and counted), as pyarrow skips them."""
    def scan(file):
        reader = csv.reader(file, delimiter=delimiter)
        next(reader, None)
        lines = []
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != n_columns:
                    raise DataError(f"{path}: line {reader.line_num}: expected {n_columns} cells (one per column "
                                    f"of the header), got {len(row)}")
                lines.append(reader.line_num)
        except csv.Error as error:
            raise DataError(f"{path}: line {reader.line_num}: not valid CSV ({error})") from None
        return np.array(lines, dtype=np.int64)

    return _opened(path, encoding, scan)


def _sniff_delimiter(sample):
    first = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _check_header(path, columns):
    seen = set()
    for i, name in enumerate(columns):
        if not name:
            raise DataError(f"{path}: line 1: column {i + 1} of the header has no name")
        if name in seen:
            raise DataError(f"{path}: line 1: the column name {name!r} appears twice in the header")
        seen.add(name)


def infer_task(table, target):
    """``"classification"`` if the target column is not numeric, or holds only integers with at most
    20 distinct values; ``"regression"`` otherwise."""
    table.check_missing([target])
    if not table.is_numeric(target):
        problem = table.suspicion(target)
        if problem:  # numbers with a decimal comma, or "abc" among numbers: not a label column
            raise DataError(problem + " (or give the task: task='classification', --task classification)")
        return "classification"
    values = table.numbers(target)
    if np.all(values == np.round(values)) and len(np.unique(values)) <= _MAX_CLASSES_FOR_INTEGERS:
        return "classification"
    return "regression"


def _label(text, numeric):
    """The canonical class label for a cell: a number (int when integral) or the stripped string."""
    if not numeric:
        return text
    value = float(text)
    return int(value) if value == int(value) else value


class TablePreprocessor:
    """Fitted preprocessing from a :class:`Table` to float32 features (and encoded targets).

    Parameters
    ----------
    target : str or None
        The target column (excluded from the features). None for features only.
    task : {"classification", "regression"} or None
        Inferred from the target column at ``fit`` when None (see :func:`infer_task`).
    features : list of str, optional
        Feature columns; default all columns except the target and ``drop``.
    categorical : list of str, optional
        Columns to one-hot encode even if they look numeric (e.g. integer codes).
    drop : list of str, optional
        Columns to ignore (identifiers, free text).

    Fitted attributes (names end in ``_``): ``task_``, ``numeric_`` (column -> [mean, std]),
    ``categories_`` (column -> list of categories), ``classes_`` (classification),
    ``target_mean_``/``target_std_`` (regression), ``feature_names_`` (one per output column,
    ``"colour=red"`` for one-hot columns).
    """

    def __init__(self, target=None, task=None, features=None, categorical=None, drop=None):
        if task not in (None, "classification", "regression"):
            raise ValueError(f"TablePreprocessor: task must be 'classification', 'regression' or None, got {task!r}")
        self.target, self.task = target, task
        self.features, self.categorical, self.drop = features, categorical, drop

    # ----------------------------------------------------------------- fitting
    def fit(self, table):
        """Learn column types, standardisation statistics, categories and classes from ``table``
        (the training split only). Returns ``self``."""
        if self.target is not None:
            table.column(self.target)
        for name in list(self.drop or []) + list(self.categorical or []) + list(self.features or []):
            table.column(name)
        excluded = {self.target, *(self.drop or [])}
        features = list(self.features) if self.features is not None else [c for c in table.columns
                                                                         if c not in excluded]
        if not features:
            raise DataError(f"{table.path}: no feature columns left (columns: {', '.join(table.columns)}; "
                            f"target: {self.target!r})")
        table.check_missing(features + ([self.target] if self.target is not None else []))
        forced = set(self.categorical or [])
        self.columns_ = features
        self.numeric_, self.categories_ = {}, {}
        for name in features:
            if name not in forced and table.is_numeric(name):
                values = table.numbers(name)
                mean, std = float(values.mean()), float(values.std())
                self.numeric_[name] = [mean, std if std > 0 else 1.0]
                continue
            problem = None if name in forced else table.suspicion(name)
            if problem:  # would silently become hundreds of one-hot columns
                raise DataError(problem)
            self.categories_[name] = sorted(table._distinct(name))
        if self.target is not None:
            self._fit_target(table)
        return self

    def _fit_target(self, table):
        self.task_ = self.task or infer_task(table, self.target)
        numeric = table.is_numeric(self.target)
        if self.task_ == "regression":
            if not numeric:
                values = table.column(self.target)
                i = next(i for i, text in enumerate(values) if _number(text) is None)
                raise DataError(f"{table.path}: column {self.target!r}, line {table.lines[i]}: regression needs a "
                                f"numeric target, got {values[i]!r} (use --task classification for labels)")
            values = table.numbers(self.target)
            std = float(values.std())
            self.target_mean_, self.target_std_ = float(values.mean()), std if std > 0 else 1.0
            self.classes_ = None
        else:
            labels = {_label(text, numeric) for text in table.column(self.target)}
            if len(labels) < 2:
                raise DataError(f"{table.path}: column {self.target!r}: classification needs at least two classes, "
                                f"found only {sorted(labels)!r}")
            self.classes_ = sorted(labels)
            self.target_mean_ = self.target_std_ = None

    # ------------------------------------------------------------- transforming
    @property
    def feature_names_(self):
        names = []
        for name in self.columns_:
            if name in self.numeric_:
                names.append(name)
            else:
                names.extend(f"{name}={category}" for category in self.categories_[name])
        return names

    @property
    def n_features_(self):
        return len(self.numeric_) + sum(len(c) for c in self.categories_.values())

    def transform(self, table, dtype=np.float32):
        """Features of ``table`` as an array ``(n_rows, n_features_)``; unknown categories -> all zeros."""
        self._check_fitted()
        missing = [name for name in self.columns_ if name not in table.cells]
        if missing:
            raise DataError(f"{table.path}: missing column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(map(repr, missing))} that the model was trained with; the file has "
                            f"{', '.join(map(repr, table.columns))}")
        table.check_missing(self.columns_)
        # One preallocated matrix, filled column by column: the peak is the matrix plus one float64 column.
        out = np.empty((len(table), self.n_features_), dtype=dtype)
        j = 0
        for name in self.columns_:
            if name in self.numeric_:
                mean, std = self.numeric_[name]
                out[:, j] = (table.numbers(name) - mean) / std
                j += 1
            else:
                categories = self.categories_[name]
                block = out[:, j:j + len(categories)]
                block[...] = 0
                index = table._category_index(name, categories)
                rows = np.flatnonzero(index >= 0)  # unknown category: the row stays all zeros
                block[rows, index[rows]] = 1
                j += len(categories)
        return out

    def transform_array(self, x, dtype=np.float32):
        """Standardise an array whose columns are already the (all numeric) feature columns, in
        ``columns_`` order: the fast path for image pixels, equal to ``transform`` of the same table."""
        self._check_fitted()
        if self.categories_:
            raise ValueError(f"TablePreprocessor.transform_array: the columns {', '.join(self.categories_)} are "
                             f"categorical; use transform(table)")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.columns_):
            raise ValueError(f"TablePreprocessor.transform_array: expected shape (n, {len(self.columns_)}), "
                             f"got {x.shape}")
        stats = np.array([self.numeric_[name] for name in self.columns_]).reshape(-1, 2)
        return ((x - stats[:, 0]) / stats[:, 1]).astype(dtype)

    def transform_target(self, table, column=None, dtype=np.float32):
        """The encoded target: class indices (int64, shape ``(n,)``) or standardised values (``(n, 1)``, ``dtype``).

        ``column`` reads the target from a differently named column (default: ``target``).
        """
        self._check_fitted(target=True)
        column = column or self.target
        table.check_missing([column])
        if self.task_ == "regression":
            return ((table.numbers(column) - self.target_mean_) / self.target_std_)[:, None].astype(dtype)
        numeric = all(isinstance(c, (int, float)) for c in self.classes_)
        index = {c: j for j, c in enumerate(self.classes_)}
        cells = table.column(column)
        encoded = np.empty(len(cells), dtype=np.int64)
        for i, text in enumerate(cells):
            label = _label(text, numeric) if (not numeric or _number(text) is not None) else text
            if label not in index:
                raise DataError(f"{table.path}: column {column!r}, line {table.lines[i]}: class {text!r} was not "
                                f"seen in training; known classes: {', '.join(map(str, self.classes_))}")
            encoded[i] = index[label]
        return encoded

    def target_values(self, table, column=None):
        """The target column in original units: float64 values (regression) or class indices (classification)."""
        self._check_fitted(target=True)
        if self.task_ == "regression":
            table.check_missing([column or self.target])
            return table.numbers(column or self.target)
        return self.transform_target(table, column=column)

    def inverse_target(self, values):
        """Predictions back to the user's units: standardised values -> values, class indices -> labels."""
        self._check_fitted(target=True)
        values = np.asarray(values)
        if self.task_ == "regression":
            return values.reshape(len(values), -1)[:, 0].astype(np.float64) * self.target_std_ + self.target_mean_
        return [self.classes_[int(i)] for i in values]

    def _check_fitted(self, target=False):
        if not hasattr(self, "columns_"):
            raise RuntimeError("TablePreprocessor is not fitted yet; call fit(train_table) first")
        if target and not hasattr(self, "task_"):
            raise RuntimeError("TablePreprocessor was fitted without a target column")

    # -------------------------------------------------------------- JSON state
    def to_dict(self):
        """The fitted state as a JSON-able dict (stored with the model)."""
        self._check_fitted()
        state = {"kind": "TablePreprocessor", "version": 1, "target": self.target, "columns": self.columns_,
                 "numeric": self.numeric_, "categories": self.categories_}
        if hasattr(self, "task_"):
            state.update(task=self.task_, classes=self.classes_, target_mean=self.target_mean_,
                         target_std=self.target_std_)
        return state

    @classmethod
    def from_dict(cls, state):
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output."""
        if not isinstance(state, dict) or state.get("kind") != "TablePreprocessor":
            raise ValueError(f"TablePreprocessor.from_dict: expected the dict written by to_dict(), got {state!r:.200}")
        self = cls(target=state["target"], task=state.get("task"))
        self.columns_ = list(state["columns"])
        self.numeric_ = {k: [float(m), float(s)] for k, (m, s) in state["numeric"].items()}
        self.categories_ = {k: list(v) for k, v in state["categories"].items()}
        if "task" in state:
            self.task_ = state["task"]
            self.classes_ = state.get("classes")
            self.target_mean_, self.target_std_ = state.get("target_mean"), state.get("target_std")
        return self

    def to_json(self):
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def __repr__(self):
        if not hasattr(self, "columns_"):
            return f"TablePreprocessor(target={self.target!r}, task={self.task!r})"
        return (f"TablePreprocessor(target={self.target!r}, task={getattr(self, 'task_', None)!r}, "
                f"{len(self.numeric_)} numeric + {len(self.categories_)} categorical columns -> "
                f"{self.n_features_} features)")
