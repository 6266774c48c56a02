"""Run a pure function over many inputs in worker processes, each call with a hard time limit.

trafilatura has no time limit of its own, and a pathological page can keep it busy for
minutes or make it crash. Here each call runs in a separate process: a call that
overruns its limit has its process killed (and replaced), a process that dies is
replaced, and either way the call comes back as a named failure, never as a hung cycle.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

# "spawn" starts clean processes: forking a process that runs Prefect's threads is unsafe.
_CONTEXT = multiprocessing.get_context("spawn")
START_TIMEOUT = 60.0  # seconds a new worker may take to import everything and say it is ready


@dataclass(frozen=True)
class Outcome:
    """The result of one call: its value, or why there is none."""

    value: Any = None
    error: str | None = None
    timed_out: bool = False
    seconds: float = 0.0


def _serve(func: Callable, conn: Connection) -> None:
    # The parent may be gone (killed, or done after a time-out): then so are we, quietly.
    with contextlib.suppress(EOFError, OSError):
        conn.send("ready")
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                raise
            except Exception as exc:  # the message was read whole: the pipe is still in step
                conn.send(("error", f"job could not be read by a worker: {type(exc).__name__}: {exc}"))
                continue
            if job is None:
                break
            _reply(conn, _call(func, job))


def _call(func: Callable, job: tuple) -> tuple[str, Any]:
    try:
        return ("ok", func(*job))
    except Exception as exc:  # the caller gets it as data, with the failure's name
        return ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")


def _reply(conn: Connection, result: tuple[str, Any]) -> None:
    try:
        conn.send(result)
    except (EOFError, OSError):
        raise
    except Exception as exc:  # pickling fails before anything is written: the pipe is intact
        conn.send(("error", f"result could not be sent back: {type(exc).__name__}: {exc}"))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: int | None = None
    started: float = 0.0


def run_limited(func: Callable, jobs: Sequence[tuple], *, processes: int, time_limit: float) -> list[Outcome]:
    """Call ``func(*job)`` for every job in worker processes; results keep the jobs' order.

    ``func`` must be importable by name (a module-level function), as must its arguments.
    """
    if not jobs:
        return []
    outcomes: list[Outcome | None] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    workers: list[_Worker] = []
    try:
        for _ in range(max(1, min(processes, len(jobs)))):
            workers.append(_start(func))
        while pending or any(w.job is not None for w in workers):
            for n in range(len(workers)):
                while workers[n].job is None and pending:
                    job = pending.pop(0)
                    workers[n], error = _hand_over(workers[n], jobs[job], func)
                    if error:
                        outcomes[job] = Outcome(error=error)
                        continue
                    workers[n].job, workers[n].started = job, time.monotonic()
            if not any(w.job is not None for w in workers):
                break
            busy = [w for w in workers if w.job is not None]
            nearest = min(w.started + time_limit for w in busy)
            ready = wait([w.conn for w in busy], timeout=max(0.0, nearest - time.monotonic()))
            for n, worker in enumerate(workers):
                if worker.job is None:
                    continue
                seconds = time.monotonic() - worker.started
                if worker.conn in ready:
                    try:
                        kind, value = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=5)  # its exit code is known once it is gone
                        code = worker.process.exitcode
                        outcomes[worker.job] = Outcome(error=f"worker process died (exit code {code})",
                                                       seconds=seconds)  # fmt: skip
                        workers[n] = _replace(worker, func)
                        continue
                    except Exception as exc:  # read whole but not rebuilt: the worker is fine
                        kind, value = "error", f"result could not be read: {type(exc).__name__}: {exc}"
                    outcomes[worker.job] = (
                        Outcome(value=value, seconds=seconds)
                        if kind == "ok"
                        else Outcome(error=value, seconds=seconds)
                    )
                    worker.job = None
                elif seconds >= time_limit and not worker.conn.poll(0):
                    outcomes[worker.job] = Outcome(
                        error=f"took longer than {time_limit:g} s; stopped", timed_out=True, seconds=seconds
                    )
                    workers[n] = _replace(worker, func)
    finally:
        for worker in workers:
            _stop(worker)
    return [o if o is not None else Outcome(error="not run") for o in outcomes]


def _hand_over(worker: _Worker, job: tuple, func: Callable) -> tuple[_Worker, str | None]:
    """Send ``job`` to ``worker``, or to its replacement if it died while idle; and why not."""
    for _ in range(2):
        try:
            worker.conn.send(job)
            return worker, None
        except OSError:  # e.g. BrokenPipeError: the process is gone
            worker = _replace(worker, func)
        except Exception as exc:  # pickling fails before anything is written
            return worker, f"job could not be handed to a worker: {exc}"
    return worker, "job could not be handed to a worker: a new worker process died at once"


def _start(func: Callable) -> _Worker:
    parent, child = _CONTEXT.Pipe()
    process = _CONTEXT.Process(target=_serve, args=(func, child), daemon=True)
    process.start()
    child.close()
    try:
        _await_ready(process, parent)
    except BaseException:
        process.kill()
        process.join()
        parent.close()
        raise
    return _Worker(process, parent)


def _await_ready(process: Any, conn: Connection) -> None:
    # Wait until the worker has imported everything: its start-up is not the job's time.
    # But not for ever: a worker stuck importing would otherwise hang the cycle here.
    deadline = time.monotonic() + START_TIMEOUT
    while not conn.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
        if not process.is_alive():
            raise RuntimeError(f"a worker process failed to start (exit code {process.exitcode})")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"a worker process did not start within {START_TIMEOUT:g} s")
    try:
        conn.recv()
    except (EOFError, OSError) as exc:  # it died before it was ready
        process.join(timeout=5)
        raise RuntimeError(f"a worker process failed to start (exit code {process.exitcode})") from exc


def _replace(worker: _Worker, func: Callable) -> _Worker:
    worker.process.kill()
    worker.process.join()
    worker.conn.close()
    return _start(func)


def _stop(worker: _Worker) -> None:
    if worker.process.is_alive():
        with contextlib.suppress(OSError):
            worker.conn.send(None)
        worker.process.join(timeout=2)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
    worker.conn.close()
