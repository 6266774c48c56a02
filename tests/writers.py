"""A process that writes a batch of coverage to the warehouse, for crash and lock tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

_SCRIPT = textwrap.dedent(
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
    """A new process that stores ``size`` articles named after ``name`` in one batch, prints
    "writing" once it holds the warehouse, keeps it ``hold`` seconds more, then "written"."""
    script = _SCRIPT.format(root=str(ROOT), name=name, size=size, path=str(path), hold=hold)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
