"""The ``chainrule`` command (chainrule/cli.py): train / evaluate / predict, in-process and as a real process."""

import csv
import io as _io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule import io
from chainrule.cli import main
from chainrule.data.tabular import TablePreprocessor, read_csv

pytest.importorskip("sklearn")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def metric(output, name):
    """The value printed on the metrics line ``  <name> <value>``."""
    match = re.search(rf"^\s+{re.escape(name)}\s+(-?[0-9.]+)\s*$", output, re.M)
    assert match, f"no {name!r} line in:\n{output}"
    return float(match.group(1))


def write_table(path, n=240, seed=0):
    """Numeric and categorical features; a class label and a price that depend on both."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.uniform(0, 10, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    effect = {"red": 1.5, "green": -1.0, "blue": 0.0}
    score = 2 * a + 0.3 * b + np.array([effect[c] for c in colour])
    price = 10 + 3 * score + rng.normal(scale=0.3, size=n)
    label = np.where(score > np.median(score), "high", "low")
    grade = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))  # 0, 1, 2 as integers
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["a", "b", "colour", "price", "label", "grade"])
        for row in zip(a, b, colour, price, label, grade):
            writer.writerow([f"{row[0]:.5f}", f"{row[1]:.4f}", row[2], f"{row[3]:.4f}", row[4], row[5]])
    return str(path)


@pytest.fixture
def table_csv(tmp_path):
    return write_table(tmp_path / "shop.csv")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"chainrule {chainrule.__version__}"


# ------------------------------------------------------------------------ digits
def test_default_digits_command_reaches_97_percent_as_a_real_process(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "chainrule", "train", "--epochs", "15", "--out", "run"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Epoch 15/15" in out + result.stderr  # the progress display ran (plain lines: not a terminal)
    assert metric(out, "accuracy") >= 0.97
    for name in ("precision (macro)", "recall (macro)", "F1 (macro)"):
        assert 0.9 <= metric(out, name) <= 1
    assert re.search(r"^elapsed [0-9.]+ s", out, re.M)
    assert f"saved model, history and metrics to run{os.sep}" in out
    assert sorted(os.listdir(tmp_path / "run")) == ["history.csv", "history.json", "metrics.json",
                                                    "model.safetensors", "report.html"]
    assert f"(report: run{os.sep}report.html)" in out
    _check_report(tmp_path / "run" / "report.html", n_images=4)


def _check_report(path, n_images):
    """The HTML report renders: its embedded PNGs decode and it holds the metrics table."""
    import base64

    from matplotlib.image import imread

    document = path.read_text(encoding="utf-8")
    assert "<table class='metrics'>" in document and "<th>accuracy</th>" in document
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', document)
    assert len(images) == n_images
    for data in images:
        assert imread(_io.BytesIO(base64.b64decode(data)), format="png").shape[0] > 100


def test_digits_in_process_saves_a_usable_model_and_history(tmp_path, capsys):
    out_dir = tmp_path / "digits"
    code, out, err = run(capsys, "train", "--epochs", 2, "--no-augment", "--quiet", "--out", out_dir)
    assert code == 0, err
    assert "Epoch" not in out + err  # --quiet: no progress display

    history = json.loads((out_dir / "history.json").read_text())
    assert [record["epoch"] for record in history] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history[0])
    with open(out_dir / "history.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 2 and float(rows[1]["loss"]) == pytest.approx(history[1]["loss"])
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == pytest.approx(metric(out, "accuracy"), abs=5e-5)
    assert metrics["n_test"] == 360  # 20% of 1797, stratified

    # The model file is self-contained: predict on pixels read from a CSV file with the digits' columns.
    from chainrule.data.digits import DIGITS_FEATURES, load_digits

    x, y = load_digits(scale=False)
    pixels = tmp_path / "pixels.csv"
    with open(pixels, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(DIGITS_FEATURES + ["digit"])
        writer.writerows([[int(v) for v in row] + [label] for row, label in zip(x[:50], y[:50])])
    code, out, err = run(capsys, "predict", out_dir / "model.safetensors", "--data", pixels)
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["prediction"] + [f"prob_{d}" for d in range(10)]
    predicted = np.array([int(row[0]) for row in rows[1:]])
    assert len(predicted) == 50 and np.mean(predicted == y[:50]) > 0.8
    code, out, err = run(capsys, "evaluate", out_dir / "model.safetensors", "--data", pixels)
    assert code == 0 and metric(out, "accuracy") == pytest.approx(np.mean(predicted == y[:50]))
    assert f"report: {out_dir / 'report-pixels.html'}" in out
    _check_report(out_dir / "report-pixels.html", n_images=3)  # no training curves when evaluating


def test_cnn_on_the_digit_images(tmp_path, capsys):
    pytest.importorskip("chainrule.nn.models")
    out_dir = tmp_path / "cnn"
    code, out, err = run(capsys, "train", "--model", "cnn", "--epochs", 1, "--no-augment", "--quiet", "--out", out_dir)
    assert code == 0, err
    assert metric(out, "accuracy") > 0.3  # one epoch: well above chance (0.1)
    meta = io.read_metadata(out_dir / "model.safetensors")
    assert meta["extra"]["input_shape"] == [1, 8, 8]
    # a convolution over the one input channel: a kernel shaped (out_channels, 1, kh, kw)
    assert any(len(entry["shape"]) == 4 and entry["shape"][1] == 1 for entry in meta["weights"].values())


def test_shifted_copies_move_every_image_by_one_pixel():
    from chainrule.data.digits import shifted_copies

    image = np.arange(1, 65, dtype=np.float64).reshape(1, 1, 8, 8)
    x, y = shifted_copies(image, [7])
    assert x.shape == (5, 1, 8, 8) and list(y) == [7] * 5
    np.testing.assert_array_equal(x[0], image[0])
    np.testing.assert_array_equal(x[1, 0, 1:], image[0, 0, :7])  # moved down, zeros in the top row
    np.testing.assert_array_equal(x[1, 0, 0], 0)
    np.testing.assert_array_equal(x[2, 0, :7], image[0, 0, 1:])  # up
    np.testing.assert_array_equal(x[3, 0, :, 1:], image[0, 0, :, :7])  # right
    np.testing.assert_array_equal(x[4, 0, :, :7], image[0, 0, :, 1:])  # left
    np.testing.assert_array_equal(x[4, 0, :, 7], 0)
    flat, _ = shifted_copies(image.reshape(1, 64), [7])
    np.testing.assert_array_equal(flat.reshape(5, 1, 8, 8), x)


# ---------------------------------------------------------------------- CSV files
def test_csv_classification_train_evaluate_predict_round_trip(tmp_path, capsys, table_csv):
    out_dir = tmp_path / "cls"
    code, out, err = run(capsys, "train", "--data", table_csv, "--target", "label", "--drop", "price,grade",
                         "--epochs", 40, "--hidden", "16", "--lr", 0.01, "--quiet", "--out", out_dir)
    assert code == 0, err
    assert metric(out, "accuracy") >= 0.9 and "R²" not in out
    model_path = out_dir / "model.safetensors"
    extra = io.read_metadata(model_path)["extra"]
    assert extra["task"] == "classification" and extra["classes"] == ["high", "low"]
    assert extra["preprocessing"]["categories"] == {"colour": ["blue", "green", "red"]}
    assert extra["train_args"]["hidden"] == [16]

    code, out, err = run(capsys, "evaluate", model_path, "--data", table_csv, "--target", "label")
    assert code == 0, err
    accuracy = metric(out, "accuracy")
    assert accuracy >= 0.9

    predictions = tmp_path / "predictions.csv"
    code, out, err = run(capsys, "predict", model_path, "--data", table_csv, "--out", predictions)
    assert code == 0 and out == "" and str(predictions) in err
    with open(predictions) as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["prediction", "prob_high", "prob_low"]
    probabilities = np.array([[float(p) for p in row[1:]] for row in rows[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=2e-6)
    labels = [row[0] for row in rows[1:]]
    assert labels == [["high", "low"][i] for i in probabilities.argmax(axis=1)]

    # The same predictions, computed here from the saved model and preprocessing.
    table = read_csv(table_csv)
    preprocessor = TablePreprocessor.from_dict(extra["preprocessing"])
    model = io.load(model_path)
    with chainrule.no_grad():
        logits = model(chainrule.Tensor(preprocessor.transform(table))).numpy()
    assert labels == preprocessor.inverse_target(logits.argmax(axis=1))
    truth = table.column("label")
    assert np.mean([p == t for p, t in zip(labels, truth)]) == pytest.approx(accuracy)


def test_csv_regression_train_evaluate_predict_round_trip(tmp_path, capsys, table_csv):
    out_dir = tmp_path / "reg"
    code, out, err = run(capsys, "train", "--data", table_csv, "--target", "price", "--drop", "label,grade",
                         "--epochs", 60, "--quiet", "--out", out_dir, "--seed", 3)
    assert code == 0, err
    assert metric(out, "R²") >= 0.9 and "accuracy" not in out
    rmse, mse = metric(out, "RMSE"), metric(out, "MSE")
    assert rmse == pytest.approx(np.sqrt(mse), rel=1e-3)
    model_path = out_dir / "model.safetensors"
    assert io.read_metadata(model_path)["extra"]["task"] == "regression"

    code, out, err = run(capsys, "evaluate", model_path, "--data", table_csv)  # --target defaults to price
    assert code == 0, err
    r2 = metric(out, "R²")
    assert r2 >= 0.9

    code, out, err = run(capsys, "predict", model_path, "--data", table_csv)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "prediction" and len(lines) == 241
    predicted = np.array([float(v) for v in lines[1:]])
    price = read_csv(table_csv).numbers("price")
    assert 1 - np.sum((price - predicted) ** 2) / np.sum((price - price.mean()) ** 2) == pytest.approx(r2, abs=1e-4)


def test_task_is_inferred_and_unknown_categories_predict(tmp_path, capsys, table_csv):
    out_dir = tmp_path / "grade"
    code, out, err = run(capsys, "train", "--data", table_csv, "--target", "grade", "--drop", "label,price",
                         "--epochs", 5, "--quiet", "--out", out_dir)
    assert code == 0, err
    assert "accuracy" in out  # three integer values: classification
    assert io.read_metadata(out_dir / "model.safetensors")["extra"]["classes"] == [0, 1, 2]
    new = tmp_path / "new.csv"
    new.write_text("b,colour,a\n5,purple,0.1\n1,red,-2\n")  # an unseen colour, other column order, no target
    code, out, err = run(capsys, "predict", out_dir / "model.safetensors", "--data", new)
    assert code == 0, err
    assert out.splitlines()[0] == "prediction,prob_0,prob_1,prob_2" and len(out.splitlines()) == 3


def test_default_output_folders_are_numbered(tmp_path, capsys, table_csv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for expected in ("runs/shop-001", "runs/shop-002"):
        code, out, err = run(capsys, "train", "--data", table_csv, "--target", "label", "--epochs", 1, "--quiet")
        assert code == 0, err
        assert f"saved model, history and metrics to {os.path.normpath(expected)}{os.sep}" in out
        assert os.path.isfile(os.path.join(expected, "model.safetensors"))


# ------------------------------------------------------------------------ errors
@pytest.fixture
def trained_model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    path = write_table(directory / "train.csv", n=60)
    assert main(["train", "--data", path, "--target", "label", "--epochs", "1", "--quiet",
                 "--out", str(directory)]) == 0
    return str(directory / "model.safetensors")


def error_cases(tmp):
    (tmp / "nan.csv").write_text("a,colour,label\n1,red,x\n2,blue,y\n3,,x\n4,red,y\n5,blue,x\n6,red,y\n")
    (tmp / "text.csv").write_text("a,price\n1,cheap\n2,dear\n3,cheap\n4,dear\n5,cheap\n")
    (tmp / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (tmp / "partial.csv").write_text("a,b\n1,2\n")
    table = write_table(tmp / "ok.csv", n=30)
    return [
        (["train", "--data", tmp / "missing.csv", "--target", "y"], ["missing.csv", "no such file"]),
        (["train", "--data", table, "--target", "cost"], ["ok.csv", "no column 'cost'", "'price'"]),
        (["train", "--data", tmp / "text.csv", "--target", "price", "--task", "regression"],
         ["text.csv", "column 'price'", "line 2", "numeric target", "'cheap'"]),
        (["train", "--data", tmp / "nan.csv", "--target", "label"], ["nan.csv", "column 'colour'", "line 4", "empty"]),
        (["train", "--data", table], ["--target"]),
        (["train", "--data", table, "--target", "label", "--model", "cnn"], ["digits images only"]),
        (["train", "--epochs", "-3"], ["--epochs", "positive integer"]),
        (["evaluate", tmp / "missing.safetensors", "--data", table], ["missing.safetensors", "does not exist"]),
        (["evaluate", tmp / "image.png", "--data", table], ["image.png", "PNG image", "expected a safetensors"]),
        (["predict", "MODEL", "--data", tmp / "partial.csv"], ["partial.csv", "missing columns", "'colour'"]),
        (["evaluate", "MODEL", "--data", table, "--target", "nope"], ["ok.csv", "no column 'nope'"]),
    ]


def test_errors_are_one_line_with_exit_status_2(tmp_path, capsys, trained_model):
    for argv, expected in error_cases(tmp_path):
        argv = [trained_model if a == "MODEL" else str(a) for a in argv]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 2, (argv, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)
        assert re.match(r"chainrule( \w+)?: error: ", err), (argv, err)
        for text in expected:
            assert text in err, (argv, text, err)


def test_error_as_a_real_process(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "chainrule", "train", "--data", "absent.csv", "--target", "y"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "chainrule: error: absent.csv: no such file\n"


def test_decimal_comma_file_needs_and_takes_decimal_and_delimiter(tmp_path, capsys, table_csv):
    """A European CSV (';' between fields, ',' as the decimal mark): refused with a hint without --decimal ',',
    and then the same model as the '.' file gives."""
    with open(table_csv) as file:
        rows = list(csv.reader(file))
    european = tmp_path / "shop-eu.csv"
    with open(european, "w", newline="") as file:
        csv.writer(file, delimiter=";").writerows([[cell.replace(".", ",") for cell in row] for row in rows])
    common = ["--target", "label", "--drop", "price,grade", "--epochs", 5, "--hidden", "8", "--quiet"]
    code, out, err = run(capsys, "train", "--data", european, "--delimiter", ";", *common, "--out", tmp_path / "a")
    assert code == 2 and "decimal comma" in err
    code, out, err = run(capsys, "train", "--data", european, "--delimiter", ";", "--decimal", ",", *common,
                         "--out", tmp_path / "eu")
    assert code == 0, err
    code, plain, err = run(capsys, "train", "--data", table_csv, *common, "--out", tmp_path / "plain")
    assert code == 0, err
    assert metric(out, "accuracy") == metric(plain, "accuracy")
    code, out, err = run(capsys, "predict", tmp_path / "eu" / "model.safetensors", "--data", european,
                         "--delimiter", ";", "--decimal", ",")
    assert code == 0, err
    code, expected, err = run(capsys, "predict", tmp_path / "plain" / "model.safetensors", "--data", table_csv)
    assert out == expected
