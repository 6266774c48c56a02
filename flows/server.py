"""A local Prefect server for ``storywatch serve`` when no Prefect API is configured.

Prefect's scheduler runs only in a server, not in the API that each process starts for
itself (ephemeral mode). This starts ``prefect server start`` on 127.0.0.1 with Prefect's
own SQLite database under ``PREFECT_HOME`` (so deployments and their schedules outlive it),
waits until it answers, and stops it when the caller is done.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# The first start migrates Prefect's database: about 15 s here, longer on a busy machine.
STARTUP_SECONDS = 180.0
STOP_SECONDS = 20.0


class ServerError(RuntimeError):
    """The local Prefect server could not be started."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((host, port)) != 0


@contextmanager
def local_server(port: int, log_file: Path, startup_seconds: float = STARTUP_SECONDS) -> Iterator[str]:
    """Run a Prefect server on 127.0.0.1:``port`` while the block runs; yield its API URL.

    Its output goes to ``log_file``. Raises :class:`ServerError`, naming the port or the log,
    when the port is taken or the server does not come up.
    """
    if not port_free(port):
        raise ServerError(
            f"port {port} on 127.0.0.1 is already in use: choose another with --port, or point "
            "PREFECT_API_URL at the Prefect server that runs there"
        )
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env["PREFECT_UI_API_URL"] = api
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        # A session of its own: Ctrl-C in the terminal reaches ``serve``, which stops the
        # server in order, rather than both at once.
        process = subprocess.Popen(
            [*_prefect_command(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        _await_health(api, process, log_file, startup_seconds)
        yield api
    finally:
        _stop(process)


def _prefect_command() -> list[str]:
    """Prefect's command line from the same environment as this Python."""
    beside = Path(sys.executable).parent / "prefect"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("prefect")
    return [found] if found else [sys.executable, "-m", "prefect"]


def _await_health(api: str, process: subprocess.Popen, log_file: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"the Prefect server stopped at start (exit code {process.returncode}); "
                f"its output is in {log_file}:\n{_tail(log_file)}"
            )
        try:
            if httpx.get(f"{api}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.5)
    _stop(process)
    raise ServerError(
        f"the Prefect server did not answer within {seconds:.0f} s; its output is in {log_file}"
    )


def _stop(process: subprocess.Popen) -> None:
    # The whole session, even if its leader is gone: the server runs its API in child processes.
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        # Too slow, or a second Ctrl-C while it stops: it must not outlive serve either way.
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        if sys.exc_info()[0] is KeyboardInterrupt:
            raise


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pid, signum)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"
