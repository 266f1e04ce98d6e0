"""The benchmark suite: one table of chainrule against PyTorch (CPU) and scikit-learn, measured in one run.

    python -m benchmarks [--quick] [--threads N] [--only mlp,cnn,lstm,startup] [--json PATH] [--markdown PATH]
    python -m benchmarks --suite zoo [--quick] [--threads N]     # the networks of issue 16 (minutes)

Sections, each a module of this package with ``rows(quick, threads) -> list of row dicts``:

* ``mlp``      MLP training (samples/s, with test accuracy after the same epochs), inference latency
               (batch 1) and throughput (batch 1024), peak memory of a training run  — benchmarks/mlp.py
* ``cnn``      small CNN training (the CNN issue's model)                            — benchmarks/cnn.py
* ``lstm``     LSTM training (the recurrent issue's model)                           — benchmarks/lstm.py
* ``startup``  ``import`` time and installed size                                    — benchmarks/startup.py

The zoo sections (issue 16; heavier, so not in the default run: ``--suite zoo``, ``--suite all`` or
``--only NAME``), networks in benchmarks/models.py, cases and method in benchmarks/zoo.py:

* ``resnet``     ResNet-20 CIFAR training, batch 32 and 128 (``python -m benchmarks.resnet --profile``: per-op)
* ``vgg``        VGG-style 32×32 net training, batch 32
* ``mobilenet``  MobileNetV2 inverted-residual blocks at 32×32, training, batch 32
* ``resnet18``   ResNet-18 224×224: training batch 8, inference batch 1 and 8
* ``lstm_lm``    2-layer LSTM language model training

A row is ``{"name", "unit", "better": "higher" | "lower" | "accuracy" | "agreement", "detail",
"values": {peer: number}, "missing": {peer: why}}`` with peers ``chainrule``, ``torch`` and ``sklearn``.
A peer that is not installed, or a section module that does not exist yet, gives a row that says so.

Threads: PyTorch runs with as many intra-op threads as NumPy's BLAS uses (``--threads N`` sets both;
the default is what threadpoolctl reports for NumPy's BLAS, else ``os.cpu_count()``). NumPy's element-wise
operations are single-threaded either way. On a machine that other work keeps busy, multi-threaded BLAS
and PyTorch both slow down erratically (their threads wait for each other); ``--threads 1`` then gives
the steadier comparison. The load average at the start and end of the run is printed with the table.

``OPENBLAS_CORETYPE``, if set in the environment, forces OpenBLAS's choice of kernels; to let OpenBLAS
detect the CPU, unset it for the benchmark command only: ``env -u OPENBLAS_CORETYPE python -m benchmarks``.
"""

import argparse
import importlib
import json
import os
import sys
import time

from ._common import blas_threads, limit_blas_threads, machine_info

SECTIONS = ("mlp", "cnn", "lstm", "startup")
ZOO_SECTIONS = ("resnet", "vgg", "mobilenet", "resnet18", "lstm_lm")
SUITES = {"default": SECTIONS, "zoo": ZOO_SECTIONS, "all": SECTIONS + ZOO_SECTIONS}
TITLES = {"mlp": "MLP", "cnn": "CNN training", "lstm": "LSTM training", "startup": "start-up", "resnet": "ResNet-20",
          "vgg": "VGG-style net", "mobilenet": "MobileNetV2 blocks", "resnet18": "ResNet-18", "lstm_lm": "LSTM LM"}
PEERS = (("chainrule", "chainrule"), ("torch", "PyTorch"), ("sklearn", "scikit-learn"))


# ------------------------------------------------------------------------------ running
def section_rows(name, quick, threads):
    """The rows of one section; a placeholder row when its module is missing or fails."""
    title = TITLES[name]
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"benchmarks.{name}":
            raise
        return [_unavailable(title, f"not available: benchmarks/{name}.py does not exist yet")]
    rows_fn = getattr(module, "rows", None)
    if rows_fn is None:
        return [_unavailable(title, f"not available: benchmarks/{name}.py has no rows(quick, threads)")]
    try:
        return list(rows_fn(quick=quick, threads=threads))
    except Exception as error:  # one broken section must not sink the whole table
        return [_unavailable(title, f"failed: {type(error).__name__}: {error}"[:300])]


def _unavailable(title, why):
    return {"name": title, "unit": "", "better": "higher", "detail": why, "values": {},
            "missing": {"chainrule": why}, "unavailable": why}


def run(sections=SECTIONS, quick=False, threads=None):
    """Run the sections; returns ``{"machine", "settings", "rows"}``."""
    threads = threads or blas_threads()
    machine = machine_info()
    started = time.time()
    rows = []
    for name in sections:
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        rows.extend(section_rows(name, quick, threads))
    if hasattr(os, "getloadavg"):
        machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    only = "" if tuple(sections) == SECTIONS else f" --only {','.join(sections)}"
    settings = {"quick": quick, "threads": threads, "sections": list(sections),
                "seconds": round(time.time() - started, 1),
                "command": "python -m benchmarks" + (" --quick" if quick else "") + f" --threads {threads}" + only}
    return {"machine": machine, "settings": settings, "rows": rows}


# ----------------------------------------------------------------------------- formatting
def _number(value, unit):
    if unit in ("samples/s", "sequences/s", "images/s", "MB", "MB (RSS)"):
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    if unit == "µs":
        return f"{value:,.1f}"
    if unit == "%":
        return f"{value:.1f}"
    if unit == "s":
        return f"{value:.3f}"
    return f"{value:.4g}"


def _cell(row, peer):
    if peer in row["values"]:
        return _number(row["values"][peer], row["unit"])
    if peer in row.get("missing", {}):
        return row["missing"][peer] if peer != "chainrule" or "unavailable" not in row else "—"
    return "—"  # the peer does not apply to this row


def _ratio(row, peer):
    """chainrule's advantage over ``peer``: ×-times better (>1 = chainrule better), or a difference."""
    ours, theirs = row["values"].get("chainrule"), row["values"].get(peer)
    if ours is None or theirs is None:
        return ""
    better = row["better"]
    if better == "accuracy":
        return f"{ours - theirs:+.1f} pp"
    if better == "agreement":
        return f"Δ {abs(ours - theirs):.2g}"
    if ours <= 0 or theirs <= 0:
        return ""
    return f"{(ours / theirs if better == 'higher' else theirs / ours):.2f}×"


HEADER = ["benchmark", "unit", "chainrule", "PyTorch", "vs PyTorch", "scikit-learn", "vs scikit-learn"]


def table_cells(result):
    lines = []
    for row in result["rows"]:
        if "unavailable" in row:
            lines.append([row["name"], "", row["unavailable"], "", "", "", ""])
            continue
        lines.append([row["name"], row["unit"], _cell(row, "chainrule"), _cell(row, "torch"), _ratio(row, "torch"),
                      _cell(row, "sklearn"), _ratio(row, "sklearn")])
    return lines


def _machine_line(result):
    m, s = result["machine"], result["settings"]
    parts = [f"{m['cpu']}, {m['logical_cpus']} logical CPUs", f"Python {m['python']}", f"NumPy {m['numpy']}",
             f"BLAS {m['blas']}"]
    if m.get("torch"):
        parts.append(f"PyTorch {m['torch']}")
    if m.get("scikit-learn"):
        parts.append(f"scikit-learn {m['scikit-learn']}")
    parts.append(f"{s['threads']} thread(s)")
    if m.get("load_average_at_start"):
        parts.append(f"load average {m['load_average_at_start'][0]} at start, "
                     f"{m.get('load_average_at_end', ['?'])[0]} at end")
    if m.get("OPENBLAS_CORETYPE"):
        parts.append(f"OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']}")
    return "; ".join(parts)


def busy_warning(result):
    """A note when other work was running: then multi-threaded timings swing widely between runs."""
    m, threads = result["machine"], result["settings"]["threads"]
    start, end = (m.get("load_average_at_start") or [0])[0], (m.get("load_average_at_end") or [0])[0]
    others = max(start, end - threads)  # the 1-minute load at the end includes the benchmark itself
    cpus = m.get("logical_cpus") or 1
    if others + threads > cpus + 0.5:
        return (f"note: other work was running (about {others:.1f} busy CPUs besides the benchmark's {threads} "
                f"thread(s), on {cpus} CPUs): timings vary more from run to run"
                f"{'; compare with --threads 1' if threads > 1 else ''}")
    return None


RATIO_NOTE = ("vs = chainrule's advantage: × = how many times faster / smaller / lighter chainrule is (> 1: chainrule "
              "better); pp = accuracy difference in percentage points; Δ = absolute difference of the final losses.")


def format_text(result):
    lines = table_cells(result)
    widths = [max(len(str(line[i])) for line in lines + [HEADER]) for i in range(len(HEADER))]

    def render(cells):
        return "  ".join(str(c).rjust(w) if i >= 2 else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [f"machine: {_machine_line(result)}"]
    warning = busy_warning(result)
    if warning:
        out.append(warning)
    out += [render(HEADER), render(["-" * w for w in widths])]
    out += [render(line) for line in lines]
    out.append("")
    out.append(RATIO_NOTE)
    for row in result["rows"]:
        if row.get("detail") and "unavailable" not in row:
            out.append(f"- {row['name']}: {row['detail']}")
    return "\n".join(out)


def format_markdown(result):
    lines = table_cells(result)
    warning = busy_warning(result)
    out = [f"Measured with `{result['settings']['command']}` on: {_machine_line(result)}.", "",
           *([warning, ""] if warning else []),
           "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * 5) + "|"]
    out += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines]
    out += ["", RATIO_NOTE, ""]
    out += [f"- **{row['name']}**: {row['detail']}" for row in result["rows"]
            if row.get("detail") and "unavailable" not in row]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------ cli
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="chainrule against PyTorch and scikit-learn, one table")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (fewer repeats, less data)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: what NumPy's BLAS uses)")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated sections of {SECTIONS + ZOO_SECTIONS} (default: those of --suite)")
    parser.add_argument("--suite", choices=tuple(SUITES), default="default",
                        help=f"default: {', '.join(SECTIONS)}; zoo: {', '.join(ZOO_SECTIONS)} (minutes); all: both")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown (for the README)")
    args = parser.parse_args(argv)
    if args.only is None:
        sections = list(SUITES[args.suite])
    else:
        sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SUITES["all"]]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SUITES['all'])}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be a positive integer, got {args.threads}")
        limit_blas_threads(args.threads)

    result = run(sections, quick=args.quick, threads=args.threads)
    print(format_text(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(format_markdown(result))


if __name__ == "__main__":
    main()
