"""The networks people actually train (issue 16): chainrule against PyTorch, one case at a time.

    python -m benchmarks --suite zoo [--quick] [--threads 1|2]      # every case below, one table
    python -m benchmarks --only resnet,lstm_lm                        # some sections
    python -m benchmarks.resnet [--quick] [--threads N] [--profile]   # one section alone
    python -m benchmarks.zoo --worker PEER --case CASE ...            # internal: one peer, driven over stdin

Sections (modules) and their cases (networks in ``benchmarks/models.py``):

* ``resnet``     ResNet-20 (CIFAR, 3×32×32) training at batch 32 and 128; ``--profile`` prints the per-op
                 breakdown of one training step (``benchmarks/profile_step.py``)
* ``vgg``        VGG-style 32×32 net, training at batch 32
* ``mobilenet``  MobileNetV2 inverted-residual blocks at 32×32, training at batch 32
* ``resnet18``   ResNet-18 at 224×224: training at batch 8; inference (``eval()`` under ``no_grad``) at
                 batch 1 and 8
* ``lstm_lm``    2-layer LSTM language model (vocabulary 10,000, embedding and hidden 200, 35 steps, batch
                 20; cross-entropy over every position), training

Training step: forward, cross-entropy, ``zero_grad``, backward, Adam (lr 1e-3) step, ``loss.item()``.
Inference step: one forward pass (``eval()``, under ``no_grad``); inference cases also run a third worker,
chainrule with each batch norm folded into its convolution (``chainrule.nn.utils.fuse_conv_bn_model``;
PyTorch stays unfused). The peers start from the same weights (the parent builds the chainrule network
once and hands its state dict to every worker; the names are PyTorch's) and see the same batches (random
N(0, 1) images with random labels, random token ids: speed does not depend on the values), so the losses
after the timed steps agree (they are in the rows' details).

Timing: as ``benchmarks/cnn.py``: each peer in its own worker process, blocks of steps taken in turns
(round-robin, the starting peer rotating, a pause between blocks with more than one thread), after one
warm-up block; the median samples/s over blocks. Memory: each case gets fresh workers; the peak RSS of
each (import, model, data, every step) is the memory row; the RSS after building (before the first step)
is in the row's detail, since a process that imported torch starts ~300 MB higher.

Findings so far: see ``benchmarks/README-zoo.md``.
"""

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy

from ._common import Worker, emit, import_torch, median, peak_rss_mb, rotations, settle

PEERS = ("chainrule", "torch")
FUSED = "chainrule-fused"  # inference cases: chainrule with each BN folded into its conv (nn.utils.fuse_conv_bn_model)
LR = 1e-3
SEED = 0


@dataclass(frozen=True)
class Case:
    """One benchmark case: a network of ``benchmarks.models``, training or inference, a batch shape."""

    name: str
    net: str
    batch: int
    mode: str = "train"  # or "infer"
    image: int = 32  # image side (3 × image × image); 0 for token sequences
    steps: int = 3  # steps per block (full run); quick runs halve it
    blocks: int = 7  # timed blocks (full run); quick runs take 3
    batches: int = 4  # distinct batches the steps cycle through
    seq: int = 35  # token sequences: time steps

    @property
    def title(self):
        what = {"resnet20": "ResNet-20 CIFAR", "vgg": "VGG-style 32×32", "mobilenetv2": "MobileNetV2 blocks 32×32",
                "resnet18": "ResNet-18 224×224", "lstm_lm": "LSTM LM (2 layers)"}[self.net]
        return f"{what} {'training' if self.mode == 'train' else 'inference'}, batch {self.batch}"

    def plan(self, quick):
        """(steps per block, timed blocks)."""
        return (max(1, self.steps // 2), 3) if quick else (self.steps, self.blocks)


CASES = {c.name: c for c in (
    Case("resnet20-b32", "resnet20", 32, steps=4),
    Case("resnet20-b128", "resnet20", 128, steps=1, blocks=5),
    Case("vgg-b32", "vgg", 32, steps=4),
    Case("mobilenetv2-b32", "mobilenetv2", 32, steps=2),
    Case("resnet18-train-b8", "resnet18", 8, image=224, steps=1, blocks=3, batches=2),
    Case("resnet18-infer-b1", "resnet18", 1, mode="infer", image=224, steps=4, blocks=5),
    Case("resnet18-infer-b8", "resnet18", 8, mode="infer", image=224, steps=1, blocks=5, batches=2),
    Case("lstm_lm-b20", "lstm_lm", 20, image=0, steps=3, blocks=5),
)}

SECTIONS = {
    "resnet": ("resnet20-b32", "resnet20-b128"),
    "vgg": ("vgg-b32",),
    "mobilenet": ("mobilenetv2-b32",),
    "resnet18": ("resnet18-train-b8", "resnet18-infer-b1", "resnet18-infer-b8"),
    "lstm_lm": ("lstm_lm-b20",),
}


# ------------------------------------------------------------------------------------ data
def make_data(case, seed=SEED):
    """``case.batches`` batches: images (n, B, 3, S, S) float32 and labels (n, B), or token ids (n, B, T)
    and next-token targets (n, B·T)."""
    from .models import VOCAB

    rng = numpy.random.default_rng(seed)
    n, b = case.batches, case.batch
    if case.net == "lstm_lm":
        tokens = rng.integers(0, VOCAB, (n, b, case.seq + 1))
        return tokens[:, :, :-1].copy(), tokens[:, :, 1:].reshape(n, -1).copy()
    classes = 1000 if case.net == "resnet18" else 10
    x = rng.standard_normal((n, b, 3, case.image, case.image), dtype=numpy.float32)
    return x, rng.integers(0, classes, (n, b))


def write_inputs(case, path):
    """The batches and the chainrule network's initial weights, in one .npz the workers read."""
    from chainrule import nn

    from .models import build, weights_of

    x, y = make_data(case)
    weights = weights_of(build(case.net, nn))
    numpy.savez(path, x=x, y=y, **{f"w/{k}": v for k, v in weights.items()})


def read_inputs(path):
    with numpy.load(path) as f:
        weights = {k[2:]: f[k] for k in f.files if k.startswith("w/")}
        return f["x"], f["y"], weights


# ------------------------------------------------------------------------------------ peers
class ChainrulePeer:
    """The case's network from ``chainrule.nn``, Adam, ``cross_entropy``; ``step()`` runs one step."""

    def __init__(self, case, x, y, weights, fuse=False):
        import chainrule
        from chainrule import nn
        from chainrule.ops.loss import cross_entropy
        from chainrule.optim import Adam

        from .models import build, load_weights

        self.case, self.x, self.y, self.i = case, x, y, 0
        self.model = build(case.net, nn)
        load_weights(self.model, weights)
        self.cross_entropy, self.no_grad = cross_entropy, chainrule.no_grad
        if case.mode == "train":
            self.optimizer = Adam(self.model.parameters(), lr=LR)
        else:
            self.model.eval()
            if fuse:
                from chainrule.nn.utils import fuse_conv_bn_model

                self.model = fuse_conv_bn_model(self.model, inplace=True)

    def batch(self):
        k = self.i % len(self.x)
        self.i += 1
        return self.x[k], self.y[k]

    def forward_loss(self, x, y):
        return self.cross_entropy(self.model(x), y)

    def step(self):
        x, y = self.batch()
        if self.case.mode == "infer":
            with self.no_grad():
                return float(numpy.asarray(self.model(x).data).mean())
        loss = self.forward_loss(x, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class TorchPeer(ChainrulePeer):
    """The same network from ``torch.nn``, ``torch.optim.Adam``, ``F.cross_entropy``."""

    def __init__(self, case, x, y, weights, torch):
        from .models import build, load_weights

        self.torch, self.case, self.i = torch, case, 0
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.model = build(case.net, torch.nn)
        load_weights(self.model, weights)
        self.cross_entropy, self.no_grad = torch.nn.functional.cross_entropy, torch.no_grad
        if case.mode == "train":
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        else:
            self.model.eval()

    def step(self):
        x, y = self.batch()
        if self.case.mode == "infer":
            with self.no_grad():
                return float(self.model(x).mean())
        loss = self.forward_loss(x, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def build_peer(name, case, threads, path):
    x, y, weights = read_inputs(path)
    if name in ("chainrule", FUSED):
        return ChainrulePeer(case, x, y, weights, fuse=name == FUSED)
    torch = import_torch(threads)
    if torch is None:
        raise ImportError("torch is not installed")
    return TorchPeer(case, x, y, weights, torch)


def rss_mb():
    """Current resident set size of this process (MB), from /proc; None elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------- workers
def worker(name, case, threads, path):
    """Child mode: one peer of one case, obeying ``block N`` (reply seconds), ``loss`` (one more step,
    reply its loss, or the mean output for inference) and ``quit`` (reply the peak RSS)."""
    peer = build_peer(name, case, threads, path)
    emit({"ready": True, "rss_built_mb": rss_mb()})
    for line in sys.stdin:
        command = line.split()
        if command[0] == "block":
            start = time.perf_counter()
            for _ in range(int(command[1])):
                peer.step()
            emit({"seconds": time.perf_counter() - start})
        elif command[0] == "loss":
            emit({"loss": peer.step()})
        else:
            emit({"peak_rss_mb": peak_rss_mb()})
            return


def measure(case, quick, threads):
    """Both peers of ``case`` in fresh worker processes, blocks interleaved. Returns
    ``{"values", "samples", "loss", "peak_rss_mb", "rss_built_mb", "missing", "steps", "blocks"}``."""
    steps, blocks = case.plan(quick)
    result = {"values": {}, "samples": {}, "loss": {}, "peak_rss_mb": {}, "rss_built_mb": {}, "missing": {},
              "steps": steps, "blocks": blocks}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "inputs.npz")
        write_inputs(case, path)
        workers = []
        for name in PEERS + ((FUSED,) if case.mode == "infer" else ()):
            try:
                w = Worker(name, "zoo", ["--case", case.name, "--threads", str(threads), "--data", path])
                workers.append(w)
                result["rss_built_mb"][name] = w.ready.get("rss_built_mb")
            except RuntimeError as error:
                result["missing"][name] = str(error)
        try:
            for w in workers:  # warm-up
                settle(threads)
                w.ask(f"block {steps}")
            times = {w.name: [] for w in workers}
            for turn in rotations(workers, blocks):
                for w in turn:
                    settle(threads)
                    times[w.name].append(w.ask(f"block {steps}")["seconds"])
            for w in workers:
                result["values"][w.name] = steps * case.batch / median(times[w.name])
                result["samples"][w.name] = [round(steps * case.batch / t, 2) for t in times[w.name]]
                result["loss"][w.name] = w.ask("loss")["loss"]
                result["peak_rss_mb"][w.name] = w.ask("quit")["peak_rss_mb"]
        finally:
            for w in workers:
                w.close()
    return result


def case_rows(case, quick, threads):
    """Two suite rows for one case: samples/s and peak memory."""
    m = measure(case, quick, threads)
    what = "loss" if case.mode == "train" else "mean output"
    agreement = ", ".join(f"{k} {v:.5f}" for k, v in m["loss"].items())
    built = ", ".join(f"{k} {v:,.0f} MB" for k, v in m["rss_built_mb"].items() if v is not None)
    best = {k: max(v) for k, v in m["samples"].items() if v}
    best_text = ", ".join(f"{k} {v:,.1f}" for k, v in best.items())
    if best.get("chainrule") and best.get("torch"):
        best_text += f" ({best['chainrule'] / best['torch']:.2f}×)"
    base = (f"{threads} thread(s); each peer in its own process, median of {m['blocks']} interleaved blocks of "
            f"{m['steps']} step(s); best block (least disturbed by other work): {best_text}; "
            f"{what} after them: {agreement}")
    speed = {"name": case.title, "unit": "samples/s", "better": "higher", "detail": base,
             "values": _only(m["values"], PEERS), "samples": _only(m["samples"], PEERS),
             "missing": _only(m["missing"], PEERS)}
    memory = {"name": f"{case.title}: peak memory", "unit": "MB (RSS)", "better": "lower",
              "detail": f"peak RSS of each worker process; RSS after import and build, before the first step: {built}",
              "values": _only(m["peak_rss_mb"], PEERS), "missing": _only(m["missing"], PEERS)}
    if case.mode == "train":
        return [speed, memory]
    renamed = {FUSED: "chainrule", "torch": "torch"}
    fused = {"name": f"{case.title}, BN folded into conv", "unit": "samples/s", "better": "higher",
             "detail": "the same run, a third worker: chainrule after nn.utils.fuse_conv_bn_model (PyTorch unfused)"
                       + (f"; its peak RSS {m['peak_rss_mb'][FUSED]:,.0f} MB" if FUSED in m["peak_rss_mb"] else ""),
             "values": _renamed(m["values"], renamed), "samples": _renamed(m["samples"], renamed),
             "missing": _renamed(m["missing"], renamed)}
    return [speed, fused, memory]


def _only(values, names):
    return {k: v for k, v in values.items() if k in names}


def _renamed(values, names):
    """The entries of ``values`` for the keys of ``names``, under their new names."""
    return {new: values[old] for old, new in names.items() if old in values}


def section_rows(section, quick=False, threads=1):
    """The rows of one section (``SECTIONS``)."""
    out = []
    for name in SECTIONS[section]:
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        out.extend(case_rows(CASES[name], quick, threads))
    return out


def print_rows(table):
    """The rows as plain lines (a section run alone)."""
    for row in table:
        reference = row["values"].get("torch")
        cells = []
        for name, value in row["values"].items():
            cell = f"{name} {value:,.1f}"
            if reference and name != "torch":
                cell += f" ({value / reference:.2f}x torch{'' if row['better'] == 'higher' else chr(39) + 's'})"
            cells.append(cell)
        cells += [f"{name}: {why}" for name, why in row["missing"].items()]
        print(f"{row['name']} ({row['unit']}): " + ", ".join(cells))
        print(f"  {row['detail']}")


def section_main(section, argv=None, extra=None):
    """``python -m benchmarks.<section>``: that section's rows, printed. ``extra(args, threads)``, when
    given, adds options (see benchmarks/resnet.py's ``--profile``)."""
    from ._common import use_threads

    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{section}",
                                     description=f"the {section} cases of the zoo benchmark (see benchmarks/zoo.py)")
    parser.add_argument("--quick", action="store_true", help="fewer and shorter blocks")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and PyTorch threads")
    if extra is not None:
        extra.add_arguments(parser)
    args = parser.parse_args(argv)
    threads = use_threads(args.threads)
    if extra is not None and extra.run(args, threads):
        return
    from ._common import machine_info

    info = machine_info()
    print(f"machine: {info['cpu']}, {info['logical_cpus']} CPUs, load average {info.get('load_average_at_start')}, "
          f"{threads} thread(s), numpy {info['numpy']}, torch {info['torch']}")
    print_rows(section_rows(section, args.quick, threads))
    if hasattr(os, "getloadavg"):
        print(f"load average at end: {[round(x, 2) for x in os.getloadavg()]}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.zoo", description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=PEERS + (FUSED,), help="child mode: one peer, driven over stdin")
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--data", help="child mode: the inputs (.npz)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    from ._common import use_threads

    threads = use_threads(args.threads)
    if args.worker:
        worker(args.worker, CASES[args.case], threads, args.data)
        return
    for section in SECTIONS:
        print_rows(section_rows(section, args.quick, threads))


if __name__ == "__main__":
    main()
