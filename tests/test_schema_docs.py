"""docs/warehouse.md and the warehouse schema must describe the same tables and columns."""

from __future__ import annotations

import re
from pathlib import Path

from warehouse.connection import open_warehouse

DOC = Path(__file__).resolve().parent.parent / "docs" / "warehouse.md"
FIX = "update docs/warehouse.md (each table or view: a ### `name` heading and a column table)"


def documented() -> dict[str, dict[str, str]]:
    """Table or view name -> {column: type}, as written in the document."""
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### `(\w+)`", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        row = re.match(r"^\| (\w+) \| ([A-Z\[\]]+) \| .+ \|$", line)
        if row and current is not None:
            current[row.group(1)] = row.group(2)
    return tables


def actual(path: Path) -> dict[str, dict[str, str]]:
    with open_warehouse(path) as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, {})[column] = kind.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
    return tables


def test_every_table_and_view_is_documented_and_exists(tmp_path: Path) -> None:
    docs, schema = documented(), actual(tmp_path / "w.duckdb")
    assert sorted(schema) == sorted(docs), FIX


def test_every_column_is_documented_with_its_type(tmp_path: Path) -> None:
    docs, schema = documented(), actual(tmp_path / "w.duckdb")
    for table, columns in schema.items():
        assert docs.get(table) == columns, f"{table}: {FIX}"
