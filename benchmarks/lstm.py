"""LSTM training throughput: chainrule against PyTorch CPU, same model, same data, same thread count.

    python -m benchmarks.lstm [--quick] [--threads N]       # the table: 1 thread, then all BLAS threads
    python -m benchmarks.lstm --rss chainrule|torch           # child mode: a few steps, prints peak RSS

Model: one LSTM layer (input 32, hidden 128) over sequences of 50 steps, batch 32, float32; the
last step's output -> Linear(128, 10) -> cross-entropy; Adam (lr 1e-3). One training step =
forward, backward, optimizer step. Both peers start from the same weights and see the same
batches (PyTorch's weight layout is chainrule's), so their losses should agree.

* chainrule: ``nn.LSTM`` (the fused op with the hand-written backward through time) +
  ``nn.last_step`` + ``nn.Linear`` + ``cross_entropy``, ``optim.Adam``.
* PyTorch: ``torch.nn.LSTM`` + ``nn.Linear`` + ``F.cross_entropy``, ``torch.optim.Adam``
  (``foreach`` implementation, the default), ``torch.set_num_threads(threads)``.

Timing: blocks of steps of the two peers run interleaved (see ``benchmarks/_common.py``); the
table gives the median sequences/s over blocks after a warm-up block, and the ratio to PyTorch.
Peak memory: each peer trains in a fresh child process; its peak RSS (VmHWM) is reported.

Where the time goes (chainrule, one thread, per training step of ~20 ms CPU): the matrix products
are ~11.5 ms (50 + 50 per-step products W·[h; x_t; 1] (512×161 by 161×32) and W_hhᵀ·dA, ~3.5 ms
for [dW_hh, dW_ih, db] = Σ dA·[h; x; 1]ᵀ over all steps) and run at the BLAS's speed, as PyTorch's
do; the rest is the cell's element-wise work: 9 NumPy calls per step forward (one tanh over all
four gates) and 7 backward, each over a whole contiguous (H, B) or (4, H, B) block (the op works
feature-major internally), plus ~1 ms of whole-sequence passes (backward factors, layout copies).
PyTorch's oneDNN LSTM kernel fuses a step's element-wise work into one pass. With two threads,
OpenBLAS would split each small per-step product across them (a synchronisation per call, a large
loss on a loaded machine), so the time loops run with one BLAS thread (see
``chainrule.ops.recurrent._OneBlasThread``); oneDNN parallelises the whole cell.
"""

import argparse

import numpy

from ._common import emit, import_torch, interleaved, median, peak_rss_mb, run_child

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

    def __init__(self, data):
        from chainrule import nn
        from chainrule.ops.loss import cross_entropy
        from chainrule.optim import Adam

        self.x, self.y = data
        self.lstm = nn.LSTM(INPUT, HIDDEN, batch_first=True, seed=SEED)
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
        output, _ = self.lstm(x)
        loss = self.cross_entropy(self.head(self.last_step(output, batch_first=True)), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class TorchLSTM:
    name = "torch"

    def __init__(self, data, torch, weights=None):
        self.torch = torch
        self.x = torch.from_numpy(data[0])
        self.y = torch.from_numpy(data[1])
        self.lstm = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True)
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


def make_peers(data, threads):
    peers = [ChainruleLSTM(data)]
    torch = import_torch(threads)
    missing = {}
    if torch is None:
        missing["torch"] = "not installed"
    else:
        peers.append(TorchLSTM(data, torch, peers[0].weights()))
    return peers, missing


def rows(quick=False, threads=1):
    """Rows for the suite: training throughput (sequences/s), the final losses, peak memory."""
    data = make_data(8)
    peers, missing = make_peers(data, threads)
    steps_per_block = 5 if quick else 10
    blocks = 3 if quick else 15

    def block(peer):
        def run():
            for _ in range(steps_per_block):
                peer.step()

        return run

    times = interleaved([block(p) for p in peers], repeats=blocks, warmup=1)
    detail = (f"LSTM {INPUT}->{HIDDEN}, {SEQ} steps, batch {BATCH}, last step -> Linear({HIDDEN}, {CLASSES}) -> "
              f"cross-entropy, Adam, float32; {threads} thread(s); median of {blocks} blocks of {steps_per_block} steps")
    training = {"name": "LSTM training", "unit": "sequences/s", "better": "higher", "detail": detail,
                "values": {}, "missing": dict(missing)}
    loss = {"name": "LSTM loss after the timed steps", "unit": "", "better": "agreement",
            "detail": "same initial weights and batches", "values": {}, "missing": dict(missing)}
    for peer, t in zip(peers, times):
        training["values"][peer.name] = steps_per_block * BATCH / median(t)
        training.setdefault("samples", {})[peer.name] = [round(steps_per_block * BATCH / s, 1) for s in t]
        loss["values"][peer.name] = peer.step()
    memory = {"name": "LSTM training peak memory", "unit": "MB (RSS)", "better": "lower",
              "detail": "fresh process: import, build, 20 training steps", "values": {}, "missing": dict(missing)}
    for peer in peers:
        child = run_child("lstm", ["--rss", peer.name, "--threads", str(threads)])
        if "error" in child:
            memory["missing"][peer.name] = child["error"]
        else:
            memory["values"][peer.name] = child["peak_rss_mb"]
    return [training, loss, memory]


def rss_child(peer, threads):
    """Child mode: build one peer, train 20 steps, report the process's peak RSS (MB)."""
    data = make_data(4)
    model = ChainruleLSTM(data) if peer == "chainrule" else TorchLSTM(data, import_torch(threads))
    for _ in range(20):
        model.step()
    emit({"peak_rss_mb": peak_rss_mb()})


def print_table(table, threads):
    reference = table[0]["values"].get("torch")
    print(f"-- {threads} thread(s): {table[0]['detail']}")
    for row in table:
        cells = []
        for name, value in row["values"].items():
            cell = f"{name} {value:,.1f}" if row["unit"] else f"{name} {value:.4f}"
            if row is table[0] and reference and name != "torch":
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
    args = parser.parse_args(argv)
    from ._common import blas_threads, limit_blas_threads, machine_info

    if args.rss:
        if args.threads:
            limit_blas_threads(args.threads)
        rss_child(args.rss, args.threads or blas_threads())
        return
    counts = [args.threads] if args.threads else sorted({1, blas_threads()})
    info = machine_info()
    print(f"{info['cpu']}, {info['logical_cpus']} logical CPUs, load {info.get('load_average_at_start')}; "
          f"numpy {info['numpy']} ({info['blas']}), torch {info['torch']}")
    for threads in counts:
        limit_blas_threads(threads)
        print_table(rows(args.quick, threads), threads)


if __name__ == "__main__":
    main()
