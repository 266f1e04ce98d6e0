"""BLAS threads of the recurrent time loops (chainrule/ops/threads.py): the choosing policy, and that
a loop runs under the chosen setting and gives the BLAS its own setting back."""

import numpy as np
import pytest

from chainrule import Tensor
from chainrule.ops import threads
from chainrule.ops.recurrent import lstm
from chainrule.ops.threads import PROBE_FIRST, PROBE_MAX, _Record


def _run(record, seconds_per_step):
    """One loop under the record's policy, timed by ``seconds_per_step[setting]``; returns the setting."""
    setting, probing = record.choose()
    record.record(setting, seconds_per_step[setting], probing)
    return setting


def test_first_loop_is_a_warm_up_then_each_setting_is_tried_and_the_faster_kept():
    record = _Record()
    speeds = {"one": 2.0, "all": 1.0}
    assert _run(record, {"one": 99.0, "all": 99.0}) == "one"  # warm-up: not counted
    assert record.per_step == {}
    assert [_run(record, speeds) for _ in range(2)] == ["one", "all"]
    assert [_run(record, speeds) for _ in range(PROBE_FIRST)] == ["all"] * PROBE_FIRST
    assert _run(record, speeds) == "one"  # the slower setting is tried again after PROBE_FIRST loops


def test_losing_tries_come_ever_more_rarely_up_to_the_limit():
    record = _Record()
    speeds = {"one": 1.0, "all": 3.0}
    settings = [_run(record, speeds) for _ in range(3 + 4000)]
    tries = [k for k, s in enumerate(settings) if s == "all"]
    gaps = np.diff(tries).tolist()
    assert gaps[:5] == [PROBE_FIRST * 2 + 1, PROBE_FIRST * 4 + 1, PROBE_FIRST * 8 + 1, PROBE_FIRST * 16 + 1,
                        PROBE_MAX + 1]
    assert max(gaps) == PROBE_MAX + 1
    assert record.current == "one"


def test_load_changes_switch_the_setting():
    record = _Record()
    quiet = {"one": 2.0, "all": 1.0}
    for _ in range(3):
        _run(record, quiet)
    assert record.current == "all"
    busy = {"one": 2.0, "all": 6.0}  # a busy machine: the split product now waits on its partner
    assert _run(record, busy) == "all"
    assert record.current == "one"  # its average (3.5) passed the other's record: switched at once
    assert _run(record, busy) == "one"
    # the machine gets quiet again: the next try of "all" wins it back
    settings = [_run(record, quiet) for _ in range(2 * PROBE_MAX)]
    assert "all" in settings
    assert record.current == "all"


def _blas_threads(threadpoolctl):
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


@pytest.mark.parametrize("setting, expected", [("one", 1), ("all", 2)])
def test_loops_run_under_the_setting_and_restore_the_blas_own(monkeypatch, setting, expected):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(threads, "LOOP_BLAS_THREADS", setting)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = _blas_threads(threadpoolctl)
        seen = []
        tensors = [Tensor(np.full(s, 0.1), requires_grad=True) for s in [(3, 2, 4), (12, 4), (12, 3)]]
        out, h, c = lstm(*tensors, recorder=lambda t, norm: seen.append(_blas_threads(threadpoolctl)))
        out.sum().backward()
        assert seen and all(threads_now == [expected] * len(before) for threads_now in seen)
        assert _blas_threads(threadpoolctl) == before


def test_auto_follows_the_record_of_the_loop(monkeypatch):
    """Under "auto", the loop's kind is looked up and its chosen setting applied (and the loop timed)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(threads, "LOOP_BLAS_THREADS", "auto")
    threads.loop_threads.forget()
    key = ("test loop", 1)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        seen = []
        for _ in range(3):
            with threads.loop_threads.loop(key, steps=10):
                seen.append(_blas_threads(threadpoolctl)[0])
        record = threads.loop_threads.record(key)
        assert seen == [1, 1, 2]  # warm-up, then each setting tried once
        assert set(record.per_step) == {"one", "all"} and all(v > 0 for v in record.per_step.values())
        record.current, record.per_step = "all", {"one": 1.0, "all": 0.0}
        with threads.loop_threads.loop(key, steps=10):
            assert set(_blas_threads(threadpoolctl)) == {2}
        assert set(_blas_threads(threadpoolctl)) == {2}
    threads.loop_threads.forget()


def test_a_blas_limited_to_one_thread_means_one():
    """numba loads SciPy's BLAS beside NumPy's: if the user limited one of them to a single thread,
    there is nothing to choose."""

    class Lib:
        user_api = "blas"

        def __init__(self, num_threads):
            self.num_threads = num_threads

    chooser = threads._LoopThreads()
    chooser._controller = type("Controller", (), {"lib_controllers": [Lib(2), Lib(1)]})()
    assert chooser._blas_threads() == 1
    chooser._controller.lib_controllers = [Lib(4), Lib(2)]
    assert chooser._blas_threads() == 2
