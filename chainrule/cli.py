"""The ``chainrule`` command: train, evaluate and predict with networks from the shell.

    chainrule train                                   # an MLP on scikit-learn's digits (8x8 images)
    chainrule train --model cnn                       # a small CNN on the same images
    chainrule train --data houses.csv --target price  # your own table (classification or regression)
    chainrule evaluate runs/houses-001/model.safetensors --data test.csv --target price
    chainrule predict runs/houses-001/model.safetensors --data new.csv --out predictions.csv

``train`` splits off a seeded, stratified test set (20% by default) before anything is fitted,
fits the preprocessing on the training part only, trains with a progress bar, prints the test
metrics and writes into its output folder: ``model.safetensors`` (weights, architecture and
the fitted preprocessing), ``history.json``, ``history.csv`` and ``metrics.json``.

Problems with the user's input (missing files, unknown columns, non-numeric regression
targets, missing values, foreign model files) print one line ``chainrule: error: ...`` naming
the file, column and line, and exit with status 2, without a traceback.

Every file is written atomically (``chainrule._atomic``): a crash or ``kill -9`` leaves each
output whole or absent, never torn. ``train`` locks its output folder while it runs (a second
run into it is refused, status 2; the OS drops the lock of a killed run) and refuses a folder
that already holds a run unless ``--overwrite``, which removes the old run's files when the new
results are ready, so a folder never mixes two runs. A file that cannot be written (disk full,
file-size limit, read-only folder) is one line naming it, exit status 1; what was already
saved stays.
"""

import argparse
import contextlib
import csv
import io as _io
import json
import math
import os
import sys
import time

import numpy as np

__all__ = ["main", "build_parser"]

_DIGITS_DEFAULTS = {"hidden": "128", "epochs": 30, "batch_size": 32, "lr": 2e-3, "schedule": "cosine"}
_TABLE_DEFAULTS = {"hidden": "64,32", "epochs": 200, "batch_size": 32, "lr": 1e-3, "schedule": "constant"}
_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU", "elu": "ELU",
                "leaky_relu": "LeakyReLU"}


class UserError(Exception):
    """A problem with the command line's input, reported as one line and exit status 2."""


class OutputError(Exception):
    """An output could not be written (disk full, file-size limit, read-only folder): one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (like every other error of the command)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# =================================================================== arguments
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text!r}")
    return value


def _fraction_or_zero(text):
    return 0.0 if text.strip() in ("0", "0.0") else _fraction(text)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _hidden(text):
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()] if text.strip() else []
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 64,32, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _columns(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser():
    """The ``argparse`` parser of the ``chainrule`` command."""
    from . import __version__

    parser = _Parser(
        prog="chainrule", description="Train, evaluate and use backpropagation networks (chainrule).",
        epilog="Run 'chainrule train' with no arguments to train an MLP on scikit-learn's digits.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--threads", type=_non_negative_int, default=1, metavar="N",
                        help="BLAS threads (default 1, best for the small networks trained here, and robust on a "
                             "busy machine; 0: the BLAS library's default)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train", parents=[common], help="train a network (default: an MLP on the digits images)",
        description="Train a network on scikit-learn's digits (no --data) or on a CSV file, print test "
                    "metrics and save the model, its preprocessing and its history to an output folder.")
    data = train.add_argument_group("data")
    data.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row (default: the digits)")
    _add_csv_format(data)
    data.add_argument("--target", metavar="COLUMN", help="the column to predict (required with --data)")
    data.add_argument("--task", choices=["classification", "regression"],
                      help="default: inferred (non-numeric or few integer values -> classification)")
    data.add_argument("--drop", type=_columns, default=[], metavar="COL,...",
                      help="columns to ignore (identifiers, free text)")
    data.add_argument("--categorical", type=_columns, default=[], metavar="COL,...",
                      help="numeric columns to one-hot encode anyway (integer codes)")
    data.add_argument("--test-size", type=_fraction, default=0.2, metavar="FRACTION",
                      help="share of the rows held out for the test metrics (default 0.2)")
    data.add_argument("--validation-split", type=_fraction_or_zero, default=0.1, metavar="FRACTION",
                      help="share of the training rows held out for the validation loss per epoch (default 0.1; "
                           "0: none)")
    data.add_argument("--augment", dest="augment", action="store_true", default=None,
                      help="digits: add one-pixel shifted copies of the training images (default for --model mlp)")
    data.add_argument("--no-augment", dest="augment", action="store_false",
                      help="digits: train on the images as they are (default for --model cnn, whose pooling "
                           "already tolerates small shifts)")
    model = train.add_argument_group("model")
    model.add_argument("--model", choices=["mlp", "cnn"], default="mlp",
                       help="mlp (default) or cnn (digits only: a small CNN on the 1x8x8 images)")
    model.add_argument("--hidden", type=_hidden, metavar="SIZES",
                       help=f"hidden layer sizes (default {_DIGITS_DEFAULTS['hidden']} for digits, "
                            f"{_TABLE_DEFAULTS['hidden']} for tables)")
    model.add_argument("--activation", choices=sorted(_ACTIVATIONS), default="relu", help="default relu")
    model.add_argument("--dropout", type=_fraction_or_zero, default=0.0, metavar="P",
                       help="dropout after each hidden layer (default 0)")
    fitting = train.add_argument_group("training")
    fitting.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd", "rmsprop", "adagrad"],
                         help="default adam")
    fitting.add_argument("--lr", type=_positive_float,
                         help=f"learning rate (default {_DIGITS_DEFAULTS['lr']:g} for digits, "
                              f"{_TABLE_DEFAULTS['lr']:g} for tables)")
    fitting.add_argument("--schedule", choices=["constant", "cosine"],
                         help="learning-rate schedule (default cosine for digits, constant for tables)")
    fitting.add_argument("--epochs", type=_positive_int,
                         help=f"default {_DIGITS_DEFAULTS['epochs']} for digits, {_TABLE_DEFAULTS['epochs']} for "
                              f"tables (with early stopping on the validation loss)")
    fitting.add_argument("--batch-size", type=_positive_int, help="default 32")
    fitting.add_argument("--seed", type=int, default=0, help="seed of the splits, weights and batches (default 0)")
    output = train.add_argument_group("output")
    output.add_argument("--out", metavar="DIR", help="output folder (default: a new runs/<name>-NNN)")
    output.add_argument("--overwrite", action="store_true",
                        help="replace the run already saved in --out DIR (by default such a folder is refused)")
    output.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only the results")

    evaluate = commands.add_parser("evaluate", parents=[common], help="print a saved model's metrics on a CSV file",
                                   description="Print the metrics of a saved model on a CSV file that has "
                                               "the target column.")
    evaluate.add_argument("model", metavar="MODEL", help="a model file written by 'chainrule train'")
    evaluate.add_argument("--data", required=True, metavar="FILE.csv", help="a CSV file with the feature columns")
    _add_csv_format(evaluate)
    evaluate.add_argument("--target", metavar="COLUMN",
                          help="the target column (default: the one the model was trained on)")
    evaluate.add_argument("--report", metavar="FILE.html",
                          help="where to write the HTML report (default: report-<data name>.html beside the model)")

    predict = commands.add_parser("predict", parents=[common], help="write a saved model's predictions for a CSV file",
                                  description="Write predictions as CSV: the predicted label or value, and for "
                                              "classification one probability column per class.")
    predict.add_argument("model", metavar="MODEL", help="a model file written by 'chainrule train'")
    predict.add_argument("--data", required=True, metavar="FILE.csv", help="a CSV file with the feature columns")
    _add_csv_format(predict)
    predict.add_argument("--out", metavar="FILE", help="write the CSV here instead of to standard output")
    return parser


def _add_csv_format(parser):
    """--delimiter and --decimal: how the CSV file is written (the same for train, evaluate and predict)."""
    parser.add_argument("--delimiter", metavar="CHAR", help="the field separator (default: detected; e.g. ';')")
    parser.add_argument("--decimal", default=".", choices=[".", ","],
                        help="the decimal mark of the numbers (default '.'; ',' for files such as 1,5;2,25)")


def _read_table(args):
    """The --data CSV file, read with the --delimiter and --decimal given."""
    from .data.tabular import read_csv

    return read_csv(args.data, delimiter=args.delimiter, decimal=args.decimal)


# =================================================================== entry point
def main(argv=None):
    """Run the ``chainrule`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version and usage errors (argparse exits with 2)
        return exit.code if isinstance(exit.code, int) else 0
    from .data.tabular import DataError
    from .io import ModelFileError

    handlers = {"train": _train, "evaluate": _evaluate, "predict": _predict}
    try:
        with _blas_threads(args.threads):
            handlers[args.command](args)
    except OutputError as error:
        return _fail(error, status=1)
    except (UserError, DataError, ModelFileError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        return _fail(error)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if _is_non_finite(error):  # training diverged: the message names epoch, batch and likely causes
            return _fail(error)
        raise
    return 0


@contextlib.contextmanager
def _blas_threads(threads):
    """Limit the BLAS library's threads while the command runs (with threadpoolctl, which comes with
    scikit-learn; nothing happens without it). The networks this command trains are small, so one
    thread loses little, and it avoids the stalls of busy-waiting BLAS threads on a machine whose
    cores are busy with other work, which can make training many times slower."""
    if not threads:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def _fail(error, status=2):
    message = str(error) if not isinstance(error, OSError) or not error.filename else \
        f"{error.filename}: {error.strerror}"
    print("chainrule: error: " + " ".join(message.split()), file=sys.stderr)
    return status


def _is_non_finite(error):
    try:
        from .train.errors import NonFiniteError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, NonFiniteError)


# ======================================================================= train
def _train(args):
    started = time.perf_counter()
    data = _digits_data(args) if args.data is None else _table_data(args)
    defaults = _DIGITS_DEFAULTS if args.data is None else _TABLE_DEFAULTS
    hidden = args.hidden if args.hidden is not None else _hidden(defaults["hidden"])
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    lr = args.lr or defaults["lr"]
    schedule = args.schedule or defaults["schedule"]
    task, preprocessor = data["task"], data["preprocessor"]
    n_out = len(preprocessor.classes_) if task == "classification" else 1

    model, description = _build_model(args, preprocessor.n_features_, hidden, n_out)
    with _output_folder(args.out, data["name"], args.overwrite) as out_dir:
        _say(args, f"chainrule train: {data['source']}: {data['n_rows']} rows, {preprocessor.n_features_} features, "
                   f"{'%d classes' % n_out if task == 'classification' else 'regression'}; "
                   f"{data['n_train']} for training, " + (f"{len(data['validation'][1])} for validation, "
                                                          if data["validation"] is not None else "")
                   + f"{len(data['y_test'])} held out for testing")
        for note in data["notes"]:
            _say(args, note)
        _say(args, f"model: {description}; {args.optimizer} lr={lr:g} ({schedule}), {epochs} epochs, "
                   f"batch {batch_size}")

        # ---- train
        history, train_seconds = _fit(args, model, data, task, epochs, batch_size, lr, schedule)

        # ---- test
        x_test, y_test = data["x_test"], data["y_test"]
        y_pred, y_proba, values = _predict_arrays(model, x_test, task, preprocessor)
        if task == "classification":
            metrics = _classification_metrics(y_test, y_pred)
        else:
            metrics = _regression_metrics(preprocessor.inverse_target(y_test), values)
        elapsed = time.perf_counter() - started
        print(f"test metrics ({len(y_test)} held-out rows):")
        _print_metrics(metrics)

        # ---- save
        from . import io

        extra = {"chainrule_cli": 1, "task": task, "source": data["source"], "target": preprocessor.target,
                 "preprocessing": preprocessor.to_dict(), "input_shape": data["input_shape"],
                 "classes": preprocessor.classes_ if task == "classification" else None,
                 "test_metrics": metrics,
                 "train_args": {"model": args.model, "hidden": hidden, "activation": args.activation,
                                "dropout": args.dropout, "optimizer": args.optimizer, "lr": lr, "schedule": schedule,
                                "epochs": epochs, "batch_size": batch_size, "seed": args.seed,
                                "test_size": args.test_size, "validation_split": args.validation_split}}
        _remove_previous_run(out_dir)  # --overwrite: the folder never holds files of two runs
        model_path = os.path.join(out_dir, "model.safetensors")
        with _writing(model_path):
            io.save(model, model_path, extra=extra)
        records = _history_records(history)
        _write_json(os.path.join(out_dir, "history.json"), records)
        _write_history_csv(os.path.join(out_dir, "history.csv"), records)
        _write_json(os.path.join(out_dir, "metrics.json"),
                    {"task": task, "test": metrics, "n_train": data["n_train"], "n_test": len(y_test),
                     "train_seconds": round(train_seconds, 3), "elapsed_seconds": round(elapsed, 3)})
        report = _write_report({"out_dir": out_dir, "model": model, "history": history, "metrics": metrics,
                                "task": task, "y_true": y_test if task == "classification" else
                                preprocessor.inverse_target(y_test),
                                "y_pred": y_pred if task == "classification" else values, "y_proba": y_proba,
                                "class_names": preprocessor.classes_ if task == "classification" else None,
                                "source": data["source"], "args": args})
        print(f"elapsed {elapsed:.1f} s (training {train_seconds:.1f} s)")
        print(f"saved model, history and metrics to {out_dir}{os.sep}" + (f" (report: {report})" if report else ""))


def _digits_data(args):
    """The digits, split (test, then validation) before anything is fitted; training images augmented."""
    from .data.digits import DIGITS_TARGET, digits_table, load_digits, shifted_copies
    from .data.tabular import TablePreprocessor

    if args.target or args.task or args.drop or args.categorical:
        raise UserError("--target, --task, --drop and --categorical need --data FILE.csv")
    x_all, y_all = load_digits(scale=False, dtype=np.float64)
    train_rows, test_rows = _split(len(y_all), args.test_size, args.seed, y_all, "digits")
    val_rows = np.array([], dtype=np.int64)
    if args.validation_split:
        train_rows, val_rows = _split(len(train_rows), args.validation_split, args.seed, y_all[train_rows],
                                      "digits", rows=train_rows)
    # Pixel statistics from the training rows only (not their shifted copies, not validation or test).
    preprocessor = TablePreprocessor(target=DIGITS_TARGET, task="classification")
    preprocessor.fit(digits_table(x_all[train_rows], y_all[train_rows]))
    x_train, y_train = x_all[train_rows], y_all[train_rows]
    notes = []
    augment = args.augment if args.augment is not None else args.model == "mlp"
    if augment:
        x_train, y_train = shifted_copies(x_train, y_train)
        notes.append(f"augmentation: each training image also shifted by one pixel up, down, left and right "
                     f"({len(y_train)} training images; --no-augment to turn off)")
    input_shape = [1, 8, 8] if args.model == "cnn" else None

    def features(x):
        x = preprocessor.transform_array(x)
        return x.reshape(-1, *input_shape) if input_shape else x

    return {"task": "classification", "preprocessor": preprocessor, "name": "digits", "source": "scikit-learn digits",
            "n_rows": len(y_all), "n_train": len(train_rows), "input_shape": input_shape, "notes": notes,
            "x_train": features(x_train), "y_train": y_train,
            "validation": (features(x_all[val_rows]), y_all[val_rows]) if len(val_rows) else None,
            "x_test": features(x_all[test_rows]), "y_test": y_all[test_rows]}


def _table_data(args):
    """A CSV file, split before the preprocessing is fitted on the training rows."""
    from .data.tabular import TablePreprocessor, infer_task

    if not args.target:
        raise UserError(f"--target COLUMN is required with --data (which column of {args.data} to predict?)")
    if args.model == "cnn":
        raise UserError("--model cnn works on the digits images only; use --model mlp with --data")
    if args.augment is not None:
        raise UserError("--augment and --no-augment apply to the digits images only")
    table = _read_table(args)
    table.column(args.target)  # an unknown target: the error lists the columns
    for column in args.drop + args.categorical:
        table.column(column)
    if args.target in args.drop + args.categorical:
        raise UserError(f"--target {args.target} cannot also be in --drop or --categorical")
    table.check_missing([column for column in table.columns if column not in args.drop])
    task = args.task or infer_task(table, args.target)
    stratify = _class_keys(table, args.target) if task == "classification" else None
    train_rows, test_rows = _split(len(table), args.test_size, args.seed, stratify, args.data)
    train_table, test_table = table.take(train_rows), table.take(test_rows)
    preprocessor = TablePreprocessor(target=args.target, task=task, drop=args.drop, categorical=args.categorical)
    preprocessor.fit(train_table)
    notes = []
    if task == "classification":
        kept = _known_classes(test_table, preprocessor)
        if len(kept) < len(test_table):
            notes.append(f"note: {len(test_table) - len(kept)} test rows have a class too rare to appear in the "
                         f"training rows and are left out of the test metrics")
        test_table = kept
    x_train, y_train = preprocessor.transform(train_table), preprocessor.transform_target(train_table)
    validation = None
    if args.validation_split:
        n_val = int(round(len(y_train) * args.validation_split))
        if n_val >= 1 and len(y_train) - n_val >= 2:  # the training rows are already shuffled by the split
            validation = (x_train[-n_val:], y_train[-n_val:])
            x_train, y_train = x_train[:-n_val], y_train[:-n_val]
    return {"task": task, "preprocessor": preprocessor, "name": os.path.splitext(os.path.basename(args.data))[0]
            or "table", "source": args.data, "n_rows": len(table), "n_train": len(y_train), "input_shape": None,
            "notes": notes, "x_train": x_train, "y_train": y_train, "validation": validation,
            "x_test": preprocessor.transform(test_table), "y_test": preprocessor.transform_target(test_table)}


def _write_report(run, path=None):
    """Write the run's HTML report (metrics, curves, diagnosis, confusion matrix, ROC/PR, model) and
    return its path; None when matplotlib is not installed (the report is optional).

    ``run`` holds: out_dir, model, history (or None), metrics, task, y_true / y_pred (class indices or
    values in original units), y_proba (None for regression), class_names and source.
    """
    try:
        import matplotlib  # noqa: F401  (the report's plots need it)
    except ImportError:
        return None
    from .evaluate.report import report

    path = path or os.path.join(run["out_dir"], "report.html")
    classification = run["task"] == "classification"
    with _writing(path):
        report(path, metrics=run["metrics"], history=run.get("history"), y_true=run["y_true"],
               y_pred=run["y_pred"] if classification else None, y_proba=run.get("y_proba"), model=run["model"],
               task=run["task"], class_names=[str(c) for c in run["class_names"]] if classification else None,
               title=f"chainrule: {run['source']}")
    return path


def _class_keys(table, target):
    """The target cells as canonical class labels (so "1" and "1.0" are one class), as strings."""
    from .data.tabular import _label

    numeric = table.is_numeric(target)
    return [str(_label(text, numeric)) for text in table.column(target)]


def _known_classes(table, preprocessor):
    """The test rows whose class was seen in training (a class too rare to reach the training split is
    left out of the test metrics rather than failing the run)."""
    known = {str(c) for c in preprocessor.classes_}
    keys = _class_keys(table, preprocessor.target) if table.is_numeric(preprocessor.target) else \
        table.column(preprocessor.target)
    return table.take([i for i, key in enumerate(keys) if key in known])


def _split(n_rows, test_size, seed, stratify, source, rows=None):
    """Seeded (train, test) row indices, stratified by class when every class has at least two rows."""
    from sklearn.model_selection import train_test_split

    n_test = int(np.ceil(n_rows * test_size))
    if n_rows < 4 or n_test < 1 or n_rows - n_test < 2:
        from .data.tabular import DataError

        raise DataError(f"{source}: {n_rows} rows are too few to hold out {test_size:g} of them")
    rows = np.arange(n_rows) if rows is None else np.asarray(rows)
    if stratify is not None:
        _, counts = np.unique(np.asarray(stratify), return_counts=True)
        if counts.min() < 2 or n_test < len(counts) or n_rows - n_test < len(counts):
            stratify = None
    return train_test_split(rows, test_size=test_size, random_state=seed, shuffle=True, stratify=stratify)


def _build_model(args, n_in, hidden, n_out):
    from . import nn

    rng = np.random.default_rng(args.seed)
    if args.model == "cnn":
        from .nn.models import small_cnn

        model = small_cnn(in_channels=1, image_size=8, n_classes=n_out, seed=int(rng.integers(2**31)))
        return model, f"small CNN (1x8x8 -> {n_out})"
    activation = getattr(nn, _ACTIVATIONS[args.activation])
    layers, width = [], n_in
    for size in hidden:
        layers.append(nn.Linear(width, size, seed=int(rng.integers(2**31))))
        layers.append(activation())
        if args.dropout:
            layers.append(nn.Dropout(args.dropout))
        width = size
    layers.append(nn.Linear(width, n_out, seed=int(rng.integers(2**31))))
    sizes = "-".join(str(s) for s in [n_in, *hidden, n_out])
    return nn.Sequential(*layers), f"MLP {sizes} ({args.activation})"


def _fit(args, model, data, task, epochs, batch_size, lr, schedule):
    from . import train

    callbacks = []
    if schedule == "cosine":  # decay the learning rate to 0 along half a cosine over the epochs
        callbacks.append(train.LearningRateScheduler(
            lambda epoch: lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))))
    if args.data is not None and data["validation"] is not None and args.epochs is None:
        # Tables: the default epoch count is generous; stop when the validation loss stops improving.
        callbacks.append(train.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True))
    started = time.perf_counter()
    history = train.fit(model, data["x_train"], data["y_train"],
                        loss="cross_entropy" if task == "classification" else "mse",
                        optimizer=args.optimizer, lr=lr, epochs=epochs, batch_size=batch_size,
                        validation_data=data["validation"],
                        metrics=["accuracy"] if task == "classification" else [],
                        callbacks=callbacks, seed=args.seed, verbose=0 if args.quiet else 1)
    return history, time.perf_counter() - started


# the files a run writes into its folder (report.html only with matplotlib)
_RUN_FILES = ("model.safetensors", "history.json", "history.csv", "metrics.json", "report.html")


@contextlib.contextmanager
def _output_folder(out, name, overwrite=False):
    """Claim the run's folder for the ``with`` block: ``out`` (created if needed), or a new
    ``runs/<name>-NNN`` folder (race-free: mkdir claims it).

    The folder is locked (``chainrule._atomic.lock_folder``: released by the OS when this process
    ends, so a killed run never leaves it locked), temporary files of killed runs are removed,
    and a folder that already holds a run's files is refused unless ``overwrite``.
    """
    from ._atomic import LOCK_NAME, FolderLocked, lock_folder, remove_stale_temporaries

    if out:
        if os.path.exists(out) and not os.path.isdir(out):
            raise UserError(f"--out {out}: exists and is not a folder")
        with _writing(out):
            os.makedirs(out, exist_ok=True)
        path = out
    else:
        with _writing("runs"):
            path = _new_run_folder(name)
    with contextlib.ExitStack() as stack:
        try:
            with _writing(os.path.join(path, LOCK_NAME)):
                stack.enter_context(lock_folder(path))
        except FolderLocked as error:
            raise UserError(f"--out {error}") from None
        remove_stale_temporaries(path)
        existing = [file for file in _RUN_FILES if os.path.exists(os.path.join(path, file))]
        if existing and not overwrite:
            raise UserError(f"--out {path} already holds a run ({', '.join(existing)}); pass --overwrite to "
                            f"replace it, or choose another folder")
        yield path


def _new_run_folder(name):
    os.makedirs("runs", exist_ok=True)
    for number in range(1, 100000):
        path = os.path.join("runs", f"{name}-{number:03d}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise UserError("runs/: no free run folder name; pass --out DIR")  # pragma: no cover


def _remove_previous_run(folder):
    """Delete the files an earlier run left in ``folder`` (there are some only with --overwrite)."""
    for name in _RUN_FILES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with _writing(path):
                os.unlink(path)


@contextlib.contextmanager
def _writing(path):
    """Turn an ``OSError`` while writing ``path`` into one line naming it (exit status 1)."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"cannot write {path}: {reason}") from None


def _history_records(history):
    logs = getattr(history, "history", history) or {}
    keys = list(logs)
    n = max((len(logs[k]) for k in keys), default=0)
    return [{"epoch": i + 1, **{k: _plain(logs[k][i]) for k in keys if i < len(logs[k])}} for i in range(n)]


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (int, float, str)) or value is None else str(value)


def _write_json(path, obj):
    from ._atomic import atomic_write

    with _writing(path), atomic_write(path, "w") as file:
        json.dump(obj, file, indent=2)
        file.write("\n")


def _write_history_csv(path, records):
    from ._atomic import atomic_write

    keys = ["epoch"] + sorted({k for record in records for k in record} - {"epoch"})
    with _writing(path), atomic_write(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=keys)
        writer.writeheader()
        writer.writerows(records)


# =================================================================== metrics
def _classification_metrics(y_true, y_pred):
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "precision": float(precision),
            "recall": float(recall), "f1": float(f1)}


def _regression_metrics(y_true, y_pred):
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    mse = float(mean_squared_error(y_true, y_pred))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(mean_absolute_error(y_true, y_pred)),
            "r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")}


_METRIC_LABELS = {"accuracy": "accuracy", "precision": "precision (macro)", "recall": "recall (macro)",
                  "f1": "F1 (macro)", "mse": "MSE", "rmse": "RMSE", "mae": "MAE", "r2": "R²"}


def _print_metrics(metrics):
    for key, value in metrics.items():
        print(f"  {_METRIC_LABELS.get(key, key):<18} {value:.4f}")


def _say(args, text):
    if not getattr(args, "quiet", False):
        print(text)


# ============================================================ using a saved model
def _predict_arrays(model, x, task, preprocessor):
    """(class indices or None, probabilities or None, values in original units or None)."""
    from .train import predict

    outputs = np.asarray(predict(model, x), dtype=np.float64)
    if task == "classification":
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        proba = np.exp(shifted)
        proba /= proba.sum(axis=1, keepdims=True)
        return outputs.argmax(axis=1), proba, None
    return None, None, preprocessor.inverse_target(outputs)


def _load_for_use(path):
    """The model, its fitted preprocessing, task and input shape from a file written by ``chainrule train``."""
    from . import io
    from .data.tabular import TablePreprocessor

    model = io.load(path)
    extra = io.read_metadata(path)["extra"] or {}
    if not isinstance(extra, dict) or "preprocessing" not in extra or "task" not in extra:
        raise UserError(f"{path}: the model file holds no preprocessing (it was not written by 'chainrule train'); "
                        f"load it in Python with chainrule.load({path!r})")
    task, input_shape = extra["task"], extra.get("input_shape")
    if task not in ("classification", "regression"):
        raise io.ModelFileError(f"{path} is corrupt: its task is {task!r}; expected 'classification' or 'regression'")
    if input_shape is not None and not (isinstance(input_shape, list) and len(input_shape) <= 8 and all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 2**31 for n in input_shape)):
        raise io.ModelFileError(f"{path} is corrupt: its input_shape is {input_shape!r:.80}; expected a list of "
                                f"positive ints")
    try:
        preprocessor = TablePreprocessor.from_dict(extra["preprocessing"])
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise io.ModelFileError(f"{path} is corrupt: its preprocessing cannot be restored "
                                f"({type(error).__name__}: {error})") from None
    return model, preprocessor, task, input_shape


def _features(preprocessor, table, input_shape):
    x = preprocessor.transform(table)
    return x.reshape(-1, *input_shape) if input_shape else x


def _evaluate(args):
    model, preprocessor, task, input_shape = _load_for_use(args.model)
    table = _read_table(args)
    target = args.target or preprocessor.target
    table.column(target)
    x = _features(preprocessor, table, input_shape)
    y_pred, proba, values = _predict_arrays(model, x, task, preprocessor)
    if task == "classification":
        metrics = _classification_metrics(preprocessor.transform_target(table, column=target), y_pred)
    else:
        metrics = _regression_metrics(preprocessor.target_values(table, column=target), values)
    print(f"{args.model} on {args.data} ({len(table)} rows, target {target!r}):")
    _print_metrics(metrics)
    name = os.path.splitext(os.path.basename(args.data))[0] or "data"
    report_path = args.report or os.path.join(os.path.dirname(os.path.abspath(args.model)), f"report-{name}.html")
    y_true = preprocessor.transform_target(table, column=target) if task == "classification" else \
        preprocessor.target_values(table, column=target)
    written = _write_report({"out_dir": os.path.dirname(report_path), "model": model, "history": None,
                             "metrics": metrics, "task": task, "y_true": y_true,
                             "y_pred": y_pred if task == "classification" else values, "y_proba": proba,
                             "class_names": preprocessor.classes_ if task == "classification" else None,
                             "source": f"{os.path.basename(args.model)} on {args.data}"}, report_path)
    if written:
        print(f"report: {written}")


def _predict(args):
    model, preprocessor, task, input_shape = _load_for_use(args.model)
    table = _read_table(args)
    x = _features(preprocessor, table, input_shape)
    y_pred, proba, values = _predict_arrays(model, x, task, preprocessor)
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if task == "classification":
        classes = preprocessor.classes_
        writer.writerow(["prediction"] + [f"prob_{c}" for c in classes])
        labels = preprocessor.inverse_target(y_pred)
        for label, row in zip(labels, proba):
            writer.writerow([label] + [f"{p:.6f}" for p in row])
    else:
        writer.writerow(["prediction"])
        writer.writerows([[repr(float(v))] for v in values])
    if args.out:
        from ._atomic import atomic_write

        with _writing(args.out), atomic_write(args.out, "w", newline="") as file:
            file.write(buffer.getvalue())
        print(f"wrote {len(table)} predictions to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())
