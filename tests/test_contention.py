"""Processes that want the warehouse at once: the one that waits retries, then goes on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT
from tests.test_warehouse import STORY
from warehouse import store
from warehouse.connection import open_warehouse

WRITER = textwrap.dedent(
    """
    import sys, time
    from dataclasses import replace

    sys.path.insert(0, {root!r})
    from extractors.coverage import content_hash
    from tests.test_warehouse import STORY, US_BACKS, article
    from warehouse import store
    from warehouse.connection import open_warehouse

    first, tagging = article("report.html", US_BACKS, "2025-03-04T10:00:00")
    batch = []
    for i in range({size}):
        text = f"{{US_BACKS}} ({name} {{i}})"
        url = f"http://127.0.0.1/articles/{name}-{{i}}.html"
        copy = replace(first, url=url, source_url=url, text=text, content_hash=content_hash(text))
        batch.append((copy, tagging))
    with open_warehouse({path!r}, wait_seconds=60) as con:
        print("writing", flush=True)
        store.append_coverage(con, STORY.id, batch)
        time.sleep({hold})
    print("written", flush=True)
    """
)


def writer(path: Path, name: str, size: int, hold: float = 0.0) -> subprocess.Popen:
    script = WRITER.format(root=str(ROOT), name=name, size=size, path=str(path), hold=hold)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


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
