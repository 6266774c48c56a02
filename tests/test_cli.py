"""The `storywatch` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.loopback import Loopback


@pytest.fixture
def warehouse(cli, warehouse_path: Path) -> str:
    done = cli("init", "--warehouse", str(warehouse_path))
    assert done.returncode == 0, done.stderr
    return str(warehouse_path)


def test_init_seeds_once_and_is_safe_to_repeat(cli, warehouse_path: Path):
    first = cli("init", "--warehouse", str(warehouse_path))
    second = cli("init", "--warehouse", str(warehouse_path))
    assert first.returncode == second.returncode == 0
    assert "seeded with its original article" in first.stdout
    assert "already seeded" in second.stdout
    count = cli("sql", "SELECT count(*) AS n FROM articles", "-w", str(warehouse_path), "-f", "json")
    assert json.loads(count.stdout) == [{"n": 1}]


def test_sql_writes_csv_json_and_tables(cli, warehouse: str):
    query = "SELECT actor_id, stance FROM current_stances WHERE issue_id = 'troops-in-ukraine' ORDER BY 1"
    as_csv = cli("sql", query, "-w", warehouse, "--format", "csv")
    assert as_csv.returncode == 0
    assert as_csv.stdout.splitlines()[0] == "actor_id,stance"
    assert "starmer,support" in as_csv.stdout.splitlines()
    as_json = json.loads(cli("sql", query, "-w", warehouse, "--format", "json").stdout)
    assert {"actor_id": "uk", "stance": "support"} in as_json
    as_table = cli("sql", query, "-w", warehouse)
    assert "starmer" in as_table.stdout and f"{len(as_json)} rows" in as_table.stdout


def test_sql_is_read_only_and_errors_exit_5(cli, warehouse: str):
    broken = cli("sql", "SELECT * FROM no_such_table", "-w", warehouse)
    assert broken.returncode == 5 and "no_such_table" in broken.stderr
    write = cli("sql", "DELETE FROM articles", "-w", warehouse)
    assert write.returncode == 5 and "read-only" in write.stderr
    left = cli("sql", "SELECT count(*) AS n FROM articles", "-w", warehouse, "-f", "json")
    assert json.loads(left.stdout) == [{"n": 1}]


def test_stances_changes_and_alerts_show_the_baseline(cli, warehouse: str):
    stances = cli("stances", "-w", warehouse)
    assert stances.returncode == 0
    assert "Keir Starmer" in stances.stdout and "troops-in-ukraine" in stances.stdout
    starmer = [
        row
        for row in json.loads(cli("stances", "-w", warehouse, "-f", "json").stdout)
        if row["actor"] == "Keir Starmer" and row["issue"] == "troops-in-ukraine"
    ]
    assert starmer[0]["stance"] == "support" and "boots on the ground" in starmer[0]["evidence"]
    assert cli("changes", "-w", warehouse).stdout.strip().endswith("0 rows")
    assert json.loads(cli("alerts", "-w", warehouse, "-f", "json").stdout) == []


def test_a_missing_warehouse_exits_4_and_says_what_to_do(cli, tmp_path: Path):
    result = cli("stances", "-w", str(tmp_path / "nowhere.duckdb"))
    assert result.returncode == 4
    assert "nowhere.duckdb" in result.stderr and "storywatch init" in result.stderr


def test_a_broken_story_or_setting_exits_3_naming_it(cli, tmp_path: Path):
    story = cli("init", "--story", str(tmp_path / "no-such-story"), "-w", str(tmp_path / "w.duckdb"))
    assert story.returncode == 3 and "no-such-story" in story.stderr
    setting = cli("init", extra_env={"STORYWATCH_MAX_ALERT_ATTEMPTS": "many"})
    assert setting.returncode == 3 and "max_alert_attempts" in setting.stderr


def test_run_prints_a_summary_naming_each_failed_source(cli, site: Loopback, story_dir: Path, tmp_path: Path):
    result = cli("run", "--story", str(story_dir), "-w", str(tmp_path / "w.duckdb"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sources polled" in out and "stance changes" in out
    assert "loopback-broken (parse) not a feed" in out
    assert "loopback-missing (poll) HTTP 404 Not Found" in out
    assert "Change: United States on us-security-guarantee: noncommittal -> support" in out


def test_a_second_story_is_only_files_and_shares_the_warehouse(cli, warehouse: str):
    second = Path(__file__).parent / "fixtures" / "second-story"
    done = cli("init", "--story", str(second), "-w", warehouse)
    assert done.returncode == 0, done.stderr
    assert "story harbour-strike seeded" in " ".join(done.stdout.split())
    stances = json.loads(cli("stances", "--story", str(second), "-w", warehouse, "-f", "json").stdout)
    assert {(s["actor"], s["issue"], s["stance"]) for s in stances} == {
        ("Dockworkers' Union", "accept-offer", "reject"),
        ("Port Authority", "accept-offer", "accept"),
        ("Carla Venn", "intervention", "no"),
    }
    # The default story is untouched by the second one.
    default = json.loads(cli("stances", "-w", warehouse, "-f", "json").stdout)
    assert default and all(s["issue"] != "accept-offer" for s in default)
