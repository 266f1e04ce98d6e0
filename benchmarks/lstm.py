"""LSTM training throughput: chainrule against PyTorch CPU, same model, same data, same thread count.

    python -m benchmarks.lstm [--quick] [--threads N] [--cell gru]  # the table: 1 thread, then all BLAS threads
    python -m benchmarks.lstm --rss chainrule|torch [--numpy-path]  # child mode: a few steps, prints peak RSS

``--cell gru`` measures the same model with a GRU layer in place of the LSTM (both peers).

Model: one LSTM layer (input 32, hidden 128) over sequences of 50 steps, batch 32, float32; the
last step's output -> Linear(128, 10) -> cross-entropy; Adam (lr 1e-3). One training step =
forward, backward, optimizer step. Both peers start from the same weights and see the same
batches (PyTorch's weight layout is chainrule's), so their losses should agree.

* chainrule: ``nn.LSTM`` (the fused op with the hand-written backward through time) +
  ``nn.last_step`` + ``nn.Linear`` + ``cross_entropy``, ``optim.Adam``.
* PyTorch: ``torch.nn.LSTM`` + ``nn.Linear`` + ``F.cross_entropy``, ``torch.optim.Adam``
  (``foreach`` implementation, the default), ``torch.set_num_threads(threads)``.

Timing: blocks of steps of the peers run interleaved (see ``benchmarks/_common.py``); the
table gives the median sequences/s over blocks after a warm-up block, and the ratio to PyTorch
(with more than one thread, blocks are separated by a pause: see ``benchmarks._common.SETTLE_SECONDS``).
Peak memory: each peer trains in a fresh child process; its peak RSS (VmHWM) is reported.

Two chainrule rows: the default (the LSTM op's compiled step kernels when numba is installed, the
``fast`` extra) and the NumPy path alone (kernels turned off for that peer's steps), both measured
in the same interleaved run against the same PyTorch.

Where the time goes (chainrule, one thread, per training step of ~15 ms with the kernels): the
matrix products are ~10.5 ms (50 + 50 per-step products W·[h; x_t; 1] (512×161 by 161×32) and
W_hhᵀ·dA, ~3.3 ms for [dW_hh, dW_ih, db] = Σ dA·[h; x; 1]ᵀ over all steps) and run at the BLAS's
speed, as PyTorch's do. The cell's element-wise work is one compiled pass per step each way (~20
and ~5 µs); the NumPy path instead makes 9 NumPy calls per step forward and 5 backward plus
whole-sequence passes for the backward's factors (~3 ms more in all). With more than one thread,
each per-step product may be split across BLAS threads or not, whichever the loop measures faster
(see ``chainrule.ops.threads``); the whole-sequence products use all threads.
"""

import argparse

import numpy

from ._common import NUMPY_PATH, emit, import_torch, interleaved, median, peak_rss_mb, run_child

SEQ, INPUT, HIDDEN, BATCH, CLASSES = 50, 32, 128, 32, 10
LR = 1e-3
SEED = 0
PEERS = ("chainrule", "torch")


def make_data(batches, seed=SEED):
    """``batches`` random batches: inputs (B, T, I) float32 and labels that depend on the sequence
    (the class of the sign pattern of a few early steps), so training actually learns something."""
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((batches, BATCH, SEQ, INPUT)).astype(numpy.float32)
    y = ((x[:, :, :4, 0] > 0) * numpy.array([1, 2, 4, 8])[None, None, :]).sum(axis=2) % CLASSES
    return x, y.astype(numpy.int64)


class ChainruleLSTM:
    name = "chainrule"

    def __init__(self, data, numpy_path=False, cell="lstm"):
        from chainrule import nn
        from chainrule.ops import compiled
        from chainrule.ops.loss import cross_entropy
        from chainrule.optim import Adam

        self.x, self.y = data
        self.compiled, self.numpy_path = compiled, numpy_path
        if numpy_path:
            self.name = NUMPY_PATH
        self.lstm = (nn.GRU if cell == "gru" else nn.LSTM)(INPUT, HIDDEN, batch_first=True, seed=SEED)
        self.head = nn.Linear(HIDDEN, CLASSES, seed=SEED + 1)
        self.params = list(self.lstm.parameters()) + list(self.head.parameters())
        self.optimizer = Adam(self.params, lr=LR)
        self.cross_entropy, self.last_step = cross_entropy, nn.last_step
        self.i = 0

    def weights(self):
        return {**{f"lstm.{k}": v for k, v in self.lstm.state_dict().items()},
                **{f"head.{k}": v for k, v in self.head.state_dict().items()}}

    def step(self):
        x, y = self.x[self.i % len(self.x)], self.y[self.i % len(self.y)]
        self.i += 1
        enabled = self.compiled.ENABLED
        self.compiled.ENABLED = enabled and not self.numpy_path  # the NumPy-path peer: no kernel at all
        try:
            output, _ = self.lstm(x)
            loss = self.cross_entropy(self.head(self.last_step(output, batch_first=True)), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        finally:
            self.compiled.ENABLED = enabled
        return loss.item()


def kernels_in_use(cell="lstm"):
    """What runs the cell's element-wise work: 'numba X.Y' or why the NumPy path does."""
    from chainrule.ops import compiled, recurrent_kernels

    if not compiled.ENABLED:
        return "NumPy path (CHAINRULE_NUMBA=0)"
    if getattr(recurrent_kernels, cell)(numpy.float32) is None:
        return "NumPy path (numba not installed)"
    import numba

    return f"compiled kernels, numba {numba.__version__}"


class TorchLSTM:
    name = "torch"

    def __init__(self, data, torch, weights=None, cell="lstm"):
        self.torch = torch
        self.x = torch.from_numpy(data[0])
        self.y = torch.from_numpy(data[1])
        self.lstm = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(INPUT, HIDDEN, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, CLASSES)
        if weights is not None:
            self.lstm.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in weights.items() if k.startswith("lstm.")})
            self.head.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in weights.items() if k.startswith("head.")})
        self.optimizer = torch.optim.Adam(list(self.lstm.parameters()) + list(self.head.parameters()), lr=LR)
        self.i = 0

    def step(self):
        x, y = self.x[self.i % len(self.x)], self.y[self.i % len(self.y)]
        self.i += 1
        output, _ = self.lstm(x)
        loss = self.torch.nn.functional.cross_entropy(self.head(output[:, -1]), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def make_peers(data, threads, cell="lstm"):
    peers = [ChainruleLSTM(data, cell=cell)]
    if kernels_in_use(cell).startswith("compiled"):
        peers.append(ChainruleLSTM(data, numpy_path=True, cell=cell))
    torch = import_torch(threads)
    missing = {}
    if torch is None:
        missing["torch"] = "not installed"
    else:
        peers.append(TorchLSTM(data, torch, peers[0].weights(), cell=cell))
    return peers, missing


def rows(quick=False, threads=1, cell="lstm"):
    """Rows for the suite: training throughput (sequences/s) with the default LSTM (or GRU) op and
    with its NumPy path alone, the final losses, peak memory."""
    data = make_data(8)
    peers, missing = make_peers(data, threads, cell)
    title = cell.upper()
    steps_per_block = 5 if quick else 10
    blocks = 3 if quick else 15

    def block(peer):
        def run():
            for _ in range(steps_per_block):
                peer.step()

        return run

    times = interleaved([block(p) for p in peers], repeats=blocks, warmup=1, threads=threads)
    throughput = {peer.name: steps_per_block * BATCH / median(t) for peer, t in zip(peers, times)}
    samples = {peer.name: [round(steps_per_block * BATCH / s, 1) for s in t] for peer, t in zip(peers, times)}
    detail = (f"{title} {INPUT}->{HIDDEN}, {SEQ} steps, batch {BATCH}, last step -> Linear({HIDDEN}, {CLASSES}) -> "
              f"cross-entropy, Adam, float32; {threads} thread(s); median of {blocks} interleaved blocks of "
              f"{steps_per_block} steps; {kernels_in_use(cell)}")
    rows_out = []
    for label, ours, note in [(f"{title} training", "chainrule", detail),
                              (f"{title} training, NumPy path only", NUMPY_PATH,
                               "the same run, the compiled kernels turned off for this peer (as without numba)")]:
        if ours not in throughput:
            continue
        values = {"chainrule": throughput[ours]}
        if "torch" in throughput:
            values["torch"] = throughput["torch"]
        rows_out.append({"name": label, "unit": "sequences/s", "better": "higher", "detail": note,
                         "values": values, "missing": dict(missing),
                         "samples": {"chainrule": samples[ours], **({"torch": samples["torch"]} if "torch" in samples else {})}})
    loss = {"name": f"{title} loss after the timed steps", "unit": "", "better": "agreement",
            "detail": "same initial weights and batches", "values": {}, "missing": dict(missing)}
    for peer in peers:
        if peer.name in ("chainrule", "torch"):
            loss["values"][peer.name] = peer.step()
    memory = {"name": f"{title} training peak memory", "unit": "MB (RSS)", "better": "lower",
              "detail": "fresh process: import, build, 20 training steps (with numba: its compiler too)",
              "values": {}, "missing": dict(missing)}
    memory_numpy = {"name": f"{title} training peak memory, NumPy path only", "unit": "MB (RSS)", "better": "lower",
                    "detail": "the same, the compiled kernels turned off", "values": {}, "missing": dict(missing)}
    children = [(memory, "chainrule", []), (memory, "torch", []), (memory_numpy, "torch", [])]
    if len(rows_out) > 1:
        children.insert(2, (memory_numpy, "chainrule", ["--numpy-path"]))
    for row, name, extra in children:
        if name in missing:
            continue
        if row is memory_numpy and name == "torch":  # the same child as above: reuse its figure
            if "torch" in memory["values"]:
                row["values"]["torch"] = memory["values"]["torch"]
            continue
        child = run_child("lstm", ["--rss", name, "--threads", str(threads), "--cell", cell, *extra])
        if "error" in child:
            row["missing"][name] = child["error"]
        else:
            row["values"][name] = child["peak_rss_mb"]
    memory_rows = [memory] + ([memory_numpy] if "chainrule" in memory_numpy["values"] else [])
    return rows_out + [loss] + memory_rows


def rss_child(peer, threads, numpy_path=False, cell="lstm"):
    """Child mode: build one peer, train 20 steps, report the process's peak RSS (MB)."""
    data = make_data(4)
    if peer == "chainrule" and numpy_path:
        from chainrule.ops import compiled

        compiled.ENABLED = False  # numba is then never imported
    model = ChainruleLSTM(data, cell=cell) if peer == "chainrule" else TorchLSTM(data, import_torch(threads), cell=cell)
    for _ in range(20):
        model.step()
    emit({"peak_rss_mb": peak_rss_mb()})


def print_table(table, threads):
    print(f"-- {threads} thread(s): {table[0]['detail']}")
    for row in table:
        cells = []
        reference = row["values"].get("torch") if row["unit"] == "sequences/s" else None
        for name, value in row["values"].items():
            cell = f"{name} {value:,.1f}" if row["unit"] else f"{name} {value:.4f}"
            if reference and name != "torch":
                cell += f" ({value / reference:.2f}x torch)"
            cells.append(cell)
        cells += [f"{name}: {why}" for name, why in row["missing"].items()]
        print(f"{row['name']}{' (' + row['unit'] + ')' if row['unit'] else ''}: " + ", ".join(cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description="LSTM training benchmark (see the module docstring)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="thread count for both peers (default: 1 and then all the BLAS threads)")
    parser.add_argument("--rss", choices=PEERS, help="child mode: a few training steps, print peak RSS")
    parser.add_argument("--numpy-path", action="store_true", help="child mode: the LSTM op's NumPy path only")
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm", help="the recurrent layer measured")
    args = parser.parse_args(argv)
    from ._common import blas_threads, limit_blas_threads, machine_info, use_threads

    if args.rss:
        rss_child(args.rss, use_threads(args.threads), args.numpy_path, args.cell)
        return
    counts = [args.threads] if args.threads else sorted({1, blas_threads()})
    info = machine_info()
    print(f"{info['cpu']}, {info['logical_cpus']} logical CPUs, load {info.get('load_average_at_start')}; "
          f"numpy {info['numpy']} ({info['blas']}), torch {info['torch']}")
    for threads in counts:
        limit_blas_threads(threads)
        print_table(rows(args.quick, threads, args.cell), threads)


if __name__ == "__main__":
    main()
