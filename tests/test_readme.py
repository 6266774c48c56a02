"""The README tells the truth: its commands exist, and its SQL runs on a seeded warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from extractors.coverage import seed_coverage
from extractors.story import load_story
from flows.cli import app
from tests.conftest import ROOT, SEED_STORY
from warehouse import queries, store
from warehouse.connection import open_warehouse

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", README, re.S)


def test_the_two_commands_are_make_targets():
    makefile = (ROOT / "Makefile").read_text()
    assert "$ make run" in README and "$ make test" in README
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command: str):
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    assert (click_command.help or "").strip(), f"storywatch {command} has no help text"
    assert f"`storywatch {command}" in README, f"add storywatch {command} to the README's command table"


@pytest.mark.parametrize("sql", SQL_BLOCKS, ids=[f"query-{n}" for n in range(len(SQL_BLOCKS))])
def test_every_sql_example_runs(sql: str, tmp_path: Path):
    story = load_story(SEED_STORY)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        store.load_story(con, story)
        store.append_coverage(con, story.id, [seed_coverage(story)])
        result = queries.run_sql(con, sql)
    assert result.columns, "the example returns no columns"


def test_there_are_sql_examples():
    assert len(SQL_BLOCKS) >= 4
