"""``storywatch serve``: one Prefect deployment per story, run on the story's schedule.

Each deployment runs the ingest flow for its story on the cron schedule of its
``story.yaml``, one run at a time: a run that starts while the last one still works is
cancelled (the next cycle polls what it would have). Shutting down leaves the schedules
active, so a restart carries on where it stopped.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect import serve as prefect_serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

from extractors.story import load_story
from flows.ingest import ingest
from flows.server import local_server
from flows.settings import Settings

DEFAULT_PORT = 4200  # Prefect's own


def deployments(settings: Settings, story_names: list[str]) -> list[RunnerDeployment]:
    """A deployment of the ingest flow for each story (by name or folder), named after the
    story, on the story's schedule, one run at a time. Story files are checked first."""
    found = []
    for name in story_names:
        story = load_story(settings.story_dir(name))  # a broken story stops serve before it starts
        found.append(
            ingest.to_deployment(
                name=story.id,
                cron=story.schedule,
                parameters={
                    "story": str(settings.story_dir(name).resolve()),
                    "warehouse": str(settings.warehouse.resolve()),
                },
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
                ),
                description=f"{story.title}: one ingest cycle on the story's schedule ({story.schedule}).",
                tags=["storywatch", story.id],
                # By module, not file: the worker process imports storywatch as installed.
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return found


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` in the environment while the block runs."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextmanager
def prefect_api(port: int) -> Iterator[tuple[str, bool]]:
    """The Prefect API to register with: ``PREFECT_API_URL`` if set, else a local server
    started on ``port`` for as long as the block runs. Yields the URL and whether it was
    started here."""
    configured = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if configured:
        yield configured, False
        return
    log = Path(PREFECT_HOME.value()) / "storywatch-server.log"
    with local_server(port, log) as api:
        yield api, True


def serve(
    settings: Settings,
    story_names: list[str],
    port: int = DEFAULT_PORT,
    announce: Callable[[str], object] = print,
) -> None:
    """Register and run the stories' deployments until interrupted (Ctrl-C or SIGTERM)."""
    planned = deployments(settings, story_names)
    # Until Prefect's runner takes SIGTERM over, it stops serve the way Ctrl-C does, so that a
    # local server started here is never left behind.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        _serve(planned, port, announce)
    except KeyboardInterrupt:
        announce("Stopped.")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(planned: list[RunnerDeployment], port: int, announce: Callable[[str], object]) -> None:
    # Flow runs start in child processes, which read the API from the environment.
    with (
        prefect_api(port) as (api, started),
        _environment("PREFECT_API_URL", api),
        temporary_settings(updates={PREFECT_API_URL: api}),
    ):
        ui = api.removesuffix("/api")
        where = (
            "a local Prefect server started for this" if started else "the Prefect server at PREFECT_API_URL"
        )
        announce(f"Serving {len(planned)} deployment(s) with {where}; its UI: {ui}")
        for deployment in planned:
            announce(f"  storywatch-ingest/{deployment.name}: {deployment.schedules[0].schedule.cron}")
        announce("Stop with Ctrl-C: the schedules stay active, and the next serve carries on.")
        prefect_serve(*planned, pause_on_shutdown=False, print_starting_message=False)
