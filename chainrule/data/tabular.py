"""Tables from CSV files, and the fitted preprocessing that turns them into network inputs.

``read_csv`` reads a CSV file with the standard library (pandas is not needed) into a
:class:`Table` of string cells, remembering each row's line number for error messages.
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
"""

import csv
import json
import math
import os

import numpy as np

__all__ = ["DataError", "Table", "read_csv", "TablePreprocessor", "infer_task", "MISSING"]

MISSING = frozenset({"", "nan", "na", "n/a", "null", "none", "?"})
"""Cell texts (compared lower-cased, stripped) that mean "no value"."""

_MAX_CLASSES_FOR_INTEGERS = 20  # an integer target with at most this many distinct values is a class label


class DataError(ValueError):
    """A problem with the user's data; ``str(error)`` is one line naming the file, column and row."""


class Table:
    """A CSV file's content: column names and, per column, the cell texts (stripped).

    Attributes
    ----------
    path : str
        The file it came from (used in error messages).
    columns : list of str
        Column names, in file order.
    cells : dict
        Column name -> list of cell strings, one per data row.
    lines : list of int
        The file line number of each data row (the header is line 1), for error messages.
    """

    def __init__(self, path, columns, cells, lines):
        self.path, self.columns, self.cells, self.lines = path, list(columns), dict(cells), list(lines)

    def __len__(self):
        return len(self.lines)

    def __repr__(self):
        return f"Table({self.path!r}, {len(self)} rows, columns={self.columns})"

    def column(self, name):
        """The cells of column ``name``; a :class:`DataError` lists the columns if there is none."""
        if name not in self.cells:
            raise DataError(f"{self.path}: no column {name!r}; the columns are {', '.join(map(repr, self.columns))}")
        return self.cells[name]

    def take(self, rows):
        """A new table with only the data rows at the given positions (e.g. a train/test split)."""
        rows = [int(i) for i in rows]
        return Table(self.path, self.columns, {c: [v[i] for i in rows] for c, v in self.cells.items()},
                     [self.lines[i] for i in rows])

    def numbers(self, name):
        """Column ``name`` as float64 values; a :class:`DataError` names the first cell that is missing or not a number."""
        cells = self.column(name)
        values = np.empty(len(cells), dtype=np.float64)
        for i, text in enumerate(cells):
            value = _number(text)
            if value is None or not math.isfinite(value):
                self._check_missing(name, i)
                raise DataError(f"{self.path}: column {name!r}, line {self.lines[i]}: expected a finite number, "
                                f"got {text!r}")
            values[i] = value
        return values

    def is_numeric(self, name):
        """Whether every cell of ``name`` parses as a number."""
        return all(_number(text) is not None for text in self.column(name))

    def check_missing(self, columns=None):
        """Raise :class:`DataError` for the first missing cell in ``columns`` (default: all)."""
        for name in self.columns if columns is None else columns:
            cells = self.column(name)
            for i, text in enumerate(cells):
                if text.lower() in MISSING:
                    self._check_missing(name, i)

    def _check_missing(self, name, i):
        text = self.cells[name][i]
        if text.lower() in MISSING:
            what = "an empty cell" if text == "" else f"a missing value ({text!r})"
            raise DataError(f"{self.path}: column {name!r}, line {self.lines[i]}: {what}; fill in or drop rows "
                            f"with missing values before training (chainrule does not impute)")


def _number(text):
    """``text`` as a float, or None if it is not a number. ``nan`` counts as a number here
    only so that missing-value checks can name it."""
    try:
        return float(text)
    except ValueError:
        return None


def read_csv(path, delimiter=None, encoding="utf-8-sig"):
    """Read a CSV file with a header row into a :class:`Table` (cells as stripped strings).

    ``delimiter`` is sniffed from the first lines among ``, ; tab |`` when not given. Raises
    :class:`DataError` for a missing or unreadable file, a missing header, duplicate column
    names, or a row with the wrong number of cells (naming the line).
    """
    path = os.fspath(path)
    try:
        with open(path, newline="", encoding=encoding) as file:
            sample = file.read(64 * 1024)
            file.seek(0)
            if delimiter is None:
                delimiter = _sniff_delimiter(sample)
            reader = csv.reader(file, delimiter=delimiter)
            header = next(reader, None)
            if header is None or not any(cell.strip() for cell in header):
                raise DataError(f"{path}: the file is empty; expected a CSV file with a header row of column names")
            columns = [cell.strip() for cell in header]
            _check_header(path, columns)
            rows, lines = [], []
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                if len(row) != len(columns):
                    raise DataError(f"{path}: line {reader.line_num}: expected {len(columns)} cells (one per column "
                                    f"of the header), got {len(row)}")
                rows.append([cell.strip() for cell in row])
                lines.append(reader.line_num)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a text file in {encoding} ({error.reason} at byte {error.start}); "
                        f"expected a CSV file") from None
    except csv.Error as error:
        raise DataError(f"{path}: line {reader.line_num}: not valid CSV ({error})") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    if not rows:
        raise DataError(f"{path}: the file has a header but no data rows")
    cells = {name: [row[j] for row in rows] for j, name in enumerate(columns)}
    return Table(path, columns, cells, lines)


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
            else:
                self.categories_[name] = sorted(set(table.column(name)))
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
        blocks = []
        for name in self.columns_:
            if name in self.numeric_:
                mean, std = self.numeric_[name]
                blocks.append(((table.numbers(name) - mean) / std)[:, None])
            else:
                categories = self.categories_[name]
                index = {category: j for j, category in enumerate(categories)}
                onehot = np.zeros((len(table), len(categories)), dtype=np.float64)
                for i, text in enumerate(table.column(name)):
                    j = index.get(text)
                    if j is not None:  # unknown category: the row stays all zeros
                        onehot[i, j] = 1.0
                blocks.append(onehot)
        return np.concatenate(blocks, axis=1).astype(dtype)

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
