"""The one place that opens the DuckDB file.

DuckDB lets one process hold the file read-write, or several hold it read-only, never
both. Connections here are short-lived: open, do one batch, close. A caller that finds
the file locked retries with backoff and then fails with a message that says who holds it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from warehouse.migrations import migrate

# Rows per INSERT statement: large enough to be fast, small enough to bind quickly.
INSERT_CHUNK = 500


class WarehouseError(RuntimeError):
    """The warehouse file is missing, locked by another process, or unreadable."""


@contextmanager
def open_warehouse(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, bring its schema up to date (read-write only), and close it after."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"{path}: no warehouse here yet; run `storywatch init` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only, wait_seconds)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()


def _connect(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise WarehouseError(f"{path}: cannot open the warehouse: {message}") from None
            if time.monotonic() >= deadline:
                raise WarehouseError(
                    f"{path}: the warehouse is in use by another process and stayed locked for "
                    f"{wait_seconds:.0f} s ({message})"
                ) from None
        except duckdb.Error as exc:
            raise WarehouseError(f"{path}: cannot open the warehouse: {exc}") from None
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 1.0)


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert ``rows`` in multi-row statements (row-by-row inserts are far slower)."""
    if not rows:
        return 0
    placeholders = "(" + ", ".join("?" for _ in columns) + ")"
    names = ", ".join(columns)
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        values = ", ".join(placeholders for _ in chunk)
        params = [value for row in chunk for value in row]
        con.execute(f"INSERT INTO {table} ({names}) VALUES {values}", params)
    return len(rows)
