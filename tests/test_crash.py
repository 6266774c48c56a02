"""A process killed (SIGKILL) in the middle of a write leaves the warehouse whole."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.test_warehouse import STORY, US_UNDECIDED, article
from tests.writers import writer
from warehouse import store
from warehouse.connection import open_warehouse

# A batch big enough that writing it takes seconds here (about 2.5 ms an article).
BATCH = 2000


def counts(path: Path) -> dict[str, int]:
    with open_warehouse(path, read_only=True) as con:
        return {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("articles", "stance_observations", "stance_changes", "alerts")
        }


def test_kill_9_in_the_middle_of_a_write_loses_nothing_and_stores_nothing_twice(warehouse_path: Path):
    # Stored before the crash: an undecided United States, whose change to support comes later.
    with open_warehouse(warehouse_path) as con:
        store.load_story(con, STORY)
        store.append_coverage(con, STORY.id, [article("baseline.html", US_UNDECIDED, "2025-03-03T10:00:00")])
    before = counts(warehouse_path)

    process = writer(warehouse_path, "report", BATCH)
    assert process.stdout.readline().strip() == "writing"
    time.sleep(1.0)  # well inside the transaction
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL

    # The warehouse opens; what was stored is there; nothing of the killed batch is.
    assert counts(warehouse_path) == before

    # Run again, twice: the batch is stored once, with one change and one alert for it.
    for _ in range(2):
        again = writer(warehouse_path, "report", BATCH)
        output, _ = again.communicate(timeout=300)
        assert again.returncode == 0 and output.splitlines()[-1] == "written"
    after = counts(warehouse_path)
    assert after["articles"] == before["articles"] + BATCH
    assert after["stance_changes"] == before["stance_changes"] + 1
    assert after["alerts"] == before["alerts"] + 1
