"""docker-compose.yml and the Dockerfile agree with the project (no Docker engine here)."""

from __future__ import annotations

import re

import typer.main
import yaml

from flows.cli import app
from tests.conftest import ROOT


def test_compose_builds_this_project_and_runs_a_real_command():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["storywatch"]
    assert (ROOT / service["build"] / "Dockerfile").is_file()
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert service["command"][0] in commands
    volume = service["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert service["environment"]["STORYWATCH_WAREHOUSE"].startswith("/data/")


def test_the_image_installs_the_locked_requirements_and_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+\.\d+-slim", dockerfile, re.M), "pin the base image"
    assert "--require-hashes -r requirements/run.lock" in dockerfile
    for folder in ("extractors", "warehouse", "flows", "seeds"):
        assert f"COPY {folder} {folder}" in dockerfile
