"""Forward + backward time of single ops, chainrule against PyTorch, on float32 tensors.

    python -m benchmarks.ops [--repeats-seconds 0.4] [--json PATH]

Cases (each timed as: clear the inputs' gradients, run the op, backpropagate an upstream gradient):

- ``add``:            a + b,     a, b of shape (n, n), both requiring grad
- ``matmul``:         a @ b,     a, b of shape (n, n), both requiring grad
- ``relu``:           relu(a),   a of shape (n, n)
- ``cross_entropy``:  mean cross-entropy of logits (n, n) (n samples, n classes) against n int class indices

with n = 64 ("small") and n = 512 ("medium"). The implementations run interleaved after a warm-up
(see benchmarks/_common.py); each cell is the median of its repeats. torch runs with as many intra-op
threads as NumPy's BLAS may use: ``OMP_NUM_THREADS`` if set, else ``os.cpu_count()``.
ratio = torch µs / chainrule µs, so > 1 means chainrule is faster.

On a machine that other work keeps busy, run with ``OMP_NUM_THREADS=1``: torch's worker threads
spin-wait and its times explode (tens of ms for a 64x64 op) when there are fewer free cores than threads.
"""

import argparse
import json
import os
import time

import numpy

from ._common import import_torch, interleaved, machine_info, median

SIZES = [("small", 64), ("medium", 512)]
OPS = ["add", "matmul", "relu", "cross_entropy"]


def _threads():
    value = os.environ.get("OMP_NUM_THREADS")
    try:
        return max(1, int(value)) if value else (os.cpu_count() or 1)
    except ValueError:
        return os.cpu_count() or 1


def _arrays(op, n, seed=0):
    rng = numpy.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=numpy.float32)
    b = rng.standard_normal((n, n), dtype=numpy.float32)
    g = rng.standard_normal((n, n), dtype=numpy.float32)
    target = rng.integers(0, n, size=n)
    return {"a": a, "b": b, "g": g, "target": target}


def chainrule_case(op, n):
    """A callable doing one forward + backward of ``op`` in chainrule."""
    import chainrule as cr

    data = _arrays(op, n)
    a = cr.Tensor(data["a"], requires_grad=True)
    b = cr.Tensor(data["b"], requires_grad=True)
    g, target = data["g"], data["target"]

    if op == "add":
        def step():
            a.grad = b.grad = None
            (a + b).backward(g)
    elif op == "matmul":
        def step():
            a.grad = b.grad = None
            (a @ b).backward(g)
    elif op == "relu":
        def step():
            a.grad = None
            cr.relu(a).backward(g)
    elif op == "cross_entropy":
        def step():
            a.grad = None
            cr.cross_entropy(a, target).backward()
    else:
        raise ValueError(f"benchmarks.ops: unknown op {op!r}")
    return step


def torch_case(torch, op, n):
    """The same forward + backward in PyTorch."""
    data = _arrays(op, n)
    a = torch.tensor(data["a"], requires_grad=True)
    b = torch.tensor(data["b"], requires_grad=True)
    g, target = torch.from_numpy(data["g"]), torch.from_numpy(data["target"])
    functional = torch.nn.functional

    if op == "add":
        def step():
            a.grad = b.grad = None
            (a + b).backward(g)
    elif op == "matmul":
        def step():
            a.grad = b.grad = None
            (a @ b).backward(g)
    elif op == "relu":
        def step():
            a.grad = None
            torch.relu(a).backward(g)
    elif op == "cross_entropy":
        def step():
            a.grad = None
            functional.cross_entropy(a, target).backward()
    else:
        raise ValueError(f"benchmarks.ops: unknown op {op!r}")
    return step


def _repeats(fns, seconds):
    """Enough repeats that each implementation runs about ``seconds`` in total (20 to 5000)."""
    slowest = 0.0
    for fn in fns:
        start = time.perf_counter()
        fn()
        slowest = max(slowest, time.perf_counter() - start)
    return int(min(5000, max(20, seconds / max(slowest, 1e-7))))


def run(seconds=0.4, ops=OPS, sizes=SIZES):
    threads = _threads()
    torch = import_torch(threads)
    rows = []
    for op in ops:
        for label, n in sizes:
            fns = [chainrule_case(op, n)]
            if torch is not None:
                fns.append(torch_case(torch, op, n))
            repeats = _repeats(fns, seconds)
            times = interleaved(fns, repeats, warmup=max(3, repeats // 20))
            ours = median(times[0]) * 1e6
            theirs = median(times[1]) * 1e6 if torch is not None else None
            rows.append(
                {
                    "op": op,
                    "size": f"{label} ({n}x{n})",
                    "chainrule_us": ours,
                    "torch_us": theirs,
                    "ratio": theirs / ours if theirs is not None else None,
                    "repeats": repeats,
                }
            )
    return {"threads": threads, "torch_installed": torch is not None, "rows": rows}


def format_table(report):
    lines = [
        f"{'op':<14} {'size':<18} {'chainrule µs':>13} {'torch µs':>13} {'ratio':>7}",
        "-" * 69,
    ]
    for row in report["rows"]:
        torch_cell = f"{row['torch_us']:13.1f}" if row["torch_us"] is not None else f"{'not installed':>13}"
        ratio_cell = f"{row['ratio']:7.2f}" if row["ratio"] is not None else f"{'-':>7}"
        lines.append(f"{row['op']:<14} {row['size']:<18} {row['chainrule_us']:13.1f} {torch_cell} {ratio_cell}")
    lines.append(
        f"(medians; torch threads = {report['threads']}; ratio = torch/chainrule, > 1 means chainrule is faster)"
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Forward+backward time of single ops: chainrule vs PyTorch.")
    parser.add_argument("--repeats-seconds", type=float, default=0.4, help="time budget per cell and implementation")
    parser.add_argument("--json", metavar="PATH", help="also write the results (and machine details) as JSON")
    args = parser.parse_args(argv)
    report = run(seconds=args.repeats_seconds)
    print(format_table(report))
    if args.json:
        report["machine"] = machine_info()
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
        print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
