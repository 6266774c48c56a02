"""Shared fixtures: a loopback news site, a test story, a temporary warehouse, Prefect."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loopback import Loopback

# Prefect keeps its state under PREFECT_HOME: give the test session its own, before
# anything imports Prefect.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="storywatch-prefect-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
os.environ.setdefault("DO_NOT_TRACK", "1")

ROOT = Path(__file__).resolve().parent.parent
SEED_STORY = ROOT / "seeds" / "uk-troops-ukraine"
SHARED = ROOT.parent / "shared"

TEST_FEEDS = """\
feeds:
  - {{id: loopback-world, name: Loopback World News, url: "{base}/feeds/world.rss"}}
  - {{id: loopback-europe, name: Loopback Europe Desk, url: "{base}/feeds/europe.atom", kind: atom}}
  - {{id: loopback-broken, name: Broken Feed, url: "{base}/feeds/broken.xml"}}
  - {{id: loopback-missing, name: Missing Feed, url: "{base}/feeds/missing.xml"}}
"""


@pytest.fixture(scope="session")
def loopback() -> Iterator[Loopback]:
    server = Loopback().start()
    yield server
    server.stop()


@pytest.fixture
def site(loopback: Loopback) -> Loopback:
    """The loopback server, with this test's routes and records cleared."""
    loopback.reset()
    return loopback


@pytest.fixture
def story_dir(tmp_path: Path, site: Loopback) -> Path:
    """The real story, with its feeds pointed at the loopback site (a story is just files)."""
    folder = tmp_path / "story"
    shutil.copytree(SEED_STORY, folder)
    (folder / "feeds.yaml").write_text(TEST_FEEDS.format(base=site.base), encoding="utf-8")
    return folder


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "storywatch.duckdb"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No storywatch setting leaks in from the developer's environment or folder."""
    for name in list(os.environ):
        if name.startswith("STORYWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STORYWATCH_CONFIG", str(tmp_path / "no-settings.toml"))
    # The test site is on 127.0.0.1, which storywatch refuses unless told otherwise, and
    # needs no politeness delay.
    monkeypatch.setenv("STORYWATCH_HTTP_ALLOW_PRIVATE", "127.0.0.1")
    monkeypatch.setenv("STORYWATCH_HTTP_MIN_HOST_DELAY", "0")
    monkeypatch.setenv("STORYWATCH_HTTP_RETRY_MAX_WAIT", "2")
    monkeypatch.setenv("STORYWATCH_HTTP_RETRY_BACKOFF", "0.01")
    return monkeypatch


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect API on a temporary database, started once for the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def cli(clean_env, tmp_path: Path):
    """Run ``storywatch`` as a user does: a new process, in a folder of its own."""
    env = dict(os.environ)  # clean_env has set the test's storywatch settings
    env["COLUMNS"] = "200"

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flows.cli", *args],
            cwd=tmp_path, env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=240,
        )  # fmt: skip

    return run
