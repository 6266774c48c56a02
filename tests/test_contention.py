"""Processes that want the warehouse at once: the one that waits retries, then goes on."""

from __future__ import annotations

from pathlib import Path

from tests.test_warehouse import STORY
from tests.writers import writer
from warehouse import store
from warehouse.connection import open_warehouse


def test_two_writers_at_once_both_store_their_batch(warehouse_path: Path):
    with open_warehouse(warehouse_path) as con:
        store.load_story(con, STORY)
    first, second = writer(warehouse_path, "first", 500), writer(warehouse_path, "second", 500)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]

    assert [p.returncode for p in (first, second)] == [0, 0]
    assert all(o.splitlines()[-1] == "written" for o in outputs)
    with open_warehouse(warehouse_path, read_only=True) as con:
        urls = con.execute("SELECT url FROM articles").fetchall()
    assert len(urls) == len(set(urls)) == 1000


def test_a_query_during_a_write_waits_for_it_and_then_answers(cli, warehouse_path: Path):
    with open_warehouse(warehouse_path) as con:
        store.load_story(con, STORY)
    holding = writer(warehouse_path, "held", 10, hold=3.0)
    assert holding.stdout.readline().strip() == "writing"
    query = cli(
        "sql", "SELECT count(*) AS n FROM articles", "--warehouse", str(warehouse_path), "--format", "csv"
    )
    holding.communicate(timeout=60)

    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["n", "10"]  # it saw the finished batch, not half of it
