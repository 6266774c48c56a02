"""Worker processes with a hard time limit: a hung or crashing call never hangs a cycle."""

from __future__ import annotations

import threading
import time

import pytest

from flows import workers
from flows.workers import run_limited
from tests.jobs import die, fail, nap


class OddError(Exception):
    """Pickles, but cannot be rebuilt from its pickle: __init__ wants two arguments."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(first)


def make(kind: str) -> object:
    """A value that cannot leave the worker, one that cannot enter the parent, or a fine one."""
    return {"lock": threading.Lock, "odd": lambda: OddError("a", "b"), "fine": lambda: "fine"}[kind]()


def never_ready(func, conn) -> None:
    """A worker stuck in its start-up (a hanging import, say)."""
    time.sleep(60)


def test_results_keep_the_order_of_the_jobs():
    outcomes = run_limited(nap, [(0.05,), (0.01,), (0.02,)], processes=2, time_limit=10)
    assert [o.value for o in outcomes] == [0.05, 0.01, 0.02]
    assert all(o.error is None for o in outcomes)


def test_a_call_over_the_limit_is_stopped_and_the_others_still_run():
    outcomes = run_limited(nap, [(0.01,), (60,), (0.01,), (0.01,)], processes=1, time_limit=1)
    assert [o.value for o in outcomes] == [0.01, None, 0.01, 0.01]
    stopped = outcomes[1]
    assert stopped.timed_out and stopped.error == "took longer than 1 s; stopped"
    assert stopped.seconds < 60  # the process was killed, not waited for


def test_an_exception_comes_back_named():
    [outcome] = run_limited(fail, [("bad page",)], processes=1, time_limit=10)
    assert outcome.value is None and outcome.error.startswith("ValueError: bad page")


def test_a_worker_that_dies_is_replaced():
    outcomes = run_limited(die, [(3,)], processes=1, time_limit=10) + run_limited(
        nap, [(0.01,)], processes=1, time_limit=10
    )
    assert outcomes[0].error == "worker process died (exit code 3)"
    assert outcomes[1].value == 0.01


def test_no_jobs_start_no_processes():
    assert run_limited(nap, [], processes=4, time_limit=1) == []


def test_a_job_that_cannot_be_sent_fails_alone():
    import threading

    outcomes = run_limited(nap, [(0.01,), (threading.Lock(),), (0.02,)], processes=1, time_limit=10)
    assert [o.value for o in outcomes] == [0.01, None, 0.02]
    assert outcomes[1].error.startswith("job could not be handed to a worker")


def test_a_crashed_worker_is_replaced_within_one_batch():
    outcomes = run_limited(die, [(3,), (4,)], processes=1, time_limit=10)
    assert [o.error for o in outcomes] == [
        "worker process died (exit code 3)",
        "worker process died (exit code 4)",
    ]


def test_a_result_that_cannot_travel_back_fails_alone_with_its_cause():
    outcomes = run_limited(make, [("lock",), ("odd",), ("fine",)], processes=1, time_limit=10)
    assert (
        outcomes[0].error == "result could not be sent back: TypeError: cannot pickle '_thread.lock' object"
    )
    assert outcomes[1].error.startswith("result could not be read: TypeError: OddError.__init__()")
    assert outcomes[2].value == "fine"  # the same worker went on


def test_a_job_the_worker_cannot_read_fails_alone_with_its_cause():
    outcomes = run_limited(make, [(OddError("a", "b"),), ("fine",)], processes=1, time_limit=10)
    assert outcomes[0].error.startswith("job could not be read by a worker: TypeError: OddError.__init__()")
    assert outcomes[1].value == "fine"


def test_a_worker_that_died_while_idle_is_replaced_before_it_gets_a_job(monkeypatch: pytest.MonkeyPatch):
    start = workers._start
    started = []

    def start_one_dead_first(func):
        worker = start(func)
        if not started:
            worker.process.kill()  # as if killed (e.g. by the OOM killer) between two jobs
            worker.process.join()
        started.append(worker)
        return worker

    monkeypatch.setattr(workers, "_start", start_one_dead_first)
    outcomes = run_limited(nap, [(0.01,), (0.02,)], processes=1, time_limit=10)
    assert [o.value for o in outcomes] == [0.01, 0.02] and len(started) == 2


def test_a_worker_that_never_gets_ready_is_a_named_error_not_a_hang(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(workers, "_serve", never_ready)
    monkeypatch.setattr(workers, "START_TIMEOUT", 2.0)
    with pytest.raises(RuntimeError, match="a worker process did not start within 2 s"):
        run_limited(nap, [(0.01,)], processes=1, time_limit=10)
