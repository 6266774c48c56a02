"""``storywatch serve`` against a real Prefect server on 127.0.0.1 (SQLite, started here)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from flows.server import ServerError, local_server, port_free

SERVE_SECONDS = 180  # a fresh Prefect home migrates its database first


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Prefect home for the module: its database is migrated once."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture
def serve_env(clean_env: pytest.MonkeyPatch, prefect_home: Path, tmp_path: Path) -> dict[str, str]:
    clean_env.setenv("PREFECT_HOME", str(prefect_home))
    clean_env.delenv("PREFECT_API_URL", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["STORYWATCH_WAREHOUSE"] = str(tmp_path / "storywatch.duckdb")
    env["COLUMNS"] = "300"  # messages on one line
    return env


def start_serve(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> str:
    """Stop ``serve`` as a service manager does (SIGTERM) and return what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output


def finish(process: subprocess.Popen) -> str:
    """Wait for a ``serve`` that is to stop by itself, and return what it printed."""
    return process.communicate(timeout=120)[0]


def deployments(api: str) -> list[dict]:
    return httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()


def await_deployment(api: str, process: subprocess.Popen, name: str) -> dict:
    """The deployment as ``process`` registered it (the module's tests share one database)."""
    started = datetime.now(UTC)
    deadline = time.monotonic() + SERVE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve stopped early:\n{process.communicate()[0]}")
        try:
            found = [
                d
                for d in deployments(api)
                if d["name"] == name and datetime.fromisoformat(d["updated"]) >= started
            ]
        except httpx.HTTPError:
            found = []  # the server is not up yet
        if found:
            return found[0]
        time.sleep(1)
    stop(process)
    pytest.fail(f"no deployment {name!r} at {api} after {SERVE_SECONDS} s")


@pytest.fixture
def prefect_server(serve_env: dict[str, str], prefect_home: Path) -> Iterator[str]:
    """A Prefect server of the user's own, as PREFECT_API_URL would name it."""
    with local_server(free_port(), prefect_home / "server.log") as api:
        yield api


def test_serve_registers_the_storys_schedule_one_run_at_a_time_and_leaves_it_active(
    serve_env: dict[str, str], prefect_server: str, story_dir: Path, tmp_path: Path
) -> None:
    serve = start_serve({**serve_env, "PREFECT_API_URL": prefect_server}, tmp_path, "--story", str(story_dir))
    deployment = await_deployment(prefect_server, serve, "uk-troops-ukraine")
    output = stop(serve)

    assert serve.returncode == 0, output
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["*/15 * * * *"]
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert deployment["parameters"]["story"] == str(story_dir.resolve())
    assert deployment["parameters"]["warehouse"] == serve_env["STORYWATCH_WAREHOUSE"]
    assert deployment["entrypoint"] == "flows.ingest.ingest"
    assert f"its UI: {prefect_server.removesuffix('/api')}" in output.replace("\n", "")
    # Stopped, the deployment keeps its schedule running for the next serve.
    [after] = [d for d in deployments(prefect_server) if d["name"] == "uk-troops-ukraine"]
    assert after["paused"] is False
    assert [s["active"] for s in after["schedules"]] == [True]


def test_serve_without_a_prefect_api_starts_a_local_server_and_stops_it(
    serve_env: dict[str, str], story_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    serve = start_serve(serve_env, tmp_path, "--story", str(story_dir), "--port", str(port))
    api = f"http://127.0.0.1:{port}/api"
    await_deployment(api, serve, "uk-troops-ukraine")
    output = stop(serve)

    assert serve.returncode == 0, output
    assert "a local Prefect server started for this" in output
    assert f"http://127.0.0.1:{port}" in output
    assert port_free(port)  # stopped with serve


def test_serve_names_the_port_it_cannot_use(
    serve_env: dict[str, str], story_dir: Path, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = start_serve(serve_env, tmp_path, "--story", str(story_dir), "--port", str(port))
        output = finish(serve)

    assert serve.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in output


def test_serve_checks_the_story_before_starting_anything(
    serve_env: dict[str, str], story_dir: Path, tmp_path: Path
) -> None:
    story_yaml = story_dir / "story.yaml"
    story_yaml.write_text(story_yaml.read_text().replace('schedule: "*/15 * * * *"', 'schedule: "hourly"'))
    port = free_port()
    serve = start_serve(serve_env, tmp_path, "--story", str(story_dir), "--port", str(port))
    output = finish(serve)

    assert serve.returncode == 3
    assert f"{story_yaml}: schedule:" in output
    assert port_free(port)


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path: Path, monkeypatch) -> None:
    # A Prefect home that is a file: the server cannot create its database there.
    home = tmp_path / "not-a-folder"
    home.write_text("")
    monkeypatch.setenv("PREFECT_HOME", str(home))
    log = tmp_path / "server.log"
    with pytest.raises(ServerError) as caught, local_server(free_port(), log, startup_seconds=120):
        pass
    assert str(log) in str(caught.value)
