"""Per-op profile of one training step, chainrule next to PyTorch's profiler, grouped the same way.

    python -m benchmarks.resnet --profile [--threads N] [--batch 128] [--steps 5]
    python -m benchmarks.profile_step [--case resnet20-b32] [--threads N] [--steps 5]  # any training case of zoo.py
    python -m benchmarks.profile_step --peer chainrule|torch --case CASE ...   # internal: one peer, prints JSON

Each peer runs in its own process: two warm-up steps, ``--steps`` plain (timed, not profiled) steps,
then ``--steps`` profiled steps, each profiled on its own. The table gives, forward and backward apart,
the median over the profiled steps of the milliseconds per step of each group (and of each total: a step
disturbed by other work is outvoted): ``conv2d`` by shape (kernel, channels in → out, input size),
``batch_norm``, ``relu``, ``add``, ``pooling``, ``reshape``, ``linear``, ``cross_entropy``, the
optimizer step (with ``zero_grad``), and what no op accounts for (graph overhead). The numbers of calls
per step (``×n``) are chainrule's.

chainrule (no change to the library; the instrumentation lives in this process only):

* forward: every public function of ``chainrule.ops.*`` is wrapped, wherever the library holds a
  reference to it (module globals, ``Tensor`` methods, layers' ``_op`` static methods), by a timer that
  keeps *exclusive* time (an op calling another op is charged only for its own part). Forward time that
  no op accounts for (``Module.__call__``, the layers' input checks, the wrappers' own ~1 µs) is the
  "graph/layer overhead" row.
* backward: ``chainrule.function._apply_backward`` (one node's backward rule) is wrapped; nodes are
  grouped by the ``_op`` name their forward recorded and, for ``conv2d``, their inputs' shapes. Backward
  time outside the rules and outside ``Tensor._accumulate_grad`` (its own row: adding into the
  parameters' ``.grad``) is the "graph overhead" row: the topological sort and the sums of the
  gradients of tensors used twice (a residual block's input).

PyTorch: ``torch.profiler.profile`` over the same steps, with ``record_function`` ranges around forward,
backward and optimizer. Forward: the ops called directly inside the forward range (``aten::conv2d``,
``aten::batch_norm``, ...; their total time, children included; ``BatchNorm2d``'s ``num_batches_tracked
+= 1`` counts as batch_norm). Backward: the autograd engine's ``evaluate_function: XBackward0`` events
(total time, children included), mapped to the same groups; ``AccumulateGrad`` is "accumulate into
.grad", time outside any node the "graph overhead" row. The profiler itself slows PyTorch's small ops a
little, so the sum is a bit above the unprofiled step time, printed beside it.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import types
from collections import defaultdict

from ._common import ROOT, import_torch, use_threads

PHASES = ("forward", "backward", "optimizer")

# chainrule's op names (function names and recorded ``_op`` names) -> groups shared with PyTorch's
CHAINRULE_GROUPS = {
    "batch_norm": "batch_norm", "relu": "relu", "relu6": "relu", "hardtanh": "relu", "clamp": "relu",
    "add": "add", "adaptive_avg_pool2d": "pooling", "global_avg_pool2d": "pooling", "max_pool2d": "pooling",
    "avg_pool2d": "pooling", "mean": "pooling", "reshape": "reshape", "flatten": "reshape", "view": "reshape",
    "linear": "linear", "cross_entropy": "cross_entropy", "load": "kernel lookup (ops.compiled.load)",
    "permute": "layout (permute/transpose/stack)", "transpose": "layout (permute/transpose/stack)",
    "stack": "layout (permute/transpose/stack)",
}

# PyTorch's forward ops and backward nodes -> the same groups
TORCH_FORWARD = {
    "aten::conv2d": "conv2d", "aten::batch_norm": "batch_norm", "aten::relu": "relu", "aten::relu_": "relu",
    "aten::hardtanh": "relu", "aten::hardtanh_": "relu", "aten::add": "add", "aten::add_": "add",
    "aten::adaptive_avg_pool2d": "pooling", "aten::max_pool2d": "pooling", "aten::flatten": "reshape",
    "aten::linear": "linear", "aten::cross_entropy_loss": "cross_entropy",
}
TORCH_BACKWARD = {
    "ConvolutionBackward0": "conv2d", "NativeBatchNormBackward0": "batch_norm", "CudnnBatchNormBackward0": "batch_norm",
    "ReluBackward0": "relu", "HardtanhBackward0": "relu", "AddBackward0": "add", "MeanBackward1": "pooling",
    "AdaptiveAvgPool2DBackward0": "pooling", "MaxPool2DWithIndicesBackward0": "pooling",
    "ViewBackward0": "reshape", "ReshapeAliasBackward0": "reshape", "UnsafeViewBackward0": "reshape",
    "AddmmBackward0": "linear", "TBackward0": "linear", "NllLossBackward0": "cross_entropy",
    "LogSoftmaxBackward0": "cross_entropy", "AccumulateGrad": "accumulate into .grad",
    "torch::autograd::AccumulateGrad": "accumulate into .grad", "MkldnnRnnLayerBackward0": "lstm",
    "EmbeddingBackward0": "embedding", "TransposeBackward0": "layout (permute/transpose/stack)",
    "CloneBackward0": "layout (permute/transpose/stack)",
}


def conv_key(x_shape, w_shape):
    """``conv2d 3×3 16→32 @32×32``: kernel, channels in → out (weight), input size (the same for both peers);
    ``conv2d dw3×3 96 @32×32`` for a depthwise convolution (groups = channels)."""
    out_c, per_group, kh, kw = w_shape
    if per_group == 1 and x_shape[1] == out_c > 1:
        return f"conv2d dw{kh}×{kw} {out_c} @{x_shape[2]}×{x_shape[3]}"
    return f"conv2d {kh}×{kw} {x_shape[1]}→{out_c} @{x_shape[2]}×{x_shape[3]}"


# ------------------------------------------------------------------------------ chainrule
class ChainruleTimer:
    """Times chainrule's ops without editing them: see the module docstring."""

    def __init__(self):
        self.phase = None
        self.ms = defaultdict(float)  # (phase, group) -> seconds (summed over steps)
        self.calls = defaultdict(int)  # (phase, group) -> calls (summed over steps)
        self.stack = []  # time spent in nested timed calls, one entry per open call

    def _charge(self, group, start):
        elapsed = time.perf_counter() - start
        inner = self.stack.pop()
        if self.stack:
            self.stack[-1] += elapsed
        self.ms[(self.phase, group)] += elapsed - inner
        self.calls[(self.phase, group)] += 1

    def wrap_op(self, fn):
        timer, name = self, fn.__name__
        group = CHAINRULE_GROUPS.get(name, name)

        def timed(*args, **kwargs):
            if timer.phase is None:
                return fn(*args, **kwargs)
            timer.stack.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                key = group
                if name == "conv2d":
                    key = conv_key(args[0].shape, (kwargs.get("weight") if len(args) < 2 else args[1]).shape)
                timer._charge(key, start)

        timed.__wrapped__ = fn
        timed.__name__ = name
        return timed

    def wrap_backward(self, apply):
        timer = self

        def timed(tensor, g, retain_graph):
            if timer.phase is None:
                return apply(tensor, g, retain_graph)
            op = tensor._op or "leaf"
            key = CHAINRULE_GROUPS.get(op, op)
            if op == "conv2d":
                key = conv_key(tensor._parents[0].shape, tensor._parents[1].shape)
            timer.stack.append(0.0)
            start = time.perf_counter()
            try:
                return apply(tensor, g, retain_graph)
            finally:
                timer._charge(key, start)

        return timed

    def install(self):
        """Wrap every public op function wherever chainrule refers to it, and the backward driver."""
        import chainrule  # noqa: F401  (loads the ops and layers)
        import chainrule.function
        import chainrule.nn  # noqa: F401

        wrapped = {}
        for name, module in list(sys.modules.items()):
            # public functions of the public ops modules (not helpers such as ops._dims.is_int)
            if name.startswith("chainrule.ops.") and not name.rsplit(".", 1)[1].startswith("_") \
                    and module is not None:
                for attr, value in vars(module).items():
                    if isinstance(value, types.FunctionType) and not attr.startswith("_") \
                            and value.__module__ == name:
                        wrapped[value] = self.wrap_op(value)
        for name, module in list(sys.modules.items()):
            if not name.startswith("chainrule") or module is None:
                continue
            for attr, value in list(vars(module).items()):
                if isinstance(value, types.FunctionType) and value in wrapped:
                    setattr(module, attr, wrapped[value])
                elif isinstance(value, type) and value.__module__.startswith("chainrule"):
                    for key, member in list(vars(value).items()):
                        inner = member.__func__ if isinstance(member, staticmethod) else member
                        if isinstance(inner, types.FunctionType) and inner in wrapped:
                            new = wrapped[inner]
                            setattr(value, key, staticmethod(new) if isinstance(member, staticmethod) else new)
        chainrule.function._apply_backward = self.wrap_backward(chainrule.function._apply_backward)
        tensor = sys.modules["chainrule.tensor"].Tensor  # (chainrule.tensor is also the function cr.tensor)
        tensor._accumulate_grad = self.wrap_method(tensor._accumulate_grad, "accumulate into .grad")
        return len(wrapped)

    def wrap_method(self, method, group):
        """Time every call of ``method`` (a plain function of a class) under ``group``."""
        timer = self

        def timed(*args):
            if timer.phase is None:
                return method(*args)
            timer.stack.append(0.0)
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                timer._charge(group, start)

        return timed


def profile_chainrule(peer, steps, timer):
    """{"forward"|"backward"|"optimizer": {group: ms per step}}, the phases' totals and the calls per step
    of each forward group, for ``steps`` steps; ``timer`` was installed before ``peer`` was built."""
    totals = defaultdict(float)
    for _ in range(steps):
        x, y = peer.batch()
        for phase in PHASES:
            timer.phase = phase
            start = time.perf_counter()
            if phase == "forward":
                loss = peer.forward_loss(x, y)
            elif phase == "backward":
                loss.backward()
            else:
                peer.optimizer.zero_grad()
                peer.optimizer.step()
            totals[phase] += time.perf_counter() - start
        timer.phase = None
        loss.item()
    table = {phase: {} for phase in PHASES}
    for (phase, group), seconds in timer.ms.items():
        table[phase][group] = 1e3 * seconds / steps
    for phase in ("forward", "backward"):
        table[phase]["graph overhead"] = table[phase].get("graph overhead", 0.0) + \
            1e3 * totals[phase] / steps - sum(table[phase].values())
    table["optimizer"] = {"optimizer step": 1e3 * totals["optimizer"] / steps}
    calls = {group: n // steps for (phase, group), n in timer.calls.items() if phase == "forward"}
    return table, {phase: 1e3 * totals[phase] / steps for phase in PHASES}, calls


# ---------------------------------------------------------------------------------- torch
def profile_torch(peer, steps):
    """The same table from ``torch.profiler`` (see the module docstring)."""
    torch = peer.torch
    from torch.profiler import ProfilerActivity, profile, record_function

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            x, y = peer.batch()
            with record_function("forward"):
                loss = peer.forward_loss(x, y)
            with record_function("backward"):
                loss.backward()
            with record_function("optimizer"):
                peer.optimizer.zero_grad()
                peer.optimizer.step()
            loss.item()
    del torch
    table = {phase: defaultdict(float) for phase in PHASES}
    totals, calls = defaultdict(float), defaultdict(int)
    events = prof.events()
    for event in events:
        if event.name in PHASES:
            totals[event.name] += event.cpu_time_total / 1e3
            if event.name == "forward":
                for child in event.cpu_children:
                    group = TORCH_FORWARD.get(child.name, child.name.replace("aten::", ""))
                    if group == "conv2d":
                        group = conv_key(child.input_shapes[0], child.input_shapes[1])
                    elif group == "add" and child.input_shapes and child.input_shapes[0] == []:
                        # BatchNorm2d's num_batches_tracked += 1, done in Python by torch's layer
                        table["forward"]["batch_norm"] += child.cpu_time_total / 1e3
                        continue
                    table["forward"][group] += child.cpu_time_total / 1e3
                    calls[group] += 1
        elif event.name.startswith("autograd::engine::evaluate_function: "):
            node = event.name.split(": ", 1)[1]
            group = TORCH_BACKWARD.get(node, node)
            if group == "conv2d":
                shapes = _child_shapes(event, "aten::convolution_backward")
                group = conv_key(shapes[1], shapes[2]) if shapes else "conv2d"
            table["backward"][group] += event.cpu_time_total / 1e3
    out = {phase: {g: ms / steps for g, ms in groups.items()} for phase, groups in table.items()}
    for phase in ("forward", "backward"):
        out[phase]["graph overhead"] = out[phase].get("graph overhead", 0.0) + \
            totals[phase] / steps - sum(out[phase].values())
    out["optimizer"] = {"optimizer step": totals["optimizer"] / steps}
    return out, {phase: totals[phase] / steps for phase in PHASES}, {g: n // steps for g, n in calls.items()}


def median_profile(per_step):
    """Combine one-step profiles (table, totals, calls): the median over steps of each group and total (a
    group missing from a step counts 0 there)."""
    import statistics

    tables, totals, calls = zip(*per_step)
    table = {}
    for phase in PHASES:
        groups = set().union(*(t[phase] for t in tables))
        table[phase] = {g: statistics.median(t[phase].get(g, 0.0) for t in tables) for g in groups}
    total = {phase: statistics.median(t[phase] for t in totals) for phase in PHASES}
    return table, total, calls[0]


def _child_shapes(event, name):
    """The input shapes of the first descendant of ``event`` called ``name`` (None if there is none)."""
    todo = list(event.cpu_children)
    while todo:
        e = todo.pop(0)
        if e.name == name:
            return e.input_shapes
        todo.extend(e.cpu_children)
    return None


def unprofiled_ms(peer, steps):
    """Median milliseconds of a plain training step (no instrumentation), for comparison."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        peer.step()
        times.append(1e3 * (time.perf_counter() - start))
    return sorted(times)[len(times) // 2]


def run_peer(name, case_name, threads, steps):
    """Child mode: build the peer, warm up, time plain steps, then profile; print one JSON line."""
    import tempfile

    from .zoo import CASES, build_peer, write_inputs

    case = CASES[case_name]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "inputs.npz")
        write_inputs(case, path)
        timer = None
        if name == "chainrule":  # before the peer binds any op (its loss function, say)
            timer = ChainruleTimer()
            timer.install()
        peer = build_peer(name, case, threads, path)
    for _ in range(2):
        peer.step()
    plain = unprofiled_ms(peer, steps)
    per_step = []
    for _ in range(steps):  # one step at a time, so that a step disturbed by other work can be outvoted
        if timer is not None:
            timer.ms.clear()
            timer.calls.clear()
            per_step.append(profile_chainrule(peer, 1, timer))
        else:
            per_step.append(profile_torch(peer, 1))
    table, totals, calls = median_profile(per_step)
    print(json.dumps({"table": table, "totals": totals, "plain_ms": plain, "calls": calls}), flush=True)


# ------------------------------------------------------------------------------- the table
def _order(groups):
    """conv2d rows first (by name), then the fixed groups, then whatever else, overhead last."""
    fixed = ["batch_norm", "relu", "add", "pooling", "reshape", "linear", "cross_entropy", "accumulate into .grad"]
    convs = sorted(g for g in groups if g.startswith("conv2d"))
    rest = sorted(g for g in groups if g not in convs and g not in fixed and g != "graph overhead")
    return convs + [g for g in fixed if g in groups] + rest + (["graph overhead"] if "graph overhead" in groups else [])


def format_table(results, case_name, threads, steps):
    """Markdown table: group | chainrule fwd / bwd ms | PyTorch fwd / bwd ms, then totals."""
    peers = [p for p in ("chainrule", "torch") if p in results]
    lines = [f"Per-op profile of one {case_name} training step, {threads} thread(s), ms per step "
             f"(median of {steps} profiled steps after 2 warm-up steps)", "",
             "| op | " + " | ".join(f"{'PyTorch' if p == 'torch' else p} fwd / bwd" for p in peers) + " |",
             "|---|" + "---:|" * len(peers)]
    groups = set()
    for p in peers:
        groups |= set(results[p]["table"]["forward"]) | set(results[p]["table"]["backward"])

    def cell(p, g):
        f, b = results[p]["table"]["forward"].get(g), results[p]["table"]["backward"].get(g)
        return f"{'—' if f is None else f'{f:.2f}'} / {'—' if b is None else f'{b:.2f}'}"

    calls = results[peers[0]].get("calls", {}) if peers else {}
    for g in _order(groups):
        values = [results[p]["table"][ph].get(g) or 0.0 for p in peers for ph in ("forward", "backward")]
        if max(values) < 0.005:  # helpers that cost nothing
            continue
        label = f"{g} (×{calls[g]})" if calls.get(g, 0) > 1 and g != "graph overhead" else g
        lines.append(f"| {label} | " + " | ".join(cell(p, g) for p in peers) + " |")
    lines.append("| optimizer step (+ zero_grad) | " + " | ".join(
        f"{results[p]['table']['optimizer']['optimizer step']:.2f}" for p in peers) + " |")
    lines.append("| **total, profiled** (fwd / bwd / opt) | " + " | ".join(
        " / ".join(f"{results[p]['totals'][ph]:.1f}" for ph in PHASES) for p in peers) + " |")
    lines.append("| plain step, not profiled (median) | " + " | ".join(
        f"{results[p]['plain_ms']:.1f}" for p in peers) + " |")
    return "\n".join(lines)


def profile(case_name="resnet20-b32", threads=1, steps=5):
    """Run both peers' profiles (each in a fresh process) and return the Markdown table."""
    results = {}
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for name in ("chainrule", "torch"):
        done = subprocess.run([sys.executable, "-m", "benchmarks.profile_step", "--peer", name, "--case", case_name,
                               "--threads", str(threads), "--steps", str(steps)],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0 or not lines:
            print(f"[profile] {name} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
            continue
        results[name] = json.loads(lines[-1])
    return format_table(results, case_name, threads, steps)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=("chainrule", "torch"), help="child mode: profile one peer, print JSON")
    parser.add_argument("--case", default="resnet20-b32")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    threads = use_threads(args.threads)
    if args.peer:
        if args.peer == "torch":
            import_torch(threads)
        run_peer(args.peer, args.case, threads, args.steps)
        return
    print(profile(args.case, threads, args.steps))


if __name__ == "__main__":
    main()
