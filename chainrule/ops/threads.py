"""How many BLAS threads the time loops of the recurrent ops use: one, or all the BLAS is allowed,
chosen by timing both.

A time loop is a chain of small matrix products (B×H by H×gates·H), each needing the state the
step before produced. With two or more BLAS threads each product is split across them, and the
threads synchronise at every call. On the idle 2-core reference machine that takes a 512×161 by
161×32 product from 73 to 42 µs; with one other busy process on the machine it made LSTM training
2.25 times *slower* than one thread, because every step waits for a partner thread that has been
descheduled. Which setting wins depends on the load at the moment, so the loops measure:

* each kind of loop (op, forward or backward, shape of the per-step product) keeps the latest
  time per step under each setting (an average of the last few);
* a loop runs under the faster setting; at first each is tried once (after one warm-up loop);
* the other setting is tried again after ``PROBE_FIRST`` loops; each try it loses doubles the
  wait, up to ``PROBE_MAX`` loops (so a setting that keeps losing costs little); a try it wins
  switches over at once, as does the current setting growing slower than the other's record.

The cost of this: with more than one BLAS thread, a training run may switch settings as the load
changes, and a product split across threads is rounded differently (OpenBLAS's results differ in
the last bits between one thread and two), so two runs can differ in the last bits. Set
``chainrule.ops.threads.LOOP_BLAS_THREADS`` to ``"one"`` (or run the BLAS with one thread, as
``chainrule train`` does by default) for bit-for-bit reproducible runs, or to ``"all"``.

Reading and limiting the BLAS's threads needs threadpoolctl (an optional package, installed with
scikit-learn); without it the loops keep the BLAS's own threading.
"""

import threading
import time

__all__ = ["LOOP_BLAS_THREADS", "loop_threads"]

LOOP_BLAS_THREADS = "auto"  # "auto", "one" or "all"
PROBE_FIRST = 8
PROBE_MAX = 256

_SETTINGS = ("one", "all")


class _Record:
    """What is known about one kind of loop: seconds per step under each setting."""

    __slots__ = ("per_step", "current", "countdown", "interval", "warm")

    def __init__(self):
        self.per_step = {}
        self.current = "one"
        self.countdown = PROBE_FIRST
        self.interval = PROBE_FIRST
        self.warm = False

    def choose(self):
        """The setting for the next loop, and whether it is a try of the slower one."""
        if not self.warm:
            return self.current, False
        for setting in _SETTINGS:
            if setting not in self.per_step:
                return setting, True
        if self.countdown <= 0:
            return _other(self.current), True
        return self.current, False

    def record(self, setting, per_step, probing):
        if not self.warm:  # the first loop of a kind pays for allocation and cold caches: not counted
            self.warm = True
            return
        old = self.per_step.get(setting)
        self.per_step[setting] = per_step if old is None or probing else 0.5 * (old + per_step)
        other = _other(self.current)
        if other not in self.per_step:
            return
        if probing:
            if self.per_step[other] < self.per_step[self.current]:
                self.current, self.interval = other, PROBE_FIRST
            else:
                self.interval = min(2 * self.interval, PROBE_MAX)
            self.countdown = self.interval
        else:
            self.countdown -= 1
            if self.per_step[self.current] > self.per_step[other]:
                self.current = other


def _other(setting):
    return "all" if setting == "one" else "one"


class _LoopThreads:
    """``with loop_threads.loop(key, steps):`` runs a time loop of ``steps`` steps under the BLAS
    thread setting chosen for loops of kind ``key`` (see the module docstring), timing it.

    Loops running at once in several Python threads share the process-wide setting: the first sets
    it, the others join untimed, and the last to leave restores the BLAS's own setting."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._controller = None
        self._records = {}

    def _get_controller(self):
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._controller = False
            else:
                self._controller = ThreadpoolController()
        return self._controller

    def _blas_threads(self):
        # the fewest any loaded BLAS allows: a process can hold several (numba loads SciPy's besides
        # NumPy's), and one limited to a single thread means the user asked for one
        blas = [lib for lib in self._controller.lib_controllers if lib.user_api == "blas"]
        return min((lib.num_threads for lib in blas), default=1)

    def record(self, key):
        """The record kept for loops of kind ``key`` (created empty)."""
        with self._lock:
            return self._records.setdefault(key, _Record())

    def loop(self, key, steps):
        return _Loop(self, key, steps)

    def _enter(self, key):
        """Apply the setting for ``key``; return (record, setting, probing), record None when untimed."""
        with self._lock:
            self._depth += 1
            if self._depth > 1 or LOOP_BLAS_THREADS == "all" or not self._get_controller():
                return None, None, False
            if self._blas_threads() <= 1:  # nothing to choose, nothing to limit
                return None, None, False
            if LOOP_BLAS_THREADS == "auto":
                record = self._records.setdefault(key, _Record())
                setting, probing = record.choose()
            else:
                setting, record, probing = "one", None, False
            if setting == "one":
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            return record, setting, probing

    def _exit(self, record, setting, probing, per_step):
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None
            if record is not None:
                record.record(setting, per_step, probing)

    def forget(self):
        """Drop every measurement (the next loops measure afresh)."""
        with self._lock:
            self._records.clear()


class _Loop:
    __slots__ = ("owner", "key", "steps", "state", "start")

    def __init__(self, owner, key, steps):
        self.owner, self.key, self.steps = owner, key, steps

    def __enter__(self):
        self.state = self.owner._enter(self.key)
        self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type, *exc_info):
        per_step = (time.perf_counter() - self.start) / max(self.steps, 1)
        record, setting, probing = self.state
        self.owner._exit(None if exc_type else record, setting, probing, per_step)
        return False


loop_threads = _LoopThreads()
