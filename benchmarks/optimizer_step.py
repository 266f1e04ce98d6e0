"""Time one optimizer step on the parameters of a 784-256-128-10 MLP (235,146 float32 values).

    python -m benchmarks.optimizer_step [--threads 1] [--repeats 300]

Compares chainrule.optim (flat buffers, whole-buffer in-place ufuncs) with torch.optim at the same
thread count (``torch.set_num_threads``; NumPy's elementwise ufuncs are single-threaded, so the
default is 1), and, for context, a naive per-parameter NumPy Adam that allocates its temporaries.
Reports medians (calls interleaved round-robin) after warm-up and the ratio to torch.optim's default implementation.
"""

import argparse
import statistics
import time

import numpy

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]


def _medians_us(fns, repeats, warmup):
    """Median time of each function; the calls are interleaved round-robin so that load changes
    on the machine hit every implementation alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) * 1e6 for bucket in times]


def _arrays(seed):
    rng = numpy.random.default_rng(seed)
    values = [rng.standard_normal(s, dtype=numpy.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s, dtype=numpy.float32) * 1e-3 for s in SHAPES]
    return values, grads


def chainrule_step(kind):
    from chainrule import optim
    from chainrule.tensor import Tensor

    values, grads = _arrays(0)
    params = [Tensor(v.copy(), requires_grad=True) for v in values]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    opt = optim.Adam(params, lr=1e-3) if kind == "adam" else optim.SGD(params, lr=1e-3, momentum=0.9)
    return opt.step


def torch_step(kind, variant):
    import torch

    values, grads = _arrays(0)
    params = [torch.tensor(v, requires_grad=True) for v in values]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    extra = {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}[variant]
    if kind == "adam":
        opt = torch.optim.Adam(params, lr=1e-3, **extra)
    else:
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, **extra)
    return opt.step


def naive_step(kind):
    """The textbook loop: per parameter, expressions that allocate their temporaries."""
    values, grads = _arrays(0)
    lr, b1, b2, eps, momentum = 1e-3, 0.9, 0.999, 1e-8, 0.9
    m = [numpy.zeros_like(v) for v in values]
    v2 = [numpy.zeros_like(v) for v in values]
    t = [0]

    def adam():
        t[0] += 1
        for i, (p, g) in enumerate(zip(values, grads)):
            m[i] = b1 * m[i] + (1 - b1) * g
            v2[i] = b2 * v2[i] + (1 - b2) * g * g
            m_hat = m[i] / (1 - b1 ** t[0])
            v_hat = v2[i] / (1 - b2 ** t[0])
            p -= lr * m_hat / (numpy.sqrt(v_hat) + eps)

    def sgd():
        for i, (p, g) in enumerate(zip(values, grads)):
            m[i] = momentum * m[i] + g
            p -= lr * m[i]

    return adam if kind == "adam" else sgd


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)

    n = sum(int(numpy.prod(s)) for s in SHAPES)
    print(f"one optimizer step, 784-256-128-10 MLP: {len(SHAPES)} tensors, {n:,} float32 values; "
          f"torch threads = {args.threads}; median of {args.repeats} after {args.warmup} warm-up steps")
    print(f"{'optimizer':<14} {'implementation':<28} {'median µs':>10} {'vs torch':>9}")
    for kind, label in (("adam", "Adam"), ("sgd", "SGD momentum")):
        rows = [("chainrule.optim", chainrule_step(kind))]
        if torch is not None:
            rows.append(("torch.optim (default)", torch_step(kind, "default")))
            rows.append(("torch.optim foreach=True", torch_step(kind, "foreach")))
            try:
                rows.append(("torch.optim fused=True", torch_step(kind, "fused")))
            except (RuntimeError, ValueError):  # fused CPU kernels missing in this torch build
                pass
        rows.append(("naive per-param NumPy", naive_step(kind)))
        medians = _medians_us([fn for _, fn in rows], args.repeats, args.warmup)
        timings = [(name, us) for (name, _), us in zip(rows, medians)]
        reference = dict(timings).get("torch.optim (default)")
        for name, us in timings:
            ratio = f"{us / reference:8.2f}x" if reference else "       -"
            print(f"{label:<14} {name:<28} {us:10.1f} {ratio:>9}")


if __name__ == "__main__":
    main()
