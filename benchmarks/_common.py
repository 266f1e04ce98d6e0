"""Helpers shared by the benchmark modules: timing, threads, peer detection, machine description, memory.

Timing rule used everywhere: the implementations being compared run *interleaved* (round-robin, one
repeat of each in turn, the starting one rotating), after a warm-up, and each reports the median of
its repeats. On a shared machine a burst of load then hits every column alike instead of one.
"""

import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- timing
# After a multi-threaded call, a library's idle worker threads keep spinning for a while before they
# sleep: OpenBLAS's for about 0.1 s (measured: 0.1 s of CPU used during a sleep right after a
# 2-thread product), torch's OpenMP threads for about 10 ms. A peer whose block starts within that
# time shares the cores with the previous peer's spinning threads, so interleaved blocks of
# multi-threaded peers are separated by this pause (chainrule's OpenBLAS would otherwise slow the
# torch block after it by about 20%: torch alone 2,230 LSTM sequences/s, after chainrule blocks 1,800).
SETTLE_SECONDS = 0.2


def settle(threads):
    """Let the previous block's idle worker threads go to sleep (only when more than one thread)."""
    if threads > 1:
        time.sleep(SETTLE_SECONDS)


def interleaved(fns, repeats, warmup=1, threads=1):
    """Run each callable ``warmup`` times, then ``repeats`` rounds of all of them in rotating order,
    with a pause before each (see ``SETTLE_SECONDS``) when ``threads`` > 1.

    Returns one list of durations (seconds) per callable. A callable may return a number, which is then
    taken as its own duration (for code that times only part of what it does).
    """
    for _ in range(warmup):
        for fn in fns:
            settle(threads)
            fn()
    times = [[] for _ in fns]
    for turn in rotations(range(len(fns)), repeats):
        for i in turn:
            settle(threads)
            start = time.perf_counter()
            reported = fns[i]()
            elapsed = time.perf_counter() - start
            times[i].append(reported if isinstance(reported, float) else elapsed)
    return times


def median(values):
    return statistics.median(values) if values else None


# -------------------------------------------------------------------------- threads
def blas_threads():
    """How many threads NumPy's BLAS uses: threadpoolctl's answer if installed, else os.cpu_count()."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    import numpy  # noqa: F401  (threadpoolctl only sees libraries already loaded)

    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)


def limit_blas_threads(n):
    """Limit NumPy's BLAS to ``n`` threads for the rest of the process (needs threadpoolctl; else the
    environment variables, which only act on processes started afterwards). Returns True if applied."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    import numpy  # noqa: F401  (threadpoolctl only limits libraries already loaded)

    # kept alive for the whole run: threadpool_limits restores the old limits when collected
    limit_blas_threads.handle = threadpool_limits(limits=n, user_api="blas")
    return True


def use_threads(requested):
    """Limit the BLAS to ``requested`` threads when given (``None``: leave it as it is); return the
    number of threads then in force (what a benchmark gives its PyTorch peer too)."""
    if requested:
        limit_blas_threads(requested)
    return requested or blas_threads()


# ---------------------------------------------------------------------------- peers
def installed(module):
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def version_of(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def import_torch(threads):
    """torch with ``threads`` intra-op threads, or None when not installed."""
    if not installed("torch"):
        return None
    import torch

    torch.set_num_threads(threads)
    return torch


# -------------------------------------------------------------------------- machine
def machine_info():
    """What the numbers were measured on: CPU model, cores, load, library versions, BLAS."""
    info = {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": version_of("numpy"),
        "torch": version_of("torch"),
        "scikit-learn": version_of("scikit-learn"),
        "blas": _blas_description(),
        "blas_threads": blas_threads(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def _cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def _blas_description():
    try:
        from threadpoolctl import threadpool_info

        for entry in threadpool_info():
            if entry.get("user_api") == "blas":
                return f"{entry.get('internal_api')} {entry.get('version')} ({entry.get('architecture')})"
    except ImportError:
        pass
    try:
        import numpy

        config = numpy.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # numpy < 1.25 has no mode="dicts"
        return "unknown"


# ------------------------------------------------------------------- subprocess runs
def run_child(module, args, timeout=900):
    """Run ``python -m benchmarks.<module> <args>`` from the repository root; return its last stdout
    line parsed as JSON (the child prints one JSON object last), or ``{"error": ...}``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {done.returncode}: {tail[0][:200]}"}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"unexpected output: {lines[-1][:200]}"}


NUMPY_PATH = "chainrule (NumPy path)"
"""The peer name of chainrule run with its compiled kernels turned off (``CHAINRULE_NUMBA=0``)."""


class Worker:
    """One benchmark peer in its own process, ``python -m benchmarks.<module> --worker PEER <args>``,
    driven over stdin: the parent writes one command per line and reads one JSON line back (the
    modules' worker modes). The first line a worker prints says it is ready. ``name`` is the peer's,
    or ``NUMPY_PATH``: the chainrule peer in an environment with ``CHAINRULE_NUMBA=0``."""

    def __init__(self, name, module, args, env=None):
        self.name = name
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        peer = name
        if name == NUMPY_PATH:
            peer, env["CHAINRULE_NUMBA"] = "chainrule", "0"
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{module}", "--worker", peer, *args],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.ready = self.ask(None)  # the worker's first line: it is ready (and may say more)

    def ask(self, command):
        """Send ``command`` (None: send nothing) and return the worker's next JSON line."""
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            error = self.process.stderr.read().strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{self.name} worker died: {error[0][:200]}")
        return json.loads(line)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def rotations(items, rounds):
    """``rounds`` round-robin passes over ``items``, the starting item rotating: the order in which
    interleaved peers take their turns."""
    items = list(items)
    for r in range(rounds):
        k = r % len(items) if items else 0
        yield items[k:] + items[:k]


def peak_rss_mb():
    """Peak resident set size of this process so far, in MB.

    On Linux from /proc (VmHWM): ``ru_maxrss`` survives ``exec``, so a child started by a parent that
    had already grown large (say, after importing torch) would report the parent's peak. Elsewhere
    ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def emit(obj):
    """A child's result: one JSON line, last on stdout."""
    print(json.dumps(obj), flush=True)
