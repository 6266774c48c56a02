"""Worker processes with a hard time limit: a hung or crashing call never hangs a cycle."""

from __future__ import annotations

from flows.workers import run_limited
from tests.jobs import die, fail, nap


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
