"""Reading a CSV table into a float32 feature matrix: chainrule against pandas and pyarrow.

    python -m benchmarks.csv_reader [--rows 200000] [--repeats 1] [--keep PATH]

Not part of ``python -m benchmarks`` (its peers are pandas and pyarrow, not PyTorch and scikit-learn):
run it on its own. ``--rows 2000000`` writes a file of about 200 MB, the size of issue 14.

The file (generated in a temporary folder, seeded): 12 numeric columns of mixed magnitudes and
precisions, 3 categorical columns (4, 7 and 12 categories) and a 3-class text label. Every peer goes
from the file to the same kind of float32 matrix, the numbers standardised and the categories one-hot:

* ``chainrule``  ``read_csv`` then ``TablePreprocessor(target="label").fit(table).transform(table)``;
* ``pandas``     ``pandas.read_csv`` (C engine), standardise, ``get_dummies``, ``to_numpy(float32)``;
* ``pyarrow``    ``pyarrow.csv.read_csv``, each column to NumPy, standardise or one-hot into the matrix.

Each measurement runs in a fresh process (``--worker``), the peers taking turns in rotating order;
"parse" is the time to the in-memory table, "total" to the matrix, "peak" the process's peak resident
memory (VmHWM) and "× matrix" that peak over the size of the final float32 matrix. The import of
each library is not timed; its memory is in the peak (the start-up RSS is printed too).

Measured (2 December 2026, 2 shared CPUs, numpy 2.4.6, pandas 3.1.1, pyarrow 26.0.1; other engineers' jobs
kept the load average between 2 and 7, so times are noisy; ``--rows 2000000``, 196 MB, a
2,000,000 x 35 float32 matrix of 267 MB):

==============================  =======  =======  ========  ========
peer                            parse s  total s  peak MB   x matrix
==============================  =======  =======  ========  ========
chainrule before (csv module)     19.5     53.5     4,062     15.2
chainrule (pyarrow blocks)         2.89     3.92      781      2.93
pandas.read_csv + get_dummies      0.97     2.30    1,145      4.29
pyarrow.csv.read_csv + NumPy       0.73     1.69      922      3.45
==============================  =======  =======  ========  ========

"before" is the hand-written reader (a Python string per cell), one run at load 1.2 to 2.6; the others
the median of 2 fresh processes each, load 2.6 to 3.2. The peaks include the interpreter and the imported
library (61 MB for chainrule with pyarrow: 2.7x the matrix above that). chainrule's reader does more
than the two peers (strips cells, finds numbers among text, keeps codes for error messages), which is
most of the gap to them; a run at load 6 measured 8.15 s / 817 MB for chainrule.

How the engine was chosen: parse-only runs on the same file (load about 2), time and peak RSS:
pandas C engine whole file 0.50 s / 765 MB, in 200,000-row chunks with type inference 0.79 s / 193 MB,
chunks as strings 6.6 s / 244 MB; pyarrow ``read_csv`` 3.4 s / 769 MB, ``open_csv`` streaming with
inference 1.5 s / 419 MB, streaming all-string columns 0.94 s / 461 MB. With chainrule's per-chunk
conversion (strip, find the numbers, cast, encode the categories): pyarrow 5.0 s / 415 MB, pandas
(``na_filter=False``, ``to_numeric`` and ``factorize`` on text chunks) 7.3 s / 207 MB. pyarrow was
taken: faster once the conversion is counted, and stricter: pandas fills a short row with empty cells
without a word and turns ``True``/``False`` into booleans, while pyarrow refuses a row with the wrong
number of cells and keeps every cell's text exactly; its streaming reader infers types from the first
block only, so chainrule reads strings and decides per block (a cast of the whole block, or a pattern).
"""

import argparse
import json
import os
import sys
import tempfile
import time

from ._common import ROOT, installed, median, peak_rss_mb, rotations, version_of

PEERS = ("chainrule", "pandas", "pyarrow")
NUMERIC = 12
CATEGORIES = {"colour": ["red", "green", "blue", "black"],
              "city": ["Paris", "Lyon", "Berlin", "Madrid", "Rome", "Oslo", "Wien"],
              "month": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]}


# ------------------------------------------------------------------------------------ data
def write_csv(path, rows, seed=0, block=100_000):
    """A seeded CSV file of ``rows`` data rows (see the module docstring); returns its size in bytes."""
    import numpy as np

    rng = np.random.default_rng(seed)
    names = [f"x{j}" for j in range(NUMERIC)] + list(CATEGORIES) + ["label"]
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(",".join(names) + "\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            columns = []
            for j in range(NUMERIC):
                scale, digits = 10.0 ** (j % 4), 1 + j % 4
                columns.append(np.char.mod(f"%.{digits}f", rng.standard_normal(n) * scale))
            for values in CATEGORIES.values():
                columns.append(np.asarray(values)[rng.integers(0, len(values), n)])
            columns.append(np.asarray(["low", "mid", "high"])[rng.integers(0, 3, n)])
            lines = columns[0].astype(object)
            for column in columns[1:]:
                lines = lines + "," + column.astype(object)
            file.write("\n".join(lines) + "\n")
    return os.path.getsize(path)


# --------------------------------------------------------------------------------- workers
def _chainrule(path):
    from chainrule.data.tabular import TablePreprocessor, read_csv

    start = time.perf_counter()
    table = read_csv(path)
    parsed = time.perf_counter()
    x = TablePreprocessor(target="label").fit(table).transform(table)
    return x, parsed - start


def _pandas(path):
    import numpy as np
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path, engine="c")
    parsed = time.perf_counter()
    frame = frame.drop(columns=["label"])
    numeric = frame.select_dtypes("number").columns
    frame[numeric] = (frame[numeric] - frame[numeric].mean()) / frame[numeric].std(ddof=0)
    x = pd.get_dummies(frame, dtype=np.float32).to_numpy(np.float32)
    return x, parsed - start


def _pyarrow(path):
    import numpy as np
    import pyarrow.compute as pc
    from pyarrow import csv

    start = time.perf_counter()
    table = csv.read_csv(path)
    parsed = time.perf_counter()
    names = [name for name in table.column_names if name != "label"]
    blocks = []
    for name in names:
        column = table.column(name)
        if column.type in ("double", "int64"):
            blocks.append([name, None])
        else:
            blocks.append([name, pc.unique(column).sort().to_pylist()])
    width = sum(1 if cats is None else len(cats) for _, cats in blocks)
    x = np.empty((table.num_rows, width), dtype=np.float32)
    j = 0
    for name, cats in blocks:
        column = table.column(name)
        if cats is None:
            values = column.to_numpy().astype(np.float64)
            x[:, j] = (values - values.mean()) / values.std()
            j += 1
        else:
            codes = pc.index_in(column, value_set=__import__("pyarrow").array(cats)).to_numpy()
            x[:, j:j + len(cats)] = 0
            x[np.arange(len(codes)), j + codes] = 1
            j += len(cats)
    return x, parsed - start


WORKERS = {"chainrule": _chainrule, "pandas": _pandas, "pyarrow": _pyarrow}
IMPORTS = {"chainrule": ("chainrule.data.tabular", "pyarrow", "pyarrow.csv"), "pandas": ("pandas",),
           "pyarrow": ("pyarrow", "pyarrow.csv", "pyarrow.compute")}


def worker(peer, path):
    """One measurement in this (fresh) process: prints one JSON line."""
    import importlib

    for module in IMPORTS[peer]:
        importlib.import_module(module)
    start_rss = peak_rss_mb()
    start = time.perf_counter()
    x, parse_s = WORKERS[peer](path)
    total_s = time.perf_counter() - start
    print(json.dumps({"parse_s": parse_s, "total_s": total_s, "peak_mb": peak_rss_mb(), "start_mb": start_rss,
                      "matrix_mb": x.nbytes / 2 ** 20, "shape": list(x.shape), "dtype": str(x.dtype)}), flush=True)


def _measure(peer, path):
    import subprocess

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run([sys.executable, "-m", "benchmarks.csv_reader", "--worker", peer, "--path", path],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ main
def run(rows, repeats, keep=None):
    peers = [p for p in PEERS if p == "chainrule" or installed(p)]
    with tempfile.TemporaryDirectory(prefix="chainrule-csv-bench-") as folder:
        path = keep or os.path.join(folder, "table.csv")
        size = write_csv(path, rows)
        results = {peer: [] for peer in peers}
        for turn in rotations(peers, repeats):
            for peer in turn:
                results[peer].append(_measure(peer, path))
    return size, results


def main(argv=None):
    parser = argparse.ArgumentParser(description="CSV to float32 matrix: chainrule vs pandas vs pyarrow")
    parser.add_argument("--rows", type=int, default=200_000, help="data rows (2,000,000 = about 200 MB)")
    parser.add_argument("--repeats", type=int, default=1, help="fresh-process runs per peer (median reported)")
    parser.add_argument("--keep", metavar="PATH", help="write the CSV here (and keep it) instead of a temp folder")
    parser.add_argument("--worker", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.path)
    if args.rows < 1 or args.repeats < 1:
        parser.error(f"--rows and --repeats must be positive, got {args.rows} and {args.repeats}")
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    size, results = run(args.rows, args.repeats, args.keep)
    versions = ", ".join(f"{name} {version_of(name)}" for name in ("numpy", "pandas", "pyarrow") if version_of(name))
    print(f"{args.rows:,} rows, {size / 2 ** 20:,.0f} MB CSV; {versions}; {os.cpu_count()} CPUs; load average "
          f"{load} at start, {[round(v, 2) for v in os.getloadavg()] if load else None} at end; "
          f"median of {args.repeats} fresh process(es) per peer")
    header = ["peer", "parse s", "total s", "peak MB", "start MB", "matrix MB", "× matrix", "total vs chainrule"]
    print("  ".join(f"{h:>12}" if i else f"{h:<10}" for i, h in enumerate(header)))
    ours = None
    for peer, runs in results.items():
        good = [r for r in runs if "error" not in r]
        if not good:
            print(f"{peer:<10}  failed: {runs[0]['error']}")
            continue
        m = {key: median([r[key] for r in good]) for key in ("parse_s", "total_s", "peak_mb", "start_mb", "matrix_mb")}
        ours = m["total_s"] if peer == "chainrule" else ours
        ratio = f"{m['total_s'] / ours:.2f}× the time" if ours and peer != "chainrule" else ""
        cells = [f"{m['parse_s']:.2f}", f"{m['total_s']:.2f}", f"{m['peak_mb']:,.0f}", f"{m['start_mb']:,.0f}",
                 f"{m['matrix_mb']:,.0f}", f"{m['peak_mb'] / m['matrix_mb']:.2f}", ratio]
        print(f"{peer:<10}  " + "  ".join(f"{c:>12}" for c in cells) + f"   shape {good[0]['shape']}")


if __name__ == "__main__":
    main()
